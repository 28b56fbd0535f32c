/*
 * plugin/goplugin.h — go-plugin's infrastructure services.
 *
 * Every go-plugin gRPC server offers these beside its own service:
 *
 *   /grpc.health.v1.Health/Check      SERVING for "plugin" and "" (the
 *                                     client's Ping); NOT_FOUND otherwise
 *   /plugin.GRPCController/Shutdown   answers, then shuts the server down
 *   /plugin.GRPCStdio/StreamStdio     a server stream, open and silent
 *   /plugin.GRPCBroker/StartStream    a bidi stream held until the client
 *                                     ends it or the server shuts down
 */
#ifndef CR_PLUGIN_GOPLUGIN_H
#define CR_PLUGIN_GOPLUGIN_H

#include "plugin/server.h"

/* The service group to hand to cr_server_new; its ctx is unused. */
cr_service cr_goplugin_service(void);

#endif
