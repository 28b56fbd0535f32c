/*
 * resource/tenant.c — the `cellrouter_tenant` resource: one entry of the
 * routing map (tenant -> cell, endpoint, standby), managed by Terraform.
 *
 * This file owns the resource's schema and its behaviour in Terraform's
 * terms: validation with attribute paths, plans that never show a perpetual
 * diff, applies whose result is exactly the plan, refresh that reports drift,
 * import by tenant id or by identity, and the list resource `terraform
 * query` reads (the entries no cellrouter_tenants resource manages, as
 * import wants them). Protocol work (decoding, Terraform's own plan and
 * result checks, encoding) is the rpc layer's; the routing map itself is the
 * store's. Every write is conditional on the entry's version as Terraform
 * last saw it, so an out-of-band change between refresh and apply is a
 * conflict the user sees, never an overwrite.
 *
 * User input is never normalised: strings go to the store and come back
 * byte for byte, and `labels` keeps the user's choice between null and an
 * empty map, because Terraform compares results with the configuration
 * exactly.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "resource/entry_value.h"

#define LOG "tenant"

/* ---- schema ------------------------------------------------------------- */

/* State schema version. Raising it means adding the upgrader from the
 * previous version to `tenant_upgraders` below; the assertion after the
 * table keeps the two in step. */
#define TENANT_SCHEMA_VERSION 0

static const cr_attr_schema tenant_attrs[] = {
    {
        .name = "id", .type = &cr_type_string,
        .flags = CR_ATTR_COMPUTED | CR_ATTR_USE_STATE,
        .description = "Same as `tenant_id`.",
    },
    {
        .name = "tenant_id", .type = &cr_type_string,
        .flags = CR_ATTR_REQUIRED | CR_ATTR_FORCE_NEW,
        .description =
            "The tenant's identifier, the key of its routing map entry: 1 to "
            "512 bytes of ASCII letters, digits and `.` `_` `:` `@` `-`, "
            "starting with a letter or digit. Changing it replaces the "
            "resource (the old entry is removed, a new one written).",
    },
    {
        .name = "cell_id", .type = &cr_type_string,
        .flags = CR_ATTR_REQUIRED,
        .description =
            "The cell that serves the tenant: 1 to 63 bytes of lowercase "
            "letters, digits and `-`, starting with a letter or digit (the "
            "cell ids `cellgen` generates).",
    },
    {
        .name = "endpoint", .type = &cr_type_string,
        .flags = CR_ATTR_REQUIRED,
        .description =
            "Where the tenant's traffic goes: the cell's ingest URL, an "
            "absolute `http://` or `https://` URL with a host (at most 2048 "
            "bytes, no `user:password@`, no `#fragment`). Kept exactly as "
            "written.",
    },
    {
        .name = "standby_cell_id", .type = &cr_type_string,
        .flags = CR_ATTR_OPTIONAL,
        .description =
            "The cell that takes the tenant over on failover. Set it together "
            "with `standby_endpoint`, or neither; it must differ from "
            "`cell_id`. To fail a tenant over, swap the primary and standby "
            "values: Terraform plans an in-place update.",
    },
    {
        .name = "standby_endpoint", .type = &cr_type_string,
        .flags = CR_ATTR_OPTIONAL,
        .description =
            "The standby cell's ingest URL (absolute `http://` or "
            "`https://`). Set together with `standby_cell_id`.",
    },
    {
        .name = "labels", .type = &cr_ev_map_of_string, .flags = CR_ATTR_OPTIONAL,
        .description =
            "Free-form string labels kept with the entry, for operators and "
            "routers (for example `tier = \"gold\"`). Keys 1 to 63 bytes, "
            "values at most 256 bytes, UTF-8 without control characters.",
    },
    {
        .name = "version", .type = &cr_type_number, .flags = CR_ATTR_COMPUTED,
        .description =
            "The entry's generation number in the routing map. It increases "
            "on every write, by Terraform or anyone else; updates and deletes "
            "only go through when it still has the value Terraform last read.",
    },
    {
        .name = "updated_at", .type = &cr_type_string,
        .flags = CR_ATTR_COMPUTED,
        .description = "When the entry was last written, in RFC 3339 (UTC).",
    },
};

