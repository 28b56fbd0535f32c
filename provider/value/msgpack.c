/*
 * value/msgpack.c — the cty MessagePack codec (DynamicValue.msgpack).
 *
 * Decoding runs in three steps. First a structural scan of the raw bytes
 * checks that they hold exactly one complete MessagePack object whose every
 * container claims no more elements than bytes remain and which nests no
 * deeper than CR_VALUE_MAX_DEPTH: msgpack-c allocates a container's element
 * array from the *claimed* count before reading the elements, so without the
 * scan a five-byte input could ask for gigabytes. Then msgpack-c parses the
 * bytes into its object tree (now bounded by a small multiple of the input
 * size). Finally the tree is walked against the expected cty type, which is
 * where every semantic error becomes a diagnostic with its attribute path.
 *
 * The rules follow go-cty's msgpack package (unmarshal.go, unknown.go,
 * dynamic.go), which is what Terraform itself runs. The steps that do not
 * depend on the wire form (errors at their path, strings, number text,
 * sequences, maps, attribute lookup) are decode.c's, shared with the JSON
 * decoder.
 */
#include "value/internal.h"

#include <inttypes.h>
#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* go-cty refuses refinement payloads larger than this. */
#define REFINEMENT_MAX 1024
/* Ext code of an unknown value carrying refinements (go-cty unknown.go). */
#define EXT_REFINED 12

/* ---- structural scan ---------------------------------------------------------- */

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Scans one object at buf[*off..len). Returns 0 and advances *off, or -1
 * with a reason in *why. Each element consumes at least one byte, so the
 * count checks also bound the total work by the input length; `budget`
 * bounds the number of values, since each one-byte nil becomes a value of
 * some 80 bytes in memory. */
static int scan(const uint8_t *buf, size_t len, size_t *off, int depth,
                size_t *budget, const char **why)
{
    if (!*budget) {
        *why = "it holds more than " CR_VALUE_MAX_ITEMS_TEXT " values";
        return -1;
    }
    --*budget;
    if (depth > CR_VALUE_MAX_DEPTH) {
        *why = "nesting is too deep";
        return -1;
    }
    if (*off >= len) {
        *why = "input ends in the middle of a value";
        return -1;
    }
    uint8_t c = buf[(*off)++];
    size_t avail = len - *off;
    uint64_t skip = 0, count = 0;
    int lenbytes = 0, fixed = 0, per = 0;   /* per: children per entry */

    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return 0;
    if (c >= 0xa0 && c <= 0xbf) {
        skip = c & 0x1f;
    } else if (c >= 0x90 && c <= 0x9f) {
        count = c & 0x0f;
        per = 1;
    } else if (c >= 0x80 && c <= 0x8f) {
        count = c & 0x0f;
        per = 2;
    } else {
        switch (c) {
        case 0xc4: case 0xd9: lenbytes = 1; break;          /* bin8 str8 */
        case 0xc5: case 0xda: lenbytes = 2; break;
        case 0xc6: case 0xdb: lenbytes = 4; break;
        case 0xc7: lenbytes = 1; fixed = 1; break;          /* ext8 + type */
        case 0xc8: lenbytes = 2; fixed = 1; break;
        case 0xc9: lenbytes = 4; fixed = 1; break;
        case 0xca: fixed = 4; break;
        case 0xcb: fixed = 8; break;
        case 0xcc: case 0xd0: fixed = 1; break;
        case 0xcd: case 0xd1: fixed = 2; break;
        case 0xce: case 0xd2: fixed = 4; break;
        case 0xcf: case 0xd3: fixed = 8; break;
        case 0xd4: fixed = 2; break;                        /* fixext */
        case 0xd5: fixed = 3; break;
        case 0xd6: fixed = 5; break;
        case 0xd7: fixed = 9; break;
        case 0xd8: fixed = 17; break;
        case 0xdc: lenbytes = 2; per = 1; break;
        case 0xdd: lenbytes = 4; per = 1; break;
        case 0xde: lenbytes = 2; per = 2; break;
        case 0xdf: lenbytes = 4; per = 2; break;
        default:
            *why = "invalid type byte 0xc1";
            return -1;
        }
        if ((size_t)lenbytes > avail) {
            *why = "input ends in the middle of a length";
            return -1;
        }
        uint64_t n = be(buf + *off, lenbytes);
        *off += (size_t)lenbytes;
        avail -= (size_t)lenbytes;
        if (per)
            count = n;
        else
            skip = n + (uint64_t)fixed;
    }
    if (!per) {
        if (skip > avail) {
            *why = "input ends before the declared length";
            return -1;
        }
        *off += (size_t)skip;
        return 0;
    }
    if (count > avail / (uint64_t)per) {
        *why = "a container claims more elements than the input holds";
        return -1;
    }
    for (uint64_t i = 0; i < count * (uint64_t)per; i++)
        if (scan(buf, len, off, depth + 1, budget, why) < 0)
            return -1;
    return 0;
}

