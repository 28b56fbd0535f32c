/*
 * tests/unit/support/support.c — the unit tests' shared helpers (see
 * support.h): handler invocation on a detached cr_call, DynamicValues,
 * temporary directories for SQLite routing maps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/support.h"

/* ---- handlers ----------------------------------------------------------- */

/* `msg` packed and unpacked as `d` (the wire round trip); never NULL. */
static ProtobufCMessage *round_trip(const ProtobufCMessage *msg,
                                    const ProtobufCMessageDescriptor *d)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    protobuf_c_message_pack(msg, buf);
    ProtobufCMessage *out = protobuf_c_message_unpack(d, NULL, len, buf);
    free(buf);
    assert_non_null(out);
    return out;
}

void *cr_test_invoke_status(cr_rpc_provider *p, const char *name,
                            const ProtobufCMessage *req, int *status)
{
    const cr_method *m = cr_rpc_method(name);
    assert_non_null(m);
    ProtobufCMessage *in = round_trip(req, m->request_desc);
    cr_call *call = cr_call_new_detached(p);
    assert_non_null(call);

    ProtobufCMessage *resp = NULL, *out = NULL;
    const char *msg = NULL;
    *status = m->handler(call, in, &resp, &msg);
    if (*status == GRPC_STATUS_OK) {
        assert_non_null(resp);
        out = round_trip(resp, resp->descriptor);
    } else {
        assert_non_null(msg);
    }
    protobuf_c_message_free_unpacked(in, NULL);
    cr_call_free_detached(call);
    return out;
}

void *cr_test_invoke(cr_rpc_provider *p, const char *name,
                     const ProtobufCMessage *req)
{
    int status = -1;
    void *out = cr_test_invoke_status(p, name, req, &status);
    assert_int_equal(status, GRPC_STATUS_OK);
    return out;
}

/* ---- values ------------------------------------------------------------- */

Tfplugin6__DynamicValue *cr_test_dv(const cr_value *v)
{
    if (v == NULL)
        return NULL;
    Tfplugin6__DynamicValue *d = malloc(sizeof *d);
    assert_non_null(d);
    tfplugin6__dynamic_value__init(d);
    void *buf = NULL;
    size_t len = 0;
    assert_int_equal(cr_value_encode_msgpack(v, &buf, &len), 0);
    d->msgpack.data = buf;
    d->msgpack.len = len;
    return d;
}

void cr_test_dv_free(Tfplugin6__DynamicValue *d)
{
    if (d != NULL) {
        free(d->msgpack.data);
        free(d);
    }
}

/* ---- a temporary directory with a routing map --------------------------- */

void cr_test_dir_make(cr_test_dir *d, const char *tag)
{
    int n = snprintf(d->path, sizeof d->path, "/tmp/cr-%s-XXXXXX", tag);
    assert_true(n > 0 && (size_t)n < sizeof d->path);
    assert_non_null(mkdtemp(d->path));
    n = snprintf(d->db, sizeof d->db, "%s/map.db", d->path);
    assert_true(n > 0 && (size_t)n < sizeof d->db);
}

void cr_test_dir_remove(cr_test_dir *d)
{
    static const char *const files[] = { "map.db", "map.db-wal",
                                         "map.db-shm", "map.db-journal" };
    char path[sizeof d->path + 32];

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", d->path, files[i]);
        unlink(path);
    }
    assert_int_equal(rmdir(d->path), 0);
}

/* ---- a resource against a real routing map ------------------------------ */

cr_test_rfx *cr_test_rfx_new(const char *tag, const char *type_name)
{
    cr_test_rfx *fx = calloc(1, sizeof *fx);
    cr_store_err err;
    assert_non_null(fx);
    cr_test_dir_make(&fx->tmp, tag);
    assert_int_equal(cr_store_sqlite_open(fx->tmp.db, &fx->p.store, &err),
                     CR_STORE_OK);
    assert_int_equal(cr_store_sqlite_open(fx->tmp.db, &fx->oob, &err),
                     CR_STORE_OK);
    fx->type = cr_resource_find(type_name);
    assert_non_null(fx->type);
    return fx;
}

void cr_test_rfx_free(cr_test_rfx *fx)
{
    cr_provider_close(&fx->p);
    cr_store_close(fx->oob);
    cr_test_dir_remove(&fx->tmp);
    free(fx);
}

void cr_test_read(const cr_resource_type *rt, cr_provider_state *p,
                  const cr_value *state, cr_value **new_state, cr_diags *d)
{
    cr_read_req req = { state };
    cr_read_resp resp = { NULL, CR_DIAGS_INIT };
    cr_resource_read(rt, p, &req, &resp);
    *new_state = resp.new_state;
    cr_diags_move(d, &resp.diags);
}

void cr_test_import(const cr_resource_type *rt, cr_provider_state *p,
                    const char *id, cr_value **state, cr_diags *d)
{
    cr_import_req req = { id };
    cr_import_resp resp = { NULL, CR_DIAGS_INIT };
    cr_resource_import(rt, p, &req, &resp);
    *state = resp.state;
    cr_diags_move(d, &resp.diags);
}
