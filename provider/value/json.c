/*
 * value/json.c — the cty JSON codec (RawState.json, DynamicValue.json).
 *
 * jansson parses the document, but it turns every number into a C integer
 * or double, and cty numbers are arbitrary precision: a state holding
 * 0.1 or 18446744073709551616 must come back exactly. So before jansson sees
 * the text, one pass over it rewrites each number token into a string
 * carrying a private marker — a leading NUL and 'N' — which no real cty
 * string can start with, because a string starting with NUL is itself
 * re-marked with NUL 'S'. The pass also checks the JSON number grammar and
 * remembers how far each rewrite shifted the text, so jansson's error
 * positions are translated back to the caller's line:column.
 *
 * The rules follow go-cty's json package: null is null for any type; a
 * string type also accepts number and bool tokens, a number type a string
 * holding a decimal, a bool type "true"/"false" strings; object attributes
 * missing from the JSON are null; unknown attributes are errors; a dynamic
 * value is {"value": V, "type": T}. The steps that do not depend on the
 * wire form (errors at their path, strings, number text, sequences, maps,
 * attribute lookup) are decode.c's, shared with the MessagePack decoder.
 */
#include "value/internal.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- number pre-pass ----------------------------------------------------------- */

typedef struct shift {
    size_t at;          /* offset in the rewritten text where it applies */
    size_t added;       /* total bytes added up to and including here */
} shift;

typedef struct rewrite {
    cr_tbuf out;        /* the rewritten text; out.failed on any ENOMEM */
    shift *shifts;
    size_t nshifts, capshifts;
    size_t added;
} rewrite;

static void rw_put(rewrite *r, const char *s, size_t n)
{
    cr_tbuf_put(&r->out, s, n);
}

static void rw_shift(rewrite *r, size_t added)
{
    if (r->out.failed)
        return;
    if (r->nshifts == r->capshifts) {
        size_t cap = r->capshifts ? r->capshifts * 2 : 16;
        shift *s = realloc(r->shifts, cap * sizeof *s);
        if (!s) {
            r->out.failed = true;
            return;
        }
        r->shifts = s;
        r->capshifts = cap;
    }
    r->added += added;
    r->shifts[r->nshifts++] = (shift){ r->out.len, r->added };
}

/* Original offset of rewritten offset `pos`. */
static size_t rw_original(const rewrite *r, size_t pos)
{
    size_t added = 0;
    for (size_t i = 0; i < r->nshifts && r->shifts[i].at <= pos; i++)
        added = r->shifts[i].added;
    return pos >= added ? pos - added : 0;
}

static void line_col(const char *s, size_t len, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)s[i] & 0xc0) != 0x80) {
            (*col)++;       /* columns count characters, not bytes */
        }
    }
}

/* Length of the JSON number at s[0..n) per RFC 8259, or 0 if malformed. */
static size_t json_number_len(const char *s, size_t n)
{
    size_t i = 0;
#define DIGIT(k) ((k) < n && s[(k)] >= '0' && s[(k)] <= '9')
    if (i < n && s[i] == '-')
        i++;
    if (!DIGIT(i))
        return 0;
    if (s[i] == '0')
        i++;
    else
        while (DIGIT(i))
            i++;
    if (i < n && s[i] == '.') {
        i++;
        if (!DIGIT(i))
            return 0;
        while (DIGIT(i))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (!DIGIT(i))
            return 0;
        while (DIGIT(i))
            i++;
    }
    /* A number must not run straight into more number-ish characters
     * ("01", "1.2.3"): that is a syntax error, not two tokens. */
    if (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e'
                  || s[i] == 'E' || s[i] == '+' || s[i] == '-'))
        return 0;
#undef DIGIT
    return i;
}

/* Returns 0, or -1 with *bad_off set to the offending number's offset (or
 * r->out.failed set). */
