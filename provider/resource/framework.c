/*
 * resource/framework.c — the resource framework: the steps every resource
 * and data source would otherwise write again, around the vtables of
 * resource/resource.h.
 *
 *   - the provider-configured check before the steps that need the store;
 *   - the default plan (computed attributes unknown on change, kept
 *     otherwise), which a resource's modify_plan then adjusts;
 *   - the create/update/delete split of an apply, and the prior state
 *     answered when a step fails without a new state;
 *   - identities taken from objects, the checks on import by identity;
 *   - listings: the configured check, a stop between two objects;
 *   - store errors and small value helpers for resource code.
 *
 * Terraform's own rules on plans and results are not checked here: the
 * rpc layer checks them on whatever the resource answers (rpc/plan_check.c),
 * so a resource bug still becomes a clear diagnostic.
 *
 * Calls the vtables, schema.c and store/store.h (only its API).
 * May include: resource/resource.h, common/, value/value.h, store/store.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "resource/resource.h"

/* ---- small value helpers ------------------------------------------------- */

int cr_res_set(cr_value *obj, const char *name, cr_value *v)
{
    return v ? cr_value_object_set(obj, name, v) : -1;
}

int cr_res_set_str(cr_value *obj, const char *name, const char *s)
{
    return cr_res_set(obj, name, s ? cr_value_string(s)
                                   : cr_value_null(&cr_type_string));
}

int64_t cr_res_version(const cr_value *obj, const char *log_module)
{
    const cr_value *v = cr_res_attr(obj, "version");
    if (v && v->kind == CR_NUMBER && v->u.num.is_int && v->u.num.i >= 1)
        return v->u.num.i;
    if (log_module)
        cr_log_warn(log_module, "state has no usable version: writing "
                    "unconditionally");
    return CR_VERSION_ANY;
}

void cr_res_error(cr_diags *d, const cr_path *at, const char *name,
                  const char *key, const char *summary, const char *detail)
{
    cr_path p = {0, 0, NULL};
    int rc = at ? cr_path_copy(&p, at) : 0;
    if (rc == 0 && name)
        rc = cr_path_push_attr(&p, name);
    if (rc == 0 && key)
        rc = cr_path_push_key(&p, key);
    cr_diags_error(d, p.len ? &p : NULL, summary, "%s", detail);
    cr_path_free(&p);
}

const char *cr_res_import_key(const cr_resource_type *rt,
                              const cr_import_req *req, const char *attr,
                              const char *(*check)(const char *key),
                              cr_diags *d)
{
    const char *summary = req->identity ? "Invalid import identity"
                                        : "Invalid import ID";
    const char *key = req->id;
    if (req->identity) {
        key = cr_res_cstr(cr_res_attr(req->identity, attr));
        if (!key) {
            cr_diags_error(d, NULL, summary, "The identity's %s contains a "
                           "NUL character.", attr);
            return NULL;
        }
    }
    if (!*key) {
        cr_diags_error(d, NULL, summary, "Import a %s by its %s: terraform "
                       "import %s.<name> <%s>, or an import block with id = "
                       "\"<%s>\" or identity = { %s = \"<%s>\" }",
                       rt->type_name, attr, rt->type_name, attr, attr, attr,
                       attr);
        return NULL;
    }
    const char *msg = check(key);
    if (msg) {
        cr_diags_error(d, NULL, summary, "\"%.80s%s\" is not a valid %s: %s",
                       key, strlen(key) > 80 ? "..." : "", attr, msg);
        return NULL;
    }
    return key;
}

/* NULL for a null value, so resources only ever test pointers. */
static const cr_value *present(const cr_value *v)
{
    return cr_res_is_null(v) ? NULL : v;
}

/* ---- the store ------------------------------------------------------------ */

static void not_configured(cr_diags *d)
{
    cr_diags_error(d, NULL, "Provider not configured",
                   "The cellrouter provider has no routing map store. Its "
                   "configuration was not known when Terraform configured it "
                   "(it depends on a value only known after apply), or it "
                   "failed to open the store. Make the provider's `path` "
                   "known at plan time and run terraform again.");
}

