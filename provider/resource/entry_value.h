/*
 * resource/entry_value.h — routing-map entries <-> resource values, shared
 * by every resource and data source that shows entries (tenant.c,
 * tenants.c, ds_tenant.c, ds_routing_map.c), so that the one resource, the
 * many-tenant resource and the data sources read, write and validate an
 * entry's fields in exactly the same way.
 *
 * An "entry object" is any object value with some of the attributes
 * cell_id, endpoint, standby_cell_id, standby_endpoint, labels, version,
 * updated_at (and tenant_id, id): the conversions fill in the attributes
 * the object's type has and leave the others alone.
 *
 * The owner tag. A routing-map entry written by a `cellrouter_tenants`
 * resource carries the reserved label CR_OWNER_LABEL (store/store.h) whose
 * value is that resource's name, so a second resource (or an import) can
 * tell the key is already managed. The label is the provider's own: it
 * never appears in any `labels` value Terraform sees, and users cannot
 * set it.
 */
#ifndef CR_RESOURCE_ENTRY_VALUE_H
#define CR_RESOURCE_ENTRY_VALUE_H

#include <stdbool.h>
#include "resource/resource.h"

extern const cr_type cr_ev_map_of_string;

/* The attributes of an entry as the data sources show it, all computed:
 * initialisers of cr_attr_schema, for the attribute array of
 * cellrouter_tenant (data source) and of each cellrouter_routing_map
 * element, which must describe an entry the same way. */
#define CR_EV_DS_ENTRY_ATTRS                                                  \
    { .name = "cell_id", .type = &cr_type_string, .flags = CR_ATTR_COMPUTED,  \
      .description = "The cell that serves the tenant." },                    \
    { .name = "endpoint", .type = &cr_type_string,                            \
      .flags = CR_ATTR_COMPUTED,                                              \
      .description = "Where the tenant's traffic goes." },                    \
    { .name = "standby_cell_id", .type = &cr_type_string,                     \
      .flags = CR_ATTR_COMPUTED,                                              \
      .description = "The standby cell, or null." },                          \
    { .name = "standby_endpoint", .type = &cr_type_string,                    \
      .flags = CR_ATTR_COMPUTED,                                              \
      .description = "The standby cell's endpoint, or null." },               \
    { .name = "labels", .type = &cr_ev_map_of_string,                         \
      .flags = CR_ATTR_COMPUTED,                                              \
      .description = "The entry's labels (an empty map when none)." },        \
    { .name = "version", .type = &cr_type_number, .flags = CR_ATTR_COMPUTED,  \
      .description = "The entry's generation number." },                      \
    { .name = "updated_at", .type = &cr_type_string,                          \
      .flags = CR_ATTR_COMPUTED,                                              \
      .description = "When the entry was last written (RFC 3339, UTC)." }

/* The attributes a user sets on an entry object (besides the tenant id). */
extern const char *const cr_ev_user_attrs[];
#define CR_EV_NUSER_ATTRS 5

/* The labels value of an entry, without the owner tag: a map, or null when
 * the entry has no user labels and `hint` (the labels Terraform holds, or
 * NULL) says null. NULL on allocation failure. */
cr_value *cr_ev_labels(const cr_entry *e, const cr_value *hint);

/* Sets every attribute of `obj` that its type has from `e` (tenant_id and
 * id get the tenant id). 0, or -1 on allocation failure. */
int cr_ev_fill(cr_value *obj, const cr_entry *e, const cr_value *labels_hint);

/* Where the attributes of an entry object are in its type, found once
 * for the many objects of one type in a fleet's map, so that reading or
 * setting an attribute of each is an index rather than a search by name.
 * at[k] is the slot of attribute k (CR_EV_SLOT_*), or -1 when the type
 * lacks it. The first CR_EV_NUSER_ATTRS are cr_ev_user_attrs, in order. */
