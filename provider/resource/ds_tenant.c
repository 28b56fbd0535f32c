/*
 * resource/ds_tenant.c — the `cellrouter_tenant` data source: one entry of
 * the routing map, read by tenant id, whoever wrote it (Terraform, another
 * resource, cellctl).
 *
 * `labels` is always a map here (empty when the entry has none), so
 * expressions can index it without a null check.
 */
#include <stdio.h>
#include <string.h>

#include "resource/entry_value.h"

static const cr_attr_schema ds_tenant_attrs[] = {
    { .name = "id", .type = &cr_type_string, .flags = CR_ATTR_COMPUTED,
      .description = "Same as `tenant_id`." },
    { .name = "tenant_id", .type = &cr_type_string, .flags = CR_ATTR_REQUIRED,
      .description = "The tenant whose entry is read." },
    CR_EV_DS_ENTRY_ATTRS,
};

static const cr_schema ds_tenant_schema = {
    .version = 0,
    .description =
        "Reads one tenant's entry in the routing map, whoever wrote it. "
        "Reading a tenant that has no entry is an error.",
    .nattrs = sizeof ds_tenant_attrs / sizeof ds_tenant_attrs[0],
    .attrs = ds_tenant_attrs,
};

static void ds_tenant_validate(const cr_value *config, cr_diags *d)
{
    const cr_value *tid = cr_res_attr(config, "tenant_id");
    const char *s = cr_res_cstr(tid);
    const char *msg = cr_res_has_nul(tid) ? "tenant_id contains a NUL "
                                           "character"
                      : s ? cr_tenant_id_check(s) : NULL;
    if (cr_res_is_null(tid) && !cr_value_is_unknown(tid))
        msg = "This argument is required.";
    if (msg)
        cr_res_error(d, NULL, "tenant_id", NULL, "Invalid tenant_id", msg);
}

static void ds_tenant_read(cr_provider_state *p, const cr_value *config,
                           cr_value **state, cr_diags *d)
{
    /* Validated by the framework: a known, valid tenant id. */
    const char *tid = cr_res_cstr(cr_res_attr(config, "tenant_id"));
    cr_entry *e = NULL;
    cr_store_err err = {0};

    *state = NULL;
    cr_store_rc rc = cr_store_get(p->store, tid, &e, &err);
    if (rc != CR_STORE_OK) {
        cr_res_store_error(d, rc, &err, "Could not read tenant",
                           "Reading tenant %s from the routing map failed",
                           tid);
        return;
    }
    if (!e) {
        cr_res_error(d, NULL, "tenant_id", NULL, "Tenant not found",
                     "The routing map has no entry for this tenant.");
        return;
    }
    cr_value *empty = cr_value_collection(&cr_ev_map_of_string);
    cr_value *v = empty ? cr_value_copy(config) : NULL;
    if (!v || cr_ev_fill(v, e, empty) != 0) {
        cr_value_free(v);
        v = NULL;
        cr_diags_error(d, NULL, "Out of memory", "%s",
                       "The provider ran out of memory reading a tenant.");
    }
    cr_value_free(empty);
    cr_entry_free(e);
    *state = v;
}

const cr_data_source_type cr_tenant_data_source = {
    .type_name = "cellrouter_tenant",
    .schema = &ds_tenant_schema,
    .validate_config = ds_tenant_validate,
    .read = ds_tenant_read,
};
