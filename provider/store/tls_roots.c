/*
 * store/tls_roots.c — the host's CA certificates (see tls_roots.h).
 *
 * The lists are Go's (src/crypto/x509/root_linux.go, certFiles and
 * certDirectories; Android's directory left out), in Go's order: the first
 * bundle file found wins, every directory found is used.
 */
#include "store/tls_roots.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const bundle_files[] = {
    "/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Gentoo, Arch */
    "/etc/pki/tls/certs/ca-bundle.crt",                  /* Fedora, RHEL 6 */
    "/etc/ssl/ca-bundle.pem",                            /* openSUSE */
    "/etc/pki/tls/cacert.pem",                           /* OpenELEC */
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* CentOS, RHEL 7+ */
    "/etc/ssl/cert.pem",                                 /* Alpine */
};

static const char *const cert_dirs[] = {
    "/etc/ssl/certs",                                    /* SLES, Debian (hashed) */
    "/etc/pki/tls/certs",                                /* Fedora, RHEL */
};

static int is_file(const char *root, const char *path, int want_dir)
{
    char full[4096];
    struct stat st;
    if ((size_t)snprintf(full, sizeof full, "%s%s", root, path) >= sizeof full)
        return 0;
    if (stat(full, &st) != 0)
        return 0;
    return want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

/* Copies s into dst when it fits whole; a path that does not fit is not
 * half-used. */
static void set(char *dst, size_t cap, const char *s)
{
    if (strlen(s) < cap)
        memcpy(dst, s, strlen(s) + 1);
}

void cr_tls_roots_resolve(const char *env_file, const char *env_dir,
                          const char *root, cr_tls_roots *out)
{
    memset(out, 0, sizeof *out);
    if (root == NULL)
        root = "";

    if (env_file != NULL && *env_file != '\0') {
        /* Given, so used as given: a missing file then fails the request
         * with libcurl's own "error setting certificate file" rather than
         * trusting some other bundle behind the user's back. */
        set(out->file, sizeof out->file, env_file);
    } else {
        for (size_t i = 0; i < sizeof bundle_files / sizeof *bundle_files; i++)
            if (is_file(root, bundle_files[i], 0)) {
                set(out->file, sizeof out->file, bundle_files[i]);
                break;
            }
    }

    if (env_dir != NULL && *env_dir != '\0') {
        set(out->dir, sizeof out->dir, env_dir);
    } else {
        size_t n = 0;
        for (size_t i = 0; i < sizeof cert_dirs / sizeof *cert_dirs; i++) {
            if (!is_file(root, cert_dirs[i], 1))
                continue;
            size_t len = strlen(cert_dirs[i]);
            if (n + (n > 0) + len >= sizeof out->dir)
                break;
            if (n > 0)
                out->dir[n++] = ':';
            memcpy(out->dir + n, cert_dirs[i], len + 1);
            n += len;
        }
    }
}

static pthread_once_t roots_once = PTHREAD_ONCE_INIT;
static cr_tls_roots roots;

static void roots_init(void)
{
    cr_tls_roots_resolve(getenv("SSL_CERT_FILE"), getenv("SSL_CERT_DIR"), "",
                         &roots);
}

const cr_tls_roots *cr_tls_roots_get(void)
{
    pthread_once(&roots_once, roots_init);
    return &roots;
}
