/*
 * value/value.c — cty values in memory: constructors, containers, getters,
 * equality, ordering, copy and free.
 *
 * Invariants kept here so the codecs and the resource code can rely on them:
 *  - an OBJECT has exactly one slot per attribute of its type, in the type's
 *    (sorted) attribute order; absent attributes are null values;
 *  - a MAP's keys are sorted (bytewise) and unique;
 *  - a SET is sorted by cr_value_cmp and holds no two equal wholly known
 *    elements (unknown elements are never merged: two unknowns may turn out
 *    to be different values, and Terraform counts set elements);
 *  - a value holds a reference on its type when the type is a run-time one.
 *
 * Allocation: a fleet-size value (issue 6: 100,000 tenants are over a
 * million values) spends most of its decode and free time in malloc and
 * free, so a value's fixed-size payload lives in the same block as the
 * value itself wherever the payload never grows: a string's bytes, a
 * number's text, an object's slot and key arrays (cr_value_alloc_extra).
 * cr_value_free tells such a payload from a separately allocated one by its
 * address (it starts right after the struct), so values built either way
 * mix freely. An OBJECT's keys are not copies at all: they point at its
 * type's attribute names, which live as long as the type, and the value
 * holds its type (a static one, or a reference on a run-time one).
 *
 * Calls type.c (type references) and common/diag (paths) only.
 * May include: value/internal.h.
 */
#include "value/internal.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

cr_value *cr_value_alloc(cr_value_kind kind, const cr_type *t)
{
    return cr_value_alloc_extra(kind, t, 0);
}

cr_value *cr_value_alloc_extra(cr_value_kind kind, const cr_type *t,
                               size_t extra)
{
    if (extra > SIZE_MAX - sizeof(cr_value))
        return NULL;
    /* Only the struct is cleared: callers fill the payload they asked for. */
    cr_value *v = malloc(sizeof *v + extra);
    if (!v)
        return NULL;
    memset(v, 0, sizeof *v);
    v->kind = kind;
    v->type = cr_type_ref(t ? t : &cr_type_dynamic);
    return v;
}

/* The payload area of a value made by cr_value_alloc_extra. cr_value holds
 * pointers, so its size keeps the area aligned for pointer arrays. */
static inline void *payload(const cr_value *v)
{
    return (void *)(v + 1);
}

/* A STRING's bytes, copied into its own block (room for n + 1 bytes). */
static cr_value *string_fill(cr_value *v, const char *s, size_t n)
{
    v->u.str.ptr = payload(v);
    if (n)
        memcpy(v->u.str.ptr, s, n);
    v->u.str.ptr[n] = '\0';
    v->u.str.len = n;
    return v;
}

cr_value *cr_value_object_slots(const cr_type *t)
{
    return cr_value_object_block(t, 0, NULL);
}

cr_value *cr_value_object_block(const cr_type *t, size_t room, void **embed)
{
    if (!t || t->kind != CR_TYPE_OBJECT)
        return NULL;
    size_t n = t->nattrs;
    if (n > (SIZE_MAX / 2 - sizeof(cr_value)) / (2 * sizeof(void *))
        || room > SIZE_MAX / 2)
        return NULL;
    cr_value *v = cr_value_alloc_extra(CR_OBJECT, t,
                                       n * 2 * sizeof(void *) + room);
    if (!v)
        return NULL;
    if (embed)
        *embed = (char *)payload(v) + n * 2 * sizeof(void *);
    v->u.coll.len = n;
    v->u.coll.items = payload(v);
    v->u.coll.keys = (char **)(v->u.coll.items + n);
    for (size_t i = 0; i < n; i++) {
        v->u.coll.items[i] = NULL;
        /* Borrowed from the type, which the value keeps alive; never
         * written through. */
        v->u.coll.keys[i] = (char *)t->attrs[i].name;
    }
    return v;
}

cr_value *cr_value_null(const cr_type *t)
{
    return cr_value_alloc(CR_NULL, t);
}

