/*
 * provider/main.c — terraform-provider-cellrouter.
 *
 *   terraform-provider-cellrouter           plugin mode (Terraform runs it)
 *   terraform-provider-cellrouter -debug    serve for a developer; prints the
 *                                           TF_REATTACH_PROVIDERS to export
 *   terraform-provider-cellrouter -version  print the version
 *
 * All the protocol work is plugin/serve.c; this file only wires the
 * tfplugin6 method table of rpc/ to it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/heap.h"
#include "common/log.h"
#include "plugin/serve.h"
#include "rpc/rpc.h"
#include "tfplugin6.pb-c.h"

/* The VERSION file, passed by the Makefile (release/release.mk). */
#ifndef CR_RELEASE_VERSION
#error "CR_RELEASE_VERSION is not defined: build with make (it reads VERSION)"
#endif

#define PROGRAM "terraform-provider-cellrouter"
#define PROVIDER_ADDRESS "registry.terraform.io/cellrouter/cellrouter"

static int usage(FILE *f, int status)
{
    fprintf(f,
            "usage: " PROGRAM " [-debug | -version]\n"
            "\n"
            "A Terraform provider: Terraform starts it when a configuration\n"
            "uses the cellrouter provider.\n"
            "\n"
            "  -debug     serve without Terraform and print the\n"
            "             TF_REATTACH_PROVIDERS value to export\n"
            "  -version   print the version and exit\n");
    return status;
}

/* Go's flag package accepts both -flag and --flag; so do we. */
static bool is_flag(const char *arg, const char *name)
{
    if (arg[0] != '-')
        return false;
    arg += arg[1] == '-' ? 2 : 1;
    return strcmp(arg, name) == 0;
}

/* Terraform is gone without a Shutdown (plugin/serve.h): do what its
 * StopProvider would have done, through the same handler, so an apply in
 * flight stops between two routing-map batches instead of writing on for
 * nobody. */
static void stop_provider(void *provider)
{
    const cr_method *m = cr_rpc_method("StopProvider");
    cr_call *call = cr_call_new_detached(provider);
    if (m == NULL || call == NULL) {
        cr_call_free_detached(call);
        return;
    }
    Tfplugin6__StopProvider__Request req =
        TFPLUGIN6__STOP_PROVIDER__REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    const char *message = NULL;
    m->handler(call, &req.base, &resp, &message);
    cr_call_free_detached(call);
}

int main(int argc, char **argv)
{
    cr_serve_mode mode = CR_SERVE_PLUGIN;
    for (int i = 1; i < argc; i++) {
        if (is_flag(argv[i], "debug")) {
            mode = CR_SERVE_DEBUG;
        } else if (is_flag(argv[i], "version")) {
            printf(PROGRAM " %s\n", CR_RELEASE_VERSION);
            return 0;
        } else if (is_flag(argv[i], "help") || is_flag(argv[i], "h")) {
            return usage(stdout, 0);
        } else {
            fprintf(stderr, PROGRAM ": unknown argument \"%s\"\n", argv[i]);
            return usage(stderr, 2);
        }
    }

    /* Before any thread exists: one malloc arena, freed memory kept for
     * the next RPC (common/heap.c says why). */
    cr_heap_configure();

    /* OpenSSL's atexit cleanup frees its per-thread state while gRPC's
     * executor threads may still be running (they are not joined before
     * exit), which ASan reports as a double free and valgrind as a leak.
     * The process is about to end anyway: let the kernel reclaim it. */
    /* The host's OpenSSL configuration file is read only when OPENSSL_CONF
     * names one. By default OpenSSL would parse the file at the path built
     * into the library (Debian's /usr/lib/ssl/openssl.cnf, absent on most
     * other systems the static release runs on, and on Debian a file with
     * an empty openssl_init section) before the handshake line: 7% of the
     * instructions of a start-up, for nothing. The provider's TLS is to
     * Terraform over a unix socket with one-shot certificates, where Go's
     * crypto/tls on the other side reads no such file either.
     * Nor are OpenSSL's ciphers entered in its legacy by-name table, which
     * only EVP_get_cipherbyname reads (encrypted PEM keys, PKCS#7/#12): TLS
     * fetches its ciphers from OpenSSL's provider by name, in libssl and so
     * in gRPC and libcurl alike, and nothing here looks one up by legacy
     * name. The table's names are also copied into the provider name map
     * on first use: 0.6 million instructions before the handshake line
     * (callgrind). Digests keep theirs: certificate verification looks
     * its digest up by the signature algorithm's legacy name. */
    uint64_t ossl_opts = OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_ADD_ALL_CIPHERS;
    const char *ossl_conf = getenv("OPENSSL_CONF");
    if (ossl_conf == NULL || *ossl_conf == '\0')
        ossl_opts |= OPENSSL_INIT_NO_LOAD_CONFIG;
    OPENSSL_init_crypto(ossl_opts, NULL);

    cr_log_init();
    /* The OpenSSL linked in: Debian's shared 3.0, or the release build's
     * own 3.5 (scripts/build-openssl.sh). */
    cr_log_kv(CR_LOG_INFO, "provider", "starting", "version", CR_RELEASE_VERSION,
              "openssl", OpenSSL_version(OPENSSL_VERSION_STRING), NULL);
    cr_rpc_provider *provider = cr_rpc_provider_new();
    if (provider == NULL) {
        fprintf(stderr, PROGRAM ": out of memory\n");
        return 1;
    }
    size_t n_methods;
    const cr_method *methods = cr_rpc_methods(&n_methods);
    cr_service tfplugin6 = {methods, n_methods, NULL, 0, provider};
    cr_serve_options opts = {
        .mode = mode,
        .program = PROGRAM,
        .provider_address = PROVIDER_ADDRESS,
        .services = &tfplugin6,
        .n_services = 1,
        .out = stdout,
        .err = stderr,
        .stop = stop_provider,
        .stop_ctx = provider,
    };
    int status = cr_plugin_serve(&opts);
    /* Every call has ended: close the routing map (SQLite checkpoints its
     * write-ahead log into the database and removes the -wal file). */
    cr_rpc_provider_free(provider);
    cr_log_debug("plugin", "routing map closed; exit status %d", status);
    return status;
}
