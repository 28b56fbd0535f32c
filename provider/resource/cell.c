/*
 * resource/cell.c — the `cellrouter_cell` resource: one cell of the fleet
 * as the routing map knows it.
 *
 * Terraform owns what a cell is — its id, ingest endpoint, health URL and
 * labels (the definition) — and operators and automation own whether it is
 * serving (the serving record: `cellctl cell fail/restore/pin`, the edge's
 * health prober). So the serving-state attributes are read-only here:
 * refreshed by read, copied from the prior state into every plan (never
 * unknown, never a planned change), and never written by apply. An
 * operator's failover is therefore never drift and never reverted.
 *
 * Every definition write is conditional on its version as Terraform last
 * read it, as for tenants. Destroying a cell that tenants still name as
 * their primary or standby cell is refused with their count: the store
 * checks and deletes in one step (one transaction on SQLite).
 *
 * Its identity (Terraform 1.12+) is `{ cell_id }`; import takes the cell
 * id or that identity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "resource/cell_value.h"

#define LOG "cell"

/* ---- schema --------------------------------------------------------------- */

#define CELL_SCHEMA_VERSION 0

static const cr_attr_schema cell_attrs[] = {
    {
        .name = "id", .type = &cr_type_string,
        .flags = CR_ATTR_COMPUTED | CR_ATTR_USE_STATE,
        .description = "Same as `cell_id`.",
    },
    {
        .name = "cell_id", .type = &cr_type_string,
        .flags = CR_ATTR_REQUIRED | CR_ATTR_FORCE_NEW,
        .description =
            "The cell's identifier, as tenants name it in `cell_id` and "
            "`standby_cell_id`: 1 to 63 bytes of lowercase letters, digits "
            "and `-`, starting with a letter or digit (the cell ids `cellgen` "
            "generates). Changing it replaces the cell.",
    },
    {
        .name = "endpoint", .type = &cr_type_string,
        .flags = CR_ATTR_REQUIRED,
        .description =
            "The cell's ingest URL: an absolute `http://` or `https://` URL "
            "with a host (at most 2048 bytes, no `user:password@`, no "
            "`#fragment`), usually the cell module's `ingest_url` output.",
    },
    {
        .name = "health_url", .type = &cr_type_string,
        .flags = CR_ATTR_OPTIONAL,
        .description =
            "The URL the edge's health prober fetches to decide whether the "
            "cell is serving (same rules as `endpoint`). Without it the cell "
            "is never probed: only operators change its serving state.",
    },
    {
        .name = "labels", .type = &cr_ev_map_of_string,
        .flags = CR_ATTR_OPTIONAL,
        .description =
            "Free-form string labels (for example `cloud = \"aws\"`), for "
            "operators and for the `cellrouter_cells` data source's filter. "
            "Keys 1 to 63 bytes, values at most 256 bytes, UTF-8 without "
            "control characters.",
    },
    {
        .name = "version", .type = &cr_type_number, .flags = CR_ATTR_COMPUTED,
        .description =
            "The definition's generation number. It increases on every write "
            "of the definition (not of the serving state); updates and "
            "destroys only go through when it still has the value Terraform "
            "last read.",
    },
    {
        .name = "updated_at", .type = &cr_type_string,
        .flags = CR_ATTR_COMPUTED,
        .description = "When the definition was last written, in RFC 3339 "
                       "(UTC).",
    },
    CR_CV_SERVING_ATTRS(CR_ATTR_COMPUTED | CR_ATTR_USE_STATE),
};

static const cr_schema cell_schema = {
    .version = CELL_SCHEMA_VERSION,
    .description =
        "One cell of the fleet in the routing map: its ingest endpoint, the "
        "URL its health is probed at, and labels. Tenants name cells by id; "
        "the edge router sends a tenant's traffic to its standby cell while "
        "its own cell is failed.\n\n"
        "Terraform owns the definition. Whether the cell is serving belongs "
        "to operators (`cellctl cell fail`, `restore`, `pin`) and to the "
        "edge's health prober: the serving-state attributes are read-only, "
        "refreshed on every plan, and an apply never changes them, so a "
        "failover is never shown as a planned change and never reverted.\n\n"
        "Destroying a cell that tenants still name as their primary or "
        "standby cell is refused, with their number.",
    .nattrs = sizeof cell_attrs / sizeof cell_attrs[0],
    .attrs = cell_attrs,
};

