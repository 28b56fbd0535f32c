/*
 * plugin/server.h — the gRPC server on the gRPC C core, seen from outside.
 *
 * The server knows nothing about Terraform: it serves a table of methods,
 * each named by its full gRPC path and typed by the protobuf-c descriptor
 * of its request. It unpacks the request, calls the handler on a worker
 * thread (calls are served concurrently), packs the response and finishes
 * the call; a server-streaming method's producer gives its messages one at
 * a time (below). Unknown paths answer UNIMPLEMENTED.
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
#include <signal.h>
#include <protobuf-c/protobuf-c.h>

typedef struct cr_call cr_call;

/* Zeroed memory that lives until the call completes; NULL only when out of
 * memory (handlers then answer RESOURCE_EXHAUSTED). */
void *cr_call_alloc(cr_call *call, size_t size);
char *cr_call_strdup(cr_call *call, const char *s);
/* Hands a malloc'd pointer to the call; it is free()d when the call ends. */
void  cr_call_adopt(cr_call *call, void *ptr);
/* The ctx pointer of the cr_service the method was registered with. */
void *cr_call_ctx(cr_call *call);

/* A call outside any server, to run a handler directly (unit tests,
 * benchmarks) with the real arena: cr_call_ctx returns `ctx`,
 * cr_call_server NULL. cr_call_free_detached releases everything the
 * handler allocated or adopted, then the call. NULL when out of memory. */
cr_call *cr_call_new_detached(void *ctx);
void cr_call_free_detached(cr_call *call);
/* Bytes taken from the call's arena plus buffers adopted: 0 when nothing
 * of a response lives in the call (tests of cached responses). */
size_t cr_call_footprint(const cr_call *call);

/* Returns a grpc_status_code (0 = OK). On OK, *response must be set to a
 * message of the method's response type, built in the call's arena. On any
 * other code *response is ignored and `message` (may be NULL) is sent as the
 * status message. Terraform expects failures as diagnostics with status OK;
 * non-OK codes are for protocol-level faults only. */
typedef int (*cr_unary_handler)(cr_call *call, const ProtobufCMessage *request,
                                ProtobufCMessage **response,
                                const char **message);

/* ---- server-streaming methods ------------------------------------------
 *
 * A method that answers its one request with a stream of messages
 * (tfplugin6's ListResource). The server pulls them from a producer one at
 * a time and asks for the next only once the one before has been sent (one
 * GRPC_OP_SEND_MESSAGE in flight): a slow client slows the producer down,
 * nothing piles up in memory, and no worker thread waits while a message
 * travels. The callbacks of one call run one after the other, each on some
 * worker thread. */

/* Why a stream ended (cr_stream_producer.end). */
typedef enum cr_stream_end {
    CR_STREAM_DONE = 1,     /* next ended it (end of stream or its status) */
    CR_STREAM_CANCELLED,    /* the client cancelled or went away */
    CR_STREAM_SHUTDOWN      /* the server is shutting down */
} cr_stream_end;

typedef struct cr_stream_producer {
    /* Once, with the unpacked request (in the call's arena, kept for the
     * life of the call, as is what start allocates there). Sets *state to
     * the producer's own state (may leave it NULL). A status other than OK
     * ends the call at once with that status and `message`. */
    int (*start)(cr_call *call, const ProtobufCMessage *request,
                 void **state, const char **message);
    /* The next message: OK with *msg set (built in the call's arena; what
     * next allocates there is released once the message is packed), OK
     * with *msg NULL to end the stream (status OK), or another status to
     * end it with that status and `message`. Not called again once the
     * client has gone or the server is shutting down. */
    int (*next)(cr_call *call, void *state, ProtobufCMessage **msg,
                const char **message);
    /* Exactly once per start, whatever happened (also when start failed),
     * after the last next: releases the state. */
    void (*end)(void *state, cr_stream_end why);
} cr_stream_producer;

typedef struct cr_method {
    const char *path;                               /* "/pkg.Service/Method" */
    const ProtobufCMessageDescriptor *request_desc;
    cr_unary_handler handler;                       /* unary methods, or */
    const cr_stream_producer *producer;             /* server-streaming ones */
    /* A unary handler that never waits (no store, no network, at most a
     * lock held for a moment of computing; the schema RPCs): its worker is
     * not counted busy, so
     * no further worker is started for it. A provider launched only for its
     * schema, as Terraform often launches one, so runs one worker, not two:
     * a thread stack less (bench/startup.sh). */
    bool quick;
} cr_method;

/* ---- streams the server holds open ------------------------------------
 *
 * go-plugin's stdio and broker services are streams that carry nothing for
 * a Terraform provider but must stay open for the life of the connection.
 * The server serves them itself: no handler, no worker thread while open. */
typedef enum cr_stream_mode {
    /* Server stream: read the one request, send headers, then stay silent
     * until the client goes away or the server shuts down (status OK). */
    CR_STREAM_HOLD = 1,
    /* Bidi stream: read and discard client messages; finish with OK when the
     * client half-closes, goes away, or the server shuts down. */
    CR_STREAM_HOLD_BIDI
} cr_stream_mode;