cr_store *cr_res_store(cr_provider_state *p, cr_diags *diags)
{
    if (p && p->store)
        return p->store;
    not_configured(diags);
    return NULL;
}

/* The configured check of the steps that need the store. */
static bool store_ready(unsigned flags, cr_provider_state *p, cr_diags *d)
{
    return (flags & CR_RESOURCE_NO_STORE) || cr_res_store(p, d) != NULL;
}

void cr_res_store_error(cr_diags *diags, cr_store_rc rc,
                        const cr_store_err *err, const char *summary,
                        const char *fmt, ...)
{
    const char *cause = err && err->msg[0] ? err->msg : cr_store_rc_name(rc);
    char what[1024] = "";

    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        cr_diags_error(diags, NULL, summary, "%s: %s", what, cause);
    } else {
        cr_diags_error(diags, NULL, summary, "%s", cause);
    }
}

/* ---- the plan rule -------------------------------------------------------- */

/* Attribute k of schema s (an attribute, then the blocks) in obj: by index
 * when obj is of the schema's type, else by name. */
static inline cr_value *slot(const cr_schema *s, const cr_type *t,
                             const size_t *slots, const cr_value *obj,
                             size_t k)
{
    if (!obj || obj->kind != CR_OBJECT)
        return NULL;
    if (obj->type == t && slots && slots[k] < obj->u.coll.len)
        return obj->u.coll.items[slots[k]];
    return (cr_value *)cr_value_get(obj, k < s->nattrs
                                             ? s->attrs[k].name
                                             : s->blocks[k - s->nattrs].type_name);
}

/* Replaces attribute k of obj by v (adopted; NULL is -1). */
static int slot_set(const cr_schema *s, const cr_type *t, const size_t *slots,
                    cr_value *obj, size_t k, cr_value *v)
{
    if (!v)
        return -1;
    if (obj->type == t && slots && slots[k] < obj->u.coll.len) {
        cr_value_free(obj->u.coll.items[slots[k]]);
        obj->u.coll.items[slots[k]] = v;
        return 0;
    }
    return cr_value_object_set(obj, s->attrs[k].name, v);
}

/* Whether attribute i is one the user sets in this plan. */
static inline bool user_set(const cr_schema *s, const cr_type *t,
                            const size_t *slots, size_t i,
                            const cr_value *config)
{
    unsigned f = s->attrs[i].flags;
    if (!(f & CR_ATTR_COMPUTED))
        return true;
    if (!(f & CR_ATTR_OPTIONAL))
        return false;
    /* Optional and computed: the user's when the configuration sets it. */
    return !config || !cr_res_is_null(slot(s, t, slots, config, i));
}

bool cr_res_plan_changed(const cr_schema *s, const cr_value *prior,
                         const cr_value *planned, const cr_value *config)
{
    if (cr_res_is_null(prior))
        return true;
    const cr_type *t;
    const size_t *slots = cr_schema_slots(s, &t);
    for (size_t k = 0; k < s->nattrs + s->nblocks; k++) {
        if (k < s->nattrs && !user_set(s, t, slots, k, config))
            continue;
        const cr_value *a = slot(s, t, slots, prior, k);
        const cr_value *b = slot(s, t, slots, planned, k);
        /* Unknown equals unknown for cr_value_equal; a prior state is
         * wholly known, so any unknown here is a change. */
        if (!a || !b || !cr_value_is_wholly_known(b) || !cr_value_equal(a, b))
            return true;
    }
    return false;
}