/* The identity (Terraform 1.12+): the cell id, which never changes for an
 * existing cell (changing it replaces the cell); the framework takes it
 * from the object's own `cell_id`. */
static const cr_attr_schema cell_identity_attrs[] = {
    {
        .name = "cell_id", .type = &cr_type_string,
        .flags = CR_ATTR_REQUIRED,
        .description = "The cell's identifier, as tenants name it.",
    },
};

static const cr_schema cell_identity_schema = {
    .version = 0,
    .nattrs = sizeof cell_identity_attrs / sizeof cell_identity_attrs[0],
    .attrs = cell_identity_attrs,
};

/* One upgrader per earlier state version (none yet; the last row only
 * marks the end, as in tenant.c). */
static const cr_state_upgrader cell_upgraders[] = {
    { .from_version = -1, .upgrade = NULL },
};
#define CELL_NUPGRADERS (sizeof cell_upgraders / sizeof cell_upgraders[0] - 1)
_Static_assert(CELL_NUPGRADERS == CELL_SCHEMA_VERSION,
               "one upgrader per earlier schema version");

static const char *const serving_attrs[] = {
    "serving_state", "state_reason", "state_changed_at", "state_changed_by",
    "pinned",
};
#define NSERVING (sizeof serving_attrs / sizeof serving_attrs[0])

/* ---- helpers ---------------------------------------------------------------- */

static void oom(cr_diags *d)
{
    cr_diags_error(d, NULL, "Out of memory", "%s",
                   "The provider ran out of memory.");
}

/* ---- validate and plan ------------------------------------------------------ */

static void cell_validate(const cr_value *config, cr_diags *d)
{
    cr_cv_validate(config, d);
}

static void cell_modify_plan(cr_provider_state *p, const cr_plan_req *req,
                             cr_plan_resp *resp)
{
    cr_value *planned = resp->planned;
    const cr_value *cid = cr_res_attr(planned, "cell_id");

    /* The serving state is not Terraform's: whatever the object's change,
     * the plan carries it as refreshed, never unknown (the framework keeps
     * a prior value on change, but not a null one, such as a
     * state_changed_at of a cell nobody has changed). On create it is
     * unknown: the store says after apply. */
    for (size_t i = 0; req->prior && i < NSERVING; i++) {
        const cr_value *was = cr_res_attr(req->prior, serving_attrs[i]);
        if (was && cr_res_set(planned, serving_attrs[i],
                              cr_value_copy(was)) != 0) {
            oom(&resp->diags);
            return;
        }
    }
    /* id is cell_id, known as soon as cell_id is. */
    cr_value *id = cid && !cr_value_is_null(cid)
                       ? cr_value_copy(cid) : cr_value_unknown(&cr_type_string);
    if (cr_res_set(planned, "id", id) != 0) {
        oom(&resp->diags);
        return;
    }
    /* The store's own limits (Workers KV's metadata), at plan time. */
    cr_store *s = p ? p->store : NULL;
    if (!s)
        return;
    static const char *const user[] = {"cell_id", "endpoint", "health_url",
                                       "labels"};
    for (size_t i = 0; i < sizeof user / sizeof *user; i++) {
        const cr_value *v = cr_res_attr(planned, user[i]);
        if (v && !cr_value_is_wholly_known(v))
            return;
    }
    cr_diags local = CR_DIAGS_INIT;
    cr_cell c;
    char buf[600];
    if (cr_cv_to_cell(planned, &c, &local) == 0 &&
        !cr_cell_check(&c, NULL)) {
        const char *msg = cr_store_cell_fits(s, &c, buf, sizeof buf);
        if (msg)
            cr_diags_error(&resp->diags, NULL, "Cell too large for the "
                           "routing map", "Cell %s: %s", c.cell_id, msg);
    }
    cr_cell_clear(&c);
    cr_diags_free(&local);              /* validation reports those */
}

/* ---- apply -------------------------------------------------------------------- */

