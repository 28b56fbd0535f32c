/*
 * value/internal.h — helpers shared by the files of the value module only.
 *
 * Nothing outside provider/value/ includes this header. It gathers the
 * pieces that two codecs need: exact decimal numbers, reference counting of
 * run-time types, and the ordering used to keep sets and maps canonical.
 */
#ifndef CR_VALUE_INTERNAL_H
#define CR_VALUE_INTERNAL_H

#include "value/value.h"

/* Deepest nesting of containers any decoder accepts. Terraform schemas are
 * a handful of levels deep; the bound exists so hostile input cannot
 * exhaust the stack. msgpack-c's own parser stops at 32 levels. */
#define CR_VALUE_MAX_DEPTH 32
/* Most values (counting every element at every level) one decode accepts:
 * a one-byte msgpack nil costs about 80 bytes as a cr_value, so this keeps
 * a hostile input near 320 MB. A cellrouter_tenants resource of 100,000
 * tenants is about 1.1 million values (an object, seven attributes and
 * the labels per tenant): the bound leaves room for fleets of about
 * 300,000 tenants with a few labels each. */
#define CR_VALUE_MAX_ITEMS 4000000
#define CR_VALUE_MAX_ITEMS_TEXT "4,000,000"

/* ---- decoder positions (value.c) --------------------------------------------- */

/* Where a decoder is, as a stack of borrowed names: pushing and popping
 * allocate nothing, and the stack becomes a cr_path only when an error is
 * reported. Decoders nest at most CR_VALUE_MAX_DEPTH levels, one step
 * each, so the fixed array always suffices (len still counts past it). */
typedef struct cr_lpath {
    size_t len;
    struct {
        cr_path_step_kind kind;
        const char *name;       /* borrowed; ATTR and KEY */
        int64_t index;          /* INDEX */
    } s[CR_VALUE_MAX_DEPTH + 2];
} cr_lpath;

static inline void cr_lpath_push(cr_lpath *p, cr_path_step_kind kind,
                                 const char *name, int64_t index)
{
    if (p->len < sizeof p->s / sizeof p->s[0]) {
        p->s[p->len].kind = kind;
        p->s[p->len].name = name;
        p->s[p->len].index = index;
    }
    p->len++;
}

static inline void cr_lpath_pop(cr_lpath *p)
{
    if (p->len)
        p->len--;
}

/* Copies the stack into *out (uninitialised); 0 or -1 on ENOMEM. */
int cr_lpath_to_path(const cr_lpath *p, cr_path *out);

/* ---- numbers (number.c) ---------------------------------------------------- */

/* Parses decimal text ("-12", "0.1", "1e+400", "5.", ".5", "+3") into the
 * canonical spelling every cr_value number carries, so two numbers are equal
 * exactly when their texts are. Returns a malloc'd string, or NULL when the
 * text is not a finite decimal number (or its exponent is absurd); *oom is
 * set when the failure was memory. */
char *cr_num_canonical(const char *text, size_t len, int *oom);
/* The plain decimal spelling of canonical text (no exponent), as go-cty
 * writes numbers on the wire; malloc'd, NULL on ENOMEM. */
char *cr_num_plain(const char *text);
/* Canonical text of the exact value of a finite double; NULL on ENOMEM. */
char *cr_num_from_double(double d);
/* Fills the fast paths (is_int/i, f) of a number value from its text. */
void cr_num_fill(cr_value *v);
/* True when the (finite) number is an integer, however large. */
bool cr_num_is_integer(const cr_value *v);
/* True when the number equals a double exactly (then *d is that double). */
bool cr_num_exact_double(const cr_value *v, double *d);
/* A number value that owns `text`, which must already be canonical or one
 * of the infinity spellings below. NULL (and text freed) on ENOMEM. */
cr_value *cr_num_adopt(char *text);
cr_value *cr_num_infinity(bool negative);
#define CR_NUM_POS_INF "+Inf"
#define CR_NUM_NEG_INF "-Inf"
bool cr_num_is_inf(const cr_value *v);

/* ---- types (type.c) ---------------------------------------------------------- */

/* Run-time types are reference counted so values (and their copies) can
 * keep the concrete type of a dynamic attribute alive. cr_type_ref is public
 * (value.h); cr_type_unref is cr_type_free for const pointers. Both are
 * no-ops on static types. */
void cr_type_unref(const cr_type *t);
/* s[0..n) as a JSON string literal with Go's escaping; malloc'd. */
char *cr_json_quote(const char *s, size_t n);

/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool cr_utf8_valid(const char *s, size_t n);

/* ---- values (value.c) ----------------------------------------------------------- */

cr_value *cr_value_alloc(cr_value_kind kind, const cr_type *t);
/* A total order consistent with cr_value_equal, used to sort sets. */
int cr_value_cmp(const cr_value *a, const cr_value *b);
/* Builds a MAP of type t from n parallel arrays, taking ownership of every
 * key and value (and of the arrays) even on failure. Returns NULL with
 * *dup_key pointing at a duplicated key (borrowed from `keys` until the
 * arrays are freed, so it is returned as a malloc'd copy the caller frees)
 * or NULL with *dup_key NULL on ENOMEM. */
cr_value *cr_value_map_adopt(const cr_type *t, char **keys, cr_value **vals,
                             size_t n, char **dup_key);
/* Builds a LIST or TUPLE from n adopted elements (array adopted too). */
cr_value *cr_value_seq_adopt(cr_value_kind kind, const cr_type *t,
                             cr_value **items, size_t n);
/* Builds a SET of type t from n elements (array and elements adopted):
 * sorts them and merges wholly known duplicates. NULL on ENOMEM. */
cr_value *cr_value_set_adopt(const cr_type *t, cr_value **items, size_t n);

#endif
