/*
 * value/json.c — the cty JSON codec (RawState.json, DynamicValue.json).
 *
 * Decoding streams: yajl's parser reports tokens (yajl_parse.h callbacks)
 * and the value is built as they arrive, against the expected type, with
 * one frame per open container. No document tree is ever made, which is
 * what a stored state of 100,000 tenants (25 MB of JSON, a million values)
 * needs: building jansson's tree and freeing it again cost ten times the
 * parse itself. yajl also hands over every number as its own text, and cty
 * numbers are arbitrary precision, so 0.1 and 18446744073709551616 arrive
 * exactly, without going through a C double.
 *
 * The rules follow go-cty's json package: null is null for any type; a
 * string type also accepts number and bool tokens, a number type a string
 * holding a decimal, a bool type "true"/"false" strings; object attributes
 * missing from the JSON are null; unknown attributes are errors; a dynamic
 * value is {"value": V, "type": T}. Since the two members may come in
 * either order, a dynamic value's text is first passed over as it is
 * parsed, then its type is read and its value decoded from the same bytes
 * (dyn_decode). Stricter than go-cty on purpose: duplicate object and map
 * keys are errors (Go keeps the last one), and so is a \u escape of a lone
 * UTF-16 surrogate (Go substitutes U+FFFD, yajl a '?').
 *
 * The steps that do not depend on the wire form (errors at their path,
 * strings, number text, maps, attribute lookup) are decode.c's, shared
 * with the MessagePack decoder.
 */
#include "value/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* ---- positions -------------------------------------------------------------------- */

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

/* ---- the streaming decoder ---------------------------------------------------------- */

/* What a token is, for "Expected a map, but the JSON value is ...". */
#define GOT_OBJECT "an object"
#define GOT_ARRAY  "an array"
#define GOT_NUMBER "a number"
#define GOT_STRING "a string"
#define GOT_BOOL   "a bool"

typedef enum { F_OBJECT, F_MAP, F_SEQ, F_SKIP } frame_kind;

/* One open container. Its elements are delivered to it as they complete;
 * the path step of the element being read is pushed when its key (or
 * index) is known and popped when it is delivered. */
typedef struct frame {
    frame_kind kind;
    const cr_type *t;
    cr_value *obj;          /* OBJECT: slots NULL until filled */
    long attr;              /* OBJECT: slot of the value being read */
    char **keys;            /* MAP: keys[n] is the pending key, if any */
    cr_value **items;       /* MAP values, SEQ elements */
    size_t n, cap;
    bool pending;           /* MAP: keys[n] is set; SEQ: a step is pushed */
    size_t start;           /* SKIP: offset of the dynamic value's '{' */
    int nest;               /* SKIP: containers open inside it */
} frame;

/* One parse of one JSON text (the document, or a dynamic value's member
 * inside it) into one value of type `t`. */
typedef struct jparse {
    cr_vdec *d;             /* shared by nested parses: path, budget, error */
    const char *src;
    size_t len;
    yajl_handle h;
    const cr_type *t;
    int depth;              /* depth of the text's top value */
    cr_value *result;
    size_t nframes;
    frame f[CR_VALUE_MAX_DEPTH + 2];
} jparse;

static cr_value *jtext(cr_vdec *d, const char *src, size_t len,
                       const cr_type *t, int depth);

static frame *top(jparse *p)
{
    return p->nframes ? &p->f[p->nframes - 1] : NULL;
}

/* Offset just past the token being reported (valid inside a callback). */
static size_t here(const jparse *p)
{
    return yajl_get_bytes_consumed(p->h);
}

/* An error in the text itself: it has a line and column, not a path. */
static void syntax_error(jparse *p, size_t off, const char *what)
{
    int line, col;
    size_t depth = p->d->path.len;
    line_col(p->src, p->len, off, &line, &col);
    p->d->path.len = 0;
    cr_vdec_error(p->d, "Invalid JSON", "%d:%d: %s.", line, col, what);
    p->d->path.len = depth;
}

/* The type of the value that starts now, after the budget and depth
 * checks; NULL (error reported) when it cannot be read. A sequence's
 * element gets its index step here. */
