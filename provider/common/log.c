/*
 * common/log.c — hclog-shaped JSON lines on stderr.
 *
 * go-plugin reads a provider's stderr line by line; a line that parses as a
 * JSON object with "@level" and "@message" is re-logged inside Terraform's
 * own log at that level, its other keys shown as fields. Anything else would
 * land at DEBUG as raw text, so every line here is one complete JSON object,
 * written with a single write(2) so concurrent threads never interleave.
 *
 * Escaping is done by hand (no allocation for ordinary lines): control
 * characters, quotes and backslashes are escaped, and bytes that are not
 * valid UTF-8 become U+FFFD, so a hostile string (a tenant name, an HTTP
 * body) can never break the line or the JSON.
 */
#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = CR_LOG_OFF;
static atomic_int log_fd = 2;

static const char *const level_names[] = {
    "trace", "debug", "info", "warn", "error", "off"
};

/* Terraform's own rules: names are case-insensitive, "JSON" means TRACE in
 * JSON form, and a value it does not recognise still turns logging on at
 * TRACE rather than silently dropping everything. */
static cr_log_level level_from_string(const char *s)
{
    static const struct { const char *name; cr_log_level level; } names[] = {
        {"TRACE", CR_LOG_TRACE}, {"DEBUG", CR_LOG_DEBUG},
        {"INFO", CR_LOG_INFO},   {"WARN", CR_LOG_WARN},
        {"ERROR", CR_LOG_ERROR}, {"OFF", CR_LOG_OFF},
        {"JSON", CR_LOG_TRACE},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0)
            return names[i].level;
    return CR_LOG_TRACE;
}

void cr_log_init(void)
{
    const char *v = getenv("TF_LOG_PROVIDER");
    if (v == NULL || *v == '\0')
        v = getenv("TF_LOG");
    atomic_store(&log_level,
                 (v == NULL || *v == '\0') ? CR_LOG_OFF : level_from_string(v));
    atomic_store(&log_fd, 2);
}

void cr_log_set(cr_log_level level, int fd)
{
    if (level < CR_LOG_TRACE || level > CR_LOG_OFF)
        level = CR_LOG_OFF;
    atomic_store(&log_level, level);
    atomic_store(&log_fd, fd);
}

int cr_log_enabled(cr_log_level level)
{
    int cur = atomic_load(&log_level);
    return cur != CR_LOG_OFF && (int)level >= cur && level < CR_LOG_OFF;
}

/* ---- a small growable buffer, on the stack until a line is long ------- */

typedef struct logbuf {
    char *p;
    size_t len, cap;
    bool heap, failed;
    char stack[1024];
} logbuf;

static void lb_init(logbuf *b)
{
    b->p = b->stack;
    b->len = 0;
    b->cap = sizeof b->stack;
    b->heap = b->failed = false;
}

static bool lb_reserve(logbuf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra <= b->cap)
        return true;
    size_t cap = b->cap * 2;
    while (cap < b->len + extra)
        cap *= 2;
    char *np = b->heap ? realloc(b->p, cap) : malloc(cap);
    if (np == NULL) {
        b->failed = true;
        return false;
    }
    if (!b->heap)
        memcpy(np, b->p, b->len);
    b->p = np;
    b->cap = cap;
    b->heap = true;
    return true;
}

static void lb_put(logbuf *b, const char *s, size_t n)
{
    if (lb_reserve(b, n)) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    }
}

static void lb_puts(logbuf *b, const char *s)
{
    lb_put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return len;
}

/* Appends s as the inside of a JSON string. */
static void lb_escape(logbuf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            lb_put(b, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            char e[8];
            const char *shortform = c == '\n' ? "\\n" : c == '\t' ? "\\t"
                                  : c == '\r' ? "\\r" : NULL;
            if (shortform != NULL)
                lb_puts(b, shortform);
            else {
                snprintf(e, sizeof e, "\\u%04x", c);
                lb_puts(b, e);
            }
            i++;
        } else {
            size_t len = utf8_len(s + i, n - i);
            if (len == 0) {
                lb_puts(b, "\\ufffd");
                i++;
            } else {
                lb_put(b, str + i, len);
                i += len;
            }
        }
    }
}

static void lb_field(logbuf *b, const char *key, const char *value)
{
    lb_puts(b, ",\"");
    lb_escape(b, key);
    lb_puts(b, "\":\"");
    lb_escape(b, value != NULL ? value : "");
    lb_puts(b, "\"");
}

static void lb_head(logbuf *b, cr_log_level level, const char *module,
                    const char *message)
{
    struct timespec ts;
    struct tm tm;
    char when[48];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t w = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + w, sizeof when - w, ".%06ldZ", ts.tv_nsec / 1000);

    lb_puts(b, "{\"@level\":\"");
    lb_puts(b, level_names[level]);
    lb_puts(b, "\",\"@message\":\"");
    lb_escape(b, message);
    lb_puts(b, "\",\"@module\":\"provider.cellrouter");
    if (module != NULL && *module != '\0') {
        lb_puts(b, ".");
        lb_escape(b, module);
    }
    lb_puts(b, "\",\"@timestamp\":\"");
    lb_puts(b, when);
    lb_puts(b, "\"");
}

static void lb_emit(logbuf *b)
{
    lb_puts(b, "}\n");
    if (!b->failed) {
        int fd = atomic_load(&log_fd);
        size_t off = 0;
        while (off < b->len) {
            ssize_t w = write(fd, b->p + off, b->len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;      /* nowhere left to report a logging failure */
            off += (size_t)w;
        }
    }
    if (b->heap)
        free(b->p);
}

void cr_log(cr_log_level level, const char *module, const char *fmt, ...)
{
    if (!cr_log_enabled(level))
        return;

    char small[512];
    char *msg = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        msg = "(unformattable log message)";
    } else if ((size_t)n >= sizeof small) {
        char *big = malloc((size_t)n + 1);
        if (big != NULL) {
            va_start(ap, fmt);
            vsnprintf(big, (size_t)n + 1, fmt, ap);
            va_end(ap);
            msg = big;
        }           /* else: the truncated text in `small` is still useful */
    }

    logbuf b;
    lb_init(&b);
    lb_head(&b, level, module, msg);
    lb_emit(&b);
    if (msg != small && n >= 0 && (size_t)n >= sizeof small)
        free(msg);
}

void cr_log_kv(cr_log_level level, const char *module, const char *message, ...)
{
    if (!cr_log_enabled(level))
        return;

    logbuf b;
    lb_init(&b);
    lb_head(&b, level, module, message != NULL ? message : "");
    va_list ap;
    va_start(ap, message);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (key == NULL)
            break;
        const char *value = va_arg(ap, const char *);
        lb_field(&b, key, value);
        if (value == NULL)
            break;  /* a NULL value also ends the list: never read past it */
    }
    va_end(ap);
    lb_emit(&b);
}
