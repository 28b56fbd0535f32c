/*
 * rpc/list_rpc.c — list resources (`terraform query`, Terraform 1.14+):
 * ValidateListResourceConfig, and ListResource, a server stream.
 *
 * Terraform reads a `list` block's results from a stream of
 * ListResource.Event, one per object found: its identity (required: a list
 * resource's type must have an identity schema), a display name, the whole
 * object when the block asks for it (include_resource, or config
 * generation), and diagnostics. It stops reading at the block's limit and
 * cancels the call (internal/plugin6/grpc_provider.go ListResource).
 *
 * The stream is a producer of the plugin server (plugin/server.h): one
 * event is built only when the one before has been sent, from the
 * resource's listing cursor (resource/resource.h, list_open/list_next),
 * which reads the routing map a page at a time. So a map of any size is
 * listed in the memory of one page and one event, a slow reader slows the
 * listing down, and a cancelled call (the limit reached, Terraform gone)
 * or StopProvider ends it between two events.
 *
 * Failures are events with error diagnostics (Terraform stops at the first
 * error), and the stream still ends with status OK; a non-OK status is for
 * protocol faults only.
 *
 * Calls handler.c, identity_rpc.c, plan_check.c and the translators. May
 * include: rpc/internal.h, common/log.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "rpc/internal.h"

/* A resource type that has a list, or NULL with an error. */
static const cr_resource_type *find_list_type(const char *rpc,
                                              const char *type_name,
                                              cr_diags *diags)
{
    const char *tn = type_name ? type_name : "";
    const cr_resource_type *rt = cr_resource_find(tn);

    cr_log_kv(CR_LOG_TRACE, CR_RPC_LOG, "received", "tf_rpc", rpc,
              "tf_resource_type", tn, NULL);
    if (rt == NULL || rt->list_schema == NULL) {
        cr_diags_error(diags, NULL, "Unknown list resource type",
                       "The cellrouter provider has no list resource type "
                       "\"%s\".", tn);
        return NULL;
    }
    return rt;
}

/* ---- ValidateListResourceConfig ------------------------------------------ */

/* The config alone: Terraform sends neither include_resource_object nor
 * limit here (grpc_provider.go ValidateListResourceConfig), and checks
 * those itself. */