static const cr_schema tenant_schema = {
    .version = TENANT_SCHEMA_VERSION,
    .description =
        "One tenant's entry in the routing map: the cell that serves it, the "
        "endpoint its traffic goes to, and optionally the standby cell it "
        "fails over to.\n\n"
        "An entry that already exists in the map is not taken over on "
        "create: import it with `terraform import "
        "cellrouter_tenant.<name> <tenant_id>`.",
    .nattrs = sizeof tenant_attrs / sizeof tenant_attrs[0],
    .attrs = tenant_attrs,
    .nblocks = 0,
    .blocks = NULL,
};

/* The identity (Terraform 1.12+): the tenant id, which never changes for
 * an existing object (changing it replaces the resource). The framework
 * takes it from the object's own `tenant_id`. */
static const cr_attr_schema tenant_identity_attrs[] = {
    {
        .name = "tenant_id", .type = &cr_type_string,
        .flags = CR_ATTR_REQUIRED,
        .description = "The tenant's identifier, the key of its routing map "
                       "entry.",
    },
};

static const cr_schema tenant_identity_schema = {
    .version = 0,
    .nattrs = sizeof tenant_identity_attrs / sizeof tenant_identity_attrs[0],
    .attrs = tenant_identity_attrs,
};

/* The `config` of a `list "cellrouter_tenant"` block: the filters of the
 * cellrouter_routing_map data source, with the cell matched as primary or
 * standby (every entry a cell takes part in), and labels. */
static const cr_attr_schema tenant_list_attrs[] = {
    {
        .name = "cell_id", .type = &cr_type_string, .flags = CR_ATTR_OPTIONAL,
        .description = "Only tenants this cell serves or stands by for: "
                       "`cell_id` or `standby_cell_id` is this cell.",
    },
    {
        .name = "tenant_id_prefix", .type = &cr_type_string,
        .flags = CR_ATTR_OPTIONAL,
        .description = "Only tenants whose id starts with this prefix.",
    },
    {
        .name = "labels", .type = &cr_ev_map_of_string,
        .flags = CR_ATTR_OPTIONAL,
        .description = "Only tenants that carry every one of these labels "
                       "with these values.",
    },
};

static const cr_schema tenant_list_schema = {
    .version = 0,
    .description =
        "Finds routing-map entries to bring under Terraform as "
        "`cellrouter_tenant` resources (`terraform query`, Terraform 1.14 "
        "and later): every entry, or those matching all of the filters "
        "given. Entries a `cellrouter_tenants` resource manages are left "
        "out: they are in Terraform already.",
    .nattrs = sizeof tenant_list_attrs / sizeof tenant_list_attrs[0],
    .attrs = tenant_list_attrs,
};

/* Upgraders, one per earlier state version, in order: the entry for
 * version N turns a version-N state into a version-N+1 state. Version 0 is
 * the first, so there are none yet; the last row only marks the end (C17
 * has no empty arrays) and is not counted. */
static const cr_state_upgrader tenant_upgraders[] = {
    /* { .from_version = 0, .upgrade = tenant_upgrade_v0 }, */
    { .from_version = -1, .upgrade = NULL },
};
#define TENANT_NUPGRADERS \
    (sizeof tenant_upgraders / sizeof tenant_upgraders[0] - 1)
_Static_assert(TENANT_NUPGRADERS == TENANT_SCHEMA_VERSION,
               "one upgrader per earlier schema version");

/* ---- small helpers ------------------------------------------------------ */

static const cr_type *tenant_type(void)
{
    return cr_schema_type(&tenant_schema);
}

/* ---- entries and values ------------------------------------------------- */

/* The conversions are shared with cellrouter_tenants and the data sources
 * (resource/entry_value.c); this resource adds its tenant_id attribute. */

/* Fills `e` from a resource object whose user attributes are all known.
 * Returns 0, or -1 with a diagnostic. `e` is cleared on failure. */
static int entry_from_value(const cr_value *obj, cr_entry *e, cr_diags *d)
{
    const cr_value *tid = cr_res_attr(obj, "tenant_id");
    if (!tid || !cr_value_is_wholly_known(tid)) {
        memset(e, 0, sizeof *e);
        cr_diags_error(d, NULL, "Unknown value at apply", "%s",
                       "`tenant_id` is still unknown when the entry is "
                       "written; Terraform should have resolved it. This is "
                       "a bug in the provider or in Terraform.");
        return -1;
    }
    if (cr_res_has_nul(tid)) {
        memset(e, 0, sizeof *e);
        cr_res_error(d, NULL, "tenant_id", NULL, "Invalid value",
                     "The value contains a NUL character.");
        return -1;
    }
    return cr_ev_to_entry(obj, cr_res_cstr(tid), e, NULL, d);
}

