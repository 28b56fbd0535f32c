/*
 * value/type.c — cty types: the static primitives, run-time composite types,
 * equality and the JSON type syntax Terraform uses in schemas and in the
 * first element of a dynamic value.
 *
 * Run-time types live in a box with a reference count. A composite type owns
 * one reference to each of its run-time children, so releasing the root
 * releases the tree; values hold a reference to their run-time type, which
 * is what lets a copy of a dynamic value outlive the original.
 *
 * Calls text.c only (never value.c: values call types, not the other way).
 * May include: value/internal.h, jansson.
 */
#include "value/internal.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cr_type cr_type_string  = { .kind = CR_TYPE_STRING };
const cr_type cr_type_number  = { .kind = CR_TYPE_NUMBER };
const cr_type cr_type_bool    = { .kind = CR_TYPE_BOOL };
const cr_type cr_type_dynamic = { .kind = CR_TYPE_DYNAMIC };

/* The type comes first so a cr_type pointer is the start of its block:
 * types kept for the life of the process (resource/schema.c's cache) then
 * read as plainly reachable to leak checkers such as valgrind, rather than
 * as "possibly lost" blocks known only through an interior pointer. */
typedef struct type_box {
    cr_type t;
    atomic_size_t refs;
} type_box;

static type_box *box_of(const cr_type *t)
{
    return (type_box *)(void *)((char *)(uintptr_t)t - offsetof(type_box, t));
}

static cr_type *box_new(cr_type_kind kind)
{
    type_box *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    b->t.kind = kind;
    b->t.owned = true;
    return &b->t;
}

const cr_type *cr_type_ref(const cr_type *t)
{
    if (t && t->owned)
        atomic_fetch_add_explicit(&box_of(t)->refs, 1, memory_order_relaxed);
    return t;
}

void cr_type_unref(const cr_type *t)
{
    if (!t || !t->owned)
        return;
    type_box *b = box_of(t);
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    cr_type_unref(b->t.elem);
    for (size_t i = 0; i < b->t.nattrs; i++) {
        free((char *)(uintptr_t)b->t.attrs[i].name);
        cr_type_unref(b->t.attrs[i].type);
    }
    free((void *)(uintptr_t)b->t.attrs);
    free(b);
}

void cr_type_free(cr_type *t)
{
    cr_type_unref(t);
}

cr_type *cr_type_collection(cr_type_kind kind, const cr_type *elem)
{
    if ((kind != CR_TYPE_LIST && kind != CR_TYPE_SET && kind != CR_TYPE_MAP)
        || !elem) {
        cr_type_unref(elem);
        return NULL;
    }
    cr_type *t = box_new(kind);
    if (!t) {
        cr_type_unref(elem);
        return NULL;
    }
    t->elem = elem;
    return t;
}

static int attr_cmp(const void *a, const void *b)
{
    return strcmp(((const cr_type_attr *)a)->name,
                  ((const cr_type_attr *)b)->name);
}

/* Shared by objects and tuples: adopts every type (even on failure). */
static cr_type *composite_new(cr_type_kind kind, size_t n,
                              const char *const *names,
                              const cr_type *const *types)
{
    cr_type *t = box_new(kind);
    cr_type_attr *attrs = n ? calloc(n, sizeof *attrs) : NULL;
    bool ok = t && (attrs || !n);
    for (size_t i = 0; i < n; i++) {
        if (!types[i])
            ok = false;
        if (attrs) {
            attrs[i].type = types[i];
            if (names) {
                attrs[i].name = names[i] ? strdup(names[i]) : NULL;
                if (!attrs[i].name)
                    ok = false;
            }
        } else {
            cr_type_unref(types[i]);
        }
    }
    if (ok && names && n > 1) {
        qsort(attrs, n, sizeof *attrs, attr_cmp);
        for (size_t i = 1; i < n; i++)
            if (!strcmp(attrs[i - 1].name, attrs[i].name))
                ok = false;        /* duplicate attribute name */
    }
    if (t) {
        t->attrs = attrs;
        t->nattrs = attrs ? n : 0;
    }
    if (!ok) {
        if (t) {
            cr_type_unref(t);
        } else if (attrs) {
            for (size_t i = 0; i < n; i++) {
                free((char *)(uintptr_t)attrs[i].name);
                cr_type_unref(attrs[i].type);
            }
            free(attrs);
        }
        return NULL;
    }
    return t;
}

cr_type *cr_type_object(size_t n, const char *const *names,
                        const cr_type *const *types)
{
    if (n && !names) {
        for (size_t i = 0; i < n; i++)
            cr_type_unref(types[i]);
        return NULL;
    }
    return composite_new(CR_TYPE_OBJECT, n, names, types);
}

cr_type *cr_type_tuple(size_t n, const cr_type *const *types)
{
    return composite_new(CR_TYPE_TUPLE, n, NULL, types);
}