bool cr_msgpack_bounded(const void *buf, size_t len, size_t max_values)
{
    size_t off = 0;
    const char *why = NULL;
    return len && scan(buf, len, &off, 1, &max_values, &why) == 0 &&
           off == len;
}

/* ---- decoding ------------------------------------------------------------------ */

/* The shared decoder state (decode.c); MessagePack needs nothing more. */
typedef cr_vdec dec;

static const char *obj_kind(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return "nil";
    case MSGPACK_OBJECT_BOOLEAN: return "a bool";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "an integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return "a float";
    case MSGPACK_OBJECT_STR: return "a string";
    case MSGPACK_OBJECT_BIN: return "binary data";
    case MSGPACK_OBJECT_ARRAY: return "an array";
    case MSGPACK_OBJECT_MAP: return "a map";
    case MSGPACK_OBJECT_EXT: return "an extension";
    }
    return "an unknown MessagePack kind";
}

static void wrong_kind(dec *d, const char *what, const msgpack_object *o)
{
    cr_vdec_wrong(d, what, obj_kind(o));
}

/* The bytes of a str or bin object; false for anything else. */
static bool raw_bytes(const msgpack_object *o, const char **p, size_t *n)
{
    if (o->type == MSGPACK_OBJECT_STR) {
        *p = o->via.str.ptr;
        *n = o->via.str.size;
    } else if (o->type == MSGPACK_OBJECT_BIN) {
        *p = o->via.bin.ptr;
        *n = o->via.bin.size;
    } else {
        return false;
    }
    /* msgpack-c may leave the pointer of an empty string NULL. */
    if (!*p)
        *p = "";
    return true;
}

/* A map key or attribute name: a NUL-free UTF-8 string, copied. */
static char *key_string(dec *d, const msgpack_object *o)
{
    const char *p;
    size_t n;
    if (!raw_bytes(o, &p, &n)) {
        cr_vdec_error(d, "Invalid value: string keys required",
                      "Every key of a map or object must be a string, but one "
                      "is %s.", obj_kind(o));
        return NULL;
    }
    if (memchr(p, '\0', n) || !cr_utf8_valid(p, n)) {
        cr_vdec_error(d, "Invalid value: invalid key",
                      "A map or object key contains a NUL byte or is not valid "
                      "UTF-8.");
        return NULL;
    }
    char *k = malloc(n + 1);
    if (!k) {
        cr_vdec_oom(d);
        return NULL;
    }
    memcpy(k, p, n);
    k[n] = '\0';
    return k;
}

static cr_value *decode(dec *d, const msgpack_object *o, const cr_type *t,
                        int depth);

static bool name_is(const char *name, const char *p, size_t n)
{
    return !strncmp(name, p, n) && name[n] == '\0';
}

/* The index of the attribute of object type t named by key object k, or -1
 * when k is not a string equal to one of them. Slot `hint` is tried first. */
static long attr_lookup(const cr_type *t, const msgpack_object *k, size_t hint)
{
    const char *p;
    size_t n;
    if (!raw_bytes(k, &p, &n) || memchr(p, '\0', n))
        return -1;
    if (hint < t->nattrs && name_is(t->attrs[hint].name, p, n))
        return (long)hint;
    for (size_t i = 0; i < t->nattrs; i++)
        if (name_is(t->attrs[i].name, p, n))
            return (long)i;
    return -1;
}

