/*
 * tests/unit/test_value.c — the cty value model and its MessagePack codec.
 *
 * Byte strings are written as hex so each case reads like the protocol
 * sheet it comes from; every decode is checked both for the value and, on
 * failure, for the diagnostic's summary and attribute path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value/value.h"
#include "value/internal.h"     /* CR_VALUE_MAX_ITEMS */

/* ---- helpers ------------------------------------------------------------------ */

static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = hex; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        assert_int_equal(sscanf(p, "%2x", &v), 1);
        assert_true(n < cap);
        out[n++] = (unsigned char)v;
        p += 2;
    }
    return n;
}

static char *tohex(const void *buf, size_t len)
{
    char *s = malloc(len * 3 + 1);
    assert_non_null(s);
    s[0] = '\0';
    for (size_t i = 0; i < len; i++)
        sprintf(s + strlen(s), i ? " %02x" : "%02x", ((const unsigned char *)buf)[i]);
    return s;
}

/* Decodes hex against t; must succeed with no diagnostics. */
static cr_value *dec_ok(const char *hex, const cr_type *t)
{
    unsigned char buf[4096];
    size_t n = unhex(hex, buf, sizeof buf);
    cr_diags d = CR_DIAGS_INIT;
    cr_value *v = cr_value_decode_msgpack(buf, n, t, &d);
    if (!v && d.len)
        fprintf(stderr, "unexpected error: %s: %s\n", d.items[0].summary,
                d.items[0].detail ? d.items[0].detail : "");
    assert_non_null(v);
    assert_int_equal(d.len, 0);
    cr_diags_free(&d);
    return v;
}

/* Decodes hex against t; must fail with one error whose summary contains
 * `summary` and whose path renders as `path`. */
static void dec_err(const char *hex, const cr_type *t, const char *summary,
                    const char *path)
{
    unsigned char buf[4096];
    size_t n = unhex(hex, buf, sizeof buf);
    cr_diags d = CR_DIAGS_INIT;
    cr_value *v = cr_value_decode_msgpack(buf, n, t, &d);
    assert_null(v);
    assert_int_equal(d.len, 1);
    assert_true(cr_diags_has_error(&d));
    if (!strstr(d.items[0].summary, summary))
        fail_msg("summary \"%s\" lacks \"%s\"", d.items[0].summary, summary);
    char *p = cr_path_format(&d.items[0].path);
    assert_string_equal(p, path);
    free(p);
    cr_diags_free(&d);
}

static void enc_is(const cr_value *v, const char *hex)
{
    void *out;
    size_t len;
    assert_int_equal(cr_value_encode_msgpack(v, &out, &len), 0);
    char *got = tohex(out, len);
    assert_string_equal(got, hex);
    free(got);
    free(out);
}

/* Decode, re-encode, compare bytes. */
static void roundtrip(const char *hex, const cr_type *t)
{
    cr_value *v = dec_ok(hex, t);
    enc_is(v, hex);
    cr_value_free(v);
}

/* ---- static test types ----------------------------------------------------------- */

static const cr_type t_list_str = { .kind = CR_TYPE_LIST, .elem = &cr_type_string };
static const cr_type t_set_num  = { .kind = CR_TYPE_SET, .elem = &cr_type_number };
static const cr_type t_map_str  = { .kind = CR_TYPE_MAP, .elem = &cr_type_string };
static const cr_type_attr tup_attrs[] = {
    { .type = &cr_type_string }, { .type = &cr_type_number },
};
static const cr_type t_tuple = { .kind = CR_TYPE_TUPLE, .nattrs = 2,
                                 .attrs = tup_attrs };
static const cr_type_attr res_attrs[] = {
    { "id", &cr_type_string },
    { "name", &cr_type_string },
    { "size", &cr_type_number },
};
static const cr_type t_res = { .kind = CR_TYPE_OBJECT, .nattrs = 3,
                               .attrs = res_attrs };
static const cr_type_attr outer_attrs[] = {
    { "labels", &t_map_str },
    { "tags", &t_list_str },
};
static const cr_type t_outer = { .kind = CR_TYPE_OBJECT, .nattrs = 2,
                                 .attrs = outer_attrs };
static const cr_type_attr dyn_attrs[] = { { "v", &cr_type_dynamic } };
static const cr_type t_dynobj = { .kind = CR_TYPE_OBJECT, .nattrs = 1,
                                  .attrs = dyn_attrs };

/* ---- protocol sheet examples (§5.7) ---------------------------------------------- */

static void test_sheet_object(void **s)
{
    (void)s;
    const char *hex = "83 a2 69 64 d4 00 00 a4 6e 61 6d 65 a1 78 a4 73 69 7a 65 c0";
    cr_value *v = dec_ok(hex, &t_res);
    assert_int_equal(v->kind, CR_OBJECT);
    assert_true(cr_value_is_unknown(cr_value_get(v, "id")));
    assert_string_equal(cr_value_get_str(v, "name"), "x");
    assert_true(cr_value_is_null(cr_value_get(v, "size")));
    assert_false(cr_value_is_wholly_known(v));
    enc_is(v, hex);
    cr_value_free(v);
}

static void test_sheet_refined_unknown(void **s)
{
    (void)s;
    cr_value *v = dec_ok("c7 07 0c 82 01 c2 02 a2 61 62", &cr_type_string);
    assert_int_equal(v->kind, CR_UNKNOWN);
    assert_true(v->u.unk.not_null);
    assert_string_equal(v->u.unk.prefix, "ab");
    /* Refinements are dropped on the way out. */
    enc_is(v, "d4 00 00");
    cr_value_free(v);
}

static void test_sheet_dynamic(void **s)
{
    (void)s;
    const char *hex = "92 c4 08 22 73 74 72 69 6e 67 22 a2 68 69";
    cr_value *v = dec_ok(hex, &cr_type_dynamic);
    assert_int_equal(v->kind, CR_STRING);
    assert_int_equal(v->type->kind, CR_TYPE_STRING);
    assert_string_equal(v->u.str.ptr, "hi");
    /* Alone, the value encodes as its own type; inside a dynamic attribute
     * it gets the [type, value] wrapper back. */
    enc_is(v, "a2 68 69");
    void *buf;
    size_t len;
    assert_int_equal(cr_value_encode_msgpack_as(v, &cr_type_dynamic, &buf, &len), 0);
    char *got = tohex(buf, len);
    assert_string_equal(got, hex);
    free(got);
    free(buf);
    char *js = cr_value_encode_json_as(v, &cr_type_dynamic);
    assert_string_equal(js, "{\"value\":\"hi\",\"type\":\"string\"}");
    free(js);
    cr_value *o = cr_value_object(&t_dynobj);
    assert_int_equal(cr_value_object_set(o, "v", v), 0);
    enc_is(o, "81 a1 76 92 c4 08 22 73 74 72 69 6e 67 22 a2 68 69");
    cr_value_free(o);
}

