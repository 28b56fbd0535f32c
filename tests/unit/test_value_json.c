/*
 * tests/unit/test_value_json.c — the cty JSON codec (RawState.json).
 *
 * Covers exact numbers (yajl hands over each number's own text), go-cty's
 * lenient primitive conversions, missing and unknown object attributes,
 * dynamic values (members in either order), duplicate keys, lone UTF-16
 * surrogate escapes, and error positions (just past the offending token,
 * as yajl reports them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value/value.h"
#include "value/internal.h"     /* CR_VALUE_MAX_ITEMS */

static const cr_type t_map_str = { .kind = CR_TYPE_MAP, .elem = &cr_type_string };
static const cr_type t_list_num = { .kind = CR_TYPE_LIST, .elem = &cr_type_number };
static const cr_type t_set_str = { .kind = CR_TYPE_SET, .elem = &cr_type_string };
static const cr_type_attr tenant_attrs[] = {
    { "cell_id", &cr_type_string },
    { "id", &cr_type_string },
    { "labels", &t_map_str },
    { "version", &cr_type_number },
};
static const cr_type t_tenant = { .kind = CR_TYPE_OBJECT, .nattrs = 4,
                                  .attrs = tenant_attrs };
static const cr_type_attr tup_attrs[] = {
    { .type = &cr_type_bool }, { .type = &cr_type_dynamic },
};
static const cr_type t_tuple = { .kind = CR_TYPE_TUPLE, .nattrs = 2,
                                 .attrs = tup_attrs };

static cr_value *jok(const char *json, const cr_type *t)
{
    cr_diags d = CR_DIAGS_INIT;
    cr_value *v = cr_value_decode_json(json, strlen(json), t, &d);
    if (!v)
        fail_msg("%s: %s: %s", json, d.len ? d.items[0].summary : "?",
                 d.len && d.items[0].detail ? d.items[0].detail : "");
    assert_int_equal(d.len, 0);
    return v;
}

static void jerr(const char *json, const cr_type *t, const char *summary,
                 const char *detail, const char *path)
{
    cr_diags d = CR_DIAGS_INIT;
    cr_value *v = cr_value_decode_json(json, strlen(json), t, &d);
    if (v)
        fail_msg("accepted: %s", json);
    assert_int_equal(d.len, 1);
    if (!strstr(d.items[0].summary, summary))
        fail_msg("summary \"%s\" lacks \"%s\"", d.items[0].summary, summary);
    if (detail && !strstr(d.items[0].detail, detail))
        fail_msg("detail \"%s\" lacks \"%s\"", d.items[0].detail, detail);
    char *p = cr_path_format(&d.items[0].path);
    assert_string_equal(p, path);
    free(p);
    cr_diags_free(&d);
}

/* Decode, encode, expect `out` (defaults to the input). */
static void jrt(const char *json, const cr_type *t, const char *out)
{
    cr_value *v = jok(json, t);
    char *s = cr_value_encode_json(v);
    assert_non_null(s);
    assert_string_equal(s, out ? out : json);
    free(s);
    cr_value_free(v);
}

static void test_state_object(void **st)
{
    (void)st;
    const char *json = "{\"cell_id\":\"c1\",\"id\":\"t1\","
                       "\"labels\":{\"a\":\"x\",\"b\":\"y\"},\"version\":3}";
    jrt(json, &t_tenant, NULL);
    /* Whitespace, key order and escapes do not matter. */
    cr_value *v = jok("{ \"version\": 3,\n \"labels\": {\"b\":\"y\", \"a\":\"x\"},"
                      " \"id\": \"t\\u0031\", \"cell_id\": \"c1\" }", &t_tenant);
    assert_string_equal(cr_value_get_str(v, "id"), "t1");
    char *s = cr_value_encode_json(v);
    assert_string_equal(s, json);
    free(s);
    /* Same value through msgpack. */
    void *buf;
    size_t len;
    assert_int_equal(cr_value_encode_msgpack(v, &buf, &len), 0);
    cr_diags d = CR_DIAGS_INIT;
    cr_value *m = cr_value_decode_msgpack(buf, len, &t_tenant, &d);
    assert_non_null(m);
    assert_true(cr_value_equal(m, v));
    cr_value_free(m);
    free(buf);
    cr_value_free(v);
}

