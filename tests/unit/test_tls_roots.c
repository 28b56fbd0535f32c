/*
 * tests/unit/test_tls_roots.c — where the HTTPS client finds the host's CA
 * certificates (store/tls_roots.c): Go's lists and order, SSL_CERT_FILE and
 * SSL_CERT_DIR, on fake root trees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/tls_roots.h"

/* A fresh, empty root for one test. */
static char root[64];

static int setup(void **s)
{
    (void)s;
    snprintf(root, sizeof root, "/tmp/crroots.XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **s)
{
    (void)s;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

/* Creates ROOT/path: a directory when it ends in '/', else a file. */
static void make(const char *path)
{
    char full[512];
    snprintf(full, sizeof full, "%s%s", root, path);
    for (char *p = full + strlen(root) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(full, 0755);
            *p = '/';
        }
    }
    if (full[strlen(full) - 1] != '/') {
        FILE *f = fopen(full, "w");
        assert_non_null(f);
        fclose(f);
    }
}

static void test_nothing(void **s)
{
    (void)s;
    cr_tls_roots r;
    cr_tls_roots_resolve(NULL, NULL, root, &r);
    assert_string_equal(r.file, "");
    assert_string_equal(r.dir, "");
}

static void test_debian(void **s)
{
    (void)s;
    make("/etc/ssl/certs/ca-certificates.crt");
    cr_tls_roots r;
    cr_tls_roots_resolve(NULL, "", root, &r);
    assert_string_equal(r.file, "/etc/ssl/certs/ca-certificates.crt");
    assert_string_equal(r.dir, "/etc/ssl/certs");
}

/* RHEL keeps both a bundle file and /etc/pki/tls/certs; the first file of
 * the list wins, every directory found is used. */
static void test_rhel_and_order(void **s)
{
    (void)s;
    make("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem");
    make("/etc/pki/tls/certs/ca-bundle.crt");
    make("/etc/ssl/certs/");
    cr_tls_roots r;
    cr_tls_roots_resolve(NULL, NULL, root, &r);
    assert_string_equal(r.file, "/etc/pki/tls/certs/ca-bundle.crt");
    assert_string_equal(r.dir, "/etc/ssl/certs:/etc/pki/tls/certs");
}

static void test_alpine(void **s)
{
    (void)s;
    make("/etc/ssl/cert.pem");
    cr_tls_roots r;
    cr_tls_roots_resolve(NULL, NULL, root, &r);
    assert_string_equal(r.file, "/etc/ssl/cert.pem");
    assert_string_equal(r.dir, "");
}

/* A directory where a bundle file is expected is not a bundle. */
static void test_not_a_file(void **s)
{
    (void)s;
    make("/etc/ssl/certs/ca-certificates.crt/");
    make("/etc/ssl/ca-bundle.pem");
    cr_tls_roots r;
    cr_tls_roots_resolve(NULL, NULL, root, &r);
    assert_string_equal(r.file, "/etc/ssl/ca-bundle.pem");
}

/* The environment replaces the lists, used as given (a missing file is
 * reported by libcurl, not replaced by another bundle). */
static void test_environment(void **s)
{
    (void)s;
    make("/etc/ssl/certs/ca-certificates.crt");
    cr_tls_roots r;
    cr_tls_roots_resolve("/nowhere/ca.pem", NULL, root, &r);
    assert_string_equal(r.file, "/nowhere/ca.pem");
    assert_string_equal(r.dir, "/etc/ssl/certs");
    cr_tls_roots_resolve(NULL, "/a:/b", root, &r);
    assert_string_equal(r.file, "/etc/ssl/certs/ca-certificates.crt");
    assert_string_equal(r.dir, "/a:/b");
    cr_tls_roots_resolve("", "", root, &r);     /* empty is unset */
    assert_string_equal(r.file, "/etc/ssl/certs/ca-certificates.crt");
}

/* A path longer than the buffer is left out whole, never cut. */
static void test_too_long(void **s)
{
    (void)s;
    char *big = malloc(5000);
    assert_non_null(big);
    memset(big, 'x', 4999);
    big[0] = '/';
    big[4999] = '\0';
    cr_tls_roots r;
    cr_tls_roots_resolve(big, big, root, &r);
    assert_string_equal(r.file, "");
    assert_string_equal(r.dir, "");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debian, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rhel_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alpine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
