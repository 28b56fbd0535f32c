/*
 * rpc/internal.h — what the files of rpc/ share with each other and with
 * nobody else (but the unit tests and the benchmark): the provider
 * instance, the handlers' shared helpers, Terraform's plan rules, and the
 * handlers themselves. The translators at the bottom are in rpc/pb.h.
 *
 * Files, each calling only those below it:
 *   provider.c         the instance, the method table, the provider-level
 *                      RPCs (calls every file below)
 *   resource_rpc.c     the managed-resource RPCs around the resource
 *                      framework (resource/resource.h)
 *   list_rpc.c         the list-resource RPCs (`terraform query`): the
 *                      ListResource stream, ValidateListResourceConfig
 *   identity_rpc.c     resource identity: its RPCs, identities in answers
 *   data_source_rpc.c  the data-source RPCs around the data source vtable
 *   handler.c          what every handler shares (request check, OOM, the
 *                      common tail, the state lock)
 *   schema_pb.c        cr_schema -> Tfplugin6__Schema, the schema reply
 *   plan_check.c       Terraform's rules on plans and apply results,
 *                      checked on our side so a resource bug is a clear
 *                      diagnostic
 *   dv.c, diag_pb.c, pb.c   the translators (rpc/pb.h)
 *
 * rpc/ may include: rpc/, resource/resource.h (the resource layer's API),
 * value/, common/, plugin/server.h (cr_call, cr_method), the generated
 * protobuf headers. Never store/ directly: the store is the resource
 * layer's.
 *
 * Memory: everything that goes into a response comes from the call's arena
 * (cr_call_alloc) or is adopted by it; the one exception is the cached
 * GetProviderSchema response, which lives as long as the provider.
 */
#ifndef CR_RPC_INTERNAL_H
#define CR_RPC_INTERNAL_H

#include <pthread.h>
#include <grpc/status.h>

#include "rpc/pb.h"
#include "rpc/rpc.h"
#include "resource/resource.h"

struct cr_rpc_provider {
    cr_provider_state state;

    /* Resource calls hold state_lock shared while the resource runs with
     * &state. ConfigureProvider opens the new store first, then takes the
     * lock exclusively only to swap it in, and closes the old store after:
     * no call can still be using it. (One server serves several Terraform
     * commands in debug/reattach mode, each configuring again.)
     * `stopping` is written without the lock: a stop must never wait. */
    pthread_rwlock_t state_lock;
    pthread_mutex_t configure_mu;   /* one ConfigureProvider at a time */

    /* GetProviderSchema is answered from a response built once. */
    pthread_mutex_t schema_mu;
    Tfplugin6__GetProviderSchema__Response *schema_resp;
};

/* ---- helpers shared by the handlers (handler.c) ------------------------- */

/* True when the server handed us the request type the method expects; a
 * mismatch is a protocol fault (INVALID_ARGUMENT), not a diagnostic. */
bool cr_rpc_request_is(const ProtobufCMessage *req,
                       const ProtobufCMessageDescriptor *d,
                       const char **message);

/* Status and message for running out of memory while building a reply. */
int cr_rpc_oom(const char **message);

/* Around every call of a resource function that is given &p->state. */
void cr_rpc_state_enter(cr_rpc_provider *p);
void cr_rpc_state_leave(cr_rpc_provider *p);

/* Logs the end of an RPC at DEBUG (error summaries included, never values). */
void cr_rpc_log_done(const char *rpc, const char *type_name,
                     const cr_diags *d);

/* Adds the "Out of memory" error diagnostic. */
void cr_rpc_oom_diag(cr_diags *diags);

/* The value type of schema `s` (NULL: none, nothing said), or NULL with
 * an out-of-memory diagnostic when it cannot be built. */
const cr_type *cr_rpc_type_of(const cr_schema *s, cr_diags *diags);

/* The end of a resource or data source handler: translates `diags` into
 * the response's diagnostics field, logs the outcome, frees `diags`, and
 * sets *response to `resp`. With `nomem` (building the reply ran out of
 * memory) only frees `diags`. Returns the gRPC status to return. */
int cr_rpc_finish(cr_call *call, const char *rpc, const char *type_name,
                  bool nomem, cr_diags *diags, Tfplugin6__Diagnostic ***field,
                  size_t *nfield, ProtobufCMessage *resp,
                  ProtobufCMessage **response, const char **message);

/* ---- schema_pb.c -------------------------------------------------------- */

/* Builds the whole GetProviderSchema response in malloc'd memory (freed by
 * cr_rpc_schema_response_free). Schema mistakes Terraform would reject are
 * reported in `diags` and the response is still built. NULL only when out
 * of memory. */
Tfplugin6__GetProviderSchema__Response *cr_rpc_schema_response_new(
    cr_diags *diags);
void cr_rpc_schema_response_free(Tfplugin6__GetProviderSchema__Response *r);