/* The state after a definition write: the plan, with what the store
 * decided filled in (version, time) and, on create, the serving state the
 * cell has (planned unknown). On update the planned serving state stays:
 * apply must keep every known planned value, and the next refresh shows
 * any change made in between. */
static cr_value *state_after_write(const cr_value *planned,
                                   const cr_cell *written, bool create)
{
    cr_value *s = cr_value_copy(planned);
    if (!s || cr_res_set(s, "version", cr_value_int(written->version)) ||
        cr_res_set_str(s, "updated_at", written->updated_at) ||
        cr_res_set_str(s, "id", written->cell_id) ||
        (create && cr_cv_fill_serving(s, &written->serving))) {
        cr_value_free(s);
        return NULL;
    }
    return s;
}

static void report_exists(cr_provider_state *p, const char *id, cr_diags *d)
{
    cr_cell *cur = NULL;
    cr_store_err err = {0};
    char where[300] = "";
    if (cr_store_cell_get(p->store, id, &cur, &err) == CR_STORE_OK && cur)
        snprintf(where, sizeof where, "Its endpoint is %.200s, version "
                 "%lld. ", cur->endpoint, (long long)cur->version);
    cr_cell_free(cur);
    cr_diags_error(d, NULL, "Cell already defined in the routing map",
                   "Cell %s is already defined. %sTerraform does not take "
                   "over cells it did not create; import it:\n\n"
                   "  terraform import cellrouter_cell.<name> %s", id, where,
                   id);
}

static void cell_write(cr_provider_state *p, const cr_apply_req *req,
                       cr_apply_resp *resp)
{
    bool create = !req->prior;
    int64_t expect = create ? CR_VERSION_ABSENT
                            : cr_res_version(req->prior, LOG);
    cr_cell c, *written = NULL;
    cr_store_err err = {0};

    if (cr_cv_to_cell(req->planned, &c, &resp->diags) != 0)
        return;
    cr_store_rc rc = cr_store_cell_put(p->store, &c, expect, &written, &err);
    switch (rc) {
    case CR_STORE_OK:
        resp->new_state = state_after_write(req->planned, written, create);
        if (!resp->new_state)
            oom(&resp->diags);
        else
            cr_log_info(LOG, "%s cell %s (version %lld)",
                        create ? "created" : "updated", c.cell_id,
                        (long long)written->version);
        break;
    case CR_STORE_EXISTS:
        report_exists(p, c.cell_id, &resp->diags);
        break;
    case CR_STORE_CONFLICT:
        if (err.actual_version == 0)
            cr_diags_error(&resp->diags, NULL, "Cell removed outside "
                           "Terraform", "Cell %s was not updated: its "
                           "definition was removed from the routing map since "
                           "the last refresh (Terraform last saw version "
                           "%lld). Run terraform plan again: it plans to "
                           "create it anew.", c.cell_id, (long long)expect);
        else
            cr_diags_error(&resp->diags, NULL, "Cell definition changed",
                           "Cell %s was not updated: its definition changed "
                           "outside of Terraform since the last refresh "
                           "(Terraform last saw version %lld, the map now "
                           "holds version %lld). Run terraform plan again to "
                           "see the change.", c.cell_id, (long long)expect,
                           (long long)err.actual_version);
        break;
    default:
        cr_res_store_error(&resp->diags, rc, &err,
                           create ? "Could not create cell"
                                  : "Could not update cell",
                           "Writing cell %s to the routing map failed",
                           c.cell_id);
        break;
    }
    cr_cell_free(written);
    cr_cell_clear(&c);
}

