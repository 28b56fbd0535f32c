/*
 * value/value.h — cty types and values, and their wire forms.
 *
 * Terraform moves every configuration, plan and state value as a cty value
 * encoded in MessagePack (DynamicValue.msgpack) or, for stored state, JSON
 * (RawState.json). This module owns the in-memory model of those values and
 * both codecs. Decoding is always checked against the expected type: bytes of
 * the wrong shape become a diagnostic with the attribute path, never a crash.
 *
 * Ownership: every cr_value* returned by a constructor, a decoder or
 * cr_value_copy is owned by the caller and released with cr_value_free. A
 * value put into a collection or object is owned by that container.
 * Getters return borrowed pointers. Types are immutable: the primitive types
 * are static; composite types are either static (declared by a schema) or
 * owned by whoever built them (cr_type_free).
 */
#ifndef CR_VALUE_H
#define CR_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/diag.h"

/* ---- types -------------------------------------------------------------- */

typedef enum cr_type_kind {
    CR_TYPE_STRING = 1, CR_TYPE_NUMBER, CR_TYPE_BOOL, CR_TYPE_DYNAMIC,
    CR_TYPE_LIST, CR_TYPE_SET, CR_TYPE_MAP, CR_TYPE_OBJECT, CR_TYPE_TUPLE
} cr_type_kind;

typedef struct cr_type cr_type;

typedef struct cr_type_attr {
    const char *name;           /* OBJECT only; attrs are sorted by name */
    const cr_type *type;
} cr_type_attr;

struct cr_type {
    cr_type_kind kind;
    const cr_type *elem;        /* LIST, SET, MAP */
    size_t nattrs;              /* OBJECT attributes, TUPLE elements */
    const cr_type_attr *attrs;
    bool owned;                 /* built at run time: cr_type_free releases */
};

extern const cr_type cr_type_string, cr_type_number, cr_type_bool,
                     cr_type_dynamic;

/* Run-time construction (e.g. from a dynamic value's type JSON).
 * Run-time types are reference counted. A constructor takes over the
 * caller's reference to every run-time child type it is given (static
 * children are simply pointed at), so freeing the root frees the tree; give
 * one run-time child to one parent only. Values keep their own reference to
 * a run-time type, so a type may be freed while values of it live on.
 * Constructors return NULL on ENOMEM or bad arguments (a NULL child, a
 * duplicate attribute name), releasing the children they were given. */
cr_type *cr_type_collection(cr_type_kind kind, const cr_type *elem);
/* names/types arrays are copied; names need not be sorted. */
cr_type *cr_type_object(size_t n, const char *const *names,
                        const cr_type *const *types);
cr_type *cr_type_tuple(size_t n, const cr_type *const *types);
/* Takes one more reference to a run-time type (no-op on static types) and
 * returns t: use it before handing a type you keep (e.g. a cached nested
 * block type) to a constructor that adopts it. */
const cr_type *cr_type_ref(const cr_type *t);
void cr_type_free(cr_type *t);              /* no-op on static types */
bool cr_type_equal(const cr_type *a, const cr_type *b);
/* Index of attribute `name` in an OBJECT type, or -1. */
long cr_type_attr_index(const cr_type *obj, const char *name);
/* The JSON form Terraform expects in Attribute.type: "string",
 * ["map","string"], ["object",{"a":"number"}]. malloc'd, NUL-terminated. */
char *cr_type_to_json(const cr_type *t);
/* Parses that JSON form; returns an owned type or NULL with *err set
 * (malloc'd message). */
cr_type *cr_type_from_json(const char *json, size_t len, char **err);

/* ---- values ------------------------------------------------------------- */

typedef enum cr_value_kind {
    CR_NULL = 0, CR_UNKNOWN, CR_STRING, CR_NUMBER, CR_BOOL,
    CR_LIST, CR_SET, CR_MAP, CR_OBJECT, CR_TUPLE
} cr_value_kind;

typedef struct cr_value cr_value;