/* The full state for an entry as the routing map holds it. `labels_hint`
 * is the labels value of the state Terraform had, or NULL. */
static cr_value *value_from_entry(const cr_entry *e,
                                  const cr_value *labels_hint)
{
    cr_value *obj = cr_value_object(tenant_type());
    if (obj && cr_ev_fill(obj, e, labels_hint) != 0) {
        cr_value_free(obj);
        return NULL;
    }
    return obj;
}

/* ---- validate ----------------------------------------------------------- */

/* The rules for single values are the routing map's (store/store.c), so
 * that the provider and cellctl accept exactly the same entries; this file
 * only decides where each problem points and what an unknown means (never
 * an error: it may turn out either way). */

static void tenant_validate(const cr_value *config, cr_diags *d)
{
    const cr_value *tid = cr_res_attr(config, "tenant_id");
    const char *s = cr_res_cstr(tid);
    if (cr_res_is_null(tid) && !cr_value_is_unknown(tid))
        cr_res_error(d, NULL, "tenant_id", NULL, "Missing required argument",
                     "This argument is required.");
    else if (cr_res_has_nul(tid))
        cr_res_error(d, NULL, "tenant_id", NULL, "Invalid value",
                     "The value contains a NUL character, which the "
                     "routing map cannot hold.");
    else if (s && cr_tenant_id_check(s))
        cr_res_error(d, NULL, "tenant_id", NULL, "Invalid tenant_id",
                     cr_tenant_id_check(s));
    /* Everything else is an entry's, checked as for every entry. */
    cr_ev_validate(config, NULL, NULL, d);
}

/* ---- plan --------------------------------------------------------------- */

/* The framework planned version and updated_at (unknown when a user
 * attribute changes, kept otherwise) and keeps id; tenant_id is
 * force-new, so a change to it plans a replacement. */
static void tenant_modify_plan(cr_provider_state *p, const cr_plan_req *req,
                               cr_plan_resp *resp)
{
    cr_value *planned = resp->planned;

    /* id is tenant_id, known as soon as tenant_id is. */
    const cr_value *tid = cr_res_attr(planned, "tenant_id");
    cr_ev_check_fits(p ? p->store : NULL, planned, cr_res_cstr(tid), NULL,
                     NULL, &resp->diags);
    cr_value *id = tid && !cr_value_is_null(tid)
                       ? cr_value_copy(tid) : cr_value_unknown(&cr_type_string);
    /* A state whose id is not its tenant_id (edited by hand) is written
     * again, like any change. */
    if (id && req->prior &&
        !cr_value_equal(cr_res_attr(req->prior, "id"), id) &&
        cr_res_plan_computed(&tenant_schema, req->prior, planned, req->config,
                             true) != 0) {
        cr_value_free(id);
        id = NULL;
    }
    if (cr_res_set(planned, "id", id) != 0)
        cr_diags_error(&resp->diags, NULL, "Out of memory", "%s",
                       "The provider ran out of memory while planning.");
}

/* ---- apply -------------------------------------------------------------- */

/* The state after a successful write: the plan exactly, with what the
 * store decided (version, time) filled in. */
static cr_value *state_after_write(const cr_value *planned,
                                   const cr_entry *written)
{
    cr_value *s = cr_value_copy(planned);
    if (!s)
        return NULL;
    const cr_value *id = cr_res_attr(planned, "id");
    if (cr_res_set(s, "version", cr_value_int(written->version)) ||
        cr_res_set_str(s, "updated_at", written->updated_at
                                            ? written->updated_at : ""))
        goto fail;
    if (!id || !cr_value_is_wholly_known(id) || cr_value_is_null(id)) {
        if (cr_res_set(s, "id", cr_value_copy(cr_res_attr(planned,
                                                          "tenant_id"))))
            goto fail;
    }
    return s;
fail:
    cr_value_free(s);
    return NULL;
}

