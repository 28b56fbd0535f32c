/*
 * tests/unit/test_server.c — the gRPC server, for real: a server on a
 * temporary unix socket, called through the gRPC C core client API.
 *
 * The method table is a test one (health messages as request and response
 * types); the go-plugin services are the real ones. Covered: dispatch and
 * the OK path, handler errors, UNIMPLEMENTED, undecodable requests, a
 * request above gRPC's 4 MiB default, ten calls served at once (each
 * handler waits until all ten are inside), held streams, server streams
 * (order, flow control, cancellation, errors, shutdown), Shutdown with a
 * call in flight, socket removal, and mutual TLS (the right client
 * certificate accepted; another one, or none, refused).
 *
 * Every client call has a 30 s deadline only so that a broken server makes
 * the test fail instead of hang; nothing measures time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "grpc_broker.pb-c.h"
#include "grpc_controller.pb-c.h"
#include "health.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "plugin/goplugin.h"
#include "plugin/handshake.h"
#include "plugin/mtls.h"
#include "plugin/server.h"

#define DEADLINE_S 30
#define CONCURRENT 10
#define BIG_SIZE (5u * 1024u * 1024u)

typedef Grpc__Health__V1__HealthCheckRequest  Req;
typedef Grpc__Health__V1__HealthCheckResponse Resp;
#define SERVING     GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
#define NOT_SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING

/* ---- the test service --------------------------------------------------- */

static int ctx_token;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int inside;          /* handlers currently inside /test.T/Barrier */
static int max_inside;
static bool hold_entered, hold_release;
static int hold_inside;     /* handlers currently inside /test.T/Hold */

static Resp *new_resp(cr_call *call, int status)
{
    Resp *r = cr_call_alloc(call, sizeof *r);
    if (r != NULL) {
        grpc__health__v1__health_check_response__init(r);
        r->status = status;
    }
    return r;
}

/* SERVING iff the request says "ping" and the ctx is the service's. Also
 * exercises the arena: strdup'd and adopted memory must be released. */
static int h_echo(cr_call *call, const ProtobufCMessage *request,
                  ProtobufCMessage **response, const char **message)
{
    (void)message;
    const Req *req = (const Req *)request;
    char *copy = cr_call_strdup(call, req->service);
    cr_call_adopt(call, malloc(64));
    bool ok = copy != NULL && strcmp(copy, "ping") == 0 &&
              cr_call_ctx(call) == &ctx_token;
    Resp *r = new_resp(call, ok ? SERVING : NOT_SERVING);
    *response = &r->base;
    return 0;
}

static int h_fail(cr_call *call, const ProtobufCMessage *request,
                  ProtobufCMessage **response, const char **message)
{
    (void)call;
    (void)request;
    (void)response;
    *message = "nope, said the handler";
    return 9;   /* FAILED_PRECONDITION */
}

static int h_size(cr_call *call, const ProtobufCMessage *request,
                  ProtobufCMessage **response, const char **message)
{
    (void)message;
    const Req *req = (const Req *)request;
    Resp *r = new_resp(call, strlen(req->service) == BIG_SIZE ? SERVING
                                                              : NOT_SERVING);
    *response = &r->base;
    return 0;
}

/* Waits until CONCURRENT handlers are inside at the same time: only a
 * server that runs calls concurrently lets all of them return SERVING. */
static int h_barrier(cr_call *call, const ProtobufCMessage *request,
                     ProtobufCMessage **response, const char **message)
{
    (void)request;
    (void)message;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DEADLINE_S;
    pthread_mutex_lock(&mu);
    inside++;
    if (inside > max_inside)
        max_inside = inside;
    pthread_cond_broadcast(&cv);
    int rc = 0;
    while (max_inside < CONCURRENT && rc == 0)
        rc = pthread_cond_timedwait(&cv, &mu, &until);
    inside--;
    bool all = max_inside >= CONCURRENT;
    pthread_mutex_unlock(&mu);
    Resp *r = new_resp(call, all ? SERVING : NOT_SERVING);
    *response = &r->base;
    return 0;
}

/* Signals that it is running, then waits to be released. */
static int h_hold(cr_call *call, const ProtobufCMessage *request,
                  ProtobufCMessage **response, const char **message)
{
    (void)request;
    (void)message;
    pthread_mutex_lock(&mu);
    hold_entered = true;
    hold_inside++;
    pthread_cond_broadcast(&cv);
    while (!hold_release)
        pthread_cond_wait(&cv, &mu);
    hold_inside--;
    pthread_mutex_unlock(&mu);
    Resp *r = new_resp(call, SERVING);
    *response = &r->base;
    return 0;
}

static int h_null(cr_call *call, const ProtobufCMessage *request,
                  ProtobufCMessage **response, const char **message)
{
    (void)call;
    (void)request;
    (void)response;
    (void)message;
    return 0;   /* OK without a response: a handler bug the server catches */
}

