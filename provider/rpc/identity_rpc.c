/*
 * rpc/identity_rpc.c — resource identity (Terraform 1.12+): the
 * GetResourceIdentitySchemas and UpgradeResourceIdentity RPCs, and the
 * identity every managed-resource and list answer carries.
 *
 * Terraform >= 1.12 calls GetResourceIdentitySchemas inside every
 * GetProviderSchema (internal/plugin6/grpc_provider.go): an error there,
 * or an error diagnostic, fails the whole schema and so every command. It
 * is therefore answered from the resource types alone, never with an error:
 * an identity schema Terraform would refuse is reported by GetProviderSchema
 * (schema_pb.c, cr_rpc_identity_schema_check), like every other schema
 * mistake, and left out here. Clients before 1.12 never call it and skip
 * the identity fields of the other answers (unknown protobuf fields).
 *
 * An identity is taken from the object it belongs to (resource/resource.h,
 * cr_resource_identity), so Read, Plan, Apply, Import and List answer it
 * the same way for every resource that has an identity schema.
 *
 * Built with -DCR_TEST_BREAK_IDENTITY (tests/e2e only, never a release), the
 * environment variable CR_TEST_BREAK_IDENTITY makes these answers wrong on
 * purpose, so the end-to-end tests can show that the harness's identity
 * checks fail where Terraform's would (see break_identity below).
 *
 * Calls handler.c and the translators. May include: rpc/internal.h,
 * common/log.h.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "rpc/internal.h"

/* ---- deliberately broken identities (test builds only) ------------------- */

#ifdef CR_TEST_BREAK_IDENTITY
/* The fault asked for by CR_TEST_BREAK_IDENTITY, if it is `want`:
 *   schema-error   GetResourceIdentitySchemas answers an error diagnostic
 *   changed        ReadResource answers another tenant's identity
 *   unknown        ApplyResourceChange answers an unknown identity
 *   no-import      ImportResourceState answers no identity
 *   list-none      ListResource events carry no identity */
static bool broken(const char *want)
{
    const char *f = getenv("CR_TEST_BREAK_IDENTITY");
    return f != NULL && strcmp(f, want) == 0;
}

/* Spoils identity `v` (owned) for `use` when the fault says so. */
static cr_value *break_identity(cr_value *v, cr_rpc_identity_use use)
{
    if (v == NULL || v->kind != CR_OBJECT || v->u.coll.len == 0)
        return v;
    const cr_type *t = v->type->attrs[0].type;
    const char *name = v->type->attrs[0].name;
    if ((use == CR_RPC_ID_READ && broken("changed")) ||
        (use == CR_RPC_ID_APPLY && broken("unknown"))) {
        cr_value *x = use == CR_RPC_ID_READ
                          ? cr_value_string("someone-else")
                          : cr_value_unknown(t);
        if (x == NULL || cr_value_object_set(v, name, x) != 0) {
            cr_value_free(v);
            return NULL;
        }
    } else if ((use == CR_RPC_ID_IMPORT && broken("no-import")) ||
               (use == CR_RPC_ID_LIST && broken("list-none"))) {
        cr_value_free(v);
        return NULL;
    }
    return v;
}
#else
#define broken(want) false
#define break_identity(v, use) ((void)(use), (v))
#endif

/* ---- identities in answers ------------------------------------------------ */

int cr_rpc_identity_to_pb(cr_call *call, const cr_resource_type *rt,
                          const cr_value *object, cr_rpc_identity_use use,
                          Tfplugin6__ResourceIdentityData **out)
{
    cr_value *id = NULL;
    *out = NULL;
    if (rt == NULL || cr_resource_identity(rt, object, &id) != 0)
        return rt == NULL ? 0 : -1;
    id = break_identity(id, use);
    if (id == NULL)
        return 0;
    Tfplugin6__ResourceIdentityData *d = cr_rpc_msg_new(
        call, &tfplugin6__resource_identity_data__descriptor);
    if (d != NULL)
        d->identity_data = cr_rpc_dv_encode(call, id);
    cr_value_free(id);
    if (d == NULL || d->identity_data == NULL)
        return -1;
    *out = d;
    return 0;
}