static void test_sheet_numbers(void **s)
{
    (void)s;
    roundtrip("cb 3f f8 00 00 00 00 00 00", &cr_type_number);
    roundtrip("2a", &cr_type_number);
    roundtrip("ff", &cr_type_number);
    cr_value *v = dec_ok("cb 3f f8 00 00 00 00 00 00", &cr_type_number);
    assert_string_equal(v->u.num.text, "1.5");
    cr_value_free(v);
}

/* ---- numbers ----------------------------------------------------------------------- */

static void check_num(const char *hex, const char *text, const char *reenc)
{
    cr_value *v = dec_ok(hex, &cr_type_number);
    assert_int_equal(v->kind, CR_NUMBER);
    assert_string_equal(v->u.num.text, text);
    enc_is(v, reenc);
    cr_value_free(v);
}

static void test_numbers_widths(void **s)
{
    (void)s;
    check_num("00", "0", "00");
    check_num("7f", "127", "7f");
    check_num("cc 80", "128", "cc 80");
    check_num("cd 01 00", "256", "cd 01 00");
    check_num("ce 00 01 00 00", "65536", "ce 00 01 00 00");
    check_num("cf 00 00 00 01 00 00 00 00", "4294967296",
              "cf 00 00 00 01 00 00 00 00");
    /* Non-compact input is accepted and re-encoded compactly. */
    check_num("cf 00 00 00 00 00 00 00 05", "5", "05");
    check_num("d0 e0", "-32", "e0");
    check_num("d0 80", "-128", "d0 80");
    check_num("d1 80 00", "-32768", "d1 80 00");
    check_num("d2 80 00 00 00", "-2147483648", "d2 80 00 00 00");
    check_num("d3 80 00 00 00 00 00 00 00", "-9223372036854775808",
              "d3 80 00 00 00 00 00 00 00");
    /* uint64 max is not an int64 nor a float64: cty writes it as text. */
    check_num("cf ff ff ff ff ff ff ff ff", "18446744073709551615",
              "b4 31 38 34 34 36 37 34 34 30 37 33 37 30 39 35 35 31 36 31 35");
    /* 2^63 is exactly a double, but go-cty (since 1.13) writes integers
     * beyond int64 as text, never as a float64. */
    check_num("cf 80 00 00 00 00 00 00 00", "9223372036854775808",
              "b3 39 32 32 33 33 37 32 30 33 36 38 35 34 37 37 35 38 30 38");
    /* A float64 holding a huge integer comes back as its digits. */
    check_num("cb 44 10 00 00 00 00 00 00", "73786976294838206464",
              "b4 37 33 37 38 36 39 37 36 32 39 34 38 33 38 32 30 36 34 36 34");
    check_num("cb c6 40 00 00 00 00 00 00", "-2535301200456458802993406410752",
              "d9 20 2d 32 35 33 35 33 30 31 32 30 30 34 35 36 34 35 38 38 30"
              " 32 39 39 33 34 30 36 34 31 30 37 35 32");
    /* 2^220 is a double too, and an integer whose canonical text is
     * scientific (67 digits): still text, in plain digits. */
    cr_value *v = cr_value_number("1684996666696914987166688442938726917102321526408785780068975640576");
    assert_non_null(strchr(v->u.num.text, 'e'));
    enc_is(v, "d9 43 "
              "31 36 38 34 39 39 36 36 36 36 36 39 36 39 31 34 39 38 37 31 "
              "36 36 36 38 38 34 34 32 39 33 38 37 32 36 39 31 37 31 30 32 "
              "33 32 31 35 32 36 34 30 38 37 38 35 37 38 30 30 36 38 39 37 "
              "35 36 34 30 35 37 36");
    cr_value_free(v);
    v = dec_ok("d3 80 00 00 00 00 00 00 00", &cr_type_number);
    assert_true(v->u.num.is_int);
    assert_true(v->u.num.i == INT64_MIN);
    cr_value_free(v);
}

static void test_numbers_text(void **s)
{
    (void)s;
    /* "0.1" stays "0.1": no double on the way. */
    check_num("a3 30 2e 31", "0.1", "a3 30 2e 31");
    /* 2^64 stays text (as the protocol sheet says), and so does 2^64+1. */
    check_num("b4 31 38 34 34 36 37 34 34 30 37 33 37 30 39 35 35 31 36 31 36",
              "18446744073709551616",
              "b4 31 38 34 34 36 37 34 34 30 37 33 37 30 39 35 35 31 36 31 36");
    check_num("b4 31 38 34 34 36 37 34 34 30 37 33 37 30 39 35 35 31 36 31 37",
              "18446744073709551617",
              "b4 31 38 34 34 36 37 34 34 30 37 33 37 30 39 35 35 31 36 31 37");
    /* A decimal string that is an int64 or exact double re-encodes as one. */
    check_num("a2 34 32", "42", "2a");
    check_num("a3 31 2e 35", "1.5", "cb 3f f8 00 00 00 00 00 00");
    check_num("a4 2d 31 2e 30", "-1", "ff");
    /* float32 1.5 widens exactly. */
    check_num("ca 3f c0 00 00", "1.5", "cb 3f f8 00 00 00 00 00 00");
    /* The float64 nearest 0.1 is a different number from 0.1. */
    cr_value *v = dec_ok("cb 3f b9 99 99 99 99 99 9a", &cr_type_number);
    assert_string_equal(v->u.num.text,
        "0.1000000000000000055511151231257827021181583404541015625");
    enc_is(v, "cb 3f b9 99 99 99 99 99 9a");
    cr_value *tenth = cr_value_number("0.1");
    assert_false(cr_value_equal(v, tenth));
    cr_value_free(v);
    cr_value_free(tenth);
    /* Scientific canonical text goes out in go-cty's plain spelling. */
    v = cr_value_number("-1.25e-30");
    assert_string_equal(v->u.num.text, "-1.25e-30");
    enc_is(v, "d9 23 2d 30 2e 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30"
              " 30 30 30 30 30 30 30 30 30 30 30 30 30 31 32 35");
    cr_value_free(v);
    /* Infinities are float64 both ways. */
    check_num("cb 7f f0 00 00 00 00 00 00", "+Inf", "cb 7f f0 00 00 00 00 00 00");
    check_num("cb ff f0 00 00 00 00 00 00", "-Inf", "cb ff f0 00 00 00 00 00 00");
    v = dec_ok("cb 7f f0 00 00 00 00 00 00", &cr_type_number);
    assert_true(isinf(v->u.num.f) && v->u.num.f > 0);
    assert_null(cr_value_encode_json(v));
    cr_value_free(v);
}