/* A server-streaming method: the request says "N:SIZE:FAIL" (N messages
 * of SIZE bytes, next failing at message FAIL, -1 for never), or "refuse"
 * (start fails). Messages are health requests whose service is "msg-<i>"
 * padded with 'x'. What start keeps in the call's arena must survive the
 * per-message arena (kept_ok). */
typedef struct pstate {
    int n, size, fail_at, i;
    char *kept;
} pstate;

static int produced, ended;
static cr_stream_end end_why;
static bool kept_ok;

static int p_start(cr_call *call, const ProtobufCMessage *request,
                   void **state, const char **message)
{
    const Req *req = (const Req *)request;
    pthread_mutex_lock(&mu);
    produced = ended = 0;
    end_why = 0;
    kept_ok = true;
    pthread_mutex_unlock(&mu);
    if (strcmp(req->service, "refuse") == 0) {
        *message = "refused by start";
        return 9;
    }
    pstate *ps = calloc(1, sizeof *ps);
    if (ps == NULL || sscanf(req->service, "%d:%d:%d", &ps->n, &ps->size,
                             &ps->fail_at) != 3) {
        free(ps);
        *message = "bad test request";
        return 3;
    }
    ps->kept = cr_call_strdup(call, req->service);
    *state = ps;
    return 0;
}

static int p_next(cr_call *call, void *state, ProtobufCMessage **msg,
                  const char **message)
{
    pstate *ps = state;
    char want[64];
    snprintf(want, sizeof want, "%d:%d:%d", ps->n, ps->size, ps->fail_at);
    if (strcmp(ps->kept, want) != 0)
        kept_ok = false;
    if (ps->i == ps->fail_at) {
        *message = "failed by next";
        return 13;
    }
    if (ps->i == ps->n)
        return 0;
    Req *m = cr_call_alloc(call, sizeof *m);
    char *text = cr_call_alloc(call, (size_t)ps->size + 16);
    if (m == NULL || text == NULL)
        return 8;
    grpc__health__v1__health_check_request__init(m);
    int w = snprintf(text, 16, "msg-%d", ps->i);
    memset(text + w, 'x', (size_t)(ps->size > w ? ps->size - w : 0));
    text[ps->size > w ? ps->size : w] = '\0';
    m->service = text;
    *msg = &m->base;
    ps->i++;
    pthread_mutex_lock(&mu);
    produced++;
    pthread_mutex_unlock(&mu);
    return 0;
}

