/*
 * value/decode.c — what the JSON and MessagePack decoders share.
 *
 * Both codecs walk their parsed input against the expected cty type, and
 * most of what happens at each step does not depend on the wire form: how
 * an error is reported (first one only, at the attribute path), the nesting
 * bound, null, UTF-8 strings, decimal number text, the type of a dynamic
 * value, attribute lookup, and how sequences and maps are assembled from
 * their decoded elements. This file holds those steps once; json.c and
 * msgpack.c keep only what their encodings make different (which input
 * kinds a type accepts, unknown values, missing attributes).
 */
#include "value/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void cr_vdec_error(cr_vdec *d, const char *summary, const char *fmt, ...)
{
    if (d->failed)
        return;
    d->failed = 1;
    if (!d->diags)
        return;
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    cr_path p;
    if (cr_lpath_to_path(&d->path, &p) < 0) {
        cr_diags_error(d->diags, NULL, summary, "%s", detail);
        return;
    }
    cr_diags_error(d->diags, &p, summary, "%s", detail);
    cr_path_free(&p);
}

void cr_vdec_oom(cr_vdec *d)
{
    cr_vdec_error(d, "Out of memory", "The provider ran out of memory while "
                  "decoding a value.");
}

void cr_vdec_wrong(cr_vdec *d, const char *what, const char *got)
{
    char summary[64];
    snprintf(summary, sizeof summary, "Invalid value: %s required", what);
    cr_vdec_error(d, summary, "Expected %s, but the %s value is %s.", what,
                  d->wire, got);
}

cr_value *cr_vdec_made(cr_vdec *d, cr_value *v)
{
    if (!v)
        cr_vdec_oom(d);
    return v;
}

bool cr_vdec_depth_ok(cr_vdec *d, int depth)
{
    if (depth <= CR_VALUE_MAX_DEPTH)
        return true;
    cr_vdec_error(d, "Invalid value: nesting too deep",
                  "Values nest at most %d levels deep.", CR_VALUE_MAX_DEPTH);
    return false;
}

cr_value *cr_vdec_null(cr_vdec *d, const cr_type *t)
{
    return cr_vdec_made(d, cr_value_null(t));
}

cr_value *cr_vdec_string(cr_vdec *d, const char *p, size_t n)
{
    if (!cr_utf8_valid(p, n)) {
        cr_vdec_error(d, "Invalid value: string is not valid UTF-8",
                      "Strings must be UTF-8 text.");
        return NULL;
    }
    return cr_vdec_made(d, cr_value_stringn(p, n));
}

cr_value *cr_vdec_number_text(cr_vdec *d, const char *p, size_t n)
{
    int oom = 0;
    char *text = cr_num_canonical(p, n, &oom);
    if (!text && !oom) {
        cr_vdec_error(d, "Invalid value: number required",
                      "\"%.*s\" is not a decimal number.",
                      (int)(n > 64 ? 64 : n), p);
        return NULL;
    }
    /* cr_num_adopt(NULL) is NULL: reported as the ENOMEM it was. */
    return cr_vdec_made(d, cr_num_adopt(text));
}

cr_type *cr_vdec_dynamic_type(cr_vdec *d, const char *p, size_t n)
{
    char *err = NULL;
    cr_type *t = cr_type_from_json(p, n, &err);
    if (!t)
        cr_vdec_error(d, "Invalid value: invalid dynamic value type", "%s",
                      err ? err : "out of memory");
    free(err);
    return t;
}

long cr_vdec_attr(cr_vdec *d, const cr_type *t, const char *name)
{
    long at = cr_type_attr_index(t, name);
    if (at < 0) {
        cr_lpath_push(&d->path, CR_STEP_ATTR, name, 0);
        cr_vdec_error(d, "Invalid value: unsupported attribute",
                      "An attribute named \"%.64s\" is not expected here.",
                      name);
        cr_lpath_pop(&d->path);
    }
    return at;
}

const char *cr_vdec_seq_what(const cr_type *t)
{
    return t->kind == CR_TYPE_LIST ? "list"
         : t->kind == CR_TYPE_SET ? "set" : "tuple";
}

cr_value *cr_vdec_seq(cr_vdec *d, const cr_type *t, const void *seq, size_t n,
                      cr_vdec_elem_fn *elem, int depth)
{
    if (t->kind == CR_TYPE_TUPLE && n != t->nattrs) {
        cr_vdec_error(d, "Invalid value: wrong number of tuple elements",
                      "A tuple of %zu elements is required (%zu given).",
                      t->nattrs, n);
        return NULL;
    }
    cr_value **items = calloc(n ? n : 1, sizeof *items);
    if (!items) {
        cr_vdec_oom(d);
        return NULL;
    }
    /* Set elements have no index Terraform could point at: an error
     * inside one is reported on the set itself. */
    bool step = t->kind != CR_TYPE_SET;
    size_t i;
    for (i = 0; i < n; i++) {
        const cr_type *et = t->kind == CR_TYPE_TUPLE ? t->attrs[i].type
                                                     : t->elem;
        if (step)
            cr_lpath_push(&d->path, CR_STEP_INDEX, NULL, (int64_t)i);
        items[i] = elem(d, seq, i, et, depth + 1);
        if (step)
            cr_lpath_pop(&d->path);
        if (!items[i])
            break;
    }
    if (i < n) {
        cr_value_free_items(items, i);
        return NULL;
    }
    cr_value *v = t->kind == CR_TYPE_SET
        ? cr_value_set_adopt(t, items, n)
        : cr_value_seq_adopt(t->kind == CR_TYPE_LIST ? CR_LIST : CR_TUPLE, t,
                             items, n);
    return cr_vdec_made(d, v);
}

cr_value *cr_vdec_map(cr_vdec *d, const cr_type *t, char **keys,
                      cr_value **vals, size_t n)
{
    char *dup = NULL;
    cr_value *v = cr_value_map_adopt(t, keys, vals, n, &dup);
    if (v)
        return v;
    if (dup) {
        cr_lpath_push(&d->path, CR_STEP_KEY, dup, 0);
        cr_vdec_error(d, "Invalid value: duplicate map key",
                      "The key \"%.64s\" appears more than once.", dup);
        cr_lpath_pop(&d->path);
        free(dup);
    } else {
        cr_vdec_oom(d);
    }
    return NULL;
}
