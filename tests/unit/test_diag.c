/*
 * tests/unit/test_diag.c — diagnostics and attribute paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/diag.h"

static void test_path_format(void **s)
{
    (void)s;
    cr_path p = {0};
    char *f = cr_path_format(&p);
    assert_string_equal(f, "");
    free(f);
    assert_int_equal(cr_path_push_attr(&p, "labels"), 0);
    assert_int_equal(cr_path_push_key(&p, "team"), 0);
    f = cr_path_format(&p);
    assert_string_equal(f, "labels[\"team\"]");
    free(f);
    cr_path_pop(&p);
    assert_int_equal(cr_path_push_index(&p, 3), 0);
    assert_int_equal(cr_path_push_attr(&p, "name"), 0);
    f = cr_path_format(&p);
    assert_string_equal(f, "labels[3].name");
    free(f);
    /* Keys are quoted so odd keys cannot fake structure. */
    cr_path_free(&p);
    assert_int_equal(p.len, 0);
    cr_path_push_key(&p, "a\"]b\\\n\x01");
    f = cr_path_format(&p);
    assert_string_equal(f, "[\"a\\\"]b\\\\\\n\\u0001\"]");
    free(f);
    /* Pop on empty is harmless; many pushes grow the path. */
    cr_path_pop(&p);
    cr_path_pop(&p);
    assert_int_equal(p.len, 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(cr_path_push_index(&p, i), 0);
    assert_int_equal(p.len, 100);
    assert_int_equal(p.steps[99].index, 99);
    cr_path_free(&p);
}

static void test_path_copy(void **s)
{
    (void)s;
    cr_path p = {0}, c;
    cr_path_push_attr(&p, "a");
    cr_path_push_key(&p, "k");
    cr_path_push_index(&p, -1);
    assert_int_equal(cr_path_copy(&c, &p), 0);
    cr_path_free(&p);          /* the copy owns its own names */
    assert_int_equal(c.len, 3);
    assert_int_equal(c.steps[0].kind, CR_STEP_ATTR);
    assert_string_equal(c.steps[1].name, "k");
    assert_int_equal(c.steps[2].index, -1);
    char *f = cr_path_format(&c);
    assert_string_equal(f, "a[\"k\"][-1]");
    free(f);
    cr_path_free(&c);
    assert_int_equal(cr_path_copy(&c, NULL), 0);
    assert_int_equal(c.len, 0);
    cr_path_free(&c);
}

static void test_diags(void **s)
{
    (void)s;
    cr_diags d = CR_DIAGS_INIT;
    assert_false(cr_diags_has_error(&d));
    cr_diags_add(&d, CR_DIAG_WARNING, NULL, "Deprecated", "use %s", "x");
    assert_false(cr_diags_has_error(&d));
    assert_string_equal(d.items[0].detail, "use x");
    assert_int_equal(d.items[0].path.len, 0);

    cr_path p = {0};
    cr_path_push_attr(&p, "endpoint");
    cr_diags_error(&d, &p, "Invalid URL", "\"%s\" is not absolute", "foo");
    cr_path_free(&p);
    assert_true(cr_diags_has_error(&d));
    assert_int_equal(d.len, 2);
    assert_string_equal(d.items[1].summary, "Invalid URL");
    assert_string_equal(d.items[1].detail, "\"foo\" is not absolute");
    assert_string_equal(d.items[1].path.steps[0].name, "endpoint");

    cr_diags_attr_error(&d, "tenant_id", "Invalid tenant id", "%d bytes", 600);
    assert_int_equal(d.len, 3);
    assert_int_equal(d.items[2].severity, CR_DIAG_ERROR);
    assert_string_equal(d.items[2].path.steps[0].name, "tenant_id");
    assert_string_equal(d.items[2].detail, "600 bytes");

    /* An empty detail format means no detail. */
    cr_diags_add(&d, CR_DIAG_WARNING, NULL, "Bare", "%s", "");
    assert_string_equal(d.items[3].detail, "");

    cr_diags other = CR_DIAGS_INIT;
    for (int i = 0; i < 20; i++)
        cr_diags_add(&other, CR_DIAG_WARNING, NULL, "w", "n=%d", i);
    cr_diags_move(&d, &other);
    assert_int_equal(other.len, 0);
    assert_null(other.items);
    assert_int_equal(d.len, 24);
    assert_string_equal(d.items[23].detail, "n=19");
    cr_diags_move(&d, &d);      /* moving onto itself changes nothing */
    assert_int_equal(d.len, 24);
    cr_diags_free(&d);
    assert_int_equal(d.len, 0);
    cr_diags_free(&d);          /* double free of an emptied set is safe */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_format),
        cmocka_unit_test(test_path_copy),
        cmocka_unit_test(test_diags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