static void p_end(void *state, cr_stream_end why)
{
    free(state);
    pthread_mutex_lock(&mu);
    ended++;
    end_why = why;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static const cr_stream_producer test_producer = {p_start, p_next, p_end};

#define REQ_DESC &grpc__health__v1__health_check_request__descriptor
static const cr_method test_methods[] = {
    {"/test.T/Stream", REQ_DESC, NULL, &test_producer, false},
    {"/test.T/Echo", REQ_DESC, h_echo, NULL, false},
    {"/test.T/Quick", REQ_DESC, h_echo, NULL, true},
    {"/test.T/Fail", REQ_DESC, h_fail, NULL, false},
    {"/test.T/Size", REQ_DESC, h_size, NULL, false},
    {"/test.T/Barrier", REQ_DESC, h_barrier, NULL, false},
    {"/test.T/Hold", REQ_DESC, h_hold, NULL, false},
    {"/test.T/Null", REQ_DESC, h_null, NULL, false},
};

/* ---- fixture ------------------------------------------------------------ */

typedef struct fixture {
    char path[CR_HANDSHAKE_SOCKET_MAX];
    char target[CR_HANDSHAKE_SOCKET_MAX + 8];
    cr_server *server;
    cr_mtls_identity server_id, client_id;
    bool tls;
} fixture;

static int start(fixture *f, bool tls)
{
    char err[256];
    memset(f, 0, sizeof *f);
    f->tls = tls;
    if (cr_handshake_socket_path(NULL, NULL, f->path, sizeof f->path,
                                 err, sizeof err) != 0)
        return -1;
    snprintf(f->target, sizeof f->target, "unix:%s", f->path);
    if (tls && (cr_mtls_identity_new(&f->server_id, err, sizeof err) != 0 ||
                cr_mtls_identity_new(&f->client_id, err, sizeof err) != 0))
        return -1;
    cr_service services[2] = {
        cr_goplugin_service(),
        {test_methods, sizeof test_methods / sizeof test_methods[0],
         NULL, 0, &ctx_token},
    };
    cr_server_config cfg = {
        .address = f->target,
        .tls_cert_pem = tls ? f->server_id.cert_pem : NULL,
        .tls_key_pem = tls ? f->server_id.key_pem : NULL,
        .client_ca_pem = tls ? f->client_id.cert_pem : NULL,
        .services = services,
        .n_services = 2,
    };
    f->server = cr_server_new(&cfg, err, sizeof err);
    if (f->server == NULL) {
        fprintf(stderr, "cr_server_new: %s\n", err);
        return -1;
    }
    return 0;
}

static int setup_plain(void **state)
{
    fixture *f = malloc(sizeof *f);
    if (f == NULL || start(f, false) != 0)
        return -1;
    *state = f;
    return 0;
}

static int setup_tls(void **state)
{
    fixture *f = malloc(sizeof *f);
    if (f == NULL || start(f, true) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cr_server_free(f->server);
    struct stat st;
    int gone = lstat(f->path, &st) != 0;
    cr_mtls_identity_free(&f->server_id);
    cr_mtls_identity_free(&f->client_id);
    free(f);
    return gone ? 0 : -1;       /* the socket file must be removed */
}

/* ---- client ------------------------------------------------------------- */

typedef enum { CLIENT_PLAIN, CLIENT_TLS_GOOD, CLIENT_TLS_OTHER,
               CLIENT_TLS_NONE } client_kind;

static grpc_channel *channel(const fixture *f, client_kind kind)
{
    grpc_arg arg;
    memset(&arg, 0, sizeof arg);
    arg.type = GRPC_ARG_STRING;
    arg.key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
    arg.value.string = "localhost";
    grpc_channel_args args = {1, &arg};

    grpc_channel_credentials *creds;
    cr_mtls_identity other = {0};
    char err[256];
    if (kind == CLIENT_PLAIN) {
        creds = grpc_insecure_credentials_create();
    } else {
        grpc_ssl_pem_key_cert_pair pair;
        grpc_ssl_pem_key_cert_pair *pp = NULL;
        if (kind == CLIENT_TLS_GOOD) {
            pair.private_key = f->client_id.key_pem;
            pair.cert_chain = f->client_id.cert_pem;
            pp = &pair;
        } else if (kind == CLIENT_TLS_OTHER) {
            assert_int_equal(cr_mtls_identity_new(&other, err, sizeof err), 0);
            pair.private_key = other.key_pem;
            pair.cert_chain = other.cert_pem;
            pp = &pair;
        }
        creds = grpc_ssl_credentials_create(f->server_id.cert_pem, pp,
                                            NULL, NULL);
    }
    grpc_channel *ch = grpc_channel_create(f->target, creds, &args);
    grpc_channel_credentials_release(creds);
    cr_mtls_identity_free(&other);
    return ch;
}

static gpr_timespec deadline(void)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                        gpr_time_from_seconds(DEADLINE_S, GPR_TIMESPAN));
}

typedef struct reply {
    grpc_status_code status;
    char details[256];
    ProtobufCBinaryData body;   /* malloc'd; data NULL when no message */
    bool has_body;
} reply;

static void reply_free(reply *r)
{
    free(r->body.data);
    r->body.data = NULL;
}

/* One unary call with raw request bytes. */
static void call_raw(grpc_channel *ch, const char *method, const void *req,
                     size_t len, reply *out)
{
    memset(out, 0, sizeof *out);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_slice m = grpc_slice_from_static_string(method);
    grpc_call *call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS,
                                               cq, m, NULL, deadline(), NULL);
    assert_non_null(call);

    grpc_slice payload = grpc_slice_from_copied_buffer(req, len);
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&payload, 1);
    grpc_slice_unref(payload);
    grpc_byte_buffer *recv = NULL;
    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    grpc_slice details;

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
    ops[5].data.recv_status_on_client.status = &out->status;
    ops[5].data.recv_status_on_client.status_details = &details;
    assert_int_equal(grpc_call_start_batch(call, ops, 6, (void *)1, NULL),
                     GRPC_CALL_OK);
    grpc_event ev = grpc_completion_queue_pluck(
        cq, (void *)1, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);

    size_t dn = GRPC_SLICE_LENGTH(details);
    if (dn >= sizeof out->details)
        dn = sizeof out->details - 1;
    memcpy(out->details, GRPC_SLICE_START_PTR(details), dn);
    out->details[dn] = '\0';
    grpc_slice_unref(details);
    if (recv != NULL) {
        grpc_byte_buffer_reader rd;
        assert_true(grpc_byte_buffer_reader_init(&rd, recv));
        grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
        grpc_byte_buffer_reader_destroy(&rd);
        out->has_body = true;
        out->body.len = GRPC_SLICE_LENGTH(all);
        out->body.data = malloc(out->body.len + 1);
        memcpy(out->body.data, GRPC_SLICE_START_PTR(all), out->body.len);
        grpc_slice_unref(all);
        grpc_byte_buffer_destroy(recv);
    }
    grpc_byte_buffer_destroy(send);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    grpc_completion_queue_destroy(cq);
}