/* The [number, bool] bound of a numeric refinement (keys 3 and 4). */
static const cr_type_attr bound_attrs[2] = {
    { .type = &cr_type_number }, { .type = &cr_type_bool },
};
static const cr_type bound_type = {
    .kind = CR_TYPE_TUPLE, .nattrs = 2, .attrs = bound_attrs,
};

static cr_value *decode_unknown(dec *d, const msgpack_object *o,
                                const cr_type *t)
{
    const msgpack_object_ext *x = &o->via.ext;
    /* A body of zero or one byte is a plain unknown, whatever the code:
     * go-cty writes d4 00 00 and treats every extension as unknown. */
    if (x->size <= 1) {
        cr_value *u = cr_value_unknown(t);
        if (!u)
            cr_vdec_oom(d);
        return u;
    }
    if (x->type != EXT_REFINED) {
        cr_vdec_error(d, "Invalid value: unsupported extension",
                      "Unsupported MessagePack extension type 0x%02x with "
                      "length %" PRIu32 " (only unknown values use "
                      "extensions).",
                      (unsigned)(uint8_t)x->type, x->size);
        return NULL;
    }
    if (x->size > REFINEMENT_MAX) {
        cr_vdec_error(d, "Invalid value: oversize unknown value refinement",
                      "An unknown value's refinement payload is %" PRIu32
                      " bytes; at most %d are accepted.", x->size,
                      REFINEMENT_MAX);
        return NULL;
    }
    /* The payload is a msgpack map; bytes after it are ignored, as go-cty
     * reserves them for future use. */
    size_t off = 0;
    const char *why = NULL;
    size_t budget = CR_VALUE_MAX_ITEMS;
    if (scan((const uint8_t *)x->ptr, x->size, &off, 1, &budget, &why) < 0) {
        cr_vdec_error(d, "Invalid value: malformed unknown value refinement",
                      "The refinement payload is not valid MessagePack: "
                      "%s.", why);
        return NULL;
    }
    msgpack_unpacked r;
    msgpack_unpacked_init(&r);
    size_t uoff = 0;
    cr_value *v = NULL;
    if (msgpack_unpack_next(&r, x->ptr, off, &uoff) != MSGPACK_UNPACK_SUCCESS) {
        cr_vdec_error(d, "Invalid value: malformed unknown value refinement",
                      "The refinement payload could not be parsed.");
        goto out;
    }
    if (r.data.type != MSGPACK_OBJECT_MAP) {
        cr_vdec_error(d, "Invalid value: malformed unknown value refinement",
                      "The refinement payload must be a map, not %s.",
                      obj_kind(&r.data));
        goto out;
    }
    if (t->kind == CR_TYPE_DYNAMIC) {
        /* go-cty ignores refinements of a wholly dynamic unknown. */
        v = cr_value_unknown(t);
        goto out;
    }
    bool not_null = false, is_null = false;
    char *prefix = NULL;
    const msgpack_object_map *m = &r.data.via.map;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key, *val = &m->ptr[i].val;
        int64_t key;
        if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER
            && k->via.u64 <= INT64_MAX)
            key = (int64_t)k->via.u64;
        else if (k->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            key = k->via.i64;
        else {
            cr_vdec_error(d, "Invalid value: malformed unknown value "
                          "refinement",
                          "Refinement keys must be integers, not %s.",
                          obj_kind(k));
            break;
        }
        switch (key) {
        case 1:     /* nullness */
            if (val->type != MSGPACK_OBJECT_BOOLEAN) {
                cr_vdec_error(d, "Invalid value: malformed unknown value "
                              "refinement",
                              "The null refinement is not a bool.");
                break;
            }
            is_null = val->via.boolean;
            not_null = !val->via.boolean;
            break;
        case 2: {   /* string prefix */
            const char *p;
            size_t n;
            if (t->kind != CR_TYPE_STRING) {
                cr_vdec_error(d, "Invalid value: malformed unknown value "
                              "refinement", "A string prefix refinement was "
                              "given for a value that is not a string.");
            } else if (!raw_bytes(val, &p, &n)) {
                cr_vdec_error(d, "Invalid value: malformed unknown value "
                              "refinement", "The string prefix refinement is "
                              "not a string.");
            } else if (!cr_utf8_valid(p, n)) {
                cr_vdec_error(d, "Invalid value: malformed unknown value "
                              "refinement", "The string prefix refinement is "
                              "not valid UTF-8.");
            } else {
                /* Kept as a C string: a prefix cut at a NUL byte is a
                 * shorter prefix, which is still a true (weaker) claim. */
                free(prefix);
                prefix = strndup(p, n);
                if (!prefix)
                    cr_vdec_oom(d);
            }
            break;
        }
        case 3: case 4: {   /* number bounds: [number, inclusive] */
            if (t->kind != CR_TYPE_NUMBER) {
                cr_vdec_error(d, "Invalid value: malformed unknown value "
                              "refinement", "A numeric bound refinement was "
                              "given for a value that is not a number.");
                break;
            }
            dec sub = { .diags = d->diags, .wire = d->wire };
            cr_diags scratch = CR_DIAGS_INIT;
            sub.diags = &scratch;
            cr_value *b = decode(&sub, val, &bound_type, CR_VALUE_MAX_DEPTH - 1);
            bool ok = b && b->kind == CR_TUPLE
                && b->u.coll.items[0]->kind == CR_NUMBER
                && b->u.coll.items[1]->kind == CR_BOOL;
            cr_value_free(b);
            cr_diags_free(&scratch);
            if (!ok)
                cr_vdec_error(d, "Invalid value: malformed unknown value "
                              "refinement", "A numeric bound refinement must "
                              "be a [number, bool] array.");
            break;
        }
        case 5: case 6:     /* collection length bounds */
            if (t->kind != CR_TYPE_LIST && t->kind != CR_TYPE_SET
                && t->kind != CR_TYPE_MAP) {
                cr_vdec_error(d, "Invalid value: malformed unknown value "
                              "refinement", "A length bound refinement was "
                              "given for a value that is not a collection.");
            } else if (val->type != MSGPACK_OBJECT_POSITIVE_INTEGER
                       && val->type != MSGPACK_OBJECT_NEGATIVE_INTEGER) {
                cr_vdec_error(d, "Invalid value: malformed unknown value "
                              "refinement", "A length bound refinement must be "
                              "an integer.");
            }
            break;
        default:
            /* Unknown keys are future refinements: skipped. */
            break;
        }
        if (d->failed)
            break;
    }
    if (d->failed) {
        free(prefix);
        goto out;
    }
    if (is_null) {
        /* "Definitely null" collapses to a null value in go-cty. */
        free(prefix);
        v = cr_value_null(t);
        goto out;
    }
    v = cr_value_unknown(t);
    if (!v) {
        free(prefix);
        goto out;
    }
    v->u.unk.not_null = not_null;
    v->u.unk.prefix = prefix;
