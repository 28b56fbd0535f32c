/*
 * rpc/pb.c — protobuf-c messages and opaque bytes in a call's arena.
 *
 * Every message that goes into a response is made here, from the call's
 * arena (cr_call_alloc), so it is released with the call after the
 * response is packed. The bottom of rpc/: calls nothing else in it.
 * May include: rpc/pb.h only.
 */
#include <string.h>

#include "rpc/pb.h"

void *cr_rpc_msg_new(cr_call *call, const ProtobufCMessageDescriptor *d)
{
    void *m = cr_call_alloc(call, d->sizeof_message);
    if (m != NULL)
        protobuf_c_message_init(d, m);
    return m;
}

int cr_rpc_bytes_copy(cr_call *call, const ProtobufCBinaryData *in,
                      ProtobufCBinaryData *out)
{
    out->len = 0;
    out->data = NULL;
    if (in->len == 0)
        return 0;
    out->data = cr_call_alloc(call, in->len);
    if (out->data == NULL)
        return -1;
    memcpy(out->data, in->data, in->len);
    out->len = in->len;
    return 0;
}
