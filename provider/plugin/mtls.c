/*
 * plugin/mtls.c — the AutoMTLS certificate and client checks, on OpenSSL 3.
 *
 * The certificate copies the shape go-plugin's own servers mint (mtls.go),
 * because that is what the Go client has always accepted: the client trusts
 * exactly this certificate as its root, checks the name "localhost" against
 * the SAN, and, since the EKU list is present, needs serverAuth in it. Only
 * the key differs: P-256 rather than P-521, which is several times faster to
 * generate and sign with and equally accepted; startup time matters because
 * Terraform starts the provider several times per command.
 */
#include "plugin/mtls.h"

/* PEM_write_bio_ECPrivateKey and EVP_PKEY_get0_EC_KEY: see write_key. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats the message, appends OpenSSL's first queued reason if there is
 * one, and empties the queue so it does not leak into a later report. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        unsigned long e = ERR_peek_error();
        if (e != 0 && n >= 0 && (size_t)n + 3 < errlen) {
            char why[256];
            ERR_error_string_n(e, why, sizeof why);
            snprintf(err + n, errlen - (size_t)n, ": %s", why);
        }
    }
    ERR_clear_error();
    return -1;
}

char *cr_mtls_base64_nopad(const unsigned char *data, size_t len)
{
    /* EVP_EncodeBlock writes 4 characters per 3 bytes, padded, no breaks. */
    if (len > (size_t)INT32_MAX / 2)
        return NULL;
    size_t cap = 4 * ((len + 2) / 3) + 1;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    return out;
}

static char *bio_to_string(BIO *bio)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s != NULL) {
        memcpy(s, data, (size_t)n);
        s[n] = '\0';
    }
    return s;
}

/* The extensions, built as structures. X509V3_EXT_conf_nid would parse
 * each from its text form, which first sets up OpenSSL's configuration
 * parser (NCONF) for nothing: 0.6 million instructions before the
 * handshake line (callgrind). */
static int add_exts(X509 *x)
{
    int ok = 1;
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    ok = ok && bc != NULL;
    if (ok) {
        bc->ca = 0xFF;          /* DER TRUE */
        ok = X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) == 1;
    }
    BASIC_CONSTRAINTS_free(bc);

    /* digitalSignature(0), keyEncipherment(2), keyAgreement(4),
     * keyCertSign(5) */
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    ok = ok && ku != NULL && ASN1_BIT_STRING_set_bit(ku, 0, 1) &&
         ASN1_BIT_STRING_set_bit(ku, 2, 1) && ASN1_BIT_STRING_set_bit(ku, 4, 1) &&
         ASN1_BIT_STRING_set_bit(ku, 5, 1) &&
         X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT) == 1;
    ASN1_BIT_STRING_free(ku);

    /* OBJ_nid2obj's objects are static: the stack may "own" them. */
    EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
    ok = ok && eku != NULL &&
         sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_client_auth)) > 0 &&
         sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)) > 0 &&
         X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_DEFAULT) == 1;
    sk_ASN1_OBJECT_free(eku);

    GENERAL_NAMES *san = GENERAL_NAMES_new();
    GENERAL_NAME *dns = GENERAL_NAME_new();
    ASN1_IA5STRING *host = ASN1_IA5STRING_new();
    ok = ok && san != NULL && dns != NULL && host != NULL &&
         ASN1_STRING_set(host, "localhost", -1);
    if (ok) {
        GENERAL_NAME_set0_value(dns, GEN_DNS, host);
        host = NULL;
        ok = sk_GENERAL_NAME_push(san, dns) > 0;
        if (ok)
            dns = NULL;
    }
    ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, san, 0, X509V3_ADD_DEFAULT) == 1;
    ASN1_IA5STRING_free(host);
    GENERAL_NAME_free(dns);
    GENERAL_NAMES_free(san);

    /* "hash" (RFC 5280 4.2.1.2 method 1): SHA-1 of the subjectPublicKey
     * bits, which is what X509_pubkey_digest digests. */
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    ASN1_OCTET_STRING *skid = ASN1_OCTET_STRING_new();
    ok = ok && skid != NULL && X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) &&
         ASN1_OCTET_STRING_set(skid, md, (int)mdlen) &&
         X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0, X509V3_ADD_DEFAULT) == 1;
    ASN1_OCTET_STRING_free(skid);
    return ok ? 0 : -1;
}

