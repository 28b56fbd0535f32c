/*
 * tests/unit/test_mtls.c — the AutoMTLS certificate, parsed back with
 * OpenSSL and checked field by field against what go-plugin's client needs,
 * and the client-certificate check against PLUGIN_CLIENT_CERT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "plugin/mtls.h"

static X509 *parse_pem(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return x;
}

/* Decodes unpadded base64 by restoring the padding OpenSSL wants. */
static unsigned char *decode_nopad(const char *b64, int *len)
{
    size_t n = strlen(b64);
    char *padded = malloc(n + 3);
    memcpy(padded, b64, n);
    while (n % 4 != 0)
        padded[n++] = '=';
    padded[n] = '\0';
    unsigned char *out = malloc(n);
    int m = EVP_DecodeBlock(out, (unsigned char *)padded, (int)n);
    /* EVP_DecodeBlock counts the padding bytes as data: remove them */
    for (size_t i = n; i > 0 && padded[i - 1] == '='; i--)
        m--;
    free(padded);
    *len = m;
    return out;
}

static void test_base64_nopad(void **state)
{
    (void)state;
    char *s;
    s = cr_mtls_base64_nopad((const unsigned char *)"", 0);
    assert_string_equal(s, "");
    free(s);
    s = cr_mtls_base64_nopad((const unsigned char *)"f", 1);
    assert_string_equal(s, "Zg");
    free(s);
    s = cr_mtls_base64_nopad((const unsigned char *)"fo", 2);
    assert_string_equal(s, "Zm8");
    free(s);
    s = cr_mtls_base64_nopad((const unsigned char *)"foo", 3);
    assert_string_equal(s, "Zm9v");
    free(s);
    unsigned char bin[] = {0xfb, 0xff, 0xfe};
    s = cr_mtls_base64_nopad(bin, 3);
    assert_string_equal(s, "+//+");   /* std alphabet, not URL-safe */
    free(s);
}

static void test_certificate_shape(void **state)
{
    (void)state;
    cr_mtls_identity id;
    char err[256];
    assert_int_equal(cr_mtls_identity_new(&id, err, sizeof err), 0);
    assert_non_null(strstr(id.cert_pem, "-----BEGIN CERTIFICATE-----"));
    assert_non_null(strstr(id.key_pem, "PRIVATE KEY-----"));

    X509 *x = parse_pem(id.cert_pem);
    assert_non_null(x);

    /* v3 */
    assert_int_equal(X509_get_version(x), X509_VERSION_3);

    /* self-signed and the signature verifies with its own key */
    EVP_PKEY *pub = X509_get0_pubkey(x);
    assert_non_null(pub);
    assert_int_equal(X509_verify(x, pub), 1);
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x),
                                   X509_get_issuer_name(x)), 0);
    assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
    char group[64];
    size_t glen;
    assert_int_equal(EVP_PKEY_get_group_name(pub, group, sizeof group, &glen), 1);
    assert_string_equal(group, "prime256v1");

    /* CN localhost */
    char cn[64];
    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
                                          NID_commonName, cn, sizeof cn) > 0);
    assert_string_equal(cn, "localhost");

    /* SAN: exactly DNS:localhost; the host check Go's client makes */
    GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_non_null(san);
    assert_int_equal(sk_GENERAL_NAME_num(san), 1);
    GENERAL_NAME *gn = sk_GENERAL_NAME_value(san, 0);
    assert_int_equal(gn->type, GEN_DNS);
    assert_string_equal((const char *)ASN1_STRING_get0_data(gn->d.dNSName),
                        "localhost");
    GENERAL_NAMES_free(san);
    assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);

    /* CA, key usage and both EKUs */
    assert_int_equal(X509_check_ca(x), 1);
    uint32_t ku = X509_get_key_usage(x);
    assert_true(ku & KU_DIGITAL_SIGNATURE);
    assert_true(ku & KU_KEY_CERT_SIGN);
    uint32_t eku = X509_get_extended_key_usage(x);
    assert_true(eku & XKU_SSL_SERVER);
    assert_true(eku & XKU_SSL_CLIENT);

    /* validity: started already (backdated), ends decades from now */
    time_t now = time(NULL);
    assert_true(X509_cmp_time(X509_get0_notBefore(x), &now) < 0);
    time_t in_29_years = now + 29L * 365 * 24 * 3600;
    assert_true(X509_cmp_time(X509_get0_notAfter(x), &in_29_years) > 0);
    int days, secs;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
                                    NULL), 1);
    assert_true(days == 0 && secs >= 25 && secs <= 120);

    /* serial: positive and non-zero */
    BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    assert_non_null(serial);
    assert_false(BN_is_negative(serial));
    assert_false(BN_is_zero(serial));
    assert_true(BN_num_bits(serial) > 64);
    BN_free(serial);

    /* the handshake field: base64 of the DER, no padding, one line, and
     * decoding it gives back exactly this certificate */
    assert_null(strchr(id.cert_b64, '='));
    assert_null(strchr(id.cert_b64, '\n'));
    assert_true(strlen(id.cert_b64) > 50);    /* go-plugin ignores <= 50 */
    int derlen;
    unsigned char *der = decode_nopad(id.cert_b64, &derlen);
    const unsigned char *p = der;
    X509 *back = d2i_X509(NULL, &p, derlen);
    assert_non_null(back);
    assert_int_equal(X509_cmp(x, back), 0);
    X509_free(back);
    free(der);

    /* the key belongs to the certificate */
    BIO *kb = BIO_new_mem_buf(id.key_pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    BIO_free(kb);
    assert_non_null(key);
    assert_int_equal(X509_check_private_key(x, key), 1);
    EVP_PKEY_free(key);

    X509_free(x);
    cr_mtls_identity_free(&id);
}

