/*
 * tests/gen/unit/test_cellgen_hcl.c — the HCL writer reproduces hclwrite's
 * layout (alignment runs, indentation, empty blocks) and quotes strings so
 * that no user text can open a template sequence or end the string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diff.h"
#include "hcl.h"

static void test_alignment_runs(void **state)
{
    (void)state;
    cg_hcl h = {0};
    cg_hcl_open(&h, "resource \"x\" \"y\"");
    cg_hcl_attr(&h, "a", "1");
    cg_hcl_attr(&h, "long_name", "2");
    /* a multi-line value ends the run and is not aligned itself */
    cg_hcl_open(&h, "tags =");
    cg_hcl_attr(&h, "\"k\"", "\"v\"");
    cg_hcl_close(&h, "}");
    cg_hcl_attr(&h, "b", "3");
    cg_hcl_attr(&h, "cc", "4");
    cg_hcl_blank(&h);
    cg_hcl_attr(&h, "after_blank", "5");
    cg_hcl_empty_block(&h, "features");
    cg_hcl_close(&h, "}");
    char *out = cg_hcl_finish(&h);
    assert_string_equal(out,
        "resource \"x\" \"y\" {\n"
        "  a         = 1\n"
        "  long_name = 2\n"
        "  tags = {\n"
        "    \"k\" = \"v\"\n"
        "  }\n"
        "  b  = 3\n"
        "  cc = 4\n"
        "\n"
        "  after_blank = 5\n"
        "  features {}\n"
        "}\n");
    free(out);
}

/* cg_hcl_block1 is a block of one aligned attribute, and cg_hcl_end leaves
 * the blank line that separates blocks; neither joins an alignment run. */
static void test_block_helpers(void **state)
{
    (void)state;
    cg_hcl h = {0};
    cg_hcl_open(&h, "resource \"x\" \"y\"");
    cg_hcl_attr(&h, "name", "\"n\"");
    cg_hcl_block1(&h, "identity", "type", "\"SystemAssigned\"");
    cg_hcl_attr(&h, "a_longer_key", "1");
    cg_hcl_end(&h);
    cg_hcl_open(&h, "resource \"x\" \"z\"");
    cg_hcl_close(&h, "}");
    char *out = cg_hcl_finish(&h);
    assert_string_equal(out,
        "resource \"x\" \"y\" {\n"
        "  name = \"n\"\n"
        "  identity {\n"
        "    type = \"SystemAssigned\"\n"
        "  }\n"
        "  a_longer_key = 1\n"
        "}\n"
        "\n"
        "resource \"x\" \"z\" {\n"
        "}\n");
    free(out);
}

static void test_comments_end_runs(void **state)
{
    (void)state;
    cg_hcl h = {0};
    cg_hcl_attr(&h, "a", "1");
    cg_hcl_comment(&h, "two\n\nlines");
    cg_hcl_attr(&h, "bbb", "2");
    char *out = cg_hcl_finish(&h);
    assert_string_equal(out, "a = 1\n# two\n#\n# lines\nbbb = 2\n");
    free(out);
}

static void test_quote(void **state)
{
    (void)state;
    const struct { const char *in, *out; } cases[] = {
        { "plain", "\"plain\"" },
        { "say \"hi\"", "\"say \\\"hi\\\"\"" },
        { "back\\slash", "\"back\\\\slash\"" },
        { "${var.x}", "\"$${var.x}\"" },
        { "%{ if true }", "\"%%{ if true }\"" },
        { "$5 and 100%", "\"$5 and 100%\"" },
        { "line\nbreak\t\x01", "\"line\\nbreak\\t\\u0001\"" },
        { "h\xc3\xa9", "\"h\xc3\xa9\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *q = cg_hcl_quote(cases[i].in);
        assert_string_equal(q, cases[i].out);
        free(q);
    }
}

static void test_key(void **state)
{
    (void)state;
    char *k = cg_hcl_key("billing");
    assert_string_equal(k, "billing");
    free(k);
    k = cg_hcl_key("true");
    assert_string_equal(k, "\"true\"");
    free(k);
    k = cg_hcl_key("9lives");
    assert_string_equal(k, "\"9lives\"");
    free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_runs),
        cmocka_unit_test(test_comments_end_runs),
        cmocka_unit_test(test_block_helpers),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_key),
    };
    return cmocka_run_group_tests_name("cellgen_hcl", tests, NULL, NULL);
}
