/*
 * tests/unit/test_serve.c — the plugin process as Terraform sees it.
 *
 * This program re-executes itself ("serve-child") to run cr_plugin_serve
 * with a test method table in a fresh process, exactly as a provider binary
 * would run, and then plays Terraform's part: environment in, handshake line
 * from stdout, gRPC over the advertised socket (with AutoMTLS when
 * PLUGIN_CLIENT_CERT is given), signals, Shutdown, exit status.
 *
 * Terraform gone without a Shutdown: "serve-middle" stands between the test
 * and the plugin as its parent, to be killed (the parent watch), and the
 * test holds go-plugin's stdio stream open to drop it (the client leaving).
 *
 * Pipes are read with poll() and children waited for with a 30 s limit only
 * so that a broken server fails the test instead of hanging it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "grpc_controller.pb-c.h"
#include "health.pb-c.h"
#include "plugin/mtls.h"
#include "plugin/serve.h"

#define LIMIT_MS 30000
#define COOKIE "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"

extern char **environ;

/* ---- the child: a provider with one test method ------------------------- */

static int h_echo(cr_call *call, const ProtobufCMessage *request,
                  ProtobufCMessage **response, const char **message)
{
    (void)request;
    (void)message;
    Grpc__Health__V1__HealthCheckResponse *r = cr_call_alloc(call, sizeof *r);
    grpc__health__v1__health_check_response__init(r);
    r->status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    *response = &r->base;
    return 0;
}

static const cr_method child_methods[] = {
    {"/test.T/Echo", &grpc__health__v1__health_check_request__descriptor, h_echo,
     NULL, false},
};

/* The plugin's parent, in place of Terraform: starts "serve-child plugin"
 * on the same stdout and stderr, says its pid on stderr, and waits to be
 * killed. */
static int serve_middle(void)
{
    pid_t pid;
    char *argv[] = {"/proc/self/exe", "serve-child", "plugin", NULL};
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) != 0)
        return 1;
    fprintf(stderr, "child %ld\n", (long)pid);
    fflush(stderr);
    for (;;)
        pause();
}

static int serve_child(const char *mode)
{
    cr_service svc = {child_methods, 1, NULL, 0, NULL};
    cr_serve_options o = {
        .mode = strcmp(mode, "debug") == 0 ? CR_SERVE_DEBUG : CR_SERVE_PLUGIN,
        .program = "test-provider",
        .provider_address = "registry.terraform.io/test/test",
        .services = &svc,
        .n_services = 1,
        .out = stdout,
        .err = stderr,
    };
    return cr_plugin_serve(&o);
}

/* ---- the parent: Terraform's side ---------------------------------------- */

typedef struct child {
    pid_t pid;
    int out, err;           /* read ends */
    char outbuf[8192];
    size_t outlen;
} child;

static char self[4096];
static char sockdir[64];

/* Spawns "<self> serve-child <mode>" with exactly the given environment
 * ("<self> serve-middle" for mode "middle"). */