static void tenant_delete(cr_provider_state *p, const cr_apply_req *req,
                          cr_apply_resp *resp)
{
    const char *tid = cr_res_cstr(cr_res_attr(req->prior, "tenant_id"));
    cr_store_err err = {0};

    if (!tid) {
        cr_diags_error(&resp->diags, NULL, "Invalid state", "%s",
                       "The state to destroy has no tenant_id.");
        return;
    }
    int64_t expect = cr_res_version(req->prior, LOG);
    cr_store_rc rc = cr_store_delete(p->store, tid, expect, &err);
    /* A conflict with nothing (version 0) is an entry deleted out of band,
     * which is what a delete wants: the same as NOT_FOUND. */
    if (rc == CR_STORE_CONFLICT && err.actual_version == 0)
        rc = CR_STORE_NOT_FOUND;
    switch (rc) {
    case CR_STORE_OK:
        cr_log_info(LOG, "deleted tenant %s", tid);
        break;
    case CR_STORE_NOT_FOUND:
        cr_diags_add(&resp->diags, CR_DIAG_WARNING, NULL,
                     "Tenant already removed",
                     "Tenant %s was no longer in the routing map: someone "
                     "removed it outside of Terraform. Nothing was deleted.",
                     tid);
        break;
    case CR_STORE_CONFLICT:
        cr_diags_error(&resp->diags, NULL, "Routing map entry changed",
                       "Tenant %s was not deleted: its entry changed outside "
                       "of Terraform since the last refresh (Terraform last "
                       "saw version %lld, the map now holds version %lld). "
                       "Run terraform plan again to see the change.", tid,
                       (long long)expect, (long long)err.actual_version);
        break;
    default:
        cr_res_store_error(&resp->diags, rc, &err, "Could not delete tenant",
                           "Deleting tenant %s from the routing map failed",
                           tid);
        break;
    }
}

static void report_exists(cr_provider_state *p, const char *tid,
                          cr_diags *d)
{
    cr_entry *cur = NULL;
    cr_store_err err = {0};
    char where[700] = "";

    if (cr_store_get(p->store, tid, &cur, &err) == CR_STORE_OK && cur) {
        const char *owner = cr_entry_label(cur, CR_OWNER_LABEL);
        snprintf(where, sizeof where, "The entry is on cell %s (%s), "
                 "version %lld%s%.64s%s. ", cur->cell_id, cur->endpoint,
                 (long long)cur->version,
                 owner ? ", managed by cellrouter_tenants \"" : "",
                 owner ? owner : "", owner ? "\"" : "");
    }
    cr_entry_free(cur);
    char summary[600];
    snprintf(summary, sizeof summary,
             "Tenant %s is already in the routing map", tid);
    cr_diags_error(d, NULL, summary,
                   "%sTerraform does not take over entries it did not "
                   "create. To manage it with Terraform, import it:\n\n"
                   "  terraform import cellrouter_tenant.<name> %s\n\n"
                   "or remove it from the map first (cellctl delete %s).",
                   where, tid, tid);
}

/* Create and update: one conditional put (absent on create, the version
 * Terraform last read on update). */
static void tenant_write(cr_provider_state *p, const cr_apply_req *req,
                         cr_apply_resp *resp)
{
    bool create = !req->prior;
    cr_entry e, *written = NULL;
    cr_store_err err = {0};
    int64_t expect = create ? CR_VERSION_ABSENT
                            : cr_res_version(req->prior, LOG);

    if (entry_from_value(req->planned, &e, &resp->diags) != 0)
        return;
    cr_store_rc rc = cr_store_put(p->store, &e, expect, &written, &err);
    switch (rc) {
    case CR_STORE_OK:
        resp->new_state = state_after_write(req->planned, written);
        if (!resp->new_state)
            cr_diags_error(&resp->diags, NULL, "Out of memory",
                           "Tenant %s was written (version %lld) but the "
                           "provider ran out of memory building its state.",
                           e.tenant_id, (long long)written->version);
        else
            cr_log_info(LOG, "%s tenant %s (version %lld)",
                        create ? "created" : "updated", e.tenant_id,
                        (long long)written->version);
        break;
    case CR_STORE_EXISTS:
        report_exists(p, e.tenant_id, &resp->diags);
        break;
    case CR_STORE_CONFLICT:
        if (err.actual_version == 0) {
            /* put never says NOT_FOUND: a conditional write to an entry
             * deleted out of band is a conflict with nothing. */
            cr_diags_error(&resp->diags, NULL,
                           "Tenant removed outside Terraform",
                           "Tenant %s was not updated: its entry was deleted "
                           "from the routing map outside of Terraform since "
                           "the last refresh (Terraform last saw version "
                           "%lld). Run terraform plan again: it plans to "
                           "create the entry anew.", e.tenant_id,
                           (long long)expect);
            break;
        }
        cr_diags_error(&resp->diags, NULL, "Routing map entry changed",
                       "Tenant %s was not updated: its entry changed outside "
                       "of Terraform since the last refresh (Terraform last "
                       "saw version %lld, the map now holds version %lld). "
                       "Run terraform plan again to see the change.",
                       e.tenant_id, (long long)expect,
                       (long long)err.actual_version);
        break;
    case CR_STORE_NOT_FOUND:
        cr_diags_error(&resp->diags, NULL, "Tenant removed outside Terraform",
                       "Tenant %s was not updated: its entry was removed from "
                       "the routing map since the last refresh. Run terraform "
                       "plan again to create it anew.", e.tenant_id);
        break;
    default:
        cr_res_store_error(&resp->diags, rc, &err,
                           create ? "Could not create tenant"
                                  : "Could not update tenant",
                           "Writing tenant %s to the routing map failed",
                           e.tenant_id);
        break;
    }
    cr_entry_free(written);
    cr_entry_clear(&e);
}

