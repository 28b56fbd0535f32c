/*
 * tests/unit/test_tenants_json.c — cellrouter_tenants with its fleet in
 * `tenants_json`, against a real SQLite routing map: the document's reader
 * (every shape it refuses, with the tenant and field named), the versions
 * kept in the private state, and the resource as Terraform drives it
 * (support's _p steps carry the private state from step to step, and
 * Terraform's plan and apply rules are checked on every answer).
 *
 * What the issue asks of the document form, one test each: semantic
 * equality (formatting, key order and defaults plan no change, the prior
 * text kept), refresh that answers the prior text when nothing changed
 * and only the changed tenants when something did, versions never in an
 * attribute, errors at plan and nothing written, import, the move from
 * one form to the other, and the warning of the map form past 2,000.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "resource/tenants_doc.h"
#include "rpc/internal.h"
#include "support/support.h"

/* One past the map form's warning threshold (tenants.h: CR_TN_MAP_WARN). */
#define CR_TEST_WARN_N 2001

typedef cr_test_rfx fixture;

static const cr_resource_type *R;
static const cr_type *T;

static int setup(void **state)
{
    fixture *fx = cr_test_rfx_new("tjson", "cellrouter_tenants");
    R = fx->type;
    T = cr_test_type(R->schema);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    cr_test_rfx_free(*state);
    return 0;
}

/* ---- helpers ----------------------------------------------------------- */

/* A configuration in the document form. */
static cr_value *jcfg(const char *name, const char *doc)
{
    cr_value *c = cr_value_object(T);
    assert_non_null(c);
    cr_test_set_str(c, "name", name);
    cr_test_set_str(c, "tenants_json", doc);
    return c;
}

/* The fleet document of n tenants t000000..., primary cell i mod 3,
 * standby the next; tenant `moved` (if >= 0) on cell-9 with no standby.
 * `pretty`: one tenant a line with spaces, else compact. malloc'd. */
static char *fleet(size_t n, long moved, bool pretty)
{
    size_t cap = 200 * n + 16, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    len += (size_t)snprintf(s + len, cap - len, "{");
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % 3), sb = (int)((i + 1) % 3);
        const char *sep = i ? (pretty ? ",\n  " : ",") : (pretty ? "\n  " : "");
        if ((long)i == moved)
            len += (size_t)snprintf(s + len, cap - len,
                "%s\"t%06zu\":%s{\"cell_id\":\"cell-9\",\"endpoint\":"
                "\"https://cell-9.example.com/in\"}", sep, i, pretty ? " " : "");
        else
            len += (size_t)snprintf(s + len, cap - len,
                "%s\"t%06zu\":%s{\"cell_id\":\"cell-%d\",\"endpoint\":"
                "\"https://cell-%d.example.com/in\",\"standby_cell_id\":"
                "\"cell-%d\",\"standby_endpoint\":"
                "\"https://cell-%d.example.com/in\"}", sep, i,
                pretty ? " " : "", c, c, sb, sb);
    }
    snprintf(s + len, cap - len, "%s}", pretty ? "\n" : "");
    return s;
}

static const char *doc_of(const cr_value *st)
{
    const char *s = cr_value_get_str(st, "tenants_json");
    assert_non_null(s);
    return s;
}

/* Parses, asserting success. */
static void parse_ok(const char *text, cr_tdoc *doc)
{
    cr_diags d = CR_DIAGS_INIT;
    int rc = cr_tdoc_parse(text, strlen(text), "tenants_json", NULL, doc, &d);
    if (rc != 0)
        cr_test_print_diags(&d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.len, 0);
    cr_diags_free(&d);
}

/* Parses, asserting failure with `detail` in the first diagnostic (and
 * nothing parsed); returns the number of diagnostics. */
static size_t parse_bad(const char *text, size_t len, const char *detail)
{
    cr_diags d = CR_DIAGS_INIT;
    cr_tdoc doc;
    cr_path at = {0, 0, NULL};
    assert_int_equal(cr_path_push_attr(&at, "tenants_json"), 0);
    assert_int_equal(cr_tdoc_parse(text, len, "tenants_json", &at, &doc, &d),
                     -1);
    assert_int_equal(doc.len, 0);
    assert_true(d.len >= 1);
    assert_int_equal(d.items[0].severity, CR_DIAG_ERROR);
    assert_true(cr_test_diag_at(&d, "tenants_json"));
    cr_test_assert_contains(d.items[0].detail, detail);
    size_t n = d.len;
    cr_diags_free(&d);
    cr_path_free(&at);
    return n;
}

#define BAD(text, detail) parse_bad((text), strlen(text), (detail))

static cr_entry *map_get(fixture *fx, const char *tid)
{
    return cr_test_map_get(fx->oob, tid);
}

static size_t map_count(fixture *fx)
{
    cr_entry_list l = {0};
    cr_store_err err;
    assert_int_equal(cr_store_list(fx->oob, "", &l, &err), CR_STORE_OK);
    size_t n = l.len;
    cr_entry_list_free(&l);
    return n;
}