bool cr_type_equal(const cr_type *a, const cr_type *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->kind != b->kind)
        return false;
    switch (a->kind) {
    case CR_TYPE_LIST: case CR_TYPE_SET: case CR_TYPE_MAP:
        return cr_type_equal(a->elem, b->elem);
    case CR_TYPE_OBJECT:
    case CR_TYPE_TUPLE:
        if (a->nattrs != b->nattrs)
            return false;
        for (size_t i = 0; i < a->nattrs; i++) {
            if (a->kind == CR_TYPE_OBJECT
                && strcmp(a->attrs[i].name, b->attrs[i].name))
                return false;
            if (!cr_type_equal(a->attrs[i].type, b->attrs[i].type))
                return false;
        }
        return true;
    default:
        return true;
    }
}

long cr_type_attr_index(const cr_type *obj, const char *name)
{
    if (!obj || obj->kind != CR_TYPE_OBJECT || !name)
        return -1;
    /* Linear on purpose: schema-declared static types are expected to be
     * sorted but a mistake there must not turn into a missed lookup. */
    for (size_t i = 0; i < obj->nattrs; i++)
        if (!strcmp(obj->attrs[i].name, name))
            return (long)i;
    return -1;
}

/* ---- JSON syntax ------------------------------------------------------------ */

/* The writer mirrors go-cty's MarshalJSON byte for byte: no whitespace,
 * object attributes in byte order, Go's string escaping (text.c). */
static int name_cmp(const void *a, const void *b)
{
    return strcmp((*(const cr_type_attr *const *)a)->name,
                  (*(const cr_type_attr *const *)b)->name);
}

static void type_write(cr_tbuf *b, const cr_type *t, int depth)
{
    if (depth > CR_VALUE_MAX_DEPTH) {
        b->failed = true;
        return;
    }
    switch (t->kind) {
    case CR_TYPE_STRING:  cr_tbuf_puts(b, "\"string\""); return;
    case CR_TYPE_NUMBER:  cr_tbuf_puts(b, "\"number\""); return;
    case CR_TYPE_BOOL:    cr_tbuf_puts(b, "\"bool\""); return;
    case CR_TYPE_DYNAMIC: cr_tbuf_puts(b, "\"dynamic\""); return;
    case CR_TYPE_LIST: case CR_TYPE_SET: case CR_TYPE_MAP:
        if (!t->elem) {
            b->failed = true;
            return;
        }
        cr_tbuf_puts(b, t->kind == CR_TYPE_LIST ? "[\"list\","
                 : t->kind == CR_TYPE_SET ? "[\"set\"," : "[\"map\",");
        type_write(b, t->elem, depth + 1);
        cr_tbuf_puts(b, "]");
        return;
    case CR_TYPE_TUPLE:
        cr_tbuf_puts(b, "[\"tuple\",[");
        for (size_t i = 0; i < t->nattrs; i++) {
            if (i)
                cr_tbuf_puts(b, ",");
            type_write(b, t->attrs[i].type, depth + 1);
        }
        cr_tbuf_puts(b, "]]");
        return;
    case CR_TYPE_OBJECT: {
        /* Types built here are sorted already; a static schema type might
         * not be, so sort pointers rather than trust it. */
        const cr_type_attr **order = malloc((t->nattrs ? t->nattrs : 1)
                                            * sizeof *order);
        if (!order) {
            b->failed = true;
            return;
        }
        for (size_t i = 0; i < t->nattrs; i++)
            order[i] = &t->attrs[i];
        qsort(order, t->nattrs, sizeof *order, name_cmp);
        cr_tbuf_puts(b, "[\"object\",{");
        for (size_t i = 0; i < t->nattrs && !b->failed; i++) {
            char *q = order[i]->name
                ? cr_json_quote(order[i]->name, strlen(order[i]->name)) : NULL;
            if (!q) {
                b->failed = true;
                break;
            }
            if (i)
                cr_tbuf_puts(b, ",");
            cr_tbuf_puts(b, q);
            cr_tbuf_puts(b, ":");
            free(q);
            type_write(b, order[i]->type, depth + 1);
        }
        cr_tbuf_puts(b, "}]");
        free(order);
        return;
    }
    }
    b->failed = true;
}