typedef struct cr_stream_method {
    const char *path;
    cr_stream_mode mode;
} cr_stream_method;

/* ---- the server -------------------------------------------------------- */

typedef struct cr_server cr_server;

/* A group of methods sharing one ctx (cr_call_ctx). */
typedef struct cr_service {
    const cr_method *methods;
    size_t n_methods;
    const cr_stream_method *streams;
    size_t n_streams;
    void *ctx;
} cr_service;

/* Worker threads: handlers run on them, so this many calls run at once
 * (Terraform runs up to 10 operations concurrently, plus StopProvider).
 * One starts with the server; more start when calls need them (server.c),
 * up to this many. */
#define CR_SERVER_DEFAULT_WORKERS 16
/* The largest request accepted. gRPC's own default (4 MiB) is too small for
 * big configurations and states; 256 MiB is terraform-plugin-go's bound and
 * keeps one hostile message from taking unbounded memory. */
#define CR_SERVER_DEFAULT_MAX_MESSAGE (256u * 1024u * 1024u)
/* After shutdown starts, calls still open this long are cancelled. */
#define CR_SERVER_SHUTDOWN_GRACE_MS 5000

typedef struct cr_server_config {
    /* gRPC address: "unix:/abs/path" (the socket file is removed again by
     * cr_server_free) or "127.0.0.1:port". */
    const char *address;
    /* TLS: all three set, or all NULL for plaintext. With TLS every client
     * must present a certificate that verifies against client_ca_pem. */
    const char *tls_cert_pem;
    const char *tls_key_pem;
    const char *client_ca_pem;
    const cr_service *services;
    size_t n_services;
    unsigned workers;          /* at most; 0: CR_SERVER_DEFAULT_WORKERS */
    size_t max_message;        /* 0: CR_SERVER_DEFAULT_MAX_MESSAGE */
    /* Optional: called once, from a worker thread, when the client has
     * gone away: it had opened held streams and the last of them ended
     * from the client's side while the server was not shutting down.
     * go-plugin's client holds its stdio and broker streams for the life
     * of its connection, so this is its connection closing (Terraform
     * closed it without a Shutdown, or Terraform died). The server itself
     * keeps serving; the callback decides (it may call cr_server_shutdown). */
    void (*client_gone)(void *arg);
    void *client_gone_arg;
} cr_server_config;

/* Builds, binds and starts the server (gRPC is initialised here). Method
 * paths must be unique across services. NULL with a reason in err. */
cr_server *cr_server_new(const cr_server_config *cfg, char *err, size_t errlen);

/* Worker threads started so far (they start on demand). */
unsigned cr_server_workers(cr_server *s);

/* Begins a graceful shutdown: no new calls; calls in flight finish (held
 * streams end with OK). Idempotent, callable from any thread, including a
 * handler (its own response is still sent). */
void cr_server_shutdown(cr_server *s);

/* Blocks until the server has shut down. If `signals` is non-NULL, those
 * signals start the shutdown: they must be blocked (pthread_sigmask) in
 * every thread, i.e. before cr_server_new, and are consumed through a
 * signalfd. Calls still open CR_SERVER_SHUTDOWN_GRACE_MS after shutdown
 * began are cancelled. Returns the signal that stopped the server, 0 when
 * something else did, -1 on a system error. */
int cr_server_run(cr_server *s, const sigset_t *signals);

/* Something else for the thread in cr_server_run to wait on, so that it
 * needs no thread of its own (the parent watch, plugin/parent.h): check is
 * called on that thread when `fd` turns readable (or reports an error),
 * and every `period_ms` if that is not 0. It returns true when the watch
 * is over (not called again); it may change fd and period_ms. */
typedef struct cr_server_watch cr_server_watch;
struct cr_server_watch {
    int fd;                             /* -1: none */
    int period_ms;                      /* 0: none */
    bool (*check)(cr_server_watch *w);
};

/* cr_server_run that also serves `watch` (NULL: none) while it waits. */
int cr_server_run_watching(cr_server *s, const sigset_t *signals,
                           cr_server_watch *watch);

/* Shuts down (if not yet), waits, releases everything, removes the unix
 * socket file. NULL is fine. */
void cr_server_free(cr_server *s);

/* cr_server_free for a process about to exit: the same for everything
 * outside (every call finished, the socket file removed, the server's own
 * threads and memory released) but gRPC's library-wide state (its executor
 * and timer threads, connection objects not yet released) is left to the
 * exit instead of grpc_shutdown(). That teardown waits for gRPC's internal
 * threads and for connection objects only a polling thread would release;
 * on a loaded machine it was seen taking more than the 2 s go-plugin gives
 * a plugin to exit after Shutdown. Exit soon after; call nothing of gRPC's
 * again. NULL is fine. */
void cr_server_free_at_exit(cr_server *s);

/* The server serving a call (handlers that act on the server: Shutdown). */
cr_server *cr_call_server(cr_call *call);

#endif