/* Errors in `diags` where rt's identity schema breaks Terraform's rules
 * (internal/schemarepo/loadschemas: each attribute required or optional
 * for import, never both, of a type that is no map, set or object; version
 * >= 0) or the framework's (each an attribute of the same type in the
 * resource schema); nothing when rt has no identity. */
void cr_rpc_identity_schema_check(const cr_resource_type *rt,
                                  cr_diags *diags);

/* ---- plan_check.c ------------------------------------------------------- */

/* Adds an error for every place where v does not have type t. `path` is
 * the path of v and is restored before returning. */
void cr_rpc_check_conforms(const cr_value *v, const cr_type *t, cr_path *path,
                           const char *summary, cr_diags *diags);

/* Terraform's plan validity rules (objchange.AssertPlanValid): planned is
 * checked against config and prior, attribute by attribute. */
void cr_rpc_check_plan(const cr_schema *s, const cr_value *prior,
                       const cr_value *config, const cr_value *planned,
                       cr_diags *diags);

/* Terraform's rule on apply results: every known planned value kept. */
void cr_rpc_check_apply(const cr_value *planned, const cr_value *actual,
                        cr_diags *diags);

/* Completes and trims the replacement paths of a plan: keeps those of
 * *paths (owned array of owned paths, as the resource returned them) whose
 * value changes between prior and planned (or is unknown), and adds every
 * changing force-new attribute of `s` not already there. Create and
 * destroy replace nothing. 0 or -1 (out of memory). */
int cr_rpc_requires_replace(const cr_schema *s, const cr_value *prior,
                            const cr_value *planned, cr_path **paths,
                            size_t *npaths);

/* ---- resource_rpc.c ---------------------------------------------------- */

/* The stored state `raw` (JSON of schema version `version`) as a value of
 * the current type t of rt: upgraders run from `version` to the schema's
 * version, attributes missing from the JSON are null. NULL with
 * diagnostics when it cannot be (flatmap, a future version, bad JSON, a
 * missing or failing upgrader). */
cr_value *cr_rpc_upgrade_state(const cr_resource_type *rt,
                               const Tfplugin6__RawState *raw,
                               int64_t version, const cr_type *t,
                               cr_diags *diags);

/* ---- handlers (resource_rpc.c) ------------------------------------------ */

int cr_rpc_validate_resource_config(cr_call *, const ProtobufCMessage *,
                                    ProtobufCMessage **, const char **);
int cr_rpc_upgrade_resource_state(cr_call *, const ProtobufCMessage *,
                                  ProtobufCMessage **, const char **);
int cr_rpc_read_resource(cr_call *, const ProtobufCMessage *,
                         ProtobufCMessage **, const char **);
int cr_rpc_plan_resource_change(cr_call *, const ProtobufCMessage *,
                                ProtobufCMessage **, const char **);
int cr_rpc_apply_resource_change(cr_call *, const ProtobufCMessage *,
                                 ProtobufCMessage **, const char **);
int cr_rpc_import_resource_state(cr_call *, const ProtobufCMessage *,
                                 ProtobufCMessage **, const char **);

/* ---- identity_rpc.c ------------------------------------------------------ */

/* Which answer an identity goes into (for the test-only faults). */
typedef enum cr_rpc_identity_use {
    CR_RPC_ID_READ, CR_RPC_ID_PLAN, CR_RPC_ID_APPLY, CR_RPC_ID_IMPORT,
    CR_RPC_ID_LIST
} cr_rpc_identity_use;

/* rt's identity of `object` for an answer, in the call's arena: *out is
 * NULL when rt has no identity or the object is NULL or null. 0, or -1
 * when out of memory. */
int cr_rpc_identity_to_pb(cr_call *call, const cr_resource_type *rt,
                          const cr_value *object, cr_rpc_identity_use use,
                          Tfplugin6__ResourceIdentityData **out);

/* An identity Terraform sent for rt, decoded: NULL without a word when
 * there is none, NULL with an error when it cannot be used. */
cr_value *cr_rpc_identity_decode(const cr_resource_type *rt,
                                 const Tfplugin6__ResourceIdentityData *d,
                                 cr_diags *diags);

int cr_rpc_get_resource_identity_schemas(cr_call *, const ProtobufCMessage *,
                                         ProtobufCMessage **, const char **);
int cr_rpc_upgrade_resource_identity(cr_call *, const ProtobufCMessage *,
                                     ProtobufCMessage **, const char **);

/* ---- list_rpc.c ---------------------------------------------------------- */

int cr_rpc_validate_list_resource_config(cr_call *, const ProtobufCMessage *,
                                         ProtobufCMessage **, const char **);
/* ListResource, a server stream (plugin/server.h). */
extern const cr_stream_producer cr_rpc_list_resource;

/* ---- handlers (data_source_rpc.c) --------------------------------------- */

int cr_rpc_validate_data_resource_config(cr_call *, const ProtobufCMessage *,
                                         ProtobufCMessage **, const char **);
int cr_rpc_read_data_source(cr_call *, const ProtobufCMessage *,
                            ProtobufCMessage **, const char **);

#endif