static const cr_type *begin(jparse *p)
{
    cr_vdec *d = p->d;
    frame *f = top(p);
    const cr_type *t = p->t;

    if (f) {
        switch (f->kind) {
        case F_OBJECT:
            t = f->t->attrs[f->attr].type;
            break;
        case F_MAP:
            t = f->t->elem;
            break;
        case F_SEQ:
            if (f->t->kind == CR_TYPE_TUPLE) {
                if (f->n >= f->t->nattrs) {
                    cr_vdec_error(d, "Invalid value: wrong number of tuple "
                                  "elements", "A tuple of %zu elements is "
                                  "required (more given).", f->t->nattrs);
                    return NULL;
                }
                t = f->t->attrs[f->n].type;
            } else {
                t = f->t->elem;
            }
            /* Set elements have no index Terraform could point at: an
             * error inside one is reported on the set itself. */
            f->pending = f->t->kind != CR_TYPE_SET;
            if (f->pending)
                cr_lpath_push(&d->path, CR_STEP_INDEX, NULL, (int64_t)f->n);
            break;
        case F_SKIP:
            return NULL;
        }
    }
    if (!d->budget) {
        cr_vdec_error(d, "Invalid value: too many values",
                      "A value may hold at most " CR_VALUE_MAX_ITEMS_TEXT
                      " values.");
        return NULL;
    }
    d->budget--;
    if (!cr_vdec_depth_ok(d, p->depth + (int)p->nframes))
        return NULL;
    return t;
}

/* Hands a finished value to the container it belongs to (or makes it the
 * result). Takes v; false when it is NULL (an error was reported). */
static bool deliver(jparse *p, cr_value *v)
{
    frame *f = top(p);
    if (!v)
        return false;
    if (!f) {
        p->result = v;
        return true;
    }
    switch (f->kind) {
    case F_OBJECT:
        f->obj->u.coll.items[f->attr] = v;
        f->attr = -1;
        cr_lpath_pop(&p->d->path);
        return true;
    case F_MAP:
        f->items[f->n++] = v;
        f->pending = false;
        cr_lpath_pop(&p->d->path);
        return true;
    case F_SEQ:
        if (f->n == f->cap) {
            size_t cap = f->cap ? f->cap * 2 : 8;
            cr_value **items = realloc(f->items, cap * sizeof *items);
            if (!items) {
                cr_value_free(v);
                cr_vdec_oom(p->d);
                return false;
            }
            f->items = items;
            f->cap = cap;
        }
        f->items[f->n++] = v;
        if (f->pending)
            cr_lpath_pop(&p->d->path);
        f->pending = false;
        return true;
    case F_SKIP:
        break;
    }
    cr_value_free(v);
    return false;
}

static void wrong(jparse *p, const cr_type *t, const char *got)
{
    const char *what;
    switch (t->kind) {
    case CR_TYPE_DYNAMIC: what = "dynamic value object"; break;
    case CR_TYPE_STRING:  what = "string"; break;
    case CR_TYPE_NUMBER:  what = "number"; break;
    case CR_TYPE_BOOL:    what = "bool"; break;
    case CR_TYPE_MAP:     what = "map"; break;
    case CR_TYPE_OBJECT:  what = "object"; break;
    default:              what = cr_vdec_seq_what(t); break;
    }
    cr_vdec_wrong(p->d, what, got);
}

/* Every callback returns 1 to go on and 0 to stop the parse (an error has
 * been reported); inside a dynamic value being passed over, tokens are
 * only counted. */
static bool skipping(jparse *p)
{
    frame *f = top(p);
    return f && f->kind == F_SKIP;
}

static int on_null(void *ctx)
{
    jparse *p = ctx;
    if (skipping(p))
        return 1;
    const cr_type *t = begin(p);
    return t && deliver(p, cr_vdec_null(p->d, t));
}

