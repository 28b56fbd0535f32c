/*
 * common/log.h — logging in the hclog JSON-line shape.
 *
 * Every line on stderr is one JSON object with "@level", "@message",
 * "@timestamp" (2006-01-02T15:04:05.000000Z07:00) and "@module"
 * ("provider.cellrouter.<module>"), so go-plugin re-logs it inside Terraform's
 * own log at the right level. The level comes from TF_LOG_PROVIDER, else
 * TF_LOG (TRACE, DEBUG, INFO, WARN, ERROR, OFF; JSON counts as TRACE);
 * nothing is written when neither is set. Thread-safe: one write(2) a line.
 *
 * Never pass secrets (API tokens, credentials) to these functions.
 */
#ifndef CR_COMMON_LOG_H
#define CR_COMMON_LOG_H

typedef enum cr_log_level {
    CR_LOG_TRACE = 0, CR_LOG_DEBUG, CR_LOG_INFO, CR_LOG_WARN, CR_LOG_ERROR,
    CR_LOG_OFF
} cr_log_level;

/* Reads the environment once; safe to call again (tests). */
void cr_log_init(void);
/* For tests and tools: force a level and a file descriptor (default 2). */
void cr_log_set(cr_log_level level, int fd);
int  cr_log_enabled(cr_log_level level);

/* `module` is a short name such as "store" or "rpc". Extra fields: pass
 * key/value string pairs ending in NULL to cr_log_kv. */
void cr_log(cr_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cr_log_kv(cr_log_level level, const char *module, const char *message, ...)
    __attribute__((sentinel));

#define cr_log_trace(m, ...) cr_log(CR_LOG_TRACE, m, __VA_ARGS__)
#define cr_log_debug(m, ...) cr_log(CR_LOG_DEBUG, m, __VA_ARGS__)
#define cr_log_info(m, ...)  cr_log(CR_LOG_INFO,  m, __VA_ARGS__)
#define cr_log_warn(m, ...)  cr_log(CR_LOG_WARN,  m, __VA_ARGS__)
#define cr_log_error(m, ...) cr_log(CR_LOG_ERROR, m, __VA_ARGS__)

#endif
