/*
 * rpc/provider.c — the tfplugin6.Provider service: the provider instance,
 * the method table, and the provider-level RPCs (metadata, schema, provider
 * configuration, stop). The managed-resource RPCs are in resource_rpc.c.
 *
 * Every failure reaches Terraform as a diagnostic with status OK; a non-OK
 * status is kept for protocol faults (a request of the wrong type) and for
 * running out of memory. RPCs we do not serve are simply absent from the
 * table, and the server answers UNIMPLEMENTED: that is what Terraform expects
 * for optional RPCs such as MoveResourceState (an error diagnostic for an
 * RPC a provider does not serve can be fatal: Terraform 1.12.1 failed every
 * command on one from GetResourceIdentitySchemas, which identity_rpc.c
 * serves and never fails).
 *
 * The top of rpc/: calls the handler files, handler.c and the translators;
 * nothing in rpc/ calls back into it. May include: rpc/internal.h,
 * common/log.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "rpc/internal.h"

static cr_rpc_provider *provider_of(cr_call *call)
{
    return cr_call_ctx(call);
}

/* ---- the provider instance ----------------------------------------------- */

cr_rpc_provider *cr_rpc_provider_new(void)
{
    cr_rpc_provider *p = calloc(1, sizeof *p);

    if (p == NULL)
        return NULL;
    if (pthread_rwlock_init(&p->state_lock, NULL) != 0)
        goto fail_rw;
    if (pthread_mutex_init(&p->configure_mu, NULL) != 0)
        goto fail_configure;
    if (pthread_mutex_init(&p->schema_mu, NULL) != 0)
        goto fail_schema;
    return p;
fail_schema:
    pthread_mutex_destroy(&p->configure_mu);
fail_configure:
    pthread_rwlock_destroy(&p->state_lock);
fail_rw:
    free(p);
    return NULL;
}

void cr_rpc_provider_free(cr_rpc_provider *p)
{
    if (p == NULL)
        return;
    cr_provider_close(&p->state);
    cr_rpc_schema_response_free(p->schema_resp);
    pthread_mutex_destroy(&p->schema_mu);
    pthread_mutex_destroy(&p->configure_mu);
    pthread_rwlock_destroy(&p->state_lock);
    free(p);
}

/* ---- GetMetadata --------------------------------------------------------- */