static int rewrite_numbers(rewrite *r, const char *s, size_t n, size_t *bad_off,
                           bool *too_many)
{
    size_t i = 0, run = 0;
    /* Tokens that start a value or a key: keys and values together stay
     * under twice the value budget, checked here before jansson spends
     * memory on them. */
    size_t tokens = 0;
    while (i < n) {
        char c = s[i];
        if (c == '"' || c == '[' || c == '{' || c == 't' || c == 'f'
            || c == 'n' || c == '-' || (c >= '0' && c <= '9')) {
            if (++tokens > 2 * (size_t)CR_VALUE_MAX_ITEMS) {
                *too_many = true;
                return -1;
            }
        }
        if (c == '"') {
            rw_put(r, s + run, i - run);
            rw_put(r, "\"", 1);
            i++;
            if (n - i >= 6 && !memcmp(s + i, "\\u0000", 6)) {
                rw_put(r, "\\u0000S", 7);
                rw_shift(r, 7);
            }
            /* Copy the string body up to its closing quote. */
            run = i;
            while (i < n && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < n)
                    i++;
                i++;
            }
            if (i < n)
                i++;        /* the closing quote travels with the body */
            rw_put(r, s + run, i - run);
            run = i;
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t len = json_number_len(s + i, n - i);
            if (!len) {
                *bad_off = i;
                return -1;
            }
            rw_put(r, s + run, i - run);
            rw_put(r, "\"\\u0000N", 8);
            rw_shift(r, 8);
            rw_put(r, s + i, len);
            rw_put(r, "\"", 1);
            rw_shift(r, 1);
            i += len;
            run = i;
            continue;
        }
        i++;
    }
    rw_put(r, s + run, n - run);
    return r->out.failed ? -1 : 0;
}

/* ---- decoding ------------------------------------------------------------------- */

/* The shared decoder state (decode.c), with its value budget. */
typedef cr_vdec jdec;

/* What a JSON string really holds once the pre-pass markers are read. */
typedef enum { JS_STRING, JS_NUMBER } js_kind;

static js_kind jstr(const json_t *j, const char **p, size_t *n)
{
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);
    if (len >= 2 && s[0] == '\0') {
        *p = s + 2;
        *n = len - 2;
        return s[1] == 'N' ? JS_NUMBER : JS_STRING;
    }
    *p = s;
    *n = len;
    return JS_STRING;
}

static const char *jkind(const json_t *j)
{
    const char *p;
    size_t n;
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return jstr(j, &p, &n) == JS_NUMBER ? "a number"
                                                           : "a string";
    case JSON_TRUE: case JSON_FALSE: return "a bool";
    case JSON_NULL: return "null";
    default: return "a number";
    }
}

static void jwrong(jdec *d, const char *what, const json_t *j)
{
    cr_vdec_wrong(d, what, jkind(j));
}

static cr_value *jdecode(jdec *d, const json_t *j, const cr_type *t, int depth);

static cr_value *jprimitive(jdec *d, const json_t *j, const cr_type *t)
{
    const char *p = NULL;
    size_t n = 0;
    js_kind k = json_is_string(j) ? jstr(j, &p, &n) : JS_STRING;
    cr_value *v = NULL;
    switch (t->kind) {
    case CR_TYPE_STRING:
        if (json_is_string(j)) {
            /* A number token becomes its own spelling, as in cty. */
            return cr_vdec_string(d, p, n);
        } else if (json_is_boolean(j)) {
            v = cr_value_string(json_is_true(j) ? "true" : "false");
        } else {
            jwrong(d, "string", j);
            return NULL;
        }
        break;
    case CR_TYPE_NUMBER:
        if (!json_is_string(j)) {
            jwrong(d, "number", j);
            return NULL;
        }
        (void)k;
        return cr_vdec_number_text(d, p, n);
    case CR_TYPE_BOOL:
        if (json_is_boolean(j)) {
            v = cr_value_bool(json_is_true(j));
        } else if (json_is_string(j) && k == JS_STRING
                   && ((n == 4 && !memcmp(p, "true", 4))
                       || (n == 5 && !memcmp(p, "false", 5)))) {
            v = cr_value_bool(n == 4);
        } else {
            jwrong(d, "bool", j);
            return NULL;
        }
        break;
    default:
        return NULL;
    }
    return cr_vdec_made(d, v);
}

