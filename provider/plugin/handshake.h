/*
 * plugin/handshake.h — the go-plugin handshake, seen from the plugin.
 *
 * Terraform launches the provider with a magic cookie, the list of protocol
 * versions it speaks and (with AutoMTLS) its client certificate in the
 * environment, then reads one line from the plugin's stdout:
 *
 *     1|6|unix|/tmp/plugin1234567890|grpc|<base64 DER server cert>
 *
 * core protocol | app protocol | network | address | "grpc" | cert (or empty).
 * These functions are pure (inputs are passed in, not read from the
 * environment) so the rules are testable one by one; plugin/serve.c strings
 * them together.
 *
 * Errors: functions returning int give 0 on success and -1 on failure with
 * a one-line explanation in err (always NUL-terminated when errlen > 0).
 */
#ifndef CR_PLUGIN_HANDSHAKE_H
#define CR_PLUGIN_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CR_HANDSHAKE_COOKIE_KEY   "TF_PLUGIN_MAGIC_COOKIE"
#define CR_HANDSHAKE_COOKIE_VALUE \
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
#define CR_HANDSHAKE_CORE_VERSION 1     /* go-plugin's own protocol */
#define CR_HANDSHAKE_APP_VERSION  6     /* tfplugin6, the only one spoken */

/* Linux sun_path is 108 bytes including the terminating NUL. */
#define CR_HANDSHAKE_SOCKET_MAX 108

/* True when `value` (may be NULL) is exactly Terraform's cookie. */
bool cr_handshake_cookie_ok(const char *value);

/* The text printed on stderr when the binary is run by hand. */
const char *cr_handshake_cookie_help(void);

/* Picks CR_HANDSHAKE_APP_VERSION from PLUGIN_PROTOCOL_VERSIONS, a comma list
 * of decimal versions in any order ("5,6"). Fails on NULL/empty, on anything
 * that is not such a list, and when 6 is not offered. */
int cr_handshake_negotiate(const char *offered, int *version,
                           char *err, size_t errlen);

/* A fresh, not yet existing socket path "<dir>/plugin<digits>" in the first
 * non-empty of socket_dir (PLUGIN_UNIX_SOCKET_DIR), tmpdir (TMPDIR), "/tmp".
 * The directory is made absolute, since Terraform resolves the address from
 * its own working directory. Fails if the result would not fit sun_path or
 * would contain '|' (the handshake separator) or a newline. */
int cr_handshake_socket_path(const char *socket_dir, const char *tmpdir,
                             char *out, size_t outlen,
                             char *err, size_t errlen);

/* PLUGIN_UNIX_SOCKET_GROUP: gives the socket to `group` (a name or a numeric
 * gid) and makes it 0660, so a runner in that group can connect. NULL or ""
 * does nothing. */
int cr_handshake_socket_group(const char *path, const char *group,
                              char *err, size_t errlen);

/* Formats the handshake line, '\n' included. cert_b64 may be NULL (no TLS:
 * the sixth field is empty). Returns the length, or -1 if it does not fit or
 * a field contains '|' or a newline. */
int cr_handshake_line(char *out, size_t outlen, int version,
                      const char *network, const char *address,
                      const char *cert_b64);

/* The TF_REATTACH_PROVIDERS value for debug mode, malloc'd JSON:
 * {"<provider>":{"Protocol":"grpc","ProtocolVersion":6,"Pid":N,"Test":true,
 *  "Addr":{"Network":"unix","String":"<address>"}}}. NULL on ENOMEM. */
char *cr_handshake_reattach_json(const char *provider, int version, pid_t pid,
                                 const char *network, const char *address);

/* `value` quoted for a POSIX shell ('...' with ' as '\''); malloc'd. */
char *cr_handshake_shell_quote(const char *value);

#endif
