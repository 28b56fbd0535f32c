/*
 * plugin/server.c — the gRPC server on the gRPC C core.
 *
 * Shape: one completion queue, a pool of worker threads all waiting on it,
 * and a few outstanding generic grpc_server_request_call()s. Every event on
 * the queue carries a cr_tag whose callback advances one call:
 *
 *   accept ─► unary:  RECV_MESSAGE ─► handler (on that worker) ─► SEND
 *                     (initial metadata, message, status) + RECV_CLOSE ─► free
 *          ─► server stream: RECV_MESSAGE ─► producer start; RECV_CLOSE;
 *                     then next ─► SEND_MESSAGE ─► (sent) next ─► ... ─►
 *                     SEND status ─► free (one send in flight at a time)
 *          ─► held stream: open with no worker (plugin/server.h, streams)
 *          ─► unknown path: status UNIMPLEMENTED at once
 *
 * A handler blocks only the worker it runs on, so up to `workers` calls are
 * served at the same time. All memory a call needs (its unpacked request,
 * its response) lives in the call's arena and goes when the call completes.
 *
 * Workers are started on demand (worker_busy): one at start-up, and another
 * whenever every started worker is inside a callback that may block (a
 * handler; see cr_tag.quick), up to `workers`. A
 * worker waiting in grpc_completion_queue_next is also what reads the
 * sockets (gRPC's pollers are the threads that wait on the queue), so one
 * must always be left waiting while handlers block, or the next request,
 * StopProvider among them, would not even be read. A provider answering
 * one Terraform operation at a time so runs two workers; each worker not
 * started is a thread stack, its TLS and a scheduler wake-up saved before
 * the handshake line.
 *
 * Shutdown (cr_server_shutdown) stops admitting calls, lets calls in flight
 * finish, ends held streams with OK, and after a grace period cancels what
 * is left. cr_server_free then waits for the last call, destroys the server,
 * drains the queue, joins the workers and removes the unix socket;
 * cr_server_free_at_exit does the same but leaves gRPC's library teardown
 * (grpc_shutdown) to the process exit.
 *
 * Held streams also tell when the client has gone: go-plugin's client
 * keeps them open for the life of its connection, so the last one ending
 * from the client's side, outside a shutdown, is the connection closing
 * (cr_server_config.client_gone).
 *
 * Locking: s->mu guards the shutdown state, the held-stream list and every
 * held stream's fields, and a server stream's batch count and end flags;
 * unary calls (and a server stream's other fields) are only ever touched by
 * the one worker that owns their current step, so they need no lock.
 */
#include "plugin/server.h"
#include "plugin/absl.h"
#include "common/errbuf.h"
#include "common/log.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>

#define CONTAINER_OF(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Pending request_call()s: a new call is admitted only against one, and
 * each is re-armed as soon as it fires, so this bounds nothing but latency. */
#define ACCEPT_SLOTS 8
#define CR_SERVER_MAX_STREAMS 128
#define PATH_LOG_MAX 160

typedef struct cr_tag {
    void (*done)(struct cr_tag *tag, bool ok);
    /* done never blocks (bookkeeping, no handler): the worker running it
     * needs no spare one left on the queue (worker_busy). A tag not marked
     * quick is taken to block, which is always safe. */
    bool quick;
} cr_tag;

/* A callback that blocks only in part (unary_received: unpacking and the
 * handler) has a quick tag and brackets that part itself. */
static void worker_busy(cr_server *s);
static void worker_idle(cr_server *s);

typedef struct cr_entry {
    const char *path;
    size_t len;
    const cr_method *method;            /* unary, or */
    const cr_stream_method *stream;     /* held stream */
    void *ctx;
} cr_entry;

typedef struct cr_accept {
    cr_tag tag;
    struct cr_server *srv;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array metadata;
} cr_accept;

typedef struct cr_stream cr_stream;

struct cr_server {
    grpc_server *server;
    grpc_completion_queue *cq;
    pthread_t *threads;         /* max_threads slots */
    unsigned n_threads;         /* started; only grows (under mu) */
    unsigned max_threads;
    unsigned busy_threads;      /* inside a callback (under mu) */
    cr_entry *entries;
    size_t n_entries;
    size_t max_message;
    char *socket_path;          /* unix socket file to remove, or NULL */
    cr_accept accepts[ACCEPT_SLOTS];

    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool started;               /* grpc_server_start was called */
    bool shutting_down;
    bool shutdown_done;         /* the shutdown tag came back */
    bool cancelled_all;
    struct timespec shutdown_at;
    size_t live_calls;          /* admitted and not yet freed */
    cr_stream *streams;         /* held streams */
    cr_tag shutdown_tag;
    int wake_fd;                /* eventfd: state changed, see cr_server_run */
    size_t streams_opened;      /* held streams ever admitted */
    bool client_gone_told;
    void (*client_gone)(void *arg);
    void *client_gone_arg;
};

/* ---- arena ------------------------------------------------------------- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
} arena_block;

#define ARENA_CHUNK 8192
#define ARENA_ALIGN 16

struct cr_call {
    cr_tag tag;
    cr_server *srv;
    grpc_call *call;
    const cr_entry *entry;      /* NULL: unknown method */
    grpc_byte_buffer *recv;
    grpc_byte_buffer *send;
    grpc_slice status_details;
    int cancelled;
    arena_block *arena;
    void **adopted;
    size_t n_adopted, cap_adopted;
    struct timespec started;
    char path[PATH_LOG_MAX];
    void *detached_ctx;         /* cr_call_ctx of a detached call */

    /* Server-streaming calls (produce_*). The arena above then holds the
     * message being built; what start allocated is kept here. */
    const cr_stream_producer *producer;
    void *pstate;
    arena_block *kept_arena;
    void **kept_adopted;
    size_t n_kept_adopted;
    cr_tag close_tag;
    unsigned long sent;         /* messages sent */
    bool metadata_sent;
    /* Under srv->mu: */
    int refs;                   /* batches in flight */
    bool peer_gone;             /* RECV_CLOSE came back, or a send failed */
    bool finished;              /* the status batch is started */
};