cr_value *cr_value_unknown(const cr_type *t)
{
    return cr_value_alloc(CR_UNKNOWN, t);
}

cr_value *cr_value_stringn(const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    cr_value *v = cr_value_alloc_extra(CR_STRING, &cr_type_string, len + 1);
    return v ? string_fill(v, s, len) : NULL;
}

cr_value *cr_value_string(const char *s)
{
    return s ? cr_value_stringn(s, strlen(s)) : NULL;
}

cr_value *cr_value_bool(bool b)
{
    cr_value *v = cr_value_alloc(CR_BOOL, &cr_type_bool);
    if (v)
        v->u.b = b;
    return v;
}

cr_value *cr_value_object(const cr_type *t)
{
    cr_value *v = cr_value_object_slots(t);
    if (!v)
        return NULL;
    for (size_t i = 0; i < t->nattrs; i++) {
        v->u.coll.items[i] = cr_value_null(t->attrs[i].type);
        if (!v->u.coll.items[i]) {
            cr_value_free(v);
            return NULL;
        }
    }
    return v;
}

void cr_value_free_entries(char **keys, cr_value **vals, size_t n)
{
    for (size_t i = 0; keys && vals && i < n; i++) {
        free(keys[i]);
        cr_value_free(vals[i]);
    }
    free(keys);
    free(vals);
}

void cr_value_free_items(cr_value **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_value_free(items[i]);
    free(items);
}

cr_value *cr_value_seq_adopt(cr_value_kind kind, const cr_type *t,
                            cr_value **items, size_t n)
{
    cr_value *v = cr_value_alloc(kind, t);
    if (!v) {
        cr_value_free_items(items, n);
        return NULL;
    }
    v->u.coll.items = items;
    v->u.coll.len = n;
    return v;
}

cr_value *cr_value_collection(const cr_type *t)
{
    if (!t)
        return NULL;
    cr_value_kind k;
    switch (t->kind) {
    case CR_TYPE_LIST:  k = CR_LIST; break;
    case CR_TYPE_SET:   k = CR_SET; break;
    case CR_TYPE_MAP:   k = CR_MAP; break;
    case CR_TYPE_TUPLE: k = CR_TUPLE; break;
    default: return NULL;
    }
    return cr_value_alloc(k, t);
}

/* True when p lies in the part of v's block that holds arrays and keys
 * (cr_value_map_block); a separately allocated pointer never can. */
static inline bool in_block(const cr_value *v, const void *p)
{
    uintptr_t a = (uintptr_t)payload(v), q = (uintptr_t)p;
    return q >= a && q < a + v->u.coll.inblock;
}

cr_value *cr_value_map_block(const cr_type *t, size_t n, size_t keybytes,
                             size_t room, char **keyspace, void **embed)
{
    if (!t || t->kind != CR_TYPE_MAP
        || n > (SIZE_MAX / 4 - sizeof(cr_value)) / (2 * sizeof(void *))
        || keybytes > SIZE_MAX / 4 || room > SIZE_MAX / 4)
        return NULL;
    /* Layout: items, keys, embedded elements (pointer-aligned), key text.
     * One spare byte keeps even an empty map's arrays (which point at the
     * block's end) inside the range in_block() checks. */
    size_t arrays = n * 2 * sizeof(void *);
    size_t size = arrays + room + keybytes + 1;
    cr_value *v = cr_value_alloc_extra(CR_MAP, t, size);
    if (!v)
        return NULL;
    v->u.coll.len = n;
    v->u.coll.items = payload(v);
    v->u.coll.keys = (char **)(v->u.coll.items + n);
    v->u.coll.inblock = size;
    memset(v->u.coll.items, 0, arrays);
    *embed = (char *)payload(v) + arrays;
    *keyspace = (char *)payload(v) + arrays + room;
    return v;
}

typedef struct kv { char *k; cr_value *v; } kv;

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->k, ((const kv *)b)->k);
}

/* Sorts parallel key/value arrays by key unless they already are (the
 * usual case: Terraform and go-cty write map keys in order). Returns 0, or
 * -1 on ENOMEM. */
