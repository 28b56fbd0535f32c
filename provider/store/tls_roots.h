/*
 * store/tls_roots.h — where this host keeps the CA certificates HTTPS
 * requests are verified against.
 *
 * The release executables are static and run on any Linux distribution,
 * each of which keeps its CA bundle somewhere else; libcurl only knows the
 * one path it was configured with. These are the rules Go's crypto/x509
 * follows on Linux (root_linux.go, root_unix.go), which every Go provider
 * and Terraform itself obey, so cellrouter trusts what they trust:
 *   - SSL_CERT_FILE, when set, is the only bundle file; otherwise the first
 *     of the distributions' usual bundle files that exists;
 *   - SSL_CERT_DIR, when set, is the colon-separated list of certificate
 *     directories; otherwise the usual directories that exist.
 */
#ifndef CR_STORE_TLS_ROOTS_H
#define CR_STORE_TLS_ROOTS_H

#include <stddef.h>

typedef struct cr_tls_roots {
    char file[4096];                /* "" when none */
    char dir[4096];                 /* colon-separated; "" when none */
} cr_tls_roots;

/* The rules above, with the environment's values passed in (NULL or ""
 * when unset) and every usual location looked up under `root` ("" for
 * the real root; tests pass a directory). */
void cr_tls_roots_resolve(const char *env_file, const char *env_dir,
                          const char *root, cr_tls_roots *out);

/* For this process: resolved once from the environment, then cached.
 * Thread-safe; the result lives as long as the process. */
const cr_tls_roots *cr_tls_roots_get(void);

#endif