int cr_res_plan_computed(const cr_schema *s, const cr_value *prior,
                         cr_value *planned, const cr_value *config,
                         bool changed)
{
    const cr_type *t;
    const size_t *slots = cr_schema_slots(s, &t);

    prior = present(prior);
    if (!planned || planned->kind != CR_OBJECT)
        return 0;                   /* wholly unknown: all of it is */
    for (size_t i = 0; i < s->nattrs; i++) {
        const cr_attr_schema *a = &s->attrs[i];
        if (!(a->flags & CR_ATTR_COMPUTED) || user_set(s, t, slots, i, config))
            continue;
        const cr_value *was = slot(s, t, slots, prior, i);
        /* A nested attribute's type is the one the schema implies. */
        const cr_type *at = a->type ? a->type
                          : t && slots ? t->attrs[slots[i]].type : NULL;
        bool keep = was && (!changed || ((a->flags & CR_ATTR_USE_STATE) &&
                                         !cr_value_is_null(was)));
        /* Kept and already the prior value (Terraform's proposed state
         * carries it): nothing to replace, at 100,000 entries a copy and
         * a free each saved. */
        if (keep && cr_value_equal(slot(s, t, slots, planned, i), was))
            continue;
        cr_value *v = keep ? cr_value_copy(was)
                           : at ? cr_value_unknown(at) : NULL;
        if (slot_set(s, t, slots, planned, i, v) != 0)
            return -1;
    }
    return 0;
}

/* Whether the default plan needs to know if the object changed: only when
 * a computed attribute would follow it (one not kept by USE_STATE). A
 * resource whose only computed attribute is its id then never compares
 * its (possibly huge) values here. */
static bool plan_needs_changed(const cr_schema *s)
{
    for (size_t i = 0; i < s->nattrs; i++)
        if ((s->attrs[i].flags & CR_ATTR_COMPUTED) &&
            !(s->attrs[i].flags & CR_ATTR_USE_STATE))
            return true;
    return false;
}

void cr_plan_resp_free(cr_plan_resp *r)
{
    cr_value_free(r->planned);
    for (size_t i = 0; i < r->nrequires_replace; i++)
        cr_path_free(&r->requires_replace[i]);
    free(r->requires_replace);
    cr_diags_free(&r->diags);
    cr_private_clear(&r->priv);
    memset(r, 0, sizeof *r);
}

/* ---- private state ---------------------------------------------------------- */

void cr_private_adopt(cr_private *p, unsigned char *data, size_t len)
{
    free(p->data);
    p->data = len ? data : NULL;
    p->len = len;
    p->set = true;
    if (!len)
        free(data);
}

void cr_private_clear(cr_private *p)
{
    free(p->data);
    memset(p, 0, sizeof *p);
}

/* On an update, every force-new attribute's path, as the replacement
 * paths the plan starts with (the rpc layer keeps those that change). */
static int force_new_paths(const cr_schema *s, cr_plan_resp *resp)
{
    for (size_t i = 0; i < s->nattrs; i++) {
        if (!(s->attrs[i].flags & CR_ATTR_FORCE_NEW))
            continue;
        cr_path *grown = realloc(resp->requires_replace,
                                 (resp->nrequires_replace + 1)
                                 * sizeof *grown);
        if (!grown)
            return -1;
        resp->requires_replace = grown;
        cr_path *p = &grown[resp->nrequires_replace];
        memset(p, 0, sizeof *p);
        if (cr_path_push_attr(p, s->attrs[i].name) != 0) {
            cr_path_free(p);
            return -1;
        }
        resp->nrequires_replace++;
    }
    return 0;
}

/* ---- resource drivers ------------------------------------------------------ */

static void oom(cr_diags *d, const char *detail)
{
    cr_diags_error(d, NULL, "Out of memory", "%s", detail);
}

/* Terraform core does not refuse a value for an attribute that is computed
 * and not optional: Terraform 1.11 accepts `version = 3` in a configuration
 * and silently plans the provider's value instead. terraform-plugin-framework
 * refuses it during validation (internal/fwschemadata, "Invalid
 * Configuration for Read-Only Attribute"), and so do we, for every resource
 * and data source, in nested attributes too, with the path of the value. */
static void read_only_walk(const cr_schema *s, const cr_value *obj,
                           cr_path *at, cr_diags *d);