static void test_numbers_canonical(void **s)
{
    (void)s;
    static const struct { const char *in, *out; } cases[] = {
        { "0", "0" }, { "-0", "0" }, { "+7", "7" }, { "007", "7" },
        { "1.0", "1" }, { "1.50", "1.5" }, { "5.", "5" }, { ".5", "0.5" },
        { "1e3", "1000" }, { "1E+3", "1000" }, { "12.5e-1", "1.25" },
        { "0.000001", "0.000001" }, { "-0.00100", "-0.001" },
        { "1e+400", "1e+400" }, { "1e-400", "1e-400" },
        { "123456789012345678901234567890", "123456789012345678901234567890" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_value *v = cr_value_number(cases[i].in);
        assert_non_null(v);
        if (strcmp(v->u.num.text, cases[i].out))
            fail_msg("%s -> %s, want %s", cases[i].in, v->u.num.text,
                     cases[i].out);
        cr_value_free(v);
    }
    static const char *bad[] = {
        "", "-", ".", "e5", "1e", "1e+", "abc", "NaN", "nan", "Inf",
        "+Inf", "0x10", "1_000", " 1", "1 ", "1.2.3", "--1", "1e99999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_value *v = cr_value_number(bad[i]);
        if (v)
            fail_msg("\"%s\" accepted as %s", bad[i], v->u.num.text);
    }
    /* Numbers compare by value. */
    cr_value *a = cr_value_number("1.0"), *b = cr_value_int(1);
    assert_true(cr_value_equal(a, b));
    assert_true(a->u.num.is_int && a->u.num.i == 1);
    cr_value_free(a);
    cr_value_free(b);
    a = cr_value_number("1e+400");
    assert_true(isinf(a->u.num.f));
    assert_false(a->u.num.is_int);
    cr_value_free(a);
}

static void test_numbers_locale(void **s)
{
    (void)s;
    /* A decimal-comma locale in the process changes nothing. Debian
     * installs no such locale by default, so one is compiled into a
     * scratch directory (glibc reads LOCPATH); skipped, visibly, where
     * localedef or the locale sources are missing. */
    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8")) {
        char dir[] = "/tmp/cr-locale-XXXXXX", cmd[256];
        assert_non_null(mkdtemp(dir));
        snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 "
                 ">/dev/null 2>&1", dir);
        int rc = system(cmd);
        setenv("LOCPATH", dir, 1);
        const char *ok = rc == 0 ? setlocale(LC_NUMERIC, "de_DE.UTF-8") : NULL;
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        if (!ok)
            skip();
    }
    char probe[16];
    snprintf(probe, sizeof probe, "%.1f", 1.5);
    assert_string_equal(probe, "1,5");     /* the locale really is active */
    check_num("cb 3f f8 00 00 00 00 00 00", "1.5", "cb 3f f8 00 00 00 00 00 00");
    cr_value *v = cr_value_number("2.25");
    assert_true(v->u.num.f == 2.25);
    cr_value_free(v);
    setlocale(LC_NUMERIC, "C");
}

static void test_numbers_bad(void **s)
{
    (void)s;
    dec_err("a3 61 62 63", &cr_type_number, "number required", "");
    dec_err("cb 7f f8 00 00 00 00 00 00", &cr_type_number, "number required", "");
    dec_err("c3", &cr_type_number, "number required", "");
    dec_err("c4 01 31", &cr_type_number, "number required", "");
}

/* ---- every type -------------------------------------------------------------------- */

static void test_primitives(void **s)
{
    (void)s;
    roundtrip("c0", &cr_type_string);
    roundtrip("a0", &cr_type_string);
    roundtrip("c3", &cr_type_bool);
    roundtrip("c2", &cr_type_bool);
    roundtrip("d4 00 00", &cr_type_bool);
    /* bin is accepted for strings and written back as str. */
    cr_value *v = dec_ok("c4 02 68 69", &cr_type_string);
    assert_string_equal(v->u.str.ptr, "hi");
    enc_is(v, "a2 68 69");
    cr_value_free(v);
    /* str8 with a 40-byte string keeps its length exactly. */
    char hex[256] = "d9 28";
    for (int i = 0; i < 40; i++)
        strcat(hex, " 61");
    roundtrip(hex, &cr_type_string);
    /* Empty input is null. */
    cr_diags d = CR_DIAGS_INIT;
    v = cr_value_decode_msgpack("", 0, &t_res, &d);
    assert_non_null(v);
    assert_true(cr_value_is_null(v));
    assert_int_equal(d.len, 0);
    cr_value_free(v);
}

static void test_collections(void **s)
{
    (void)s;
    roundtrip("92 a1 61 a1 62", &t_list_str);
    roundtrip("90", &t_list_str);
    roundtrip("92 c0 d4 00 00", &t_list_str);
    roundtrip("82 a1 61 a1 78 a1 62 a1 79", &t_map_str);
    roundtrip("80", &t_map_str);
    roundtrip("92 a1 61 2a", &t_tuple);
    /* Map keys come out sorted whatever order they came in. */
    cr_value *m = dec_ok("82 a1 62 a1 79 a1 61 a1 78", &t_map_str);
    assert_string_equal(m->u.coll.keys[0], "a");
    assert_string_equal(cr_value_get_str(m, "b"), "y");
    enc_is(m, "82 a1 61 a1 78 a1 62 a1 79");
    cr_value_free(m);
    /* Sets merge duplicates (numbers by value) and ignore order. */
    cr_value *a = dec_ok("94 03 01 a1 31 02", &t_set_num);
    assert_int_equal(a->u.coll.len, 3);
    cr_value *b = dec_ok("93 02 03 01", &t_set_num);
    assert_true(cr_value_equal(a, b));
    cr_value_free(b);
    b = dec_ok("92 02 03", &t_set_num);
    assert_false(cr_value_equal(a, b));
    cr_value_free(b);
    cr_value_free(a);
    /* Unknown set elements are never merged. */
    a = dec_ok("92 d4 00 00 d4 00 00", &t_set_num);
    assert_int_equal(a->u.coll.len, 2);
    cr_value_free(a);
    /* Nested: object of map and list, attribute order from the type. */
    roundtrip("82 a6 6c 61 62 65 6c 73 81 a4 74 65 61 6d a1 61"
              " a4 74 61 67 73 91 a1 78", &t_outer);
}

/* A decoded map keeps its arrays and key text in its own block and an
 * object's keys are its type's names: the public operations must still
 * work on such values (growing, replacing, copying, freeing) and must give
 * the same results as on values built one call at a time. */
