/*
 * tests/unit/test_store.c — the backend-independent part of the store:
 * entry copy/clear, sorted unique labels, result-code names and every rule
 * of cr_entry_check (the one validation shared by the provider and cellctl),
 * and the RFC 3339 check every backend applies to the times it reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/store.h"

static cr_entry *valid_entry(void)
{
    cr_entry *e = cr_entry_new();
    assert_non_null(e);
    e->tenant_id = strdup("acme");
    e->cell_id = strdup("cell-a");
    e->endpoint = strdup("https://a.example.com/ingest");
    return e;
}

static void replace(char **field, const char *v)
{
    free(*field);
    *field = v ? strdup(v) : NULL;
}

static void test_labels_sorted_unique(void **state)
{
    (void)state;
    cr_entry *e = cr_entry_new();
    assert_false(e->has_labels);
    assert_int_equal(cr_entry_set_label(e, "team", "payments"), 0);
    assert_int_equal(cr_entry_set_label(e, "env", "prod"), 0);
    assert_int_equal(cr_entry_set_label(e, "zone", "1"), 0);
    assert_int_equal(cr_entry_set_label(e, "env", "staging"), 0);
    assert_true(e->has_labels);
    assert_int_equal(e->nlabels, 3);
    assert_string_equal(e->labels[0].key, "env");
    assert_string_equal(e->labels[0].value, "staging");
    assert_string_equal(e->labels[1].key, "team");
    assert_string_equal(e->labels[2].key, "zone");
    assert_string_equal(cr_entry_label(e, "team"), "payments");
    assert_null(cr_entry_label(e, "nope"));
    assert_int_equal(cr_entry_set_label(e, NULL, "x"), -1);
    assert_int_equal(e->nlabels, 3);
    cr_entry_free(e);
}

static void test_copy_is_deep(void **state)
{
    (void)state;
    cr_entry *e = valid_entry();
    e->standby_cell_id = strdup("cell-b");
    e->standby_endpoint = strdup("https://b.example.com/");
    e->version = 7;
    e->updated_at = strdup("2026-01-01T00:00:00.000000Z");
    cr_entry_set_label(e, "k", "v");
    cr_entry c;
    assert_int_equal(cr_entry_copy(&c, e), 0);
    cr_entry_free(e);           /* the copy must not share anything */
    assert_string_equal(c.tenant_id, "acme");
    assert_string_equal(c.standby_endpoint, "https://b.example.com/");
    assert_string_equal(c.updated_at, "2026-01-01T00:00:00.000000Z");
    assert_int_equal(c.version, 7);
    assert_true(c.has_labels);
    assert_int_equal(c.nlabels, 1);
    assert_string_equal(c.labels[0].value, "v");
    cr_entry_clear(&c);
    assert_null(c.tenant_id);
    assert_int_equal(c.nlabels, 0);

    /* Empty-but-present labels survive a copy as non-null. */
    cr_entry *empty = valid_entry();
    empty->has_labels = true;
    assert_int_equal(cr_entry_copy(&c, empty), 0);
    assert_true(c.has_labels);
    assert_int_equal(c.nlabels, 0);
    cr_entry_clear(&c);
    cr_entry_free(empty);
}

static void test_rc_names(void **state)
{
    (void)state;
    assert_string_equal(cr_store_rc_name(CR_STORE_OK), "ok");
    assert_string_equal(cr_store_rc_name(CR_STORE_CONFLICT),
                        "version conflict");
    assert_string_equal(cr_store_rc_name((cr_store_rc)99), "unknown error");
}

