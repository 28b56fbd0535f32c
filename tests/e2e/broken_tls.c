/*
 * tests/e2e/broken_tls.c — a TLS fault linked into a copy of the provider
 * (tests/e2e/e2e.mk: build/broken/), never into the real one, so that
 * tests/e2e/run.sh can show the harness refusing a provider whose TLS a
 * current Terraform refuses. gRPC core sets up TLS through OpenSSL (libssl,
 * linked dynamically); a definition of one of its functions in the
 * executable comes first in the dynamic linker's lookup, so gRPC's own
 * calls reach it:
 *
 *   -DBREAK_NO_ALPN  SSL_CTX_set_alpn_select_cb does nothing: the server
 *                    never selects ALPN "h2" (grpc-go >= 1.67, Terraform
 *                    >= 1.12, refuses it; gRPC core's own server refuses
 *                    the connection too, whatever the client)
 *   -DBREAK_TLS11    each server connection speaks TLS 1.0 or 1.1 only
 *                    (go-plugin's client requires TLS 1.2)
 */
#include <dlfcn.h>
#include <openssl/ssl.h>

#ifdef BREAK_NO_ALPN
void SSL_CTX_set_alpn_select_cb(SSL_CTX *ctx, SSL_CTX_alpn_select_cb_func cb,
                                void *arg)
{
    (void)ctx;
    (void)cb;
    (void)arg;
}
#endif

#ifdef BREAK_TLS11
void SSL_set_accept_state(SSL *s)
{
    void (*real)(SSL *) =
        (void (*)(SSL *))dlsym(RTLD_NEXT, "SSL_set_accept_state");
    /* TLS 1.0/1.1 need security level 0 and CBC suites in OpenSSL 3. */
    SSL_set_security_level(s, 0);
    SSL_set_min_proto_version(s, TLS1_VERSION);
    SSL_set_max_proto_version(s, TLS1_1_VERSION);
    SSL_set_cipher_list(s, "DEFAULT:@SECLEVEL=0");
    if (real != NULL)
        real(s);
}
#endif