static void spawn(child *c, const char *mode, char *const env[])
{
    int o[2], e[2];
    assert_int_equal(pipe2(o, O_CLOEXEC), 0);
    assert_int_equal(pipe2(e, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, o[1], 1);
    posix_spawn_file_actions_adddup2(&fa, e[1], 2);
    char *argv[] = {self, "serve-child", (char *)mode, NULL};
    if (strcmp(mode, "middle") == 0) {
        argv[1] = "serve-middle";
        argv[2] = NULL;
    }
    assert_int_equal(posix_spawn(&c->pid, self, &fa, NULL, argv, env), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(o[1]);
    close(e[1]);
    c->out = o[0];
    c->err = e[0];
    c->outlen = 0;
}

/* Reads from fd until `stop` appears in what was read (or EOF); returns the
 * text read so far (NUL-terminated, in buf). */
static size_t read_until(int fd, char *buf, size_t cap, size_t len,
                         const char *stop)
{
    while (len + 1 < cap) {
        buf[len] = '\0';
        if (stop != NULL && strstr(buf, stop) != NULL)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, LIMIT_MS);
        assert_true(rc > 0);            /* nothing for 30 s: broken */
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n >= 0);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

static int wait_exit(child *c)
{
    for (int i = 0; i < LIMIT_MS / 10; i++) {
        int st;
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid) {
            assert_true(WIFEXITED(st));
            return WEXITSTATUS(st);
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
    fail_msg("the child did not exit");
    return -1;
}

static void child_close(child *c)
{
    close(c->out);
    close(c->err);
}

/* Splits the handshake line into its six fields (in place). */
static int split_line(char *line, char *f[6])
{
    char *nl = strchr(line, '\n');
    if (nl == NULL)
        return -1;
    *nl = '\0';
    int n = 0;
    char *p = line;
    while (n < 6) {
        f[n++] = p;
        char *bar = strchr(p, '|');
        if (bar == NULL)
            break;
        *bar = '\0';
        p = bar + 1;
    }
    return n;
}

/* PEM of the certificate in the handshake's sixth field. */
static char *cert_field_to_pem(const char *b64)
{
    size_t n = strlen(b64);
    char *padded = malloc(n + 4);
    memcpy(padded, b64, n);
    size_t pad = 0;
    while ((n + pad) % 4 != 0)
        padded[n + pad++] = '=';
    padded[n + pad] = '\0';
    unsigned char *der = malloc(n + 4);
    int len = EVP_DecodeBlock(der, (unsigned char *)padded, (int)(n + pad));
    free(padded);
    if (len < 0) {
        free(der);
        return NULL;
    }
    len -= (int)pad;
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, len);
    free(der);
    if (x == NULL)
        return NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, x);
    X509_free(x);
    char *data;
    long dl = BIO_get_mem_data(bio, &data);
    char *pem = strndup(data, (size_t)dl);
    BIO_free(bio);
    return pem;
}

/* The first four ops of a client's call: metadata, the one request
 * message, half-close, and the server's metadata into im. */
static void request_ops(grpc_op ops[4], grpc_byte_buffer *send,
                        grpc_metadata_array *im)
{
    memset(ops, 0, 4 * sizeof *ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = im;
}

/* A unary call with a health request; returns the gRPC status. */
static grpc_status_code call(grpc_channel *ch, const char *method,
                             const ProtobufCMessage *req)
{
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                   gpr_time_from_millis(LIMIT_MS, GPR_TIMESPAN));
    grpc_call *c = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS,
                                            cq, grpc_slice_from_static_string(method),
                                            NULL, dl, NULL);
    size_t n = protobuf_c_message_get_packed_size(req);
    grpc_slice s = grpc_slice_malloc(n);
    protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(s));
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    grpc_byte_buffer *recv = NULL;
    grpc_metadata_array im, tm;
    grpc_metadata_array_init(&im);
    grpc_metadata_array_init(&tm);
    grpc_status_code status;
    grpc_slice details;
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    request_ops(ops, send, &im);
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &tm;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;
    assert_int_equal(grpc_call_start_batch(c, ops, 6, (void *)1, NULL),
                     GRPC_CALL_OK);
    grpc_completion_queue_pluck(cq, (void *)1,
                                gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (recv != NULL)
        grpc_byte_buffer_destroy(recv);
    grpc_byte_buffer_destroy(send);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&im);
    grpc_metadata_array_destroy(&tm);
    grpc_call_unref(c);
    grpc_completion_queue_shutdown(cq);
    grpc_completion_queue_destroy(cq);
    return status;
}

static grpc_status_code health(grpc_channel *ch)
{
    Grpc__Health__V1__HealthCheckRequest req =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = "plugin";
    return call(ch, "/grpc.health.v1.Health/Check", &req.base);
}

/* go-plugin's stdio stream, held open as go-plugin's client does for the
 * life of its connection; hold_drop cancels it, as a closing connection
 * does. */
typedef struct held {
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata_array im;
} held;

static void hold_stdio(grpc_channel *ch, held *h)
{
    h->cq = grpc_completion_queue_create_for_pluck(NULL);
    h->call = grpc_channel_create_call(
        ch, NULL, GRPC_PROPAGATE_DEFAULTS, h->cq,
        grpc_slice_from_static_string("/plugin.GRPCStdio/StreamStdio"), NULL,
        gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_metadata_array_init(&h->im);
    grpc_slice empty = grpc_empty_slice();      /* google.protobuf.Empty */
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&empty, 1);
    grpc_op ops[4];
    request_ops(ops, send, &h->im);
    assert_int_equal(grpc_call_start_batch(h->call, ops, 4, (void *)2, NULL),
                     GRPC_CALL_OK);
    gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                   gpr_time_from_millis(LIMIT_MS, GPR_TIMESPAN));
    grpc_event ev = grpc_completion_queue_pluck(h->cq, (void *)2, dl, NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    assert_true(ev.success);            /* the server holds it open */
    grpc_byte_buffer_destroy(send);
}