int cr_rpc_validate_list_resource_config(cr_call *call,
                                         const ProtobufCMessage *request,
                                         ProtobufCMessage **response,
                                         const char **message)
{
    static const char rpc[] = "ValidateListResourceConfig";
    const Tfplugin6__ValidateListResourceConfig__Request *req =
        (const void *)request;
    cr_diags diags = CR_DIAGS_INIT;

    if (!cr_rpc_request_is(
            request,
            &tfplugin6__validate_list_resource_config__request__descriptor,
            message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    Tfplugin6__ValidateListResourceConfig__Response *r = cr_rpc_msg_new(
        call, &tfplugin6__validate_list_resource_config__response__descriptor);
    if (r == NULL)
        return cr_rpc_oom(message);
    const cr_resource_type *rt = find_list_type(rpc, req->type_name, &diags);
    const cr_type *t = cr_rpc_type_of(rt ? rt->list_schema : NULL, &diags);
    if (t != NULL) {
        cr_value *config = cr_rpc_dv_decode(req->config, t,
                                            "list configuration", &diags);
        cr_resource_list_validate(rt, config, &diags);
        cr_value_free(config);
    }
    return cr_rpc_finish(call, rpc, req->type_name, false, &diags,
                         &r->diagnostics, &r->n_diagnostics, &r->base,
                         response, message);
}

/* ---- ListResource -------------------------------------------------------- */

typedef struct list_stream {
    cr_rpc_provider *p;
    const cr_resource_type *rt;
    const cr_type *type;        /* the resource's value type */
    void *cursor;               /* the resource's listing, or NULL */
    cr_diags pending;           /* to send before anything else */
    bool include;               /* send the objects */
    int64_t limit;              /* > 0: send no more than this */
    int64_t sent;
    bool done;
    char type_name[128];        /* for the log */
} list_stream;

static int list_start(cr_call *call, const ProtobufCMessage *request,
                      void **state, const char **message)
{
    static const char rpc[] = "ListResource";
    const Tfplugin6__ListResource__Request *req = (const void *)request;

    if (!cr_rpc_request_is(request, &tfplugin6__list_resource__request__descriptor,
                           message))
        return GRPC_STATUS_INVALID_ARGUMENT;
    list_stream *ls = calloc(1, sizeof *ls);
    if (ls == NULL)
        return cr_rpc_oom(message);
    *state = ls;
    ls->p = cr_call_ctx(call);
    ls->pending = (cr_diags)CR_DIAGS_INIT;
    ls->include = req->include_resource_object;
    ls->limit = req->limit;
    snprintf(ls->type_name, sizeof ls->type_name, "%s",
             req->type_name ? req->type_name : "");

    cr_diags *d = &ls->pending;
    ls->rt = find_list_type(rpc, req->type_name, d);
    const cr_type *ct = cr_rpc_type_of(ls->rt ? ls->rt->list_schema : NULL, d);
    ls->type = cr_rpc_type_of(ls->rt ? ls->rt->schema : NULL, d);
    if (ct == NULL || ls->type == NULL)
        return GRPC_STATUS_OK;
    cr_value *config = cr_rpc_dv_decode(req->config, ct, "list configuration",
                                        d);
    if (config != NULL && !cr_value_is_wholly_known(config)) {
        /* Terraform lists only with a known configuration. */
        cr_diags_error(d, NULL, "Invalid list configuration", "%s",
                       "The list block's configuration is not known yet.");
    } else if (config != NULL) {
        cr_resource_list_validate(ls->rt, config, d);
    }
    if (config != NULL && !cr_diags_has_error(d)) {
        cr_list_req lreq = { .config = config, .include_resource = ls->include,
                             .limit = ls->limit };
        cr_rpc_state_enter(ls->p);
        ls->cursor = cr_resource_list_open(ls->rt, &ls->p->state, &lreq, d);
        cr_rpc_state_leave(ls->p);
    }
    cr_value_free(config);
    return GRPC_STATUS_OK;
}

/* An event holding `d`'s diagnostics (moved out of it). */
static int diag_event(cr_call *call, list_stream *ls, cr_diags *d,
                      ProtobufCMessage **msg, const char **message)
{
    Tfplugin6__ListResource__Event *ev = cr_rpc_msg_new(
        call, &tfplugin6__list_resource__event__descriptor);
    int rc = ev ? cr_rpc_diags_to_pb(call, d, &ev->diagnostic,
                                     &ev->n_diagnostic) : -1;
    if (cr_diags_has_error(d))
        ls->done = true;
    cr_rpc_log_done("ListResource", ls->type_name, d);
    cr_diags_free(d);
    if (rc != 0)
        return cr_rpc_oom(message);
    *msg = &ev->base;
    return GRPC_STATUS_OK;
}

static int list_next(cr_call *call, void *state, ProtobufCMessage **msg,
                     const char **message)
{
    list_stream *ls = state;
    cr_diags d = CR_DIAGS_INIT;
    cr_list_item item = {0};

    if (ls->pending.len > 0)
        return diag_event(call, ls, &ls->pending, msg, message);
    if (ls->done || ls->cursor == NULL ||
        (ls->limit > 0 && ls->sent >= ls->limit))
        return GRPC_STATUS_OK;              /* the end */

    cr_rpc_state_enter(ls->p);
    int more = cr_resource_list_next(ls->rt, &ls->p->state, ls->cursor,
                                     &item, &d);
    cr_rpc_state_leave(ls->p);
    if (!more) {
        ls->done = true;
        if (d.len > 0)
            return diag_event(call, ls, &d, msg, message);
        return GRPC_STATUS_OK;
    }
    /* Terraform decodes the object as the resource's type and stores it
     * in the query's results; a resource bug is an error here instead. */
    cr_path path = {0};
    if (!cr_value_is_wholly_known(item.object))
        cr_diags_error(&d, NULL, "Provider returned an invalid object", "%s",
                       "A listed object has unknown values. This is a bug "
                       "in the provider; please report it.");
    else
        cr_rpc_check_conforms(item.object, ls->type, &path,
                              "Provider returned an invalid object", &d);
    cr_path_free(&path);
    if (cr_diags_has_error(&d)) {
        cr_list_item_clear(&item);
        return diag_event(call, ls, &d, msg, message);
    }

    Tfplugin6__ListResource__Event *ev = cr_rpc_msg_new(
        call, &tfplugin6__list_resource__event__descriptor);
    bool nomem = ev == NULL ||
        cr_rpc_identity_to_pb(call, ls->rt, item.object, CR_RPC_ID_LIST,
                              &ev->identity) != 0 ||
        (ev->display_name = cr_call_strdup(
             call, item.display_name ? item.display_name : "")) == NULL ||
        (ls->include &&
         (ev->resource_object = cr_rpc_dv_encode(call, item.object)) == NULL);
    cr_list_item_clear(&item);
    cr_diags_free(&d);
    if (nomem)
        return cr_rpc_oom(message);
    ls->sent++;
    *msg = &ev->base;
    return GRPC_STATUS_OK;
}

static void list_end(void *state, cr_stream_end why)
{
    list_stream *ls = state;
    if (ls == NULL)
        return;
    if (ls->rt != NULL)
        cr_resource_list_close(ls->rt, ls->cursor);
    char sent[32];
    snprintf(sent, sizeof sent, "%lld", (long long)ls->sent);
    cr_log_kv(CR_LOG_DEBUG, CR_RPC_LOG, "listed", "tf_rpc", "ListResource",
              "tf_resource_type", ls->type_name, "events", sent, "ended",
              why == CR_STREAM_DONE ? "done"
              : why == CR_STREAM_CANCELLED ? "cancelled by Terraform"
              : "provider shutting down", NULL);
    cr_diags_free(&ls->pending);
    free(ls);
}

const cr_stream_producer cr_rpc_list_resource = {
    list_start, list_next, list_end,
};