void *cr_call_alloc(cr_call *call, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - sizeof(arena_block) - ARENA_ALIGN)
        return NULL;
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

    arena_block *b = call->arena;
    if (b != NULL && b->cap - b->used >= size) {
        void *p = (char *)b->data + b->used;
        b->used += size;
        return p;
    }
    /* Big requests get a block of their own, linked behind the current
     * one so the current block keeps serving small ones. */
    size_t cap = size > ARENA_CHUNK / 2 ? size : ARENA_CHUNK;
    arena_block *nb = calloc(1, sizeof *nb + cap);
    if (nb == NULL)
        return NULL;
    nb->cap = cap;
    nb->used = size;
    if (b != NULL && cap != ARENA_CHUNK) {
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        call->arena = nb;
    }
    return nb->data;
}

char *cr_call_strdup(cr_call *call, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = cr_call_alloc(call, n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

void cr_call_adopt(cr_call *call, void *ptr)
{
    if (ptr == NULL)
        return;
    if (call->n_adopted == call->cap_adopted) {
        size_t cap = call->cap_adopted ? call->cap_adopted * 2 : 8;
        void **np = realloc(call->adopted, cap * sizeof *np);
        if (np == NULL) {
            /* Cannot keep it until the call ends. The handler still holds
             * it in its response, so freeing now would be worse: leak. */
            cr_log_error("server", "out of memory adopting a buffer");
            return;
        }
        call->adopted = np;
        call->cap_adopted = cap;
    }
    call->adopted[call->n_adopted++] = ptr;
}

void *cr_call_ctx(cr_call *call)
{
    return call->entry != NULL ? call->entry->ctx : call->detached_ctx;
}

static void arena_free(arena_block *b, void **adopted, size_t n_adopted)
{
    for (size_t i = 0; i < n_adopted; i++)
        free(adopted[i]);
    free(adopted);
    while (b != NULL) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
}

/* Frees what the call's arena holds now (a stream's message) and empties
 * it. */
static void call_memory_drop(cr_call *c)
{
    arena_free(c->arena, c->adopted, c->n_adopted);
    c->arena = NULL;
    c->adopted = NULL;
    c->n_adopted = c->cap_adopted = 0;
}

/* Frees what the call's handler allocated or handed over. */
static void call_memory_free(cr_call *c)
{
    call_memory_drop(c);
    arena_free(c->kept_arena, c->kept_adopted, c->n_kept_adopted);
    c->kept_arena = NULL;
    c->kept_adopted = NULL;
    c->n_kept_adopted = 0;
}

cr_call *cr_call_new_detached(void *ctx)
{
    cr_call *c = calloc(1, sizeof *c);
    if (c != NULL)
        c->detached_ctx = ctx;
    return c;
}

size_t cr_call_footprint(const cr_call *call)
{
    size_t n = call->n_adopted;
    for (const arena_block *b = call->arena; b != NULL; b = b->next)
        n += b->used;
    return n;
}

void cr_call_free_detached(cr_call *call)
{
    if (call == NULL)
        return;
    call_memory_free(call);
    free(call);
}

cr_server *cr_call_server(cr_call *call)
{
    return call->srv;
}

static void *pb_arena_alloc(void *data, size_t size)
{
    return cr_call_alloc(data, size);
}

static void pb_arena_free(void *data, void *ptr)
{
    (void)data;
    (void)ptr;      /* released with the arena */
}

/* ---- small helpers ----------------------------------------------------- */

static void wake(cr_server *s)
{
    uint64_t one = 1;
    ssize_t w = write(s->wake_fd, &one, sizeof one);
    (void)w;    /* EAGAIN: the counter is already non-zero, still woken */
}

static const char *status_name(int code)
{
    static const char *const names[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE",
        "DATA_LOSS", "UNAUTHENTICATED"
    };
    return code >= 0 && code <= 16 ? names[code] : "?";
}

/* Printable copy of a (hostile) method path, for logs and status text. */
static void copy_path(char *dst, size_t cap, grpc_slice path)
{
    size_t n = GRPC_SLICE_LENGTH(path);
    const unsigned char *p = GRPC_SLICE_START_PTR(path);
    size_t i;
    for (i = 0; i < n && i + 1 < cap; i++)
        dst[i] = (p[i] >= 0x20 && p[i] < 0x7F) ? (char)p[i] : '?';
    dst[i] = '\0';
}

static const cr_entry *lookup(const cr_server *s, const void *path, size_t len)
{
    size_t lo = 0, hi = s->n_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const cr_entry *e = &s->entries[mid];
        size_t n = e->len < len ? e->len : len;
        int c = memcmp(e->path, path, n);
        if (c == 0)
            c = e->len < len ? -1 : e->len > len ? 1 : 0;
        if (c == 0)
            return e;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const cr_entry *)a)->path, ((const cr_entry *)b)->path);
}

static void call_released(cr_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->live_calls--;
    bool notify = s->live_calls == 0 && s->shutting_down;
    pthread_mutex_unlock(&s->mu);
    if (notify) {
        pthread_cond_broadcast(&s->cv);
        wake(s);
    }
}

/* ---- unary calls ------------------------------------------------------- */

static void unary_free(cr_call *c)
{
    cr_server *s = c->srv;
    if (c->recv != NULL)
        grpc_byte_buffer_destroy(c->recv);
    if (c->send != NULL)
        grpc_byte_buffer_destroy(c->send);
    grpc_slice_unref(c->status_details);
    grpc_call_unref(c->call);
    call_memory_free(c);
    free(c);
    call_released(s);
}

static void unary_sent(cr_tag *tag, bool ok)
{
    cr_call *c = CONTAINER_OF(tag, cr_call, tag);
    if (!ok)
        cr_log_debug("server", "response to %s was not delivered", c->path);
    unary_free(c);
}

/* A message packed into a gRPC byte buffer; NULL if it cannot be. */
static grpc_byte_buffer *pack_message(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    grpc_slice slice = grpc_slice_malloc(n);
    size_t w = protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(slice));
    grpc_byte_buffer *b = w == n ? grpc_raw_byte_buffer_create(&slice, 1)
                                 : NULL;
    grpc_slice_unref(slice);
    return b;
}

/* A handler's status code, checked: anything but a grpc_status_code is the
 * handler's bug, answered INTERNAL. */