static void expect_bad(cr_entry *e, const char *field, const char *needle)
{
    const char *f = "unset";
    const char *msg = cr_entry_check(e, &f);
    if (!msg)
        fail_msg("expected %s to be rejected", field);
    assert_non_null(f);
    assert_string_equal(f, field);
    if (needle && !strstr(msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", msg, needle);
}

static void test_check_valid(void **state)
{
    (void)state;
    cr_entry *e = valid_entry();
    const char *f = "unset";
    assert_null(cr_entry_check(e, &f));
    assert_null(f);
    replace(&e->tenant_id, "Org-1.team_a:eu@x");
    replace(&e->standby_cell_id, "cell-b");
    replace(&e->standby_endpoint, "http://10.0.0.1:8080/x?y=1");
    cr_entry_set_label(e, "team", "päyments");
    assert_null(cr_entry_check(e, NULL));

    char id[513];
    memset(id, 'a', 512);
    id[512] = '\0';
    replace(&e->tenant_id, id);
    assert_null(cr_entry_check(e, NULL));
    char cell[64];
    memset(cell, 'c', 63);
    cell[63] = '\0';
    replace(&e->cell_id, cell);
    assert_null(cr_entry_check(e, NULL));
    cr_entry_free(e);
}

static void test_check_tenant_id(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "-acme", ".", "..", "_x", "a b", "a/b", "a%2f", "a#b", "a?b",
        "ü", "a\tb", "a*", "a\"b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_entry *e = valid_entry();
        replace(&e->tenant_id, bad[i]);
        expect_bad(e, "tenant_id", NULL);
        cr_entry_free(e);
    }
    cr_entry *e = valid_entry();
    char id[514];
    memset(id, 'a', 513);
    id[513] = '\0';
    replace(&e->tenant_id, id);
    expect_bad(e, "tenant_id", "512");
    replace(&e->tenant_id, NULL);
    expect_bad(e, "tenant_id", "empty");
    cr_entry_free(e);
}

static void test_check_cells(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "Cell", "-a", "cell_a", "cell.a", "cell a",
        "a123456789012345678901234567890123456789012345678901234567890123",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_entry *e = valid_entry();
        replace(&e->cell_id, bad[i]);
        expect_bad(e, "cell_id", NULL);
        replace(&e->cell_id, "cell-a");
        replace(&e->standby_cell_id, bad[i]);
        replace(&e->standby_endpoint, "https://b.example.com");
        expect_bad(e, "standby_cell_id", NULL);
        cr_entry_free(e);
    }
    cr_entry *e = valid_entry();
    replace(&e->cell_id, NULL);
    expect_bad(e, "cell_id", "required");
    cr_entry_free(e);
}