static void test_fresh_every_time(void **state)
{
    (void)state;
    cr_mtls_identity a, b;
    char err[256];
    assert_int_equal(cr_mtls_identity_new(&a, err, sizeof err), 0);
    assert_int_equal(cr_mtls_identity_new(&b, err, sizeof err), 0);
    assert_string_not_equal(a.cert_b64, b.cert_b64);
    assert_string_not_equal(a.key_pem, b.key_pem);
    cr_mtls_identity_free(&a);
    cr_mtls_identity_free(&b);
}

static void test_client_verification(void **state)
{
    (void)state;
    cr_mtls_identity ca, other;
    char err[256];
    assert_int_equal(cr_mtls_identity_new(&ca, err, sizeof err), 0);
    assert_int_equal(cr_mtls_identity_new(&other, err, sizeof err), 0);

    /* the configured certificate is accepted as its own root */
    assert_int_equal(cr_mtls_verify_client(ca.cert_pem, ca.cert_pem,
                                           err, sizeof err), 0);
    /* a different self-signed certificate is refused */
    err[0] = '\0';
    assert_int_equal(cr_mtls_verify_client(ca.cert_pem, other.cert_pem,
                                           err, sizeof err), -1);
    assert_non_null(strstr(err, "refused"));
    /* garbage instead of a certificate */
    assert_int_equal(cr_mtls_verify_client(ca.cert_pem, "not a cert",
                                           err, sizeof err), -1);
    assert_int_equal(cr_mtls_verify_client("", ca.cert_pem,
                                           err, sizeof err), -1);

    cr_mtls_identity_free(&ca);
    cr_mtls_identity_free(&other);
}

static void test_client_ca_parsing(void **state)
{
    (void)state;
    cr_mtls_identity a, b;
    char err[256];
    assert_int_equal(cr_mtls_identity_new(&a, err, sizeof err), 0);
    assert_int_equal(cr_mtls_identity_new(&b, err, sizeof err), 0);

    assert_int_equal(cr_mtls_check_client_ca(a.cert_pem, err, sizeof err), 0);

    /* two certificates: both read (PLUGIN_CLIENT_CERT holds one in
     * practice; several with the same subject are not told apart by
     * OpenSSL's name lookup, so no verification is asserted here) */
    size_t n = strlen(a.cert_pem) + strlen(b.cert_pem) + 1;
    char *both = malloc(n);
    snprintf(both, n, "%s%s", a.cert_pem, b.cert_pem);
    assert_int_equal(cr_mtls_check_client_ca(both, err, sizeof err), 0);
    free(both);

    err[0] = '\0';
    assert_int_equal(cr_mtls_check_client_ca(NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "PLUGIN_CLIENT_CERT"));
    assert_int_equal(cr_mtls_check_client_ca("", err, sizeof err), -1);
    assert_int_equal(cr_mtls_check_client_ca("hello", err, sizeof err), -1);
    assert_int_equal(cr_mtls_check_client_ca(
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        err, sizeof err), -1);

    /* a good certificate followed by a broken one */
    n = strlen(a.cert_pem) + 100;
    char *tail = malloc(n);
    snprintf(tail, n, "%s-----BEGIN CERTIFICATE-----\n!!!!\n"
                      "-----END CERTIFICATE-----\n", a.cert_pem);
    err[0] = '\0';
    assert_int_equal(cr_mtls_check_client_ca(tail, err, sizeof err), -1);
    assert_non_null(strstr(err, "certificate 2"));
    free(tail);

    cr_mtls_identity_free(&a);
    cr_mtls_identity_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_nopad),
        cmocka_unit_test(test_certificate_shape),
        cmocka_unit_test(test_fresh_every_time),
        cmocka_unit_test(test_client_verification),
        cmocka_unit_test(test_client_ca_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