/* An out-of-band entry (what cellctl set does). */
static void put_entry(fixture *fx, const char *tid, const char *cell)
{
    char ep[100];
    snprintf(ep, sizeof ep, "https://%s.example.com/in", cell);
    cr_entry e = { .tenant_id = (char *)tid, .cell_id = (char *)cell,
                   .endpoint = ep };
    cr_store_err err;
    assert_int_equal(cr_store_put(fx->oob, &e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_OK);
}

/* The versions the private state holds. */
static void versions(const cr_private *priv, cr_tversions *v)
{
    assert_int_equal(cr_tversions_decode(priv->data, priv->len, v), 0);
}

/* Plans cfg over prior, asserting no error. */
static void plan_ok(fixture *fx, const cr_value *prior, const cr_private *priv,
                    const cr_value *cfg, cr_plan_resp *pr)
{
    cr_test_plan_p(fx, prior, priv, cfg, pr);
    if (cr_test_errors(&pr->diags))
        cr_test_print_diags(&pr->diags);
    assert_int_equal(cr_test_errors(&pr->diags), 0);
    assert_non_null(pr->planned);
}

/* Whether the plan is a no-op: planned equals prior. */
static bool no_change(const cr_plan_resp *pr, const cr_value *prior)
{
    return cr_value_equal(pr->planned, prior);
}

/* ---- the document --------------------------------------------------------- */

static void test_doc_parse(void **state)
{
    (void)state;
    cr_tdoc doc;
    parse_ok("{\n"
             "  \"globex\": {\"endpoint\": \"https://b.example.com/\", "
             "\"cell_id\": \"cell-b\", \"labels\": {\"z\": \"1\", "
             "\"a\": \"\\u00e9t\\u00e9\"}},\n"
             "  \"acme\": {\"cell_id\": \"cell-a\", \"endpoint\": "
             "\"https://a.example.com/\", \"standby_cell_id\": null, "
             "\"standby_endpoint\": null, \"labels\": null},\n"
             "  \"hooli\": {\"cell_id\": \"cell-a\", \"endpoint\": "
             "\"https://a.example.com/\", \"standby_cell_id\": \"cell-b\", "
             "\"standby_endpoint\": \"https://b.example.com/\", "
             "\"labels\": {}}\n"
             "}", &doc);
    assert_int_equal(doc.len, 3);
    /* Sorted by tenant id; fields and labels as given, labels sorted. */
    assert_string_equal(doc.items[0].tenant_id, "acme");
    assert_string_equal(doc.items[1].tenant_id, "globex");
    assert_string_equal(doc.items[2].tenant_id, "hooli");
    assert_null(doc.items[0].standby_cell_id);
    assert_false(doc.items[0].has_labels);
    assert_int_equal(doc.style[0], CR_DOC_NULL_STANDBY_CELL |
                                   CR_DOC_NULL_STANDBY_ENDPOINT |
                                   CR_DOC_NULL_LABELS);
    assert_int_equal(doc.items[1].nlabels, 2);
    assert_string_equal(doc.items[1].labels[0].key, "a");
    assert_string_equal(doc.items[1].labels[0].value, "\xc3\xa9t\xc3\xa9");
    assert_int_equal(doc.style[1], 0);
    assert_true(doc.items[2].has_labels);
    assert_int_equal(doc.items[2].nlabels, 0);
    assert_int_equal(doc.style[2], CR_DOC_EMPTY_LABELS);
    /* Values are interned: the same endpoint is one string. */
    assert_ptr_equal(doc.items[0].endpoint, doc.items[2].endpoint);
    assert_non_null(cr_tdoc_find(&doc, "hooli"));
    assert_null(cr_tdoc_find(&doc, "initech"));

    /* Written back with its styles, it reads as the same structure. */
    cr_doc_writer *w = cr_doc_writer_new();
    for (size_t i = 0; i < doc.len; i++)
        assert_int_equal(cr_doc_writer_add(w, &doc.items[i], doc.style[i]), 0);
    size_t len;
    char *text = cr_doc_writer_finish(w, &len);
    assert_non_null(text);
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    assert_non_null(j);
    json_t *acme = json_object_get(j, "acme");
    assert_true(json_is_null(json_object_get(acme, "standby_cell_id")));
    assert_true(json_is_null(json_object_get(acme, "labels")));
    assert_int_equal(json_object_size(json_object_get(json_object_get(j, "hooli"),
                                                      "labels")), 0);
    assert_null(json_object_get(json_object_get(j, "globex"),
                                "standby_cell_id"));
    json_decref(j);
    free(text);
    cr_tdoc_free(&doc);

    parse_ok("{}", &doc);
    assert_int_equal(doc.len, 0);
    cr_tdoc_free(&doc);
}

/* Formatting, key order, and fields left out, null or empty make no
 * difference; any real difference does. */
static void test_doc_semantic_equality(void **state)
{
    (void)state;
    cr_tdoc a, b;
    char *pretty = fleet(50, -1, true), *compact = fleet(50, -1, false);
    parse_ok(pretty, &a);
    parse_ok(compact, &b);
    assert_true(cr_tdoc_same(&a, &b));
    cr_tdoc_free(&b);
    free(compact);

    compact = fleet(50, 7, false);
    parse_ok(compact, &b);
    assert_false(cr_tdoc_same(&a, &b));
    assert_false(cr_tdoc_same_entry(&a.items[7], &b.items[7]));
    assert_true(cr_tdoc_same_entry(&a.items[8], &b.items[8]));
    cr_tdoc_free(&a);
    cr_tdoc_free(&b);
    free(pretty);
    free(compact);

    parse_ok("{\"x\":{\"cell_id\":\"c\",\"endpoint\":\"https://e/\","
             "\"labels\":{\"k\":\"v\",\"j\":\"w\"}},"
             "\"y\":{\"cell_id\":\"c\",\"endpoint\":\"https://e/\"}}", &a);
    parse_ok("{ \"y\" : { \"endpoint\" : \"https://e/\", \"cell_id\" : \"c\", "
             "\"labels\": {}, \"standby_cell_id\": null },\n"
             "\"x\": {\"labels\": {\"j\": \"w\", \"k\": \"v\"}, "
             "\"cell_id\": \"\\u0063\", \"endpoint\": \"https:\\/\\/e/\"}}",
             &b);
    assert_true(cr_tdoc_same(&a, &b));
    cr_tdoc_free(&b);
    parse_ok("{\"x\":{\"cell_id\":\"c\",\"endpoint\":\"https://e/\","
             "\"labels\":{\"k\":\"v\"}},"
             "\"y\":{\"cell_id\":\"c\",\"endpoint\":\"https://e/\"}}", &b);
    assert_false(cr_tdoc_same(&a, &b));         /* a label less */
    cr_tdoc_free(&b);
    parse_ok("{\"x\":{\"cell_id\":\"c\",\"endpoint\":\"https://e/\","
             "\"labels\":{\"k\":\"v\",\"j\":\"w\"}}}", &b);
    assert_false(cr_tdoc_same(&a, &b));         /* a tenant less */
    cr_tdoc_free(&b);
    cr_tdoc_free(&a);
}

/* Every shape the document must not have is an error at tenants_json
 * naming the tenant and the field; nothing is parsed. */
static void test_doc_refused(void **state)
{
    (void)state;
    BAD("[]", "the document must be a JSON object keyed by tenant id, not "
              "an array");
    BAD("\"x\"", "not a string");
    BAD("null", "not null");
    BAD("", "the document is empty");
    BAD("  \n ", "the document is empty");
    BAD("{\"acme\": \"aws\"}",
        "tenants_json: tenant \"acme\": must be an object with cell_id and "
        "endpoint, not a string");
    BAD("{\"acme\": null}", "tenant \"acme\": must be an object");
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": \"https://e/\", "
        "\"cel_id\": \"d\"}}",
        "tenant \"acme\": unknown field \"cel_id\"");
    BAD("{\"acme\": {\"cell_id\": 5, \"endpoint\": \"https://e/\"}}",
        "tenant \"acme\": cell_id must be a string, not a number");
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": [\"https://e/\"]}}",
        "tenant \"acme\": endpoint must be a string, not an array");
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": \"https://e/\", "
        "\"labels\": [\"a\"]}}",
        "tenant \"acme\": labels must be an object of strings, not an array");
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": \"https://e/\", "
        "\"labels\": {\"tier\": 1}}}",
        "tenant \"acme\": label \"tier\" must be a string, not a number");
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": \"https://e/\", "
        "\"labels\": {\"tier\": null}}}",
        "label \"tier\" must be a string, not null");
    /* Keys given twice, at every level. */
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": \"https://e/\"}, "
        "\"acme\": {\"cell_id\": \"d\", \"endpoint\": \"https://e/\"}}",
        "tenant \"acme\" is given twice");
    BAD("{\"acme\": {\"cell_id\": \"c\", \"cell_id\": \"d\", "
        "\"endpoint\": \"https://e/\"}}",
        "tenant \"acme\": cell_id is given twice");
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": \"https://e/\", "
        "\"labels\": {\"t\": \"1\", \"t\": \"2\"}}}",
        "tenant \"acme\": label \"t\" is given twice");
    /* Not JSON: the line and column. */
    BAD("{\n  \"acme\": {\"cell_id\": \"c\",}\n}", "line 2, column");
    BAD("{\"acme\": {}} trailing", "not valid JSON");
    BAD("{\"acme\": {} /* c */}", "not valid JSON");
    /* Text: bad UTF-8, lone surrogates and NUL escapes. */
    parse_bad("{\"a\xff\": {}}", 9, "not valid UTF-8");
    BAD("{\"a\\ud800\": {}}", "half a UTF-16 surrogate pair");
    BAD("{\"a\": {\"cell_id\": \"c\\u0000d\", \"endpoint\": \"https://e/\"}}",
        "line 1, column");
    /* The routing map's rules, the tenant and field named. */
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": \"ftp://e/\"}}",
        "tenants_json: tenant \"acme\": endpoint must be an absolute URL");
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": \"https://e/\", "
        "\"standby_cell_id\": \"d\", \"standby_endpoint\": \"e\"}}",
        "tenant \"acme\": standby_endpoint: endpoint must be");
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": \"https://e/\", "
        "\"standby_cell_id\": \"d\"}}",
        "tenant \"acme\": standby_endpoint: standby_cell_id and "
        "standby_endpoint must be set together");
    BAD("{\"acme\": {\"cell_id\": \"Big\", \"endpoint\": \"https://e/\"}}",
        "tenant \"acme\": cell_id: cell id must");
    BAD("{\"acme\": {\"endpoint\": \"https://e/\"}}",
        "tenant \"acme\": cell_id is required");
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": null}}",
        "tenant \"acme\": endpoint is required");
    BAD("{\"-acme\": {\"cell_id\": \"c\", \"endpoint\": \"https://e/\"}}",
        "tenant \"-acme\": tenant_id must start with a letter or a digit");
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": \"https://e/\", "
        "\"labels\": {\"cellrouter.owner\": \"x\"}}}",
        "tenant \"acme\": label \"cellrouter.owner\" is reserved");
    BAD("{\"acme\": {\"cell_id\": \"c\", \"endpoint\": \"https://e/\", "
        "\"labels\": {\"\": \"x\"}}}",
        "tenant \"acme\": labels[\"\"]: label keys must not be empty");
    /* Control characters never reach a message. */
    BAD("{\"a\\nb\": {}}", "tenant \"a?b\"");

    /* Many problems: the first ten, then how many more. */
    char many[4096];
    size_t len = (size_t)snprintf(many, sizeof many, "{");
    for (int i = 0; i < 25; i++)
        len += (size_t)snprintf(many + len, sizeof many - len,
                                "%s\"t%02d\": {\"cell_id\": \"c\", "
                                "\"endpoint\": \"nope\"}", i ? "," : "", i);
    snprintf(many + len, sizeof many - len, "}");
    cr_diags d = CR_DIAGS_INIT;
    cr_tdoc doc;
    assert_int_equal(cr_tdoc_parse(many, strlen(many), "tenants_json", NULL,
                                   &doc, &d), -1);
    assert_int_equal(d.len, CR_TDOC_MAX_ERRORS + 1);
    cr_test_assert_contains(d.items[0].detail, "tenant \"t00\"");
    cr_test_assert_contains(d.items[CR_TDOC_MAX_ERRORS].detail,
                            "15 more problems");
    cr_diags_free(&d);
}