static int sort_entries(char **keys, cr_value **vals, size_t n)
{
    size_t i = 1;
    while (i < n && strcmp(keys[i - 1], keys[i]) < 0)
        i++;
    if (i >= n)
        return 0;
    kv *pairs = malloc(n * sizeof *pairs);
    if (!pairs)
        return -1;
    for (i = 0; i < n; i++)
        pairs[i] = (kv){ keys[i], vals[i] };
    qsort(pairs, n, sizeof *pairs, kv_cmp);
    for (i = 0; i < n; i++) {
        keys[i] = pairs[i].k;
        vals[i] = pairs[i].v;
    }
    free(pairs);
    return 0;
}

/* The first of two equal adjacent keys, or NULL. */
static const char *dup_entry(char *const *keys, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (!strcmp(keys[i - 1], keys[i]))
            return keys[i];
    return NULL;
}

int cr_value_map_seal(cr_value *m, const char **dup_key)
{
    *dup_key = NULL;
    if (sort_entries(m->u.coll.keys, m->u.coll.items, m->u.coll.len) < 0)
        return -1;
    *dup_key = dup_entry(m->u.coll.keys, m->u.coll.len);
    return *dup_key ? -1 : 0;
}

/* Leaves whose payload is in their own block are the common case in a
 * large value; they are released here without a call per value. */
static inline void free_payload(cr_value *v)
{
    switch (v->kind) {
    case CR_STRING:
        if (v->u.str.ptr != payload(v))
            free(v->u.str.ptr);
        break;
    case CR_NUMBER:
        if (v->u.num.text != payload(v))
            free(v->u.num.text);
        break;
    case CR_UNKNOWN:
        free(v->u.unk.prefix);
        break;
    case CR_LIST: case CR_SET: case CR_MAP: case CR_OBJECT: case CR_TUPLE: {
        cr_value **items = v->u.coll.items;
        for (size_t i = 0; items && i < v->u.coll.len; i++)
            cr_value_free(items[i]);
        /* Every OBJECT is made by cr_value_object_slots: its arrays are in
         * its block and its keys are its type's names. */
        if (v->kind == CR_OBJECT)
            break;
        if (v->u.coll.keys)
            for (size_t i = 0; i < v->u.coll.len; i++)
                if (!in_block(v, v->u.coll.keys[i]))
                    free(v->u.coll.keys[i]);
        if (!in_block(v, items))
            free(items);
        if (!in_block(v, v->u.coll.keys))
            free(v->u.coll.keys);
        break;
    }
    default:
        break;
    }
}

void cr_value_free(cr_value *v)
{
    if (!v)
        return;
    free_payload(v);
    cr_type_unref(v->type);
    if (!v->embedded)
        free(v);
}

cr_value *cr_value_embed(void *mem, cr_value_kind kind, const cr_type *t)
{
    cr_value *v = mem;
    memset(v, 0, sizeof *v);
    v->kind = kind;
    v->embedded = true;
    v->type = cr_type_ref(t ? t : &cr_type_dynamic);
    return v;
}

cr_value *cr_value_embed_string(void *mem, const char *p, size_t n)
{
    return string_fill(cr_value_embed(mem, CR_STRING, &cr_type_string), p, n);
}

/* ---- containers -------------------------------------------------------------- */

int cr_value_object_set(cr_value *obj, const char *name, cr_value *v)
{
    if (!obj || obj->kind != CR_OBJECT || !name || !v) {
        cr_value_free(v);
        return -1;
    }
    for (size_t i = 0; i < obj->u.coll.len; i++) {
        if (!strcmp(obj->u.coll.keys[i], name)) {
            cr_value_free(obj->u.coll.items[i]);
            obj->u.coll.items[i] = v;
            return 0;
        }
    }
    cr_value_free(v);
    return -1;
}

/* Makes room for one more slot in *arr (len slots used, heap-allocated).
 * Arrays grow by half again each time they are full: containers built one
 * put at a time (a refresh of 100,000 tenants, an apply's result map)
 * would otherwise realloc, and often copy, the whole array at every put.
 * The capacity is not recorded in the value (that would widen every
 * cr_value); the allocator knows it, so malloc_usable_size tells whether
 * the slot is already there. */
