/*
 * resource/resource.h — the resource layer's API: schemas, the resource
 * framework, data sources and the provider block.
 *
 * A resource type is one file that declares its schema and fills in one
 * cr_resource_type (the vtable below: validate, plan, create, read,
 * update, delete, import), the way terraform-plugin-framework shapes a
 * resource; adding one touches nothing else but the registry list in
 * resource/registry.c. The steps every resource would otherwise repeat
 * live once, in the framework (resource/framework.c):
 *
 *   - the provider-configured check before read, create, update and
 *     delete (the store is there when those run);
 *   - the default plan: the proposed state, with computed attributes
 *     unknown when the object changes and kept when it does not;
 *   - the create/update/delete split of ApplyResourceChange, and keeping
 *     the prior state when a step fails without saying what is left;
 *   - a store error as a diagnostic (cr_res_store_error);
 *   - resource identity (Terraform 1.12+): an object's identity taken from
 *     its own attributes, and import by identity;
 *   - list resources (`terraform query`, Terraform 1.14+): a listing
 *     opened once and read one object at a time.
 *
 * The rpc layer (rpc/resource_rpc.c) calls the framework's drivers
 * (cr_resource_plan, ...) and does the protocol work around them:
 * decoding against the schema's type, Terraform's rules on plans and
 * results (rpc/plan_check.c), encoding. A resource deals in cr_values only.
 *
 * resource/ may include: resource/, store/store.h, value/value.h, common/.
 * Never rpc/ or plugin/: nothing here knows the protocol.
 */
#ifndef CR_RESOURCE_H
#define CR_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
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
    /* With CR_ATTR_COMPUTED: the attribute keeps its prior value when the
     * object changes, instead of becoming unknown (terraform-plugin-
     * framework's UseStateForUnknown): ids, and state that an update must
     * never plan away. Plan behaviour only; Terraform never sees it. */
    CR_ATTR_USE_STATE = 1u << 5,
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
/* Where each attribute of s sits in the objects of cr_schema_type(s),
 * whose attributes are sorted by name: slots[i] for s->attrs[i], then
 * slots[nattrs + j] for s->blocks[j]; *type (if not NULL) receives that
 * type. Cached with the type (borrowed); NULL only on allocation failure.
 * Lets a loop over many objects of one schema (a fleet's entries) reach
 * an attribute by index. */
const size_t *cr_schema_slots(const cr_schema *s, const cr_type **type);

/* ---- the provider as resources see it ------------------------------------ */

/* What ConfigureProvider produced: the routing map store, and whether a stop
 * was asked for (StopProvider) so long operations can give up early. */
typedef struct cr_provider_state {
    cr_store *store;                /* NULL until configured */
    volatile int stopping;
} cr_provider_state;

/* ---- requests and responses ----------------------------------------------
 *
 * What a resource's functions receive and fill in. In them a missing
 * object is a NULL pointer, never a null value: `prior` is NULL on create,
 * `planned` NULL on delete. Every response starts zeroed; the caller owns
 * and frees what it holds. New protocol fields become new members here
 * (import's `identity`), so resources that do not use them are unaffected;
 * the identities of answers are taken from the objects themselves
 * (cr_resource_identity).
 *
 * Private state. Terraform keeps opaque bytes with each object for its
 * provider alone (the state file's "private"): never shown in a plan,
 * never compared, handed back with the next read, plan and apply. A
 * resource keeps there what the user must not see change on every write
 * (cellrouter_tenants: per-tenant versions and write times). Requests
 * carry the bytes Terraform holds in `priv`: ReadResource's private,
 * PlanResourceChange's prior_private, ApplyResourceChange's
 * planned_private (len 0: none). A response's `priv` left unset keeps
 * them as they are (the rpc layer echoes the request's bytes); set, it
 * replaces them (len 0 erases them). */

/* Bytes borrowed for the length of a call. */
typedef struct cr_bytes {
    const unsigned char *data;
    size_t len;
} cr_bytes;

/* Private state in a response: owned (malloc'd) bytes, used when `set`. */
typedef struct cr_private {
    unsigned char *data;
    size_t len;
    bool set;
} cr_private;

/* Sets p to `data` (adopted; NULL with len 0 erases): always set. */
void cr_private_adopt(cr_private *p, unsigned char *data, size_t len);
/* Frees what p holds and zeroes it (unset). */
void cr_private_clear(cr_private *p);