static int on_boolean(void *ctx, int b)
{
    jparse *p = ctx;
    if (skipping(p))
        return 1;
    const cr_type *t = begin(p);
    if (!t)
        return 0;
    switch (t->kind) {
    case CR_TYPE_BOOL:
        return deliver(p, cr_vdec_made(p->d, cr_value_bool(b)));
    case CR_TYPE_STRING:
        return deliver(p, cr_vdec_made(p->d,
                                       cr_value_string(b ? "true" : "false")));
    default:
        wrong(p, t, GOT_BOOL);
        return 0;
    }
}

static int on_number(void *ctx, const char *s, size_t n)
{
    jparse *p = ctx;
    if (skipping(p))
        return 1;
    const cr_type *t = begin(p);
    if (!t)
        return 0;
    switch (t->kind) {
    case CR_TYPE_NUMBER:
        return deliver(p, cr_vdec_number_text(p->d, s, n));
    case CR_TYPE_STRING:
        /* A number token becomes its own spelling, as in cty. */
        return deliver(p, cr_vdec_string(p->d, s, n));
    default:
        wrong(p, t, GOT_NUMBER);
        return 0;
    }
}

static int on_string(void *ctx, const unsigned char *u, size_t n)
{
    jparse *p = ctx;
    const char *s = (const char *)u;
    if (skipping(p))
        return 1;
    const cr_type *t = begin(p);
    if (!t)
        return 0;
    switch (t->kind) {
    case CR_TYPE_STRING:
        return deliver(p, cr_vdec_string(p->d, s, n));
    case CR_TYPE_NUMBER:
        return deliver(p, cr_vdec_number_text(p->d, s, n));
    case CR_TYPE_BOOL:
        if ((n == 4 && !memcmp(s, "true", 4))
            || (n == 5 && !memcmp(s, "false", 5)))
            return deliver(p, cr_vdec_made(p->d, cr_value_bool(n == 4)));
        /* fall through */
    default:
        wrong(p, t, GOT_STRING);
        return 0;
    }
}

static frame *push(jparse *p, frame_kind kind, const cr_type *t)
{
    /* begin() bounded the depth, so the frames always suffice. */
    frame *f = &p->f[p->nframes++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->t = t;
    f->attr = -1;
    return f;
}

/* Inside a dynamic value being passed over: one more container open.
 * Its nesting is bounded here too (the value is decoded later), so
 * yajl's own stack cannot grow without end. */
static int skip_open(jparse *p)
{
    frame *f = top(p);
    f->nest++;
    return cr_vdec_depth_ok(p->d, p->depth + (int)p->nframes + f->nest - 1);
}

static int on_start_map(void *ctx)
{
    jparse *p = ctx;
    if (skipping(p))
        return skip_open(p);
    const cr_type *t = begin(p);
    if (!t)
        return 0;
    switch (t->kind) {
    case CR_TYPE_OBJECT: {
        cr_value *o = cr_value_object_slots(t);
        if (!o) {
            cr_vdec_oom(p->d);
            return 0;
        }
        push(p, F_OBJECT, t)->obj = o;
        return 1;
    }
    case CR_TYPE_MAP:
        push(p, F_MAP, t);
        return 1;
    case CR_TYPE_DYNAMIC: {
        frame *f = push(p, F_SKIP, t);
        f->start = here(p) - 1;         /* the '{' just read */
        f->nest = 1;
        return 1;
    }
    default:
        wrong(p, t, GOT_OBJECT);
        return 0;
    }
}

/* A map key or attribute name: no NUL (keys are C strings here) and valid
 * UTF-8 (yajl checks raw bytes; a \u escape can still make a bad one). */
static bool key_ok(jparse *p, const char *s, size_t n)
{
    if (memchr(s, '\0', n) || !cr_utf8_valid(s, n)) {
        cr_vdec_error(p->d, "Invalid value: invalid key",
                      "A map or object key contains a NUL byte or is not "
                      "valid UTF-8.");
        return false;
    }
    return true;
}

static int on_map_key(void *ctx, const unsigned char *u, size_t n)
{
    jparse *p = ctx;
    const char *s = (const char *)u;
    frame *f = top(p);
    if (f->kind == F_SKIP)
        return 1;
    if (!key_ok(p, s, n))
        return 0;
    if (f->kind == F_OBJECT) {
        char small[128], *name = n < sizeof small ? small : malloc(n + 1);
        if (!name) {
            cr_vdec_oom(p->d);
            return 0;
        }
        memcpy(name, s, n);
        name[n] = '\0';
        long at = cr_vdec_attr(p->d, f->t, name);
        if (name != small)
            free(name);
        if (at < 0)
            return 0;
        if (f->obj->u.coll.items[at]) {
            syntax_error(p, here(p), "duplicate object key");
            return 0;
        }
        f->attr = at;
        cr_lpath_push(&p->d->path, CR_STEP_ATTR, f->t->attrs[at].name, 0);
        return 1;
    }
    /* A map: keys and values are collected, then sorted once (inserting
     * them one by one into the sorted map would be quadratic on a large
     * hostile document). */
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        char **keys = realloc(f->keys, cap * sizeof *keys);
        if (keys)
            f->keys = keys;
        cr_value **items = keys ? realloc(f->items, cap * sizeof *items)
                                : NULL;
        if (!items) {
            cr_vdec_oom(p->d);
            return 0;
        }
        f->items = items;
        f->cap = cap;
    }
    char *k = malloc(n + 1);
    if (!k) {
        cr_vdec_oom(p->d);
        return 0;
    }
    memcpy(k, s, n);
    k[n] = '\0';
    f->keys[f->n] = k;
    f->pending = true;
    cr_lpath_push(&p->d->path, CR_STEP_KEY, k, 0);
    return 1;
}

