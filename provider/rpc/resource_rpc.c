/*
 * rpc/resource_rpc.c — the managed-resource RPCs of tfplugin6.Provider:
 * ValidateResourceConfig, UpgradeResourceState, ReadResource,
 * PlanResourceChange, ApplyResourceChange and ImportResourceState.
 *
 * Each handler does the protocol work around one step of the resource
 * framework (resource/resource.h: cr_resource_plan, ...): find the resource
 * type, decode the request's values against the schema's type, run the
 * step, check the answer against Terraform's rules (plan_check.c), encode
 * it and translate the diagnostics. A resource therefore only deals in
 * cr_values; a bug in one becomes an error diagnostic naming the attribute
 * instead of Terraform's "Provider produced invalid plan". Private state
 * is echoed unless the resource answers its own (cr_private `set`).
 * Identities (Terraform 1.12+) are taken from the objects answered
 * (identity_rpc.c).
 *
 * Every failure is a diagnostic with status OK. Values are never logged
 * (they may be sensitive); type names and RPC names are.
 *
 * Calls handler.c, plan_check.c, the translators and the resource
 * framework. May include: rpc/internal.h, common/log.h, jansson.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "common/log.h"
#include "rpc/internal.h"

/* ---- common shape of a handler ------------------------------------------- */

static const cr_resource_type *find_type(const char *rpc,
                                         const char *type_name,
                                         cr_diags *diags)
{
    const cr_resource_type *rt = cr_resource_find(type_name ? type_name : "");

    cr_log_kv(CR_LOG_TRACE, CR_RPC_LOG, "received", "tf_rpc", rpc,
              "tf_resource_type", type_name ? type_name : "", NULL);
    if (rt == NULL)
        cr_diags_error(diags, NULL, "Unknown resource type",
                       "The cellrouter provider has no resource type \"%s\".",
                       type_name ? type_name : "");
    return rt;
}

/* A value the resource hands back as state must be a known object of the
 * schema's type: anything else would be stored by Terraform as garbage. */
static bool state_ok(const cr_value *v, const cr_type *t, const char *summary,
                     cr_diags *diags)
{
    cr_diags local = CR_DIAGS_INIT;
    cr_path path = {0};

    if (v == NULL || v->kind == CR_NULL)
        return true;
    if (!cr_value_is_wholly_known(v))
        cr_diags_error(&local, NULL, summary, "%s",
                       "The provider returned a state with unknown values. "
                       "This is a bug in the provider; please report it.");
    else
        cr_rpc_check_conforms(v, t, &path, summary, &local);
    cr_path_free(&path);
    bool ok = !cr_diags_has_error(&local);
    cr_diags_move(diags, &local);
    return ok;
}

/* A state Terraform sends (prior, current) is null or a wholly known
 * object; anything else cannot come from Terraform and is refused before
 * the resource sees it. Frees and NULLs *v when refused. */
static void require_state(cr_value **v, const char *what, cr_diags *diags)
{
    if (*v == NULL || (*v)->kind == CR_NULL)
        return;
    if ((*v)->kind == CR_OBJECT && cr_value_is_wholly_known(*v))
        return;
    cr_diags_error(diags, NULL, "Invalid value from Terraform",
                   "The %s sent by Terraform is not a known object.", what);
    cr_value_free(*v);
    *v = NULL;
}

/* A configuration, proposed or planned object may hold unknowns, but is
 * itself an object (or null for a destroy). */
static void require_object(cr_value **v, const char *what, cr_diags *diags)
{
    if (*v == NULL || (*v)->kind == CR_NULL || (*v)->kind == CR_OBJECT)
        return;
    cr_diags_error(diags, NULL, "Invalid value from Terraform",
                   "The %s sent by Terraform is not an object.", what);
    cr_value_free(*v);
    *v = NULL;
}

/* A request's private bytes, as the resource framework reads them. */
static cr_bytes private_in(const ProtobufCBinaryData *b)
{
    return (cr_bytes){ b->len ? b->data : NULL, b->len };
}

/* The resource's private state, when it set one, replaces the echoed
 * request bytes in `out` (the call's arena adopts them). */
static void private_out(cr_call *call, cr_private *priv,
                        ProtobufCBinaryData *out)
{
    if (!priv->set)
        return;
    out->data = priv->len ? priv->data : NULL;
    out->len = priv->len;
    if (priv->data && priv->len)
        cr_call_adopt(call, priv->data);
    else
        free(priv->data);
    memset(priv, 0, sizeof *priv);
}