static void test_decoded_layout(void **s)
{
    (void)s;
    /* Unsorted keys: sorted in place, values follow their keys. */
    cr_value *m = dec_ok("83 a1 63 a1 7a a1 61 a1 78 a1 62 a1 79", &t_map_str);
    assert_int_equal(m->u.coll.len, 3);
    assert_string_equal(m->u.coll.keys[0], "a");
    assert_string_equal(m->u.coll.keys[2], "c");
    assert_string_equal(cr_value_get_str(m, "c"), "z");
    /* Replacing an entry, then growing past the block's arrays. */
    assert_int_equal(cr_value_map_put(m, "b", cr_value_string("Y")), 0);
    assert_int_equal(cr_value_map_put(m, "bb", cr_value_string("w")), 0);
    assert_int_equal(cr_value_map_put(m, "0", cr_value_string("v")), 0);
    assert_int_equal(m->u.coll.len, 5);
    assert_string_equal(m->u.coll.keys[0], "0");
    assert_string_equal(m->u.coll.keys[3], "bb");
    assert_string_equal(cr_value_get_str(m, "a"), "x");
    assert_string_equal(cr_value_get_str(m, "b"), "Y");
    cr_value *built = cr_value_collection(&t_map_str);
    static const char *kv[][2] = {
        { "c", "z" }, { "0", "v" }, { "bb", "w" }, { "a", "x" }, { "b", "Y" },
    };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(cr_value_map_put(built, kv[i][0],
                                          cr_value_string(kv[i][1])), 0);
    assert_true(cr_value_equal(m, built));
    enc_is(m, "85 a1 30 a1 76 a1 61 a1 78 a1 62 a1 59 a2 62 62 a1 77"
              " a1 63 a1 7a");
    cr_value *c = cr_value_copy(m);
    assert_true(cr_value_equal(c, built));
    cr_value_free(c);
    cr_value_free(built);
    cr_value_free(m);
    /* An empty decoded map grows too. */
    m = dec_ok("80", &t_map_str);
    assert_int_equal(cr_value_map_put(m, "k", cr_value_string("v")), 0);
    enc_is(m, "81 a1 6b a1 76");
    cr_value_free(m);

    /* Objects: keys are the type's names, in every way of making one. */
    cr_value *o = dec_ok("83 a4 73 69 7a 65 2a a2 69 64 a1 61"
                         " a4 6e 61 6d 65 c0", &t_res);
    cr_value *e = cr_value_object(&t_res);
    c = cr_value_copy(o);
    for (size_t i = 0; i < 3; i++) {
        assert_ptr_equal(o->u.coll.keys[i], res_attrs[i].name);
        assert_ptr_equal(e->u.coll.keys[i], res_attrs[i].name);
        assert_ptr_equal(c->u.coll.keys[i], res_attrs[i].name);
    }
    assert_string_equal(cr_value_get_str(o, "id"), "a");
    assert_int_equal(cr_value_get(o, "size")->u.num.i, 42);
    assert_true(cr_value_is_null(cr_value_get(o, "name")));
    assert_int_equal(cr_value_object_set(c, "name", cr_value_string("n")), 0);
    assert_false(cr_value_equal(o, c));
    assert_int_equal(cr_value_object_set(o, "name", cr_value_string("n")), 0);
    assert_true(cr_value_equal(o, c));
    assert_int_equal(cr_value_object_set(e, "id", cr_value_string("a")), 0);
    assert_int_equal(cr_value_object_set(e, "name", cr_value_string("n")), 0);
    assert_int_equal(cr_value_object_set(e, "size", cr_value_int(42)), 0);
    assert_true(cr_value_equal(o, e));
    enc_is(e, "83 a2 69 64 a1 61 a4 6e 61 6d 65 a1 6e a4 73 69 7a 65 2a");
    cr_value_free(e);
    cr_value_free(c);
    cr_value_free(o);

    /* Integers of every msgpack width come out as the same number. */
    cr_value *big = dec_ok("cf ff ff ff ff ff ff ff ff", &cr_type_number);
    assert_string_equal(big->u.num.text, "18446744073709551615");
    assert_false(big->u.num.is_int);
    cr_value *neg = dec_ok("d3 80 00 00 00 00 00 00 00", &cr_type_number);
    assert_true(neg->u.num.is_int);
    assert_true(neg->u.num.i == INT64_MIN);
    assert_string_equal(neg->u.num.text, "-9223372036854775808");
    cr_value *nc = cr_value_copy(neg);
    assert_true(cr_value_equal(nc, neg));
    assert_string_equal(nc->u.num.text, neg->u.num.text);
    cr_value_free(nc);
    cr_value_free(neg);
    cr_value_free(big);

    /* Leaves live in their container's block; a dynamic attribute's
     * run-time type is still released with its last value. */
    cr_value *dyn = dec_ok("81 a1 76 92 c4 10 5b 22 6d 61 70 22 2c 22 6e 75"
                           " 6d 62 65 72 22 5d 82 a1 61 01 a1 62 c0",
                           &t_dynobj);
    const cr_value *dm = cr_value_get(dyn, "v");
    assert_int_equal(dm->kind, CR_MAP);
    assert_int_equal(cr_value_get(dm, "a")->u.num.i, 1);
    assert_true(cr_value_is_null(cr_value_get(dm, "b")));
    cr_value *dc = cr_value_copy(dyn);
    cr_value_free(dyn);
    assert_int_equal(cr_value_get(cr_value_get(dc, "v"), "a")->u.num.i, 1);
    cr_value_free(dc);

    /* Errors come in input order whatever the decoder's passes. */
    dec_err("82 a1 61 2a 01 a1 78", &t_map_str, "string required",
            "[\"a\"]");
    dec_err("82 01 a1 78 a1 61 2a", &t_map_str, "string keys required", "");
    dec_err("82 a2 69 64 2a a5 65 78 74 72 61 c0", &t_res, "string required",
            "id");
    dec_err("82 a5 65 78 74 72 61 c0 a2 69 64 2a", &t_res,
            "unsupported attribute", "extra");
    dec_err("81 a1 61 a2 c3 28", &t_map_str, "not valid UTF-8", "[\"a\"]");
}

static void test_wrong_shapes(void **s)
{
    (void)s;
    dec_err("2a", &cr_type_string, "Invalid value: string required", "");
    dec_err("a1 61", &cr_type_bool, "bool required", "");
    dec_err("a1 61", &t_list_str, "list required", "");
    dec_err("92 a1 61 2a", &t_list_str, "string required", "[1]");
    dec_err("81 a4 74 65 61 6d 2a", &t_map_str, "string required",
            "[\"team\"]");
    dec_err("82 a6 6c 61 62 65 6c 73 81 a4 74 65 61 6d c3"
            " a4 74 61 67 73 90", &t_outer, "string required",
            "labels[\"team\"]");
    dec_err("82 a6 6c 61 62 65 6c 73 80 a4 74 61 67 73 92 a1 78 c3",
            &t_outer, "string required", "tags[1]");
    dec_err("93 a1 61 2a 2a", &t_tuple, "tuple", "");
    /* Errors inside a set element point at the set. */
    dec_err("92 01 c3", &t_set_num, "number required", "");
    dec_err("92 2a 2a", &t_tuple, "string required", "[0]");
    /* Objects need exactly the type's attributes. */
    dec_err("82 a4 6e 61 6d 65 a1 78 a4 73 69 7a 65 c0", &t_res,
            "missing attribute", "id");
    dec_err("84 a2 69 64 c0 a4 6e 61 6d 65 a1 78 a4 73 69 7a 65 c0"
            " a5 65 78 74 72 61 c0", &t_res, "unsupported attribute", "extra");
    dec_err("83 a2 69 64 c0 a2 69 64 c0 a4 73 69 7a 65 c0", &t_res,
            "duplicate attribute", "id");
    dec_err("83 a2 69 64 c0 a4 6e 61 6d 65 a1 78 a4 73 69 7a 65 a1 78",
            &t_res, "number required", "size");
    dec_err("81 01 a1 61", &t_map_str, "string keys required", "");
    dec_err("82 a1 61 a1 78 a1 61 a1 79", &t_map_str, "duplicate map key",
            "[\"a\"]");
    dec_err("a2 c3 28", &cr_type_string, "UTF-8", "");
    dec_err("91 a2 ed a0", &t_list_str, "UTF-8", "[0]");
}