out:
    msgpack_unpacked_destroy(&r);
    if (!v && !d->failed)
        cr_vdec_oom(d);
    return v;
}

static cr_value *decode_number(dec *d, const msgpack_object *o)
{
    char buf[32];
    cr_value *v = NULL;
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 <= INT64_MAX) {
            v = cr_value_int((int64_t)o->via.u64);
        } else {
            int n = snprintf(buf, sizeof buf, "%" PRIu64, o->via.u64);
            v = cr_num_inline(buf, (size_t)n);
        }
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        v = cr_value_int(o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (isnan(o->via.f64)) {
            cr_vdec_error(d, "Invalid value: number required",
                          "NaN is not a number.");
            return NULL;
        }
        if (isinf(o->via.f64))
            v = cr_num_infinity(o->via.f64 < 0);
        else
            v = cr_num_adopt(cr_num_from_double(o->via.f64));
        break;
    case MSGPACK_OBJECT_STR: {
        const char *p;
        size_t n;
        raw_bytes(o, &p, &n);
        return cr_vdec_number_text(d, p, n);
    }
    default:
        wrong_kind(d, "number", o);
        return NULL;
    }
    if (!v)
        cr_vdec_oom(d);
    return v;
}

static cr_value *decode_dynamic(dec *d, const msgpack_object *o, int depth)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 2) {
        cr_vdec_error(d, "Invalid value: dynamic value required",
                      "A value of dynamic type must be a [type, value] array "
                      "of two elements, but the encoded value is %s.",
                      obj_kind(o));
        return NULL;
    }
    const char *p;
    size_t n;
    if (!raw_bytes(&o->via.array.ptr[0], &p, &n)) {
        cr_vdec_error(d, "Invalid value: dynamic value required",
                      "The first element of a dynamic value must be its type "
                      "as JSON bytes, not %s.", obj_kind(&o->via.array.ptr[0]));
        return NULL;
    }
    cr_type *t = cr_vdec_dynamic_type(d, p, n);
    if (!t)
        return NULL;
    cr_value *v = decode(d, &o->via.array.ptr[1], t, depth + 1);
    cr_type_unref(t);       /* the value holds its own reference */
    return v;
}