struct cr_value {
    cr_value_kind kind;
    /* The value module's own bookkeeping: set when the value lives inside
     * its container's block (cr_value_free then releases only what it
     * holds, the container frees the memory). Nothing else touches it. */
    bool embedded;
    /* The value's type. For a value of a DYNAMIC attribute this is the
     * concrete type carried on the wire (owned by the value when
     * type->owned). NULL and UNKNOWN keep the type they were decoded as. */
    const cr_type *type;
    union {
        struct { char *ptr; size_t len; } str;      /* NUL-terminated copy */
        struct {
            char *text;     /* exact decimal: "-12", "0.1", "1e+400" */
            bool is_int;    /* fits int64 exactly */
            int64_t i;
            double f;       /* nearest double (±inf when out of range) */
        } num;
        bool b;
        struct {
            size_t len;
            cr_value **items;   /* LIST/SET/TUPLE elements; MAP/OBJECT values */
            char **keys;        /* MAP/OBJECT only: sorted, unique, owned */
            /* The value module's own bookkeeping (bytes of arrays and keys
             * kept in the value's block); nothing else reads or writes it. */
            size_t inblock;
        } coll;
        struct {
            /* Refinements of an unknown (ext 12); kept for plan checks. */
            bool not_null;
            char *prefix;       /* string prefix or NULL */
        } unk;
    } u;
};

cr_value *cr_value_null(const cr_type *t);
cr_value *cr_value_unknown(const cr_type *t);
cr_value *cr_value_string(const char *s);
cr_value *cr_value_stringn(const char *s, size_t len);
cr_value *cr_value_int(int64_t i);
/* Exact decimal text; NULL when `text` is not a number. */
cr_value *cr_value_number(const char *text);
cr_value *cr_value_bool(bool b);
/* An OBJECT of type t (static or kept alive by the caller) with every
 * attribute null. */
cr_value *cr_value_object(const cr_type *t);
/* Empty LIST, SET, MAP or TUPLE of type t (append to a tuple in order). */
cr_value *cr_value_collection(const cr_type *t);

/* Containers take ownership of `v` (even on failure). 0 or -1. */
int cr_value_object_set(cr_value *obj, const char *name, cr_value *v);
int cr_value_map_put(cr_value *map, const char *key, cr_value *v);
int cr_value_append(cr_value *list_or_set, cr_value *v);

/* Borrowed lookups; NULL when absent. */
const cr_value *cr_value_get(const cr_value *obj_or_map, const char *key);
/* The string of a known STRING attribute, else NULL (null/unknown/absent). */
const char *cr_value_get_str(const cr_value *obj, const char *name);

bool cr_value_is_null(const cr_value *v);
bool cr_value_is_unknown(const cr_value *v);
/* True when neither v nor anything inside it is unknown. */
bool cr_value_is_wholly_known(const cr_value *v);
/* cty equality of wire-visible content: kind, contents, set order ignored,
 * unknown == unknown (refinements ignored). Numbers compare by value
 * ("1.0" == "1"). Types are not compared: compare values found at the same
 * schema position (an empty list(string) equals an empty list(number)). */
bool cr_value_equal(const cr_value *a, const cr_value *b);

cr_value *cr_value_copy(const cr_value *v);
void cr_value_free(cr_value *v);

/* ---- values built in one block ------------------------------------------ */

/* A fleet-size value (100,000 tenants are over a million values) spends
 * most of its build and free time in malloc and free. A builder that knows
 * the sizes up front (a decoder, a refresh building one object per entry)
 * can put a container, its arrays, its keys and its leaf values in one
 * allocation with these. The result is an ordinary value: every other
 * function treats it like any other, and cr_value_free releases it. */

/* An OBJECT of type t whose slots are all NULL, with `room` more bytes (at
 * *embed) for embedded attribute values (cr_value_embed). The builder fills
 * every slot (cr_value_free skips NULL ones). NULL on ENOMEM or a
 * non-object t. */
cr_value *cr_value_object_block(const cr_type *t, size_t room, void **embed);
/* A MAP of type t with room for n entries in its own block: items[0..n)
 * and keys[0..n) NULL, `keybytes` bytes for the key text at *keyspace and
 * `room` bytes for embedded elements at *embed. A builder points every key
 * into the key space, fills the items (cr_value_free skips NULL ones) and
 * calls cr_value_map_seal. cr_value_map_put still works on such a map: the
 * arrays move out of the block when they grow. NULL on ENOMEM. */
cr_value *cr_value_map_block(const cr_type *t, size_t n, size_t keybytes,
                             size_t room, char **keyspace, void **embed);