static void test_malformed(void **s)
{
    (void)s;
    dec_err("c1", &cr_type_string, "malformed", "");
    dec_err("a5 61 62", &cr_type_string, "malformed", "");      /* truncated */
    dec_err("cb 3f f8", &cr_type_number, "malformed", "");
    dec_err("92 a1 61", &t_list_str, "malformed", "");
    dec_err("2a 2a", &cr_type_number, "malformed", "");         /* trailing */
    dec_err("cd 01", &cr_type_number, "malformed", "");
    dec_err("db ff ff ff ff 61", &cr_type_string, "malformed", "");
    /* Huge claimed lengths must not allocate: a 4-billion-element array
     * and map in five bytes. */
    dec_err("dd ff ff ff ff", &t_list_str, "malformed", "");
    dec_err("df ff ff ff ff", &t_map_str, "malformed", "");
    dec_err("dd 00 01 00 00 c0 c0 c0", &t_list_str, "malformed", "");
    dec_err("c9 ff ff ff ff 00", &cr_type_string, "malformed", "");
    /* CR_VALUE_MAX_ITEMS nils fit in a few megabytes but, with the list
     * itself, exceed the value budget; one fewer is fine. */
    const size_t max = CR_VALUE_MAX_ITEMS;
    size_t big = 5 + max;
    unsigned char *many = malloc(big);
    assert_non_null(many);
    /* array32 of `max` nils: with the list itself, one value too many */
    many[0] = 0xdd;
    many[1] = (unsigned char)(max >> 24);
    many[2] = (unsigned char)(max >> 16);
    many[3] = (unsigned char)(max >> 8);
    many[4] = (unsigned char)max;
    memset(many + 5, 0xc0, max);
    cr_diags dd = CR_DIAGS_INIT;
    assert_null(cr_value_decode_msgpack(many, big, &t_list_str, &dd));
    assert_non_null(strstr(dd.items[0].detail, CR_VALUE_MAX_ITEMS_TEXT));
    cr_diags_free(&dd);
    /* max - 1 elements + the list itself: at the limit */
    many[1] = (unsigned char)((max - 1) >> 24);
    many[2] = (unsigned char)((max - 1) >> 16);
    many[3] = (unsigned char)((max - 1) >> 8);
    many[4] = (unsigned char)(max - 1);
    cr_value *lots = cr_value_decode_msgpack(many, big - 1, &t_list_str, &dd);
    assert_non_null(lots);
    assert_int_equal(lots->u.coll.len, max - 1);
    cr_value_free(lots);
    free(many);
    /* Nesting deeper than the limit. */
    unsigned char deep[200];
    memset(deep, 0x91, sizeof deep);
    deep[sizeof deep - 1] = 0xc0;
    cr_diags d = CR_DIAGS_INIT;
    cr_type *t = cr_type_collection(CR_TYPE_LIST, &cr_type_dynamic);
    cr_value *v = cr_value_decode_msgpack(deep, sizeof deep, t, &d);
    assert_null(v);
    assert_true(cr_diags_has_error(&d));
    assert_non_null(strstr(d.items[0].detail, "deep"));
    cr_diags_free(&d);
    cr_type_free(t);
    /* Every truncation of a valid value fails cleanly. */
    unsigned char buf[64];
    size_t n = unhex("82 a6 6c 61 62 65 6c 73 81 a4 74 65 61 6d a1 61"
                     " a4 74 61 67 73 91 a1 78", buf, sizeof buf);
    for (size_t cut = 1; cut < n; cut++) {
        v = cr_value_decode_msgpack(buf, cut, &t_outer, &d);
        assert_null(v);
        assert_true(cr_diags_has_error(&d));
        cr_diags_free(&d);
    }
}

/* ---- unknowns and refinements -------------------------------------------------------- */

static void test_unknowns(void **s)
{
    (void)s;
    static const char *plain[] = {
        "d4 00 00", "d4 05 00", "c7 00 00", "c7 01 07 ff", "c8 00 00 00",
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        cr_value *v = dec_ok(plain[i], &t_res);
        assert_int_equal(v->kind, CR_UNKNOWN);
        assert_false(v->u.unk.not_null);
        assert_null(v->u.unk.prefix);
        assert_true(cr_type_equal(v->type, &t_res));
        cr_value_free(v);
    }
    /* Other codes with a body are not unknowns in go-cty. */
    dec_err("d5 05 00 00", &cr_type_string, "unsupported extension", "");
    dec_err("92 a1 61 d5 01 00 00", &t_list_str, "unsupported extension", "[1]");
    /* Unknown of dynamic type, bare. */
    cr_value *v = dec_ok("d4 00 00", &cr_type_dynamic);
    assert_int_equal(v->kind, CR_UNKNOWN);
    assert_int_equal(v->type->kind, CR_TYPE_DYNAMIC);
    enc_is(v, "d4 00 00");
    cr_value_free(v);
}