static cr_value *jdynamic(jdec *d, const json_t *j, int depth)
{
    if (!json_is_object(j)) {
        jwrong(d, "dynamic value object", j);
        return NULL;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)j, key, val) {
        if (strcmp(key, "type") && strcmp(key, "value")) {
            cr_vdec_error(d, "Invalid value: invalid dynamic value",
                          "A dynamic value has only \"type\" and "
                          "\"value\", not \"%.64s\".", key);
            return NULL;
        }
    }
    const json_t *tj = json_object_get(j, "type");
    const json_t *vj = json_object_get(j, "value");
    if (!tj || !vj) {
        cr_vdec_error(d, "Invalid value: invalid dynamic value",
                      "A dynamic value needs both \"type\" and \"value\".");
        return NULL;
    }
    /* The type was parsed with numbers rewritten; types hold none, and any
     * that appear are type errors either way. */
    char *tjson = json_dumps(tj, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!tjson) {
        cr_vdec_oom(d);
        return NULL;
    }
    cr_type *t = cr_vdec_dynamic_type(d, tjson, strlen(tjson));
    free(tjson);
    if (!t)
        return NULL;
    cr_value *v = jdecode(d, vj, t, depth + 1);
    cr_type_unref(t);
    return v;
}

static cr_value *jseq_elem(jdec *d, const void *seq, size_t i,
                          const cr_type *et, int depth)
{
    return jdecode(d, json_array_get((const json_t *)seq, i), et, depth);
}

static cr_value *jseq(jdec *d, const json_t *j, const cr_type *t, int depth)
{
    if (!json_is_array(j)) {
        jwrong(d, cr_vdec_seq_what(t), j);
        return NULL;
    }
    return cr_vdec_seq(d, t, j, json_array_size(j), jseq_elem, depth);
}

static bool key_ok(jdec *d, const char *key)
{
    /* jansson refuses NUL in keys, so only the marker needs a look. */
    if (!cr_utf8_valid(key, strlen(key))) {
        cr_vdec_error(d, "Invalid value: invalid key",
                      "A key is not valid UTF-8.");
        return false;
    }
    return true;
}

static cr_value *jmap(jdec *d, const json_t *j, const cr_type *t, int depth)
{
    if (!json_is_object(j)) {
        jwrong(d, "map", j);
        return NULL;
    }
    /* Collected then sorted once: inserting keys one by one into the
     * sorted map would be quadratic on a large hostile document. */
    size_t n = json_object_size(j), i = 0;
    char **keys = calloc(n ? n : 1, sizeof *keys);
    cr_value **vals = calloc(n ? n : 1, sizeof *vals);
    if (!keys || !vals) {
        cr_value_free_entries(keys, vals, 0);
        cr_vdec_oom(d);
        return NULL;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)j, key, val) {
        if (i == n || !key_ok(d, key))
            break;
        cr_lpath_push(&d->path, CR_STEP_KEY, key, 0);
        vals[i] = jdecode(d, val, t->elem, depth + 1);
        cr_lpath_pop(&d->path);
        if (!vals[i])
            break;
        if (!(keys[i] = strdup(key))) {
            cr_value_free(vals[i]);
            cr_vdec_oom(d);
            break;
        }
        i++;
    }
    if (d->failed) {
        cr_value_free_entries(keys, vals, i);
        return NULL;
    }
    /* jansson already refused duplicate keys, so only ENOMEM can fail. */
    return cr_vdec_map(d, t, keys, vals, i);
}