/* Closes the top frame, handing back what it built (NULL on error). */
static cr_value *close_frame(jparse *p)
{
    frame *f = &p->f[--p->nframes];
    cr_vdec *d = p->d;
    cr_value *v = NULL;

    switch (f->kind) {
    case F_OBJECT: {
        /* Attributes the JSON lacks are null: a state written by an older
         * schema version simply did not have them. */
        cr_value **slot = f->obj->u.coll.items;
        for (size_t i = 0; i < f->t->nattrs; i++)
            if (!slot[i] && !(slot[i] = cr_value_null(f->t->attrs[i].type))) {
                cr_value_free(f->obj);
                return cr_vdec_made(d, NULL);
            }
        return f->obj;
    }
    case F_MAP:
        if (!f->keys) {
            f->keys = malloc(sizeof *f->keys);
            f->items = malloc(sizeof *f->items);
        }
        if (!f->keys || !f->items) {
            cr_value_free_entries(f->keys, f->items, 0);
            return cr_vdec_made(d, NULL);
        }
        return cr_vdec_map(d, f->t, f->keys, f->items, f->n);
    case F_SEQ:
        if (f->t->kind == CR_TYPE_TUPLE && f->n != f->t->nattrs) {
            cr_value_free_items(f->items, f->n);
            cr_vdec_error(d, "Invalid value: wrong number of tuple elements",
                          "A tuple of %zu elements is required (%zu given).",
                          f->t->nattrs, f->n);
            return NULL;
        }
        if (!f->items && !(f->items = malloc(sizeof *f->items)))
            return cr_vdec_made(d, NULL);
        v = f->t->kind == CR_TYPE_SET
            ? cr_value_set_adopt(f->t, f->items, f->n)
            : cr_value_seq_adopt(f->t->kind == CR_TYPE_LIST ? CR_LIST
                                                            : CR_TUPLE,
                                 f->t, f->items, f->n);
        return cr_vdec_made(d, v);
    case F_SKIP:
        break;
    }
    return NULL;
}

/* ---- dynamic values ------------------------------------------------------------ */

/* Where the members of a {"value": V, "type": T} object are in its text. */
typedef struct dynscan {
    jparse *p;              /* for the error path and the budget */
    yajl_handle h;
    const char *src;
    size_t len;
    int nest;               /* containers open, the wrapper being 1 */
    int member;             /* 0 none, 1 value, 2 type: being read */
    size_t at[3], end[3];   /* member -> [at, end) */
    bool seen[3];
} dynscan;

static void dyn_error(dynscan *s, const char *detail)
{
    cr_vdec_error(s->p->d, "Invalid value: invalid dynamic value", "%s",
                  detail);
}

