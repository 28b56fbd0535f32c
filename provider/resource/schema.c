/*
 * resource/schema.c — the cty type a schema implies, and attribute lookup.
 *
 * Terraform never sends a schema back: it sends values, and every value of a
 * resource or of the provider block is an object whose type follows from the
 * schema by fixed rules (Terraform's configschema.Block.ImpliedType):
 *
 *   - a plain attribute contributes its own type;
 *   - a protocol-6 nested attribute contributes object(...) for SINGLE,
 *     list(object), set(object) or map(object) for LIST, SET and MAP;
 *   - a nested block contributes object(...) for SINGLE and GROUP, and
 *     list/set/map of that object for LIST, SET and MAP.
 *
 * The rpc layer asks for this type on every call (to decode and encode), so
 * it is built once per schema and cached for the life of the process. The
 * schemas are static tables, so the cache is keyed by their address. Types
 * in the cache are never freed: they are as long-lived as the schemas they
 * describe, and values decoded against them borrow them. With each type
 * the cache keeps where every attribute sits in it (cr_schema_slots), for
 * code that reaches attributes of many objects by index.
 *
 * Ownership: the cache holds one reference to each type it keeps. Type
 * constructors adopt the reference they are given (value.h), so a nested
 * schema's cached type is handed to its parent only with a reference of the
 * parent's own (cr_type_ref); a failed build then releases exactly what it
 * took and never a type the cache still points at.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resource/resource.h"

/* One cached type, with where each of the schema's attributes and blocks
 * sits in it (cr_schema_slots). The cache is a short list (one entry per
 * schema and nested schema: a handful), so a linked list is the right
 * structure. */
typedef struct schema_type_cache {
    const cr_schema *schema;
    const cr_type *type;
    struct schema_type_cache *next;
    size_t slots[];             /* nattrs + nblocks */
} schema_type_cache;

/* A single mutex guards building and adding entries. Building is
 * recursive (nested schemas are cached too), so the builder runs with the
 * lock held and calls only the unlocked helpers below; it never waits on
 * anything else. Finding an entry takes no lock: entries are complete and
 * never change once published at the head (release/acquire), and are
 * never removed, so a reader walks a consistent list; code that asks for
 * the same schema for each of 100,000 fleet entries pays a few pointer
 * compares, not a mutex. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(schema_type_cache *) cache_head;

static const cr_type *type_locked(const cr_schema *s);

static schema_type_cache *cache_find(const cr_schema *s)
{
    for (schema_type_cache *c = atomic_load_explicit(&cache_head,
                                                     memory_order_acquire);
         c; c = c->next)
        if (c->schema == s)
            return c;
    return NULL;
}

static cr_type_kind collection_kind(cr_nesting n)
{
    switch (n) {
    case CR_NEST_LIST: return CR_TYPE_LIST;
    case CR_NEST_SET:  return CR_TYPE_SET;
    case CR_NEST_MAP:  return CR_TYPE_MAP;
    default:           return CR_TYPE_OBJECT;   /* SINGLE, GROUP */
    }
}

/* Drops one reference (cr_type_free takes a non-const pointer; the cache
 * and the attribute arrays hold const ones). */
static void type_release(const cr_type *t)
{
    cr_type_free((cr_type *)(uintptr_t)t);
}

/* The type of one member of the implied object: `obj` (a reference the
 * caller owns, adopted here) is the nested schema's object type, wrapped in
 * a collection for the collection nesting modes. NULL on allocation failure
 * or an invalid nesting mode; `obj` is released either way. */
static const cr_type *wrap_nested(const cr_type *obj, cr_nesting n)
{
    if (!obj)
        return NULL;
    switch (n) {
    case CR_NEST_SINGLE:
    case CR_NEST_GROUP:
        return obj;
    case CR_NEST_LIST:
    case CR_NEST_SET:
    case CR_NEST_MAP:
        return cr_type_collection(collection_kind(n), obj);
    }
    type_release(obj);
    return NULL;
}