static void test_missing_and_unknown_attrs(void **st)
{
    (void)st;
    /* Attributes an older state lacks are null. */
    cr_value *v = jok("{\"id\":\"t1\"}", &t_tenant);
    assert_string_equal(cr_value_get_str(v, "id"), "t1");
    assert_true(cr_value_is_null(cr_value_get(v, "labels")));
    assert_true(cr_value_is_null(cr_value_get(v, "version")));
    char *s = cr_value_encode_json(v);
    assert_string_equal(s, "{\"cell_id\":null,\"id\":\"t1\",\"labels\":null,"
                        "\"version\":null}");
    free(s);
    cr_value_free(v);
    jerr("{\"id\":\"t1\",\"colour\":\"red\"}", &t_tenant,
         "unsupported attribute", "colour", "colour");
    jerr("{\"labels\":{\"a\":1.5,\"b\":[]}}", &t_tenant, "string required",
         NULL, "labels[\"b\"]");
    jerr("{\"version\":\"three\"}", &t_tenant, "number required", "three",
         "version");
    jerr("[1]", &t_tenant, "object required", NULL, "");
}

static void test_numbers_exact(void **st)
{
    (void)st;
    jrt("[0.1,18446744073709551616,-3,1.5,0]", &t_list_num, NULL);
    /* Far exponents are kept exactly and written in plain decimal, as
     * go-cty writes them. */
    jrt("[1.5e+70,-1.25e-30]", &t_list_num,
        "[15000000000000000000000000000000000000000000000000000000000000000000000,"
        "-0.00000000000000000000000000000125]");
    jrt("[1.0,1E2,-0,0.5e1]", &t_list_num, "[1,100,0,5]");
    cr_value *v = jok("[123456789012345678901234567890.000000000000000000001]",
                      &t_list_num);
    assert_string_equal(v->u.coll.items[0]->u.num.text,
                        "123456789012345678901234567890.000000000000000000001");
    cr_value_free(v);
    /* Numbers in strings are accepted for number types (cty does). */
    v = jok("[\"0.1\", \"42\"]", &t_list_num);
    assert_string_equal(v->u.coll.items[0]->u.num.text, "0.1");
    assert_true(v->u.coll.items[1]->u.num.is_int);
    cr_value_free(v);
    /* Hostile number tokens are syntax errors with a position. */
    jerr("[01]", &t_list_num, "Invalid JSON", "1:4", "");
    jerr("[1.]", &t_list_num, "Invalid JSON", "1:4: lexical error", "");
    jerr("[\n -]", &t_list_num, "Invalid JSON", "2:3", "");
    jerr("[1e]", &t_list_num, "Invalid JSON", NULL, "");
    jerr("[1.2.3]", &t_list_num, "Invalid JSON", NULL, "");
    jerr("[\"1x\"]", &t_list_num, "number required", NULL, "[0]");
    jerr("[\"Infinity\"]", &t_list_num, "number required", NULL, "[0]");
    jerr("[NaN]", &t_list_num, "Invalid JSON", NULL, "");
    jerr("[1e999999999]", &t_list_num, "number required", NULL, "[0]");
}

