/*
 * plugin/goplugin.c — health, controller, stdio and broker (see goplugin.h).
 *
 * Health and Shutdown are ordinary unary methods. Stdio and broker carry
 * nothing for a Terraform provider (logs go straight to stderr, no extra
 * connections are ever brokered), so they are streams the server holds open
 * by itself: the go-plugin client opens both in the background at connect
 * time and would log an error if they failed.
 */
#include "plugin/goplugin.h"

#include <string.h>

#include "grpc_controller.pb-c.h"
#include "health.pb-c.h"

/* The service name go-plugin's client asks about (GRPCServiceName). */
#define GOPLUGIN_HEALTH_SERVICE "plugin"

static int health_check(cr_call *call, const ProtobufCMessage *request,
                        ProtobufCMessage **response, const char **message)
{
    const Grpc__Health__V1__HealthCheckRequest *req =
        (const Grpc__Health__V1__HealthCheckRequest *)request;
    const char *service = req->service != NULL ? req->service : "";
    if (strcmp(service, "") != 0 &&
        strcmp(service, GOPLUGIN_HEALTH_SERVICE) != 0) {
        /* What the standard health service answers for unknown names. */
        *message = "unknown service";
        return 5;   /* NOT_FOUND */
    }
    Grpc__Health__V1__HealthCheckResponse *resp =
        cr_call_alloc(call, sizeof *resp);
    if (resp == NULL)
        return 8;   /* RESOURCE_EXHAUSTED */
    grpc__health__v1__health_check_response__init(resp);
    resp->status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    *response = &resp->base;
    return 0;
}

static int controller_shutdown(cr_call *call, const ProtobufCMessage *request,
                               ProtobufCMessage **response,
                               const char **message)
{
    (void)request;
    (void)message;
    Plugin__Empty *resp = cr_call_alloc(call, sizeof *resp);
    if (resp == NULL)
        return 8;
    plugin__empty__init(resp);
    /* Graceful: this very call is still in flight, so its answer goes out
     * before the server stops; so do the answers of calls running now. */
    cr_server_shutdown(cr_call_server(call));
    *response = &resp->base;
    return 0;
}

static const cr_method goplugin_methods[] = {
    {"/grpc.health.v1.Health/Check",
     &grpc__health__v1__health_check_request__descriptor, health_check, NULL,
     true},
    {"/plugin.GRPCController/Shutdown",
     &plugin__empty__descriptor, controller_shutdown, NULL, false},
};

static const cr_stream_method goplugin_streams[] = {
    {"/plugin.GRPCStdio/StreamStdio", CR_STREAM_HOLD},
    {"/plugin.GRPCBroker/StartStream", CR_STREAM_HOLD_BIDI},
};

cr_service cr_goplugin_service(void)
{
    cr_service s = {
        goplugin_methods, sizeof goplugin_methods / sizeof goplugin_methods[0],
        goplugin_streams, sizeof goplugin_streams / sizeof goplugin_streams[0],
        NULL
    };
    return s;
}