static int reserve_slot(void **arr, size_t len, size_t size)
{
    if (*arr && (len + 1) * size <= malloc_usable_size(*arr))
        return 0;
    if (len >= SIZE_MAX / 2 / size)
        return -1;
    size_t cap = len < 4 ? 4 : len + len / 2;
    void *grown = realloc(*arr, cap * size);
    if (!grown)
        return -1;
    *arr = grown;
    return 0;
}

static int grow(cr_value *c, bool with_keys)
{
    size_t len = c->u.coll.len;
    if (c->u.coll.items && in_block(c, c->u.coll.items)) {
        /* Arrays made in the value's block (cr_value_map_block) move out
         * to the heap; the key text stays where it is. */
        size_t cap = len < 4 ? 4 : len + len / 2;
        if (len >= SIZE_MAX / 2 / sizeof(void *))
            return -1;
        cr_value **items = malloc(cap * sizeof *items);
        char **keys = with_keys ? malloc(cap * sizeof *keys) : NULL;
        if (!items || (with_keys && !keys)) {
            free(items);
            free(keys);
            return -1;
        }
        memcpy(items, c->u.coll.items, len * sizeof *items);
        if (with_keys)
            memcpy(keys, c->u.coll.keys, len * sizeof *keys);
        c->u.coll.items = items;
        if (with_keys)
            c->u.coll.keys = keys;
        return 0;
    }
    void *items = c->u.coll.items;
    if (reserve_slot(&items, len, sizeof(cr_value *)) < 0)
        return -1;
    c->u.coll.items = items;
    if (with_keys) {
        void *keys = c->u.coll.keys;
        if (reserve_slot(&keys, len, sizeof(char *)) < 0)
            return -1;
        c->u.coll.keys = keys;
    }
    return 0;
}

/* Index of the first key >= key; *found when equal. */
static size_t key_search(const cr_value *m, const char *key, bool *found)
{
    size_t lo = 0, hi = m->u.coll.len;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->u.coll.keys[mid], key);
        if (!c) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int cr_value_map_put(cr_value *map, const char *key, cr_value *v)
{
    if (!map || map->kind != CR_MAP || !key || !v) {
        cr_value_free(v);
        return -1;
    }
    bool found = false;
    size_t at = map->u.coll.len;
    /* Keys usually arrive in order (from another sorted map, a store
     * listing): one comparison with the last key then places the new one,
     * instead of a binary search. */
    if (at && strcmp(map->u.coll.keys[at - 1], key) >= 0)
        at = key_search(map, key, &found);
    if (found) {
        cr_value_free(map->u.coll.items[at]);
        map->u.coll.items[at] = v;
        return 0;
    }
    char *k = strdup(key);
    if (!k || grow(map, true) < 0) {
        free(k);
        cr_value_free(v);
        return -1;
    }
    size_t tail = map->u.coll.len - at;
    memmove(&map->u.coll.items[at + 1], &map->u.coll.items[at],
            tail * sizeof(cr_value *));
    memmove(&map->u.coll.keys[at + 1], &map->u.coll.keys[at],
            tail * sizeof(char *));
    map->u.coll.items[at] = v;
    map->u.coll.keys[at] = k;
    map->u.coll.len++;
    return 0;
}