cr_value *cr_rpc_identity_decode(const cr_resource_type *rt,
                                 const Tfplugin6__ResourceIdentityData *d,
                                 cr_diags *diags)
{
    if (d == NULL || d->identity_data == NULL)
        return NULL;
    if (rt->identity_schema == NULL) {
        cr_diags_error(diags, NULL, "Resource Identity Not Supported",
                       "The %s resource has no identity.", rt->type_name);
        return NULL;
    }
    const cr_type *t = cr_rpc_type_of(rt->identity_schema, diags);
    return t ? cr_rpc_dv_decode(d->identity_data, t, "identity", diags)
             : NULL;
}

/* ---- GetResourceIdentitySchemas ------------------------------------------ */

static Tfplugin6__ResourceIdentitySchema *identity_schema_to_pb(
    cr_call *call, const cr_schema *is)
{
    Tfplugin6__ResourceIdentitySchema *ps = cr_rpc_msg_new(
        call, &tfplugin6__resource_identity_schema__descriptor);
    if (ps == NULL)
        return NULL;
    ps->version = is->version;
    ps->identity_attributes = cr_call_alloc(
        call, (is->nattrs ? is->nattrs : 1) * sizeof *ps->identity_attributes);
    if (ps->identity_attributes == NULL)
        return NULL;
    for (size_t i = 0; i < is->nattrs; i++) {
        const cr_attr_schema *a = &is->attrs[i];
        Tfplugin6__ResourceIdentitySchema__IdentityAttribute *pa =
            cr_rpc_msg_new(call,
                &tfplugin6__resource_identity_schema__identity_attribute__descriptor);
        char *json = cr_type_to_json(a->type);
        cr_call_adopt(call, json);
        if (pa == NULL || json == NULL ||
            (pa->name = cr_call_strdup(call, a->name)) == NULL ||
            (pa->description = cr_call_strdup(
                 call, a->description ? a->description : "")) == NULL)
            return NULL;
        pa->type.data = (uint8_t *)json;
        pa->type.len = strlen(json);
        pa->required_for_import = (a->flags & CR_ATTR_REQUIRED) != 0;
        pa->optional_for_import = (a->flags & CR_ATTR_OPTIONAL) != 0;
        ps->identity_attributes[ps->n_identity_attributes++] = pa;
    }
    return ps;
}