/* A reference of the caller's own to the nested schema's cached type. */
static const cr_type *nested_ref_locked(const cr_schema *nested)
{
    return cr_type_ref(type_locked(nested));
}

static const cr_type *build_locked(const cr_schema *s)
{
    size_t n = s->nattrs + s->nblocks;
    const char **names = calloc(n ? n : 1, sizeof *names);
    const cr_type **types = calloc(n ? n : 1, sizeof *types);
    size_t built = 0;           /* types[0..built) hold references we own */
    cr_type *obj = NULL;

    if (!names || !types)
        goto out;
    for (size_t i = 0; i < s->nattrs; i++, built++) {
        const cr_attr_schema *a = &s->attrs[i];
        names[i] = a->name;
        if (a->nested) {
            /* GROUP is not a nested attribute mode; treat it as invalid. */
            if (a->nested_mode == CR_NEST_GROUP)
                goto out;
            types[i] = wrap_nested(nested_ref_locked(a->nested),
                                   a->nested_mode);
        } else {
            types[i] = cr_type_ref(a->type);
        }
        if (!types[i])
            goto out;
    }
    for (size_t i = 0; i < s->nblocks; i++, built++) {
        const cr_block_schema *b = &s->blocks[i];
        size_t k = s->nattrs + i;
        names[k] = b->type_name;
        types[k] = wrap_nested(nested_ref_locked(b->block), b->nesting);
        if (!types[k])
            goto out;
    }
    /* The constructor adopts every reference, even when it fails (a
     * duplicate attribute name, ENOMEM). */
    obj = cr_type_object(n, names, types);
    built = 0;
out:
    /* On failure, release what this build took: collection types made here
     * are freed, cached nested types lose only our reference. The next call
     * retries from scratch. */
    for (size_t i = 0; i < built; i++)
        type_release(types[i]);
    free(names);
    free(types);
    return obj;
}

static schema_type_cache *entry_locked(const cr_schema *s)
{
    schema_type_cache *c = cache_find(s);
    if (c)
        return c;
    const cr_type *t = build_locked(s);
    if (!t)
        return NULL;
    size_t n = s->nattrs + s->nblocks;
    c = malloc(sizeof *c + n * sizeof c->slots[0]);
    if (!c) {
        cr_type_free((cr_type *)t);
        return NULL;
    }
    /* Every name is in the type: it was built from them, and a duplicate
     * would have failed the build. */
    for (size_t i = 0; i < n; i++)
        c->slots[i] = (size_t)cr_type_attr_index(
            t, i < s->nattrs ? s->attrs[i].name
                             : s->blocks[i - s->nattrs].type_name);
    c->schema = s;
    c->type = t;
    c->next = atomic_load_explicit(&cache_head, memory_order_relaxed);
    atomic_store_explicit(&cache_head, c, memory_order_release);
    return c;
}

static const cr_type *type_locked(const cr_schema *s)
{
    schema_type_cache *c = entry_locked(s);
    return c ? c->type : NULL;
}

/* The cache entry of s: found without a lock, else built under it. */
static schema_type_cache *entry_of(const cr_schema *s)
{
    if (!s)
        return NULL;
    schema_type_cache *c = cache_find(s);
    if (c)
        return c;
    pthread_mutex_lock(&cache_lock);
    c = entry_locked(s);
    pthread_mutex_unlock(&cache_lock);
    return c;
}

const cr_type *cr_schema_type(const cr_schema *s)
{
    schema_type_cache *c = entry_of(s);
    return c ? c->type : NULL;
}

const size_t *cr_schema_slots(const cr_schema *s, const cr_type **type)
{
    schema_type_cache *c = entry_of(s);
    if (type)
        *type = c ? c->type : NULL;
    return c ? c->slots : NULL;
}

const cr_attr_schema *cr_schema_attr(const cr_schema *s, const char *name)
{
    if (!s || !name)
        return NULL;
    for (size_t i = 0; i < s->nattrs; i++)
        if (strcmp(s->attrs[i].name, name) == 0)
            return &s->attrs[i];
    return NULL;
}