static void read_only_nested(const cr_attr_schema *a, const cr_value *v,
                             cr_path *at, cr_diags *d)
{
    if (!v || v->kind == CR_NULL || v->kind == CR_UNKNOWN)
        return;
    switch (a->nested_mode) {
    case CR_NEST_SINGLE:
    case CR_NEST_GROUP:
        read_only_walk(a->nested, v, at, d);
        break;
    case CR_NEST_MAP:
        if (v->kind != CR_MAP)
            return;
        for (size_t i = 0; i < v->u.coll.len; i++) {
            if (cr_path_push_key(at, v->u.coll.keys[i]) != 0)
                return;
            read_only_walk(a->nested, v->u.coll.items[i], at, d);
            cr_path_pop(at);
        }
        break;
    case CR_NEST_LIST:
    case CR_NEST_SET:
        if (v->kind != CR_LIST && v->kind != CR_SET)
            return;
        for (size_t i = 0; i < v->u.coll.len; i++) {
            /* A set element cannot be addressed: stop at the set. */
            bool indexed = v->kind == CR_LIST;
            if (indexed && cr_path_push_index(at, (int64_t)i) != 0)
                return;
            read_only_walk(a->nested, v->u.coll.items[i], at, d);
            if (indexed)
                cr_path_pop(at);
        }
        break;
    }
}

static void read_only_walk(const cr_schema *s, const cr_value *obj,
                           cr_path *at, cr_diags *d)
{
    if (!s || !obj || obj->kind != CR_OBJECT)
        return;
    for (size_t i = 0; i < s->nattrs; i++) {
        const cr_attr_schema *a = &s->attrs[i];
        const cr_value *v = cr_value_get(obj, a->name);
        if (!v || v->kind == CR_NULL)
            continue;
        if (cr_path_push_attr(at, a->name) != 0)
            return;
        if ((a->flags & CR_ATTR_COMPUTED) &&
            !(a->flags & (CR_ATTR_OPTIONAL | CR_ATTR_REQUIRED)))
            cr_diags_error(d, at, "Invalid Configuration for Read-Only Attribute",
                           "Cannot set value for this attribute as the provider "
                           "has marked it as read-only. Remove the configuration "
                           "line setting the value.");
        else if (a->nested)
            read_only_nested(a, v, at, d);
        cr_path_pop(at);
    }
}

static void read_only_check(const cr_schema *s, const cr_value *config,
                            cr_diags *diags)
{
    cr_path at = {0};
    read_only_walk(s, config, &at, diags);
    cr_path_free(&at);
}

void cr_resource_validate(const cr_resource_type *rt, const cr_value *config,
                          cr_diags *diags)
{
    if (!config || config->kind != CR_OBJECT)
        return;
    read_only_check(rt->schema, config, diags);
    if (rt->validate_config)
        rt->validate_config(config, diags);
}

void cr_resource_plan(const cr_resource_type *rt, cr_provider_state *p,
                      const cr_plan_req *req, cr_plan_resp *resp)
{
    const cr_value *prior = present(req->prior);
    const cr_value *config = present(req->config);
    cr_value *planned;
    bool adopted = false;

    resp->planned = NULL;
    if (cr_res_is_null(req->proposed))
        return;                         /* destroy: the plan is null */
    if (req->proposed_owner && *req->proposed_owner == req->proposed) {
        planned = *req->proposed_owner;
        *req->proposed_owner = NULL;
        adopted = true;
    } else if (!(planned = cr_value_copy(req->proposed))) {
        goto nomem;
    }
    bool changed = !prior || (plan_needs_changed(rt->schema) &&
                              cr_res_plan_changed(rt->schema, prior, planned,
                                                  config));
    resp->planned = planned;
    if (cr_res_plan_computed(rt->schema, prior, planned, config, changed) ||
        (prior && force_new_paths(rt->schema, resp)))
        goto nomem;
    if (rt->modify_plan) {
        cr_plan_req hreq = { prior, adopted ? planned : req->proposed,
                             config, NULL, req->priv };
        rt->modify_plan(p, &hreq, resp);
    }
    return;
nomem:
    cr_value_free(resp->planned);
    resp->planned = NULL;
    oom(&resp->diags, "The provider ran out of memory while planning.");
}