typedef struct cr_plan_req {
    const cr_value *prior;          /* NULL on create */
    const cr_value *proposed;       /* Terraform's proposed new state */
    const cr_value *config;
    /* Drivers only: NULL, or the caller's owning pointer to `proposed`,
     * which the framework may adopt as the plan (setting *proposed_owner
     * to NULL) instead of copying it: at 100,000 tenants that saves a copy
     * and a free of the whole map. In modify_plan, `proposed` may then be
     * the very object resp->planned is. */
    cr_value **proposed_owner;
    cr_bytes priv;                  /* prior_private */
} cr_plan_req;

typedef struct cr_plan_resp {
    cr_value *planned;              /* owned; NULL: destroy */
    /* Replacement paths (owned array of owned paths). On an update the
     * framework starts it with every CR_ATTR_FORCE_NEW attribute; a
     * modify_plan adds paths inside values. The rpc layer keeps those
     * whose value changes. */
    cr_path *requires_replace;
    size_t nrequires_replace;
    cr_diags diags;
    cr_private priv;                /* planned_private; unset: the prior's */
} cr_plan_resp;

/* Frees what a plan response holds (not the struct) and zeroes it. */
void cr_plan_resp_free(cr_plan_resp *r);

typedef struct cr_apply_req {
    const cr_value *prior;          /* NULL on create */
    const cr_value *planned;        /* NULL on delete */
    const cr_value *config;         /* NULL on delete */
    cr_bytes priv;                  /* planned_private */
} cr_apply_req;

typedef struct cr_apply_resp {
    /* Owned; NULL means null: the object is gone (a delete), or nothing
     * was created. After an error a NULL is replaced by the prior state
     * (the object as it was); a resource that knows what it wrote in part
     * returns that instead. */
    cr_value *new_state;
    cr_diags diags;
    cr_private priv;                /* unset: the planned private kept */
} cr_apply_resp;

typedef struct cr_read_req {
    const cr_value *state;          /* the state to refresh, never NULL */
    cr_bytes priv;                  /* its private state */
} cr_read_req;

typedef struct cr_read_resp {
    /* Owned; NULL: the object is gone (Terraform plans to create it).
     * After an error a NULL is replaced by the state read. */
    cr_value *new_state;
    cr_diags diags;
    cr_private priv;                /* unset: kept as it was */
} cr_read_resp;

typedef struct cr_import_req {
    const char *id;                 /* what the user gave, never NULL ("" when
                                     * importing by identity) */
    /* Import by identity (Terraform 1.12+ `import { identity = {...} }`):
     * an object of the identity schema's type, wholly known, every
     * required attribute set (the framework checks); else NULL. */
    const cr_value *identity;
} cr_import_req;

typedef struct cr_import_resp {
    /* Owned: an object without unknowns from which read can fetch the
     * rest (ReadResource follows every import). */
    cr_value *state;
    cr_diags diags;
    cr_private priv;                /* handed to that ReadResource */
} cr_import_resp;

/* A list resource's request (ListResource): `config` is a wholly known
 * object of the list schema's type that validate_list accepted. */
typedef struct cr_list_req {
    const cr_value *config;
    bool include_resource;          /* Terraform wants the whole objects */
    int64_t limit;                  /* Terraform reads no more than this */
} cr_list_req;

/* One object a listing found. */
typedef struct cr_list_item {
    /* Owned: the object as read would answer it (wholly known, of the
     * resource schema's type); its identity is taken from it. */
    cr_value *object;
    char *display_name;             /* owned; a name for people */
} cr_list_item;

void cr_list_item_clear(cr_list_item *item);

/* Upgrades raw JSON state of `from_version` to from_version + 1, in place
 * (a jansson json_t *; void here to keep jansson out of this header). */
typedef struct cr_state_upgrader {
    int64_t from_version;
    int (*upgrade)(void *json_state, cr_diags *diags);
} cr_state_upgrader;

/* ---- the resource vtable -------------------------------------------------- */

/* cr_resource_type.flags */
enum {
    /* read, create, update and delete work without the routing map store:
     * the framework does not refuse them on an unconfigured provider. */
    CR_RESOURCE_NO_STORE = 1u << 0,
};