/* After a token: when a member's value has just ended, note where. */
static int dyn_after(dynscan *s)
{
    if (s->member && s->nest == 1) {
        s->end[s->member] = yajl_get_bytes_consumed(s->h);
        s->member = 0;
    }
    return 1;
}

static int dyn_scalar(void *ctx) { return dyn_after(ctx); }
static int dyn_boolean(void *ctx, int b) { (void)b; return dyn_after(ctx); }
static int dyn_number(void *ctx, const char *s, size_t n)
{
    (void)s; (void)n;
    return dyn_after(ctx);
}
static int dyn_string(void *ctx, const unsigned char *s, size_t n)
{
    (void)s; (void)n;
    return dyn_after(ctx);
}
static int dyn_open(void *ctx)
{
    dynscan *s = ctx;
    s->nest++;
    return 1;
}
static int dyn_close(void *ctx)
{
    dynscan *s = ctx;
    s->nest--;
    return dyn_after(s);
}

static int dyn_key(void *ctx, const unsigned char *k, size_t n)
{
    dynscan *s = ctx;
    if (s->nest != 1)
        return 1;
    int m = n == 5 && !memcmp(k, "value", 5) ? 1
          : n == 4 && !memcmp(k, "type", 4) ? 2 : 0;
    if (!m) {
        /* k is not NUL-terminated: the quote is cut at n (or 64). */
        char detail[160];
        snprintf(detail, sizeof detail, "A dynamic value has only \"type\" "
                 "and \"value\", not \"%.*s\".", (int)(n < 64 ? n : 64),
                 (const char *)k);
        dyn_error(s, detail);
        return 0;
    }
    if (s->seen[m]) {
        dyn_error(s, m == 1 ? "A dynamic value has \"value\" twice."
                            : "A dynamic value has \"type\" twice.");
        return 0;
    }
    /* The member's value starts after the ':' that follows the key. */
    size_t i = yajl_get_bytes_consumed(s->h);
    while (i < s->len && s->src[i] != ':')
        i++;
    s->at[m] = i + 1;
    s->seen[m] = true;
    s->member = m;
    return 1;
}

static const yajl_callbacks dyn_callbacks = {
    dyn_scalar, dyn_boolean, NULL, NULL, dyn_number, dyn_string,
    dyn_open, dyn_key, dyn_close, dyn_open, dyn_close,
};

/* Decodes the dynamic value whose text (already parsed once: it is valid
 * JSON) is src[0..len): its type first, then its value against it. */