int cr_value_append(cr_value *c, cr_value *v)
{
    if (!c || !v || (c->kind != CR_LIST && c->kind != CR_SET
                     && c->kind != CR_TUPLE)) {
        cr_value_free(v);
        return -1;
    }
    size_t at = c->u.coll.len;
    if (c->kind == CR_SET) {
        /* Keep the set sorted; a wholly known duplicate is merged. */
        size_t lo = 0, hi = c->u.coll.len;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (cr_value_cmp(c->u.coll.items[mid], v) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        at = lo;
        if (at && cr_value_is_wholly_known(v)
            && cr_value_equal(c->u.coll.items[at - 1], v)) {
            cr_value_free(v);
            return 0;
        }
    }
    if (grow(c, false) < 0) {
        cr_value_free(v);
        return -1;
    }
    memmove(&c->u.coll.items[at + 1], &c->u.coll.items[at],
            (c->u.coll.len - at) * sizeof(cr_value *));
    c->u.coll.items[at] = v;
    c->u.coll.len++;
    return 0;
}

cr_value *cr_value_map_adopt(const cr_type *t, char **keys, cr_value **vals,
                             size_t n, char **dup_key)
{
    *dup_key = NULL;
    cr_value *m = cr_value_alloc(CR_MAP, t);
    if (!m || sort_entries(keys, vals, n) < 0)
        goto fail;
    const char *dup = dup_entry(keys, n);
    if (dup) {
        *dup_key = strdup(dup);
        goto fail;
    }
    m->u.coll.keys = keys;
    m->u.coll.items = vals;
    m->u.coll.len = n;
    return m;
fail:
    cr_value_free(m);
    cr_value_free_entries(keys, vals, n);
    return NULL;
}

static int value_pcmp(const void *a, const void *b)
{
    return cr_value_cmp(*(cr_value *const *)a, *(cr_value *const *)b);
}

cr_value *cr_value_set_adopt(const cr_type *t, cr_value **items, size_t n)
{
    cr_value *s = cr_value_alloc(CR_SET, t);
    if (!s) {
        cr_value_free_items(items, n);
        return NULL;
    }
    if (n > 1)
        qsort(items, n, sizeof *items, value_pcmp);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (out && cr_value_is_wholly_known(items[i])
            && cr_value_equal(items[out - 1], items[i])) {
            cr_value_free(items[i]);
            continue;
        }
        items[out++] = items[i];
    }
    s->u.coll.items = items;
    s->u.coll.len = out;
    return s;
}

int cr_lpath_to_path(const cr_lpath *lp, cr_path *out)
{
    *out = (cr_path){0};
    size_t n = lp->len < sizeof lp->s / sizeof lp->s[0]
             ? lp->len : sizeof lp->s / sizeof lp->s[0];
    for (size_t i = 0; i < n; i++) {
        int rc = lp->s[i].kind == CR_STEP_INDEX
            ? cr_path_push_index(out, lp->s[i].index)
            : lp->s[i].kind == CR_STEP_KEY
            ? cr_path_push_key(out, lp->s[i].name)
            : cr_path_push_attr(out, lp->s[i].name);
        if (rc < 0) {
            cr_path_free(out);
            return -1;
        }
    }
    return 0;
}

/* ---- getters ------------------------------------------------------------------- */

const cr_value *cr_value_get(const cr_value *v, const char *key)
{
    if (!v || !key || (v->kind != CR_OBJECT && v->kind != CR_MAP))
        return NULL;
    if (v->kind == CR_MAP) {
        bool found;
        size_t at = key_search(v, key, &found);
        return found ? v->u.coll.items[at] : NULL;
    }
    for (size_t i = 0; i < v->u.coll.len; i++)
        if (!strcmp(v->u.coll.keys[i], key))
            return v->u.coll.items[i];
    return NULL;
}

const char *cr_value_get_str(const cr_value *obj, const char *name)
{
    const cr_value *v = cr_value_get(obj, name);
    return v && v->kind == CR_STRING ? v->u.str.ptr : NULL;
}

bool cr_value_is_null(const cr_value *v)
{
    return !v || v->kind == CR_NULL;
}

bool cr_value_is_unknown(const cr_value *v)
{
    return v && v->kind == CR_UNKNOWN;
}

bool cr_value_is_wholly_known(const cr_value *v)
{
    if (!v)
        return true;
    if (v->kind == CR_UNKNOWN)
        return false;
    switch (v->kind) {
    case CR_LIST: case CR_SET: case CR_MAP: case CR_OBJECT: case CR_TUPLE:
        for (size_t i = 0; i < v->u.coll.len; i++)
            if (!cr_value_is_wholly_known(v->u.coll.items[i]))
                return false;
        return true;
    default:
        return true;
    }
}