/* A health-request call; returns the status, *serving the answer. */
static grpc_status_code call_health(grpc_channel *ch, const char *method,
                                    const char *service, int *serving,
                                    char *details, size_t dlen)
{
    Req req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    size_t n = grpc__health__v1__health_check_request__get_packed_size(&req);
    uint8_t *buf = malloc(n ? n : 1);
    grpc__health__v1__health_check_request__pack(&req, buf);
    reply r;
    call_raw(ch, method, buf, n, &r);
    free(buf);
    *serving = -1;
    if (r.status == GRPC_STATUS_OK) {
        assert_true(r.has_body);
        Resp *resp = grpc__health__v1__health_check_response__unpack(
            NULL, r.body.len, r.body.data);
        assert_non_null(resp);
        *serving = resp->status;
        grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
    }
    if (details != NULL)
        snprintf(details, dlen, "%s", r.details);
    reply_free(&r);
    return r.status;
}

/* ---- tests -------------------------------------------------------------- */

static void test_dispatch_ok(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    int serving;
    assert_int_equal(call_health(ch, "/test.T/Echo", "ping", &serving, NULL, 0),
                     GRPC_STATUS_OK);
    assert_int_equal(serving, SERVING);
    /* the handler really looks at the request */
    assert_int_equal(call_health(ch, "/test.T/Echo", "pong", &serving, NULL, 0),
                     GRPC_STATUS_OK);
    assert_int_equal(serving, NOT_SERVING);
    grpc_channel_destroy(ch);
}

static void test_handler_error_and_unimplemented(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    int serving;
    char details[256];
    assert_int_equal(call_health(ch, "/test.T/Fail", "x", &serving,
                                 details, sizeof details),
                     GRPC_STATUS_FAILED_PRECONDITION);
    assert_string_equal(details, "nope, said the handler");

    assert_int_equal(call_health(ch, "/test.T/Nope", "x", &serving,
                                 details, sizeof details),
                     GRPC_STATUS_UNIMPLEMENTED);
    assert_non_null(strstr(details, "/test.T/Nope"));
    /* a prefix of a real path is not that path */
    assert_int_equal(call_health(ch, "/test.T/Ech", "ping", &serving, NULL, 0),
                     GRPC_STATUS_UNIMPLEMENTED);
    assert_int_equal(call_health(ch, "/tfplugin6.Provider/GetProviderSchema",
                                 "", &serving, NULL, 0),
                     GRPC_STATUS_UNIMPLEMENTED);

    /* OK without a response is turned into INTERNAL, not a crash */
    assert_int_equal(call_health(ch, "/test.T/Null", "x", &serving, NULL, 0),
                     GRPC_STATUS_INTERNAL);
    grpc_channel_destroy(ch);
}

static void test_bad_request_bytes(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    /* field 1 as a string claiming 100 bytes, with 2 present */
    const unsigned char truncated[] = {0x0a, 0x64, 'a', 'b'};
    reply r;
    call_raw(ch, "/test.T/Echo", truncated, sizeof truncated, &r);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(r.details, "HealthCheckRequest"));
    reply_free(&r);

    /* wrong wire type for field 1 */
    const unsigned char wrongtype[] = {0x08, 0x01};
    call_raw(ch, "/test.T/Echo", wrongtype, sizeof wrongtype, &r);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    reply_free(&r);

    /* the server is still fine afterwards */
    int serving;
    assert_int_equal(call_health(ch, "/test.T/Echo", "ping", &serving, NULL, 0),
                     GRPC_STATUS_OK);
    grpc_channel_destroy(ch);
}

static void test_big_request(void **state)
{
    fixture *f = *state;
    grpc_channel_args *none = NULL;
    (void)none;
    /* the client's own default send limit is unlimited; the server's
     * receive limit is what is being tested */
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    char *big = malloc(BIG_SIZE + 1);
    memset(big, 'x', BIG_SIZE);
    big[BIG_SIZE] = '\0';
    int serving;
    assert_int_equal(call_health(ch, "/test.T/Size", big, &serving, NULL, 0),
                     GRPC_STATUS_OK);
    assert_int_equal(serving, SERVING);
    free(big);
    grpc_channel_destroy(ch);
}

typedef struct worker_arg {
    grpc_channel *ch;
    grpc_status_code status;
    int serving;
} worker_arg;

static void *barrier_client(void *p)
{
    worker_arg *a = p;
    a->status = call_health(a->ch, "/test.T/Barrier", "", &a->serving, NULL, 0);
    return NULL;
}

static void test_concurrent_calls(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    pthread_mutex_lock(&mu);
    inside = max_inside = 0;
    pthread_mutex_unlock(&mu);

    pthread_t t[CONCURRENT];
    worker_arg a[CONCURRENT];
    for (int i = 0; i < CONCURRENT; i++) {
        a[i].ch = ch;
        assert_int_equal(pthread_create(&t[i], NULL, barrier_client, &a[i]), 0);
    }
    for (int i = 0; i < CONCURRENT; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].status, GRPC_STATUS_OK);
        assert_int_equal(a[i].serving, SERVING);
    }
    assert_int_equal(max_inside, CONCURRENT);
    grpc_channel_destroy(ch);
}

