/*
 * plugin/serve.c — the plugin process from launch to exit (see serve.h).
 *
 * Order matters: signals are blocked before gRPC starts its threads (so the
 * signalfd in cr_server_run sees them), the server listens before the
 * handshake line is printed (Terraform dials as soon as it reads the line),
 * and the line is flushed at once (stdout to a pipe is fully buffered).
 */
#include "plugin/serve.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "plugin/goplugin.h"
#include "plugin/handshake.h"
#include "plugin/mtls.h"
#include "plugin/parent.h"

#define MAX_SERVICES 8

/* What the "Terraform is gone" paths (parent watch, client_gone) act on.
 * client_gone comes from a worker thread, the parent watch from the main
 * thread in cr_server_run_watching; `server` is cleared under `mu` before
 * the server goes, so a late notice finds nothing to act on. */
typedef struct serve_state {
    pthread_mutex_t mu;
    const cr_serve_options *o;
    cr_server *server;              /* while serving; NULL before and after */
    bool gone;                      /* noticed once already */
} serve_state;

/* Terraform is gone without a Shutdown: stop what runs, then shut down as
 * a Shutdown would (calls in flight finish: a routing-map write commits or
 * rolls back whole, never half). Once, from whichever thread noticed. */
static void terraform_gone(serve_state *st, const char *how)
{
    pthread_mutex_lock(&st->mu);
    if (st->server != NULL && !st->gone) {
        st->gone = true;
        cr_log_info("plugin", "Terraform is gone (%s): stopping operations "
                    "in flight and shutting down", how);
        if (st->o->stop != NULL)
            st->o->stop(st->o->stop_ctx);
        cr_server_shutdown(st->server);
    }
    pthread_mutex_unlock(&st->mu);
}

static void parent_gone(void *arg)
{
    terraform_gone(arg, "its process exited");
}

static void client_gone(void *arg)
{
    terraform_gone(arg, "it closed the connection");
}

static int startup_error(const cr_serve_options *o, const char *what)
{
    fprintf(o->err, "%s: %s\n", o->program, what);
    fflush(o->err);
    cr_log_error("plugin", "%s", what);
    return 1;
}

static int print_reattach(const cr_serve_options *o, const char *path)
{
    char *json = cr_handshake_reattach_json(o->provider_address,
                                            CR_HANDSHAKE_APP_VERSION, getpid(),
                                            "unix", path);
    char *quoted = json != NULL ? cr_handshake_shell_quote(json) : NULL;
    int rc = -1;
    if (quoted != NULL) {
        fprintf(o->out,
                "Provider started. To attach Terraform CLI, set the "
                "TF_REATTACH_PROVIDERS environment variable with the "
                "following:\n\n\tTF_REATTACH_PROVIDERS=%s\n\n", quoted);
        rc = fflush(o->out) == 0 ? 0 : -1;
    }
    free(quoted);
    free(json);
    return rc;
}