/* ---- ordering and equality ---------------------------------------------------- */

static int cmp_size(size_t a, size_t b) { return a < b ? -1 : a > b; }

int cr_value_cmp(const cr_value *a, const cr_value *b)
{
    if (a == b)
        return 0;
    if (!a || !b)
        return a ? 1 : -1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    switch (a->kind) {
    case CR_NULL:
    case CR_UNKNOWN:
        return 0;
    case CR_STRING: {
        size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
        int c = n ? memcmp(a->u.str.ptr, b->u.str.ptr, n) : 0;
        return c ? (c < 0 ? -1 : 1) : cmp_size(a->u.str.len, b->u.str.len);
    }
    case CR_NUMBER: {
        /* Canonical text makes this a value comparison (not a numeric
         * order, which sets do not need). */
        int c = strcmp(a->u.num.text, b->u.num.text);
        return c < 0 ? -1 : c > 0;
    }
    case CR_BOOL:
        return (int)a->u.b - (int)b->u.b;
    default: {
        int c = cmp_size(a->u.coll.len, b->u.coll.len);
        if (c)
            return c;
        bool keyed = a->kind == CR_MAP || a->kind == CR_OBJECT;
        for (size_t i = 0; i < a->u.coll.len; i++) {
            /* Objects of one type share their key strings. */
            if (keyed && a->u.coll.keys[i] != b->u.coll.keys[i]) {
                c = strcmp(a->u.coll.keys[i], b->u.coll.keys[i]);
                if (c)
                    return c < 0 ? -1 : 1;
            }
            c = cr_value_cmp(a->u.coll.items[i], b->u.coll.items[i]);
            if (c)
                return c;
        }
        return 0;
    }
    }
}

bool cr_value_equal(const cr_value *a, const cr_value *b)
{
    return cr_value_cmp(a, b) == 0;
}

/* ---- copy ------------------------------------------------------------------------ */

/* The room a copy of leaf v takes in its container's block, or 0 when it
 * is copied on its own (containers, unknowns with a prefix). */
static size_t leaf_room(const cr_value *v)
{
    switch (v->kind) {
    case CR_NULL: case CR_BOOL:
        return CR_VALUE_EMBED_SIZE(0);
    case CR_UNKNOWN:
        return v->u.unk.prefix ? 0 : CR_VALUE_EMBED_SIZE(0);
    case CR_STRING:
        return v->u.str.len < SIZE_MAX / 4
             ? CR_VALUE_EMBED_SIZE(v->u.str.len + 1) : 0;
    case CR_NUMBER:
        return CR_VALUE_EMBED_SIZE(strlen(v->u.num.text) + 1);
    default:
        return 0;
    }
}

/* cr_value_copy, with a leaf made at *room (advanced past it). */
static cr_value *copy_in(const cr_value *v, char **room)
{
    size_t sz = leaf_room(v);
    if (!sz)
        return cr_value_copy(v);
    cr_value *c = cr_value_embed(*room, v->kind, v->type);
    switch (v->kind) {
    case CR_BOOL:
        c->u.b = v->u.b;
        break;
    case CR_UNKNOWN:
        c->u.unk.not_null = v->u.unk.not_null;
        break;
    case CR_STRING:
        c->u.str.ptr = payload(c);
        memcpy(c->u.str.ptr, v->u.str.ptr, v->u.str.len + 1);
        c->u.str.len = v->u.str.len;
        break;
    case CR_NUMBER:
        c->u.num = v->u.num;
        c->u.num.text = payload(c);
        memcpy(c->u.num.text, v->u.num.text, strlen(v->u.num.text) + 1);
        break;
    default:
        break;
    }
    *room += sz;
    return c;
}