static int checked_status(const cr_call *c, int code, const char **message)
{
    if (code >= 0 && code <= 16)
        return code;
    cr_log_error("server", "%s: handler returned status %d", c->path, code);
    *message = "internal error: invalid status";
    return GRPC_STATUS_INTERNAL;
}

/* Sends the response (on OK) and the status, then frees the call. */
static void unary_respond(cr_call *c, int code, const char *message,
                          const ProtobufCMessage *response)
{
    if (code == GRPC_STATUS_OK && response != NULL &&
        (c->send = pack_message(response)) == NULL) {
        code = GRPC_STATUS_INTERNAL;
        message = "response could not be encoded";
    }
    c->status_details = grpc_slice_from_copied_string(
        message != NULL ? message : "");

    if (cr_log_enabled(CR_LOG_TRACE)) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long us = (now.tv_sec - c->started.tv_sec) * 1000000L +
                  (now.tv_nsec - c->started.tv_nsec) / 1000;
        char dur[32];
        snprintf(dur, sizeof dur, "%ld", us);
        cr_log_kv(CR_LOG_TRACE, "server", "call served", "method", c->path,
                  "status", status_name(code), "duration_us", dur, NULL);
    }

    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[n].data.send_initial_metadata.count = 0;
    n++;
    if (c->send != NULL) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = c->send;
        n++;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.trailing_metadata_count = 0;
    ops[n].data.send_status_from_server.status = (grpc_status_code)code;
    ops[n].data.send_status_from_server.status_details = &c->status_details;
    n++;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n].data.recv_close_on_server.cancelled = &c->cancelled;
    n++;

    c->tag.done = unary_sent;
    c->tag.quick = true;
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, &c->tag, NULL);
    if (e != GRPC_CALL_OK) {
        cr_log_error("server", "cannot answer %s (call error %d)", c->path, e);
        unary_free(c);
    }
}

static void produce_begin(cr_call *c, const ProtobufCMessage *request);

static void unary_received(cr_tag *tag, bool ok)
{
    cr_call *c = CONTAINER_OF(tag, cr_call, tag);
    if (!ok) {      /* the client went away before sending its request */
        unary_free(c);
        return;
    }
    if (c->recv == NULL) {
        unary_respond(c, GRPC_STATUS_INVALID_ARGUMENT,
                      "the request message is missing", NULL);
        return;
    }

    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, c->recv)) {
        unary_respond(c, GRPC_STATUS_INVALID_ARGUMENT,
                      "the request message cannot be read", NULL);
        return;
    }
    grpc_slice bytes = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    grpc_byte_buffer_destroy(c->recv);
    c->recv = NULL;

    /* Unpacking (a fleet's request is tens of MB) and the handler may take
     * long: this worker counts as busy until the answer is ready, and no
     * longer, so the next request of a caller that waits for this answer
     * never finds it still busy (which would start a worker for nothing). */
    const cr_method *m = c->entry->method;
    bool counted = !(m->quick && m->handler != NULL);
    if (counted)
        worker_busy(c->srv);
    ProtobufCAllocator alloc = {pb_arena_alloc, pb_arena_free, c};
    ProtobufCMessage *request = protobuf_c_message_unpack(
        m->request_desc, &alloc, GRPC_SLICE_LENGTH(bytes),
        GRPC_SLICE_START_PTR(bytes));
    grpc_slice_unref(bytes);
    if (request == NULL) {
        if (counted)
            worker_idle(c->srv);
        char msg[256];
        snprintf(msg, sizeof msg, "the request is not a valid %s message",
                 m->request_desc->name);
        cr_log_warn("server", "%s: %s", c->path, msg);
        unary_respond(c, GRPC_STATUS_INVALID_ARGUMENT, msg, NULL);
        return;
    }
    if (m->producer != NULL) {
        /* The stream's later steps ask the producer for a page of the
         * store each, so their tag is not quick: the dispatcher counts
         * them busy one by one (and this first one here). */
        cr_server *s = c->srv;
        c->tag.quick = false;
        produce_begin(c, request);
        worker_idle(s);
        return;
    }

    ProtobufCMessage *response = NULL;
    const char *message = NULL;
    int code = checked_status(c, m->handler(c, request, &response, &message),
                              &message);
    if (counted)
        worker_idle(c->srv);
    if (code == GRPC_STATUS_OK && response == NULL) {
        cr_log_error("server", "%s: handler returned no response", c->path);
        code = GRPC_STATUS_INTERNAL;
        message = "internal error: no response";
    }
    unary_respond(c, code, message, code == GRPC_STATUS_OK ? response : NULL);
}

static cr_call *call_new(cr_server *s, grpc_call *call, const cr_entry *e,
                         const char *path)
{
    cr_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->srv = s;
    c->call = call;
    c->entry = e;
    c->status_details = grpc_empty_slice();
    clock_gettime(CLOCK_MONOTONIC, &c->started);
    snprintf(c->path, sizeof c->path, "%s", path);
    return c;
}

static void unary_start(cr_call *c)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &c->recv;
    c->tag.done = unary_received;
    c->tag.quick = true;    /* it marks its own blocking part */
    grpc_call_error e = grpc_call_start_batch(c->call, &op, 1, &c->tag, NULL);
    if (e != GRPC_CALL_OK) {
        cr_log_error("server", "cannot read %s (call error %d)", c->path, e);
        unary_free(c);
    }
}

/* ---- server-streaming calls -------------------------------------------- *
 *
 * The call's batches: RECV_CLOSE_ON_SERVER for its whole life (it comes
 * back when the client cancels, or once the status is out), and one at a
 * time of SEND_MESSAGE (the next is asked for when it completes) and, at
 * the end, SEND_STATUS. The call is freed when the last of them is back
 * after the status was started (refs, under s->mu). */

/* Under s->mu: drops one batch; true when the call is to be freed. */
static bool produce_release(cr_call *c)
{
    return --c->refs == 0 && c->finished;
}

static void produce_done(cr_call *c)
{
    pthread_mutex_lock(&c->srv->mu);
    bool dead = produce_release(c);
    pthread_mutex_unlock(&c->srv->mu);
    if (dead)
        unary_free(c);
}

static void produce_status_sent(cr_tag *tag, bool ok)
{
    (void)ok;
    produce_done(CONTAINER_OF(tag, cr_call, tag));
}