typedef struct cr_resource_type {
    const char *type_name;          /* "cellrouter_tenant" */
    const cr_schema *schema;        /* schema->version = state version */
    unsigned flags;                 /* CR_RESOURCE_* */

    /* ValidateResourceConfig, optional. Config is an object that may hold
     * unknowns: never an error for an unknown. */
    void (*validate_config)(const cr_value *config, cr_diags *diags);

    /* PlanResourceChange, optional: adjusts the default plan the framework
     * put in resp->planned (see cr_resource_plan) and adds diagnostics.
     * Not called for a destroy. p->store may be NULL (an unconfigured
     * provider still plans): use cr_res_store when the store is needed. */
    void (*modify_plan)(cr_provider_state *p, const cr_plan_req *req,
                        cr_plan_resp *resp);

    /* ApplyResourceChange, split by what it does; required. p->store is
     * set (unless CR_RESOURCE_NO_STORE). */
    void (*create)(cr_provider_state *p, const cr_apply_req *req,
                   cr_apply_resp *resp);
    void (*update)(cr_provider_state *p, const cr_apply_req *req,
                   cr_apply_resp *resp);
    void (*delete)(cr_provider_state *p, const cr_apply_req *req,
                   cr_apply_resp *resp);

    /* ReadResource (refresh); required. p->store is set (unless
     * CR_RESOURCE_NO_STORE). */
    void (*read)(cr_provider_state *p, const cr_read_req *req,
                 cr_read_resp *resp);

    /* ImportResourceState, optional (NULL: the resource cannot be
     * imported, which Terraform is told). p->store may be NULL. */
    void (*import_state)(cr_provider_state *p, const cr_import_req *req,
                         cr_import_resp *resp);

    /* UpgradeResourceState: from versions 0 .. schema->version - 1. */
    const cr_state_upgrader *upgraders;
    size_t nupgraders;

    /* Resource identity (Terraform 1.12+), optional: NULL for none (the
     * type then has no identity schema, and Terraform stores none).
     * version = the identity's version; each attribute is CR_ATTR_REQUIRED
     * (required_for_import) or CR_ATTR_OPTIONAL (optional_for_import), of
     * a primitive or list type, and is an attribute of the same name and
     * type in `schema`: an object's identity is those attributes of the
     * object (cr_resource_identity), so it is answered with every read,
     * plan, apply and import without the resource doing anything, and is
     * unknown only where they are (a create plan). An identity must never
     * change for an existing object: only attributes that cannot change
     * in place (CR_ATTR_FORCE_NEW) belong in it. Import by identity
     * reaches import_state with req->identity set. */
    const cr_schema *identity_schema;

    /* List resource (`terraform query`, Terraform 1.14+), optional: NULL
     * list_schema for none. Terraform requires identity_schema with it.
     * list_schema: the configuration of a `list` block's `config`;
     * validate_list: as validate_config, for it (optional); list_open
     * starts a listing (p->store is set) and returns the resource's
     * cursor, NULL with an error in diags; list_next fills one item and
     * returns 1, or returns 0 at the end (an error in diags ends the
     * listing too); list_close releases the cursor. Objects are read one
     * at a time as Terraform takes them, so a listing of any size holds
     * only what the cursor keeps (a page of entries). */
    const cr_schema *list_schema;
    void (*validate_list)(const cr_value *config, cr_diags *diags);
    void *(*list_open)(cr_provider_state *p, const cr_list_req *req,
                       cr_diags *diags);
    int (*list_next)(cr_provider_state *p, void *cursor, cr_list_item *item,
                     cr_diags *diags);
    void (*list_close)(void *cursor);
} cr_resource_type;

/* The resource types, one file each (listed in resource/registry.c). */
extern const cr_resource_type cr_tenant_resource;      /* tenant.c */
extern const cr_resource_type cr_tenants_resource;     /* tenants.c */
extern const cr_resource_type cr_cell_resource;        /* cell.c */

/* resource/registry.c: every resource type the provider serves. */
const cr_resource_type *const *cr_resources(size_t *count);
const cr_resource_type *cr_resource_find(const char *type_name);

/* ---- the framework's drivers (framework.c) ---------------------------------
 *
 * What the rpc layer (and the unit tests) call: each runs one step of a
 * resource type the way every resource needs it, calling the vtable.
 * Inputs may be NULL or null values alike; responses must start zeroed. */

/* Calls validate_config when config is an object. */
void cr_resource_validate(const cr_resource_type *rt, const cr_value *config,
                          cr_diags *diags);

/* A null proposed state (destroy) plans null. Otherwise the default plan:
 * the proposed state (adopted through req->proposed_owner when given),
 * with every computed attribute the configuration leaves null set by
 * cr_res_plan_computed, `changed` meaning that an attribute the user sets
 * differs from the prior state (cr_res_plan_changed; a create always
 * changes). Then modify_plan, if any. */