void cr_resource_apply(const cr_resource_type *rt, cr_provider_state *p,
                       const cr_apply_req *req, cr_apply_resp *resp)
{
    cr_apply_req hreq = { present(req->prior), present(req->planned),
                          present(req->config), req->priv };

    resp->new_state = NULL;
    if (!hreq.prior && !hreq.planned)
        return;
    if (!store_ready(rt->flags, p, &resp->diags)) {
        resp->new_state = hreq.prior ? cr_value_copy(hreq.prior) : NULL;
        return;
    }
    if (!hreq.planned)
        rt->delete(p, &hreq, resp);
    else if (!hreq.prior)
        rt->create(p, &hreq, resp);
    else
        rt->update(p, &hreq, resp);
    /* A failed update or delete that says nothing of the object: it is
     * still what it was, private state included. */
    if (!resp->new_state && hreq.prior && cr_diags_has_error(&resp->diags)) {
        resp->new_state = cr_value_copy(hreq.prior);
        cr_private_clear(&resp->priv);
    }
}

void cr_resource_read(const cr_resource_type *rt, cr_provider_state *p,
                      const cr_read_req *req, cr_read_resp *resp)
{
    resp->new_state = NULL;
    if (cr_res_is_null(req->state))
        return;
    if (store_ready(rt->flags, p, &resp->diags))
        rt->read(p, req, resp);
    /* Keep what Terraform had rather than dropping the object. */
    if (!resp->new_state && cr_diags_has_error(&resp->diags)) {
        resp->new_state = cr_value_copy(req->state);
        cr_private_clear(&resp->priv);
    }
}

/* An identity to import by: an object of rt's identity type whose
 * required attributes are known and set. */
static bool identity_usable(const cr_resource_type *rt, const cr_value *id,
                            cr_diags *d)
{
    const cr_schema *is = rt->identity_schema;
    if (!is) {
        cr_diags_error(d, NULL, "Resource Identity Not Supported",
                       "The %s resource has no identity: import it by ID.",
                       rt->type_name);
        return false;
    }
    if (id->kind != CR_OBJECT || !cr_type_equal(id->type, cr_schema_type(is)) ||
        !cr_value_is_wholly_known(id)) {
        cr_diags_error(d, NULL, "Invalid import identity",
                       "The identity to import a %s by must be a known "
                       "object of its identity schema.", rt->type_name);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < is->nattrs; i++) {
        const cr_attr_schema *a = &is->attrs[i];
        if ((a->flags & CR_ATTR_REQUIRED) &&
            cr_res_is_null(cr_value_get(id, a->name))) {
            cr_diags_error(d, NULL, "Missing identity attribute",
                           "Importing a %s by identity needs `%s`.",
                           rt->type_name, a->name);
            ok = false;
        }
    }
    return ok;
}

void cr_resource_import(const cr_resource_type *rt, cr_provider_state *p,
                        const cr_import_req *req, cr_import_resp *resp)
{
    resp->state = NULL;
    if (!rt->import_state) {
        cr_diags_error(&resp->diags, NULL, "Resource Import Not Implemented",
                       "The %s resource cannot be imported.", rt->type_name);
        return;
    }
    const cr_value *id = present(req->identity);
    if (id && !identity_usable(rt, id, &resp->diags))
        return;
    cr_import_req hreq = { .id = req->id && !id ? req->id : "",
                           .identity = id };
    rt->import_state(p, &hreq, resp);
    if (!resp->state)
        cr_private_clear(&resp->priv);
}