/* ---- read and import ---------------------------------------------------- */

static void tenant_read(cr_provider_state *p, const cr_read_req *req,
                        cr_read_resp *resp)
{
    const cr_value *state = req->state;
    cr_entry *e = NULL;
    cr_store_err err = {0};

    const char *tid = cr_res_cstr(cr_res_attr(state, "tenant_id"));
    if (!tid)
        tid = cr_res_cstr(cr_res_attr(state, "id"));
    if (!tid) {
        cr_diags_error(&resp->diags, NULL, "Invalid state", "%s",
                       "The state has neither tenant_id nor id, so the "
                       "entry cannot be looked up.");
        return;
    }
    cr_store_rc rc = cr_store_get(p->store, tid, &e, &err);
    if (rc != CR_STORE_OK) {
        cr_res_store_error(&resp->diags, rc, &err, "Could not read tenant",
                           "Reading tenant %s from the routing map failed",
                           tid);
        return;
    }
    if (!e) {
        cr_log_info(LOG, "tenant %s is gone from the routing map", tid);
        return;
    }
    /* An imported state has no version yet and nulls everywhere: the
     * map's own null-vs-empty labels choice applies then. */
    const cr_value *hint = cr_res_attr(state, "version");
    bool imported = cr_res_is_null(hint);
    hint = imported ? NULL : cr_res_attr(state, "labels");
    /* An entry a cellrouter_tenants resource manages (its owner tag, see
     * entry_value.h) is not imported here too: one key, one resource. */
    const char *owner = cr_entry_label(e, CR_OWNER_LABEL);
    if (imported && owner) {
        cr_diags_error(&resp->diags, NULL,
                       "Tenant managed by another resource",
                       "Tenant %s is managed by the cellrouter_tenants "
                       "resource \"%.64s\". A key can be managed by one "
                       "resource only: remove it from that resource first.",
                       tid, owner);
        cr_entry_free(e);
        return;
    }
    resp->new_state = value_from_entry(e, hint);
    if (!resp->new_state)
        cr_diags_error(&resp->diags, NULL, "Out of memory", "%s",
                       "The provider ran out of memory reading an entry.");
    cr_entry_free(e);
}

/* By the tenant id, given as the import ID or as the identity's
 * tenant_id (the framework checked that it is set). */
static void tenant_import(cr_provider_state *p, const cr_import_req *req,
                          cr_import_resp *resp)
{
    (void)p;                /* ReadResource, called next, reads the map */
    const char *id = cr_res_import_key(&cr_tenant_resource, req, "tenant_id",
                                       cr_tenant_id_check, &resp->diags);
    if (!id)
        return;
    cr_value *obj = cr_value_object(tenant_type());
    if (!obj || cr_res_set_str(obj, "tenant_id", id) ||
        cr_res_set_str(obj, "id", id)) {
        cr_value_free(obj);
        cr_diags_error(&resp->diags, NULL, "Out of memory", "%s",
                       "The provider ran out of memory importing a tenant.");
        return;
    }
    resp->state = obj;
}

/* ---- list (terraform query) --------------------------------------------- */

/* Entries are read TENANT_LIST_PAGE at a time (one SQLite query, or one
 * Workers KV listing page of up to 1,000 keys): a listing holds one page,
 * whatever the size of the map. */
#define TENANT_LIST_PAGE 500

typedef struct tenant_lister {
    char *cell;                 /* NULL: any */
    char *prefix;               /* "" for all */
    cr_value *labels;           /* NULL: any; else a map to match */
    cr_entry_list page;
    size_t at;                  /* next entry of the page */
    char *next;                 /* the store's cursor of the next page */
    bool last;                  /* the page held is the last one */
} tenant_lister;