/* The limits, checked before any work. */
static void test_doc_limits(void **state)
{
    (void)state;
    /* The size is checked before the text is read. */
    parse_bad("{}", (size_t)CR_TDOC_MAX_BYTES + 1, "more than the 64 MiB");
    size_t n = CR_TDOC_MAX_TENANTS + 1, cap = n * 16 + 4, len = 1;
    char *s = malloc(cap);
    assert_non_null(s);
    s[0] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s\"t%zu\":{}",
                                i ? "," : "", i);
    s[len++] = '}';
    parse_bad(s, len, "more than 500000 tenants");
    free(s);
}

/* The private state's versions: compact, exact, and never trusted. */
static void test_versions_codec(void **state)
{
    (void)state;
    const char *ids[] = { "acme", "globex", "hooli" };
    int64_t ver[] = { 1, 7, 123456789012 };
    const char *at[] = { "2024-01-02T03:04:05.000001Z", NULL,
                         "2024-01-02T03:04:05.000001Z" };
    unsigned char *bytes;
    size_t len;
    assert_int_equal(cr_tversions_encode(3, ids, ver, at, &bytes, &len), 0);
    cr_tversions v;
    assert_int_equal(cr_tversions_decode(bytes, len, &v), 0);
    assert_int_equal(v.len, 3);
    const char *t;
    assert_int_equal(cr_tversions_find(&v, "globex", &t), 7);
    assert_null(t);
    assert_int_equal(cr_tversions_find(&v, "hooli", &t), 123456789012);
    assert_string_equal(t, "2024-01-02T03:04:05.000001Z");
    assert_int_equal(cr_tversions_find(&v, "initech", &t), CR_VERSION_ANY);
    cr_tversions_free(&v);

    /* Damaged or foreign bytes decode as no versions, never a crash. */
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(cr_tversions_decode(bytes, cut, &v), cut ? -1 : 0);
        assert_int_equal(v.len, 0);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char *c = malloc(len);
        memcpy(c, bytes, len);
        c[i] ^= 0x5a;
        if (cr_tversions_decode(c, len, &v) == 0)
            for (size_t k = 1; k < v.len; k++)
                assert_true(strcmp(v.ids[k - 1], v.ids[k]) < 0);
        cr_tversions_free(&v);
        free(c);
    }
    assert_int_equal(cr_tversions_decode((const unsigned char *)"{\"v\":1}",
                                         7, &v), -1);
    /* Ten bytes claiming an array of four billion ids: refused before
     * anything is allocated for it. */
    static const unsigned char huge[] = { 0x81, 0xa3, 'i', 'd', 's', 0xdd,
                                          0xff, 0xff, 0xff, 0xff };
    assert_int_equal(cr_tversions_decode(huge, sizeof huge, &v), -1);
    free(bytes);
    /* Out of order ids are refused (lookups are binary searches). */
    const char *bad[] = { "b", "a" };
    assert_int_equal(cr_tversions_encode(2, bad, ver, at, &bytes, &len), 0);
    assert_int_equal(cr_tversions_decode(bytes, len, &v), -1);
    free(bytes);

    /* A fleet written in batches: a few bytes per tenant beside its id. */
    enum { N = 100000 };
    char **many = malloc(N * sizeof *many);
    int64_t *mv = malloc(N * sizeof *mv);
    const char **mt = malloc(N * sizeof *mt);
    char stamps[100][48];
    for (int i = 0; i < 100; i++)
        snprintf(stamps[i], sizeof stamps[i], "2024-01-02T03:04:%02d.%06dZ",
                 i % 60, i);
    size_t idbytes = 0;
    for (int i = 0; i < N; i++) {
        many[i] = malloc(16);
        snprintf(many[i], 16, "t%06d", i);
        idbytes += strlen(many[i]);
        mv[i] = 1 + i % 5;
        mt[i] = stamps[i / 1000];
    }
    assert_int_equal(cr_tversions_encode(N, (const char *const *)many, mv, mt,
                                         &bytes, &len), 0);
    print_message("versions of %d tenants: %zu bytes (%.1f per tenant beside "
                  "its id)\n", N, len, (double)(len - idbytes - N) / N);
    assert_true(len < idbytes + (size_t)N * 5);
    assert_int_equal(cr_tversions_decode(bytes, len, &v), 0);
    assert_int_equal(v.len, N);
    assert_int_equal(cr_tversions_find(&v, "t054321", &t), 1 + 54321 % 5);
    assert_string_equal(t, stamps[54]);
    cr_tversions_free(&v);
    free(bytes);
    for (int i = 0; i < N; i++)
        free(many[i]);
    free(many);
    free(mv);
    free(mt);
}