int cr_resource_identity(const cr_resource_type *rt, const cr_value *object,
                         cr_value **out)
{
    const cr_schema *is = rt->identity_schema;
    *out = NULL;
    if (!is || cr_res_is_null(object))
        return 0;
    const cr_type *t = cr_schema_type(is);
    cr_value *v = t ? cr_value_object(t) : NULL;
    if (!v)
        return -1;
    for (size_t i = 0; i < is->nattrs; i++) {
        const char *name = is->attrs[i].name;
        const cr_value *a = object->kind == CR_OBJECT
                                ? cr_value_get(object, name) : NULL;
        /* A wholly unknown object (never from our resources) has an
         * unknown identity. */
        cr_value *c = a ? cr_value_copy(a) : cr_value_unknown(is->attrs[i].type);
        if (cr_res_set(v, name, c) != 0) {
            cr_value_free(v);
            return -1;
        }
    }
    *out = v;
    return 0;
}

/* ---- list drivers ---------------------------------------------------------- */

void cr_list_item_clear(cr_list_item *item)
{
    cr_value_free(item->object);
    free(item->display_name);
    memset(item, 0, sizeof *item);
}

void cr_resource_list_validate(const cr_resource_type *rt,
                               const cr_value *config, cr_diags *diags)
{
    if (!config || config->kind != CR_OBJECT || !rt->list_schema)
        return;
    read_only_check(rt->list_schema, config, diags);
    if (rt->validate_list)
        rt->validate_list(config, diags);
}

void *cr_resource_list_open(const cr_resource_type *rt, cr_provider_state *p,
                            const cr_list_req *req, cr_diags *diags)
{
    if (!rt->list_schema || !rt->list_open) {
        cr_diags_error(diags, NULL, "List Resource Not Implemented",
                       "The %s resource cannot be listed.", rt->type_name);
        return NULL;
    }
    if (!store_ready(rt->flags, p, diags))
        return NULL;
    void *cursor = rt->list_open(p, req, diags);
    if (cursor && cr_diags_has_error(diags)) {
        rt->list_close(cursor);
        cursor = NULL;
    } else if (!cursor && !cr_diags_has_error(diags)) {
        oom(diags, "The provider ran out of memory starting a listing.");
    }
    return cursor;
}

int cr_resource_list_next(const cr_resource_type *rt, cr_provider_state *p,
                          void *cursor, cr_list_item *item, cr_diags *diags)
{
    if (p && p->stopping) {
        cr_diags_error(diags, NULL, "Listing stopped",
                       "Terraform asked the provider to stop, so the %s "
                       "listing ended before its last object.", rt->type_name);
        return 0;
    }
    int more = rt->list_next(p, cursor, item, diags);
    if (more != 1 || cr_diags_has_error(diags)) {
        cr_list_item_clear(item);
        return 0;
    }
    return 1;
}

void cr_resource_list_close(const cr_resource_type *rt, void *cursor)
{
    if (cursor && rt->list_close)
        rt->list_close(cursor);
}

/* ---- data source drivers --------------------------------------------------- */

void cr_data_source_validate(const cr_data_source_type *ds,
                             const cr_value *config, cr_diags *diags)
{
    if (!config || config->kind != CR_OBJECT)
        return;
    read_only_check(ds->schema, config, diags);
    if (ds->validate_config)
        ds->validate_config(config, diags);
}

void cr_data_source_read(const cr_data_source_type *ds, cr_provider_state *p,
                         const cr_value *config, cr_value **state,
                         cr_diags *diags)
{
    cr_diags local = CR_DIAGS_INIT;

    *state = NULL;
    if (!config || config->kind != CR_OBJECT ||
        !cr_value_is_wholly_known(config)) {
        /* The rpc layer answers an unknown configuration itself. */
        cr_diags_error(diags, NULL, "Invalid data source configuration",
                       "The %s data source was read with a configuration "
                       "that is not known yet. This is a bug in the "
                       "provider; please report it.", ds->type_name);
        return;
    }
    cr_data_source_validate(ds, config, &local);
    if (!cr_diags_has_error(&local) && store_ready(ds->flags, p, &local))
        ds->read(p, config, state, &local);
    if (cr_diags_has_error(&local)) {
        cr_value_free(*state);
        *state = NULL;
    }
    cr_diags_move(diags, &local);
}
