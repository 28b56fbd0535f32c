/*
 * tests/gen/unit/test_cellgen_template.c — the one substitution rule of
 * gen/templates/README.md: holes, whole words only, multi-line values
 * indented like their line, `for`/`end` blocks in every comment syntax,
 * nested and conditional blocks, inner names before outer ones, and an error
 * naming the template and line for every way a template and its values can
 * disagree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "template.h"

/* Renders text as template "t/x.tf"; returns the output or, when rendering
 * fails, "ERROR: " and the message. */
static char *render(const char *text, const cg_tpl_vars *v)
{
    cg_tpl t = { "t/x.tf", text, strlen(text) };
    cg_buf b = {0};
    char *err = NULL;
    if (cg_tpl_render(&t, v, &b, &err) != 0) {
        cg_buf_free(&b);
        char *r = cg_xasprintf("ERROR: %s", err);
        free(err);
        return r;
    }
    return cg_buf_steal(&b);
}

static void expect(const char *text, const cg_tpl_vars *v, const char *want)
{
    char *got = render(text, v);
    assert_string_equal(got, want);
    free(got);
}

static void test_holes(void **state)
{
    (void)state;
    cg_tpl_vars *v = cg_tpl_vars_new();
    cg_tpl_set(v, "system", "shop");
    cg_tpl_setf(v, "count", "%d", 3);
    cg_tpl_set(v, "region_alias", "us_east_1");
    expect("name = \"__system__-edge\"\nn = __count__\naws = aws.__region_alias__\n", v,
           "name = \"shop-edge\"\nn = 3\naws = aws.us_east_1\n");
    /* Not holes: part of a longer word, upper case, double underscores
     * inside, too short, no closing pair. */
    const char *same = "Host__system__x __Sys__ __a__b__ ____ __system _system_ x__system__\n";
    expect(same, v, same);
    /* no newline at the end stays so */
    expect("__system__", v, "shop");
    cg_tpl_vars_free(v);
}

static void test_multiline_value_indent(void **state)
{
    (void)state;
    cg_tpl_vars *v = cg_tpl_vars_new();
    cg_tpl_set(v, "tags", "{\n  \"a\" = \"b\"\n\n}");
    expect("x {\n    tags = __tags__\n}\n", v, "x {\n    tags = {\n      \"a\" = \"b\"\n\n    }\n}\n");
    cg_tpl_vars_free(v);
}

static void test_blocks(void **state)
{
    (void)state;
    cg_tpl_vars *v = cg_tpl_vars_new();
    cg_tpl_set(v, "system", "shop");
    cg_tpl_set(v, "id", "outer");
    for (int i = 1; i <= 2; i++) {
        cg_tpl_vars *c = cg_tpl_item(v, "cells");
        cg_tpl_setf(c, "id", "c%d", i);
        cg_tpl_when(c, "aws", i == 1);
        cg_tpl_set(cg_tpl_item(c, "regions"), "r", "r1");
        if (i == 2) cg_tpl_set(cg_tpl_item(c, "regions"), "r", "r2");
    }
    cg_tpl_list(v, "none");
    /* The item's id hides the outer one; system is still seen; blocks nest;
     * a list of no items writes nothing; the marker lines vanish. */
    expect("# __id__\n"
           "# for __cells__\n"
           "cell __id__ of __system__\n"
           "  # for __aws__\n"
           "  aws __id__\n"
           "  # end __aws__\n"
           "  // for __regions__\n"
           "  region __r__\n"
           "  // end __regions__\n"
           "# end __cells__\n"
           "<!-- for __none__ -->\n"
           "never\n"
           "<!-- end __none__ -->\n"
           "done\n",
           v,
           "# outer\n"
           "cell c1 of shop\n"
           "  aws c1\n"
           "  region r1\n"
           "cell c2 of shop\n"
           "  region r1\n"
           "  region r2\n"
           "done\n");
    /* A comment that only looks like a marker is text. */
    expect("# for cells\n# for __system__ now\n", v, "# for cells\n# for shop now\n");
    cg_tpl_vars_free(v);
}

static void test_errors(void **state)
{
    (void)state;
    cg_tpl_vars *v = cg_tpl_vars_new();
    cg_tpl_set(v, "text", "x");
    cg_tpl_list(v, "items");
    expect("a\n__nope__\n", v, "ERROR: gen/templates/t/x.tf:2: no value for __nope__");
    expect("__items__\n", v,
           "ERROR: gen/templates/t/x.tf:1: __items__ is a list: repeat lines for each item with "
           "`for __items__` ... `end __items__`");
    expect("# for __text__\n# end __text__\n", v, "ERROR: gen/templates/t/x.tf:1: __text__ is a text, not a list");
    expect("# for __nope__\n# end __nope__\n", v, "ERROR: gen/templates/t/x.tf:1: no list __nope__");
    expect("x\n# for __items__\n", v, "ERROR: gen/templates/t/x.tf:2: `for __items__` has no `end __items__`");
    expect("# end __items__\n", v, "ERROR: gen/templates/t/x.tf:1: `end __items__` closes no `for __items__`");
    expect("# for __items__\n# for __text__\n# end __items__\n# end __text__\n", v,
           "ERROR: gen/templates/t/x.tf:3: `end __items__` closes no `for __items__`");
    /* A block of no items is not rendered, so its holes are checked only
     * where it has items: the golden spec gives every block one at least
     * (tests/gen/golden/spec.yaml). */
    expect("# for __items__\n__nope__\n# end __items__\n", v, "");
    cg_tpl_vars_free(v);
}

/* Every embedded template renders with the values cellgen gives it: this
 * is also checked through cg_generate, but here a failure names the file. */
static void test_embedded_table(void **state)
{
    (void)state;
    assert_true(cg_tpl_count >= 10);
    for (size_t i = 0; i < cg_tpl_count; i++) {
        assert_int_equal(strlen(cg_tpl_all[i].text), cg_tpl_all[i].len);
        if (i) assert_true(strcmp(cg_tpl_all[i - 1].path, cg_tpl_all[i].path) < 0);
        assert_true(!strncmp(cg_tpl_all[i].path, "modules/", 8) || !strncmp(cg_tpl_all[i].path, "root/", 5) ||
                    !strncmp(cg_tpl_all[i].path, "ci/", 3));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_holes),
        cmocka_unit_test(test_multiline_value_indent),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_embedded_table),
    };
    return cmocka_run_group_tests_name("cellgen_template", tests, NULL, NULL);
}