/* The certificate's SubjectPublicKeyInfo, written straight from the key's
 * encoded point (id-ecPublicKey, named curve). X509_set_pubkey makes the
 * same bytes, but for a provider key OpenSSL 3.0 gets them by a DER round
 * trip through its encoder and decoder frameworks, each set up from every
 * algorithm of the default provider for this one key. With write_key's,
 * that was a fifth of the instructions from exec to the handshake line
 * (callgrind: 5.7 of 28.7 million; bench/startup.sh). */
static int set_pubkey(X509 *x, EVP_PKEY *key)
{
    unsigned char point[256];
    size_t len = 0;
    if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                         point, sizeof point, &len) ||
        len == 0 || len > INT_MAX)
        return -1;
    unsigned char *bits = OPENSSL_memdup(point, len);
    if (bits == NULL)
        return -1;
    /* OBJ_nid2obj's objects are static: the algorithm may "own" them. */
    if (!X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x),
                                OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                                V_ASN1_OBJECT,
                                OBJ_nid2obj(NID_X9_62_prime256v1),
                                bits, (int)len)) {
        OPENSSL_free(bits);
        return -1;
    }
    return 0;
}

/* The key in PEM for gRPC, as SEC1 "EC PRIVATE KEY" (the form go-plugin's
 * own servers write). PEM_write_bio_PrivateKey would write PKCS#8 through
 * OpenSSL 3.0's encoder framework, whose first use builds every encoder of
 * the default provider (3.7 million instructions) for one 121-byte key
 * that nothing else in the process encodes. The EC_KEY route (deprecated
 * in 3.0, still in every 3.x) is OpenSSL's plain ASN.1 writer for exactly
 * that structure; gRPC reads either form. */
static int write_key(BIO *bio, EVP_PKEY *key)
{
    const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(key);
    return ec != NULL &&
           PEM_write_bio_ECPrivateKey(bio, ec, NULL, NULL, 0, NULL, NULL) ? 0 : -1;
}

/* A positive serial below 2^127, never zero (RFC 5280 wants positive). */
static int set_serial(X509 *x)
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1)
        return -1;
    r[0] &= 0x7F;
    r[sizeof r - 1] |= 0x01;
    BIGNUM *bn = BN_bin2bn(r, sizeof r, NULL);
    if (bn == NULL)
        return -1;
    ASN1_INTEGER *serial = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    return serial != NULL ? 0 : -1;
}

int cr_mtls_identity_new(cr_mtls_identity *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = -1;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    BIO *cbio = NULL, *kbio = NULL;
    unsigned char *der = NULL;

    key = EVP_EC_gen("P-256");
    if (key == NULL) {
        fail(err, errlen, "cannot generate the TLS key");
        goto done;
    }
    x = X509_new();
    if (x == NULL || !X509_set_version(x, X509_VERSION_3) ||
        set_serial(x) != 0 ||
        X509_gmtime_adj(X509_getm_notBefore(x),
                        -(long)CR_MTLS_BACKDATE_SECONDS) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x),
                        CR_MTLS_LIFETIME_HOURS * 3600L) == NULL ||
        set_pubkey(x, key) != 0) {
        fail(err, errlen, "cannot build the TLS certificate");
        goto done;
    }
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    (const unsigned char *)"cellrouter", -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"localhost", -1, -1, 0) ||
        !X509_set_issuer_name(x, name)) {
        fail(err, errlen, "cannot name the TLS certificate");
        goto done;
    }
    if (add_exts(x) != 0) {
        fail(err, errlen, "cannot add the TLS certificate extensions");
        goto done;
    }
    if (X509_sign(x, key, EVP_sha256()) <= 0) {
        fail(err, errlen, "cannot sign the TLS certificate");
        goto done;
    }

    cbio = BIO_new(BIO_s_mem());
    kbio = BIO_new(BIO_s_mem());
    if (cbio == NULL || kbio == NULL || !PEM_write_bio_X509(cbio, x) ||
        write_key(kbio, key) != 0) {
        fail(err, errlen, "cannot encode the TLS certificate");
        goto done;
    }
    int derlen = i2d_X509(x, &der);
    if (derlen <= 0) {
        fail(err, errlen, "cannot encode the TLS certificate");
        goto done;
    }
    out->cert_pem = bio_to_string(cbio);
    out->key_pem = bio_to_string(kbio);
    out->cert_b64 = cr_mtls_base64_nopad(der, (size_t)derlen);
    if (out->cert_pem == NULL || out->key_pem == NULL || out->cert_b64 == NULL) {
        fail(err, errlen, "out of memory");
        cr_mtls_identity_free(out);
        goto done;
    }
    rc = 0;