static void cell_delete(cr_provider_state *p, const cr_apply_req *req,
                        cr_apply_resp *resp)
{
    const char *id = cr_res_cstr(cr_res_attr(req->prior, "cell_id"));
    cr_store_err err = {0};
    size_t tenants = 0;

    if (!id) {
        cr_diags_error(&resp->diags, NULL, "Invalid state", "%s",
                       "The state to destroy has no cell_id.");
        return;
    }
    int64_t expect = cr_res_version(req->prior, LOG);
    cr_store_rc rc = cr_store_cell_delete(p->store, id, expect, &tenants,
                                          &err);
    if (rc == CR_STORE_CONFLICT && err.actual_version == 0)
        rc = CR_STORE_NOT_FOUND;
    switch (rc) {
    case CR_STORE_OK:
        cr_log_info(LOG, "deleted cell %s", id);
        break;
    case CR_STORE_NOT_FOUND:
        cr_diags_add(&resp->diags, CR_DIAG_WARNING, NULL,
                     "Cell already removed",
                     "Cell %s was no longer defined in the routing map: "
                     "someone removed it outside of Terraform. Nothing was "
                     "deleted.", id);
        break;
    case CR_STORE_IN_USE:
        cr_diags_error(&resp->diags, NULL, "Cell still has tenants",
                       "Cell %s was not destroyed: %zu tenant%s still name%s "
                       "it as primary or standby cell (%s). Move them to "
                       "other cells, or destroy them, first; the cell stays "
                       "as it was.", id, tenants, tenants == 1 ? "" : "s",
                       tenants == 1 ? "s" : "",
                       strchr(err.msg, ':') ? strchr(err.msg, ':') + 2
                                            : err.msg);
        break;
    case CR_STORE_CONFLICT:
        cr_diags_error(&resp->diags, NULL, "Cell definition changed",
                       "Cell %s was not destroyed: its definition changed "
                       "outside of Terraform since the last refresh "
                       "(Terraform last saw version %lld, the map now holds "
                       "version %lld). Run terraform plan again to see the "
                       "change.", id, (long long)expect,
                       (long long)err.actual_version);
        break;
    default:
        cr_res_store_error(&resp->diags, rc, &err, "Could not destroy cell",
                           "Deleting cell %s from the routing map failed",
                           id);
        break;
    }
}

/* ---- read and import ------------------------------------------------------------ */

static void cell_read(cr_provider_state *p, const cr_read_req *req,
                      cr_read_resp *resp)
{
    const char *id = cr_res_cstr(cr_res_attr(req->state, "cell_id"));
    cr_cell *c = NULL;
    cr_store_err err = {0};

    if (!id)
        id = cr_res_cstr(cr_res_attr(req->state, "id"));
    if (!id) {
        cr_diags_error(&resp->diags, NULL, "Invalid state", "%s",
                       "The state has neither cell_id nor id, so the cell "
                       "cannot be looked up.");
        return;
    }
    cr_store_rc rc = cr_store_cell_get(p->store, id, &c, &err);
    if (rc != CR_STORE_OK) {
        cr_res_store_error(&resp->diags, rc, &err, "Could not read cell",
                           "Reading cell %s from the routing map failed", id);
        return;
    }
    if (!c) {
        cr_log_info(LOG, "cell %s is gone from the routing map", id);
        return;
    }
    cr_value *obj = cr_value_object(cr_schema_type(&cell_schema));
    if (!obj || cr_cv_fill(obj, c) != 0) {
        cr_value_free(obj);
        obj = NULL;
        oom(&resp->diags);
    }
    resp->new_state = obj;
    cr_cell_free(c);
}

static void cell_import(cr_provider_state *p, const cr_import_req *req,
                        cr_import_resp *resp)
{
    (void)p;                    /* ReadResource, called next, reads the map */
    const char *id = cr_res_import_key(&cr_cell_resource, req, "cell_id",
                                       cr_cell_id_check, &resp->diags);
    if (!id)
        return;
    cr_value *obj = cr_value_object(cr_schema_type(&cell_schema));
    if (!obj || cr_res_set_str(obj, "cell_id", id) ||
        cr_res_set_str(obj, "id", id)) {
        cr_value_free(obj);
        oom(&resp->diags);
        return;
    }
    resp->state = obj;
}

const cr_resource_type cr_cell_resource = {
    .type_name = "cellrouter_cell",
    .schema = &cell_schema,
    .validate_config = cell_validate,
    .modify_plan = cell_modify_plan,
    .create = cell_write,
    .update = cell_write,
    .delete = cell_delete,
    .read = cell_read,
    .import_state = cell_import,
    .upgraders = cell_upgraders,
    .nupgraders = CELL_NUPGRADERS,
    .identity_schema = &cell_identity_schema,
};