/* ---- the resource ------------------------------------------------------- */

/* Exactly one form; the document checked at validation. */
static void test_validate(void **state)
{
    (void)state;
    cr_diags d = CR_DIAGS_INIT;
    cr_value *c = jcfg("fleet", "{\"acme\": {\"cell_id\": \"c\", "
                                "\"endpoint\": \"nope\"}}");
    cr_resource_validate(R, c, &d);
    assert_int_equal(cr_test_errors(&d), 1);
    assert_true(cr_test_diag_at(&d, "tenants_json"));
    cr_test_assert_contains(d.items[0].detail,
                            "tenants_json: tenant \"acme\": endpoint must");
    cr_diags_free(&d);

    /* Both forms. */
    const cr_type *mt = cr_test_attr_type(T, "tenants");
    cr_test_set(c, "tenants", cr_value_collection(mt));
    cr_test_set_str(c, "tenants_json", "{}");
    cr_resource_validate(R, c, &d);
    assert_non_null(cr_test_find_diag(&d, "Conflicting arguments"));
    cr_diags_free(&d);
    /* An unknown document may turn out null: no conflict yet. */
    cr_test_set(c, "tenants_json", cr_value_unknown(&cr_type_string));
    cr_resource_validate(R, c, &d);
    assert_int_equal(cr_test_errors(&d), 0);
    /* Neither. */
    cr_test_set(c, "tenants", cr_value_null(mt));
    cr_test_set(c, "tenants_json", cr_value_null(&cr_type_string));
    cr_resource_validate(R, c, &d);
    cr_test_assert_contains(cr_test_find_diag(&d, "Missing required argument")
                                ->detail, "tenants_json");
    cr_diags_free(&d);
    cr_value_free(c);
}

/* Create, then a no-change plan whatever the document's formatting; the
 * versions in the private state, never in the state. */
static void test_create_and_semantic_equality(void **state)
{
    fixture *fx = *state;
    cr_private priv = {0};
    char *pretty = fleet(30, -1, true);
    cr_value *c = jcfg("fleet", pretty);
    cr_value *st = cr_test_converge_p(fx, NULL, &priv, c);
    assert_non_null(st);
    assert_string_equal(doc_of(st), pretty);            /* kept exactly */
    assert_true(cr_value_is_null(cr_value_get(st, "tenants")));
    assert_string_equal(cr_value_get_str(st, "id"), "fleet");
    assert_int_equal(map_count(fx), 30);
    cr_entry *e = map_get(fx, "t000004");
    assert_string_equal(e->cell_id, "cell-1");
    assert_string_equal(cr_entry_label(e, CR_OWNER_LABEL), "fleet");
    cr_tversions v;
    versions(&priv, &v);
    assert_int_equal(v.len, 30);
    const char *at;
    assert_int_equal(cr_tversions_find(&v, "t000004", &at), e->version);
    assert_string_equal(at, e->updated_at);
    cr_tversions_free(&v);
    cr_entry_free(e);

    /* Reformatted and reordered, with defaults written out: no change,
     * and the plan keeps the prior text (allowed for a non-computed
     * attribute: Terraform's AssertPlanValid accepts the prior value). */
    char *compact = fleet(30, -1, false);
    json_t *j = json_loads(compact, 0, NULL);
    json_object_set_new(json_object_get(j, "t000003"), "labels",
                        json_object());
    json_object_set_new(json_object_get(j, "t000005"), "labels", json_null());
    char *reordered = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(4));
    json_decref(j);
    const char *variants[] = { compact, reordered };
    for (size_t k = 0; k < 2; k++) {
        cr_value *c2 = jcfg("fleet", variants[k]);
        cr_plan_resp pr;
        plan_ok(fx, st, &priv, c2, &pr);
        assert_true(no_change(&pr, st));
        assert_string_equal(doc_of(pr.planned), pretty);
        assert_false(pr.priv.set);              /* the prior's, echoed */
        cr_plan_resp_free(&pr);
        cr_value_free(c2);
    }
    /* Refresh: the same entries, the very text back. */
    cr_value *fresh = NULL;
    cr_diags d = CR_DIAGS_INIT;
    cr_test_read_p(R, &fx->p, st, &priv, &fresh, &d);
    assert_int_equal(d.len, 0);
    assert_true(cr_value_equal(fresh, st));
    versions(&priv, &v);
    assert_int_equal(v.len, 30);
    cr_tversions_free(&v);
    cr_value_free(fresh);

    free(compact);
    free(reordered);
    free(pretty);
    cr_value_free(c);
    cr_value_free(st);
    cr_private_clear(&priv);
}