static cr_value *jobject(jdec *d, const json_t *j, const cr_type *t, int depth)
{
    if (!json_is_object(j)) {
        jwrong(d, "object", j);
        return NULL;
    }
    cr_value *o = cr_value_object(t);
    if (!o) {
        cr_vdec_oom(d);
        return NULL;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)j, key, val) {
        long at = cr_vdec_attr(d, t, key);
        if (at < 0)
            break;
        cr_lpath_push(&d->path, CR_STEP_ATTR, key, 0);
        cr_value *av = jdecode(d, val, t->attrs[at].type, depth + 1);
        cr_lpath_pop(&d->path);
        if (!av)
            break;
        cr_value_free(o->u.coll.items[at]);
        o->u.coll.items[at] = av;
    }
    if (d->failed) {
        cr_value_free(o);
        return NULL;
    }
    /* Attributes the JSON lacks stay null: a state written by an older
     * schema version simply did not have them. */
    return o;
}

static cr_value *jdecode(jdec *d, const json_t *j, const cr_type *t, int depth)
{
    if (!d->budget) {
        cr_vdec_error(d, "Invalid value: too many values",
                      "A value may hold at most " CR_VALUE_MAX_ITEMS_TEXT
                      " values.");
        return NULL;
    }
    d->budget--;
    if (!cr_vdec_depth_ok(d, depth))
        return NULL;
    if (json_is_null(j))
        return cr_vdec_null(d, t);
    switch (t->kind) {
    case CR_TYPE_DYNAMIC:
        return jdynamic(d, j, depth);
    case CR_TYPE_STRING: case CR_TYPE_NUMBER: case CR_TYPE_BOOL:
        return jprimitive(d, j, t);
    case CR_TYPE_LIST: case CR_TYPE_SET: case CR_TYPE_TUPLE:
        return jseq(d, j, t, depth);
    case CR_TYPE_MAP:
        return jmap(d, j, t, depth);
    case CR_TYPE_OBJECT:
        return jobject(d, j, t, depth);
    }
    cr_vdec_error(d, "Invalid type", "The expected type is not a cty type.");
    return NULL;
}

cr_value *cr_value_decode_json(const char *buf, size_t len, const cr_type *t,
                               cr_diags *diags)
{
    jdec d = { .diags = diags, .wire = "JSON", .budget = CR_VALUE_MAX_ITEMS };
    if (!t) {
        cr_vdec_error(&d, "Invalid type",
                      "No type was given to decode against.");
        return NULL;
    }
    rewrite r = {0};
    size_t bad = 0;
    bool too_many = false;
    cr_value *v = NULL;
    if (rewrite_numbers(&r, buf ? buf : "", buf ? len : 0, &bad, &too_many) < 0) {
        if (r.out.failed) {
            cr_vdec_oom(&d);
        } else if (too_many) {
            cr_vdec_error(&d, "Invalid value: too many values",
                          "A value may hold at most " CR_VALUE_MAX_ITEMS_TEXT
                          " values.");
        } else {
            int line, col;
            line_col(buf, len, bad, &line, &col);
            cr_vdec_error(&d, "Invalid JSON", "%d:%d: invalid number literal.",
                          line, col);
        }
        goto out;
    }
    json_error_t jerr;
    json_t *j = json_loadb(r.out.s ? r.out.s : "", r.out.len,
                           JSON_DECODE_ANY | JSON_REJECT_DUPLICATES
                           | JSON_ALLOW_NUL, &jerr);
    if (!j) {
        int line, col;
        size_t pos = jerr.position > 0 ? (size_t)jerr.position : 0;
        line_col(buf, len, rw_original(&r, pos), &line, &col);
        /* jansson quotes the rewritten text after " near "; the position
         * already says where, and the quote could show our markers. */
        char *near = strstr(jerr.text, " near '");
        if (near)
            *near = '\0';
        cr_vdec_error(&d, "Invalid JSON", "%d:%d: %s.", line, col, jerr.text);
        goto out;
    }
    v = jdecode(&d, j, t, 1);
    json_decref(j);
out:
    free(r.out.s);
    free(r.shifts);
    return v;
}