done:
    OPENSSL_free(der);
    BIO_free(cbio);
    BIO_free(kbio);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

void cr_mtls_identity_free(cr_mtls_identity *id)
{
    if (id == NULL)
        return;
    if (id->key_pem != NULL)
        OPENSSL_cleanse(id->key_pem, strlen(id->key_pem));
    free(id->cert_pem);
    free(id->key_pem);
    free(id->cert_b64);
    memset(id, 0, sizeof *id);
}

/* Reads every certificate of a PEM text into a new store; *count gets how
 * many. NULL with err when none could be read. */
static X509_STORE *load_store(const char *pem, int *count,
                              char *err, size_t errlen)
{
    *count = 0;
    if (pem == NULL || *pem == '\0') {
        fail(err, errlen, "no certificate given");
        return NULL;
    }
    size_t len = strlen(pem);
    if (len > 1024 * 1024) {
        fail(err, errlen, "certificate text is larger than 1 MiB");
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509_STORE *store = X509_STORE_new();
    if (bio == NULL || store == NULL) {
        BIO_free(bio);
        X509_STORE_free(store);
        fail(err, errlen, "out of memory");
        return NULL;
    }
    X509 *c;
    while ((c = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        int ok = X509_STORE_add_cert(store, c);
        X509_free(c);
        if (!ok) {
            BIO_free(bio);
            X509_STORE_free(store);
            fail(err, errlen, "cannot use certificate %d", *count + 1);
            return NULL;
        }
        (*count)++;
    }
    BIO_free(bio);
    /* The loop ends on end-of-input (no further BEGIN line) or on a block
     * that is not a valid certificate: only the first is acceptable. */
    unsigned long e = ERR_peek_last_error();
    if (*count == 0 || (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
                                     ERR_GET_REASON(e) == PEM_R_NO_START_LINE))) {
        X509_STORE_free(store);
        if (*count == 0)
            fail(err, errlen, "no PEM certificate found");
        else
            fail(err, errlen, "certificate %d is not valid PEM", *count + 1);
        return NULL;
    }
    ERR_clear_error();
    return store;
}

int cr_mtls_check_client_ca(const char *pem, char *err, size_t errlen)
{
    int count;
    char why[200];
    X509_STORE *store = load_store(pem, &count, why, sizeof why);
    if (store == NULL)
        return fail(err, errlen, "PLUGIN_CLIENT_CERT: %s", why);
    X509_STORE_free(store);
    return 0;
}

int cr_mtls_verify_client(const char *ca_pem, const char *cert_pem,
                          char *err, size_t errlen)
{
    int count, rc = -1;
    char why[200];
    X509_STORE *store = load_store(ca_pem, &count, why, sizeof why);
    if (store == NULL)
        return fail(err, errlen, "trusted certificates: %s", why);

    BIO *bio = BIO_new_mem_buf(cert_pem, -1);
    X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (cert == NULL) {
        fail(err, errlen, "client certificate is not a PEM certificate");
    } else if (ctx == NULL || !X509_STORE_CTX_init(ctx, store, cert, NULL) ||
               !X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT)) {
        fail(err, errlen, "cannot set up certificate verification");
    } else if (X509_verify_cert(ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ctx);
        ERR_clear_error();
        fail(err, errlen, "client certificate refused: %s",
             X509_verify_cert_error_string(e));
    } else {
        rc = 0;
    }
    X509_STORE_CTX_free(ctx);
    X509_free(cert);
    X509_STORE_free(store);
    return rc;
}