static void test_strings_and_conversions(void **st)
{
    (void)st;
    /* go-cty reads number and bool tokens as strings for string types. */
    cr_value *v = jok("{\"a\":12.50,\"b\":true,\"c\":\"\\u00e9\\n\\\"\"}", &t_map_str);
    assert_string_equal(cr_value_get_str(v, "a"), "12.50");
    assert_string_equal(cr_value_get_str(v, "b"), "true");
    assert_string_equal(cr_value_get_str(v, "c"), "\xc3\xa9\n\"");
    char *s = cr_value_encode_json(v);
    assert_string_equal(s, "{\"a\":\"12.50\",\"b\":\"true\",\"c\":\"\xc3\xa9\\n\\\"\"}");
    free(s);
    cr_value_free(v);
    /* Escapes are Go's (so Terraform's): HTML-safe < > &, U+2028/9,
     * \u00XX for control bytes, DEL as is. */
    v = jok("[\"<a href=\\\"x\\\">&\u2028\u2029\\u0001\x7f\"]", &t_set_str);
    s = cr_value_encode_json(v);
    assert_string_equal(s, "[\"\\u003ca href=\\\"x\\\"\\u003e\\u0026"
                           "\\u2028\\u2029\\u0001\x7f\"]");
    free(s);
    cr_value_free(v);
    /* Strings that start with NUL survive the number marker scheme. */
    v = jok("[\"\\u0000N5\", \"\\u0000\"]", &t_set_str);
    assert_int_equal(v->u.coll.len, 2);
    const cr_value *a = v->u.coll.items[0], *b = v->u.coll.items[1];
    assert_int_equal(a->u.str.len, 1);
    assert_int_equal(b->u.str.len, 3);
    assert_memory_equal(b->u.str.ptr, "\0N5", 3);
    s = cr_value_encode_json(v);
    assert_string_equal(s, "[\"\\u0000\",\"\\u0000N5\"]");
    free(s);
    cr_value_free(v);
    /* Bools accept "true"/"false" strings, nothing else. */
    static const cr_type t_list_bool = { .kind = CR_TYPE_LIST, .elem = &cr_type_bool };
    v = jok("[true,\"false\",null]", &t_list_bool);
    s = cr_value_encode_json(v);
    assert_string_equal(s, "[true,false,null]");
    free(s);
    cr_value_free(v);
    jerr("[\"yes\"]", &t_list_bool, "bool required", NULL, "[0]");
    jerr("[1]", &t_list_bool, "bool required", NULL, "[0]");
    jerr("{\"a\":{}}", &t_map_str, "string required", NULL, "[\"a\"]");
}