static void hold_drop(held *h)
{
    grpc_call_cancel(h->call, NULL);
    grpc_call_unref(h->call);
    grpc_metadata_array_destroy(&h->im);
    grpc_completion_queue_shutdown(h->cq);
    grpc_completion_queue_destroy(h->cq);
}

static grpc_channel *connect_to(const char *path, const char *server_pem,
                                const cr_mtls_identity *client)
{
    char target[256];
    snprintf(target, sizeof target, "unix:%s", path);
    grpc_arg arg;
    memset(&arg, 0, sizeof arg);
    arg.type = GRPC_ARG_STRING;
    arg.key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
    arg.value.string = "localhost";
    grpc_channel_args args = {1, &arg};
    grpc_channel_credentials *creds;
    if (server_pem != NULL) {
        grpc_ssl_pem_key_cert_pair pair = {client->key_pem, client->cert_pem};
        creds = grpc_ssl_credentials_create(server_pem, &pair, NULL, NULL);
    } else {
        creds = grpc_insecure_credentials_create();
    }
    grpc_channel *ch = grpc_channel_create(target, creds, &args);
    grpc_channel_credentials_release(creds);
    return ch;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_no_cookie(void **state)
{
    (void)state;
    char *env[] = {"PLUGIN_PROTOCOL_VERSIONS=6", NULL};
    child c;
    spawn(&c, "plugin", env);
    char err[4096];
    read_until(c.err, err, sizeof err, 0, NULL);
    size_t n = read_until(c.out, c.outbuf, sizeof c.outbuf, 0, NULL);
    assert_int_equal(wait_exit(&c), 1);
    assert_int_equal(n, 0);                 /* nothing on stdout */
    assert_non_null(strstr(err, "This binary is a plugin"));
    child_close(&c);

    /* a wrong cookie is no better */
    char *env2[] = {"TF_PLUGIN_MAGIC_COOKIE=nope", "PLUGIN_PROTOCOL_VERSIONS=6",
                    NULL};
    spawn(&c, "plugin", env2);
    read_until(c.err, err, sizeof err, 0, NULL);
    assert_int_equal(wait_exit(&c), 1);
    assert_non_null(strstr(err, "This binary is a plugin"));
    child_close(&c);
}

static void test_no_common_version(void **state)
{
    (void)state;
    char *env[] = {"TF_PLUGIN_MAGIC_COOKIE=" COOKIE, "PLUGIN_PROTOCOL_VERSIONS=4,5",
                   NULL};
    child c;
    spawn(&c, "plugin", env);
    char err[4096];
    read_until(c.err, err, sizeof err, 0, NULL);
    size_t n = read_until(c.out, c.outbuf, sizeof c.outbuf, 0, NULL);
    assert_int_equal(wait_exit(&c), 1);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err, "protocol 6"));
    child_close(&c);
}

static void test_automtls_sigint_shutdown(void **state)
{
    (void)state;
    cr_mtls_identity client;
    char e[256];
    assert_int_equal(cr_mtls_identity_new(&client, e, sizeof e), 0);
    char *certenv = malloc(strlen(client.cert_pem) + 32);
    sprintf(certenv, "PLUGIN_CLIENT_CERT=%s", client.cert_pem);
    char direnv[128];
    snprintf(direnv, sizeof direnv, "PLUGIN_UNIX_SOCKET_DIR=%s", sockdir);
    char *env[] = {"TF_PLUGIN_MAGIC_COOKIE=" COOKIE,
                   "PLUGIN_PROTOCOL_VERSIONS=5,6", certenv, direnv, NULL};
    child c;
    spawn(&c, "plugin", env);
    c.outlen = read_until(c.out, c.outbuf, sizeof c.outbuf, 0, "\n");

    char line[8192];
    snprintf(line, sizeof line, "%s", c.outbuf);
    char *f[6];
    assert_int_equal(split_line(line, f), 6);
    assert_string_equal(f[0], "1");
    assert_string_equal(f[1], "6");
    assert_string_equal(f[2], "unix");
    assert_int_equal(strncmp(f[3], sockdir, strlen(sockdir)), 0);
    assert_string_equal(f[4], "grpc");
    assert_true(strlen(f[5]) > 50);
    assert_null(strchr(f[5], '='));
    char path[256];
    snprintf(path, sizeof path, "%s", f[3]);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));

    char *server_pem = cert_field_to_pem(f[5]);
    assert_non_null(server_pem);
    grpc_channel *ch = connect_to(path, server_pem, &client);
    assert_int_equal(health(ch), GRPC_STATUS_OK);

    /* Ctrl-C reaches the whole process group: the plugin ignores it */
    assert_int_equal(kill(c.pid, SIGINT), 0);
    assert_int_equal(health(ch), GRPC_STATUS_OK);
    Grpc__Health__V1__HealthCheckRequest req =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    assert_int_equal(call(ch, "/test.T/Echo", &req.base), GRPC_STATUS_OK);

    Plugin__Empty empty = PLUGIN__EMPTY__INIT;
    assert_int_equal(call(ch, "/plugin.GRPCController/Shutdown", &empty.base),
                     GRPC_STATUS_OK);
    assert_int_equal(wait_exit(&c), 0);
    assert_int_not_equal(lstat(path, &st), 0);      /* socket removed */
    /* nothing but the handshake line was ever written to stdout */
    c.outlen = read_until(c.out, c.outbuf, sizeof c.outbuf, c.outlen, NULL);
    assert_int_equal(strchr(c.outbuf, '\n') - c.outbuf + 1, (long)c.outlen);

    grpc_channel_destroy(ch);
    free(server_pem);
    free(certenv);
    cr_mtls_identity_free(&client);
    child_close(&c);
}