void cr_resource_plan(const cr_resource_type *rt, cr_provider_state *p,
                      const cr_plan_req *req, cr_plan_resp *resp);

/* Both null: nothing. Otherwise the configured check, then create (no
 * prior), delete (no plan) or update; after an error without a new state
 * the prior state is answered. */
void cr_resource_apply(const cr_resource_type *rt, cr_provider_state *p,
                       const cr_apply_req *req, cr_apply_resp *resp);

/* A null state reads as gone. Otherwise the configured check, then read;
 * after an error without a new state the state given is answered. */
void cr_resource_read(const cr_resource_type *rt, cr_provider_state *p,
                      const cr_read_req *req, cr_read_resp *resp);

/* import_state, or the error that the resource cannot be imported. An
 * identity must be one of rt's identity schema, with every required
 * attribute known and set: otherwise an error, without import_state. */
void cr_resource_import(const cr_resource_type *rt, cr_provider_state *p,
                        const cr_import_req *req, cr_import_resp *resp);

/* The identity of `object`: NULL (and 0) when rt has no identity schema or
 * the object is NULL or null; else *out receives an object of the identity
 * type holding the object's attributes of the same names (unknown where
 * they are). 0, or -1 when out of memory. */
int cr_resource_identity(const cr_resource_type *rt, const cr_value *object,
                         cr_value **out);

/* validate_list on an object config (unknowns allowed, as for
 * validate_config). */
void cr_resource_list_validate(const cr_resource_type *rt,
                               const cr_value *config, cr_diags *diags);
/* The configured check, then list_open; NULL with an error when either
 * fails (or rt lists nothing). */
void *cr_resource_list_open(const cr_resource_type *rt, cr_provider_state *p,
                            const cr_list_req *req, cr_diags *diags);
/* list_next: 1 with *item filled (start it zeroed), 0 at the end or after
 * an error (in diags). A stop asked for (p->stopping) ends the listing with
 * an error saying so. */
int cr_resource_list_next(const cr_resource_type *rt, cr_provider_state *p,
                          void *cursor, cr_list_item *item, cr_diags *diags);
void cr_resource_list_close(const cr_resource_type *rt, void *cursor);

/* ---- helpers for resources and data sources (framework.c) ----------------- */

/* The routing map store, or NULL after adding the "Provider not
 * configured" error: for the steps the framework does not check (plan,
 * import). */
cr_store *cr_res_store(cr_provider_state *p, cr_diags *diags);

/* A store failure as an error: `summary`, and as detail printf(fmt, ...)
 * followed by ": " and the store's message (or the name of `rc` when the
 * store gave none); fmt NULL: the store's message alone. */
