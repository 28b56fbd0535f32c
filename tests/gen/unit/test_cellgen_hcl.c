/*
 * tests/gen/unit/test_cellgen_hcl.c — the alignment pass reproduces
 * hclwrite's layout of `=` (runs of one-line attributes, multi-line values
 * ending a run, strings, comments and heredocs not mistaken for code), and
 * values are quoted so that no user text can open a template sequence or
 * end the string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hcl.h"

static char *align(const char *in)
{
    cg_buf b = {0};
    cg_hcl_align(in, strlen(in), &b);
    return cg_buf_steal(&b);
}

static void test_alignment_runs(void **state)
{
    (void)state;
    /* Keys of any width in, hclwrite's columns out. */
    char *out = align(
        "resource \"x\" \"y\" {\n"
        "  a = 1\n"
        "  long_name = 2\n"
        "  tags         = {\n"
        "    \"k\"   = \"v\"\n"
        "  }\n"
        "  b = 3\n"
        "  cc = 4\n"
        "\n"
        "  after_blank    = 5\n"
        "  features {}\n"
        "}\n");
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

/* Comments end a run; `=` inside strings, comments and operators is not an
 * assignment; one-line brackets and interpolations balance. */
static void test_not_assignments(void **state)
{
    (void)state;
    char *out = align(
        "a = 1\n"
        "# x = 1\n"
        "bbb = \"=${a == b ? \"}\" : \"{\"}=\"\n"
        "c = { for k, v in m : k => v if v != 0 }\n"
        "dddd = [1, 2] // tail = no\n"
        "f(x = 1)\n"
        "{ \"k\" = v },\n"
        "e = x >= 1 && y <= 2\n");
    assert_string_equal(out,
        "a = 1\n"
        "# x = 1\n"
        "bbb  = \"=${a == b ? \"}\" : \"{\"}=\"\n"
        "c    = { for k, v in m : k => v if v != 0 }\n"
        "dddd = [1, 2] // tail = no\n"
        "f(x = 1)\n"
        "{ \"k\" = v },\n"
        "e = x >= 1 && y <= 2\n");
    free(out);
}

/* A heredoc or a block comment belongs to the line it opens on: the run
 * goes on after it, and what it holds is never aligned. */
static void test_heredoc_and_block_comment(void **state)
{
    (void)state;
    char *out = align(
        "a = 1\n"
        "policy = <<-EOT\n"
        "  x = 1\n"
        "  EOT\n"
        "bb = /* a\n"
        "  c = 3 */ 2\n"
        "ccc = 3\n");
    assert_string_equal(out,
        "a      = 1\n"
        "policy = <<-EOT\n"
        "  x = 1\n"
        "  EOT\n"
        "bb     = /* a\n"
        "  c = 3 */ 2\n"
        "ccc    = 3\n");
    free(out);
}

/* Already-aligned text is left as it is; so is text without a newline at
 * the end. */
static void test_idempotent(void **state)
{
    (void)state;
    const char *in = "locals {\n  x   = 1\n  yyy = 2\n}";
    char *out = align(in);
    assert_string_equal(out, in);
    char *again = align(out);
    assert_string_equal(again, in);
    free(out);
    free(again);
}

static void test_object(void **state)
{
    (void)state;
    cg_kv items[] = { { "owner", "team \"west\"" }, { "cost-center", "${x}" } };
    cg_kvlist kv = { items, 2 };
    char *o = cg_hcl_object(&kv, true);
    assert_string_equal(o, "{\n  \"owner\" = \"team \\\"west\\\"\"\n  \"cost-center\" = \"$${x}\"\n}");
    free(o);
    o = cg_hcl_object(&kv, false);
    assert_string_equal(o, "{\n  owner = \"team \\\"west\\\"\"\n  cost-center = \"$${x}\"\n}");
    free(o);
    kv.len = 0;
    o = cg_hcl_object(&kv, true);
    assert_string_equal(o, "{}");
    free(o);
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
        /* the same without the quotes, for a hole inside a string */
        char *e = cg_hcl_escape(cases[i].in);
        assert_int_equal(strlen(e), strlen(q) - 2);
        assert_memory_equal(e, q + 1, strlen(e));
        free(q);
        free(e);
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
        cmocka_unit_test(test_not_assignments),
        cmocka_unit_test(test_heredoc_and_block_comment),
        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_object),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_key),
    };
    return cmocka_run_group_tests_name("cellgen_hcl", tests, NULL, NULL);
}
