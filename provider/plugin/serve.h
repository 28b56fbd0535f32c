/*
 * plugin/serve.h — a whole plugin process: handshake, AutoMTLS, the server,
 * signals, until Terraform says Shutdown.
 *
 * Plugin mode (launched by Terraform):
 *   - cookie missing or wrong: a short explanation on stderr, exit status 1;
 *   - protocol 6 negotiated from PLUGIN_PROTOCOL_VERSIONS, else exit 1;
 *   - unix socket in PLUGIN_UNIX_SOCKET_DIR, TMPDIR or /tmp (group from
 *     PLUGIN_UNIX_SOCKET_GROUP); TLS with a fresh certificate when
 *     PLUGIN_CLIENT_CERT is set, plaintext otherwise;
 *   - the handshake line is the only thing ever written to stdout;
 *   - SIGTERM shuts down cleanly; SIGINT is ignored (Ctrl-C reaches the
 *     whole process group and Terraform sends StopProvider itself);
 *   - Terraform gone without a Shutdown: its process has exited (the parent
 *     watch, plugin/parent.h) or it closed its connection (go-plugin's
 *     held streams ended): operations in flight are asked to stop
 *     (`stop`), finish, and the process shuts down as after a Shutdown.
 * Debug mode (-debug, run by a developer): no cookie, plaintext, prints the
 * TF_REATTACH_PROVIDERS value to export; SIGINT or SIGTERM stop it. It
 * serves one Terraform run after another: neither its parent nor a client
 * leaving stops it.
 *
 * stdin is never read.
 */
#ifndef CR_PLUGIN_SERVE_H
#define CR_PLUGIN_SERVE_H

#include <stdio.h>

#include "plugin/server.h"

typedef enum cr_serve_mode {
    CR_SERVE_PLUGIN = 0,
    CR_SERVE_DEBUG
} cr_serve_mode;

typedef struct cr_serve_options {
    cr_serve_mode mode;
    const char *program;            /* for messages: "terraform-provider-x" */
    const char *provider_address;   /* "registry.terraform.io/ns/type" */
    const cr_service *services;     /* the provider's own (go-plugin's are */
    size_t n_services;              /* added here) */
    FILE *out;                      /* handshake / reattach text: stdout */
    FILE *err;                      /* human messages: stderr */
    /* Optional: asks operations in flight to stop when Terraform is gone
     * (what its StopProvider would do). Called from another thread, while
     * calls may be running; must not block. */
    void (*stop)(void *ctx);
    void *stop_ctx;
} cr_serve_options;

/* Runs until shutdown; returns the process exit status (0 after a clean
 * shutdown, 1 when the process could not start serving). For a process
 * about to exit: gRPC's library-wide teardown is left to the exit
 * (cr_server_free_at_exit), so return from main soon after. */
int cr_plugin_serve(const cr_serve_options *opts);

#endif