static void tenant_list_close(void *cursor)
{
    tenant_lister *l = cursor;
    free(l->cell);
    free(l->prefix);
    cr_value_free(l->labels);
    cr_entry_list_free(&l->page);
    free(l->next);
    free(l);
}

static void *tenant_list_open(cr_provider_state *p, const cr_list_req *req,
                              cr_diags *d)
{
    const char *cell = cr_res_cstr(cr_res_attr(req->config, "cell_id"));
    const char *prefix =
        cr_res_cstr(cr_res_attr(req->config, "tenant_id_prefix"));
    const cr_value *labels = cr_res_attr(req->config, "labels");
    tenant_lister *l = calloc(1, sizeof *l);
    (void)p;
    (void)d;                    /* NULL alone says out of memory */
    if (!l)
        return NULL;
    l->cell = cell ? strdup(cell) : NULL;
    l->prefix = strdup(prefix ? prefix : "");
    l->labels = cr_res_is_null(labels) ? NULL : cr_value_copy(labels);
    if ((cell && !l->cell) || !l->prefix ||
        (!cr_res_is_null(labels) && !l->labels)) {
        tenant_list_close(l);
        return NULL;
    }
    return l;
}

/* Whether an entry is one the listing finds. */
static bool tenant_list_wants(const tenant_lister *l, const cr_entry *e)
{
    if (cr_entry_label(e, CR_OWNER_LABEL))
        return false;           /* a cellrouter_tenants resource has it */
    if (l->cell && strcmp(e->cell_id, l->cell) != 0 &&
        !(e->standby_cell_id && strcmp(e->standby_cell_id, l->cell) == 0))
        return false;
    for (size_t i = 0; l->labels && i < l->labels->u.coll.len; i++) {
        const char *v = cr_entry_label(e, l->labels->u.coll.keys[i]);
        if (!v || strcmp(v, l->labels->u.coll.items[i]->u.str.ptr) != 0)
            return false;
    }
    return true;
}

static int tenant_list_next(cr_provider_state *p, void *cursor,
                            cr_list_item *item, cr_diags *d)
{
    tenant_lister *l = cursor;
    for (;;) {
        while (l->at < l->page.len) {
            const cr_entry *e = &l->page.items[l->at++];
            if (!tenant_list_wants(l, e))
                continue;
            char name[700];
            if (e->standby_cell_id)
                snprintf(name, sizeof name, "%s (%s, standby %s)",
                         e->tenant_id, e->cell_id, e->standby_cell_id);
            else
                snprintf(name, sizeof name, "%s (%s)", e->tenant_id,
                         e->cell_id);
            /* What ReadResource answers after an import. */
            item->object = value_from_entry(e, NULL);
            item->display_name = strdup(name);
            if (!item->object || !item->display_name) {
                cr_diags_error(d, NULL, "Out of memory", "%s",
                               "The provider ran out of memory listing "
                               "tenants.");
                return 0;
            }
            return 1;
        }
        if (l->last)
            return 0;
        /* Long runs of entries the filters pass over are read here, page
         * after page: a stop is heard between pages. */
        if (p->stopping) {
            cr_diags_error(d, NULL, "Listing stopped", "%s",
                           "Terraform asked the provider to stop.");
            return 0;
        }
        cr_entry_list_free(&l->page);
        l->at = 0;
        char *cur = l->next;
        cr_store_err err = {0};
        cr_store_rc rc = cr_store_list_page(p->store, l->prefix, cur,
                                            TENANT_LIST_PAGE, &l->page,
                                            &l->next, &err);
        free(cur);
        if (rc != CR_STORE_OK) {
            l->next = NULL;
            cr_res_store_error(d, rc, &err, "Could not list tenants",
                               "Reading the routing map failed");
            return 0;
        }
        l->last = l->next == NULL;
    }
}

const cr_resource_type cr_tenant_resource = {
    .type_name = "cellrouter_tenant",
    .schema = &tenant_schema,
    .validate_config = tenant_validate,
    .modify_plan = tenant_modify_plan,
    .create = tenant_write,
    .update = tenant_write,
    .delete = tenant_delete,
    .read = tenant_read,
    .import_state = tenant_import,
    .upgraders = tenant_upgraders,
    .nupgraders = TENANT_NUPGRADERS,
    .identity_schema = &tenant_identity_schema,
    .list_schema = &tenant_list_schema,
    .validate_list = cr_ev_validate_filters,
    .list_open = tenant_list_open,
    .list_next = tenant_list_next,
    .list_close = tenant_list_close,
};
