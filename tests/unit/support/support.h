/*
 * tests/unit/support/support.h — what the cmocka unit tests share: running
 * a tfplugin6 handler the way the plugin server does, DynamicValues built
 * from cr_values, and a temporary directory for a SQLite routing map.
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

/* ---- values ------------------------------------------------------------- */

/* A malloc'd DynamicValue holding v as msgpack; NULL for NULL. */
Tfplugin6__DynamicValue *cr_test_dv(const cr_value *v);
void cr_test_dv_free(Tfplugin6__DynamicValue *d);

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

/* The framework's read and import (resource/resource.h) with the state
 * and its diagnostics as plain arguments: *new_state / *state receive
 * the result (NULL: gone, or nothing), diagnostics are added to `d`. */
void cr_test_read(const cr_resource_type *rt, cr_provider_state *p,
                  const cr_value *state, cr_value **new_state, cr_diags *d);
void cr_test_import(const cr_resource_type *rt, cr_provider_state *p,
                    const char *id, cr_value **state, cr_diags *d);

#endif
