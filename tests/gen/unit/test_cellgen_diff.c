/*
 * tests/gen/unit/test_cellgen_diff.c — the unified diff behind `cellgen --check`:
 * exact output for known cases, and for many pseudo-random edits, applying
 * the diff to the old text must give the new text (checked by a small
 * patch implementation here, independent of the diff code).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diff.h"

static size_t udiff(const char *a, const char *b, cg_buf *out)
{
    return cg_diff_unified(a, strlen(a), b, strlen(b), "a/f", "b/f", out);
}

static void test_equal_is_empty(void **state)
{
    (void)state;
    cg_buf out = {0};
    assert_int_equal(udiff("x\ny\n", "x\ny\n", &out), 0);
    assert_int_equal(out.len, 0);
    assert_int_equal(udiff("", "", &out), 0);
    cg_buf_free(&out);
}

static void test_one_change(void **state)
{
    (void)state;
    cg_buf out = {0};
    assert_int_equal(udiff("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nfive\n6\n7\n8\n", &out), 2);
    assert_string_equal(out.p,
        "--- a/f\n+++ b/f\n"
        "@@ -2,7 +2,7 @@\n"
        " 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
    cg_buf_free(&out);
}

static void test_missing_file_and_newline(void **state)
{
    (void)state;
    cg_buf out = {0};
    assert_int_equal(udiff("", "a\nb\n", &out), 2);
    assert_string_equal(out.p, "--- a/f\n+++ b/f\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    out.len = 0;
    assert_int_equal(udiff("a\nb", "a\nb\n", &out), 2);
    assert_string_equal(out.p, "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
    cg_buf_free(&out);
}

static void test_separate_hunks(void **state)
{
    (void)state;
    cg_buf a = {0}, b = {0}, out = {0};
    for (int i = 0; i < 30; i++) {
        cg_buf_printf(&a, "%d\n", i);
        cg_buf_printf(&b, "%s\n", i == 2 ? "two" : i == 25 ? "twenty-five" : "");
        if (i != 2 && i != 25) { b.len--; cg_buf_printf(&b, "%d\n", i); }
    }
    assert_int_equal(udiff(a.p, b.p, &out), 4);
    assert_non_null(strstr(out.p, "@@ -1,6 +1,6 @@\n 0\n 1\n-2\n+two\n 3\n 4\n 5\n"));
    assert_non_null(strstr(out.p, "@@ -23,7 +23,7 @@\n 22\n 23\n 24\n-25\n+twenty-five\n 26\n 27\n 28\n"));
    cg_buf_free(&a);
    cg_buf_free(&b);
    cg_buf_free(&out);
}

/* ---- an independent patcher: applies a unified diff to lines ---------- */

typedef struct vec {
    char **v;
    size_t n;
} vec;

static vec lines_of(const char *s)
{
    vec l = {0};
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
        l.v = realloc(l.v, (l.n + 1) * sizeof *l.v);
        l.v[l.n] = strndup(s, n);
        l.n++;
        s += n;
    }
    return l;
}

static char *apply(const char *old, const char *diff)
{
    vec a = lines_of(old), d = lines_of(diff);
    cg_buf out = {0};
    size_t ai = 0, di = 2;  /* skip ---/+++ */
    while (di < d.n) {
        unsigned long s1, c1 = 1, s2, c2 = 1;
        const char *h = d.v[di];
        assert_true(!strncmp(h, "@@ -", 4));
        char *p;
        s1 = strtoul(h + 4, &p, 10);
        if (*p == ',') c1 = strtoul(p + 1, &p, 10);
        assert_true(!strncmp(p, " +", 2));
        s2 = strtoul(p + 2, &p, 10);
        if (*p == ',') c2 = strtoul(p + 1, &p, 10);
        (void)s2;
        (void)c2;
        size_t start = c1 ? s1 - 1 : s1;
        while (ai < start) cg_buf_puts(&out, a.v[ai++]);
        di++;
        while (di < d.n && d.v[di][0] != '@') {
            char *l = d.v[di];
            bool nonl = di + 1 < d.n && d.v[di + 1][0] == '\\';
            size_t len = strlen(l + 1);
            if (nonl) len--;    /* the diff added a '\n' after it */
            if (l[0] == ' ' || l[0] == '-') {
                assert_true(ai < a.n);
                assert_memory_equal(a.v[ai], l + 1, len);
                if (l[0] == ' ') cg_buf_put(&out, l + 1, len);
                ai++;
            } else if (l[0] == '+') {
                cg_buf_put(&out, l + 1, len);
            }
            di += nonl ? 2 : 1;
        }
    }
    while (ai < a.n) cg_buf_puts(&out, a.v[ai++]);
    for (size_t i = 0; i < a.n; i++) free(a.v[i]);
    for (size_t i = 0; i < d.n; i++) free(d.v[i]);
    free(a.v);
    free(d.v);
    return cg_buf_steal(&out);
}

/* The diff from `a` to `b`, applied to `a`, gives `b`; the three buffers
 * are released. */
static void assert_applies_and_free(cg_buf *a, cg_buf *b, cg_buf *diff)
{
    char *got = apply(a->p, diff->p);
    assert_string_equal(got, b->p);
    free(got);
    cg_buf_free(a);
    cg_buf_free(b);
    cg_buf_free(diff);
}

static uint32_t rng = 12345;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void test_random_edits_roundtrip(void **state)
{
    (void)state;
    for (int round = 0; round < 300; round++) {
        cg_buf a = {0}, b = {0}, out = {0};
        size_t n = next() % 60;
        for (size_t i = 0; i < n; i++) {
            /* a small alphabet makes equal lines frequent, the hard case */
            uint32_t v = next() % 8;
            cg_buf_printf(&a, "line %u\n", v);
            uint32_t op = next() % 10;
            if (op == 0) continue;                                  /* delete */
            if (op == 1) cg_buf_printf(&b, "new %u\n", next() % 4); /* insert */
            if (op == 2) { cg_buf_printf(&b, "changed %u\n", v); continue; }
            cg_buf_printf(&b, "line %u\n", v);
        }
        if (next() % 5 == 0 && b.len) b.len--, b.p[b.len] = '\0';  /* no final newline */
        if (!a.p) cg_buf_puts(&a, "");
        if (!b.p) cg_buf_puts(&b, "");
        size_t changed = udiff(a.p, b.p, &out);
        assert_int_equal(changed == 0, strcmp(a.p, b.p) == 0);
        if (changed) {
            assert_applies_and_free(&a, &b, &out);
        } else {
            cg_buf_free(&a);
            cg_buf_free(&b);
            cg_buf_free(&out);
        }
    }
}

static void test_large_rewrite_falls_back(void **state)
{
    (void)state;
    /* More than CG_DIFF_MAX_EDIT differing lines: still a correct diff. */
    cg_buf a = {0}, b = {0}, out = {0};
    for (int i = 0; i < CG_DIFF_MAX_EDIT; i++) {
        cg_buf_printf(&a, "a%d\n", i);
        cg_buf_printf(&b, "b%d\n", i);
    }
    assert_int_equal(udiff(a.p, b.p, &out), 2 * CG_DIFF_MAX_EDIT);
    assert_applies_and_free(&a, &b, &out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_is_empty),
        cmocka_unit_test(test_one_change),
        cmocka_unit_test(test_missing_file_and_newline),
        cmocka_unit_test(test_separate_hunks),
        cmocka_unit_test(test_random_edits_roundtrip),
        cmocka_unit_test(test_large_rewrite_falls_back),
    };
    return cmocka_run_group_tests_name("cellgen_diff", tests, NULL, NULL);
}