static void test_refinements(void **s)
{
    (void)s;
    cr_value *v;
    /* 1 nullness false: not null. */
    v = dec_ok("c7 03 0c 81 01 c2", &cr_type_number);
    assert_int_equal(v->kind, CR_UNKNOWN);
    assert_true(v->u.unk.not_null);
    cr_value_free(v);
    /* 1 nullness true collapses to null, as in go-cty. */
    v = dec_ok("c7 03 0c 81 01 c3", &cr_type_number);
    assert_int_equal(v->kind, CR_NULL);
    cr_value_free(v);
    /* 3/4 number bounds: [number, inclusive]; integer, float, string. */
    v = dec_ok("c7 11 0c 82 03 92 00 c3 04 92 cb 40 59 00 00 00 00 00 00 c2",
               &cr_type_number);
    assert_int_equal(v->kind, CR_UNKNOWN);
    cr_value_free(v);
    v = dec_ok("c7 07 0c 81 03 92 a2 31 30 c2", &cr_type_number);
    cr_value_free(v);
    /* 5/6 collection length bounds. */
    v = dec_ok("c7 05 0c 82 05 01 06 0a", &t_list_str);
    assert_int_equal(v->kind, CR_UNKNOWN);
    cr_value_free(v);
    v = dec_ok("c7 05 0c 82 05 01 06 0a", &t_map_str);
    cr_value_free(v);
    /* Unknown keys are skipped, values and all. */
    v = dec_ok("c7 0a 0c 83 63 92 01 02 01 c2 7f a1 78", &cr_type_string);
    assert_true(v->u.unk.not_null);
    cr_value_free(v);
    /* Every refinement together on a string. */
    v = dec_ok("c7 0a 0c 82 02 a5 68 74 74 70 73 01 c2", &cr_type_string);
    assert_string_equal(v->u.unk.prefix, "https");
    assert_true(v->u.unk.not_null);
    cr_value *c = cr_value_copy(v);
    assert_string_equal(c->u.unk.prefix, "https");
    assert_true(cr_value_equal(v, c));
    cr_value_free(c);
    cr_value_free(v);
    /* A prefix with a NUL is cut there: a shorter prefix is still true. */
    v = dec_ok("c7 06 0c 81 02 a3 61 00 62", &cr_type_string);
    assert_string_equal(v->u.unk.prefix, "a");
    cr_value_free(v);
    /* Trailing bytes after the map are ignored (reserved by go-cty). */
    v = dec_ok("c7 04 0c 81 01 c2 ff", &cr_type_string);
    cr_value_free(v);
    /* Dynamic unknowns ignore their refinements. */
    v = dec_ok("c7 03 0c 81 01 c2", &cr_type_dynamic);
    assert_int_equal(v->kind, CR_UNKNOWN);
    cr_value_free(v);

    /* Wrong refinement for the type, wrong value shapes. */
    dec_err("c7 04 0c 81 02 a1 61", &cr_type_number, "refinement", "");
    dec_err("c7 03 0c 81 01 01", &cr_type_string, "refinement", "");
    dec_err("c7 03 0c 81 02 01", &cr_type_string, "refinement", "");
    dec_err("c7 04 0c 81 03 92 00", &cr_type_number, "refinement", "");
    dec_err("c7 05 0c 81 03 92 00 c3", &cr_type_string, "refinement", "");
    dec_err("c7 03 0c 81 05 01", &cr_type_string, "refinement", "");
    dec_err("c7 03 0c 81 05 c3", &t_list_str, "refinement", "");
    dec_err("c7 04 0c 81 a1 61 c2", &cr_type_string, "refinement", "");
    dec_err("c7 02 0c 01 01", &cr_type_string, "refinement", "");
    dec_err("c7 03 0c 82 01 c2", &cr_type_string, "refinement", "");
    dec_err("c7 05 0c 81 02 a2 c3 28", &cr_type_string, "refinement", "");
    /* Oversized payload: 1025 bytes. */
    unsigned char big[1100];
    big[0] = 0xc8; big[1] = 0x04; big[2] = 0x01; big[3] = 0x0c;
    memset(big + 4, 0x80, 1025);
    cr_diags d = CR_DIAGS_INIT;
    assert_null(cr_value_decode_msgpack(big, 4 + 1025, &cr_type_string, &d));
    assert_non_null(strstr(d.items[0].summary, "oversize"));
    cr_diags_free(&d);
    /* 1024 bytes is still fine: an empty map and padding. */
    big[2] = 0x00;
    v = cr_value_decode_msgpack(big, 4 + 1024, &cr_type_string, &d);
    assert_non_null(v);
    assert_int_equal(d.len, 0);
    cr_value_free(v);
}

/* ---- dynamic --------------------------------------------------------------------------- */

static void test_dynamic(void **s)
{
    (void)s;
    /* str type JSON accepted as well as bin. */
    cr_value *v = dec_ok("92 a8 22 6e 75 6d 62 65 72 22 2a", &cr_type_dynamic);
    assert_int_equal(v->kind, CR_NUMBER);
    cr_value_free(v);
    /* A list of strings inside a dynamic attribute; copy outlives original. */
    const char *hex = "81 a1 76 92 c4 11 5b 22 6c 69 73 74 22 2c 22 73 74 72"
                      " 69 6e 67 22 5d 92 a1 61 a1 62";
    v = dec_ok(hex, &t_dynobj);
    const cr_value *inner = cr_value_get(v, "v");
    assert_int_equal(inner->kind, CR_LIST);
    assert_true(cr_type_equal(inner->type, &t_list_str));
    cr_value *c = cr_value_copy(v);
    cr_value_free(v);
    enc_is(c, hex);
    cr_value_free(c);
    /* Null of a concrete type inside a dynamic: [type, nil]. */
    v = dec_ok("92 c4 08 22 73 74 72 69 6e 67 22 c0", &cr_type_dynamic);
    assert_int_equal(v->kind, CR_NULL);
    assert_int_equal(v->type->kind, CR_TYPE_STRING);
    cr_value_free(v);
    v = dec_ok("c0", &cr_type_dynamic);
    assert_int_equal(v->kind, CR_NULL);
    cr_value_free(v);
    dec_err("2a", &cr_type_dynamic, "dynamic value required", "");
    dec_err("93 a1 22 a1 22 a1 22", &cr_type_dynamic, "dynamic value required", "");
    dec_err("92 2a 2a", &cr_type_dynamic, "dynamic value required", "");
    dec_err("92 a4 22 78 79 22 2a", &cr_type_dynamic, "dynamic value type", "");
    dec_err("92 a1 5b 2a", &cr_type_dynamic, "dynamic value type", "");
    dec_err("81 a1 76 92 a8 22 6e 75 6d 62 65 72 22 a1 78", &t_dynobj,
            "number required", "v");
}

/* ---- types ---------------------------------------------------------------------------- */

static void type_rt(const char *json)
{
    char *err = NULL;
    cr_type *t = cr_type_from_json(json, strlen(json), &err);
    if (!t)
        fail_msg("%s: %s", json, err);
    char *back = cr_type_to_json(t);
    assert_string_equal(back, json);
    free(back);
    cr_type_free(t);
}

