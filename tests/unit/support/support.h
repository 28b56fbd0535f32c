/*
 * tests/unit/support/support.h — what the cmocka unit tests share: running
 * a tfplugin6 handler the way the plugin server does, building values and
 * Terraform's proposed new state, reading diagnostics, running the resource
 * framework's steps as Terraform runs them, and a temporary directory for a
 * SQLite routing map.
 *
 * Compiled into every tests/unit/test_*.c program (provider/provider.mk).
 * Every helper fails the running test (cmocka assertions) on a setup
 * error rather than returning one: a test cannot continue without it.
 *
 * Handlers run on a real detached cr_call (plugin/server.c), so the
 * response lives in the server's own arena, and tests define no cr_call
 * functions of their own.
 */
#ifndef CR_TEST_SUPPORT_H
#define CR_TEST_SUPPORT_H

#include <stddef.h>

#include "rpc/internal.h"

/* ---- handlers ----------------------------------------------------------- */

/* Packs `req`, unpacks it as the request type of `name`, runs the handler
 * with provider `p` as the call's ctx, and returns the response after a
 * pack/unpack round trip: what Terraform would read (free with
 * protobuf_c_message_free_unpacked). *status gets the gRPC status; on a
 * non-OK one the result is NULL and the handler must have given a
 * message. */
void *cr_test_invoke_status(cr_rpc_provider *p, const char *name,
                            const ProtobufCMessage *req, int *status);

/* The same, asserting status OK. */
void *cr_test_invoke(cr_rpc_provider *p, const char *name,
                     const ProtobufCMessage *req);

/* PlanResourceChange and ApplyResourceChange of resource type `type`
 * through the method table (cr_test_invoke), the requests built as
 * Terraform builds them: the proposed new state by cr_test_proposed from
 * the type's schema. prior/cfg/planned NULL are null values; `priv` (NULL:
 * none) is sent as prior_private. Free the response with
 * protobuf_c_message_free_unpacked. */
Tfplugin6__PlanResourceChange__Response *cr_test_rpc_plan(
    cr_rpc_provider *p, const char *type, const cr_value *prior,
    const cr_value *cfg, const ProtobufCBinaryData *priv);
Tfplugin6__ApplyResourceChange__Response *cr_test_rpc_apply(
    cr_rpc_provider *p, const char *type, const cr_value *prior,
    const cr_value *planned, const cr_value *cfg);

/* ---- values ------------------------------------------------------------- */

/* A malloc'd DynamicValue holding v as msgpack; NULL for NULL. */
Tfplugin6__DynamicValue *cr_test_dv(const cr_value *v);
void cr_test_dv_free(Tfplugin6__DynamicValue *d);
/* A response's DynamicValue decoded against t (it must decode); NULL for
 * a null value or a missing message. */
cr_value *cr_test_undv(const Tfplugin6__DynamicValue *d, const cr_type *t);

/* The object type of schema s; of attribute `name` of object type t. */
const cr_type *cr_test_type(const cr_schema *s);
const cr_type *cr_test_attr_type(const cr_type *t, const char *name);
/* Sets attribute `name` of object o to v (adopted; must not be NULL). */
void cr_test_set(cr_value *o, const char *name, cr_value *v);
/* The same with a string; NULL sets the null of the attribute's type. */
void cr_test_set_str(cr_value *o, const char *name, const char *s);

/* Terraform's proposed new state (objchange.ProposedNew) for a resource of
 * schema s: the configuration, with every computed attribute it leaves
 * null taken from the prior state, recursively into SINGLE and MAP nested
 * attributes (MAP elements matched by key). NULL cfg: NULL (a destroy). */
cr_value *cr_test_proposed(const cr_schema *s, const cr_value *cfg,
                           const cr_value *prior);

/* ---- diagnostics -------------------------------------------------------- */

/* How many diagnostics of severity `sev`; how many errors. */
size_t cr_test_count(const cr_diags *d, cr_diag_severity sev);
size_t cr_test_errors(const cr_diags *d);
/* Every diagnostic on stderr: severity, path, summary, detail. */
void cr_test_print_diags(const cr_diags *d);
/* The first diagnostic whose summary is `summary`; fails the test (after
 * printing them all) when there is none. */
const cr_diag *cr_test_find_diag(const cr_diags *d, const char *summary);
/* Whether a diagnostic's path reads `path` (cr_path_format, e.g.
 * tenants["x"].cell_id); prints them all when none does. */
bool cr_test_diag_at(const cr_diags *d, const char *path);
/* Fails the test unless `needle` is in `hay`. */
void cr_test_assert_contains(const char *hay, const char *needle);
/* The same for the diagnostics of a response. */
size_t cr_test_pb_errors(Tfplugin6__Diagnostic *const *d, size_t n);
void cr_test_print_pb_diags(Tfplugin6__Diagnostic *const *d, size_t n);