enum {
    CR_EV_SLOT_CELL_ID, CR_EV_SLOT_ENDPOINT, CR_EV_SLOT_STANDBY_CELL_ID,
    CR_EV_SLOT_STANDBY_ENDPOINT, CR_EV_SLOT_LABELS, CR_EV_SLOT_VERSION,
    CR_EV_SLOT_UPDATED_AT, CR_EV_SLOT_ID, CR_EV_SLOT_TENANT_ID,
    CR_EV_NSLOTS
};
typedef struct cr_ev_slots {
    const cr_type *type;
    long at[CR_EV_NSLOTS];
} cr_ev_slots;
void cr_ev_slots_init(cr_ev_slots *s, const cr_type *t);
/* Attribute k of obj: by index when obj is of s's type, else by name (as
 * cr_res_attr). */
const cr_value *cr_ev_slot(const cr_ev_slots *s, const cr_value *obj, int k);

/* A new object of s's type with every attribute null, then filled by
 * cr_ev_fill: the same value (NULL where cr_ev_fill fails or on ENOMEM),
 * made in one allocation (plus one for a labels map) when the type has
 * the entry attributes, as a refresh of many tenants needs. */
cr_value *cr_ev_entry_object(const cr_ev_slots *s, const cr_entry *e,
                             const cr_value *labels_hint);

/* Fills `e` from an entry object whose user attributes are all known;
 * tenant_id is given (the object may not have one). Diagnostics point at
 * `at` + attribute. 0, or -1 with a diagnostic (e cleared). */
int cr_ev_to_entry(const cr_value *obj, const char *tenant_id, cr_entry *e,
                   const cr_path *at, cr_diags *d);

/* The store's own limits (Workers KV's 1024 bytes of metadata), checked
 * at plan time so that an entry that cannot be written fails the plan
 * rather than the apply: an error at `at` (may be NULL) when the entry
 * object, written for `tenant_id` with the owner tag `owner` (NULL: none),
 * would not fit `s`. Says nothing when s is NULL or has no limits, when a
 * user attribute or the tenant id is not known yet, or when the object is
 * invalid (validation reports that). */
void cr_ev_check_fits(cr_store *s, const cr_value *obj, const char *tenant_id,
                      const char *owner, const cr_path *at, cr_diags *d);

/* Values already found valid while validating many entries: a fleet has
 * a handful of distinct endpoints and cells, and parsing a URL is the
 * costliest check. Strings are borrowed from the value being validated:
 * a cache lives for one validation. Zero-initialise. */
#define CR_EV_CACHE_SLOTS 32
typedef struct cr_ev_cache {
    const char *ok[CR_EV_CACHE_SLOTS];
    size_t next;
} cr_ev_cache;

/* Validates the user attributes of a configured entry object (unknowns
 * allowed, never an error): required cell_id and endpoint, each value's
 * rule, labels (and that none is the reserved owner tag), and the rules
 * between values. Diagnostics point at `at` + attribute. `cache` may be
 * NULL. */
void cr_ev_validate(const cr_value *obj, const cr_path *at,
                    cr_ev_cache *cache, cr_diags *d);

/* The labels part of it: a map of labels (null, unknown or not a map:
 * nothing to say), each key and value by the routing map's rules, the
 * reserved owner tag refused when `owner_reserved` (an entry's labels and
 * filters on them; a cell's labels filter has no owner tag to protect).
 * Diagnostics point at `at` + labels[key]. */
void cr_ev_validate_labels(const cr_value *labels, const cr_path *at,
                           bool owner_reserved, cr_diags *d);

/* The filters of a configuration that selects entries (the
 * cellrouter_routing_map data source, the cellrouter_tenant list): its
 * `cell_id` a cell id, its `tenant_id_prefix` the start of a tenant id,
 * its `labels` labels (each checked only when the configuration has it and
 * it is known). */
void cr_ev_validate_filters(const cr_value *config, cr_diags *d);

#endif