static void test_type_json(void **s)
{
    (void)s;
    type_rt("\"string\"");
    type_rt("\"number\"");
    type_rt("\"bool\"");
    type_rt("\"dynamic\"");
    type_rt("[\"list\",\"string\"]");
    type_rt("[\"set\",[\"object\",{\"name\":\"string\",\"port\":\"number\"}]]");
    type_rt("[\"map\",[\"list\",\"bool\"]]");
    type_rt("[\"tuple\",[\"string\",\"number\"]]");
    type_rt("[\"tuple\",[]]");
    /* go-cty may write an empty tuple type with a null member list. */
    char *e2 = NULL;
    cr_type *nt = cr_type_from_json("[\"tuple\",null]", 14, &e2);
    assert_non_null(nt);
    assert_int_equal(nt->kind, CR_TYPE_TUPLE);
    assert_int_equal(nt->nattrs, 0);
    cr_type_free(nt);
    type_rt("[\"object\",{}]");
    /* Keys come out sorted. */
    char *err = NULL;
    const char *in = "[\"object\", {\"z\": \"bool\", \"a\": \"number\"}]";
    cr_type *t = cr_type_from_json(in, strlen(in), &err);
    assert_non_null(t);
    char *out = cr_type_to_json(t);
    assert_string_equal(out, "[\"object\",{\"a\":\"number\",\"z\":\"bool\"}]");
    assert_int_equal(cr_type_attr_index(t, "z"), 1);
    assert_int_equal(cr_type_attr_index(t, "q"), -1);
    free(out);
    /* Equality with a static type of the same shape. */
    static const cr_type_attr az[] = { { "a", &cr_type_number }, { "z", &cr_type_bool } };
    static const cr_type taz = { .kind = CR_TYPE_OBJECT, .nattrs = 2, .attrs = az };
    assert_true(cr_type_equal(t, &taz));
    assert_false(cr_type_equal(t, &t_res));
    cr_type_free(t);
    out = cr_type_to_json(&t_res);
    assert_string_equal(out, "[\"object\",{\"id\":\"string\",\"name\":\"string\","
                        "\"size\":\"number\"}]");
    free(out);

    static const char *bad[] = {
        "", "x", "\"str\"", "42", "null", "[]", "[\"list\"]",
        "[\"list\",\"string\",\"x\"]", "[\"bag\",\"string\"]",
        "[\"object\",[]]", "[\"tuple\",{}]", "[\"list\",\"nope\"]",
        "[\"object\",{\"a\":\"string\",\"a\":\"number\"}]",
        "[\"object\",{\"a\":\"string\"},[\"a\"]]", "\"string\" x",
        "[\"list\",[\"list\",[\"list\",[\"list\",[\"list\",[\"list\",[\"list\","
        "[\"list\",[\"list\",[\"list\",[\"list\",[\"list\",[\"list\",[\"list\","
        "[\"list\",[\"list\",[\"list\",[\"list\",[\"list\",[\"list\",[\"list\","
        "[\"list\",[\"list\",[\"list\",[\"list\",[\"list\",[\"list\",[\"list\","
        "[\"list\",[\"list\",[\"list\",[\"list\",[\"list\",[\"list\",\"string\""
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = NULL;
        t = cr_type_from_json(bad[i], strlen(bad[i]), &err);
        if (t)
            fail_msg("accepted bad type %s", bad[i]);
        assert_non_null(err);
        free(err);
    }
}

static void test_type_ownership(void **s)
{
    (void)s;
    /* Run-time children are adopted; freeing the root frees them. */
    cr_type *inner = cr_type_collection(CR_TYPE_LIST, &cr_type_string);
    const char *names[] = { "b", "a" };
    const cr_type *types[] = { inner, &cr_type_number };
    cr_type *obj = cr_type_object(2, names, types);
    assert_non_null(obj);
    assert_string_equal(obj->attrs[0].name, "a");
    assert_ptr_equal(obj->attrs[1].type, inner);
    /* A value keeps its type alive after the type is freed. */
    cr_value *v = cr_value_object(obj);
    cr_type_free(obj);
    assert_int_equal(cr_value_object_set(v, "a", cr_value_int(3)), 0);
    assert_int_equal(cr_value_object_set(v, "nope", cr_value_int(3)), -1);
    enc_is(v, "82 a1 61 03 a1 62 c0");
    cr_value_free(v);
    /* Duplicate names are refused. */
    const char *dup[] = { "a", "a" };
    const cr_type *dt[] = { &cr_type_string, &cr_type_string };
    assert_null(cr_type_object(2, dup, dt));
    assert_null(cr_type_collection(CR_TYPE_OBJECT, &cr_type_string));
}

/* ---- building, equality, copy ------------------------------------------------------------ */

static void test_build_and_equal(void **s)
{
    (void)s;
    cr_value *o = cr_value_object(&t_outer);
    cr_value *labels = cr_value_collection(&t_map_str);
    assert_int_equal(cr_value_map_put(labels, "z", cr_value_string("1")), 0);
    assert_int_equal(cr_value_map_put(labels, "a", cr_value_string("2")), 0);
    assert_int_equal(cr_value_map_put(labels, "m", cr_value_string("3")), 0);
    assert_int_equal(cr_value_map_put(labels, "a", cr_value_string("4")), 0);
    assert_int_equal(labels->u.coll.len, 3);
    assert_string_equal(labels->u.coll.keys[0], "a");
    assert_string_equal(labels->u.coll.keys[2], "z");
    assert_string_equal(cr_value_get_str(labels, "a"), "4");
    assert_int_equal(cr_value_object_set(o, "labels", labels), 0);
    cr_value *tags = cr_value_collection(&t_list_str);
    assert_int_equal(cr_value_append(tags, cr_value_string("x")), 0);
    assert_int_equal(cr_value_append(tags, cr_value_unknown(&cr_type_string)), 0);
    assert_int_equal(cr_value_object_set(o, "tags", tags), 0);
    assert_false(cr_value_is_wholly_known(o));

    cr_value *c = cr_value_copy(o);
    assert_true(cr_value_equal(o, c));
    /* Changing the copy makes them differ. */
    cr_value *ctags = (cr_value *)cr_value_get(c, "tags");
    cr_value_free(ctags->u.coll.items[1]);
    ctags->u.coll.items[1] = cr_value_string("y");
    assert_true(cr_value_is_wholly_known(c));
    assert_false(cr_value_equal(o, c));

    /* Round trip through msgpack keeps equality. */
    void *buf;
    size_t len;
    assert_int_equal(cr_value_encode_msgpack(c, &buf, &len), 0);
    cr_diags d = CR_DIAGS_INIT;
    cr_value *back = cr_value_decode_msgpack(buf, len, &t_outer, &d);
    assert_non_null(back);
    assert_true(cr_value_equal(back, c));
    free(buf);
    cr_value_free(back);
    cr_value_free(c);
    cr_value_free(o);

    /* Sets built by append are deduplicated and order-insensitive. */
    cr_value *s1 = cr_value_collection(&t_set_num), *s2 = cr_value_collection(&t_set_num);
    cr_value_append(s1, cr_value_int(2));
    cr_value_append(s1, cr_value_int(1));
    cr_value_append(s1, cr_value_number("2.0"));
    cr_value_append(s2, cr_value_int(1));
    cr_value_append(s2, cr_value_int(2));
    assert_int_equal(s1->u.coll.len, 2);
    assert_true(cr_value_equal(s1, s2));
    cr_value_free(s1);
    cr_value_free(s2);

    /* Kinds differ: null, unknown, known are all different. */
    cr_value *n = cr_value_null(&cr_type_string), *u = cr_value_unknown(&cr_type_string);
    cr_value *e = cr_value_string("");
    assert_false(cr_value_equal(n, u));
    assert_false(cr_value_equal(n, e));
    assert_false(cr_value_equal(u, e));
    assert_true(cr_value_equal(u, u));
    cr_value_free(n);
    cr_value_free(u);
    cr_value_free(e);
    /* Strings with embedded NULs compare by length too. */
    cr_value *s3 = cr_value_stringn("a\0b", 3), *s4 = cr_value_stringn("a\0c", 3);
    assert_false(cr_value_equal(s3, s4));
    cr_value_free(s3);
    cr_value_free(s4);
    /* Bad container use is refused and the value released. */
    cr_value *str = cr_value_string("x");
    assert_int_equal(cr_value_append(str, cr_value_int(1)), -1);
    assert_int_equal(cr_value_map_put(str, "k", cr_value_int(1)), -1);
    assert_null(cr_value_get(str, "k"));
    assert_null(cr_value_get_str(NULL, "k"));
    cr_value_free(str);
}