static void test_plaintext_sigterm(void **state)
{
    (void)state;
    char tmpenv[128];
    snprintf(tmpenv, sizeof tmpenv, "TMPDIR=%s", sockdir);
    char *env[] = {"TF_PLUGIN_MAGIC_COOKIE=" COOKIE,
                   "PLUGIN_PROTOCOL_VERSIONS=6", tmpenv, NULL};
    child c;
    spawn(&c, "plugin", env);
    c.outlen = read_until(c.out, c.outbuf, sizeof c.outbuf, 0, "\n");
    char line[8192];
    snprintf(line, sizeof line, "%s", c.outbuf);
    char *f[6];
    assert_int_equal(split_line(line, f), 6);
    assert_string_equal(f[5], "");          /* no TLS: empty cert field */
    assert_int_equal(strncmp(f[3], sockdir, strlen(sockdir)), 0); /* TMPDIR */
    char path[256];
    snprintf(path, sizeof path, "%s", f[3]);

    grpc_channel *ch = connect_to(path, NULL, NULL);
    assert_int_equal(health(ch), GRPC_STATUS_OK);
    assert_int_equal(kill(c.pid, SIGTERM), 0);
    assert_int_equal(wait_exit(&c), 0);
    struct stat st;
    assert_int_not_equal(lstat(path, &st), 0);
    grpc_channel_destroy(ch);
    child_close(&c);
}

static void test_debug_mode(void **state)
{
    (void)state;
    char tmpenv[128];
    snprintf(tmpenv, sizeof tmpenv, "TMPDIR=%s", sockdir);
    char *env[] = {tmpenv, NULL};           /* no cookie needed */
    child c;
    spawn(&c, "debug", env);
    c.outlen = read_until(c.out, c.outbuf, sizeof c.outbuf, 0, "'\n");
    assert_non_null(strstr(c.outbuf, "Provider started."));
    char *q = strstr(c.outbuf, "TF_REATTACH_PROVIDERS='");
    assert_non_null(q);
    q += strlen("TF_REATTACH_PROVIDERS='");
    char *end = strchr(q, '\'');
    assert_non_null(end);
    *end = '\0';
    json_error_t jerr;
    json_t *j = json_loads(q, 0, &jerr);
    assert_non_null(j);
    json_t *p = json_object_get(j, "registry.terraform.io/test/test");
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "Protocol")), "grpc");
    assert_int_equal(json_integer_value(json_object_get(p, "ProtocolVersion")), 6);
    assert_int_equal(json_integer_value(json_object_get(p, "Pid")), c.pid);
    assert_true(json_is_true(json_object_get(p, "Test")));
    json_t *addr = json_object_get(p, "Addr");
    assert_string_equal(json_string_value(json_object_get(addr, "Network")), "unix");
    char path[256];
    snprintf(path, sizeof path, "%s",
             json_string_value(json_object_get(addr, "String")));
    json_decref(j);

    grpc_channel *ch = connect_to(path, NULL, NULL);  /* plaintext */
    assert_int_equal(health(ch), GRPC_STATUS_OK);
    /* Debug mode serves one Terraform run after another: a client that
     * leaves (its held stream dropped) does not stop it. */
    held h;
    hold_stdio(ch, &h);
    hold_drop(&h);
    grpc_channel_destroy(ch);
    ch = connect_to(path, NULL, NULL);
    assert_int_equal(health(ch), GRPC_STATUS_OK);
    /* in debug mode Ctrl-C stops the server */
    assert_int_equal(kill(c.pid, SIGINT), 0);
    assert_int_equal(wait_exit(&c), 0);
    struct stat st;
    assert_int_not_equal(lstat(path, &st), 0);
    grpc_channel_destroy(ch);
    child_close(&c);
}