/* Drift made by hand on three keys: refresh answers exactly those three
 * changed (the others written as the document wrote them), the plan puts
 * them back, apply writes those three only. */
static void test_drift(void **state)
{
    fixture *fx = *state;
    cr_private priv = {0};
    char *doc = fleet(40, -1, true);
    cr_value *c = jcfg("fleet", doc);
    cr_value *st = cr_test_converge_p(fx, NULL, &priv, c);

    cr_test_map_set_cell(fx->oob, "t000007", "cell-9");
    cr_entry *e = map_get(fx, "t000020");
    char *t = e->cell_id;                       /* a failover */
    e->cell_id = e->standby_cell_id;
    e->standby_cell_id = t;
    t = e->endpoint;
    e->endpoint = e->standby_endpoint;
    e->standby_endpoint = t;
    cr_store_err err;
    assert_int_equal(cr_store_put(fx->oob, e, e->version, NULL, &err),
                     CR_STORE_OK);
    cr_entry_free(e);
    assert_int_equal(cr_store_delete(fx->oob, "t000039", CR_VERSION_ANY, &err),
                     CR_STORE_OK);

    cr_value *fresh = NULL;
    cr_diags d = CR_DIAGS_INIT;
    cr_test_read_p(R, &fx->p, st, &priv, &fresh, &d);
    assert_int_equal(cr_test_errors(&d), 0);
    json_t *was = json_loads(doc, 0, NULL), *now = json_loads(doc_of(fresh),
                                                              0, NULL);
    assert_non_null(now);
    assert_int_equal(json_object_size(now), 39);        /* t000039 gone */
    const char *key;
    json_t *val;
    size_t changed = 0;
    json_object_foreach(now, key, val) {
        if (!json_equal(val, json_object_get(was, key)))
            changed++;
    }
    assert_int_equal(changed, 2);
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(now, "t000007"), "cell_id")), "cell-9");
    /* No standby on t000007 now: left out, as the document would. */
    assert_null(json_object_get(json_object_get(now, "t000007"),
                                "standby_cell_id"));
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(now, "t000020"), "cell_id")), "cell-0");
    json_decref(was);
    json_decref(now);

    /* The plan puts the configuration back; apply writes three keys. */
    cr_plan_resp pr;
    plan_ok(fx, fresh, &priv, c, &pr);
    assert_string_equal(doc_of(pr.planned), doc);
    cr_entry *before = map_get(fx, "t000001");
    cr_value *st2 = cr_test_apply_p(fx, fresh, pr.planned, c, &priv, &d);
    assert_int_equal(cr_test_errors(&d), 0);
    cr_rpc_check_apply(pr.planned, st2, &d);
    assert_int_equal(cr_test_errors(&d), 0);
    assert_string_equal(doc_of(st2), doc);
    cr_entry *after = map_get(fx, "t000001");
    assert_int_equal(after->version, before->version);  /* not rewritten */
    cr_entry_free(before);
    cr_entry_free(after);
    e = map_get(fx, "t000007");
    assert_string_equal(e->cell_id, "cell-1");
    cr_tversions v;
    versions(&priv, &v);
    assert_int_equal(v.len, 40);
    assert_int_equal(cr_tversions_find(&v, "t000007", NULL), e->version);
    cr_tversions_free(&v);
    cr_entry_free(e);
    e = map_get(fx, "t000039");
    assert_non_null(e);
    cr_entry_free(e);

    cr_plan_resp_free(&pr);
    cr_diags_free(&d);
    cr_value_free(fresh);
    cr_value_free(st2);
    cr_value_free(st);
    cr_value_free(c);
    free(doc);
    cr_private_clear(&priv);
}

/* A one-tenant change writes that tenant, conditional on the version in
 * the private state: a write made in between is a conflict, never lost. */
static void test_update_and_conflict(void **state)
{
    fixture *fx = *state;
    cr_private priv = {0};
    char *doc = fleet(20, -1, false), *doc2 = fleet(20, 5, false);
    cr_value *c = jcfg("fleet", doc), *c2 = jcfg("fleet", doc2);
    cr_value *st = cr_test_converge_p(fx, NULL, &priv, c);

    cr_plan_resp pr;
    plan_ok(fx, st, &priv, c2, &pr);
    assert_false(no_change(&pr, st));
    assert_string_equal(doc_of(pr.planned), doc2);
    /* Someone moves t000005 between plan and apply. */
    cr_test_map_set_cell(fx->oob, "t000005", "cell-7");
    cr_diags d = CR_DIAGS_INIT;
    cr_value *st2 = cr_test_apply_p(fx, st, pr.planned, c2, &priv, &d);
    assert_non_null(cr_test_find_diag(&d, "Routing map entries changed"));
    cr_test_assert_contains(cr_test_find_diag(&d, "Routing map entries "
                                              "changed")->detail, "t000005");
    assert_true(cr_value_equal(st2, st));       /* the prior state kept */
    cr_entry *e = map_get(fx, "t000005");
    assert_string_equal(e->cell_id, "cell-7");
    cr_entry_free(e);
    cr_diags_free(&d);
    cr_plan_resp_free(&pr);
    cr_value_free(st2);

    /* After a refresh the change goes through, that tenant alone. */
    cr_value *fresh = NULL;
    cr_test_read_p(R, &fx->p, st, &priv, &fresh, &d);
    cr_entry *other = map_get(fx, "t000006");
    st2 = cr_test_converge_p(fx, fresh, &priv, c2);
    e = map_get(fx, "t000005");
    assert_string_equal(e->cell_id, "cell-9");
    assert_null(e->standby_cell_id);
    cr_entry *other2 = map_get(fx, "t000006");
    assert_int_equal(other2->version, other->version);
    cr_entry_free(e);
    cr_entry_free(other);
    cr_entry_free(other2);
    cr_value_free(fresh);

    /* Destroy removes exactly the resource's keys. */
    put_entry(fx, "bystander", "cell-1");
    cr_value *none = cr_test_converge_p(fx, st2, &priv, NULL);
    assert_null(none);
    assert_int_equal(map_count(fx), 1);

    cr_diags_free(&d);
    cr_value_free(st2);
    cr_value_free(st);
    cr_value_free(c);
    cr_value_free(c2);
    free(doc);
    free(doc2);
    cr_private_clear(&priv);
}