static cr_value *seq_elem(dec *d, const void *seq, size_t i,
                          const cr_type *et, int depth)
{
    return decode(d, &((const msgpack_object *)seq)->via.array.ptr[i], et,
                  depth);
}

static cr_value *decode_seq(dec *d, const msgpack_object *o, const cr_type *t,
                            int depth)
{
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        wrong_kind(d, cr_vdec_seq_what(t), o);
        return NULL;
    }
    return cr_vdec_seq(d, t, o, o->via.array.size, seq_elem, depth);
}

/* Leaves (null, bool, string, int64) are made inside their container's
 * block, so a fleet-size map costs a few allocations per entry instead of
 * one per value. embed_size is the room leaf o of type t takes there, or 0
 * when decode() must make it (a container, an unknown, a float, a wrong
 * kind, too deep: whatever needs more than a leaf or reports an error). */
static size_t embed_size(const msgpack_object *o, const cr_type *t,
                         int depth)
{
    if (depth > CR_VALUE_MAX_DEPTH)
        return 0;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return CR_VALUE_EMBED_SIZE(0);
    case MSGPACK_OBJECT_BOOLEAN:
        return t->kind == CR_TYPE_BOOL ? CR_VALUE_EMBED_SIZE(0) : 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > INT64_MAX)
            return 0;
        /* fall through */
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return t->kind == CR_TYPE_NUMBER
             ? CR_VALUE_EMBED_SIZE(CR_VALUE_INT_TEXT) : 0;
    case MSGPACK_OBJECT_STR:
        return t->kind == CR_TYPE_STRING
             ? CR_VALUE_EMBED_SIZE(o->via.str.size + 1) : 0;
    case MSGPACK_OBJECT_BIN:
        return t->kind == CR_TYPE_STRING
             ? CR_VALUE_EMBED_SIZE(o->via.bin.size + 1) : 0;
    default:
        return 0;
    }
}

/* decode(), but a leaf is made at *room (advanced past it); the result is
 * exactly what decode() would return, living in the container's block. */
static cr_value *decode_in(dec *d, const msgpack_object *o, const cr_type *t,
                           int depth, char **room)
{
    size_t sz = embed_size(o, t, depth);
    if (!sz)
        return decode(d, o, t, depth);
    void *mem = *room;
    cr_value *v;
    const char *p = "";
    size_t n = 0;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        v = cr_value_embed(mem, CR_NULL, t);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        v = cr_value_embed(mem, CR_BOOL, &cr_type_bool);
        v->u.b = o->via.boolean;
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        v = cr_value_embed_int(mem, (int64_t)o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        v = cr_value_embed_int(mem, o->via.i64);
        break;
    default:
        raw_bytes(o, &p, &n);
        if (!cr_utf8_valid(p, n))
            return cr_vdec_string(d, p, n);     /* reports it: NULL */
        v = cr_value_embed_string(mem, p, n);
        break;
    }
    *room += sz;
    return v;
}