/* A copy of a MAP as one block, as the decoder makes them. */
static cr_value *copy_map(const cr_value *v)
{
    size_t n = v->u.coll.len, keybytes = 0, room = 0;
    for (size_t i = 0; i < n; i++) {
        keybytes += strlen(v->u.coll.keys[i]) + 1;
        room += leaf_room(v->u.coll.items[i]);
    }
    char *ks, *at;
    void *embed;
    cr_value *c = cr_value_map_block(v->type, n, keybytes, room, &ks, &embed);
    if (!c)
        return NULL;
    at = embed;
    for (size_t i = 0; i < n; i++) {
        size_t kn = strlen(v->u.coll.keys[i]) + 1;
        memcpy(ks, v->u.coll.keys[i], kn);
        c->u.coll.keys[i] = ks;
        ks += kn;
        if (!(c->u.coll.items[i] = copy_in(v->u.coll.items[i], &at))) {
            cr_value_free(c);
            return NULL;
        }
    }
    return c;
}

cr_value *cr_value_copy(const cr_value *v)
{
    if (!v)
        return NULL;
    cr_value *c;
    switch (v->kind) {
    case CR_STRING:
        /* Strings keep the type of the original (always string). */
        if (v->u.str.len == SIZE_MAX
            || !(c = cr_value_alloc_extra(CR_STRING, v->type,
                                          v->u.str.len + 1)))
            return NULL;
        c->u.str.ptr = payload(c);
        memcpy(c->u.str.ptr, v->u.str.ptr, v->u.str.len + 1);
        c->u.str.len = v->u.str.len;
        return c;
    case CR_NUMBER: {
        size_t n = strlen(v->u.num.text) + 1;
        if (!(c = cr_value_alloc_extra(CR_NUMBER, v->type, n)))
            return NULL;
        c->u.num = v->u.num;
        c->u.num.text = payload(c);
        memcpy(c->u.num.text, v->u.num.text, n);
        return c;
    }
    case CR_OBJECT: {
        size_t room = 0;
        for (size_t i = 0; i < v->u.coll.len; i++)
            room += leaf_room(v->u.coll.items[i]);
        void *embed;
        if (!(c = cr_value_object_block(v->type, room, &embed)))
            return NULL;
        if (c->u.coll.len != v->u.coll.len) {
            /* Not an object of its own type: refuse rather than guess. */
            cr_value_free(c);
            return NULL;
        }
        char *at = embed;
        for (size_t i = 0; i < v->u.coll.len; i++)
            if (!(c->u.coll.items[i] = copy_in(v->u.coll.items[i], &at))) {
                cr_value_free(c);
                return NULL;
            }
        return c;
    }
    case CR_MAP:
        if (v->type && v->type->kind == CR_TYPE_MAP)
            return copy_map(v);
        break;
    default:
        break;
    }
    c = cr_value_alloc(v->kind, v->type);
    if (!c)
        return NULL;
    switch (v->kind) {
    case CR_BOOL:
        c->u.b = v->u.b;
        break;
    case CR_UNKNOWN:
        c->u.unk.not_null = v->u.unk.not_null;
        if (v->u.unk.prefix && !(c->u.unk.prefix = strdup(v->u.unk.prefix)))
            goto fail;
        break;
    case CR_LIST: case CR_SET: case CR_MAP: case CR_TUPLE: {
        size_t n = v->u.coll.len;
        bool keyed = v->kind == CR_MAP;
        c->u.coll.items = calloc(n ? n : 1, sizeof *c->u.coll.items);
        if (keyed)
            c->u.coll.keys = calloc(n ? n : 1, sizeof *c->u.coll.keys);
        if (!c->u.coll.items || (keyed && !c->u.coll.keys))
            goto fail;
        c->u.coll.len = n;
        for (size_t i = 0; i < n; i++) {
            c->u.coll.items[i] = cr_value_copy(v->u.coll.items[i]);
            if (!c->u.coll.items[i])
                goto fail;
            if (keyed && !(c->u.coll.keys[i] = strdup(v->u.coll.keys[i])))
                goto fail;
        }
        break;
    }
    default:
        break;
    }
    return c;
fail:
    cr_value_free(c);
    return NULL;
}