/* A store failure in the second batch of a create: the first batch stays
 * written, and the state (text and private state) says exactly that. */
static void test_partial_failure(void **state)
{
    fixture *fx = *state;
    cr_private priv = {0};
    char *doc = fleet(2500, -1, false);
    cr_value *c = jcfg("fleet", doc);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->tmp.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "CREATE TRIGGER fault BEFORE INSERT ON entries WHEN "
        "NEW.tenant_id = 't001500' BEGIN SELECT RAISE(ABORT, 'injected'); "
        "END", NULL, NULL, NULL), SQLITE_OK);

    cr_plan_resp pr;
    plan_ok(fx, NULL, &priv, c, &pr);
    cr_diags d = CR_DIAGS_INIT;
    cr_value *st = cr_test_apply_p(fx, NULL, pr.planned, c, &priv, &d);
    assert_true(cr_test_errors(&d) > 0);
    assert_non_null(cr_test_find_diag(&d, "Routing map partly written"));
    assert_non_null(st);
    assert_int_equal(map_count(fx), 1000);
    cr_tdoc got;
    parse_ok(doc_of(st), &got);
    assert_int_equal(got.len, 1000);
    assert_string_equal(got.items[999].tenant_id, "t000999");
    cr_tdoc_free(&got);
    cr_tversions v;
    versions(&priv, &v);
    assert_int_equal(v.len, 1000);
    cr_tversions_free(&v);
    cr_diags_free(&d);
    cr_plan_resp_free(&pr);

    /* The retry writes what is left. */
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER fault", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    cr_value *st2 = cr_test_converge_p(fx, st, &priv, c);
    assert_int_equal(map_count(fx), 2500);
    assert_string_equal(doc_of(st2), doc);
    versions(&priv, &v);
    assert_int_equal(v.len, 2500);
    cr_tversions_free(&v);
    cr_value_free(st2);
    cr_value_free(st);
    cr_value_free(c);
    free(doc);
    cr_private_clear(&priv);
}

/* An invalid document fails the plan and writes nothing; a key the map
 * already has (another resource's) is refused at plan. */
static void test_plan_refusals(void **state)
{
    fixture *fx = *state;
    cr_value *c = jcfg("fleet", "{\"acme\": {\"cell_id\": \"c\", "
                                "\"endpoint\": \"https://e/\"}, \"acme\": {}}");
    cr_plan_resp pr;
    cr_test_plan_p(fx, NULL, NULL, c, &pr);
    assert_true(cr_test_errors(&pr.diags) > 0);
    cr_test_assert_contains(pr.diags.items[0].detail,
                            "tenant \"acme\" is given twice");
    cr_plan_resp_free(&pr);
    cr_value_free(c);
    assert_int_equal(map_count(fx), 0);

    put_entry(fx, "t000001", "cell-5");
    char *doc = fleet(3, -1, false);
    c = jcfg("fleet", doc);
    cr_test_plan_p(fx, NULL, NULL, c, &pr);
    const cr_diag *dg = cr_test_find_diag(&pr.diags,
                                          "Tenant already in the routing map");
    cr_test_assert_contains(dg->detail, "t000001");
    assert_true(cr_test_diag_at(&pr.diags, "tenants_json"));
    cr_plan_resp_free(&pr);
    cr_value_free(c);
    free(doc);
    assert_int_equal(map_count(fx), 1);

    /* Unknown at plan: planned unknown, checked when known. */
    c = jcfg("fleet", NULL);
    cr_test_set(c, "tenants_json", cr_value_unknown(&cr_type_string));
    plan_ok(fx, NULL, NULL, c, &pr);
    assert_true(cr_value_is_unknown(cr_value_get(pr.planned, "tenants_json")));
    cr_plan_resp_free(&pr);
    cr_value_free(c);
}

/* A rename re-tags every entry, though the document is the same. */
static void test_rename(void **state)
{
    fixture *fx = *state;
    cr_private priv = {0};
    char *doc = fleet(5, -1, true), *doc2 = fleet(5, -1, false);
    cr_value *c = jcfg("fleet", doc), *c2 = jcfg("fleet-2", doc2);
    cr_value *st = cr_test_converge_p(fx, NULL, &priv, c);
    cr_value *st2 = cr_test_converge_p(fx, st, &priv, c2);
    assert_string_equal(doc_of(st2), doc);      /* the same entries */
    cr_entry *e = map_get(fx, "t000003");
    assert_string_equal(cr_entry_label(e, CR_OWNER_LABEL), "fleet-2");
    assert_int_equal(e->version, 2);
    cr_entry_free(e);
    cr_value_free(st);
    cr_value_free(st2);
    cr_value_free(c);
    cr_value_free(c2);
    free(doc);
    free(doc2);
    cr_private_clear(&priv);
}

/* Import into the document form by prefix and by list; the tag decides
 * the name; another resource's keys are refused. */
