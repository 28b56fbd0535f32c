/*
 * resource/tenants_doc.h — reading the tenants document (store/store.h,
 * "the tenants document") that cellrouter_tenants takes in `tenants_json`,
 * and the per-tenant versions it keeps in its private state. Used by
 * tenants.c and tenants_json.c only.
 *
 * A document is parsed once into routing-map entries sorted by tenant id,
 * checked against the routing map's rules (store.c's, the same as the
 * `tenants` map gets), with errors that name the tenant and the field:
 *
 *   tenants_json: tenant "acme": endpoint must be an absolute URL ...
 *
 * Parsing streams (yajl): a 100,000-tenant document of 22 MB never becomes
 * a tree of JSON values. Field values are interned, so the handful of
 * distinct cells and endpoints of a fleet are stored, and checked, once.
 */
#ifndef CR_RESOURCE_TENANTS_DOC_H
#define CR_RESOURCE_TENANTS_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resource/resource.h"

/* Limits. A plan request carries the document up to three times (prior,
 * proposed, configuration) within the provider's 256 MiB gRPC receive
 * limit; 64 MiB is about 280,000 tenants of the usual size. Beyond that,
 * shard the fleet (README, "Sharding"). */
#define CR_TDOC_MAX_BYTES   (64u * 1024 * 1024)
#define CR_TDOC_MAX_TENANTS 500000
/* How many problems a document's diagnostics name before "and N more". */
#define CR_TDOC_MAX_ERRORS  10

typedef struct cr_tdoc_mem cr_tdoc_mem;

/* A parsed document: entries sorted by tenant id, each once. Their
 * strings and label arrays live in the document's memory (never
 * cr_entry_clear them); version and updated_at are unset (0, NULL).
 * style[i] says how entry i was written (CR_DOC_*), so that writing it
 * back (cr_doc_writer_add) gives the same JSON structure. Zero-initialise
 * or fill by parsing. */
typedef struct cr_tdoc {
    size_t len, cap;
    cr_entry *items;
    unsigned char *style;
    cr_tdoc_mem *mem;
} cr_tdoc;

/* Parses and checks text[0..len) (not necessarily NUL-terminated): a JSON
 * object keyed by tenant id, each value an object with cell_id and
 * endpoint (strings), standby_cell_id and standby_endpoint (strings or
 * null, both or neither) and labels (an object of strings, or null); no
 * other field, no key twice, strict UTF-8, within the limits above.
 * `attr` names the attribute in the messages; diagnostics are errors at
 * `at` (may be NULL). 0, or -1 with at least one error (doc empty). */
int cr_tdoc_parse(const char *text, size_t len, const char *attr,
                  const cr_path *at, cr_tdoc *doc, cr_diags *d);
void cr_tdoc_free(cr_tdoc *doc);

/* Building a document from other entries (the `tenants` map of a prior
 * state): appends a zeroed entry, NULL on ENOMEM; the caller keeps the
 * order and uniqueness. cr_tdoc_alloc is memory that lives with doc. */
cr_entry *cr_tdoc_push(cr_tdoc *doc, unsigned style);
void *cr_tdoc_alloc(cr_tdoc *doc, size_t n);

/* The entry of `tenant_id`, or NULL (binary search). */
const cr_entry *cr_tdoc_find(const cr_tdoc *doc, const char *tenant_id);

/* Whether two entries route a tenant the same: cell_id, endpoint, the
 * standby pair and the labels, compared as a set; an absent, null and
 * empty labels map are the same, the owner tag is ignored. This is the
 * document's semantic equality: formatting, key order and left-out
 * defaults never make a difference. */
bool cr_tdoc_same_entry(const cr_entry *a, const cr_entry *b);
/* The same tenant ids, each the same entry. */
bool cr_tdoc_same(const cr_tdoc *a, const cr_tdoc *b);

/* ---- versions in the private state -------------------------------------- *
 *
 * What cellrouter_tenants keeps per tenant in Terraform's private state
 * when the fleet is in `tenants_json`: the version each entry had when
 * Terraform last read or wrote it (the expected version of the next
 * conditional write) and when it was written. Never shown in a plan.
 *
 * Encoded in MessagePack, compact because it can hold 100,000 tenants: a
 * map {"v": 1, "ids": [tenant ids, sorted], "ver": [versions], "times":
 * [distinct RFC 3339 stamps], "at": [index into times per tenant]}. A
 * fleet written in batches shares a few hundred stamps, so a tenant costs
 * its id plus a few bytes (measured in bench/bench_tenants.c). */
typedef struct cr_tversions {
    size_t len;
    char **ids;             /* sorted, unique */
    int64_t *version;
    char **at;              /* NULL: not known */
    void *mem;              /* one block holding all of the above */
} cr_tversions;

/* Decodes private bytes (len 0: none). Bytes that are not ours (another
 * format, damaged) decode as no versions: -1, out empty; never a crash. */
int cr_tversions_decode(const unsigned char *data, size_t len,
                        cr_tversions *out);
void cr_tversions_free(cr_tversions *v);
/* The version of tenant_id, or CR_VERSION_ANY when not known; *at (if not
 * NULL) its stamp or NULL. */
int64_t cr_tversions_find(const cr_tversions *v, const char *tenant_id,
                          const char **at);
/* Encodes n tenants (ids sorted and unique; at[i] may be NULL) as private
 * bytes: *out malloc'd. 0, or -1 on ENOMEM. */
int cr_tversions_encode(size_t n, const char *const *ids,
                        const int64_t *version, const char *const *at,
                        unsigned char **out, size_t *out_len);

#endif