void cr_res_store_error(cr_diags *diags, cr_store_rc rc,
                        const cr_store_err *err, const char *summary,
                        const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The framework's plan rule for one object of schema s: the resource's
 * own (cr_resource_plan applies it), or one element of a nested attribute
 * that a modify_plan walks itself (a fleet's entries). prior may be NULL
 * (a new object); config may be NULL (not at hand: optional+computed
 * attributes then count as set by the user). Attributes are reached by
 * index when the objects are of cr_schema_type(s). */

/* True when prior is NULL, or an attribute or block the user sets (not
 * computed, or optional+computed and set in config) differs between prior
 * and planned, an unknown counting as a difference. */
bool cr_res_plan_changed(const cr_schema *s, const cr_value *prior,
                         const cr_value *planned, const cr_value *config);

/* Sets every computed attribute of planned that config leaves null (all
 * of them when config is NULL, optional+computed ones excepted): the
 * prior value when flagged CR_ATTR_USE_STATE and the prior holds one;
 * else unknown when `changed` or there is no prior; else the prior value,
 * so an unchanged object plans no change. 0, or -1 when out of memory. */
int cr_res_plan_computed(const cr_schema *s, const cr_value *prior,
                         cr_value *planned, const cr_value *config,
                         bool changed);

/* Small value helpers for resource code (inline: a fleet's validation
 * calls them for each of 100,000 entries). */
/* Attribute `name` of an object value; NULL when obj is not an object. */
static inline const cr_value *cr_res_attr(const cr_value *obj,
                                          const char *name)
{
    return obj && obj->kind == CR_OBJECT ? cr_value_get(obj, name) : NULL;
}
/* NULL or a null value. */
static inline bool cr_res_is_null(const cr_value *v)
{
    return !v || v->kind == CR_NULL;
}
/* A string holding a NUL byte (which the routing map cannot hold). */
static inline bool cr_res_has_nul(const cr_value *v)
{
    return v && v->kind == CR_STRING &&
           strlen(v->u.str.ptr) != v->u.str.len;
}
/* A known string without NUL bytes, else NULL. */
static inline const char *cr_res_cstr(const cr_value *v)
{
    return v && v->kind == CR_STRING && !cr_res_has_nul(v) ? v->u.str.ptr
                                                           : NULL;
}
/* Sets an attribute; obj owns v, and a NULL v (a failed allocation) is -1. */
int cr_res_set(cr_value *obj, const char *name, cr_value *v);
/* The same with a string, NULL setting a null string. */
int cr_res_set_str(cr_value *obj, const char *name, const char *s);
/* The `version` attribute of a state object (a resource's, or one entry
 * of a fleet's), or CR_VERSION_ANY when it has none (a state written
 * outside Terraform's refresh cycle): a write then cannot be conditional,
 * which is logged under log_module unless that is NULL. */
int64_t cr_res_version(const cr_value *obj, const char *log_module);
/* An error at `at` (may be NULL) + attribute `name` (may be NULL) + map
 * key `key` (may be NULL). */
void cr_res_error(cr_diags *d, const cr_path *at, const char *name,
                  const char *key, const char *summary, const char *detail);
/* The key an import names, for a resource whose identity is one string
 * attribute `attr` (the key of its routing-map record): the import ID, or
 * that attribute of the identity (import by identity). `check` returns why
 * a key is invalid, or NULL. NULL with an error in d when the key is
 * missing or invalid; else a string borrowed from req. */
const char *cr_res_import_key(const cr_resource_type *rt,
                              const cr_import_req *req, const char *attr,
                              const char *(*check)(const char *key),
                              cr_diags *d);

/* ---- data sources --------------------------------------------------------- */

/* A data source reads the routing map and never writes it. The rpc layer
 * decodes the configuration against the schema's type and answers a
 * configuration with unknowns itself; cr_data_source_read runs
 * validate_config, the configured check and read, and the rpc layer
 * checks that the result is a wholly known object of the schema's type
 * that keeps every configured value. */
typedef struct cr_data_source_type {
    const char *type_name;          /* "cellrouter_routing_map" */
    const cr_schema *schema;
    unsigned flags;                 /* CR_RESOURCE_NO_STORE */
    /* Optional. Config may hold unknowns: never an error for an unknown. */
    void (*validate_config)(const cr_value *config, cr_diags *diags);
    /* config is a wholly known, valid object; *state receives the result
     * (the config with every computed attribute filled in), NULL on
     * error. p->store is set (unless CR_RESOURCE_NO_STORE). */
    void (*read)(cr_provider_state *p, const cr_value *config,
                 cr_value **state, cr_diags *diags);
} cr_data_source_type;

extern const cr_data_source_type cr_tenant_data_source;      /* ds_tenant.c */
extern const cr_data_source_type cr_routing_map_data_source; /* ds_routing_map.c */
extern const cr_data_source_type cr_cells_data_source;       /* ds_cells.c */

/* resource/data_sources.c: every data source type the provider serves. */
const cr_data_source_type *const *cr_data_sources(size_t *count);
const cr_data_source_type *cr_data_source_find(const char *type_name);

/* Drivers (framework.c): validate_config when config is an object; and
 * for a wholly known config: validate_config, then (without errors) the
 * configured check and read. */
void cr_data_source_validate(const cr_data_source_type *ds,
                             const cr_value *config, cr_diags *diags);
void cr_data_source_read(const cr_data_source_type *ds, cr_provider_state *p,
                         const cr_value *config, cr_value **state,
                         cr_diags *diags);

/* ---- the provider block (provider.c) -------------------------------------- */

const cr_schema *cr_provider_schema(void);
void cr_provider_validate(const cr_value *config, cr_diags *diags);
/* Opens the store the configuration names into p->store. Unknown values in
 * config (only possible in a plan) leave the provider unconfigured without
 * error. `stop` (may be NULL) is the flag that ends the store's long waits
 * (a Workers KV rate-limit lockout) when Terraform asks to stop: it must
 * outlive the store, so it is passed apart from p, which the caller may
 * fill on its stack before publishing the store. */
void cr_provider_configure(cr_provider_state *p, const cr_value *config,
                           const volatile int *stop, cr_diags *diags);
void cr_provider_close(cr_provider_state *p);

#endif