static void test_import(void **state)
{
    fixture *fx = *state;
    cr_private priv = {0};
    char *doc = fleet(12, -1, false);
    cr_value *c = jcfg("fleet", doc);
    cr_value *st = cr_test_converge_p(fx, NULL, &priv, c);
    cr_private_clear(&priv);

    cr_value *imp = NULL;
    cr_diags d = CR_DIAGS_INIT;
    cr_test_import_p(R, &fx->p, "tenants_json//prefix:t00001", &priv, &imp,
                     &d);
    assert_int_equal(cr_test_errors(&d), 0);
    assert_string_equal(cr_value_get_str(imp, "name"), "fleet");
    assert_true(cr_value_is_null(cr_value_get(imp, "tenants")));
    cr_tdoc got;
    parse_ok(doc_of(imp), &got);
    assert_int_equal(got.len, 2);               /* t000010, t000011 */
    cr_tdoc_free(&got);
    cr_tversions v;
    versions(&priv, &v);
    assert_int_equal(v.len, 2);
    cr_tversions_free(&v);
    /* ReadResource follows: nothing changes. */
    cr_value *fresh = NULL;
    cr_test_read_p(R, &fx->p, imp, &priv, &fresh, &d);
    assert_true(cr_value_equal(fresh, imp));
    cr_value_free(fresh);
    cr_value_free(imp);

    /* The whole fleet imported, then planned against the configuration:
     * the same entries, no change. */
    cr_test_import_p(R, &fx->p, "tenants_json/fleet/prefix:", &priv, &imp,
                     &d);
    assert_int_equal(cr_test_errors(&d), 0);
    cr_plan_resp pr;
    plan_ok(fx, imp, &priv, c, &pr);
    assert_true(no_change(&pr, imp));
    cr_plan_resp_free(&pr);
    cr_value_free(imp);

    /* By list; missing keys and another resource's keys are refused. */
    cr_test_import_p(R, &fx->p, "tenants_json/fleet/t000002,t000001", &priv,
                     &imp, &d);
    assert_int_equal(cr_test_errors(&d), 0);
    parse_ok(doc_of(imp), &got);
    assert_int_equal(got.len, 2);
    cr_tdoc_free(&got);
    cr_value_free(imp);
    cr_test_import_p(R, &fx->p, "tenants_json/fleet/t000002,nobody", &priv,
                     &imp, &d);
    assert_null(imp);
    cr_test_assert_contains(cr_test_find_diag(&d, "Cannot import non-existent "
                                              "tenants")->detail, "nobody");
    cr_diags_free(&d);
    cr_test_import_p(R, &fx->p, "tenants_json/other/t000002", &priv, &imp,
                     &d);
    assert_null(imp);
    assert_non_null(cr_test_find_diag(&d, "Tenants managed by another "
                                      "resource"));
    cr_diags_free(&d);
    cr_test_import_p(R, &fx->p, "tenants_yaml/fleet/t000002", &priv, &imp,
                     &d);
    assert_null(imp);
    cr_test_assert_contains(cr_test_find_diag(&d, "Invalid import ID")->detail,
                            "tenants_yaml");
    cr_diags_free(&d);
    /* The map form's import is unchanged. */
    cr_test_import_p(R, &fx->p, "fleet/t000002", &priv, &imp, &d);
    assert_int_equal(cr_test_errors(&d), 0);
    assert_true(cr_value_is_null(cr_value_get(imp, "tenants_json")));
    assert_int_equal(cr_value_get(imp, "tenants")->u.coll.len, 1);
    cr_value_free(imp);

    cr_value_free(st);
    cr_value_free(c);
    free(doc);
    cr_private_clear(&priv);
}

/* A map configuration of the same fleet (what jsondecode(doc) gives). */
static cr_value *map_cfg(const char *name, const char *doc)
{
    cr_tdoc t;
    parse_ok(doc, &t);
    const cr_type *mt = cr_test_attr_type(T, "tenants");
    cr_value *m = cr_value_collection(mt);
    for (size_t i = 0; i < t.len; i++) {
        const cr_entry *e = &t.items[i];
        cr_value *o = cr_value_object(mt->elem);
        cr_test_set_str(o, "cell_id", e->cell_id);
        cr_test_set_str(o, "endpoint", e->endpoint);
        cr_test_set_str(o, "standby_cell_id", e->standby_cell_id);
        cr_test_set_str(o, "standby_endpoint", e->standby_endpoint);
        assert_int_equal(cr_value_map_put(m, e->tenant_id, o), 0);
    }
    cr_tdoc_free(&t);
    cr_value *c = cr_value_object(T);
    cr_test_set_str(c, "name", name);
    cr_test_set(c, "tenants", m);
    return c;
}

/* From the map to the document and back: nothing is rewritten, and
 * the versions move with the form. */
static void test_change_of_form(void **state)
{
    fixture *fx = *state;
    cr_private priv = {0};
    char *doc = fleet(25, -1, true);
    cr_value *cm = map_cfg("fleet", doc), *cj = jcfg("fleet", doc);
    cr_value *st = cr_test_converge_p(fx, NULL, &priv, cm);
    assert_int_equal(priv.len, 0);              /* the map form keeps none */
    cr_entry *before = map_get(fx, "t000011");

    cr_value *st2 = cr_test_converge_p(fx, st, &priv, cj);
    assert_string_equal(doc_of(st2), doc);
    assert_true(cr_value_is_null(cr_value_get(st2, "tenants")));
    cr_entry *after = map_get(fx, "t000011");
    assert_int_equal(after->version, before->version);
    cr_tversions v;
    versions(&priv, &v);
    assert_int_equal(v.len, 25);
    assert_int_equal(cr_tversions_find(&v, "t000011", NULL), before->version);
    cr_tversions_free(&v);
    cr_entry_free(after);

    /* And back: the map's elements get their versions from the private
     * state, nothing is written, the private state is dropped. */
    cr_value *st3 = cr_test_converge_p(fx, st2, &priv, cm);
    assert_true(cr_value_is_null(cr_value_get(st3, "tenants_json")));
    const cr_value *el = cr_value_get(cr_value_get(st3, "tenants"), "t000011");
    assert_int_equal(cr_value_get(el, "version")->u.num.i, before->version);
    after = map_get(fx, "t000011");
    assert_int_equal(after->version, before->version);
    assert_int_equal(priv.len, 0);
    cr_entry_free(after);
    cr_entry_free(before);

    cr_value_free(st);
    cr_value_free(st2);
    cr_value_free(st3);
    cr_value_free(cm);
    cr_value_free(cj);
    free(doc);
    cr_private_clear(&priv);
}

/* The map form past 2,000 entries: a warning that names the reason and
 * the document form. */