static void produce_closed(cr_tag *tag, bool ok)
{
    (void)ok;
    cr_call *c = CONTAINER_OF(tag, cr_call, close_tag);
    pthread_mutex_lock(&c->srv->mu);
    c->peer_gone = true;        /* cancelled, or the status is out */
    bool dead = produce_release(c);
    pthread_mutex_unlock(&c->srv->mu);
    if (dead)
        unary_free(c);
}

/* Starts `op` (a message or the status) on the call's tag, after the
 * initial metadata the first time, and counts the batch; `last` marks the
 * status, in the same step, so that the call cannot be freed in between.
 * On failure the call is cancelled and nothing is counted; a failed status
 * is the end, so the call is then freed unless RECV_CLOSE is still out (it
 * frees it): the caller must not touch it again. */
static grpc_call_error produce_send(cr_call *c, const grpc_op *op, bool last,
                                    void (*done)(cr_tag *, bool))
{
    grpc_op ops[2];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    if (!c->metadata_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        c->metadata_sent = true;
    }
    ops[n++] = *op;
    c->tag.done = done;
    pthread_mutex_lock(&c->srv->mu);
    c->refs++;
    c->finished = c->finished || last;
    pthread_mutex_unlock(&c->srv->mu);
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, &c->tag, NULL);
    if (e != GRPC_CALL_OK) {
        cr_log_error("server", "cannot %s %s (call error %d)",
                     last ? "end stream" : "send on", c->path, e);
        grpc_call_cancel(c->call, NULL);
        produce_done(c);        /* the batch counted above never runs */
    }
    return e;
}

/* Ends the stream: the producer's end, then the status. */
static void produce_finish(cr_call *c, cr_stream_end why, int code,
                           const char *message)
{
    if (c->producer != NULL)
        c->producer->end(c->pstate, why);
    c->producer = NULL;
    c->pstate = NULL;
    call_memory_drop(c);
    c->status_details = grpc_slice_from_copied_string(
        message != NULL ? message : "");
    cr_log_kv(CR_LOG_TRACE, "server", "stream served", "method", c->path,
              "status", status_name(code), "reason",
              why == CR_STREAM_DONE ? "done"
              : why == CR_STREAM_CANCELLED ? "cancelled" : "shutdown", NULL);
    char sent[32];
    snprintf(sent, sizeof sent, "%lu", c->sent);
    cr_log_kv(CR_LOG_TRACE, "server", "stream messages", "method", c->path,
              "sent", sent, NULL);

    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    op.data.send_status_from_server.status = (grpc_status_code)code;
    op.data.send_status_from_server.status_details = &c->status_details;
    produce_send(c, &op, true, produce_status_sent);
}

static void produce_sent(cr_tag *tag, bool ok);

/* Asks the producer for the next message and sends it, or ends the stream
 * (the producer said so, the client is gone, the server is stopping). */
static void produce_step(cr_call *c)
{
    pthread_mutex_lock(&c->srv->mu);
    bool gone = c->peer_gone, stopping = c->srv->shutting_down;
    pthread_mutex_unlock(&c->srv->mu);
    if (gone) {
        produce_finish(c, CR_STREAM_CANCELLED, GRPC_STATUS_CANCELLED,
                       "the client went away");
        return;
    }
    if (stopping) {
        produce_finish(c, CR_STREAM_SHUTDOWN, GRPC_STATUS_UNAVAILABLE,
                       "the server is shutting down");
        return;
    }
    ProtobufCMessage *msg = NULL;
    const char *message = NULL;
    int code = checked_status(c, c->producer->next(c, c->pstate, &msg,
                                                   &message), &message);
    if (code != GRPC_STATUS_OK || msg == NULL) {
        produce_finish(c, CR_STREAM_DONE, code, message);
        return;
    }
    c->send = pack_message(msg);
    call_memory_drop(c);        /* the message lives on in c->send */
    if (c->send == NULL) {
        produce_finish(c, CR_STREAM_DONE, GRPC_STATUS_INTERNAL,
                       "a message could not be encoded");
        return;
    }
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = c->send;
    if (produce_send(c, &op, false, produce_sent) != GRPC_CALL_OK) {
        pthread_mutex_lock(&c->srv->mu);
        c->peer_gone = true;
        pthread_mutex_unlock(&c->srv->mu);
        grpc_byte_buffer_destroy(c->send);
        c->send = NULL;
        produce_finish(c, CR_STREAM_CANCELLED, GRPC_STATUS_INTERNAL,
                       "a message could not be sent");
    }
}

static void produce_sent(cr_tag *tag, bool ok)
{
    cr_call *c = CONTAINER_OF(tag, cr_call, tag);
    grpc_byte_buffer_destroy(c->send);
    c->send = NULL;
    pthread_mutex_lock(&c->srv->mu);
    c->refs--;                  /* never the last: RECV_CLOSE is still out */
    if (!ok)
        c->peer_gone = true;
    pthread_mutex_unlock(&c->srv->mu);
    if (ok)
        c->sent++;
    produce_step(c);
}

static void produce_begin(cr_call *c, const ProtobufCMessage *request)
{
    const cr_stream_producer *p = c->entry->method->producer;
    const char *message = NULL;
    c->producer = p;
    int code = checked_status(c, p->start(c, request, &c->pstate, &message),
                              &message);
    if (code != GRPC_STATUS_OK) {
        p->end(c->pstate, CR_STREAM_DONE);
        c->producer = NULL;
        c->pstate = NULL;
        unary_respond(c, code, message, NULL);
        return;
    }
    /* The request and what start made stay for the call's life; the arena
     * serves one message at a time from now on. */
    c->kept_arena = c->arena;
    c->kept_adopted = c->adopted;
    c->n_kept_adopted = c->n_adopted;
    c->arena = NULL;
    c->adopted = NULL;
    c->n_adopted = c->cap_adopted = 0;

    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &c->cancelled;
    c->close_tag.done = produce_closed;
    c->refs = 1;
    grpc_call_error e = grpc_call_start_batch(c->call, &op, 1, &c->close_tag,
                                              NULL);
    if (e != GRPC_CALL_OK) {
        cr_log_error("server", "cannot watch %s (call error %d)", c->path, e);
        c->refs = 0;
        c->peer_gone = true;
    }
    produce_step(c);
}

/* ---- held streams ------------------------------------------------------ */