int cr_plugin_serve(const cr_serve_options *o)
{
    bool debug = o->mode == CR_SERVE_DEBUG;
    char err[512];
    int version = CR_HANDSHAKE_APP_VERSION;
    /* First thing: whoever launched us. Read later, it might already be
     * init, Terraform having died in between. */
    pid_t parent = getppid();
    /* Nothing looks at it once we return: the server, whose workers call
     * client_gone, is gone by then, and the parent watch is served by
     * this thread. */
    serve_state st = {.mu = PTHREAD_MUTEX_INITIALIZER, .o = o};

    if (!debug) {
        if (!cr_handshake_cookie_ok(getenv(CR_HANDSHAKE_COOKIE_KEY))) {
            fputs(cr_handshake_cookie_help(), o->err);
            fflush(o->err);
            return 1;
        }
        if (cr_handshake_negotiate(getenv("PLUGIN_PROTOCOL_VERSIONS"),
                                   &version, err, sizeof err) != 0)
            return startup_error(o, err);
    }

    /* Signals: block the ones that stop us in every thread to come (gRPC's
     * included), ignore the rest of the noise. The stop signals get their
     * default disposition back first: one inherited as ignored (a shell's
     * background job ignores SIGINT) would be discarded, not queued for
     * the signalfd. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    signal(SIGTERM, SIG_DFL);
    if (debug) {
        sigaddset(&stop, SIGINT);
        signal(SIGINT, SIG_DFL);
    } else {
        signal(SIGINT, SIG_IGN);
    }
    signal(SIGPIPE, SIG_IGN);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    char path[CR_HANDSHAKE_SOCKET_MAX];
    if (cr_handshake_socket_path(getenv("PLUGIN_UNIX_SOCKET_DIR"),
                                 getenv("TMPDIR"), path, sizeof path,
                                 err, sizeof err) != 0)
        return startup_error(o, err);

    const char *client_cert = debug ? NULL : getenv("PLUGIN_CLIENT_CERT");
    bool tls = client_cert != NULL && *client_cert != '\0';
    cr_mtls_identity id = {0};
    if (tls) {
        if (cr_mtls_check_client_ca(client_cert, err, sizeof err) != 0 ||
            cr_mtls_identity_new(&id, err, sizeof err) != 0)
            return startup_error(o, err);
    }

    if (o->n_services + 1 > MAX_SERVICES) {
        cr_mtls_identity_free(&id);
        return startup_error(o, "too many services");
    }
    cr_service services[MAX_SERVICES];
    services[0] = cr_goplugin_service();
    for (size_t i = 0; i < o->n_services; i++)
        services[i + 1] = o->services[i];

    char address[CR_HANDSHAKE_SOCKET_MAX + 8];
    snprintf(address, sizeof address, "unix:%s", path);
    cr_server_config cfg = {
        .address = address,
        .tls_cert_pem = tls ? id.cert_pem : NULL,
        .tls_key_pem = tls ? id.key_pem : NULL,
        .client_ca_pem = tls ? client_cert : NULL,
        .services = services,
        .n_services = o->n_services + 1,
        .client_gone = debug ? NULL : client_gone,
        .client_gone_arg = &st,
    };
    cr_server *server = cr_server_new(&cfg, err, sizeof err);
    if (server == NULL) {
        cr_mtls_identity_free(&id);
        return startup_error(o, err);
    }
    pthread_mutex_lock(&st.mu);
    st.server = server;
    pthread_mutex_unlock(&st.mu);
    /* Plugin mode: a Terraform that dies never sends Shutdown. The pidfd
     * is opened before the handshake line, so a parent that dies from now
     * on is noticed when cr_server_run_watching starts serving the watch
     * (parent.h), whatever calls came in between. */
    cr_parent_watch pw;
    if (!debug)
        cr_parent_watch_init(&pw, parent, parent_gone, &st);
    /* The key lives on inside gRPC's TLS context; our copy can go now. */
    char *cert_b64 = id.cert_b64;
    id.cert_b64 = NULL;
    cr_mtls_identity_free(&id);

    int rc = 0;
    if (!debug && cr_handshake_socket_group(path, getenv("PLUGIN_UNIX_SOCKET_GROUP"),
                                            err, sizeof err) != 0) {
        rc = startup_error(o, err);
    } else if (debug) {
        if (print_reattach(o, path) != 0)
            rc = startup_error(o, "cannot write to stdout");
    } else {
        char line[CR_HANDSHAKE_SOCKET_MAX + 1024];
        if (cr_handshake_line(line, sizeof line, version, "unix", path,
                              cert_b64) < 0)
            rc = startup_error(o, "cannot format the handshake line");
        else if (fputs(line, o->out) == EOF || fflush(o->out) != 0)
            rc = startup_error(o, "cannot write the handshake to stdout");
    }
    free(cert_b64);

    if (rc == 0) {
        cr_log_info("plugin", "serving protocol %d on %s%s", version, path,
                    tls ? " (mTLS)" : "");
        int why = cr_server_run_watching(server, &stop,
                                         debug ? NULL : &pw.watch);
        if (why > 0)
            cr_log_info("plugin", "stopped by signal %d", why);
        else if (why < 0)
            rc = 1;
    }
    if (!debug)
        cr_parent_watch_close(&pw);
    pthread_mutex_lock(&st.mu);
    st.server = NULL;
    pthread_mutex_unlock(&st.mu);
    cr_server_free_at_exit(server);
    cr_log_debug("plugin", "exiting");
    return rc;
}
