/*
 * plugin/handshake.c — cookie, version negotiation, socket path, handshake
 * line and the debug-mode reattach string.
 *
 * Everything here mirrors what go-plugin's client (client.go) parses: it
 * trims the line, splits it on '|' into at most six fields, requires core
 * version 1, an app version it offered, "unix" or "tcp", and reads the sixth
 * field as base64 (std alphabet, no padding) DER only when it is longer than
 * 50 characters.
 */
#include "plugin/handshake.h"
#include "common/errbuf.h"

#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

bool cr_handshake_cookie_ok(const char *value)
{
    return value != NULL && strcmp(value, CR_HANDSHAKE_COOKIE_VALUE) == 0;
}

const char *cr_handshake_cookie_help(void)
{
    return
        "This binary is a plugin. These are not meant to be executed directly.\n"
        "Please execute the program that consumes these plugins, which will\n"
        "load any plugins automatically.\n"
        "\n"
        "terraform-provider-cellrouter is a Terraform provider: Terraform runs\n"
        "it when a configuration uses the cellrouter provider. To run it on\n"
        "its own for debugging, use -debug; -version prints its version.\n";
}

/* ---- version negotiation ----------------------------------------------- */

int cr_handshake_negotiate(const char *offered, int *version,
                           char *err, size_t errlen)
{
    if (offered == NULL || *offered == '\0')
        return cr_errbuf_set(err, errlen,
                    "PLUGIN_PROTOCOL_VERSIONS is not set: the plugin client "
                    "offered no protocol version (this provider speaks plugin "
                    "protocol %d, Terraform 0.15 or later)",
                    CR_HANDSHAKE_APP_VERSION);

    bool found = false;
    const char *p = offered;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p < '0' || *p > '9')
            return cr_errbuf_set(err, errlen,
                        "PLUGIN_PROTOCOL_VERSIONS=\"%.64s\" is not a comma-"
                        "separated list of versions", offered);
        long v = 0;
        while (*p >= '0' && *p <= '9') {
            if (v > 100000)
                return cr_errbuf_set(err, errlen,
                            "PLUGIN_PROTOCOL_VERSIONS=\"%.64s\" holds an "
                            "out-of-range version", offered);
            v = v * 10 + (*p++ - '0');
        }
        if (v == CR_HANDSHAKE_APP_VERSION)
            found = true;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (*p != ',')
            return cr_errbuf_set(err, errlen,
                        "PLUGIN_PROTOCOL_VERSIONS=\"%.64s\" is not a comma-"
                        "separated list of versions", offered);
        p++;
    }
    if (!found)
        return cr_errbuf_set(err, errlen,
                    "this provider speaks plugin protocol %d only, but the "
                    "client offered \"%.64s\"; use Terraform 0.15 or later",
                    CR_HANDSHAKE_APP_VERSION, offered);
    *version = CR_HANDSHAKE_APP_VERSION;
    return 0;
}

/* ---- socket path ------------------------------------------------------- */

int cr_handshake_socket_path(const char *socket_dir, const char *tmpdir,
                             char *out, size_t outlen,
                             char *err, size_t errlen)
{
    const char *dir = socket_dir;
    const char *which = "PLUGIN_UNIX_SOCKET_DIR";
    if (dir == NULL || *dir == '\0') {
        dir = tmpdir;
        which = "TMPDIR";
    }
    if (dir == NULL || *dir == '\0') {
        dir = "/tmp";
        which = "the default";
    }

    char abs[PATH_MAX];
    if (realpath(dir, abs) == NULL)
        return cr_errbuf_set(err, errlen, "socket directory \"%.200s\" (%s): %s",
                    dir, which, strerror(errno));
    struct stat st;
    if (stat(abs, &st) != 0 || !S_ISDIR(st.st_mode))
        return cr_errbuf_set(err, errlen, "socket directory \"%.200s\" (%s) is not a "
                    "directory", dir, which);
    if (strpbrk(abs, "|\n\r") != NULL)
        return cr_errbuf_set(err, errlen, "socket directory \"%.200s\" (%s) contains "
                    "'|' or a line break, which the handshake cannot carry",
                    dir, which);

    /* "plugin" + up to 10 digits, as go-plugin's temporary names look. */
    size_t need = strlen(abs) + strlen("/plugin") + 10 + 1;
    if (need > CR_HANDSHAKE_SOCKET_MAX || need > outlen)
        return cr_errbuf_set(err, errlen, "socket directory \"%.200s\" (%s) is too long "
                    "for a unix socket path (at most %d bytes in all)",
                    abs, which, CR_HANDSHAKE_SOCKET_MAX - 1);

    for (int attempt = 0; attempt < 64; attempt++) {
        uint32_t r;
        if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
            return cr_errbuf_set(err, errlen, "getrandom: %s", strerror(errno));
        snprintf(out, outlen, "%s%splugin%u", abs,
                 strcmp(abs, "/") == 0 ? "" : "/", (unsigned)r);
        if (lstat(out, &st) != 0 && errno == ENOENT)
            return 0;
    }
    return cr_errbuf_set(err, errlen, "no free socket name in \"%.200s\"", abs);
}