/* Copies of one value with a run-time type, made and freed on several
 * threads at once: the type's reference count must stay exact (ASan and
 * valgrind catch a premature free; the final count is checked by freeing
 * the original last and encoding it before). */
static void *copy_worker(void *arg)
{
    const cr_value *shared = arg;
    for (int i = 0; i < 2000; i++) {
        cr_value *c = cr_value_copy(shared);
        if (!c || !cr_value_equal(c, shared))
            return (void *)1;
        cr_value_free(c);
    }
    return NULL;
}

static void test_threads_share_types(void **s)
{
    (void)s;
    const char *hex = "92 c4 11 5b 22 6c 69 73 74 22 2c 22 73 74 72 69 6e 67 22"
                      " 5d 92 a1 61 a1 62";
    cr_value *v = dec_ok(hex, &cr_type_dynamic);
    assert_true(v->type->owned);
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, copy_worker, v), 0);
    for (int i = 0; i < 8; i++) {
        void *rc;
        assert_int_equal(pthread_join(th[i], &rc), 0);
        assert_null(rc);
    }
    void *buf;
    size_t len;
    assert_int_equal(cr_value_encode_msgpack_as(v, &cr_type_dynamic, &buf, &len), 0);
    char *got = tohex(buf, len);
    assert_string_equal(got, hex);
    free(got);
    free(buf);
    cr_value_free(v);
}

/* cr_value_map_put's paths: an appended key (after the last), a key that
 * goes before the last (binary search), a replaced key equal to the last,
 * and arrays that grow by more than a slot at a time across many puts;
 * lists grow the same way. The result must be what sorting gives. */
static void test_map_put_orders(void **s)
{
    (void)s;
    cr_value *m = cr_value_collection(&t_map_str);
    char key[16];
    /* Odd keys in order (appends), then even keys (inserts), then every
     * fifth key again (replaces), the last one included. */
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < 1000; i++) {
            if ((pass == 0 && i % 2 == 0) || (pass == 1 && i % 2 == 1)
                || (pass == 2 && i % 5 != 4))
                continue;
            snprintf(key, sizeof key, "k%04d", i);
            assert_int_equal(cr_value_map_put(m, key, cr_value_string(
                                 pass == 2 ? "again" : key)), 0);
        }
    assert_int_equal(m->u.coll.len, 1000);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%04d", i);
        assert_string_equal(m->u.coll.keys[i], key);
        assert_string_equal(cr_value_get_str(m, key),
                            i % 5 == 4 ? "again" : key);
    }
    /* A key equal to the last one replaces it. */
    assert_int_equal(cr_value_map_put(m, "k0999", cr_value_string("z")), 0);
    assert_int_equal(m->u.coll.len, 1000);
    assert_string_equal(cr_value_get_str(m, "k0999"), "z");
    cr_value *c = cr_value_copy(m);
    assert_true(cr_value_equal(c, m));
    cr_value_free(c);
    cr_value_free(m);

    cr_value *l = cr_value_collection(&t_list_str);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "%d", i);
        assert_int_equal(cr_value_append(l, cr_value_string(key)), 0);
    }
    assert_int_equal(l->u.coll.len, 1000);
    assert_string_equal(l->u.coll.items[999]->u.str.ptr, "999");
    assert_string_equal(l->u.coll.items[0]->u.str.ptr, "0");
    cr_value_free(l);
}

/* cr_utf8_valid reads ASCII eight bytes at a time: a bad or a good
 * multibyte sequence at every position around those words is still
 * judged byte by byte. */
static void test_utf8_words(void **s)
{
    (void)s;
    static const struct { const char *seq; bool ok; } seqs[] = {
        { "\xc3\xa9", true }, { "\xe2\x82\xac", true },
        { "\xf0\x9f\x98\x80", true }, { "\xff", false },
        { "\xc3\x28", false }, { "\xed\xa0\x80", false },
        { "\xc0\xaf", false }, { "\xe2\x82", false },
        { "\x80", false }, { "\xf4\x90\x80\x80", false },
    };
    char buf[64];
    for (size_t k = 0; k < sizeof seqs / sizeof seqs[0]; k++)
        for (size_t pre = 0; pre < 20; pre++)
            for (size_t post = 0; post < 10; post++) {
                size_t n = strlen(seqs[k].seq);
                memset(buf, 'a', pre);
                memcpy(buf + pre, seqs[k].seq, n);
                memset(buf + pre + n, 'b', post);
                assert_int_equal(cr_utf8_valid(buf, pre + n + post),
                                 seqs[k].ok);
                /* Cut short: a sequence missing its last byte. */
                if (n > 1 && post == 0)
                    assert_false(cr_utf8_valid(buf, pre + n - 1));
            }
    memset(buf, 'a', sizeof buf);
    for (size_t n = 0; n <= sizeof buf; n++)
        assert_true(cr_utf8_valid(buf, n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sheet_object),
        cmocka_unit_test(test_sheet_refined_unknown),
        cmocka_unit_test(test_sheet_dynamic),
        cmocka_unit_test(test_sheet_numbers),
        cmocka_unit_test(test_numbers_widths),
        cmocka_unit_test(test_numbers_text),
        cmocka_unit_test(test_numbers_canonical),
        cmocka_unit_test(test_numbers_locale),
        cmocka_unit_test(test_numbers_bad),
        cmocka_unit_test(test_primitives),
        cmocka_unit_test(test_collections),
        cmocka_unit_test(test_decoded_layout),
        cmocka_unit_test(test_map_put_orders),
        cmocka_unit_test(test_utf8_words),
        cmocka_unit_test(test_wrong_shapes),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_unknowns),
        cmocka_unit_test(test_refinements),
        cmocka_unit_test(test_dynamic),
        cmocka_unit_test(test_type_json),
        cmocka_unit_test(test_type_ownership),
        cmocka_unit_test(test_build_and_equal),
        cmocka_unit_test(test_threads_share_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