static void test_health(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    int serving;
    const char *check = "/grpc.health.v1.Health/Check";
    assert_int_equal(call_health(ch, check, "plugin", &serving, NULL, 0),
                     GRPC_STATUS_OK);
    assert_int_equal(serving, SERVING);
    assert_int_equal(call_health(ch, check, "", &serving, NULL, 0),
                     GRPC_STATUS_OK);
    assert_int_equal(serving, SERVING);
    assert_int_equal(call_health(ch, check, "other", &serving, NULL, 0),
                     GRPC_STATUS_NOT_FOUND);
    grpc_channel_destroy(ch);
}

/* A streaming call kept open: headers in, status pending. */
typedef struct open_stream {
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata_array initial, trailing;
    grpc_status_code status;
    grpc_slice details;
    grpc_byte_buffer *send;
} open_stream;

static void stream_open(open_stream *s, grpc_channel *ch, const char *method,
                        const ProtobufCMessage *first, bool close_after)
{
    memset(s, 0, sizeof *s);
    s->cq = grpc_completion_queue_create_for_pluck(NULL);
    s->call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, s->cq,
                                       grpc_slice_from_static_string(method),
                                       NULL, deadline(), NULL);
    grpc_metadata_array_init(&s->initial);
    grpc_metadata_array_init(&s->trailing);
    size_t n = protobuf_c_message_get_packed_size(first);
    grpc_slice payload = grpc_slice_malloc(n);
    protobuf_c_message_pack(first, GRPC_SLICE_START_PTR(payload));
    s->send = grpc_raw_byte_buffer_create(&payload, 1);
    grpc_slice_unref(payload);

    grpc_op ops[3];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = s->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    assert_int_equal(grpc_call_start_batch(s->call, ops, close_after ? 3 : 2,
                                           (void *)1, NULL), GRPC_CALL_OK);
    assert_int_equal(grpc_completion_queue_pluck(s->cq, (void *)1,
                     gpr_inf_future(GPR_CLOCK_REALTIME), NULL).success, 1);

    /* the server sends its headers at once and then holds */
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[0].data.recv_initial_metadata.recv_initial_metadata = &s->initial;
    assert_int_equal(grpc_call_start_batch(s->call, ops, 1, (void *)2, NULL),
                     GRPC_CALL_OK);
    assert_int_equal(grpc_completion_queue_pluck(s->cq, (void *)2,
                     gpr_inf_future(GPR_CLOCK_REALTIME), NULL).success, 1);

    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[0].data.recv_status_on_client.trailing_metadata = &s->trailing;
    ops[0].data.recv_status_on_client.status = &s->status;
    ops[0].data.recv_status_on_client.status_details = &s->details;
    assert_int_equal(grpc_call_start_batch(s->call, ops, 1, (void *)3, NULL),
                     GRPC_CALL_OK);
}

static void stream_half_close(open_stream *s)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    assert_int_equal(grpc_call_start_batch(s->call, &op, 1, (void *)4, NULL),
                     GRPC_CALL_OK);
    assert_int_equal(grpc_completion_queue_pluck(s->cq, (void *)4,
                     gpr_inf_future(GPR_CLOCK_REALTIME), NULL).success, 1);
}

/* Waits for the stream's status (its details copied into `details`, if
 * not NULL) and releases it. */