/* ---- a temporary directory with a routing map --------------------------- */

typedef struct cr_test_dir {
    char path[64];      /* /tmp/cr-<tag>-XXXXXX */
    char db[128];       /* <path>/map.db (not created) */
} cr_test_dir;

/* Creates the directory; `tag` (a few letters) names the test. */
void cr_test_dir_make(cr_test_dir *d, const char *tag);

/* Removes map.db and its SQLite companions, then the directory, which
 * must then be empty (a test leaving other files behind fails). */
void cr_test_dir_remove(cr_test_dir *d);

/* ---- a resource against a real routing map ------------------------------ */

/* What a resource test needs: a temporary SQLite map opened as the
 * provider's store, a second handle on the same file for out-of-band
 * writes (what cellctl does), and the resource type under test. */
typedef struct cr_test_rfx {
    cr_test_dir tmp;
    cr_provider_state p;
    cr_store *oob;
    const cr_resource_type *type;
} cr_test_rfx;

/* For cmocka setup/teardown: `tag` names the temp dir, `type_name` is the
 * resource looked up in the registry. */
cr_test_rfx *cr_test_rfx_new(const char *tag, const char *type_name);
void cr_test_rfx_free(cr_test_rfx *fx);

/* The framework's steps (resource/resource.h) on the fixture's resource,
 * as Terraform runs them. */

/* Plans cfg over prior (NULL on create) from the proposed new state
 * cr_test_proposed builds, then, when the resource reported no error,
 * checks Terraform's plan rules as the rpc layer does (cr_rpc_check_plan)
 * into resp->diags. Free with cr_plan_resp_free. */
void cr_test_plan(cr_test_rfx *fx, const cr_value *prior, const cr_value *cfg,
                  cr_plan_resp *resp);
/* Applies; returns the new state (NULL: null), diagnostics into d. */
cr_value *cr_test_apply(cr_test_rfx *fx, const cr_value *prior,
                        const cr_value *planned, const cr_value *cfg,
                        cr_diags *d);
/* Plans and applies, asserting no error and Terraform's rule on results
 * (every known planned value kept: cr_rpc_check_apply). Returns the new
 * state (NULL after a destroy). */
cr_value *cr_test_converge(cr_test_rfx *fx, const cr_value *prior,
                           const cr_value *cfg);
/* The same carrying the private state (*priv: in, the prior's; out, the
 * new state's), as cr_test_read_p. */
cr_value *cr_test_converge_p(cr_test_rfx *fx, const cr_value *prior,
                             cr_private *priv, const cr_value *cfg);

/* Read and import of any resource type on any provider state, with the
 * state and its diagnostics as plain arguments: *new_state / *state
 * receive the result (NULL: gone, or nothing), diagnostics are added to
 * `d`. */
void cr_test_read(const cr_resource_type *rt, cr_provider_state *p,
                  const cr_value *state, cr_value **new_state, cr_diags *d);
void cr_test_import(const cr_resource_type *rt, cr_provider_state *p,
                    const char *id, cr_value **state, cr_diags *d);

/* The same steps with the private state as Terraform carries it: *priv
 * holds the bytes Terraform keeps for the object (data malloc'd, `set`
 * unused; zero: none), sent with the request and replaced by what the
 * resource answers when it sets its own (import: replaced always). Free
 * with cr_private_clear. The plan's planned_private is in resp->priv. */
void cr_test_read_p(const cr_resource_type *rt, cr_provider_state *p,
                    const cr_value *state, cr_private *priv,
                    cr_value **new_state, cr_diags *d);
void cr_test_import_p(const cr_resource_type *rt, cr_provider_state *p,
                      const char *id, cr_private *priv, cr_value **state,
                      cr_diags *d);
void cr_test_plan_p(cr_test_rfx *fx, const cr_value *prior,
                    const cr_private *priv, const cr_value *cfg,
                    cr_plan_resp *resp);
cr_value *cr_test_apply_p(cr_test_rfx *fx, const cr_value *prior,
                          const cr_value *planned, const cr_value *cfg,
                          cr_private *priv, cr_diags *d);

/* The routing map as cellctl sees it (through a store handle such as the
 * fixture's oob): the entry of `tid` (NULL when none), and an
 * unconditional out-of-band write moving it to `cell` without a standby. */
cr_entry *cr_test_map_get(cr_store *s, const char *tid);
void cr_test_map_set_cell(cr_store *s, const char *tid, const char *cell);

/* ---- a provider against a temporary directory ---------------------------- */

/* What an rpc test needs: a provider instance (configured by the test, if
 * at all, through ConfigureProvider) and a temporary directory for its
 * routing map. */
typedef struct cr_test_pfx {
    cr_test_dir tmp;
    cr_rpc_provider *p;
} cr_test_pfx;

cr_test_pfx *cr_test_pfx_new(const char *tag);
void cr_test_pfx_free(cr_test_pfx *fx);

#endif