static int get_metadata(cr_call *call, const ProtobufCMessage *request,
                        ProtobufCMessage **response, const char **message)
{
    Tfplugin6__GetMetadata__Response *r;
    size_t nres = 0;
    const cr_resource_type *const *res = cr_resources(&nres);

    if (!cr_rpc_request_is(request, &tfplugin6__get_metadata__request__descriptor,
                           message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    cr_log_trace(CR_RPC_LOG, "GetMetadata");
    r = cr_rpc_msg_new(call, &tfplugin6__get_metadata__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);
    r->server_capabilities =
        cr_rpc_msg_new(call, &tfplugin6__server_capabilities__descriptor);
    if (r->server_capabilities == NULL)
        return cr_rpc_oom(message);
    r->server_capabilities->plan_destroy = true;
    if (nres > 0) {
        r->resources = cr_call_alloc(call, nres * sizeof *r->resources);
        if (r->resources == NULL)
            return cr_rpc_oom(message);
    }
    for (size_t i = 0; i < nres; i++) {
        Tfplugin6__GetMetadata__ResourceMetadata *m = cr_rpc_msg_new(
            call, &tfplugin6__get_metadata__resource_metadata__descriptor);
        if (m == NULL)
            return cr_rpc_oom(message);
        m->type_name = cr_call_strdup(call, res[i]->type_name);
        if (m->type_name == NULL)
            return cr_rpc_oom(message);
        r->resources[r->n_resources++] = m;
    }
    size_t nds = 0;
    const cr_data_source_type *const *ds = cr_data_sources(&nds);
    if (nds > 0) {
        r->data_sources = cr_call_alloc(call, nds * sizeof *r->data_sources);
        if (r->data_sources == NULL)
            return cr_rpc_oom(message);
    }
    for (size_t i = 0; i < nds; i++) {
        Tfplugin6__GetMetadata__DataSourceMetadata *m = cr_rpc_msg_new(
            call, &tfplugin6__get_metadata__data_source_metadata__descriptor);
        if (m == NULL)
            return cr_rpc_oom(message);
        m->type_name = cr_call_strdup(call, ds[i]->type_name);
        if (m->type_name == NULL)
            return cr_rpc_oom(message);
        r->data_sources[r->n_data_sources++] = m;
    }
    if (nres > 0) {
        r->list_resources = cr_call_alloc(call, nres * sizeof *r->list_resources);
        if (r->list_resources == NULL)
            return cr_rpc_oom(message);
    }
    for (size_t i = 0; i < nres; i++) {
        if (res[i]->list_schema == NULL)
            continue;
        Tfplugin6__GetMetadata__ListResourceMetadata *m = cr_rpc_msg_new(
            call, &tfplugin6__get_metadata__list_resource_metadata__descriptor);
        if (m == NULL ||
            (m->type_name = cr_call_strdup(call, res[i]->type_name)) == NULL)
            return cr_rpc_oom(message);
        r->list_resources[r->n_list_resources++] = m;
    }
    *response = &r->base;
    return GRPC_STATUS_OK;
}

/* ---- GetProviderSchema --------------------------------------------------- */

static int get_provider_schema(cr_call *call, const ProtobufCMessage *request,
                               ProtobufCMessage **response,
                               const char **message)
{
    cr_rpc_provider *p = provider_of(call);
    Tfplugin6__GetProviderSchema__Response *cached;
    cr_diags diags = CR_DIAGS_INIT;

    if (!cr_rpc_request_is(request,
                           &tfplugin6__get_provider_schema__request__descriptor,
                           message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    cr_log_trace(CR_RPC_LOG, "GetProviderSchema");

    /* Built under the lock by the first caller; every later call shares
     * the same read-only message (packing does not modify it). */
    pthread_mutex_lock(&p->schema_mu);
    cached = p->schema_resp;
    if (cached == NULL) {
        cached = cr_rpc_schema_response_new(&diags);
        if (cached != NULL && cr_diags_has_error(&diags)) {
            /* Terraform would reject (or crash on) this schema: answer the
             * diagnostics alone, and try again next time. */
            cr_rpc_schema_response_free(cached);
            cached = NULL;
        } else if (cached != NULL) {
            p->schema_resp = cached;
        }
    }
    pthread_mutex_unlock(&p->schema_mu);

    if (cached != NULL) {
        cr_diags_free(&diags);      /* warnings only; none are produced */
        *response = &cached->base;
        return GRPC_STATUS_OK;
    }
    if (!cr_diags_has_error(&diags)) {
        cr_diags_free(&diags);
        return cr_rpc_oom(message);
    }
    Tfplugin6__GetProviderSchema__Response *r = cr_rpc_msg_new(
        call, &tfplugin6__get_provider_schema__response__descriptor);
    if (r == NULL ||
        cr_rpc_diags_to_pb(call, &diags, &r->diagnostics, &r->n_diagnostics)) {
        cr_diags_free(&diags);
        return cr_rpc_oom(message);
    }
    cr_rpc_log_done("GetProviderSchema", NULL, &diags);
    cr_diags_free(&diags);
    *response = &r->base;
    return GRPC_STATUS_OK;
}

/* ---- ValidateProviderConfig ---------------------------------------------- */

static int validate_provider_config(cr_call *call,
                                    const ProtobufCMessage *request,
                                    ProtobufCMessage **response,
                                    const char **message)
{
    const Tfplugin6__ValidateProviderConfig__Request *req =
        (const void *)request;
    Tfplugin6__ValidateProviderConfig__Response *r;
    cr_diags diags = CR_DIAGS_INIT;
    const cr_type *t;
    cr_value *config = NULL;

    if (!cr_rpc_request_is(
            request, &tfplugin6__validate_provider_config__request__descriptor,
            message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    cr_log_trace(CR_RPC_LOG, "ValidateProviderConfig");
    r = cr_rpc_msg_new(call,
                       &tfplugin6__validate_provider_config__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);

    t = cr_schema_type(cr_provider_schema());
    if (t == NULL)
        return cr_rpc_oom(message);
    config = cr_rpc_dv_decode(req->config, t, "provider configuration",
                              &diags);
    /* No provider block is an all-null (or null) config: still validated,
     * so required settings would be reported. */
    if (config != NULL)
        cr_provider_validate(config, &diags);
    cr_value_free(config);

    int rc = cr_rpc_diags_to_pb(call, &diags, &r->diagnostics,
                                &r->n_diagnostics);
    cr_rpc_log_done("ValidateProviderConfig", NULL, &diags);
    cr_diags_free(&diags);
    if (rc != 0)
        return cr_rpc_oom(message);
    *response = &r->base;
    return GRPC_STATUS_OK;
}

/* ---- ConfigureProvider --------------------------------------------------- */

static int configure_provider(cr_call *call, const ProtobufCMessage *request,
                              ProtobufCMessage **response,
                              const char **message)
{
    const Tfplugin6__ConfigureProvider__Request *req = (const void *)request;
    cr_rpc_provider *p = provider_of(call);
    Tfplugin6__ConfigureProvider__Response *r;
    cr_diags diags = CR_DIAGS_INIT;
    const cr_type *t;
    cr_value *config;

    if (!cr_rpc_request_is(
            request, &tfplugin6__configure_provider__request__descriptor,
            message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    cr_log_kv(CR_LOG_TRACE, CR_RPC_LOG, "ConfigureProvider",
              "terraform_version",
              req->terraform_version ? req->terraform_version : "", NULL);
    r = cr_rpc_msg_new(call,
                       &tfplugin6__configure_provider__response__descriptor);
    t = cr_schema_type(cr_provider_schema());
    if (r == NULL || t == NULL)
        return cr_rpc_oom(message);

    config = cr_rpc_dv_decode(req->config, t, "provider configuration",
                              &diags);
    if (config != NULL) {
        /* Configure into a fresh state, then publish it, replacing what
         * an earlier configuration opened (one server serving several
         * commands): this configuration alone counts. An unknown value
         * (only possible while planning) or an error leaves tmp.store
         * NULL: the provider is then unconfigured, and resources say so
         * if they need the store. */
        cr_provider_state tmp = {0};
        pthread_mutex_lock(&p->configure_mu);
        cr_provider_configure(&tmp, config, &p->state.stopping, &diags);
        cr_value_free(config);

        cr_provider_state old = {0};
        pthread_rwlock_wrlock(&p->state_lock);
        old.store = p->state.store;
        p->state.store = tmp.store;
        /* A new configuration starts a new Terraform command: a stop
         * asked of an earlier one no longer applies. */
        p->state.stopping = 0;
        pthread_rwlock_unlock(&p->state_lock);
        cr_provider_close(&old);        /* no call can hold it any more */
        pthread_mutex_unlock(&p->configure_mu);
    }

    int rc = cr_rpc_diags_to_pb(call, &diags, &r->diagnostics,
                                &r->n_diagnostics);
    cr_rpc_log_done("ConfigureProvider", NULL, &diags);
    cr_diags_free(&diags);
    if (rc != 0)
        return cr_rpc_oom(message);
    *response = &r->base;
    return GRPC_STATUS_OK;
}

/* ---- StopProvider -------------------------------------------------------- */

static int stop_provider(cr_call *call, const ProtobufCMessage *request,
                         ProtobufCMessage **response, const char **message)
{
    cr_rpc_provider *p = provider_of(call);
    Tfplugin6__StopProvider__Response *r;

    if (!cr_rpc_request_is(request,
                           &tfplugin6__stop_provider__request__descriptor,
                           message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    cr_log_debug(CR_RPC_LOG, "StopProvider: asking running operations to stop");
    /* Resources poll this between steps; it is all a stop can do for
     * calls already running. */
    p->state.stopping = 1;
    r = cr_rpc_msg_new(call, &tfplugin6__stop_provider__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);
    /* Error "" (the initial value) means the stop was accepted. */
    *response = &r->base;
    return GRPC_STATUS_OK;
}

/* ---- functions: we have none --------------------------------------------- */

static int get_functions(cr_call *call, const ProtobufCMessage *request,
                         ProtobufCMessage **response, const char **message)
{
    Tfplugin6__GetFunctions__Response *r;

    if (!cr_rpc_request_is(request,
                           &tfplugin6__get_functions__request__descriptor,
                           message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    cr_log_trace(CR_RPC_LOG, "GetFunctions");
    r = cr_rpc_msg_new(call, &tfplugin6__get_functions__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);
    *response = &r->base;
    return GRPC_STATUS_OK;
}

/* ---- the method table ---------------------------------------------------- */

#define M(name, desc, fn) \
    { .path = "/tfplugin6.Provider/" name, .request_desc = &(desc), \
      .handler = (fn) }
/* A handler that never waits (plugin/server.h, cr_method.quick). */
#define Q(name, desc, fn) \
    { .path = "/tfplugin6.Provider/" name, .request_desc = &(desc), \
      .handler = (fn), .quick = true }

static const cr_method methods[] = {
    Q("GetMetadata", tfplugin6__get_metadata__request__descriptor,
      get_metadata),
    Q("GetProviderSchema", tfplugin6__get_provider_schema__request__descriptor,
      get_provider_schema),
    M("ValidateProviderConfig",
      tfplugin6__validate_provider_config__request__descriptor,
      validate_provider_config),
    M("ValidateResourceConfig",
      tfplugin6__validate_resource_config__request__descriptor,
      cr_rpc_validate_resource_config),
    M("ValidateDataResourceConfig",
      tfplugin6__validate_data_resource_config__request__descriptor,
      cr_rpc_validate_data_resource_config),
    M("UpgradeResourceState",
      tfplugin6__upgrade_resource_state__request__descriptor,
      cr_rpc_upgrade_resource_state),
    Q("GetResourceIdentitySchemas",
      tfplugin6__get_resource_identity_schemas__request__descriptor,
      cr_rpc_get_resource_identity_schemas),
    M("UpgradeResourceIdentity",
      tfplugin6__upgrade_resource_identity__request__descriptor,
      cr_rpc_upgrade_resource_identity),
    M("ConfigureProvider", tfplugin6__configure_provider__request__descriptor,
      configure_provider),
    M("ReadResource", tfplugin6__read_resource__request__descriptor,
      cr_rpc_read_resource),
    M("PlanResourceChange",
      tfplugin6__plan_resource_change__request__descriptor,
      cr_rpc_plan_resource_change),
    M("ApplyResourceChange",
      tfplugin6__apply_resource_change__request__descriptor,
      cr_rpc_apply_resource_change),
    M("ImportResourceState",
      tfplugin6__import_resource_state__request__descriptor,
      cr_rpc_import_resource_state),
    M("ReadDataSource", tfplugin6__read_data_source__request__descriptor,
      cr_rpc_read_data_source),
    M("ValidateListResourceConfig",
      tfplugin6__validate_list_resource_config__request__descriptor,
      cr_rpc_validate_list_resource_config),
    { .path = "/tfplugin6.Provider/ListResource",
      .request_desc = &tfplugin6__list_resource__request__descriptor,
      .producer = &cr_rpc_list_resource },
    Q("GetFunctions", tfplugin6__get_functions__request__descriptor,
      get_functions),
    M("StopProvider", tfplugin6__stop_provider__request__descriptor,
      stop_provider),
};

const cr_method *cr_rpc_methods(size_t *count)
{
    *count = sizeof methods / sizeof methods[0];
    return methods;
}

const cr_method *cr_rpc_method(const char *name)
{
    char path[128];

    snprintf(path, sizeof path, "/tfplugin6.Provider/%s", name);
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].path, path) == 0)
            return &methods[i];
    return NULL;
}
