/*
 * plugin/server.h — the gRPC server on the gRPC C core, seen from outside.
 *
 * The server knows nothing about Terraform: it serves a table of unary
 * methods, each named by its full gRPC path and typed by the protobuf-c
 * descriptor of its request. It unpacks the request, calls the handler on a
 * worker thread (calls are served concurrently), packs the response and
 * finishes the call. Unknown paths answer UNIMPLEMENTED.
 *
 * Memory: everything a handler builds for its response (the message, its
 * strings, repeated arrays, byte buffers) comes from the call's arena
 * (cr_call_alloc and friends) or is handed to it (cr_call_adopt), and is
 * released when the call completes. Handlers never free their response.
 */
#ifndef CR_PLUGIN_SERVER_H
#define CR_PLUGIN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

typedef struct cr_call cr_call;

/* Zeroed memory that lives until the call completes; NULL only when out of
 * memory (handlers then answer RESOURCE_EXHAUSTED). */
void *cr_call_alloc(cr_call *call, size_t size);
char *cr_call_strdup(cr_call *call, const char *s);
/* Hands a malloc'd pointer to the call; it is free()d when the call ends. */
void  cr_call_adopt(cr_call *call, void *ptr);
/* The ctx pointer given in cr_server_config. */
void *cr_call_ctx(cr_call *call);

/* Returns a grpc_status_code (0 = OK). On OK, *response must be set to a
 * message of the method's response type, built in the call's arena. On any
 * other code *response is ignored and `message` (may be NULL) is sent as the
 * status message. Terraform expects failures as diagnostics with status OK;
 * non-OK codes are for protocol-level faults only. */
typedef int (*cr_unary_handler)(cr_call *call, const ProtobufCMessage *request,
                                ProtobufCMessage **response,
                                const char **message);

typedef struct cr_method {
    const char *path;                               /* "/pkg.Service/Method" */
    const ProtobufCMessageDescriptor *request_desc;
    cr_unary_handler handler;
} cr_method;

#endif
