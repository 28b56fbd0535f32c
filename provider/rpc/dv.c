/*
 * rpc/dv.c — tfplugin6.DynamicValue <-> cr_value.
 *
 * Terraform sends every configuration, plan and state value as a
 * DynamicValue: msgpack normally, JSON in principle. A missing message or
 * empty bytes in both fields means null. We always answer in msgpack, the
 * form Terraform prefers. The codecs themselves live in value/; this file
 * only picks the field, names the value in diagnostics and hands the
 * encoded buffer to the call.
 *
 * Calls pb.c only. May include: rpc/pb.h, common/log.h.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "rpc/pb.h"

cr_value *cr_rpc_dv_decode(const Tfplugin6__DynamicValue *dv,
                           const cr_type *t, const char *what,
                           cr_diags *diags)
{
    cr_value *v;
    cr_diags local = CR_DIAGS_INIT;

    if (dv == NULL || (dv->msgpack.len == 0 && dv->json.len == 0))
        return cr_value_null(t);
    if (dv->msgpack.len > 0)
        v = cr_value_decode_msgpack(dv->msgpack.data, dv->msgpack.len, t,
                                    &local);
    else
        v = cr_value_decode_json((const char *)dv->json.data, dv->json.len,
                                 t, &local);
    if (v == NULL) {
        /* The codec's diagnostic carries the path inside the value; the
         * log says which of the request's values it was. */
        cr_log_debug(CR_RPC_LOG, "could not decode the %s", what);
        if (!cr_diags_has_error(&local))
            cr_diags_error(&local, NULL, "Invalid value from Terraform",
                           "The %s sent by Terraform could not be decoded.",
                           what);
    }
    cr_diags_move(diags, &local);
    return v;
}

Tfplugin6__DynamicValue *cr_rpc_dv_encode(cr_call *call, const cr_value *v)
{
    Tfplugin6__DynamicValue *dv =
        cr_rpc_msg_new(call, &tfplugin6__dynamic_value__descriptor);
    void *buf = NULL;
    size_t len = 0;

    if (dv == NULL)
        return NULL;
    if (v == NULL) {
        /* msgpack nil: an explicit null rather than empty bytes, so the
         * answer reads the same to every client. */
        uint8_t *nil = cr_call_alloc(call, 1);
        if (nil == NULL)
            return NULL;
        nil[0] = 0xc0;
        dv->msgpack.data = nil;
        dv->msgpack.len = 1;
        return dv;
    }
    if (cr_value_encode_msgpack(v, &buf, &len) != 0)
        return NULL;
    cr_call_adopt(call, buf);
    dv->msgpack.data = buf;
    dv->msgpack.len = len;
    return dv;
}