static void test_check_endpoints(void **state)
{
    (void)state;
    static const struct { const char *url, *needle; } bad[] = {
        {"", "empty"},
        {"a.example.com", "http"},
        {"ftp://a.example.com/", "http"},
        {"http:/a.example.com", "http"},
        {"//a.example.com/", "http"},
        {"http://", NULL},
        {"https:///path", "host"},
        {"https://a.example.com\\@b.example/", "backslash"},
        {"https://user:pw@a.example.com/", "credentials"},
        {"https://user@a.example.com/", "credentials"},
        {"https://a.example.com/#frag", "fragment"},
        {"https://a.example.com/#", "fragment"},
        {"https://a.example.com/a b", "ASCII"},
        {"https://a.example.com/\n", "ASCII"},
        {"https://bücher.example/", "ASCII"},
        {"https://a.example.com:99999/", "valid URL"},
        {"https://[::1/", "valid URL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_entry *e = valid_entry();
        replace(&e->endpoint, bad[i].url);
        expect_bad(e, "endpoint", bad[i].needle);
        replace(&e->endpoint, "https://a.example.com");
        replace(&e->standby_cell_id, "cell-b");
        replace(&e->standby_endpoint, bad[i].url);
        expect_bad(e, "standby_endpoint", bad[i].needle);
        cr_entry_free(e);
    }
    static const char *const good[] = {
        "HTTPS://A.EXAMPLE.COM", "http://localhost:8080", "https://[::1]:443/x",
        "https://a.example.com/p%20q?x=1&y=2", "https://xn--bcher-kva.example/",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        cr_entry *e = valid_entry();
        replace(&e->endpoint, good[i]);
        const char *f, *msg = cr_entry_check(e, &f);
        if (msg)
            fail_msg("%s rejected: %s", good[i], msg);
        cr_entry_free(e);
    }
    char longurl[2100] = "https://a.example.com/";
    memset(longurl + strlen(longurl), 'x', 2040);
    longurl[2080] = '\0';
    cr_entry *e = valid_entry();
    replace(&e->endpoint, longurl);
    expect_bad(e, "endpoint", "2048");
    cr_entry_free(e);
}

static void test_check_standby_pairs(void **state)
{
    (void)state;
    cr_entry *e = valid_entry();
    replace(&e->standby_cell_id, "cell-b");
    expect_bad(e, "standby_endpoint", "both or neither");
    replace(&e->standby_cell_id, NULL);
    replace(&e->standby_endpoint, "https://b.example.com");
    expect_bad(e, "standby_cell_id", "both or neither");
    replace(&e->standby_cell_id, "cell-a");
    expect_bad(e, "standby_cell_id", "differ");
    replace(&e->standby_cell_id, "cell-b");
    assert_null(cr_entry_check(e, NULL));
    cr_entry_free(e);
}

static void test_check_labels(void **state)
{
    (void)state;
    cr_entry *e = valid_entry();
    char key[65], val[258];
    memset(key, 'k', 63);
    key[63] = '\0';
    memset(val, 'v', 256);
    val[256] = '\0';
    cr_entry_set_label(e, key, val);
    assert_null(cr_entry_check(e, NULL));
    cr_entry_free(e);

    key[63] = 'k';
    key[64] = '\0';
    static const struct { const char *k, *v, *needle; } bad[] = {
        {"", "v", "empty"},
        {"a\nb", "v", "control"},
        {"k", "tab\there", "control"},
        {"k", "\xc3\x28", "UTF-8"},           /* broken sequence */
        {"k", "\xc0\xaf", "UTF-8"},           /* overlong */
        {"k", "\xed\xa0\x80", "UTF-8"},       /* surrogate */
        {"k", "\xc2\x85", "control"},         /* C1 control */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        e = valid_entry();
        cr_entry_set_label(e, bad[i].k, bad[i].v);
        expect_bad(e, "labels", NULL);
        assert_non_null(cr_label_check(bad[i].k, bad[i].v));
        cr_entry_free(e);
    }
    assert_non_null(strstr(cr_label_check(key, "v"), "63"));
    val[256] = 'v';
    val[257] = '\0';
    assert_non_null(strstr(cr_label_check("k", val), "256"));

    /* Hand-built label arrays that break the sorted-unique invariant. */
    e = valid_entry();
    cr_entry_set_label(e, "a", "1");
    cr_entry_set_label(e, "b", "2");
    free(e->labels[1].key);
    e->labels[1].key = strdup("a");
    expect_bad(e, "labels", "unique");
    cr_entry_free(e);
}

/* Times read back from a backend (updated_at, changed_at): RFC 3339
 * section 5.6, each field within its range (section 5.7). */
static void test_time_ok(void **state)
{
    (void)state;
    static const char *const good[] = {
        "2026-11-26T06:00:00Z", "2026-11-26T06:00:00.000000Z",
        "2026-11-26T06:00:00.123456789Z", "2024-02-29T23:59:59Z",
        "2000-02-29T00:00:00Z", "2026-12-31T23:59:60Z",
        "2026-11-26t06:00:00z", "2026-11-26T06:00:00+01:00",
        "2026-11-26T06:00:00.5-23:59",
    };
    static const char *const bad[] = {
        "", "2", "2026", "2026-11-26", "2026-11-26T06:00", "2026-11-26T06:00:00",
        "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-11-00T00:00:00Z",
        "2026-11-31T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
        "2026-13-45T99:00:00Z", "2026-11-26T24:00:00Z", "2026-11-26T06:60:00Z",
        "2026-11-26T06:00:61Z", "2026-11-26T06:00:00.Z",
        "2026-11-26T06:00:00.1234567890Z", "2026-11-26T06:00:00+24:00",
        "2026-11-26T06:00:00+01:60", "2026-11-26T06:00:00+0100",
        "2026-11-26T06:00:00Z ", "2026-11-26 06:00:00Z", "+2026-11-26T06:00:00Z",
        "2026-11-26T06:00:00+01:00x",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (!cr_store_time_ok(good[i]))
            fail_msg("refused: \"%s\"", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (cr_store_time_ok(bad[i]))
            fail_msg("accepted: \"%s\"", bad[i]);
    assert_false(cr_store_time_ok(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels_sorted_unique),
        cmocka_unit_test(test_copy_is_deep),
        cmocka_unit_test(test_rc_names),
        cmocka_unit_test(test_check_valid),
        cmocka_unit_test(test_check_tenant_id),
        cmocka_unit_test(test_check_cells),
        cmocka_unit_test(test_check_endpoints),
        cmocka_unit_test(test_check_standby_pairs),
        cmocka_unit_test(test_check_labels),
        cmocka_unit_test(test_time_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
