/*
 * rpc/rpc.h — the tfplugin6.Provider service: the table of its methods.
 *
 * rpc/ translates between protobuf-c messages and the provider's own model
 * (values, diagnostics, resources). It is handed to the plugin server as a
 * method table; the server itself knows nothing about Terraform.
 */
#ifndef CR_RPC_H
#define CR_RPC_H

#include "plugin/server.h"

/* The provider instance behind the service: configured once per process by
 * ConfigureProvider, consulted by every resource call. Opaque here. */
typedef struct cr_rpc_provider cr_rpc_provider;

/* NULL only when out of memory. Nothing is opened until ConfigureProvider;
 * the GetProviderSchema response is built by the first call that asks. */
cr_rpc_provider *cr_rpc_provider_new(void);
/* Closes the routing-map store(s) and frees the cached schema response.
 * Only once no call is in flight (after the server has stopped). */
void cr_rpc_provider_free(cr_rpc_provider *p);

/* The tfplugin6.Provider methods; pass the provider as the server ctx.
 * Handlers may run concurrently on any threads. ListResource is a server
 * stream (its entry has a producer, no handler). Methods not in the table
 * (MoveResourceState, GenerateResourceConfig, the ephemeral, state-store
 * and action families, CallFunction) are left to the server's
 * UNIMPLEMENTED, which Terraform reads as "not supported". The table is
 * static: the returned pointer is valid for the life of the process. */
const cr_method *cr_rpc_methods(size_t *count);

/* The method of the table named `name` ("PlanResourceChange"), or NULL:
 * for running a handler directly (tests, benchmarks). */
const cr_method *cr_rpc_method(const char *name);

#endif
