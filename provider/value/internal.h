/*
 * value/internal.h — helpers shared by the files of the value module only
 * (and by tests that check its limits).
 *
 * It gathers the pieces that two codecs need: exact decimal numbers,
 * reference counting of run-time types, the text writer both JSON writers
 * use, the value constructors decoders build with, and the decoding steps
 * both codecs take alike.
 *
 * The files of value/, each calling only those below it (no file calls
 * one above it or beside it in a circle):
 *   json.c, msgpack.c   the two codecs (call decode.c and everything below)
 *   decode.c            what both decoders share (cr_vdec_*)
 *   number.c            exact decimal numbers (cr_num_*, cr_value_int/number)
 *   value.c             values in memory: constructors, containers,
 *                       equality, copy, free
 *   type.c              cty types, their JSON syntax
 *   text.c              JSON strings: Go's quoting
 * value/ may include: value/, common/ (diag.h, utf8.h), jansson and
 * msgpack-c. Nothing above it (resource/, rpc/).
 */
#ifndef CR_VALUE_INTERNAL_H
#define CR_VALUE_INTERNAL_H

#include "common/tbuf.h"         /* cr_tbuf */
#include "common/utf8.h"         /* cr_utf8_valid */
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

/* ---- what the two decoders share (decode.c) ------------------------------------ */

/* The state both decoders (json.c, msgpack.c) walk a value with: where they
 * are, where diagnostics go, and whether one was reported. Decoding stops at
 * the first error, so only that one is reported. A codec that needs more
 * state embeds this as its first member. */
typedef struct cr_vdec {
    cr_lpath path;
    cr_diags *diags;
    int failed;
    const char *wire;       /* "JSON", "encoded": in "the JSON value is..." */
    size_t budget;          /* JSON: values still allowed (CR_VALUE_MAX_ITEMS);
                             * MessagePack counts in its scan instead */
} cr_vdec;

/* Reports one error at the current path (the first one only). */
void cr_vdec_error(cr_vdec *d, const char *summary, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cr_vdec_oom(cr_vdec *d);
/* "Invalid value: <what> required": the input holds `got` ("an array"). */
void cr_vdec_wrong(cr_vdec *d, const char *what, const char *got);
/* v, or NULL with an out-of-memory error when a constructor returned NULL. */
cr_value *cr_vdec_made(cr_vdec *d, cr_value *v);
/* False (with an error) when `depth` is past CR_VALUE_MAX_DEPTH. */
bool cr_vdec_depth_ok(cr_vdec *d, int depth);
/* The null of type t. */
cr_value *cr_vdec_null(cr_vdec *d, const cr_type *t);
/* A string value of p[0..n), which must be UTF-8. */
cr_value *cr_vdec_string(cr_vdec *d, const char *p, size_t n);
/* A number value from decimal text p[0..n). */
cr_value *cr_vdec_number_text(cr_vdec *d, const char *p, size_t n);
/* The concrete type a dynamic value carries, from its JSON p[0..n). */
cr_type *cr_vdec_dynamic_type(cr_vdec *d, const char *p, size_t n);
/* The index of attribute `name` in object type t, or -1 after reporting it
 * as unsupported (at the attribute's path). */
long cr_vdec_attr(cr_vdec *d, const cr_type *t, const char *name);

/* Decodes element i of a sequence against et (the codec's own walk). */
typedef cr_value *cr_vdec_elem_fn(cr_vdec *d, const void *seq, size_t i,
                                  const cr_type *et, int depth);
/* "list", "set" or "tuple": what a sequence type requires. */
const char *cr_vdec_seq_what(const cr_type *t);
/* A LIST, SET or TUPLE of type t from n elements, each decoded by `elem`
 * (at path index i; set elements have no index). The tuple's length is
 * checked first. */
cr_value *cr_vdec_seq(cr_vdec *d, const cr_type *t, const void *seq, size_t n,
                      cr_vdec_elem_fn *elem, int depth);
/* A MAP of type t from n decoded keys and values (all adopted, with the
 * arrays): a duplicated key is reported at its path. */
cr_value *cr_vdec_map(cr_vdec *d, const cr_type *t, char **keys,
                      cr_value **vals, size_t n);

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

/* ---- types (type.c) and JSON text (text.c) ------------------------------------ */

/* Run-time types are reference counted so values (and their copies) can
 * keep the concrete type of a dynamic attribute alive. cr_type_ref is public
 * (value.h); cr_type_unref is cr_type_free for const pointers. Both are
 * no-ops on static types. */
void cr_type_unref(const cr_type *t);
/* JSON text goes into a common/tbuf.h buffer (cr_tbuf). */

/* s[0..n) as a JSON string literal with Go's escaping; malloc'd. */
char *cr_json_quote(const char *s, size_t n);


/* ---- values (value.c) ----------------------------------------------------------- */

cr_value *cr_value_alloc(cr_value_kind kind, const cr_type *t);
/* The same with `extra` bytes of payload in the value's own block, right
 * after the struct (uninitialised): for a STRING's bytes or a NUMBER's
 * text, which cr_value_free then knows not to free apart. */
cr_value *cr_value_alloc_extra(cr_value_kind kind, const cr_type *t,
                               size_t extra);
/* An OBJECT of type t whose slots are all NULL, to be filled by a decoder
 * (cr_value_free skips NULL slots). Every OBJECT is made here: its slot
 * and key arrays share its block, and its keys are t's attribute names,
 * borrowed (the value keeps t alive). NULL on ENOMEM or a non-object t. */
cr_value *cr_value_object_slots(const cr_type *t);
/* cr_value_object_block, cr_value_map_block, cr_value_map_seal and the
 * embedded leaves are public: value.h, "Values built in one block". */
/* A NUMBER whose canonical text text[0..n) is copied into its block
 * (number.c). */
cr_value *cr_num_inline(const char *text, size_t n);
/* A total order consistent with cr_value_equal, used to sort sets. */
int cr_value_cmp(const cr_value *a, const cr_value *b);
/* Builds a MAP of type t from n parallel arrays, taking ownership of every
 * key and value (and of the arrays) even on failure. Returns NULL with
 * *dup_key pointing at a duplicated key (borrowed from `keys` until the
 * arrays are freed, so it is returned as a malloc'd copy the caller frees)
 * or NULL with *dup_key NULL on ENOMEM. */
cr_value *cr_value_map_adopt(const cr_type *t, char **keys, cr_value **vals,
                             size_t n, char **dup_key);
/* Frees items[0..n) and the array: elements a failed build had adopted. */
void cr_value_free_items(cr_value **items, size_t n);
/* Frees keys[0..n) and vals[0..n) and both arrays (either may be NULL):
 * the entries of a map that was never built. */
void cr_value_free_entries(char **keys, cr_value **vals, size_t n);
/* Builds a LIST or TUPLE from n adopted elements (array adopted too). */
cr_value *cr_value_seq_adopt(cr_value_kind kind, const cr_type *t,
                             cr_value **items, size_t n);
/* Builds a SET of type t from n elements (array and elements adopted):
 * sorts them and merges wholly known duplicates. NULL on ENOMEM. */
cr_value *cr_value_set_adopt(const cr_type *t, cr_value **items, size_t n);

#endif
