/*
 * plugin/mtls.h — go-plugin AutoMTLS: the plugin's one-shot identity and
 * the check of Terraform's client certificate.
 *
 * When Terraform sets PLUGIN_CLIENT_CERT (a PEM certificate it made for this
 * launch), the plugin makes its own key and self-signed certificate, serves
 * TLS only with it, requires every client to present PLUGIN_CLIENT_CERT's
 * certificate (it is the only trusted CA), and returns its certificate in the
 * sixth handshake field so Terraform trusts exactly that one.
 */
#ifndef CR_PLUGIN_MTLS_H
#define CR_PLUGIN_MTLS_H

#include <stddef.h>

/* NotBefore is backdated this much so a slightly late client clock still
 * accepts the certificate; NotAfter is ~30 years on, as go-plugin does. */
#define CR_MTLS_BACKDATE_SECONDS 30
#define CR_MTLS_LIFETIME_HOURS   262980L

typedef struct cr_mtls_identity {
    char *cert_pem;     /* X.509 v3, PEM; malloc'd */
    char *key_pem;      /* SEC1 PEM ("EC PRIVATE KEY") of the ECDSA P-256
                           key, as go-plugin writes its own; malloc'd */
    char *cert_b64;     /* DER, base64 std alphabet, no padding, one line */
} cr_mtls_identity;

/* A fresh ECDSA P-256 key and a self-signed certificate shaped like
 * go-plugin's: CN and SAN DNS "localhost", CA:TRUE, key usage
 * digitalSignature|keyEncipherment|keyAgreement|keyCertSign, EKU
 * serverAuth+clientAuth, positive random 128-bit serial. 0 or -1 + err. */
int  cr_mtls_identity_new(cr_mtls_identity *out, char *err, size_t errlen);
void cr_mtls_identity_free(cr_mtls_identity *id);

/* PLUGIN_CLIENT_CERT must hold at least one PEM certificate and nothing
 * unparseable; 0 or -1 + err. */
int cr_mtls_check_client_ca(const char *pem, char *err, size_t errlen);

/* Verifies a client certificate (PEM) the way the TLS server does: chained
 * to one of ca_pem's certificates, currently valid, fit for client auth.
 * 0 when accepted, -1 + err when refused. */
int cr_mtls_verify_client(const char *ca_pem, const char *cert_pem,
                          char *err, size_t errlen);

/* base64 (std alphabet) without '=' padding or line breaks; malloc'd. */
char *cr_mtls_base64_nopad(const unsigned char *data, size_t len);

#endif