struct cr_stream {
    cr_server *srv;
    grpc_call *call;
    cr_stream_mode mode;
    cr_tag recv_tag, send_tag, close_tag, status_tag;
    grpc_byte_buffer *recv;
    int cancelled;
    int refs;                   /* batches in flight */
    bool send_busy, closed, want_finish, status_started;
    cr_stream *prev, *next;
    char path[PATH_LOG_MAX];
};

/* Under s->mu. Starts a batch and counts it; false if it could not start. */
static bool stream_batch(cr_stream *st, grpc_op *ops, size_t n, cr_tag *tag)
{
    grpc_call_error e = grpc_call_start_batch(st->call, ops, n, tag, NULL);
    if (e != GRPC_CALL_OK) {
        cr_log_error("server", "stream %s: call error %d", st->path, e);
        return false;
    }
    st->refs++;
    return true;
}

static void stream_post_recv(cr_stream *st)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &st->recv;
    stream_batch(st, &op, 1, &st->recv_tag);
}

/* Under s->mu: ends the stream with OK once nothing is being sent. */
static void stream_try_finish(cr_stream *st)
{
    if (!st->want_finish || st->send_busy || st->status_started)
        return;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    op.data.send_status_from_server.status = GRPC_STATUS_OK;
    st->status_started = true;
    if (!stream_batch(st, &op, 1, &st->status_tag))
        grpc_call_cancel(st->call, NULL);
}

/* Under s->mu: drops one batch reference; true when the stream is done and
 * must be freed (after unlocking) with stream_free. */
static bool stream_release(cr_stream *st)
{
    if (--st->refs > 0)
        return false;
    cr_server *s = st->srv;
    if (st->prev != NULL)
        st->prev->next = st->next;
    else
        s->streams = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    return true;
}

static void stream_free(cr_stream *st)
{
    cr_server *s = st->srv;
    cr_log_trace("server", "stream %s closed", st->path);
    if (st->recv != NULL)
        grpc_byte_buffer_destroy(st->recv);
    grpc_call_unref(st->call);
    free(st);
    /* The last held stream ended and not by our shutdown: the client has
     * gone away (cr_server_config.client_gone). */
    pthread_mutex_lock(&s->mu);
    bool gone = s->client_gone != NULL && s->streams == NULL &&
                s->streams_opened > 0 && !s->shutting_down &&
                !s->client_gone_told;
    if (gone)
        s->client_gone_told = true;
    pthread_mutex_unlock(&s->mu);
    if (gone) {
        cr_log_debug("server", "the client closed its last held stream");
        s->client_gone(s->client_gone_arg);
    }
    call_released(s);
}

static void stream_recv_done(cr_tag *tag, bool ok)
{
    cr_stream *st = CONTAINER_OF(tag, cr_stream, recv_tag);
    cr_server *s = st->srv;
    pthread_mutex_lock(&s->mu);
    bool got = st->recv != NULL;
    if (got) {
        grpc_byte_buffer_destroy(st->recv);     /* content is not used */
        st->recv = NULL;
    }
    if (!ok || !got) {
        /* Client half-closed or went away: a bidi stream is over; a server
         * stream that never got its request is over too. */
        st->want_finish = true;
    } else if (st->mode == CR_STREAM_HOLD_BIDI && !st->closed &&
               !st->status_started) {
        stream_post_recv(st);
    }
    stream_try_finish(st);
    bool dead = stream_release(st);
    pthread_mutex_unlock(&s->mu);
    if (dead)
        stream_free(st);
}

static void stream_send_done(cr_tag *tag, bool ok)
{
    cr_stream *st = CONTAINER_OF(tag, cr_stream, send_tag);
    cr_server *s = st->srv;
    pthread_mutex_lock(&s->mu);
    st->send_busy = false;
    if (!ok)
        st->want_finish = true;
    stream_try_finish(st);
    bool dead = stream_release(st);
    pthread_mutex_unlock(&s->mu);
    if (dead)
        stream_free(st);
}

static void stream_close_done(cr_tag *tag, bool ok)
{
    (void)ok;
    cr_stream *st = CONTAINER_OF(tag, cr_stream, close_tag);
    cr_server *s = st->srv;
    pthread_mutex_lock(&s->mu);
    st->closed = true;
    st->want_finish = true;
    stream_try_finish(st);
    bool dead = stream_release(st);
    pthread_mutex_unlock(&s->mu);
    if (dead)
        stream_free(st);
}

static void stream_status_done(cr_tag *tag, bool ok)
{
    (void)ok;
    cr_stream *st = CONTAINER_OF(tag, cr_stream, status_tag);
    cr_server *s = st->srv;
    pthread_mutex_lock(&s->mu);
    bool dead = stream_release(st);
    pthread_mutex_unlock(&s->mu);
    if (dead)
        stream_free(st);
}

static void stream_start(cr_server *s, grpc_call *call, const cr_entry *e,
                         const char *path)
{
    cr_stream *st = calloc(1, sizeof *st);
    if (st == NULL) {
        grpc_call_cancel_with_status(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                                     "out of memory", NULL);
        grpc_call_unref(call);
        call_released(s);
        return;
    }
    st->srv = s;
    st->call = call;
    st->mode = e->stream->mode;
    st->recv_tag.done = stream_recv_done;
    st->send_tag.done = stream_send_done;
    st->close_tag.done = stream_close_done;
    st->status_tag.done = stream_status_done;
    st->recv_tag.quick = st->send_tag.quick = true;
    st->close_tag.quick = st->status_tag.quick = true;
    snprintf(st->path, sizeof st->path, "%s", path);
    cr_log_trace("server", "stream %s opened", st->path);

    pthread_mutex_lock(&s->mu);
    st->next = s->streams;
    if (s->streams != NULL)
        s->streams->prev = st;
    s->streams = st;
    s->streams_opened++;

    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &st->cancelled;
    bool ok = stream_batch(st, &op, 1, &st->close_tag);

    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_INITIAL_METADATA;
    if (ok && stream_batch(st, &op, 1, &st->send_tag))
        st->send_busy = true;
    if (ok)
        stream_post_recv(st);
    if (!ok || s->shutting_down)
        st->want_finish = true;
    if (ok)
        stream_try_finish(st);
    bool dead = st->refs == 0;
    if (dead) {
        st->refs = 1;           /* let stream_release unlink it */
        stream_release(st);
    }
    pthread_mutex_unlock(&s->mu);
    if (dead) {
        grpc_call_cancel(call, NULL);
        stream_free(st);
    }
}