/* ---- encoding -------------------------------------------------------------------- */

static void put_json_string(cr_tbuf *o, const char *s, size_t n)
{
    char *q = cr_json_quote(s, n);
    if (!q) {
        o->failed = true;
        return;
    }
    cr_tbuf_puts(o, q);
    free(q);
}

static int jencode(cr_tbuf *o, const cr_value *v, const cr_type *t)
{
    const cr_type *vt = v->type ? v->type : &cr_type_dynamic;
    if (t && t->kind == CR_TYPE_DYNAMIC && vt->kind != CR_TYPE_DYNAMIC) {
        char *tj = cr_type_to_json(vt);
        if (!tj)
            return -1;
        cr_tbuf_put(o, "{\"value\":", 9);
        int rc = jencode(o, v, vt);
        cr_tbuf_put(o, ",\"type\":", 8);
        cr_tbuf_puts(o, tj);
        cr_tbuf_put(o, "}", 1);
        free(tj);
        return rc;
    }
    switch (v->kind) {
    case CR_NULL:
        cr_tbuf_put(o, "null", 4);
        return 0;
    case CR_UNKNOWN:
        return -1;          /* JSON has no unknowns */
    case CR_STRING:
        if (!cr_utf8_valid(v->u.str.ptr, v->u.str.len))
            return -1;
        put_json_string(o, v->u.str.ptr, v->u.str.len);
        return 0;
    case CR_NUMBER:
        if (cr_num_is_inf(v))
            return -1;      /* cty cannot write infinity as JSON either */
        {
            /* Plain decimal, as go-cty's JSON marshaller writes. */
            char *plain = cr_num_plain(v->u.num.text);
            if (!plain)
                return -1;
            cr_tbuf_puts(o, plain);
            free(plain);
        }
        return 0;
    case CR_BOOL:
        cr_tbuf_put(o, v->u.b ? "true" : "false", v->u.b ? 4 : 5);
        return 0;
    case CR_LIST: case CR_SET: case CR_TUPLE:
        cr_tbuf_put(o, "[", 1);
        for (size_t i = 0; i < v->u.coll.len; i++) {
            const cr_type *et = vt->kind == CR_TYPE_TUPLE
                ? (i < vt->nattrs ? vt->attrs[i].type : NULL) : vt->elem;
            if (i)
                cr_tbuf_put(o, ",", 1);
            if (jencode(o, v->u.coll.items[i], et) < 0)
                return -1;
        }
        cr_tbuf_put(o, "]", 1);
        return 0;
    case CR_MAP: case CR_OBJECT:
        cr_tbuf_put(o, "{", 1);
        for (size_t i = 0; i < v->u.coll.len; i++) {
            const cr_type *et = vt->kind == CR_TYPE_OBJECT
                ? (i < vt->nattrs ? vt->attrs[i].type : NULL) : vt->elem;
            if (i)
                cr_tbuf_put(o, ",", 1);
            put_json_string(o, v->u.coll.keys[i], strlen(v->u.coll.keys[i]));
            cr_tbuf_put(o, ":", 1);
            if (jencode(o, v->u.coll.items[i], et) < 0)
                return -1;
        }
        cr_tbuf_put(o, "}", 1);
        return 0;
    }
    return -1;
}

char *cr_value_encode_json(const cr_value *v)
{
    return cr_value_encode_json_as(v, v ? v->type : NULL);
}

char *cr_value_encode_json_as(const cr_value *v, const cr_type *t)
{
    cr_tbuf o = {0};
    int rc = v ? jencode(&o, v, t) : (cr_tbuf_puts(&o, "null"), 0);
    if (rc < 0 || o.failed || !o.s) {
        free(o.s);
        return NULL;
    }
    return o.s;
}