static grpc_status_code stream_status(open_stream *s, char *details,
                                      size_t dlen)
{
    grpc_event ev = grpc_completion_queue_pluck(
        s->cq, (void *)3, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    grpc_status_code st = s->status;
    if (details != NULL)
        snprintf(details, dlen, "%.*s", (int)GRPC_SLICE_LENGTH(s->details),
                 (const char *)GRPC_SLICE_START_PTR(s->details));
    grpc_slice_unref(s->details);
    grpc_byte_buffer_destroy(s->send);
    grpc_metadata_array_destroy(&s->initial);
    grpc_metadata_array_destroy(&s->trailing);
    grpc_call_unref(s->call);
    grpc_completion_queue_shutdown(s->cq);
    grpc_completion_queue_destroy(s->cq);
    return st;
}

static grpc_status_code stream_close(open_stream *s)
{
    return stream_status(s, NULL, 0);
}

static void *run_server(void *p)
{
    fixture *f = p;
    cr_server_run(f->server, NULL);
    return NULL;
}

/* The next message of a server stream: true with *text (malloc'd) set,
 * false at its end. */
static bool stream_read(open_stream *s, char **text)
{
    grpc_byte_buffer *recv = NULL;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &recv;
    assert_int_equal(grpc_call_start_batch(s->call, &op, 1, (void *)5, NULL),
                     GRPC_CALL_OK);
    grpc_event ev = grpc_completion_queue_pluck(
        s->cq, (void *)5, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    if (recv == NULL)
        return false;
    grpc_byte_buffer_reader rd;
    assert_true(grpc_byte_buffer_reader_init(&rd, recv));
    grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
    grpc_byte_buffer_reader_destroy(&rd);
    grpc_byte_buffer_destroy(recv);
    Req *m = grpc__health__v1__health_check_request__unpack(
        NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
    grpc_slice_unref(all);
    assert_non_null(m);
    *text = strdup(m->service);
    grpc__health__v1__health_check_request__free_unpacked(m, NULL);
    return true;
}

static void stream_start_list(open_stream *s, grpc_channel *ch,
                              const char *spec)
{
    Req req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)spec;
    stream_open(s, ch, "/test.T/Stream", &req.base, true);
}

/* Reads until the end; the number of messages, each checked in order. */
static int stream_drain(open_stream *s, int first)
{
    char *text;
    int n = 0;
    while (stream_read(s, &text)) {
        char want[32];
        snprintf(want, sizeof want, "msg-%d", first + n);
        assert_memory_equal(text, want, strlen(want));
        free(text);
        n++;
    }
    return n;
}

static void wait_ended(void)
{
    pthread_mutex_lock(&mu);
    while (ended == 0)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static int produced_now(void)
{
    pthread_mutex_lock(&mu);
    int n = produced;
    pthread_mutex_unlock(&mu);
    return n;
}

/* Waits until the producer has made no progress for a while: a stream the
 * client does not read stalls, one it cancelled stops. */
static int produced_settled(void)
{
    int last = -1, n = produced_now();
    for (int i = 0; i < 600 && n != last; i++) {
        last = n;
        usleep(100 * 1000);
        n = produced_now();
    }
    return n;
}

/* A thousand messages in order, then OK; end told once, "done"; what start
 * kept in the call survives every message's arena. An empty stream is
 * headers and OK. */
static void test_stream_all(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    open_stream s;
    stream_start_list(&s, ch, "1000:100:-1");
    assert_int_equal(stream_drain(&s, 0), 1000);
    assert_int_equal(stream_close(&s), GRPC_STATUS_OK);
    wait_ended();
    assert_int_equal(ended, 1);
    assert_int_equal(end_why, CR_STREAM_DONE);
    assert_true(kept_ok);

    stream_start_list(&s, ch, "0:1:-1");
    assert_int_equal(stream_drain(&s, 0), 0);
    assert_int_equal(stream_close(&s), GRPC_STATUS_OK);
    wait_ended();
    assert_int_equal(end_why, CR_STREAM_DONE);
    grpc_channel_destroy(ch);
}

/* One message in flight at a time: while the client reads nothing, the
 * producer is not asked for more than the transport's window holds
 * (400 messages of 256 KiB would be 100 MiB); once it reads, all come. */
static void test_stream_flow_control(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    open_stream s;
    stream_start_list(&s, ch, "400:262144:-1");
    char *text;
    assert_true(stream_read(&s, &text));
    free(text);
    int stalled = produced_settled();
    assert_true(stalled < 100);
    assert_int_equal(ended, 0);
    assert_int_equal(stream_drain(&s, 1), 399);
    assert_int_equal(stream_close(&s), GRPC_STATUS_OK);
    wait_ended();
    assert_int_equal(end_why, CR_STREAM_DONE);
    assert_int_equal(produced, 400);
    grpc_channel_destroy(ch);
}

/* A client that cancels stops the producer: end is told "cancelled" and
 * next is not called again. */
static void test_stream_cancel(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    open_stream s;
    stream_start_list(&s, ch, "1000000:1000:-1");
    for (int i = 0; i < 5; i++) {
        char *text;
        assert_true(stream_read(&s, &text));
        free(text);
    }
    grpc_call_cancel(s.call, NULL);
    assert_int_equal(stream_close(&s), GRPC_STATUS_CANCELLED);
    wait_ended();
    assert_int_equal(end_why, CR_STREAM_CANCELLED);
    int n = produced_settled();
    assert_true(n < 1000000);
    usleep(200 * 1000);
    assert_int_equal(produced_now(), n);
    assert_int_equal(ended, 1);
    /* the server still serves */
    int serving;
    assert_int_equal(call_health(ch, "/test.T/Echo", "ping", &serving, NULL, 0),
                     GRPC_STATUS_OK);
    grpc_channel_destroy(ch);
}

/* A failing start answers its status at once; a failing next ends the
 * stream after what was sent, with its status; end is told either way. */
static void test_stream_errors(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    open_stream s;
    char details[64];
    stream_start_list(&s, ch, "refuse");
    assert_int_equal(stream_drain(&s, 0), 0);
    assert_int_equal(stream_status(&s, details, sizeof details),
                     GRPC_STATUS_FAILED_PRECONDITION);
    assert_string_equal(details, "refused by start");
    wait_ended();
    assert_int_equal(ended, 1);

    stream_start_list(&s, ch, "10:10:5");
    assert_int_equal(stream_drain(&s, 0), 5);
    assert_int_equal(stream_status(&s, details, sizeof details),
                     GRPC_STATUS_INTERNAL);
    assert_string_equal(details, "failed by next");
    wait_ended();
    assert_int_equal(end_why, CR_STREAM_DONE);
    grpc_channel_destroy(ch);
}

/* A server shutting down ends its streams (UNAVAILABLE) instead of
 * producing on; end is told "shutdown". */
static void test_stream_shutdown(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    pthread_t runner;
    assert_int_equal(pthread_create(&runner, NULL, run_server, f), 0);
    open_stream s;
    stream_start_list(&s, ch, "1000000:1000:-1");
    char *text;
    assert_true(stream_read(&s, &text));
    free(text);
    cr_server_shutdown(f->server);
    int n = stream_drain(&s, 1);
    assert_true(n < 999999);
    assert_int_equal(stream_close(&s), GRPC_STATUS_UNAVAILABLE);
    wait_ended();
    assert_int_equal(end_why, CR_STREAM_SHUTDOWN);
    pthread_join(runner, NULL);
    grpc_channel_destroy(ch);
}

static void test_broker_stream_ends_when_client_does(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    Plugin__ConnInfo info = PLUGIN__CONN_INFO__INIT;
    info.service_id = 7;
    info.network = "unix";
    info.address = "/nowhere";
    open_stream s;
    stream_open(&s, ch, "/plugin.GRPCBroker/StartStream", &info.base, false);
    /* still open, and other calls go on meanwhile */
    int serving;
    assert_int_equal(call_health(ch, "/test.T/Echo", "ping", &serving, NULL, 0),
                     GRPC_STATUS_OK);
    stream_half_close(&s);
    assert_int_equal(stream_close(&s), GRPC_STATUS_OK);
    grpc_channel_destroy(ch);
}

static void *hold_client(void *p)
{
    worker_arg *a = p;
    a->status = call_health(a->ch, "/test.T/Hold", "", &a->serving, NULL, 0);
    return NULL;
}

/* Workers start on demand: one with the server, and while all but one of
 * the most it may have are blocked in handlers, the last one still serves
 * another call (as StopProvider must get through while Terraform's
 * operations run). */
static void test_workers_on_demand(void **state)
{
    fixture *f = *state;
    assert_int_equal(cr_server_workers(f->server), 1);
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    int serving;
    /* a quick handler (cr_method.quick) runs on the one worker */
    assert_int_equal(call_health(ch, "/test.T/Quick", "ping", &serving, NULL, 0),
                     GRPC_STATUS_OK);
    assert_int_equal(serving, SERVING);
    assert_int_equal(cr_server_workers(f->server), 1);
    assert_int_equal(call_health(ch, "/test.T/Echo", "ping", &serving, NULL, 0),
                     GRPC_STATUS_OK);
    /* one call: the worker that runs its handler left one more waiting on
     * the queue (accepting it and sending the answer start none) */
    assert_int_equal(cr_server_workers(f->server), 2);

    enum { HELD = CR_SERVER_DEFAULT_WORKERS - 1 };
    pthread_mutex_lock(&mu);
    hold_release = false;
    hold_inside = 0;
    pthread_mutex_unlock(&mu);
    pthread_t holders[HELD];
    worker_arg ha[HELD];
    for (int i = 0; i < HELD; i++) {
        ha[i] = (worker_arg){ch, 0, 0};
        assert_int_equal(pthread_create(&holders[i], NULL, hold_client, &ha[i]), 0);
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DEADLINE_S;
    int rc = 0;
    pthread_mutex_lock(&mu);
    while (hold_inside < HELD && rc == 0)
        rc = pthread_cond_timedwait(&cv, &mu, &until);
    int held = hold_inside;
    pthread_mutex_unlock(&mu);
    assert_int_equal(held, HELD);

    assert_int_equal(call_health(ch, "/test.T/Echo", "ping", &serving, NULL, 0),
                     GRPC_STATUS_OK);
    assert_int_equal(serving, SERVING);
    assert_int_equal(cr_server_workers(f->server), CR_SERVER_DEFAULT_WORKERS);

    pthread_mutex_lock(&mu);
    hold_release = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < HELD; i++) {
        pthread_join(holders[i], NULL);
        assert_int_equal(ha[i].status, GRPC_STATUS_OK);
    }
    /* never more than the most */
    assert_int_equal(cr_server_workers(f->server), CR_SERVER_DEFAULT_WORKERS);
    grpc_channel_destroy(ch);
}

/* Shutdown through go-plugin's controller while a stdio stream is open and
 * a call is in flight: the Shutdown call is answered, the in-flight call
 * finishes normally, the stream ends with OK, the server stops. */
static void test_shutdown_graceful(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_PLAIN);
    pthread_t runner;
    assert_int_equal(pthread_create(&runner, NULL, run_server, f), 0);

    Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
    open_stream stdio;
    stream_open(&stdio, ch, "/plugin.GRPCStdio/StreamStdio", &empty.base, true);

    pthread_mutex_lock(&mu);
    hold_entered = hold_release = false;
    pthread_mutex_unlock(&mu);
    pthread_t holder;
    worker_arg ha = {ch, 0, 0};
    assert_int_equal(pthread_create(&holder, NULL, hold_client, &ha), 0);
    pthread_mutex_lock(&mu);
    while (!hold_entered)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    Plugin__Empty req = PLUGIN__EMPTY__INIT;
    uint8_t buf[1];
    size_t n = plugin__empty__pack(&req, buf);
    reply r;
    call_raw(ch, "/plugin.GRPCController/Shutdown", buf, n, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_true(r.has_body);
    reply_free(&r);

    assert_int_equal(stream_close(&stdio), GRPC_STATUS_OK);

    /* new calls are no longer admitted (any non-OK status will do) */
    int serving;
    assert_int_not_equal(call_health(ch, "/test.T/Echo", "ping", &serving,
                                     NULL, 0), GRPC_STATUS_OK);

    pthread_mutex_lock(&mu);
    hold_release = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(holder, NULL);
    assert_int_equal(ha.status, GRPC_STATUS_OK);
    assert_int_equal(ha.serving, SERVING);

    pthread_join(runner, NULL);     /* cr_server_run returned: all done */
    grpc_channel_destroy(ch);
}

static void test_tls_right_client(void **state)
{
    fixture *f = *state;
    grpc_channel *ch = channel(f, CLIENT_TLS_GOOD);
    int serving;
    assert_int_equal(call_health(ch, "/grpc.health.v1.Health/Check", "plugin",
                                 &serving, NULL, 0), GRPC_STATUS_OK);
    assert_int_equal(serving, SERVING);
    assert_int_equal(call_health(ch, "/test.T/Echo", "ping", &serving, NULL, 0),
                     GRPC_STATUS_OK);
    grpc_channel_destroy(ch);
}

static void test_tls_refuses_others(void **state)
{
    fixture *f = *state;
    int serving;
    client_kind refused[] = {CLIENT_TLS_OTHER, CLIENT_TLS_NONE, CLIENT_PLAIN};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        grpc_channel *ch = channel(f, refused[i]);
        grpc_status_code st = call_health(ch, "/test.T/Echo", "ping",
                                          &serving, NULL, 0);
        assert_int_equal(st, GRPC_STATUS_UNAVAILABLE);
        assert_int_equal(serving, -1);
        grpc_channel_destroy(ch);
    }
    /* and the right one still works afterwards */
    grpc_channel *ch = channel(f, CLIENT_TLS_GOOD);
    assert_int_equal(call_health(ch, "/test.T/Echo", "ping", &serving, NULL, 0),
                     GRPC_STATUS_OK);
    grpc_channel_destroy(ch);
}

static void test_config_errors(void **state)
{
    (void)state;
    char err[256];
    cr_method dup[] = {
        {"/a.B/C", REQ_DESC, h_echo, NULL, false},
        {"/a.B/C", REQ_DESC, h_fail, NULL, false},
    };
    cr_service sv = {dup, 2, NULL, 0, NULL};
    cr_server_config cfg = {.address = "unix:/tmp/cr-never", .services = &sv,
                            .n_services = 1};
    err[0] = '\0';
    assert_null(cr_server_new(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "twice"));

    cr_service ok = {test_methods, 1, NULL, 0, NULL};
    cfg.services = &ok;
    cfg.address = "unix:/nonexistent-dir/cr/sock";
    err[0] = '\0';
    assert_null(cr_server_new(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "cannot listen"));

    cfg.address = "unix:/tmp/cr-never";
    cfg.tls_cert_pem = "x";     /* TLS half-configured */
    assert_null(cr_server_new(&cfg, err, sizeof err));
}

static int group_setup(void **state)
{
    (void)state;
    grpc_init();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    grpc_shutdown();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dispatch_ok, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_handler_error_and_unimplemented,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_bad_request_bytes, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_big_request, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_calls, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_health, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_broker_stream_ends_when_client_does,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_workers_on_demand, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_graceful, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_all, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_stream_flow_control, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_cancel, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_errors, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_shutdown, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tls_right_client, setup_tls,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tls_refuses_others, setup_tls,
                                        teardown),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