/* ---- accepting calls --------------------------------------------------- */

static void accept_done(cr_tag *tag, bool ok);

/* Re-arms one request_call slot unless the server is shutting down. */
static void accept_arm(cr_accept *a)
{
    cr_server *s = a->srv;
    a->call = NULL;
    grpc_call_details_init(&a->details);
    grpc_metadata_array_init(&a->metadata);
    a->tag.done = accept_done;
    a->tag.quick = true;
    pthread_mutex_lock(&s->mu);
    grpc_call_error e = GRPC_CALL_OK;
    if (!s->shutting_down)
        e = grpc_server_request_call(s->server, &a->call, &a->details,
                                     &a->metadata, s->cq, s->cq, &a->tag);
    bool armed = !s->shutting_down && e == GRPC_CALL_OK;
    pthread_mutex_unlock(&s->mu);
    if (!armed) {
        if (e != GRPC_CALL_OK)
            cr_log_error("server", "cannot wait for calls (call error %d)", e);
        grpc_call_details_destroy(&a->details);
        grpc_metadata_array_destroy(&a->metadata);
    }
}

static void accept_done(cr_tag *tag, bool ok)
{
    cr_accept *a = CONTAINER_OF(tag, cr_accept, tag);
    cr_server *s = a->srv;
    if (!ok) {      /* the server is shutting down: this slot is retired */
        grpc_call_details_destroy(&a->details);
        grpc_metadata_array_destroy(&a->metadata);
        return;
    }
    grpc_call *call = a->call;
    const cr_entry *e = lookup(s, GRPC_SLICE_START_PTR(a->details.method),
                               GRPC_SLICE_LENGTH(a->details.method));
    char path[PATH_LOG_MAX];
    copy_path(path, sizeof path, a->details.method);
    grpc_call_details_destroy(&a->details);
    grpc_metadata_array_destroy(&a->metadata);

    pthread_mutex_lock(&s->mu);
    s->live_calls++;
    pthread_mutex_unlock(&s->mu);
    accept_arm(a);

    if (e != NULL && e->stream != NULL) {
        stream_start(s, call, e, path);
        return;
    }
    cr_call *c = call_new(s, call, e, path);
    if (c == NULL) {
        grpc_call_cancel_with_status(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                                     "out of memory", NULL);
        grpc_call_unref(call);
        call_released(s);
        return;
    }
    if (e == NULL) {
        char msg[PATH_LOG_MAX + 64];
        snprintf(msg, sizeof msg, "unknown method %s", path);
        cr_log_debug("server", "%s", msg);
        unary_respond(c, GRPC_STATUS_UNIMPLEMENTED, msg, NULL);
        return;
    }
    unary_start(c);
}

/* ---- workers, logging, lifecycle --------------------------------------- */

static void *worker_main(void *arg);

/* Under s->mu: starts one more worker. */
static int worker_start(cr_server *s)
{
    int rc = pthread_create(&s->threads[s->n_threads], NULL, worker_main, s);
    if (rc == 0)
        s->n_threads++;
    return rc;
}

/* A worker is about to run something that may block for as long as a
 * handler runs (a routing-map write, a rate-limit wait). If it was the last
 * worker waiting on the queue, one more is started first, so that the
 * sockets keep being read. Bookkeeping callbacks (cr_tag.quick) are not
 * counted: two short ones that happen to overlap on a loaded machine would
 * start workers that the calls never need. */
static void worker_busy(cr_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->busy_threads++;
    /* Not once shutting down: no call is admitted any more, and the set of
     * workers server_release joins must stay fixed. */
    if (s->busy_threads == s->n_threads && s->n_threads < s->max_threads &&
        !s->shutting_down) {
        int rc = worker_start(s);
        if (rc != 0)
            cr_log_warn("server", "cannot start another worker thread (%s): "
                        "%u calls at a time", strerror(rc), s->n_threads);
        else
            cr_log_trace("server", "worker %u started", s->n_threads);
    }
    pthread_mutex_unlock(&s->mu);
}

static void worker_idle(cr_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->busy_threads--;
    pthread_mutex_unlock(&s->mu);
}

static void *worker_main(void *arg)
{
    cr_server *s = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(
            s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type == GRPC_OP_COMPLETE) {
            cr_tag *tag = ev.tag;
            if (tag->quick) {
                tag->done(tag, ev.success != 0);
            } else {
                worker_busy(s);
                tag->done(tag, ev.success != 0);
                worker_idle(s);
            }
        }
    }
    return NULL;
}

unsigned cr_server_workers(cr_server *s)
{
    pthread_mutex_lock(&s->mu);
    unsigned n = s->n_threads;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void shutdown_done(cr_tag *tag, bool ok)
{
    (void)ok;
    cr_server *s = CONTAINER_OF(tag, cr_server, shutdown_tag);
    pthread_mutex_lock(&s->mu);
    s->shutdown_done = true;
    pthread_mutex_unlock(&s->mu);
    pthread_cond_broadcast(&s->cv);
    wake(s);
}

/* gRPC's own messages go through our log, so nothing but JSON lines ever
 * reaches stderr (and nothing at all unless TF_LOG asks for it). */
static void grpc_log_sink(gpr_log_func_args *args)
{
    cr_log_level level = args->severity == GPR_LOG_SEVERITY_ERROR ? CR_LOG_ERROR
                       : args->severity == GPR_LOG_SEVERITY_INFO  ? CR_LOG_INFO
                       : CR_LOG_DEBUG;
    if (!cr_log_enabled(level))
        return;
    char where[64];
    snprintf(where, sizeof where, "%d", args->line);
    cr_log_kv(level, "grpc", args->message, "file", args->file,
              "line", where, NULL);
}

static int build_entries(cr_server *s, const cr_server_config *cfg,
                         char *err, size_t errlen)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_services; i++)
        n += cfg->services[i].n_methods + cfg->services[i].n_streams;
    s->entries = calloc(n ? n : 1, sizeof *s->entries);
    if (s->entries == NULL)
        return cr_errbuf_set(err, errlen, "out of memory");
    for (size_t i = 0; i < cfg->n_services; i++) {
        const cr_service *sv = &cfg->services[i];
        for (size_t j = 0; j < sv->n_methods; j++) {
            const cr_method *m = &sv->methods[j];
            if (m->path == NULL || m->path[0] != '/' ||
                (m->handler == NULL) == (m->producer == NULL) ||
                m->request_desc == NULL)
                return cr_errbuf_set(err, errlen, "method %zu of service %zu is "
                            "incomplete", j, i);
            s->entries[s->n_entries++] = (cr_entry){
                m->path, strlen(m->path), m, NULL, sv->ctx};
        }
        for (size_t j = 0; j < sv->n_streams; j++) {
            const cr_stream_method *m = &sv->streams[j];
            if (m->path == NULL || m->path[0] != '/')
                return cr_errbuf_set(err, errlen, "stream %zu of service %zu has no "
                            "path", j, i);
            s->entries[s->n_entries++] = (cr_entry){
                m->path, strlen(m->path), NULL, m, sv->ctx};
        }
    }
    qsort(s->entries, s->n_entries, sizeof *s->entries, entry_cmp);
    for (size_t i = 1; i < s->n_entries; i++)
        if (strcmp(s->entries[i - 1].path, s->entries[i].path) == 0)
            return cr_errbuf_set(err, errlen, "method %s is registered twice",
                        s->entries[i].path);
    return 0;
}