static void test_sets_tuples_dynamic(void **st)
{
    (void)st;
    jrt("[\"b\",\"a\",\"b\"]", &t_set_str, "[\"a\",\"b\"]");
    jerr("[\"a\",[]]", &t_set_str, "string required", NULL, "");
    jrt("[true,{\"value\":[\"x\",1],\"type\":[\"tuple\",[\"string\",\"number\"]]}]",
        &t_tuple, NULL);
    /* Key order of the dynamic wrapper does not matter on input. */
    cr_value *v = jok("[false,{\"type\":\"number\",\"value\":0.1}]", &t_tuple);
    const cr_value *dyn = v->u.coll.items[1];
    assert_int_equal(dyn->kind, CR_NUMBER);
    assert_string_equal(dyn->u.num.text, "0.1");
    /* The same value goes out through msgpack in the [type, value] form. */
    void *buf;
    size_t len;
    assert_int_equal(cr_value_encode_msgpack(v, &buf, &len), 0);
    static const unsigned char want[] = {
        0x92, 0xc2, 0x92, 0xc4, 0x08, '"', 'n', 'u', 'm', 'b', 'e', 'r', '"',
        0xa3, '0', '.', '1',
    };
    assert_int_equal(len, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    free(buf);
    cr_value_free(v);
    jerr("[true,{\"value\":1}]", &t_tuple, "invalid dynamic value", NULL, "[1]");
    jerr("[true,{\"type\":\"number\",\"value\":1,\"x\":1}]", &t_tuple,
         "invalid dynamic value", NULL, "[1]");
    jerr("[true,{\"type\":\"numbr\",\"value\":1}]", &t_tuple,
         "invalid dynamic value type", NULL, "[1]");
    jerr("[true,{\"type\":\"number\",\"value\":\"x\"}]", &t_tuple,
         "number required", NULL, "[1]");
    jerr("[true]", &t_tuple, "tuple", NULL, "");
}

static void test_syntax_errors(void **st)
{
    (void)st;
    jerr("", &t_tenant, "Invalid JSON", NULL, "");
    jerr("{", &t_tenant, "Invalid JSON", NULL, "");
    jerr("{\"id\":\"a\",\"id\":\"b\"}", &t_tenant, "Invalid JSON", "duplicate", "");
    jerr("{\"id\":\"a\"} x", &t_tenant, "Invalid JSON", NULL, "");
    /* yajl points just past the offending token. */
    cr_diags d0 = CR_DIAGS_INIT;
    assert_null(cr_value_decode_json("\"a\" 5", 5, &cr_type_string, &d0));
    assert_non_null(strstr(d0.items[0].detail,
                           "1:6: parse error: trailing garbage."));
    cr_diags_free(&d0);
    /* Positions count lines and characters of the caller's text. */
    jerr("{\"version\": 12345,\n  \"id\": tru}", &t_tenant, "Invalid JSON",
         "2:", "");
    jerr("[\"\xff\"]", &t_set_str, "Invalid JSON", NULL, "");
    /* Deep nesting is refused, not recursed into. */
    char deep[300];
    memset(deep, '[', 150);
    memset(deep + 150, ']', 150);
    cr_diags d = CR_DIAGS_INIT;
    cr_type *t = cr_type_collection(CR_TYPE_LIST, &cr_type_dynamic);
    assert_null(cr_value_decode_json(deep, sizeof deep, t, &d));
    assert_true(cr_diags_has_error(&d));
    cr_diags_free(&d);
    cr_type_free(t);
}

static void test_value_budget(void **st)
{
    (void)st;
    /* A list of CR_VALUE_MAX_ITEMS nulls plus the list itself: one value
     * too many. */
    static const cr_type t_list_str = { .kind = CR_TYPE_LIST, .elem = &cr_type_string };
    size_t n = CR_VALUE_MAX_ITEMS, len = 2 + n * 5 - 1;
    char *j = malloc(len + 1);
    assert_non_null(j);
    j[0] = '[';
    for (size_t i = 0; i < n; i++)
        memcpy(j + 1 + i * 5, i + 1 < n ? "null," : "null]", 5);
    j[len] = '\0';
    cr_diags d = CR_DIAGS_INIT;
    assert_null(cr_value_decode_json(j, len, &t_list_str, &d));
    assert_non_null(strstr(d.items[0].summary, "too many values"));
    cr_diags_free(&d);
    /* Twice the budget in tokens is refused before jansson parses them. */
    size_t n2 = 2 * (size_t)CR_VALUE_MAX_ITEMS + 1, len2 = 2 + n2 * 2 - 1;
    char *j2 = malloc(len2 + 1);
    assert_non_null(j2);
    j2[0] = '[';
    for (size_t i = 0; i < n2; i++)
        memcpy(j2 + 1 + i * 2, i + 1 < n2 ? "1," : "1]", 2);
    j2[len2] = '\0';
    assert_null(cr_value_decode_json(j2, len2, &t_list_str, &d));
    assert_non_null(strstr(d.items[0].summary, "too many values"));
    cr_diags_free(&d);
    free(j2);
    /* One fewer is accepted. */
    memcpy(j + 1 + (n - 2) * 5, "null]", 5);
    cr_value *v = cr_value_decode_json(j, len - 5, &t_list_str, &d);
    assert_non_null(v);
    assert_int_equal(v->u.coll.len, n - 1);
    cr_value_free(v);
    free(j);
}

static void test_encode_refuses(void **st)
{
    (void)st;
    cr_value *l = cr_value_collection(&t_list_num);
    cr_value_append(l, cr_value_int(1));
    cr_value_append(l, cr_value_unknown(&cr_type_number));
    assert_null(cr_value_encode_json(l));
    cr_value_free(l);
    cr_value *n = cr_value_null(&t_tenant);
    char *s = cr_value_encode_json(n);
    assert_string_equal(s, "null");
    free(s);
    cr_value_free(n);
}

/* What the streaming decoder has to get right that a tree walk gets for
 * free: keys seen twice, members of a dynamic value in either order and
 * nested, elements past a tuple's end, and escapes yajl would pass on
 * silently changed. */
static void test_streaming_edges(void **st)
{
    (void)st;
    static const cr_type t_map_dyn = { .kind = CR_TYPE_MAP,
                                       .elem = &cr_type_dynamic };
    /* A duplicated map key is named at its path. */
    jerr("{\"b\":\"1\",\"a\":\"2\",\"b\":\"3\"}", &t_map_str,
         "duplicate map key", "\"b\"", "[\"b\"]");
    /* A duplicated dynamic member is refused. */
    jerr("[true,{\"type\":\"number\",\"value\":1,\"type\":\"string\"}]",
         &t_tuple, "invalid dynamic value", "twice", "[1]");
    /* Dynamic values inside a map: value before type, type before value,
     * containers in the value, and a dynamic inside a dynamic. */
    cr_value *v = jok("{\"x\":{\"value\":{\"k\":[1,{\"a\":2}]},"
                      "\"type\":[\"object\",{\"k\":[\"tuple\",[\"number\","
                      "[\"map\",\"number\"]]]}]},"
                      "\"y\":{\"type\":\"dynamic\",\"value\":{\"value\":\"s\","
                      "\"type\":\"string\"}},"
                      "\"z\":null}", &t_map_dyn);
    assert_int_equal(v->u.coll.len, 3);
    const cr_value *x = cr_value_get(v, "x");
    assert_int_equal(x->kind, CR_OBJECT);
    const cr_value *k = cr_value_get(x, "k");
    assert_int_equal(k->kind, CR_TUPLE);
    assert_string_equal(cr_value_get(k->u.coll.items[1], "a")->u.num.text,
                        "2");
    /* "dynamic" as a type inside the wrapper: go-cty nests the wrapper. */
    const cr_value *y = cr_value_get(v, "y");
    assert_int_equal(y->kind, CR_STRING);
    assert_string_equal(y->u.str.ptr, "s");
    assert_int_equal(cr_value_get(v, "z")->kind, CR_NULL);
    cr_value_free(v);
    /* An error inside a dynamic value has the path of the value. */
    jerr("{\"x\":{\"value\":[1,\"no\"],\"type\":[\"list\",\"number\"]}}",
         &t_map_dyn, "number required", NULL, "[\"x\"][1]");
    /* A dynamic value must be the wrapper object. */
    jerr("{\"x\":[1]}", &t_map_dyn, "dynamic value", NULL, "[\"x\"]");
    /* One element too many for a tuple is refused at the tuple. */
    jerr("[true,null,3]", &t_tuple, "tuple", "required", "");
    /* Keys holding NUL cannot be C strings. */
    jerr("{\"a\\u0000b\":\"x\"}", &t_map_str, "invalid key", NULL, "");
    /* A lone surrogate escape would reach the value as '?' through yajl:
     * refused with its position instead; a proper pair decodes. */
    jerr("[\"ab\",\n\"\\ud800x\"]", &t_set_str, "Invalid JSON", "2:2", "");
    jerr("[\"\\udc00\"]", &t_set_str, "Invalid JSON", "1:3", "");
    jerr("[\"\\ud83d\\u0041\"]", &t_set_str, "Invalid JSON", NULL, "");
    v = jok("[\"\\ud83d\\ude00\", \"\\\\ud800\"]", &t_set_str);
    assert_string_equal(v->u.coll.items[0]->u.str.ptr, "\\ud800");
    assert_string_equal(v->u.coll.items[1]->u.str.ptr, "\xf0\x9f\x98\x80");
    cr_value_free(v);
    /* Nesting inside a dynamic value is bounded while it is passed over. */
    char deep[300];
    memset(deep, '[', sizeof deep);
    static const char head[] = "{\"x\":{\"type\":\"dynamic\",\"value\":";
    char *doc = malloc(sizeof head + sizeof deep);
    assert_non_null(doc);
    memcpy(doc, head, sizeof head - 1);
    memcpy(doc + sizeof head - 1, deep, sizeof deep);
    cr_diags d = CR_DIAGS_INIT;
    assert_null(cr_value_decode_json(doc, sizeof head - 1 + sizeof deep,
                                     &t_map_dyn, &d));
    assert_non_null(strstr(d.items[0].summary, "nesting too deep"));
    cr_diags_free(&d);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_object),
        cmocka_unit_test(test_missing_and_unknown_attrs),
        cmocka_unit_test(test_numbers_exact),
        cmocka_unit_test(test_strings_and_conversions),
        cmocka_unit_test(test_sets_tuples_dynamic),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_value_budget),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_streaming_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