static cr_value *dyn_decode(jparse *p, const char *src, size_t len, int depth)
{
    dynscan s = { .p = p, .src = src, .len = len };
    s.h = yajl_alloc(&dyn_callbacks, NULL, &s);
    if (!s.h) {
        cr_vdec_oom(p->d);
        return NULL;
    }
    yajl_status st = yajl_parse(s.h, (const unsigned char *)src, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(s.h);
    yajl_free(s.h);
    if (p->d->failed)
        return NULL;
    if (st != yajl_status_ok) {
        cr_vdec_oom(p->d);      /* the text parsed once already */
        return NULL;
    }
    if (!s.seen[1] || !s.seen[2]) {
        dyn_error(&s, "A dynamic value needs both \"type\" and \"value\".");
        return NULL;
    }
    cr_type *t = cr_vdec_dynamic_type(p->d, src + s.at[2],
                                      s.end[2] - s.at[2]);
    if (!t)
        return NULL;
    cr_value *v = jtext(p->d, src + s.at[1], s.end[1] - s.at[1], t,
                        depth + 1);
    cr_type_unref(t);       /* the value holds its own reference */
    return v;
}

static int on_end_map(void *ctx)
{
    jparse *p = ctx;
    frame *f = top(p);
    if (f->kind == F_SKIP) {
        if (--f->nest > 0)
            return 1;
        size_t start = f->start, end = here(p);
        int depth = p->depth + (int)p->nframes - 1;
        p->nframes--;
        return deliver(p, dyn_decode(p, p->src + start, end - start, depth));
    }
    return deliver(p, close_frame(p));
}

static int on_start_array(void *ctx)
{
    jparse *p = ctx;
    if (skipping(p))
        return skip_open(p);
    const cr_type *t = begin(p);
    if (!t)
        return 0;
    switch (t->kind) {
    case CR_TYPE_LIST: case CR_TYPE_SET: case CR_TYPE_TUPLE:
        push(p, F_SEQ, t);
        return 1;
    default:
        wrong(p, t, GOT_ARRAY);
        return 0;
    }
}

static int on_end_array(void *ctx)
{
    jparse *p = ctx;
    frame *f = top(p);
    if (f->kind == F_SKIP) {
        f->nest--;
        return 1;
    }
    return deliver(p, close_frame(p));
}

static const yajl_callbacks callbacks = {
    on_null, on_boolean, NULL, NULL, on_number, on_string,
    on_start_map, on_map_key, on_end_map, on_start_array, on_end_array,
};

/* Releases what the open frames hold after a failed parse. */
static void unwind(jparse *p)
{
    while (p->nframes) {
        frame *f = &p->f[--p->nframes];
        switch (f->kind) {
        case F_OBJECT:
            cr_value_free(f->obj);
            break;
        case F_MAP:
            if (f->pending)
                free(f->keys[f->n]);
            cr_value_free_entries(f->keys, f->items, f->n);
            break;
        case F_SEQ:
            cr_value_free_items(f->items, f->n);
            break;
        case F_SKIP:
            break;
        }
    }
}

/* The value of type t in src[0..len), whose top value is at `depth`. */
static cr_value *jtext(cr_vdec *d, const char *src, size_t len,
                       const cr_type *t, int depth)
{
    jparse *p = malloc(sizeof *p);
    if (!p) {
        cr_vdec_oom(d);
        return NULL;
    }
    *p = (jparse){ .d = d, .src = src, .len = len, .t = t, .depth = depth };
    p->h = yajl_alloc(&callbacks, NULL, p);
    if (!p->h) {
        free(p);
        cr_vdec_oom(d);
        return NULL;
    }
    yajl_status st = yajl_parse(p->h, (const unsigned char *)src, len);
    size_t off = yajl_get_bytes_consumed(p->h);
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(p->h);
        off = len;      /* complete_parse reports what is missing at the end */
    }
    if (st == yajl_status_error && !d->failed) {
        unsigned char *msg = yajl_get_error(p->h, 0, NULL, 0);
        char what[160];
        snprintf(what, sizeof what, "%s",
                 msg ? (const char *)msg : "malformed JSON");
        if (msg)
            yajl_free_error(p->h, msg);
        /* yajl's messages end in ".\n" or "\n": the caller's format adds
         * its own full stop. */
        size_t n = strlen(what);
        while (n && (what[n - 1] == '\n' || what[n - 1] == '.'
                     || what[n - 1] == ' '))
            what[--n] = '\0';
        syntax_error(p, off, what);
    }
    cr_value *v = p->result;
    if (d->failed || st != yajl_status_ok) {
        unwind(p);
        cr_value_free(v);
        v = NULL;
        if (!d->failed)
            cr_vdec_oom(d);
    }
    yajl_free(p->h);
    free(p);
    return v;
}

cr_value *cr_value_decode_json(const char *buf, size_t len, const cr_type *t,
                               cr_diags *diags)
{
    cr_vdec d = { .diags = diags, .wire = "JSON", .budget = CR_VALUE_MAX_ITEMS };
    if (!t) {
        cr_vdec_error(&d, "Invalid type",
                      "No type was given to decode against.");
        return NULL;
    }
    if (!buf) {
        buf = "";
        len = 0;
    }
    size_t bad = cr_json_bad_escape(buf, len, false);
    if (bad < len) {
        int line, col;
        line_col(buf, len, bad, &line, &col);
        cr_vdec_error(&d, "Invalid JSON", "%d:%d: a \\u escape names half "
                      "of a UTF-16 surrogate pair without the other half.",
                      line, col);
        return NULL;
    }
    return jtext(&d, buf, len, t, 1);
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
