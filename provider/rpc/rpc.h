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

cr_rpc_provider *cr_rpc_provider_new(void);
void cr_rpc_provider_free(cr_rpc_provider *p);

/* The tfplugin6.Provider methods; pass the provider as the server ctx. */
const cr_method *cr_rpc_methods(size_t *count);

#endif