/* Before gRPC's first start: its log through ours, Abseil's deadlock
 * detector off (plugin/absl.cc). */
static pthread_once_t grpc_setup_once = PTHREAD_ONCE_INIT;
static void grpc_setup(void)
{
    gpr_set_log_function(grpc_log_sink);
    cr_absl_configure();
}

cr_server *cr_server_new(const cr_server_config *cfg, char *err, size_t errlen)
{
    if (cfg == NULL || cfg->address == NULL) {
        cr_errbuf_set(err, errlen, "no listen address");
        return NULL;
    }
    bool tls = cfg->tls_cert_pem != NULL || cfg->tls_key_pem != NULL ||
               cfg->client_ca_pem != NULL;
    if (tls && (cfg->tls_cert_pem == NULL || cfg->tls_key_pem == NULL ||
                cfg->client_ca_pem == NULL)) {
        cr_errbuf_set(err, errlen, "TLS needs a certificate, a key and a client CA");
        return NULL;
    }

    cr_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        cr_errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    s->wake_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->shutdown_tag.done = shutdown_done;
    s->shutdown_tag.quick = true;
    s->max_message = cfg->max_message ? cfg->max_message
                                      : CR_SERVER_DEFAULT_MAX_MESSAGE;
    if (s->max_message > INT_MAX)
        s->max_message = INT_MAX;
    s->max_threads = cfg->workers ? cfg->workers : CR_SERVER_DEFAULT_WORKERS;
    s->client_gone = cfg->client_gone;
    s->client_gone_arg = cfg->client_gone_arg;

    pthread_once(&grpc_setup_once, grpc_setup);
    grpc_init();

    if (build_entries(s, cfg, err, errlen) != 0)
        goto fail_early;
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd < 0) {
        cr_errbuf_set(err, errlen, "eventfd: %s", strerror(errno));
        goto fail_early;
    }

    /* Streams per connection are bounded so a misbehaving client cannot
     * make us hold unbounded state; Terraform uses about a dozen. Clients
     * queue beyond the bound, as HTTP/2 intends. */
    grpc_arg args[2];
    memset(args, 0, sizeof args);
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = (int)s->max_message;
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = GRPC_ARG_MAX_CONCURRENT_STREAMS;
    args[1].value.integer = CR_SERVER_MAX_STREAMS;
    grpc_channel_args chargs = {2, args};

    s->cq = grpc_completion_queue_create_for_next(NULL);
    s->server = grpc_server_create(&chargs, NULL);
    grpc_server_register_completion_queue(s->server, s->cq, NULL);

    grpc_server_credentials *creds;
    if (tls) {
        grpc_ssl_pem_key_cert_pair pair = {cfg->tls_key_pem, cfg->tls_cert_pem};
        creds = grpc_ssl_server_credentials_create_ex(
            cfg->client_ca_pem, &pair, 1,
            GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY, NULL);
    } else {
        creds = grpc_insecure_server_credentials_create();
    }
    int port = creds != NULL ?
        grpc_server_add_http2_port(s->server, cfg->address, creds) : 0;
    if (creds != NULL)
        grpc_server_credentials_release(creds);
    if (port == 0) {
        cr_errbuf_set(err, errlen, "cannot listen on %s%s", cfg->address,
             creds == NULL ? " (bad TLS credentials)" : "");
        grpc_server_destroy(s->server);
        s->server = NULL;
        goto fail_cq;
    }
    if (strncmp(cfg->address, "unix:", 5) == 0) {
        const char *p = cfg->address + 5;
        if (strncmp(p, "//", 2) == 0)
            p += 2;
        s->socket_path = strdup(p);
    }

    grpc_server_start(s->server);
    s->started = true;

    s->threads = calloc(s->max_threads, sizeof *s->threads);
    if (s->threads == NULL) {
        cr_errbuf_set(err, errlen, "out of memory");
        cr_server_free(s);
        return NULL;
    }
    pthread_mutex_lock(&s->mu);
    int rc = worker_start(s);
    pthread_mutex_unlock(&s->mu);
    if (rc != 0) {
        cr_errbuf_set(err, errlen, "cannot start a worker thread: %s", strerror(rc));
        cr_server_free(s);
        return NULL;
    }
    for (size_t i = 0; i < ACCEPT_SLOTS; i++) {
        s->accepts[i].srv = s;
        accept_arm(&s->accepts[i]);
    }
    cr_log_debug("server", "serving on %s (%s, up to %u workers)", cfg->address,
                 tls ? "mTLS" : "plaintext", s->max_threads);
    return s;

fail_cq:
    grpc_completion_queue_shutdown(s->cq);
    while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME),
                                      NULL).type != GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(s->cq);
fail_early:
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    free(s->entries);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    grpc_shutdown();
    return NULL;
}