/* Sorts the entries of a map built by cr_value_map_block and checks that
 * its keys are unique: 0, or -1 with *dup_key pointing at a duplicated key
 * (borrowed from m) or NULL on ENOMEM. */
int cr_value_map_seal(cr_value *m, const char **dup_key);
/* Values made inside a container's block (leaves): `mem` is
 * pointer-aligned room of CR_VALUE_EMBED_SIZE(payload bytes). The result
 * is owned by the container like any element; cr_value_free on it (e.g.
 * when cr_value_object_set replaces it) releases its type reference but
 * not its memory, which goes with the container's block. */
#define CR_VALUE_EMBED_SIZE(payload) \
    (sizeof(cr_value) + (((payload) + 7) & ~(size_t)7))
cr_value *cr_value_embed(void *mem, cr_value_kind kind, const cr_type *t);
/* A STRING of p[0..n) (copied after the struct; room for n + 1 bytes). */
cr_value *cr_value_embed_string(void *mem, const char *p, size_t n);
/* A NUMBER of int64 i (room for CR_VALUE_INT_TEXT bytes of text). */
#define CR_VALUE_INT_TEXT 24
cr_value *cr_value_embed_int(void *mem, int64_t i);

/* ---- codecs ------------------------------------------------------------- */

/* Decodes cty msgpack against type t. Empty input is null. On error returns
 * NULL and adds an error diagnostic at the offending path to `diags`.
 * Bounded: depth, sizes and ext payloads are checked, never trusted.
 * Stricter than go-cty on purpose: strings, map keys and attribute names
 * must be valid UTF-8, keys must not contain NUL (they are C strings
 * here), trailing bytes and truncated values are errors, numbers with an
 * exponent beyond ±100000 are refused, and so is an input of more than
 * 1,000,000 values in all (memory stays near 100 MB whatever the input).
 * Sets keep a canonical order; wholly known duplicates merge, unknown
 * elements never do. An error inside a set element is reported at the set
 * (Terraform cannot address set elements by index). */
cr_value *cr_value_decode_msgpack(const void *buf, size_t len,
                                  const cr_type *t, cr_diags *diags);
/* Whether buf[0..len) is exactly one complete MessagePack object, nested
 * at most 32 deep, of at most max_values values, none of whose containers
 * claims more elements than bytes remain: what makes bytes from outside
 * safe for msgpack-c's unpacker, which allocates from the claimed counts
 * (the decoder above checks the same first). For MessagePack the provider
 * reads that is not a cty value (a resource's private state). */
bool cr_msgpack_bounded(const void *buf, size_t len, size_t max_values);
/* Encodes v (of its type) in the form Terraform writes. *out is malloc'd.
 * Returns 0, or -1 on allocation failure. Unknowns are written as ext 0
 * (refinements are dropped, which Terraform allows). */
int cr_value_encode_msgpack(const cr_value *v, void **out, size_t *out_len);
/* The same, for a receiver expecting type t: when t is DYNAMIC (or has
 * DYNAMIC parts) the value's concrete type is written with it, as go-cty's
 * [type JSON, value] pair. cr_value_encode_msgpack(v) is this with t =
 * v->type; object attributes and elements always use their declared types. */
int cr_value_encode_msgpack_as(const cr_value *v, const cr_type *t,
                               void **out, size_t *out_len);

/* Decodes cty JSON (RawState.json) against type t. Object attributes absent
 * from the JSON are null (older states). Unknowns cannot appear in JSON.
 * Numbers keep their exact decimal value. As in go-cty, a string type also
 * takes number and bool tokens, a number type a decimal in a string, a
 * bool type "true"/"false"; unknown object attributes are errors. Syntax
 * errors carry line:column of the input. */
cr_value *cr_value_decode_json(const char *buf, size_t len, const cr_type *t,
                               cr_diags *diags);
/* Encodes a wholly known value as cty JSON, in go-cty's spelling (one
 * difference: a number that arrived as a float64 is written exactly, where
 * go-cty writes the shortest decimal of the double); malloc'd string, or
 * NULL for unknowns, infinities and ENOMEM. */
char *cr_value_encode_json(const cr_value *v);
/* The same for a receiver expecting type t ({"value":..,"type":..} when t
 * is DYNAMIC). */
char *cr_value_encode_json_as(const cr_value *v, const cr_type *t);

#endif
