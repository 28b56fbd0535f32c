/*
 * resource/tenants.h — what the two halves of the cellrouter_tenants
 * resource share: tenants.c (the schema, the vtable, the fleet as the
 * `tenants` map) and tenants_json.c (the fleet as one JSON document in
 * `tenants_json`, with versions in the private state). Nothing else
 * includes it.
 *
 * Both halves write the routing map the same way (cr_tn_write: batches,
 * each all-or-nothing and conditional on the versions Terraform last
 * read, the owner tag added to every entry), refuse the same keys at plan
 * (cr_tn_check_new_keys) and name the resource by the same rules.
 */
#ifndef CR_RESOURCE_TENANTS_H
#define CR_RESOURCE_TENANTS_H

#include "resource/entry_value.h"
#include "resource/tenants_doc.h"

/* The attributes of the two forms: exactly one of them is set. */
#define CR_TN_MAP  "tenants"
#define CR_TN_JSON "tenants_json"

/* A `tenants` map larger than this gets a warning at plan pointing to
 * `tenants_json` (Terraform core's cost of map(object) is quadratic). */
#define CR_TN_MAP_WARN 2000

/* One change to the routing map. */
typedef struct cr_tn_op {
    const char *key;
    const cr_entry *entry;      /* to write (owner tag not needed); NULL:
                                   delete the key */
    int64_t expect;             /* CR_VERSION_ABSENT for a new key */
    /* outcome */
    bool applied;
    bool was_absent;            /* delete: already gone (a warning) */
    int64_t version;            /* written */
    char updated_at[40];
} cr_tn_op;

/* Writes ops (in key order) in batches of cr_store_batch_max, each tagged
 * with `owner`, stopping at the first batch that fails or when Terraform
 * asks the provider to stop. The ops' outcomes say what was written.
 * False (with errors, and a warning saying how much was written) when
 * not everything was written. */
bool cr_tn_write(cr_provider_state *p, cr_tn_op *ops, size_t n,
                 const char *owner, cr_diags *d);

/* Keys new to the resource that already have an entry in the map: an
 * error each (at `attr`, with the key when attr is the map), naming the
 * resource that owns it. Quiet without a store. */
void cr_tn_check_new_keys(cr_provider_state *p, const char *const *keys,
                          size_t n, const char *owner, const char *attr,
                          cr_diags *d);

/* e's labels with the owner tag added in key order (e's own strings
 * borrowed, the array malloc'd): what a write stores. NULL on ENOMEM. */
cr_label *cr_tn_tagged_labels(const cr_entry *e, const char *owner,
                              size_t *n);

/* NULL when `name` is a valid resource name, else why not. */
const char *cr_tn_name_check(const char *name);

/* A growable list of key names for one diagnostic. */
#define CR_TN_NAMED_KEYS 20
typedef struct cr_tn_keylist {
    char text[1400];
    size_t n;
} cr_tn_keylist;
void cr_tn_keylist_add(cr_tn_keylist *k, const char *key, const char *note);
/* " and N more" when there were more keys than named; buf holds it. */
const char *cr_tn_keylist_more(const cr_tn_keylist *k, char buf[64]);

/* The refusals of an import, as errors: keys not in the map, keys tagged
 * by another resource, tags that disagree (id_prefix: what the import ID
 * starts with, "" or "tenants_json/"). True when there was any. */
bool cr_tn_import_refusals(cr_diags *d, const cr_tn_keylist *missing,
                           const cr_tn_keylist *foreign, bool disagree,
                           const char *id_prefix);

/* A refresh's warning for keys of this resource that carry another
 * resource's tag (nothing when there are none). */
void cr_tn_warn_retagged(cr_diags *d, const cr_tn_keylist *retagged);

void cr_tn_nomem(cr_diags *d);

/* ---- the document form (tenants_json.c) ------------------------------- */

/* Whether obj (a config, plan or state) holds its fleet in tenants_json:
 * the attribute is set (known or not). */
bool cr_tnj_mode(const cr_value *obj);

/* Validation of the document (when known) at path tenants_json. */
void cr_tnj_validate(const cr_value *config, cr_diags *d);

/* The plan of an object in the document form: the framework's plan in
 * resp->planned (id set) is adjusted (the prior string kept when the
 * documents are the same), new keys checked against the map. */
void cr_tnj_plan(cr_provider_state *p, const cr_plan_req *req,
                 cr_plan_resp *resp);

/* Apply when the plan is in the document form, or a destroy of an object
 * in it. */
void cr_tnj_write(cr_provider_state *p, const cr_apply_req *req,
                  cr_apply_resp *resp);

/* Refresh of a state in the document form. */
void cr_tnj_read(cr_provider_state *p, const cr_read_req *req,
                 cr_read_resp *resp);

/* Import into the document form, as an object of type obj_type: the
 * entries of `keys` (sorted, unique) read from the store now, or those
 * already listed (`listed`, not NULL for an import by prefix); name NULL
 * takes the name the entries are tagged with. */
void cr_tnj_import(cr_provider_state *p, const cr_type *obj_type,
                   const char *name, const cr_entry_list *listed,
                   const char *const *keys, size_t nkeys,
                   cr_import_resp *resp);

/* A state in the document form as the `tenants` map, versions from the
 * private state (for a change from one form to the other). NULL when
 * obj is not in the document form or on error (diagnostics). */
cr_value *cr_tnj_as_map(const cr_value *obj, cr_bytes priv,
                        const cr_type *map_type, cr_diags *d);

#endif