void cr_server_shutdown(cr_server *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->shutting_down) {
        pthread_mutex_unlock(&s->mu);
        return;
    }
    s->shutting_down = true;
    clock_gettime(CLOCK_MONOTONIC, &s->shutdown_at);
    grpc_server_shutdown_and_notify(s->server, s->cq, &s->shutdown_tag);
    for (cr_stream *st = s->streams; st != NULL; st = st->next) {
        st->want_finish = true;
        stream_try_finish(st);
    }
    pthread_mutex_unlock(&s->mu);
    cr_log_debug("server", "shutting down");
    wake(s);
}

/* Under s->mu. */
static bool finished(const cr_server *s)
{
    return s->shutdown_done && s->live_calls == 0;
}

static long ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t->tv_sec) * 1000L +
           (now.tv_nsec - t->tv_nsec) / 1000000L;
}

int cr_server_run(cr_server *s, const sigset_t *signals)
{
    return cr_server_run_watching(s, signals, NULL);
}

int cr_server_run_watching(cr_server *s, const sigset_t *signals,
                           cr_server_watch *watch)
{
    int sfd = -1, stopped_by = 0;
    struct timespec checked;            /* the watch's last periodic check */
    clock_gettime(CLOCK_MONOTONIC, &checked);
    if (watch != NULL && watch->check(watch))   /* what happened before */
        watch = NULL;
    if (signals != NULL) {
        sfd = signalfd(-1, signals, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
            cr_log_error("server", "signalfd: %s", strerror(errno));
            return -1;
        }
    }
    for (;;) {
        pthread_mutex_lock(&s->mu);
        bool done = finished(s), stopping = s->shutting_down;
        bool cancelled = s->cancelled_all;
        struct timespec at = s->shutdown_at;
        pthread_mutex_unlock(&s->mu);
        if (done)
            break;

        int timeout = -1;
        if (watch != NULL && watch->period_ms > 0) {
            long left = watch->period_ms - ms_since(&checked);
            if (left <= 0) {
                clock_gettime(CLOCK_MONOTONIC, &checked);
                if (watch->check(watch))
                    watch = NULL;
                continue;
            }
            timeout = (int)left;
        }
        if (stopping && !cancelled) {
            long elapsed = ms_since(&at);
            if (elapsed >= CR_SERVER_SHUTDOWN_GRACE_MS) {
                cr_log_warn("server", "calls still open after %d ms: "
                            "cancelling them", CR_SERVER_SHUTDOWN_GRACE_MS);
                grpc_server_cancel_all_calls(s->server);
                pthread_mutex_lock(&s->mu);
                s->cancelled_all = true;
                pthread_mutex_unlock(&s->mu);
                continue;
            }
            long left = CR_SERVER_SHUTDOWN_GRACE_MS - elapsed;
            if (timeout < 0 || left < timeout)
                timeout = (int)left;
        }

        /* poll() skips the negative descriptors. */
        struct pollfd fds[3] = {
            {s->wake_fd, POLLIN, 0}, {sfd, POLLIN, 0},
            {watch != NULL ? watch->fd : -1, POLLIN, 0}};
        int rc = poll(fds, 3, timeout);
        if (rc < 0 && errno != EINTR) {
            cr_log_error("server", "poll: %s", strerror(errno));
            stopped_by = -1;
            cr_server_shutdown(s);
            /* keep waiting for the shutdown itself, without polling */
            pthread_mutex_lock(&s->mu);
            while (!finished(s))
                pthread_cond_wait(&s->cv, &s->mu);
            pthread_mutex_unlock(&s->mu);
            break;
        }
        if (rc > 0 && (fds[0].revents & POLLIN)) {
            uint64_t v;
            ssize_t r = read(s->wake_fd, &v, sizeof v);
            (void)r;
        }
        if (rc > 0 && sfd >= 0 && (fds[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                cr_log_info("server", "received signal %u, shutting down",
                            si.ssi_signo);
                if (stopped_by == 0)
                    stopped_by = (int)si.ssi_signo;
                cr_server_shutdown(s);
            }
        }
        if (rc > 0 && watch != NULL && fds[2].fd >= 0 && fds[2].revents != 0 &&
            watch->check(watch))
            watch = NULL;
    }
    if (sfd >= 0)
        close(sfd);
    return stopped_by;
}

/* cr_server_free and cr_server_free_at_exit: all but grpc_shutdown(). */
static void server_release(cr_server *s)
{
    /* Shutting down from here on: no worker is started any more (none
     * ever was before grpc_server_start). */
    if (s->started)
        cr_server_shutdown(s);
    pthread_mutex_lock(&s->mu);
    unsigned n_threads = s->n_threads;
    pthread_mutex_unlock(&s->mu);
    if (s->started) {
        if (n_threads > 0) {
            cr_server_run(s, NULL);
        } else {
            /* Start-up failed before any worker ran and before any call was
             * admitted: deliver the shutdown tag ourselves. */
            while (!s->shutdown_done) {
                grpc_event ev = grpc_completion_queue_next(
                    s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
                if (ev.type == GRPC_OP_COMPLETE)
                    ((cr_tag *)ev.tag)->done(ev.tag, ev.success != 0);
            }
        }
        grpc_server_destroy(s->server);
    }
    grpc_completion_queue_shutdown(s->cq);
    for (unsigned i = 0; i < n_threads; i++)
        pthread_join(s->threads[i], NULL);
    if (n_threads == 0) {
        /* No worker drained the queue: do it here. */
        while (grpc_completion_queue_next(s->cq,
                   gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
               GRPC_QUEUE_SHUTDOWN)
            ;
    }
    grpc_completion_queue_destroy(s->cq);
    if (s->socket_path != NULL) {
        if (unlink(s->socket_path) != 0 && errno != ENOENT)
            cr_log_warn("server", "cannot remove %s: %s", s->socket_path,
                        strerror(errno));
        free(s->socket_path);
    }
    close(s->wake_fd);
    free(s->threads);
    free(s->entries);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

void cr_server_free(cr_server *s)
{
    if (s == NULL)
        return;
    server_release(s);
    grpc_shutdown();
}

void cr_server_free_at_exit(cr_server *s)
{
    if (s == NULL)
        return;
    server_release(s);
    cr_log_debug("server", "stopped; gRPC's own teardown is left to the exit");
}