/* ---- ValidateResourceConfig ---------------------------------------------- */

int cr_rpc_validate_resource_config(cr_call *call,
                                    const ProtobufCMessage *request,
                                    ProtobufCMessage **response,
                                    const char **message)
{
    static const char rpc[] = "ValidateResourceConfig";
    const Tfplugin6__ValidateResourceConfig__Request *req =
        (const void *)request;
    cr_diags diags = CR_DIAGS_INIT;

    if (!cr_rpc_request_is(
            request, &tfplugin6__validate_resource_config__request__descriptor,
            message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    Tfplugin6__ValidateResourceConfig__Response *r = cr_rpc_msg_new(
        call, &tfplugin6__validate_resource_config__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);

    const cr_resource_type *rt = find_type(rpc, req->type_name, &diags);
    if (rt != NULL) {
        const cr_type *t = cr_rpc_type_of(rt->schema, &diags);
        cr_value *config = t ? cr_rpc_dv_decode(req->config, t,
                                                "resource configuration",
                                                &diags)
                             : NULL;
        /* A wholly unknown config (e.g. from a module not yet applied) has
         * nothing to validate yet; unknowns inside are the resource's to
         * tolerate. */
        if (config != NULL)
            cr_resource_validate(rt, config, &diags);
        cr_value_free(config);
    }
    return cr_rpc_finish(call, rpc, req->type_name, false, &diags,
                         &r->diagnostics, &r->n_diagnostics, &r->base,
                         response, message);
}

/* ---- UpgradeResourceState ------------------------------------------------ */

/* Runs the resource's upgraders on a parsed state, from `version` up to the
 * schema's version. False (with diagnostics) when one is missing or fails. */
static bool run_upgraders(const cr_resource_type *rt, json_t *state,
                          int64_t version, cr_diags *diags)
{
    for (int64_t v = version; v < rt->schema->version; v++) {
        const cr_state_upgrader *u = NULL;
        for (size_t i = 0; i < rt->nupgraders; i++)
            if (rt->upgraders[i].from_version == v)
                u = &rt->upgraders[i];
        if (u == NULL || u->upgrade == NULL) {
            cr_diags_error(diags, NULL, "Cannot upgrade resource state",
                           "The provider has no upgrade for %s state of "
                           "schema version %lld. This is a bug in the "
                           "provider; please report it.",
                           rt->type_name, (long long)v);
            return false;
        }
        cr_diags local = CR_DIAGS_INIT;
        int rc = u->upgrade(state, &local);
        bool failed = rc != 0 || cr_diags_has_error(&local);
        if (failed && !cr_diags_has_error(&local))
            cr_diags_error(&local, NULL, "Cannot upgrade resource state",
                           "Upgrading %s state from schema version %lld "
                           "failed.", rt->type_name, (long long)v);
        cr_diags_move(diags, &local);
        if (failed)
            return false;
        cr_log_debug(CR_RPC_LOG, "upgraded %s state from version %lld",
                     rt->type_name, (long long)v);
    }
    return true;
}

/* Removes, recursively, the object attributes of `j` that type `t` does
 * not have. Returns how many were removed. */
static size_t strip_unknown_attrs(json_t *j, const cr_type *t)
{
    size_t n = 0;

    if (j == NULL || t == NULL)
        return 0;
    switch (t->kind) {
    case CR_TYPE_OBJECT: {
        const char *key;
        json_t *val;
        void *tmp;
        if (!json_is_object(j))
            return 0;
        json_object_foreach_safe(j, tmp, key, val) {
            long i = cr_type_attr_index(t, key);
            if (i < 0) {
                json_object_del(j, key);
                n++;
            } else {
                n += strip_unknown_attrs(val, t->attrs[i].type);
            }
        }
        return n;
    }
    case CR_TYPE_LIST:
    case CR_TYPE_SET:
        if (json_is_array(j))
            for (size_t i = 0; i < json_array_size(j); i++)
                n += strip_unknown_attrs(json_array_get(j, i), t->elem);
        return n;
    case CR_TYPE_MAP:
        if (json_is_object(j)) {
            const char *key;
            json_t *val;
            json_object_foreach(j, key, val)
                n += strip_unknown_attrs(val, t->elem);
        }
        return n;
    default:
        return 0;
    }
}

/* A state already at the schema's version. Terraform can keep attributes
 * a provider release removed without a version bump (as
 * terraform-plugin-framework tolerates, so do we): they are dropped. The
 * bytes are decoded as they are first, so numbers keep their exact decimal
 * text and the common case parses the (possibly tens of MB) JSON once.
 * Only when that fails is the state parsed by jansson to look for such
 * attributes; if any were dropped the state is re-serialised (exact for
 * integers, 17 digits for reals) and decoded again, otherwise the first
 * decode's diagnostics stand. */
static cr_value *current_version_state(const cr_resource_type *rt,
                                       const Tfplugin6__RawState *raw,
                                       const cr_type *t, cr_diags *diags)
{
    const char *bytes = (const char *)raw->json.data;
    cr_diags first = CR_DIAGS_INIT;
    cr_value *v = cr_value_decode_json(bytes, raw->json.len, t, &first);

    if (v != NULL) {
        cr_diags_move(diags, &first);
        return v;
    }
    /* Unparseable here (bad JSON, or an integer beyond 64 bits): the
     * codec has said what is wrong. */
    json_t *j = json_loadb(bytes, raw->json.len, JSON_DECODE_ANY, NULL);
    size_t dropped = j ? strip_unknown_attrs(j, t) : 0;
    if (dropped == 0) {
        json_decref(j);
        cr_diags_move(diags, &first);
        return NULL;
    }
    cr_diags_free(&first);
    cr_log_debug(CR_RPC_LOG, "dropped %zu attribute(s) of a %s state that "
                 "the schema no longer has", dropped, rt->type_name);
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    if (text == NULL) {
        cr_rpc_oom_diag(diags);
        return NULL;
    }
    v = cr_value_decode_json(text, strlen(text), t, diags);
    free(text);
    return v;
}

cr_value *cr_rpc_upgrade_state(const cr_resource_type *rt,
                               const Tfplugin6__RawState *raw,
                               int64_t version, const cr_type *t,
                               cr_diags *diags)
{
    if (raw == NULL || (raw->json.len == 0 && raw->n_flatmap == 0)) {
        cr_diags_error(diags, NULL, "Cannot upgrade resource state",
                       "Terraform sent no stored state for a %s instance.",
                       rt->type_name);
        return NULL;
    }
    if (raw->json.len == 0) {
        cr_diags_error(diags, NULL, "Cannot upgrade resource state",
                       "The stored state of this %s is in the flatmap form "
                       "of Terraform before 0.12: pre-0.12 state not "
                       "supported. Remove it from the state (terraform "
                       "state rm) and import it again.", rt->type_name);
        return NULL;
    }
    if (version < 0 || version > rt->schema->version) {
        cr_diags_error(diags, NULL, "Cannot upgrade resource state",
                       "The stored state of this %s has schema version "
                       "%lld, but this provider knows versions 0 to %lld: "
                       "it was written by a newer version of the provider. "
                       "Upgrade the provider.", rt->type_name,
                       (long long)version, (long long)rt->schema->version);
        return NULL;
    }
    if (version == rt->schema->version)
        return current_version_state(rt, raw, t, diags);

    json_error_t jerr;
    json_t *state = json_loadb((const char *)raw->json.data, raw->json.len,
                               JSON_REJECT_DUPLICATES, &jerr);
    if (state == NULL) {
        cr_diags_error(diags, NULL, "Invalid stored state",
                       "The stored state of this %s is not valid JSON: "
                       "%d:%d: %s", rt->type_name, jerr.line, jerr.column,
                       jerr.text);
        return NULL;
    }
    if (!json_is_object(state)) {
        json_decref(state);
        cr_diags_error(diags, NULL, "Invalid stored state",
                       "The stored state of this %s is not a JSON object.",
                       rt->type_name);
        return NULL;
    }
    cr_value *v = NULL;
    if (run_upgraders(rt, state, version, diags)) {
        char *text = json_dumps(state, JSON_COMPACT);
        if (text == NULL)
            cr_rpc_oom_diag(diags);
        else
            v = cr_value_decode_json(text, strlen(text), t, diags);
        free(text);
    }
    json_decref(state);
    return v;
}

int cr_rpc_upgrade_resource_state(cr_call *call,
                                  const ProtobufCMessage *request,
                                  ProtobufCMessage **response,
                                  const char **message)
{
    static const char rpc[] = "UpgradeResourceState";
    const Tfplugin6__UpgradeResourceState__Request *req =
        (const void *)request;
    cr_diags diags = CR_DIAGS_INIT;

    if (!cr_rpc_request_is(
            request, &tfplugin6__upgrade_resource_state__request__descriptor,
            message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    Tfplugin6__UpgradeResourceState__Response *r = cr_rpc_msg_new(
        call, &tfplugin6__upgrade_resource_state__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);

    const cr_resource_type *rt = find_type(rpc, req->type_name, &diags);
    const cr_type *t = cr_rpc_type_of(rt ? rt->schema : NULL, &diags);
    if (t != NULL) {
        cr_value *v = cr_rpc_upgrade_state(rt, req->raw_state, req->version, t,
                                    &diags);
        if (v != NULL && v->kind == CR_NULL) {
            /* A null upgraded_state drops the instance from the state
             * without a word: refuse rather than lose track of it. */
            cr_diags_error(&diags, NULL, "Invalid stored state",
                           "The stored state of this %s is null.",
                           rt->type_name);
        } else if (v != NULL &&
                   state_ok(v, t, "Invalid upgraded state", &diags)) {
            r->upgraded_state = cr_rpc_dv_encode(call, v);
            if (r->upgraded_state == NULL) {
                cr_value_free(v);
                cr_diags_free(&diags);
                return cr_rpc_oom(message);
            }
        }
        cr_value_free(v);
    }
    return cr_rpc_finish(call, rpc, req->type_name, false, &diags,
                         &r->diagnostics, &r->n_diagnostics, &r->base,
                         response, message);
}

/* ---- ReadResource -------------------------------------------------------- */

int cr_rpc_read_resource(cr_call *call, const ProtobufCMessage *request,
                         ProtobufCMessage **response, const char **message)
{
    static const char rpc[] = "ReadResource";
    const Tfplugin6__ReadResource__Request *req = (const void *)request;
    cr_rpc_provider *p = cr_call_ctx(call);
    cr_diags diags = CR_DIAGS_INIT;

    if (!cr_rpc_request_is(request,
                           &tfplugin6__read_resource__request__descriptor,
                           message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    Tfplugin6__ReadResource__Response *r =
        cr_rpc_msg_new(call, &tfplugin6__read_resource__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);
    /* An empty private in the response erases it: always echo. */
    if (cr_rpc_bytes_copy(call, &req->private_, &r->private_) != 0)
        return cr_rpc_oom(message);

    const cr_resource_type *rt = find_type(rpc, req->type_name, &diags);
    const cr_type *t = cr_rpc_type_of(rt ? rt->schema : NULL, &diags);
    if (t == NULL)
        goto out;

    cr_value *current = cr_rpc_dv_decode(req->current_state, t,
                                         "current state", &diags);
    require_state(&current, "current state", &diags);
    if (current == NULL)
        goto out;
    cr_value *fresh = NULL;
    if (current->kind != CR_NULL) {
        cr_read_req rreq = { current, private_in(&req->private_) };
        cr_read_resp rresp = { NULL, CR_DIAGS_INIT, {0} };
        cr_rpc_state_enter(p);
        cr_resource_read(rt, &p->state, &rreq, &rresp);
        cr_rpc_state_leave(p);
        fresh = rresp.new_state;
        bool failed = cr_diags_has_error(&rresp.diags);
        cr_diags_move(&diags, &rresp.diags);
        if (!state_ok(fresh, t, "Provider returned an invalid state",
                      &diags) ||
            (failed && fresh == NULL)) {
            /* Keep what Terraform had rather than dropping the object,
             * and its private state with it. */
            cr_value_free(fresh);
            fresh = current;
            current = NULL;
        } else {
            private_out(call, &rresp.priv, &r->private_);
        }
        cr_private_clear(&rresp.priv);
    }
    /* fresh == NULL: the object is gone; Terraform plans to create it. */
    r->new_state = cr_rpc_dv_encode(call, fresh);
    int idrc = cr_rpc_identity_to_pb(call, rt, fresh, CR_RPC_ID_READ,
                                     &r->new_identity);
    cr_value_free(fresh);
    cr_value_free(current);
    if (r->new_state == NULL || idrc != 0) {
        cr_diags_free(&diags);
        return cr_rpc_oom(message);
    }
out:
    return cr_rpc_finish(call, rpc, req->type_name, false, &diags,
                         &r->diagnostics, &r->n_diagnostics, &r->base,
                         response, message);
}

/* ---- PlanResourceChange and ApplyResourceChange: the shared part -------- */

/* The three values both handlers get: the prior state, the next object
 * (proposed for a plan, planned for an apply) and the configuration. */
typedef struct change_vals {
    cr_value *prior, *next, *config;
} change_vals;

/* Decodes them against `t` and applies Terraform's guarantees (a prior
 * state is null or known; the others are objects or null). False, with
 * diagnostics, when any of them cannot be used; cv is filled either way
 * and released by change_vals_free. */
static bool decode_change(const cr_type *t,
                          const Tfplugin6__DynamicValue *prior,
                          const Tfplugin6__DynamicValue *next,
                          const char *next_what,
                          const Tfplugin6__DynamicValue *config,
                          change_vals *cv, cr_diags *diags)
{
    cv->prior = cr_rpc_dv_decode(prior, t, "prior state", diags);
    cv->next = cr_rpc_dv_decode(next, t, next_what, diags);
    cv->config = cr_rpc_dv_decode(config, t, "configuration", diags);
    require_state(&cv->prior, "prior state", diags);
    require_object(&cv->next, next_what, diags);
    require_object(&cv->config, "configuration", diags);
    return cv->prior != NULL && cv->next != NULL && cv->config != NULL;
}

static void change_vals_free(change_vals *cv)
{
    cr_value_free(cv->prior);
    cr_value_free(cv->next);
    cr_value_free(cv->config);
}

/* ---- PlanResourceChange -------------------------------------------------- */

int cr_rpc_plan_resource_change(cr_call *call, const ProtobufCMessage *request,
                                ProtobufCMessage **response,
                                const char **message)
{
    static const char rpc[] = "PlanResourceChange";
    const Tfplugin6__PlanResourceChange__Request *req = (const void *)request;
    cr_rpc_provider *p = cr_call_ctx(call);
    cr_diags diags = CR_DIAGS_INIT;
    change_vals cv = {0};
    cr_plan_resp pr = {0};
    bool nomem = false;

    if (!cr_rpc_request_is(
            request, &tfplugin6__plan_resource_change__request__descriptor,
            message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    Tfplugin6__PlanResourceChange__Response *r = cr_rpc_msg_new(
        call, &tfplugin6__plan_resource_change__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);
    /* Private state is echoed unless the resource plans its own. */
    if (cr_rpc_bytes_copy(call, &req->prior_private, &r->planned_private) != 0)
        return cr_rpc_oom(message);

    const cr_resource_type *rt = find_type(rpc, req->type_name, &diags);
    const cr_type *t = cr_rpc_type_of(rt ? rt->schema : NULL, &diags);
    if (t == NULL)
        goto out;

    if (!decode_change(t, req->prior_state, req->proposed_new_state,
                       "proposed new state", req->config, &cv, &diags))
        goto out;
    const cr_value *prior = cv.prior;

    if (cv.next->kind == CR_NULL) {
        /* Destroy: the plan is null, whatever the resource would say. */
        r->planned_state = cr_rpc_dv_encode(call, NULL);
        /* The object keeps its identity until it is gone. */
        if (r->planned_state == NULL ||
            cr_rpc_identity_to_pb(call, rt, prior, CR_RPC_ID_PLAN,
                                  &r->planned_identity) != 0)
            goto oom;
        goto out;
    }

    /* The resource may adopt the proposed state as its plan; it is not
     * used after this call. */
    cr_plan_req preq = { .prior = prior, .proposed = cv.next,
                         .config = cv.config, .proposed_owner = &cv.next,
                         .priv = private_in(&req->prior_private) };
    cr_rpc_state_enter(p);
    cr_resource_plan(rt, &p->state, &preq, &pr);
    cr_rpc_state_leave(p);
    bool failed = cr_diags_has_error(&pr.diags);
    cr_diags_move(&diags, &pr.diags);
    if (failed)
        goto out;               /* Terraform ignores the plan of an error */
    if (pr.planned == NULL) {
        cr_diags_error(&diags, NULL, "Provider produced an invalid plan",
                       "The provider planned nothing for a %s that is not "
                       "being destroyed. This is a bug in the provider; "
                       "please report it.", rt->type_name);
        goto out;
    }
    cr_rpc_check_plan(rt->schema, prior, cv.config, pr.planned, &diags);
    if (cr_diags_has_error(&diags))
        goto out;

    if (cr_rpc_requires_replace(rt->schema, prior, pr.planned,
                                &pr.requires_replace,
                                &pr.nrequires_replace) != 0)
        goto oom;
    /* Replacement paths only mean something for an update; on create
     * Terraform ignores them, so we leave them out. */
    if (prior->kind != CR_NULL && pr.nrequires_replace > 0) {
        r->requires_replace = cr_call_alloc(
            call, pr.nrequires_replace * sizeof *r->requires_replace);
        if (r->requires_replace == NULL)
            goto oom;
        for (size_t i = 0; i < pr.nrequires_replace; i++) {
            r->requires_replace[i] =
                cr_rpc_path_to_pb(call, &pr.requires_replace[i]);
            if (r->requires_replace[i] == NULL)
                goto oom;
            r->n_requires_replace++;
        }
    }
    r->planned_state = cr_rpc_dv_encode(call, pr.planned);
    if (r->planned_state == NULL ||
        cr_rpc_identity_to_pb(call, rt, pr.planned, CR_RPC_ID_PLAN,
                              &r->planned_identity) != 0)
        goto oom;
    private_out(call, &pr.priv, &r->planned_private);
    r->legacy_type_system = false;
    goto out;
oom:
    nomem = true;
out:
    change_vals_free(&cv);
    cr_plan_resp_free(&pr);
    return cr_rpc_finish(call, rpc, req->type_name, nomem, &diags,
                         &r->diagnostics, &r->n_diagnostics, &r->base,
                         response, message);
}

/* ---- ApplyResourceChange ------------------------------------------------- */

int cr_rpc_apply_resource_change(cr_call *call,
                                 const ProtobufCMessage *request,
                                 ProtobufCMessage **response,
                                 const char **message)
{
    static const char rpc[] = "ApplyResourceChange";
    const Tfplugin6__ApplyResourceChange__Request *req = (const void *)request;
    cr_rpc_provider *p = cr_call_ctx(call);
    cr_diags diags = CR_DIAGS_INIT;
    change_vals cv = {0};
    cr_apply_resp ar = {0};
    bool nomem = false;

    if (!cr_rpc_request_is(
            request, &tfplugin6__apply_resource_change__request__descriptor,
            message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    Tfplugin6__ApplyResourceChange__Response *r = cr_rpc_msg_new(
        call, &tfplugin6__apply_resource_change__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);
    if (cr_rpc_bytes_copy(call, &req->planned_private, &r->private_) != 0)
        return cr_rpc_oom(message);

    const cr_resource_type *rt = find_type(rpc, req->type_name, &diags);
    const cr_type *t = cr_rpc_type_of(rt ? rt->schema : NULL, &diags);
    if (t == NULL)
        goto out;

    /* When they cannot be used nothing is done: Terraform keeps the prior
     * state. */
    if (!decode_change(t, req->prior_state, req->planned_state,
                       "planned state", req->config, &cv, &diags))
        goto out;
    const cr_value *prior = cv.prior, *planned = cv.next;

    cr_apply_req areq = { .prior = prior, .planned = planned,
                          .config = cv.config,
                          .priv = private_in(&req->planned_private) };
    cr_rpc_state_enter(p);
    cr_resource_apply(rt, &p->state, &areq, &ar);
    cr_rpc_state_leave(p);
    bool failed = cr_diags_has_error(&ar.diags);
    cr_diags_move(&diags, &ar.diags);

    cr_value *result = ar.new_state;
    ar.new_state = NULL;
    if (!failed) {
        cr_rpc_check_apply(planned, result, &diags);
    } else if (result == NULL && prior->kind != CR_NULL) {
        /* A failed update or delete with no word on the object: it is
         * still what it was. */
        result = cr_value_copy(prior);
        if (result == NULL)
            goto oom;
    }
    /* Whatever happened, answer a state Terraform can store: a known
     * object of our type, else the prior state. */
    if (!state_ok(result, t, "Provider returned an invalid state", &diags)) {
        cr_value_free(result);
        result = prior->kind != CR_NULL ? cr_value_copy(prior) : NULL;
        if (result == NULL && prior->kind != CR_NULL)
            goto oom;
    } else {
        private_out(call, &ar.priv, &r->private_);
    }
    r->new_state = cr_rpc_dv_encode(call, result);
    int idrc = cr_rpc_identity_to_pb(call, rt, result, CR_RPC_ID_APPLY,
                                     &r->new_identity);
    cr_value_free(result);
    if (r->new_state == NULL || idrc != 0)
        goto oom;
    r->legacy_type_system = false;
    goto out;
oom:
    nomem = true;
out:
    change_vals_free(&cv);
    cr_value_free(ar.new_state);
    cr_diags_free(&ar.diags);
    cr_private_clear(&ar.priv);
    return cr_rpc_finish(call, rpc, req->type_name, nomem, &diags,
                         &r->diagnostics, &r->n_diagnostics, &r->base,
                         response, message);
}

/* ---- ImportResourceState ------------------------------------------------- */

int cr_rpc_import_resource_state(cr_call *call,
                                 const ProtobufCMessage *request,
                                 ProtobufCMessage **response,
                                 const char **message)
{
    static const char rpc[] = "ImportResourceState";
    const Tfplugin6__ImportResourceState__Request *req =
        (const void *)request;
    cr_rpc_provider *p = cr_call_ctx(call);
    cr_diags diags = CR_DIAGS_INIT;

    if (!cr_rpc_request_is(
            request, &tfplugin6__import_resource_state__request__descriptor,
            message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    Tfplugin6__ImportResourceState__Response *r = cr_rpc_msg_new(
        call, &tfplugin6__import_resource_state__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);

    const cr_resource_type *rt = find_type(rpc, req->type_name, &diags);
    const cr_type *t = cr_rpc_type_of(rt ? rt->schema : NULL, &diags);
    if (t == NULL)
        goto out;
    if (req->id != NULL && *req->id)
        cr_log_kv(CR_LOG_DEBUG, CR_RPC_LOG, "importing", "tf_resource_type",
                  rt->type_name, "id", req->id, NULL);

    /* Terraform 1.12+ imports by identity with `id` empty. */
    cr_value *identity = cr_rpc_identity_decode(rt, req->identity, &diags);
    if (cr_diags_has_error(&diags)) {
        cr_value_free(identity);
        goto out;
    }
    cr_import_req ireq = { .id = req->id ? req->id : "",
                           .identity = identity };
    cr_import_resp iresp = { NULL, CR_DIAGS_INIT, {0} };
    cr_rpc_state_enter(p);
    cr_resource_import(rt, &p->state, &ireq, &iresp);
    cr_rpc_state_leave(p);
    cr_value_free(identity);
    cr_value *state = iresp.state;
    bool failed = cr_diags_has_error(&iresp.diags);
    cr_diags_move(&diags, &iresp.diags);
    if (failed) {
        cr_value_free(state);
        cr_private_clear(&iresp.priv);
        goto out;
    }
    /* Terraform needs exactly one object, not null, without unknowns:
     * ReadResource, called next, fills it in. */
    if (state == NULL || state->kind == CR_NULL) {
        cr_diags_error(&diags, NULL, "Import returned no resources",
                       "The provider imported nothing for id \"%s\". This "
                       "is a bug in the provider; please report it.",
                       req->id ? req->id : "");
        cr_value_free(state);
        cr_private_clear(&iresp.priv);
        goto out;
    }
    if (!state_ok(state, t, "Provider returned an invalid imported state",
                  &diags)) {
        cr_value_free(state);
        cr_private_clear(&iresp.priv);
        goto out;
    }
    Tfplugin6__ImportResourceState__ImportedResource *ir = cr_rpc_msg_new(
        call, &tfplugin6__import_resource_state__imported_resource__descriptor);
    r->imported_resources = cr_call_alloc(call, sizeof *r->imported_resources);
    if (ir == NULL || r->imported_resources == NULL ||
        (ir->type_name = cr_call_strdup(call, rt->type_name)) == NULL ||
        (ir->state = cr_rpc_dv_encode(call, state)) == NULL ||
        cr_rpc_identity_to_pb(call, rt, state, CR_RPC_ID_IMPORT,
                              &ir->identity) != 0) {
        cr_value_free(state);
        cr_private_clear(&iresp.priv);
        cr_diags_free(&diags);
        return cr_rpc_oom(message);
    }
    private_out(call, &iresp.priv, &ir->private_);
    cr_value_free(state);
    r->imported_resources[0] = ir;
    r->n_imported_resources = 1;
out:
    return cr_rpc_finish(call, rpc, req->type_name, false, &diags,
                         &r->diagnostics, &r->n_diagnostics, &r->base,
                         response, message);
}