static void test_map_warning(void **state)
{
    fixture *fx = *state;
    char *doc = fleet(CR_TEST_WARN_N, -1, false);
    cr_value *c = map_cfg("fleet", doc);
    cr_plan_resp pr;
    plan_ok(fx, NULL, NULL, c, &pr);
    const cr_diag *w = cr_test_find_diag(&pr.diags, "Large fleet in `tenants`: "
                                         "use `tenants_json`");
    assert_int_equal(w->severity, CR_DIAG_WARNING);
    cr_test_assert_contains(w->detail, "2001 tenants");
    cr_test_assert_contains(w->detail, "square of its size");
    assert_true(cr_test_diag_at(&pr.diags, "tenants"));
    cr_plan_resp_free(&pr);
    cr_value_free(c);
    free(doc);

    doc = fleet(CR_TEST_WARN_N - 1, -1, false);
    c = map_cfg("fleet", doc);
    plan_ok(fx, NULL, NULL, c, &pr);
    assert_int_equal(pr.diags.len, 0);
    cr_plan_resp_free(&pr);
    cr_value_free(c);
    free(doc);
}

/* Through the tfplugin6 handlers: the private state the resource sets
 * reaches Terraform, and comes back. */
static void test_rpc_private(void **state)
{
    cr_test_pfx *fx = cr_test_pfx_new("tjrpc");
    (void)state;
    cr_value *pc = cr_value_object(cr_test_type(cr_provider_schema()));
    cr_test_set_str(pc, "path", fx->tmp.db);
    Tfplugin6__ConfigureProvider__Request creq =
        TFPLUGIN6__CONFIGURE_PROVIDER__REQUEST__INIT;
    creq.config = cr_test_dv(pc);
    Tfplugin6__ConfigureProvider__Response *cr =
        cr_test_invoke(fx->p, "ConfigureProvider", &creq.base);
    assert_int_equal(cr_test_pb_errors(cr->diagnostics, cr->n_diagnostics), 0);
    protobuf_c_message_free_unpacked(&cr->base, NULL);
    cr_test_dv_free(creq.config);
    cr_value_free(pc);

    char *doc = fleet(4, -1, false);
    cr_value *c = jcfg("fleet", doc);
    Tfplugin6__PlanResourceChange__Response *pr =
        cr_test_rpc_plan(fx->p, "cellrouter_tenants", NULL, c, NULL);
    assert_int_equal(cr_test_pb_errors(pr->diagnostics, pr->n_diagnostics), 0);
    cr_value *planned = cr_test_undv(pr->planned_state, T);
    protobuf_c_message_free_unpacked(&pr->base, NULL);
    Tfplugin6__ApplyResourceChange__Response *ar =
        cr_test_rpc_apply(fx->p, "cellrouter_tenants", NULL, planned, c);
    assert_int_equal(cr_test_pb_errors(ar->diagnostics, ar->n_diagnostics), 0);
    cr_tversions v;
    assert_int_equal(cr_tversions_decode(ar->private_.data, ar->private_.len,
                                         &v), 0);
    assert_int_equal(v.len, 4);
    cr_tversions_free(&v);
    cr_value *st = cr_test_undv(ar->new_state, T);

    /* ReadResource: the resource's bytes, not the ones sent. */
    Tfplugin6__ReadResource__Request rreq =
        TFPLUGIN6__READ_RESOURCE__REQUEST__INIT;
    uint8_t junk[] = { 1, 2, 3 };
    rreq.type_name = "cellrouter_tenants";
    rreq.current_state = cr_test_dv(st);
    rreq.private_.data = junk;
    rreq.private_.len = sizeof junk;
    Tfplugin6__ReadResource__Response *rr =
        cr_test_invoke(fx->p, "ReadResource", &rreq.base);
    assert_int_equal(cr_test_pb_errors(rr->diagnostics, rr->n_diagnostics), 0);
    assert_int_equal(rr->private_.len, ar->private_.len);
    assert_memory_equal(rr->private_.data, ar->private_.data, rr->private_.len);
    protobuf_c_message_free_unpacked(&rr->base, NULL);
    cr_test_dv_free(rreq.current_state);

    /* A no-change plan echoes prior_private. */
    ProtobufCBinaryData pp = { sizeof junk, junk };
    pr = cr_test_rpc_plan(fx->p, "cellrouter_tenants", st, c, &pp);
    assert_int_equal(pr->planned_private.len, sizeof junk);
    protobuf_c_message_free_unpacked(&pr->base, NULL);

    protobuf_c_message_free_unpacked(&ar->base, NULL);
    cr_value_free(st);
    cr_value_free(planned);
    cr_value_free(c);
    free(doc);
    cr_test_pfx_free(fx);
}

/* The data source returns the same document cellctl export prints. */
static void test_data_source_document(void **state)
{
    fixture *fx = *state;
    cr_private priv = {0};
    char *doc = fleet(6, -1, false);
    cr_value *c = jcfg("fleet", doc);
    cr_value *st = cr_test_converge_p(fx, NULL, &priv, c);

    const cr_data_source_type *ds = cr_data_source_find("cellrouter_routing_map");
    cr_value *dc = cr_value_object(cr_test_type(ds->schema));
    cr_test_set_str(dc, "cell_id", "cell-1");
    cr_value *out = NULL;
    cr_diags d = CR_DIAGS_INIT;
    cr_data_source_read(ds, &fx->p, dc, &out, &d);
    assert_int_equal(cr_test_errors(&d), 0);
    const char *text = cr_value_get_str(out, "tenants_json");
    assert_string_equal(text,
        "{\n"
        "  \"t000001\": {\"cell_id\": \"cell-1\", \"endpoint\": "
        "\"https://cell-1.example.com/in\", \"standby_cell_id\": \"cell-2\", "
        "\"standby_endpoint\": \"https://cell-2.example.com/in\"},\n"
        "  \"t000004\": {\"cell_id\": \"cell-1\", \"endpoint\": "
        "\"https://cell-1.example.com/in\", \"standby_cell_id\": \"cell-2\", "
        "\"standby_endpoint\": \"https://cell-2.example.com/in\"}\n"
        "}\n");
    /* A valid configuration for the resource: the same two entries. */
    cr_tdoc a, b;
    parse_ok(text, &a);
    parse_ok(doc, &b);
    assert_true(cr_tdoc_same_entry(&a.items[0], cr_tdoc_find(&b, "t000001")));
    cr_tdoc_free(&a);
    cr_tdoc_free(&b);

    cr_diags_free(&d);
    cr_value_free(out);
    cr_value_free(dc);
    cr_value_free(st);
    cr_value_free(c);
    free(doc);
    cr_private_clear(&priv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_parse),
        cmocka_unit_test(test_doc_semantic_equality),
        cmocka_unit_test(test_doc_refused),
        cmocka_unit_test(test_doc_limits),
        cmocka_unit_test(test_versions_codec),
        cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_and_semantic_equality,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_and_conflict, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_partial_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_of_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rpc_private, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_source_document, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