static cr_value *decode_map(dec *d, const msgpack_object *o, const cr_type *t,
                            int depth)
{
    if (o->type != MSGPACK_OBJECT_MAP) {
        wrong_kind(d, "map", o);
        return NULL;
    }
    /* The map, its arrays, its leaf values and the text of its keys are
     * one block: a first pass checks the keys and sizes the block, the
     * second copies each key and decodes its value. Errors come in input
     * order: a bad key is reported when the second pass reaches it. */
    uint32_t n = o->via.map.size, good;
    const msgpack_object_kv *ent = o->via.map.ptr;
    size_t keybytes = 0, room = 0;
    for (good = 0; good < n; good++) {
        const char *p;
        size_t kn;
        if (!raw_bytes(&ent[good].key, &p, &kn) || memchr(p, '\0', kn)
            || !cr_utf8_valid(p, kn))
            break;
        keybytes += kn + 1;     /* both bounded by the input's size */
        room += embed_size(&ent[good].val, t->elem, depth + 1);
    }
    char *ks, *at;
    void *embed;
    cr_value *m = cr_value_map_block(t, n, keybytes, room, &ks, &embed);
    if (!m) {
        cr_vdec_oom(d);
        return NULL;
    }
    at = embed;
    for (uint32_t i = 0; i < good; i++) {
        const char *p = "";
        size_t kn = 0;
        raw_bytes(&ent[i].key, &p, &kn);     /* checked above */
        memcpy(ks, p, kn);
        ks[kn] = '\0';
        m->u.coll.keys[i] = ks;
        ks += kn + 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (i == good) {
            free(key_string(d, &ent[i].key));   /* reports why */
            goto fail;
        }
        cr_lpath_push(&d->path, CR_STEP_KEY, m->u.coll.keys[i], 0);
        m->u.coll.items[i] = decode_in(d, &ent[i].val, t->elem, depth + 1,
                                       &at);
        cr_lpath_pop(&d->path);
        if (!m->u.coll.items[i])
            goto fail;
    }
    const char *dup;
    if (cr_value_map_seal(m, &dup) < 0) {
        if (dup) {
            cr_lpath_push(&d->path, CR_STEP_KEY, dup, 0);
            cr_vdec_error(d, "Invalid value: duplicate map key",
                          "The key \"%.64s\" appears more than once.", dup);
            cr_lpath_pop(&d->path);
        } else {
            cr_vdec_oom(d);
        }
        goto fail;
    }
    return m;
fail:
    cr_value_free(m);
    return NULL;
}

static cr_value *decode_object(dec *d, const msgpack_object *o,
                               const cr_type *t, int depth)
{
    if (o->type != MSGPACK_OBJECT_MAP) {
        wrong_kind(d, "object", o);
        return NULL;
    }
    /* Slots start empty and are filled as attributes arrive; every one
     * must arrive, so nothing is pre-filled with nulls. */
    size_t n = t->nattrs, room = 0;
    /* The slot of each key, found once (every object of a fleet-size map
     * is decoded here); objects with more keys than this look them up
     * again below. */
    enum { SEEN = 32 };
    long seen[SEEN];
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        /* Sizing only: a key that matches nothing is reported in order
         * by the loop below. */
        long at = attr_lookup(t, &o->via.map.ptr[i].key, i);
        if (i < SEEN)
            seen[i] = at;
        if (at >= 0)
            room += embed_size(&o->via.map.ptr[i].val, t->attrs[at].type,
                               depth + 1);
    }
    void *embed;
    cr_value *v = cr_value_object_block(t, room, &embed);
    if (!v) {
        cr_vdec_oom(d);
        return NULL;
    }
    char *next = embed;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *ko = &o->via.map.ptr[i].key;
        /* Terraform sends attributes in the type's order, so slot i is
         * tried first. A key equal to an attribute name is a valid key
         * (names are NUL-free UTF-8), so only a key that matches none is
         * copied, to be checked and reported. */
        long at = i < SEEN ? seen[i] : attr_lookup(t, ko, i);
        if (at < 0) {
            char *k = key_string(d, ko);
            if (k)
                cr_vdec_attr(d, t, k);
            free(k);
            goto fail;
        }
        if (v->u.coll.items[at]) {
            cr_lpath_push(&d->path, CR_STEP_ATTR, t->attrs[at].name, 0);
            cr_vdec_error(d, "Invalid value: duplicate attribute",
                          "The attribute \"%.64s\" appears more than once.",
                          t->attrs[at].name);
            cr_lpath_pop(&d->path);
            goto fail;
        }
        const char *name = t->attrs[at].name;
        cr_lpath_push(&d->path, CR_STEP_ATTR, name, 0);
        cr_value *av = decode_in(d, &o->via.map.ptr[i].val,
                                 t->attrs[at].type, depth + 1, &next);
        cr_lpath_pop(&d->path);
        if (!av)
            goto fail;
        v->u.coll.items[at] = av;
    }
    for (size_t i = 0; i < n; i++) {
        if (!v->u.coll.items[i]) {
            cr_lpath_push(&d->path, CR_STEP_ATTR, t->attrs[i].name, 0);
            cr_vdec_error(d, "Invalid value: missing attribute",
                          "The attribute \"%s\" is required in this object "
                          "(an object with %zu attributes is required, %" PRIu32
                          " given).", t->attrs[i].name, n, o->via.map.size);
            cr_lpath_pop(&d->path);
            goto fail;
        }
    }
    return v;
