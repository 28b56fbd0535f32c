/*
 * rpc/handler.c — what every tfplugin6 handler shares: checking the request
 * type, the answer for running out of memory, the schema's value type, the
 * lock around a call into the resource layer, and the common tail that
 * turns diagnostics into the response and logs the outcome.
 *
 * Handlers (provider.c, resource_rpc.c, data_source_rpc.c) call this file;
 * it calls only the translators below it (diag_pb.c).
 * May include: rpc/internal.h, common/log.h.
 */
#include <stdio.h>

#include "common/log.h"
#include "rpc/internal.h"

bool cr_rpc_request_is(const ProtobufCMessage *req,
                       const ProtobufCMessageDescriptor *d,
                       const char **message)
{
    if (req != NULL && req->descriptor == d)
        return true;
    *message = "request message of the wrong type for this method";
    cr_log_error(CR_RPC_LOG, "request is not a %s", d->name);
    return false;
}

int cr_rpc_oom(const char **message)
{
    *message = "out of memory";
    cr_log_error(CR_RPC_LOG, "out of memory while building a response");
    return GRPC_STATUS_RESOURCE_EXHAUSTED;
}

void cr_rpc_log_done(const char *rpc, const char *type_name,
                     const cr_diags *d)
{
    size_t nerr = 0, nwarn = 0;

    if (!cr_log_enabled(CR_LOG_DEBUG))
        return;
    for (size_t i = 0; d != NULL && i < d->len; i++) {
        if (d->items[i].severity == CR_DIAG_WARNING) {
            nwarn++;
        } else {
            nerr++;
            /* Summaries are fixed texts chosen by the provider; details
             * and values stay out of the log. */
            const char *summary = d->items[i].summary ? d->items[i].summary
                                                       : "";
            if (type_name != NULL)
                cr_log_kv(CR_LOG_DEBUG, CR_RPC_LOG, "error diagnostic",
                          "tf_rpc", rpc, "tf_resource_type", type_name,
                          "summary", summary, NULL);
            else
                cr_log_kv(CR_LOG_DEBUG, CR_RPC_LOG, "error diagnostic",
                          "tf_rpc", rpc, "summary", summary, NULL);
        }
    }
    char counts[64];
    snprintf(counts, sizeof counts, "%zu error(s), %zu warning(s)", nerr, nwarn);
    if (type_name != NULL)
        cr_log_kv(CR_LOG_DEBUG, CR_RPC_LOG, "served", "tf_rpc", rpc,
                  "tf_resource_type", type_name, "diagnostics", counts, NULL);
    else
        cr_log_kv(CR_LOG_DEBUG, CR_RPC_LOG, "served", "tf_rpc", rpc,
                  "diagnostics", counts, NULL);
}

void cr_rpc_oom_diag(cr_diags *diags)
{
    cr_diags_error(diags, NULL, "Out of memory", "%s",
                   "The provider ran out of memory.");
}

const cr_type *cr_rpc_type_of(const cr_schema *s, cr_diags *diags)
{
    if (s == NULL)
        return NULL;
    const cr_type *t = cr_schema_type(s);
    if (t == NULL)
        cr_rpc_oom_diag(diags);
    return t;
}

int cr_rpc_finish(cr_call *call, const char *rpc, const char *type_name,
                  bool nomem, cr_diags *diags, Tfplugin6__Diagnostic ***field,
                  size_t *nfield, ProtobufCMessage *resp,
                  ProtobufCMessage **response, const char **message)
{
    if (nomem) {
        cr_diags_free(diags);
        return cr_rpc_oom(message);
    }
    int rc = cr_rpc_diags_to_pb(call, diags, field, nfield);

    cr_rpc_log_done(rpc, type_name, diags);
    cr_diags_free(diags);
    if (rc != 0)
        return cr_rpc_oom(message);
    *response = resp;
    return GRPC_STATUS_OK;
}

void cr_rpc_state_enter(cr_rpc_provider *p)
{
    pthread_rwlock_rdlock(&p->state_lock);
}

void cr_rpc_state_leave(cr_rpc_provider *p)
{
    pthread_rwlock_unlock(&p->state_lock);
}
