/*
 * resource/resource.h — schemas and the resource vtable.
 *
 * A resource type is one file implementing one cr_resource_type: its schema
 * and its validate, plan, apply, read and import functions, the way
 * terraform-plugin-framework shapes a resource. The rpc layer does the
 * protocol work around them (decoding against the schema's type, Terraform's
 * rules on plans and results, encoding, diagnostics), so a resource only
 * deals in cr_values and adding a second resource touches nothing else but
 * the registry list in resource/registry.c.
 */
#ifndef CR_RESOURCE_H
#define CR_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include "common/diag.h"
#include "value/value.h"
#include "store/store.h"

/* ---- schemas ------------------------------------------------------------ */

enum {
    CR_ATTR_REQUIRED  = 1u << 0,
    CR_ATTR_OPTIONAL  = 1u << 1,
    CR_ATTR_COMPUTED  = 1u << 2,
    CR_ATTR_SENSITIVE = 1u << 3,
    CR_ATTR_FORCE_NEW = 1u << 4,   /* a change plans replacement */
};

typedef enum cr_nesting {
    CR_NEST_SINGLE = 1, CR_NEST_LIST = 2, CR_NEST_SET = 3, CR_NEST_MAP = 4,
    CR_NEST_GROUP = 5
} cr_nesting;

typedef struct cr_schema cr_schema;

typedef struct cr_attr_schema {
    const char *name;
    const cr_type *type;            /* NULL when `nested` is set */
    const cr_schema *nested;        /* protocol-6 nested attribute type */
    cr_nesting nested_mode;         /* SINGLE, LIST, SET or MAP */
    unsigned flags;
    const char *description;        /* Markdown; plain text is derived */
} cr_attr_schema;

typedef struct cr_block_schema {
    const char *type_name;
    cr_nesting nesting;
    const cr_schema *block;
    int64_t min_items, max_items;
} cr_block_schema;

struct cr_schema {
    int64_t version;                /* state schema version (resources) */
    const char *description;        /* Markdown */
    size_t nattrs;
    const cr_attr_schema *attrs;
    size_t nblocks;
    const cr_block_schema *blocks;
};

/* The object type implied by a schema (one attribute per attribute and per
 * nested block). Built once and cached for the life of the process; the
 * returned type is borrowed. Thread-safe. NULL only on allocation failure. */
const cr_type *cr_schema_type(const cr_schema *s);
const cr_attr_schema *cr_schema_attr(const cr_schema *s, const char *name);

/* ---- the provider as resources see it ------------------------------------ */

/* What ConfigureProvider produced: the routing map store, and whether a stop
 * was asked for (StopProvider) so long operations can give up early. */
typedef struct cr_provider_state {
    cr_store *store;                /* NULL until configured */
    volatile int stopping;
} cr_provider_state;

/* ---- resources ---------------------------------------------------------- */

typedef struct cr_plan_req {
    const cr_value *prior;          /* null on create */
    const cr_value *proposed;       /* null on destroy */
    const cr_value *config;         /* null on destroy */
    /* NULL, or the caller's owning pointer to `proposed`: a resource whose
     * plan starts as a copy of the proposed state may adopt it instead
     * (setting *proposed_owner to NULL). At 100,000 tenants that saves
     * copying and freeing the whole map. */
    cr_value **proposed_owner;
} cr_plan_req;

typedef struct cr_plan_resp {
    cr_value *planned;              /* owned by the response */
    cr_path *requires_replace;      /* owned array of paths */
    size_t nrequires_replace;
    cr_diags diags;
} cr_plan_resp;

typedef struct cr_apply_req {
    const cr_value *prior;          /* null on create */
    const cr_value *planned;        /* null on destroy */
    const cr_value *config;
} cr_apply_req;

typedef struct cr_apply_resp {
    cr_value *new_state;            /* owned; NULL means null */
    cr_diags diags;
} cr_apply_resp;

/* Upgrades raw JSON state of `from_version` to from_version + 1, in place
 * (a jansson json_t *; void here to keep jansson out of this header). */
typedef struct cr_state_upgrader {
    int64_t from_version;
    int (*upgrade)(void *json_state, cr_diags *diags);
} cr_state_upgrader;

typedef struct cr_resource_type {
    const char *type_name;          /* "cellrouter_tenant" */
    const cr_schema *schema;        /* schema->version = state version */

    /* Config may hold unknowns: never an error for an unknown. */
    void (*validate)(const cr_value *config, cr_diags *diags);
    void (*plan)(cr_provider_state *p, const cr_plan_req *req,
                 cr_plan_resp *resp);
    void (*apply)(cr_provider_state *p, const cr_apply_req *req,
                  cr_apply_resp *resp);
    /* *new_state = NULL when the object is gone. */
    void (*read)(cr_provider_state *p, const cr_value *state,
                 cr_value **new_state, cr_diags *diags);
    /* A state (nulls, no unknowns) from which read can fetch the object. */
    void (*import)(cr_provider_state *p, const char *id, cr_value **state,
                   cr_diags *diags);

    const cr_state_upgrader *upgraders;  /* from versions 0 .. version-1 */
    size_t nupgraders;
} cr_resource_type;

/* The resource types, one file each (listed in resource/registry.c). */
extern const cr_resource_type cr_tenant_resource;      /* tenant.c */
extern const cr_resource_type cr_tenants_resource;     /* tenants.c */

/* resource/registry.c: every resource type the provider serves. */
const cr_resource_type *const *cr_resources(size_t *count);
const cr_resource_type *cr_resource_find(const char *type_name);

/* ---- data sources ------------------------------------------------------- */

/* A data source reads the routing map and never writes it. The rpc layer
 * decodes the configuration against the schema's type, calls validate
 * (ValidateDataResourceConfig) and read (ReadDataSource), and checks that
 * the result is a wholly known object of the schema's type that keeps
 * every configured value. */
typedef struct cr_data_source_type {
    const char *type_name;          /* "cellrouter_routing_map" */
    const cr_schema *schema;
    /* Config may hold unknowns: never an error for an unknown. */
    void (*validate)(const cr_value *config, cr_diags *diags);
    /* config is a wholly known object; *state receives the result (the
     * config with every computed attribute filled in), NULL on error. */
    void (*read)(cr_provider_state *p, const cr_value *config,
                 cr_value **state, cr_diags *diags);
} cr_data_source_type;

extern const cr_data_source_type cr_tenant_data_source;      /* ds_tenant.c */
extern const cr_data_source_type cr_routing_map_data_source; /* ds_routing_map.c */

/* resource/data_sources.c: every data source type the provider serves. */
const cr_data_source_type *const *cr_data_sources(size_t *count);
const cr_data_source_type *cr_data_source_find(const char *type_name);

/* resource/provider.c: the provider block. */
const cr_schema *cr_provider_schema(void);
void cr_provider_validate(const cr_value *config, cr_diags *diags);
/* Opens the store the configuration names. Unknown values in config (only
 * possible in a plan) leave the provider unconfigured without error. */
void cr_provider_configure(cr_provider_state *p, const cr_value *config,
                           cr_diags *diags);
void cr_provider_close(cr_provider_state *p);

#endif