fail:
    cr_value_free(v);
    return NULL;
}

static cr_value *decode(dec *d, const msgpack_object *o, const cr_type *t,
                        int depth)
{
    if (!cr_vdec_depth_ok(d, depth))
        return NULL;
    if (o->type == MSGPACK_OBJECT_EXT)
        return decode_unknown(d, o, t);
    if (o->type == MSGPACK_OBJECT_NIL)
        return cr_vdec_null(d, t);
    cr_value *v = NULL;
    const char *p;
    size_t n;
    switch (t->kind) {
    case CR_TYPE_DYNAMIC:
        return decode_dynamic(d, o, depth);
    case CR_TYPE_STRING:
        if (!raw_bytes(o, &p, &n)) {
            wrong_kind(d, "string", o);
            return NULL;
        }
        return cr_vdec_string(d, p, n);
    case CR_TYPE_NUMBER:
        return decode_number(d, o);
    case CR_TYPE_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN) {
            wrong_kind(d, "bool", o);
            return NULL;
        }
        v = cr_value_bool(o->via.boolean);
        break;
    case CR_TYPE_LIST: case CR_TYPE_SET: case CR_TYPE_TUPLE:
        return decode_seq(d, o, t, depth);
    case CR_TYPE_MAP:
        return decode_map(d, o, t, depth);
    case CR_TYPE_OBJECT:
        return decode_object(d, o, t, depth);
    default:
        cr_vdec_error(d, "Invalid type",
                      "The expected type is not a cty type.");
        return NULL;
    }
    if (!v)
        cr_vdec_oom(d);
    return v;
}

cr_value *cr_value_decode_msgpack(const void *buf, size_t len,
                                  const cr_type *t, cr_diags *diags)
{
    dec d = { .diags = diags, .wire = "encoded" };
    if (!t) {
        cr_vdec_error(&d, "Invalid type",
                      "No type was given to decode against.");
        return NULL;
    }
    if (!len)
        return cr_vdec_null(&d, t);
    size_t off = 0;
    const char *why = NULL;
    size_t budget = CR_VALUE_MAX_ITEMS;
    if (scan(buf, len, &off, 1, &budget, &why) < 0) {
        cr_vdec_error(&d, "Invalid value: malformed MessagePack",
                      "The encoded value is not valid MessagePack: %s.", why);
        return NULL;
    }
    if (off != len) {
        cr_vdec_error(&d, "Invalid value: malformed MessagePack",
                      "%zu unexpected bytes follow the encoded value.",
                      len - off);
        return NULL;
    }
    msgpack_unpacked r;
    msgpack_unpacked_init(&r);
    size_t uoff = 0;
    cr_value *v = NULL;
    msgpack_unpack_return rc = msgpack_unpack_next(&r, buf, len, &uoff);
    if (rc == MSGPACK_UNPACK_SUCCESS)
        v = decode(&d, &r.data, t, 1);
    else if (rc == MSGPACK_UNPACK_NOMEM_ERROR)
        cr_vdec_oom(&d);
    else
        cr_vdec_error(&d, "Invalid value: malformed MessagePack",
                      "The encoded value could not be parsed (code %d).",
                      (int)rc);
    msgpack_unpacked_destroy(&r);
    return v;
}