char *cr_type_to_json(const cr_type *t)
{
    if (!t)
        return NULL;
    cr_tbuf b = {0};
    type_write(&b, t, 0);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static void set_err(char **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(char **err, const char *fmt, ...)
{
    if (!err || *err)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(err, fmt, ap) < 0)
        *err = NULL;
    va_end(ap);
}

static const cr_type *type_from(const json_t *j, int depth, char **err)
{
    if (depth > CR_VALUE_MAX_DEPTH) {
        set_err(err, "type nests deeper than %d levels", CR_VALUE_MAX_DEPTH);
        return NULL;
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        if (json_string_length(j) == strlen(s)) {
            if (!strcmp(s, "string"))  return &cr_type_string;
            if (!strcmp(s, "number"))  return &cr_type_number;
            if (!strcmp(s, "bool"))    return &cr_type_bool;
            if (!strcmp(s, "dynamic")) return &cr_type_dynamic;
        }
        set_err(err, "invalid primitive type name \"%.64s\"", s);
        return NULL;
    }
    if (!json_is_array(j) || json_array_size(j) < 1
        || !json_is_string(json_array_get(j, 0))) {
        set_err(err, "a type must be a string or an array starting with a "
                "type kind");
        return NULL;
    }
    const char *kind = json_string_value(json_array_get(j, 0));
    size_t n = json_array_size(j);
    if (n != 2) {
        if (n == 3 && !strcmp(kind, "object"))
            set_err(err, "optional attribute markers are not allowed in "
                    "this type");
        else
            set_err(err, "type \"%.32s\" needs exactly one argument", kind);
        return NULL;
    }
    const json_t *arg = json_array_get(j, 1);
    cr_type_kind ck = 0;
    if (!strcmp(kind, "list"))        ck = CR_TYPE_LIST;
    else if (!strcmp(kind, "set"))    ck = CR_TYPE_SET;
    else if (!strcmp(kind, "map"))    ck = CR_TYPE_MAP;
    else if (!strcmp(kind, "object")) ck = CR_TYPE_OBJECT;
    else if (!strcmp(kind, "tuple"))  ck = CR_TYPE_TUPLE;
    else {
        set_err(err, "invalid complex type kind \"%.32s\"", kind);
        return NULL;
    }
    if (ck == CR_TYPE_LIST || ck == CR_TYPE_SET || ck == CR_TYPE_MAP) {
        const cr_type *e = type_from(arg, depth + 1, err);
        if (!e)
            return NULL;
        cr_type *t = cr_type_collection(ck, e);
        if (!t)
            set_err(err, "out of memory");
        return t;
    }
    /* go-cty writes the empty tuple type as ["tuple",null] (a nil Go
     * slice), so null stands for "no members" in both composite kinds. */
    json_t *none = NULL;
    if (json_is_null(arg))
        arg = none = ck == CR_TYPE_OBJECT ? json_object() : json_array();
    if (!arg) {
        set_err(err, "out of memory");
        return NULL;
    }
    if (ck == CR_TYPE_OBJECT && !json_is_object(arg)) {
        set_err(err, "object type needs a JSON object of attribute types");
        return NULL;
    }
    if (ck == CR_TYPE_TUPLE && !json_is_array(arg)) {
        set_err(err, "tuple type needs a JSON array of element types");
        return NULL;
    }
    size_t count = ck == CR_TYPE_OBJECT ? json_object_size(arg)
                                        : json_array_size(arg);
    const char **names = calloc(count + 1, sizeof *names);
    const cr_type **types = calloc(count + 1, sizeof *types);
    size_t got = 0;
    bool ok = names && types;
    if (!ok)
        set_err(err, "out of memory");
    if (ck == CR_TYPE_OBJECT) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)(uintptr_t)arg, key, val) {
            if (!ok)
                break;
            names[got] = key;
            types[got] = type_from(val, depth + 1, err);
            if (!types[got]) {
                ok = false;
                break;
            }
            got++;
        }
    } else {
        for (size_t i = 0; ok && i < count; i++) {
            types[got] = type_from(json_array_get(arg, i), depth + 1, err);
            if (!types[got]) {
                ok = false;
                break;
            }
            got++;
        }
    }
    cr_type *t = NULL;
    if (ok) {
        t = ck == CR_TYPE_OBJECT ? cr_type_object(got, names, types)
                                 : cr_type_tuple(got, types);
        if (!t)
            set_err(err, "out of memory");
    } else {
        for (size_t i = 0; i < got; i++)
            cr_type_unref(types[i]);
    }
    free(names);
    free(types);
    json_decref(none);
    return t;
}

cr_type *cr_type_from_json(const char *json, size_t len, char **err)
{
    if (err)
        *err = NULL;
    json_error_t jerr;
    json_t *j = json_loadb(json ? json : "", json ? len : 0,
                           JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        set_err(err, "invalid type JSON at %d:%d: %s", jerr.line,
                jerr.column, jerr.text);
        return NULL;
    }
    const cr_type *t = type_from(j, 0, err);
    json_decref(j);
    if (t && !t->owned) {
        /* A primitive: callers own what we return, so hand out a run-time
         * copy they may free like any other. */
        cr_type *c = box_new(t->kind);
        if (!c)
            set_err(err, "out of memory");
        return c;
    }
    return (cr_type *)(uintptr_t)t;
}
