/*
 * rpc/pb.h — the bottom of rpc/: protobuf-c messages in a call's arena, and
 * the translators between tfplugin6 messages and the provider's own values
 * and diagnostics. Nothing here knows about handlers, resources or the
 * provider instance.
 *
 *   pb.c        messages and bytes in the call's arena (calls nothing in rpc/)
 *   dv.c        DynamicValue <-> cr_value (calls pb.c)
 *   diag_pb.c   cr_diags/cr_path -> Diagnostic/AttributePath (calls pb.c)
 *
 * May include: plugin/server.h (cr_call), value/, common/, the generated
 * tfplugin6 header. Included by rpc/internal.h and by nothing outside rpc/
 * except the unit tests.
 */
#ifndef CR_RPC_PB_H
#define CR_RPC_PB_H

#include "tfplugin6.pb-c.h"
#include "plugin/server.h"
#include "common/diag.h"
#include "value/value.h"

#define CR_RPC_LOG "rpc"

/* ---- pb.c --------------------------------------------------------------- */

/* A zeroed, initialised message of type `d` in the call's arena; NULL when
 * out of memory. */
void *cr_rpc_msg_new(cr_call *call, const ProtobufCMessageDescriptor *d);

/* Copies opaque bytes (a resource's private state) into the call, so that
 * a response never points into its request. 0, or -1 when out of memory
 * (out is then empty). */
int cr_rpc_bytes_copy(cr_call *call, const ProtobufCBinaryData *in,
                      ProtobufCBinaryData *out);

/* ---- dv.c --------------------------------------------------------------- */

/* Decodes a DynamicValue against `t`. A missing message or empty bytes is
 * null. `what` names the value in diagnostics ("config", "prior state").
 * On malformed bytes returns NULL with an error in `diags`. */
cr_value *cr_rpc_dv_decode(const Tfplugin6__DynamicValue *dv,
                           const cr_type *t, const char *what,
                           cr_diags *diags);

/* Encodes `v` (NULL = null) as msgpack into a DynamicValue in the call's
 * arena; the buffer is adopted by the call. NULL when out of memory. */
Tfplugin6__DynamicValue *cr_rpc_dv_encode(cr_call *call, const cr_value *v);

/* ---- diag_pb.c ---------------------------------------------------------- */

/* NULL when out of memory; an empty path gives an AttributePath with no
 * steps, which callers usually replace by NULL (see cr_rpc_diags_to_pb). */
Tfplugin6__AttributePath *cr_rpc_path_to_pb(cr_call *call, const cr_path *p);

/* Translates every diagnostic into the call's arena. 0, or -1 when out of
 * memory. */
int cr_rpc_diags_to_pb(cr_call *call, const cr_diags *d,
                       Tfplugin6__Diagnostic ***out, size_t *n_out);

#endif