int cr_rpc_get_resource_identity_schemas(cr_call *call,
                                         const ProtobufCMessage *request,
                                         ProtobufCMessage **response,
                                         const char **message)
{
    size_t nres = 0;
    const cr_resource_type *const *res = cr_resources(&nres);

    if (!cr_rpc_request_is(
            request,
            &tfplugin6__get_resource_identity_schemas__request__descriptor,
            message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    cr_log_trace(CR_RPC_LOG, "GetResourceIdentitySchemas");
    Tfplugin6__GetResourceIdentitySchemas__Response *r = cr_rpc_msg_new(
        call, &tfplugin6__get_resource_identity_schemas__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);
    if (broken("schema-error")) {
        cr_diags d = CR_DIAGS_INIT;
        cr_diags_error(&d, NULL, "Broken on purpose",
                       "CR_TEST_BREAK_IDENTITY=schema-error");
        int rc = cr_rpc_diags_to_pb(call, &d, &r->diagnostics,
                                    &r->n_diagnostics);
        cr_diags_free(&d);
        if (rc != 0)
            return cr_rpc_oom(message);
        *response = &r->base;
        return GRPC_STATUS_OK;
    }
    r->identity_schemas = cr_call_alloc(
        call, (nres ? nres : 1) * sizeof *r->identity_schemas);
    if (r->identity_schemas == NULL)
        return cr_rpc_oom(message);
    for (size_t i = 0; i < nres; i++) {
        const cr_schema *is = res[i]->identity_schema;
        cr_diags bad = CR_DIAGS_INIT;
        if (is == NULL)
            continue;
        /* Never an error here: GetProviderSchema reports it. */
        cr_rpc_identity_schema_check(res[i], &bad);
        bool ok = !cr_diags_has_error(&bad);
        cr_diags_free(&bad);
        if (!ok) {
            cr_log_error(CR_RPC_LOG, "identity schema of %s left out: "
                         "Terraform would refuse it", res[i]->type_name);
            continue;
        }
        Tfplugin6__GetResourceIdentitySchemas__Response__IdentitySchemasEntry
            *e = cr_rpc_msg_new(call,
                &tfplugin6__get_resource_identity_schemas__response__identity_schemas_entry__descriptor);
        if (e == NULL ||
            (e->key = cr_call_strdup(call, res[i]->type_name)) == NULL ||
            (e->value = identity_schema_to_pb(call, is)) == NULL)
            return cr_rpc_oom(message);
        r->identity_schemas[r->n_identity_schemas++] = e;
    }
    *response = &r->base;
    return GRPC_STATUS_OK;
}

/* ---- UpgradeResourceIdentity --------------------------------------------- */

/* Every identity is at its first version (0): a stored identity of that
 * version is read as it is; any other version is refused, as a state of a
 * version the provider does not know is. A stored identity that is absent
 * stays absent. */
int cr_rpc_upgrade_resource_identity(cr_call *call,
                                     const ProtobufCMessage *request,
                                     ProtobufCMessage **response,
                                     const char **message)
{
    static const char rpc[] = "UpgradeResourceIdentity";
    const Tfplugin6__UpgradeResourceIdentity__Request *req =
        (const void *)request;
    cr_diags diags = CR_DIAGS_INIT;

    if (!cr_rpc_request_is(
            request,
            &tfplugin6__upgrade_resource_identity__request__descriptor,
            message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    Tfplugin6__UpgradeResourceIdentity__Response *r = cr_rpc_msg_new(
        call, &tfplugin6__upgrade_resource_identity__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);

    const char *tn = req->type_name ? req->type_name : "";
    const cr_resource_type *rt = cr_resource_find(tn);
    const cr_schema *is = rt ? rt->identity_schema : NULL;
    const Tfplugin6__RawState *raw = req->raw_identity;
    if (rt == NULL) {
        cr_diags_error(&diags, NULL, "Unknown resource type",
                       "The cellrouter provider has no resource type \"%s\".",
                       tn);
    } else if (is == NULL) {
        cr_diags_error(&diags, NULL, "Resource Identity Not Supported",
                       "The %s resource has no identity to upgrade.", tn);
    } else if (req->version != is->version) {
        cr_diags_error(&diags, NULL, "Cannot upgrade resource identity",
                       "The stored identity of this %s has version %lld, "
                       "but this provider knows version %lld only%s.", tn,
                       (long long)req->version, (long long)is->version,
                       req->version > is->version
                           ? ": it was written by a newer version of the "
                             "provider. Upgrade the provider" : "");
    } else if (raw != NULL && raw->json.len > 0) {
        const cr_type *t = cr_rpc_type_of(is, &diags);
        cr_value *v = t ? cr_value_decode_json((const char *)raw->json.data,
                                               raw->json.len, t, &diags)
                        : NULL;
        if (v != NULL && v->kind != CR_NULL) {
            Tfplugin6__ResourceIdentityData *d = cr_rpc_msg_new(
                call, &tfplugin6__resource_identity_data__descriptor);
            if (d == NULL || (d->identity_data = cr_rpc_dv_encode(call, v))
                                 == NULL) {
                cr_value_free(v);
                cr_diags_free(&diags);
                return cr_rpc_oom(message);
            }
            r->upgraded_identity = d;
        }
        cr_value_free(v);
    }
    return cr_rpc_finish(call, rpc, tn, false, &diags, &r->diagnostics,
                         &r->n_diagnostics, &r->base, response, message);
}