/* Starts a plaintext plugin (mode "plugin", or "middle": through
 * serve-middle, whose stderr line gives the plugin's pid in *pid) and
 * connects to it; the socket path goes to path. */
static grpc_channel *start_plain(child *c, const char *mode, char *path,
                                 size_t pathlen, pid_t *pid)
{
    static char tmpenv[128];
    snprintf(tmpenv, sizeof tmpenv, "TMPDIR=%s", sockdir);
    char *env[] = {"TF_PLUGIN_MAGIC_COOKIE=" COOKIE,
                   "PLUGIN_PROTOCOL_VERSIONS=6", tmpenv, NULL};
    spawn(c, mode, env);
    c->outlen = read_until(c->out, c->outbuf, sizeof c->outbuf, 0, "\n");
    char line[8192];
    snprintf(line, sizeof line, "%s", c->outbuf);
    char *f[6];
    assert_int_equal(split_line(line, f), 6);
    snprintf(path, pathlen, "%s", f[3]);
    *pid = c->pid;
    if (strcmp(mode, "middle") == 0) {
        char err[256];
        read_until(c->err, err, sizeof err, 0, "\n");
        long p = 0;
        assert_int_equal(sscanf(err, "child %ld", &p), 1);
        *pid = (pid_t)p;
    }
    grpc_channel *ch = connect_to(path, NULL, NULL);
    assert_int_equal(health(ch), GRPC_STATUS_OK);
    return ch;
}

static void test_client_gone(void **state)
{
    (void)state;
    child c;
    char path[256];
    pid_t pid;
    grpc_channel *ch = start_plain(&c, "plugin", path, sizeof path, &pid);
    held h;
    hold_stdio(ch, &h);
    assert_int_equal(health(ch), GRPC_STATUS_OK);
    /* Terraform's connection closes without a Shutdown: the plugin is not
     * killed, its parent (this test) lives on; it must end by itself. */
    hold_drop(&h);
    grpc_channel_destroy(ch);
    assert_int_equal(wait_exit(&c), 0);
    struct stat st;
    assert_int_not_equal(lstat(path, &st), 0);      /* socket removed */
    child_close(&c);
}

static void test_parent_gone(void **state)
{
    (void)state;
    child middle;
    char path[256];
    pid_t pid;
    grpc_channel *ch = start_plain(&middle, "middle", path, sizeof path, &pid);
    held h;
    hold_stdio(ch, &h);     /* the connection stays open throughout */
    /* The plugin's parent dies (as Terraform under SIGKILL); this test is
     * a subreaper, so the plugin becomes its child and is waited for. */
    assert_int_equal(kill(middle.pid, SIGKILL), 0);
    assert_int_equal(waitpid(middle.pid, NULL, 0), middle.pid);
    child c = middle;
    c.pid = pid;
    assert_int_equal(wait_exit(&c), 0);
    struct stat st;
    assert_int_not_equal(lstat(path, &st), 0);
    hold_drop(&h);
    grpc_channel_destroy(ch);
    child_close(&middle);
}

static int group_setup(void **state)
{
    (void)state;
    /* Orphans of test_parent_gone become our children, to be waited for. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        return -1;
    snprintf(sockdir, sizeof sockdir, "/tmp/cr-serve-XXXXXX");
    if (mkdtemp(sockdir) == NULL)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    grpc_init();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    grpc_shutdown();
    return rmdir(sockdir);      /* fails if a socket file was left behind */
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "serve-child") == 0)
        return serve_child(argv[2]);
    if (argc == 2 && strcmp(argv[1], "serve-middle") == 0)
        return serve_middle();

    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_cookie),
        cmocka_unit_test(test_no_common_version),
        cmocka_unit_test(test_automtls_sigint_shutdown),
        cmocka_unit_test(test_plaintext_sigterm),
        cmocka_unit_test(test_debug_mode),
        cmocka_unit_test(test_client_gone),
        cmocka_unit_test(test_parent_gone),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
