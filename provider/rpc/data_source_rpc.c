/*
 * rpc/data_source_rpc.c — the data-source RPCs of tfplugin6.Provider:
 * ValidateDataResourceConfig and ReadDataSource, around the data source
 * framework (resource/resource.h: cr_data_source_read, ...), the way
 * resource_rpc.c serves resources.
 *
 * Terraform reads a data source during plan when its configuration is
 * wholly known, and defers it to apply otherwise; a configuration with
 * unknowns reaching ReadDataSource anyway is answered with the config and
 * every computed attribute unknown, never an error. The result must be a
 * wholly known object of the schema's type that keeps every configured
 * value (Terraform reports "Provider produced invalid object" otherwise):
 * both are checked here so a data source bug names the attribute.
 *
 * Calls handler.c, plan_check.c, the translators and the resource
 * framework. May include: rpc/internal.h, common/log.h.
 */
#include <string.h>

#include "common/log.h"
#include "rpc/internal.h"

static const cr_data_source_type *find_ds(const char *rpc,
                                          const char *type_name,
                                          cr_diags *diags)
{
    const cr_data_source_type *ds =
        cr_data_source_find(type_name ? type_name : "");

    cr_log_kv(CR_LOG_TRACE, CR_RPC_LOG, "received", "tf_rpc", rpc,
              "tf_data_source_type", type_name ? type_name : "", NULL);
    if (ds == NULL)
        cr_diags_error(diags, NULL, "Unknown data source type",
                       "The cellrouter provider has no data source \"%s\".",
                       type_name ? type_name : "");
    return ds;
}

int cr_rpc_validate_data_resource_config(cr_call *call,
                                         const ProtobufCMessage *request,
                                         ProtobufCMessage **response,
                                         const char **message)
{
    static const char rpc[] = "ValidateDataResourceConfig";
    const Tfplugin6__ValidateDataResourceConfig__Request *req =
        (const void *)request;
    cr_diags diags = CR_DIAGS_INIT;

    if (!cr_rpc_request_is(
            request,
            &tfplugin6__validate_data_resource_config__request__descriptor,
            message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    Tfplugin6__ValidateDataResourceConfig__Response *r = cr_rpc_msg_new(
        call, &tfplugin6__validate_data_resource_config__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);

    const cr_data_source_type *ds = find_ds(rpc, req->type_name, &diags);
    const cr_type *t = cr_rpc_type_of(ds ? ds->schema : NULL, &diags);
    if (t != NULL) {
        cr_value *config = cr_rpc_dv_decode(req->config, t,
                                            "data source configuration",
                                            &diags);
        if (config != NULL)
            cr_data_source_validate(ds, config, &diags);
        cr_value_free(config);
    }
    return cr_rpc_finish(call, rpc, req->type_name, false, &diags,
                         &r->diagnostics, &r->n_diagnostics, &r->base,
                         response, message);
}

/* The config with every attribute it leaves null and the schema computes
 * set to unknown: the answer for a configuration not yet known. */
static cr_value *unknown_result(const cr_schema *s, const cr_value *config)
{
    cr_value *v = cr_value_copy(config);
    for (size_t i = 0; v != NULL && i < s->nattrs; i++) {
        const cr_attr_schema *a = &s->attrs[i];
        const cr_value *cv = cr_value_get(config, a->name);
        if (!(a->flags & CR_ATTR_COMPUTED) || (cv && cv->kind != CR_NULL))
            continue;
        long idx = cr_type_attr_index(v->type, a->name);
        if (idx < 0 ||
            cr_value_object_set(v, a->name,
                                cr_value_unknown(v->type->attrs[idx].type))) {
            cr_value_free(v);
            return NULL;
        }
    }
    return v;
}

/* Every configured (non-null) attribute must come back unchanged. */
static void check_keeps_config(const cr_schema *s, const cr_value *config,
                               const cr_value *result, cr_diags *diags)
{
    for (size_t i = 0; i < s->nattrs; i++) {
        const char *name = s->attrs[i].name;
        const cr_value *cv = cr_value_get(config, name);
        if (cv == NULL || cv->kind == CR_NULL)
            continue;
        if (!cr_value_equal(cv, cr_value_get(result, name)))
            cr_diags_attr_error(diags, name, "Provider produced invalid object",
                                "The data source changed a configured value. "
                                "This is a bug in the provider; please "
                                "report it.");
    }
}

int cr_rpc_read_data_source(cr_call *call, const ProtobufCMessage *request,
                            ProtobufCMessage **response, const char **message)
{
    static const char rpc[] = "ReadDataSource";
    const Tfplugin6__ReadDataSource__Request *req = (const void *)request;
    cr_rpc_provider *p = cr_call_ctx(call);
    cr_diags diags = CR_DIAGS_INIT;
    cr_value *config = NULL, *result = NULL;
    bool nomem = false;

    if (!cr_rpc_request_is(request,
                           &tfplugin6__read_data_source__request__descriptor,
                           message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    Tfplugin6__ReadDataSource__Response *r =
        cr_rpc_msg_new(call, &tfplugin6__read_data_source__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);

    const cr_data_source_type *ds = find_ds(rpc, req->type_name, &diags);
    const cr_type *t = cr_rpc_type_of(ds ? ds->schema : NULL, &diags);
    if (t == NULL)
        goto out;
    config = cr_rpc_dv_decode(req->config, t, "data source configuration",
                              &diags);
    if (config == NULL)
        goto out;
    if (config->kind != CR_OBJECT) {
        cr_diags_error(&diags, NULL, "Invalid value from Terraform", "%s",
                       "The data source configuration sent by Terraform is "
                       "not an object.");
        goto out;
    }
    if (!cr_value_is_wholly_known(config)) {
        result = unknown_result(ds->schema, config);
        if (result == NULL)
            goto oom;
    } else {
        cr_diags local = CR_DIAGS_INIT;
        cr_rpc_state_enter(p);
        cr_data_source_read(ds, &p->state, config, &result, &local);
        cr_rpc_state_leave(p);
        bool failed = cr_diags_has_error(&local);
        cr_diags_move(&diags, &local);
        if (failed) {
            cr_value_free(result);
            result = NULL;
            goto out;
        }
        cr_path path = {0};
        if (result == NULL || result->kind != CR_OBJECT ||
            !cr_value_is_wholly_known(result))
            cr_diags_error(&diags, NULL, "Provider produced invalid object",
                           "The %s data source returned %s. This is a bug "
                           "in the provider; please report it.",
                           ds->type_name,
                           result == NULL ? "nothing"
                                          : "an incomplete object");
        else
            cr_rpc_check_conforms(result, t, &path,
                                  "Provider produced invalid object", &diags);
        cr_path_free(&path);
        if (!cr_diags_has_error(&diags))
            check_keeps_config(ds->schema, config, result, &diags);
        if (cr_diags_has_error(&diags))
            goto out;
    }
    r->state = cr_rpc_dv_encode(call, result);
    if (r->state == NULL)
        goto oom;
    goto out;
oom:
    nomem = true;
out:
    cr_value_free(config);
    cr_value_free(result);
    return cr_rpc_finish(call, rpc, req->type_name, nomem, &diags,
                         &r->diagnostics, &r->n_diagnostics, &r->base,
                         response, message);
}