/* ---- encoding ----------------------------------------------------------------- */

static int encode(msgpack_packer *pk, const cr_value *v, const cr_type *t);

static int pack_str(msgpack_packer *pk, const char *s, size_t n)
{
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n) ? -1 : 0;
}

static int encode(msgpack_packer *pk, const cr_value *v, const cr_type *t)
{
    const cr_type *vt = v->type ? v->type : &cr_type_dynamic;
    if (t && t->kind == CR_TYPE_DYNAMIC && vt->kind != CR_TYPE_DYNAMIC) {
        /* go-cty's dynamic form: the concrete type as JSON bytes, then the
         * value encoded against that type. */
        char *tj = cr_type_to_json(vt);
        if (!tj)
            return -1;
        size_t n = strlen(tj);
        int rc = msgpack_pack_array(pk, 2) || msgpack_pack_bin(pk, n)
              || msgpack_pack_bin_body(pk, tj, n) ? -1 : 0;
        free(tj);
        return rc ? -1 : encode(pk, v, vt);
    }
    switch (v->kind) {
    case CR_NULL:
        return msgpack_pack_nil(pk) ? -1 : 0;
    case CR_UNKNOWN:
        return msgpack_pack_ext(pk, 1, 0) || msgpack_pack_ext_body(pk, "", 1)
             ? -1 : 0;
    case CR_STRING:
        return pack_str(pk, v->u.str.ptr, v->u.str.len);
    case CR_BOOL:
        return (v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk)) ? -1 : 0;
    case CR_NUMBER: {
        /* go-cty's order (marshal.go since v1.13): exact int64, else a
         * float64 when the number is a non-integer a double holds exactly,
         * else the decimal string; infinities as float64. So 2^64 goes
         * out as "18446744073709551616" although a double could hold it. */
        double f;
        if (cr_num_is_inf(v))
            return msgpack_pack_double(pk, v->u.num.f) ? -1 : 0;
        if (v->u.num.is_int)
            return msgpack_pack_int64(pk, v->u.num.i) ? -1 : 0;
        if (!cr_num_is_integer(v) && cr_num_exact_double(v, &f))
            return msgpack_pack_double(pk, f) ? -1 : 0;
        /* go-cty spells these in plain decimal, never with an exponent. */
        char *plain = cr_num_plain(v->u.num.text);
        if (!plain)
            return -1;
        int rc = pack_str(pk, plain, strlen(plain));
        free(plain);
        return rc;
    }
    case CR_LIST: case CR_SET: case CR_TUPLE:
        if (msgpack_pack_array(pk, v->u.coll.len))
            return -1;
        for (size_t i = 0; i < v->u.coll.len; i++) {
            const cr_type *et = vt->kind == CR_TYPE_TUPLE
                ? (i < vt->nattrs ? vt->attrs[i].type : NULL) : vt->elem;
            if (encode(pk, v->u.coll.items[i], et) < 0)
                return -1;
        }
        return 0;
    case CR_MAP: case CR_OBJECT:
        if (msgpack_pack_map(pk, v->u.coll.len))
            return -1;
        for (size_t i = 0; i < v->u.coll.len; i++) {
            const cr_type *et = vt->kind == CR_TYPE_OBJECT
                ? (i < vt->nattrs ? vt->attrs[i].type : NULL) : vt->elem;
            if (pack_str(pk, v->u.coll.keys[i], strlen(v->u.coll.keys[i]))
                || encode(pk, v->u.coll.items[i], et) < 0)
                return -1;
        }
        return 0;
    }
    return -1;
}

int cr_value_encode_msgpack(const cr_value *v, void **out, size_t *out_len)
{
    return cr_value_encode_msgpack_as(v, v ? v->type : NULL, out, out_len);
}

int cr_value_encode_msgpack_as(const cr_value *v, const cr_type *t,
                               void **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int rc = v ? encode(&pk, v, t) : (msgpack_pack_nil(&pk) ? -1 : 0);
    if (rc < 0 || !sb.data) {
        msgpack_sbuffer_destroy(&sb);
        return -1;
    }
    *out = sb.data;         /* sbuffer memory is plain malloc */
    *out_len = sb.size;
    return 0;
}