int cr_handshake_socket_group(const char *path, const char *group,
                              char *err, size_t errlen)
{
    if (group == NULL || *group == '\0')
        return 0;

    gid_t gid;
    struct group gr, *res = NULL;
    char buf[4096];
    int rc = getgrnam_r(group, &gr, buf, sizeof buf, &res);
    if (rc == 0 && res != NULL) {
        gid = res->gr_gid;
    } else {
        char *end;
        errno = 0;
        unsigned long n = strtoul(group, &end, 10);
        if (errno != 0 || *end != '\0' || end == group || n > (gid_t)-1 - 1)
            return cr_errbuf_set(err, errlen, "PLUGIN_UNIX_SOCKET_GROUP=\"%.64s\": no "
                        "such group", group);
        gid = (gid_t)n;
    }
    if (chown(path, (uid_t)-1, gid) != 0)
        return cr_errbuf_set(err, errlen, "PLUGIN_UNIX_SOCKET_GROUP=\"%.64s\": chown "
                    "%s: %s", group, path, strerror(errno));
    if (chmod(path, 0660) != 0)
        return cr_errbuf_set(err, errlen, "chmod %s: %s", path, strerror(errno));
    return 0;
}

/* ---- the line ---------------------------------------------------------- */

static bool field_ok(const char *s)
{
    return s != NULL && strpbrk(s, "|\n\r") == NULL;
}

int cr_handshake_line(char *out, size_t outlen, int version,
                      const char *network, const char *address,
                      const char *cert_b64)
{
    if (!field_ok(network) || !field_ok(address) ||
        (cert_b64 != NULL && !field_ok(cert_b64)))
        return -1;
    int n = snprintf(out, outlen, "%d|%d|%s|%s|grpc|%s\n",
                     CR_HANDSHAKE_CORE_VERSION, version, network, address,
                     cert_b64 != NULL ? cert_b64 : "");
    if (n < 0 || (size_t)n >= outlen)
        return -1;
    return n;
}

/* ---- debug mode -------------------------------------------------------- */

char *cr_handshake_reattach_json(const char *provider, int version, pid_t pid,
                                 const char *network, const char *address)
{
    /* Keys in the order Go's encoding/json writes the struct fields.
     * json_object_set_new takes its value's reference even on failure, so
     * one decref of the root releases everything on every path. */
    json_t *root = json_object(), *entry = json_object(), *addr = json_object();
    int bad = root == NULL || entry == NULL || addr == NULL;
    if (!bad) {
        bad |= json_object_set_new(addr, "Network", json_string(network));
        bad |= json_object_set_new(addr, "String", json_string(address));
        bad |= json_object_set_new(entry, "Protocol", json_string("grpc"));
        bad |= json_object_set_new(entry, "ProtocolVersion",
                                   json_integer(version));
        bad |= json_object_set_new(entry, "Pid", json_integer(pid));
        bad |= json_object_set_new(entry, "Test", json_true());
        bad |= json_object_set_new(entry, "Addr", addr);
        addr = NULL;
        bad |= json_object_set_new(root, provider, entry);
        entry = NULL;
    }
    char *s = bad ? NULL : json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(addr);
    json_decref(entry);
    json_decref(root);
    return s;
}

char *cr_handshake_shell_quote(const char *value)
{
    size_t n = 2;
    for (const char *p = value; *p; p++)
        n += *p == '\'' ? 4 : 1;
    char *out = malloc(n + 1), *o = out;
    if (out == NULL)
        return NULL;
    *o++ = '\'';
    for (const char *p = value; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}
