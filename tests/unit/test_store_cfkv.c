/*
 * tests/unit/test_store_cfkv.c — the Cloudflare Workers KV backend against
 * a scripted HTTP server on 127.0.0.1: each test queues the answers the
 * API gives and checks what the backend sent and concluded. Covers the
 * request shapes (paths, multipart value + metadata, bearer token),
 * conditional writes without CAS (version read first), tombstones keeping
 * versions monotonic, cursor paging, retries honouring Retry-After, the
 * retry budget, 401/403/404 diagnostics, hostile answers, the metadata size
 * limit, settings validation, and that the API token appears in no message
 * and no log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "store/store.h"

#define TOKEN   "tok-S3CRET-abcdef0123456789"
#define ACCOUNT "0123456789abcdef0123456789abcdef"
#define NS      "fedcba9876543210fedcba9876543210"
#define NSPATH  "/client/v4/accounts/" ACCOUNT "/storage/kv/namespaces/" NS

/* ---- a scripted HTTP server ---------------------------------------------- */

#define MAXQ 64

typedef struct reply {
    int status;
    char headers[128];          /* extra header lines, each ending \r\n */
    char *body;
} reply;

typedef struct request {
    char method[16];
    char path[2048];
    char auth[256];
    char *body;
} request;

typedef struct server {
    int lfd, port;
    pthread_t th;
    pthread_mutex_t mu;
    reply q[MAXQ];
    size_t nq, qi;
    request req[MAXQ];
    size_t nreq;
    volatile int stop;
} server;

static void script(server *s, int status, const char *headers,
                   const char *body)
{
    pthread_mutex_lock(&s->mu);
    assert_true(s->nq < MAXQ);
    reply *r = &s->q[s->nq++];
    r->status = status;
    snprintf(r->headers, sizeof r->headers, "%s", headers ? headers : "");
    r->body = strdup(body ? body : "");
    pthread_mutex_unlock(&s->mu);
}

static const char KEY_NOT_FOUND[] =
    "{\"success\":false,\"errors\":[{\"code\":10009,\"message\":"
    "\"get: 'key not found'\"}],\"messages\":[],\"result\":null}";
static const char OK_EMPTY[] =
    "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":{}}";

static void script_md(server *s, const char *metadata)
{
    char body[2048];
    snprintf(body, sizeof body, "{\"success\":true,\"errors\":[],"
             "\"messages\":[],\"result\":%s}", metadata);
    script(s, 200, NULL, body);
}

static bool read_request(int fd, request *rq)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    char *hdr_end = NULL;
    while (!hdr_end) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n <= 0) {
            free(buf);
            return false;
        }
        len += (size_t)n;
        buf[len] = '\0';
        hdr_end = strstr(buf, "\r\n\r\n");
    }
    size_t hlen = (size_t)(hdr_end + 4 - buf);
    size_t clen = 0;
    sscanf(buf, "%15s %2047s", rq->method, rq->path);
    for (char *line = strstr(buf, "\r\n"); line && line < hdr_end;
         line = strstr(line + 2, "\r\n")) {
        char *l = line + 2;
        if (strncasecmp(l, "content-length:", 15) == 0)
            clen = strtoul(l + 15, NULL, 10);
        if (strncasecmp(l, "authorization:", 14) == 0) {
            char *e = strstr(l, "\r\n");
            size_t n = (size_t)(e - (l + 15));
            if (n >= sizeof rq->auth)
                n = sizeof rq->auth - 1;
            memcpy(rq->auth, l + 15, n);
            rq->auth[n] = '\0';
        }
    }
    while (len < hlen + clen) {
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    rq->body = strndup(buf + hlen, len - hlen);
    free(buf);
    return true;
}

static void *serve(void *arg)
{
    server *s = arg;
    while (!s->stop) {
        struct pollfd p = { s->lfd, POLLIN, 0 };
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        request rq;
        memset(&rq, 0, sizeof rq);
        if (!read_request(fd, &rq)) {
            close(fd);
            continue;
        }
        reply r = {418, "", NULL};
        pthread_mutex_lock(&s->mu);
        if (s->nreq < MAXQ)
            s->req[s->nreq++] = rq;
        else
            free(rq.body);
        if (s->qi < s->nq)
            r = s->q[s->qi++];
        pthread_mutex_unlock(&s->mu);
        const char *body = r.body ? r.body : "unscripted request";
        char head[512];
        int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: "
                         "%zu\r\nConnection: close\r\n%s\r\n", r.status,
                         strlen(body), r.headers);
        if (write(fd, head, (size_t)n) < 0 ||
            write(fd, body, strlen(body)) < 0)
            (void)0;
        close(fd);
    }
    return NULL;
}

static server *server_start(void)
{
    server *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 16), 0);
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    pthread_create(&s->th, NULL, serve, s);
    return s;
}

static void server_stop(server *s)
{
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->lfd);
    for (size_t i = 0; i < s->nq; i++)
        free(s->q[i].body);
    for (size_t i = 0; i < s->nreq; i++)
        free(s->req[i].body);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- fixture ----------------------------------------------------------- */

typedef struct fixture {
    server *srv;
    cr_store *s;
    char api[64];
} fixture;

static cr_store_rc open_store(fixture *f, long budget_ms, bool probe,
                              cr_store_err *err)
{
    cr_cfkv_config c = {
        .account_id = ACCOUNT, .namespace_id = NS, .api_token = TOKEN,
        .api_url = f->api, .retry_budget_ms = budget_ms, .skip_probe = !probe,
    };
    return cr_store_cfkv_open(&c, &f->s, err);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->srv = server_start();
    snprintf(f->api, sizeof f->api, "http://127.0.0.1:%d/client/v4/",
             f->srv->port);
    cr_store_err err;
    if (open_store(f, 5000, false, &err) != CR_STORE_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cr_store_close(f->s);
    server_stop(f->srv);
    free(f);
    return 0;
}

static cr_entry *mk(const char *tenant, const char *cell, const char *ep)
{
    cr_entry *e = cr_entry_new();
    e->tenant_id = strdup(tenant);
    e->cell_id = strdup(cell);
    e->endpoint = strdup(ep);
    return e;
}

static const request *req(fixture *f, size_t i)
{
    assert_true(i < f->srv->nreq);
    return &f->srv->req[i];
}

static void assert_no_token(const char *s)
{
    if (s && strstr(s, TOKEN))
        fail_msg("the API token appears in: %s", s);
    if (s && strstr(s, "S3CRET"))
        fail_msg("part of the API token appears in: %s", s);
}

/* ---- tests ------------------------------------------------------------- */

static void test_create_request_shape(void **state)
{
    fixture *f = *state;
    script(f->srv, 404, NULL, KEY_NOT_FOUND);       /* metadata: absent */
    script(f->srv, 404, NULL, KEY_NOT_FOUND);       /* no tombstone */
    script(f->srv, 200, NULL, OK_EMPTY);            /* PUT */
    cr_entry *e = mk("acme:eu", "cell-1", "https://cell-1.example.com/in");
    e->standby_cell_id = strdup("cell-2");
    e->standby_endpoint = strdup("https://cell-2.example.com");
    cr_entry_set_label(e, "tier", "gold");
    cr_entry *w = NULL;
    cr_store_err err;
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ABSENT, &w, &err),
                     CR_STORE_OK);
    assert_int_equal(w->version, 1);
    assert_non_null(w->updated_at);
    assert_int_equal(f->srv->nreq, 3);
    assert_string_equal(req(f, 0)->method, "GET");
    /* ':' is percent-encoded in the key. */
    assert_string_equal(req(f, 0)->path, NSPATH "/metadata/acme%3Aeu");
    assert_string_equal(req(f, 0)->auth, "Bearer " TOKEN);
    assert_non_null(strstr(req(f, 1)->path, "/metadata/_cellrouter-retired."));
    const request *put = req(f, 2);
    assert_string_equal(put->method, "PUT");
    assert_string_equal(put->path, NSPATH "/values/acme%3Aeu");
    assert_non_null(strstr(put->body, "name=\"value\""));
    assert_non_null(strstr(put->body, "https://cell-1.example.com/in"));
    assert_non_null(strstr(put->body, "name=\"metadata\""));
    assert_non_null(strstr(put->body, "\"cell_id\":\"cell-1\""));
    assert_non_null(strstr(put->body, "\"labels\":{\"tier\":\"gold\"}"));
    assert_non_null(strstr(put->body, "\"schema\":1"));
    assert_non_null(strstr(put->body, "\"standby_cell_id\":\"cell-2\""));
    assert_non_null(strstr(put->body, "\"version\":1"));
    assert_no_token(put->body);
    cr_entry_free(w);
    cr_entry_free(e);
}

static void test_get(void **state)
{
    fixture *f = *state;
    script_md(f->srv, "{\"cell_id\":\"cell-1\",\"labels\":{\"a\":\"1\","
              "\"b\":\"2\"},\"schema\":1,\"updated_at\":"
              "\"2026-01-01T00:00:00.000000Z\",\"version\":7}");
    script(f->srv, 200, NULL, "https://cell-1.example.com");
    cr_entry *e = NULL;
    cr_store_err err;
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_OK);
    assert_non_null(e);
    assert_string_equal(e->tenant_id, "acme");
    assert_string_equal(e->cell_id, "cell-1");
    assert_string_equal(e->endpoint, "https://cell-1.example.com");
    assert_null(e->standby_cell_id);
    assert_int_equal(e->version, 7);
    assert_true(e->has_labels);
    assert_int_equal(e->nlabels, 2);
    assert_string_equal(cr_entry_label(e, "b"), "2");
    assert_string_equal(req(f, 1)->path, NSPATH "/values/acme");
    cr_entry_free(e);

    /* Absent: OK with no entry. Deleted between the two reads: the same. */
    script(f->srv, 404, NULL, KEY_NOT_FOUND);
    assert_int_equal(cr_store_get(f->s, "ghost", &e, &err), CR_STORE_OK);
    assert_null(e);
    script_md(f->srv, "{\"cell_id\":\"c\",\"schema\":1,\"updated_at\":\"x\","
              "\"version\":1}");
    script(f->srv, 404, NULL, KEY_NOT_FOUND);
    assert_int_equal(cr_store_get(f->s, "gone", &e, &err), CR_STORE_OK);
    assert_null(e);
    /* A bad tenant id never reaches the API. */
    size_t before = f->srv->nreq;
    assert_int_equal(cr_store_get(f->s, "../x", &e, &err), CR_STORE_INVALID);
    assert_int_equal(f->srv->nreq, before);
}

static void test_conditional(void **state)
{
    fixture *f = *state;
    const char *v5 = "{\"cell_id\":\"c\",\"schema\":1,\"updated_at\":\"x\","
                     "\"version\":5}";
    cr_entry *e = mk("acme", "cell-1", "https://h");
    cr_store_err err;

    script_md(f->srv, v5);
    assert_int_equal(cr_store_put(f->s, e, 3, NULL, &err), CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 5);
    script_md(f->srv, v5);
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ABSENT, NULL, &err),
                     CR_STORE_EXISTS);
    assert_int_equal(err.actual_version, 5);
    script(f->srv, 404, NULL, KEY_NOT_FOUND);
    assert_int_equal(cr_store_put(f->s, e, 5, NULL, &err), CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 0);
    /* Nothing was written by any of them: only metadata reads went out. */
    assert_int_equal(f->srv->nreq, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(req(f, i)->method, "GET");

    /* The expected version: written as version + 1. */
    cr_entry *w = NULL;
    script_md(f->srv, v5);
    script(f->srv, 200, NULL, OK_EMPTY);
    assert_int_equal(cr_store_put(f->s, e, 5, &w, &err), CR_STORE_OK);
    assert_int_equal(w->version, 6);
    assert_non_null(strstr(req(f, 4)->body, "\"version\":6"));
    cr_entry_free(w);
    cr_entry_free(e);
}

static void test_delete_and_recreate(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    script_md(f->srv, "{\"cell_id\":\"c\",\"schema\":1,\"updated_at\":\"x\","
              "\"version\":3}");
    script(f->srv, 404, NULL, KEY_NOT_FOUND);      /* no tombstone yet */
    script(f->srv, 200, NULL, OK_EMPTY);           /* tombstone PUT */
    script(f->srv, 200, NULL, "{\"success\":true,\"errors\":[],"
           "\"messages\":[],\"result\":null}");    /* DELETE */
    assert_int_equal(cr_store_delete(f->s, "acme", 3, &err), CR_STORE_OK);
    assert_int_equal(f->srv->nreq, 4);
    assert_string_equal(req(f, 2)->method, "PUT");
    assert_non_null(strstr(req(f, 2)->path, "/values/_cellrouter-retired."));
    assert_non_null(strstr(req(f, 2)->body, "\"version\":3"));
    assert_string_equal(req(f, 3)->method, "DELETE");
    assert_string_equal(req(f, 3)->path, NSPATH "/values/acme");

    /* Re-created: continues after the tombstone's version. */
    script(f->srv, 404, NULL, KEY_NOT_FOUND);
    script_md(f->srv, "{\"tenant_id\":\"acme\",\"version\":3}");
    script(f->srv, 200, NULL, OK_EMPTY);
    cr_entry *e = mk("acme", "cell-1", "https://h"), *w = NULL;
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ABSENT, &w, &err),
                     CR_STORE_OK);
    assert_int_equal(w->version, 4);
    cr_entry_free(w);
    cr_entry_free(e);

    /* Nothing to delete; a stale version is a conflict, nothing sent. */
    size_t before = f->srv->nreq;
    script(f->srv, 404, NULL, KEY_NOT_FOUND);
    assert_int_equal(cr_store_delete(f->s, "ghost", CR_VERSION_ANY, &err),
                     CR_STORE_NOT_FOUND);
    script_md(f->srv, "{\"cell_id\":\"c\",\"schema\":1,\"updated_at\":\"x\","
              "\"version\":9}");
    assert_int_equal(cr_store_delete(f->s, "acme", 4, &err),
                     CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 9);
    assert_int_equal(f->srv->nreq, before + 2);
    assert_int_equal(cr_store_delete(f->s, "acme", CR_VERSION_ABSENT, &err),
                     CR_STORE_INVALID);
}

static void test_list_paging(void **state)
{
    fixture *f = *state;
    const char *md = "{\"cell_id\":\"cell-1\",\"schema\":1,\"updated_at\":"
                     "\"x\",\"version\":1}";
    char page[2048];
    snprintf(page, sizeof page, "{\"success\":true,\"errors\":[],"
             "\"messages\":[],\"result\":[{\"name\":\"t-b\",\"metadata\":%s},"
             "{\"name\":\"_cellrouter-retired.00\",\"metadata\":{}},"
             "{\"name\":\"t-a\",\"metadata\":%s}],\"result_info\":{\"count\":3,"
             "\"cursor\":\"next+page/1\"}}", md, md);
    script(f->srv, 200, NULL, page);
    script(f->srv, 200, NULL, "https://b.example.com");
    script(f->srv, 200, NULL, "https://a.example.com");
    snprintf(page, sizeof page, "{\"success\":true,\"errors\":[],"
             "\"messages\":[],\"result\":[{\"name\":\"t-c\",\"metadata\":%s}],"
             "\"result_info\":{\"count\":1,\"cursor\":\"\"}}", md);
    script(f->srv, 200, NULL, page);
    script(f->srv, 200, NULL, "https://c.example.com");
    cr_entry_list l;
    cr_store_err err;
    assert_int_equal(cr_store_list(f->s, "t-", &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 3);
    assert_string_equal(l.items[0].tenant_id, "t-a");
    assert_string_equal(l.items[0].endpoint, "https://a.example.com");
    assert_string_equal(l.items[2].tenant_id, "t-c");
    assert_string_equal(req(f, 0)->path, NSPATH "/keys?limit=1000&prefix=t-");
    /* The cursor goes back percent-encoded. */
    assert_string_equal(req(f, 3)->path,
                        NSPATH "/keys?limit=1000&prefix=t-&cursor=next%2Bpage%2F1");
    cr_entry_list_free(&l);

    /* A server that returns the same cursor forever is caught. */
    snprintf(page, sizeof page, "{\"success\":true,\"errors\":[],"
             "\"messages\":[],\"result\":[],\"result_info\":{\"count\":0,"
             "\"cursor\":\"same\"}}");
    script(f->srv, 200, NULL, page);
    script(f->srv, 200, NULL, page);
    assert_int_equal(cr_store_list(f->s, NULL, &l, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "same list cursor"));
    assert_int_equal(l.len, 0);
}

static void test_invalid_entries(void **state)
{
    fixture *f = *state;
    cr_entry *e = NULL;
    cr_store_err err;
    /* A pair written by someone else, without cellrouter's metadata. */
    script_md(f->srv, "null");
    script(f->srv, 200, NULL, "https://h");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "\"acme\""));
    assert_non_null(strstr(err.msg, "not written by cellrouter"));
    /* Metadata with a bad field, then a value that is not a URL. */
    script_md(f->srv, "{\"cell_id\":7,\"schema\":1,\"updated_at\":\"x\","
              "\"version\":1}");
    script(f->srv, 200, NULL, "https://h");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "cell_id"));
    script_md(f->srv, "{\"cell_id\":\"c\",\"schema\":1,\"updated_at\":\"x\","
              "\"version\":1}");
    script(f->srv, 200, NULL, "ftp://h");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "endpoint"));
    /* Answers that are not the API's. */
    script(f->srv, 200, NULL, "<html>proxy</html>");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "not a JSON object"));
    script(f->srv, 200, NULL, "{\"success\":false}");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_IO);
    /* A 404 that is not "key not found": the URL is wrong. */
    script(f->srv, 404, NULL, "{\"success\":false,\"errors\":[{\"code\":"
           "10013,\"message\":\"namespace not found\"}]}");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "namespace_id " NS));
    assert_non_null(strstr(err.msg, "account " ACCOUNT));
    assert_null(e);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_retries(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_entry *e = mk("acme", "cell-1", "https://h"), *w = NULL;
    script_md(f->srv, "{\"cell_id\":\"c\",\"schema\":1,\"updated_at\":\"x\","
              "\"version\":1}");
    script(f->srv, 429, "Retry-After: 1\r\n", "{\"success\":false,"
           "\"errors\":[{\"code\":10048,\"message\":\"too many\"}]}");
    script(f->srv, 503, NULL, "busy");
    script(f->srv, 200, NULL, OK_EMPTY);
    double t0 = now_s();
    assert_int_equal(cr_store_put(f->s, e, 1, &w, &err), CR_STORE_OK);
    /* Retry-After was honoured (a lower bound: never earlier). */
    assert_true(now_s() - t0 >= 1.0);
    assert_int_equal(w->version, 2);
    assert_int_equal(f->srv->nreq, 4);
    for (size_t i = 1; i < 4; i++)
        assert_string_equal(req(f, i)->method, "PUT");
    cr_entry_free(w);
    cr_entry_free(e);
}

static void test_retry_budget(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_store_close(f->s);
    assert_int_equal(open_store(f, 1000, false, &err), CR_STORE_OK);
    /* Always 503: gives up within the budget, nothing written. */
    for (int i = 0; i < 20; i++)
        script(f->srv, 503, NULL, "{\"success\":false,\"errors\":[{\"code\":"
               "10001,\"message\":\"service unavailable\"}]}");
    cr_entry *e = mk("acme", "cell-1", "https://h");
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_IO);
    assert_non_null(strstr(err.msg, "HTTP 503"));
    assert_non_null(strstr(err.msg, "gave up after"));
    assert_non_null(strstr(err.msg, "retry budget 1 s"));
    assert_true(f->srv->nreq >= 2 && f->srv->nreq < 20);
    for (size_t i = 0; i < f->srv->nreq; i++)
        assert_string_equal(req(f, i)->method, "GET");

    /* Retry-After beyond the budget: one attempt, and it says so. */
    f->srv->qi = f->srv->nq;
    size_t before = f->srv->nreq;
    script(f->srv, 429, "Retry-After: 120\r\n", "{\"success\":false}");
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_IO);
    assert_int_equal(f->srv->nreq, before + 1);
    assert_non_null(strstr(err.msg, "rate limited"));
    assert_non_null(strstr(err.msg, "wait 120 s"));
    cr_entry_free(e);

    /* Nobody listening: the network error is retried, then reported. */
    cr_store *s2 = NULL;
    cr_cfkv_config c = {
        .account_id = ACCOUNT, .namespace_id = NS, .api_token = TOKEN,
        .api_url = "http://127.0.0.1:1", .retry_budget_ms = 600,
    };
    assert_int_equal(cr_store_cfkv_open(&c, &s2, &err), CR_STORE_IO);
    assert_null(s2);
    assert_non_null(strstr(err.msg, "gave up after"));
    assert_non_null(strstr(err.msg, "api_url"));
}

static void test_auth_and_probe(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_store_close(f->s);
    f->s = NULL;
    script(f->srv, 403, NULL, "{\"success\":false,\"errors\":[{\"code\":10000,"
           "\"message\":\"Authentication error\"}]}");
    assert_int_equal(open_store(f, 1000, true, &err), CR_STORE_AUTH);
    assert_null(f->s);
    assert_non_null(strstr(err.msg, "Workers KV Storage:Edit"));
    assert_non_null(strstr(err.msg, "account " ACCOUNT));
    assert_non_null(strstr(err.msg, "code 10000: Authentication error"));
    assert_no_token(err.msg);
    assert_string_equal(req(f, 0)->path, NSPATH "/keys?limit=10");

    script(f->srv, 401, NULL, "");
    assert_int_equal(open_store(f, 1000, true, &err), CR_STORE_AUTH);
    script(f->srv, 404, NULL, "{\"success\":false,\"errors\":[{\"code\":7003,"
           "\"message\":\"Could not route\"}]}");
    assert_int_equal(open_store(f, 1000, true, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "check that namespace_id"));
    script(f->srv, 200, NULL, "{\"success\":true,\"errors\":[],\"result\":[],"
           "\"result_info\":{\"count\":0,\"cursor\":\"\"}}");
    assert_int_equal(open_store(f, 1000, true, &err), CR_STORE_OK);
    assert_non_null(f->s);
}

static void test_token_never_leaks(void **state)
{
    fixture *f = *state;
    char path[] = "/tmp/cr-cfkv-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    cr_log_set(CR_LOG_TRACE, fd);
    cr_store_err err;
    cr_entry *e = mk("acme", "cell-1", "https://h"), *g = NULL;

    /* A server that echoes the token back in its error messages. */
    script(f->srv, 400, NULL, "{\"success\":false,\"errors\":[{\"code\":1,"
           "\"message\":\"bad token " TOKEN "\"}]}");
    assert_int_equal(cr_store_get(f->s, "acme", &g, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "[redacted]"));
    assert_no_token(err.msg);
    script(f->srv, 403, NULL, "{\"success\":false,\"errors\":[{\"code\":1,"
           "\"message\":\"" TOKEN "\"}]}");
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_AUTH);
    assert_no_token(err.msg);
    script(f->srv, 503, NULL, "{\"success\":false,\"errors\":[{\"code\":1,"
           "\"message\":\"" TOKEN "\"}]}");
    script(f->srv, 404, NULL, KEY_NOT_FOUND);
    script(f->srv, 404, NULL, KEY_NOT_FOUND);
    script(f->srv, 200, NULL, OK_EMPTY);
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_OK);
    /* Settings errors name the rule, not the value. */
    cr_store *s2 = NULL;
    cr_cfkv_config c = {
        .account_id = ACCOUNT, .namespace_id = NS,
        .api_token = TOKEN "\nX-Injected: 1", .api_url = f->api,
    };
    assert_int_equal(cr_store_cfkv_open(&c, &s2, &err), CR_STORE_INVALID);
    assert_no_token(err.msg);

    cr_log_set(CR_LOG_OFF, 2);
    char buf[65536];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);             /* trace logging did write lines */
    buf[n] = '\0';
    assert_non_null(strstr(buf, "workers kv"));
    assert_no_token(buf);
    close(fd);
    unlink(path);
    cr_entry_free(e);
}

static void test_metadata_limit(void **state)
{
    fixture *f = *state;
    cr_entry *e = mk("acme", "cell-1", "https://h");
    char buf[400], key[16], val[200];
    /* Small entries fit. */
    assert_null(cr_store_entry_fits(f->s, e, buf, sizeof buf));
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (int i = 0; i < 6; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cr_entry_set_label(e, key, val);
    }
    const char *msg = cr_store_entry_fits(f->s, e, buf, sizeof buf);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "at most 1024"));
    cr_store_err err;
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_INVALID);
    assert_int_equal(f->srv->nreq, 0);      /* refused before any request */
    cr_entry_free(e);
}

static void test_settings(void **state)
{
    (void)state;
    assert_null(cr_cfkv_check_id(ACCOUNT));
    assert_non_null(cr_cfkv_check_id(""));
    assert_non_null(cr_cfkv_check_id("a/../b"));
    assert_non_null(cr_cfkv_check_id("x?y"));
    assert_null(cr_cfkv_check_token("abc_DEF-123"));
    assert_non_null(cr_cfkv_check_token("abc def"));
    assert_non_null(cr_cfkv_check_token("abc\r\nX: y"));
    assert_null(cr_cfkv_check_api_url("https://api.cloudflare.com/client/v4"));
    assert_null(cr_cfkv_check_api_url("http://127.0.0.1:8787/client/v4"));
    assert_null(cr_cfkv_check_api_url("http://localhost/client/v4"));
    assert_non_null(cr_cfkv_check_api_url("http://api.example.com/v4"));
    assert_non_null(cr_cfkv_check_api_url("http://127.0.0.1.evil.com/"));
    assert_non_null(cr_cfkv_check_api_url("ftp://x"));
    assert_non_null(cr_cfkv_check_api_url("https://x/?q=1"));

    cr_store *s = NULL;
    cr_store_err err;
    cr_cfkv_config c = { .namespace_id = NS, .api_token = TOKEN };
    assert_int_equal(cr_store_cfkv_open(&c, &s, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "account_id"));
    assert_non_null(strstr(err.msg, "cloudflare_kv"));
    c.account_id = ACCOUNT;
    c.api_token = NULL;
    assert_int_equal(cr_store_cfkv_open(&c, &s, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "CLOUDFLARE_API_TOKEN"));
    c.api_token = TOKEN;
    c.api_url = "http://10.0.0.1/client/v4";
    assert_int_equal(cr_store_cfkv_open(&c, &s, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "https://"));
    assert_null(s);
}

/* ---- batches: the bulk endpoints --------------------------------------- */

static const char BULK_OK[] =
    "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":"
    "{\"successful_key_count\":3,\"unsuccessful_keys\":[]}}";

/* Versions read and checked first, then one bulk write (entries and the
 * tombstone) and one bulk delete: 2 writes for 3 operations. */
static void test_batch_bulk(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    script(f->srv, 404, NULL, KEY_NOT_FOUND);               /* a: absent */
    script_md(f->srv, "{\"cell_id\":\"c\",\"schema\":1,"
              "\"updated_at\":\"x\",\"version\":3}");       /* b: v3 */
    script_md(f->srv, "{\"cell_id\":\"c\",\"schema\":1,"
              "\"updated_at\":\"x\",\"version\":5}");       /* c: v5 */
    script_md(f->srv, "{\"tenant_id\":\"a\",\"version\":7}"); /* a's tomb */
    script(f->srv, 404, NULL, KEY_NOT_FOUND);               /* c: no tomb */
    script(f->srv, 200, NULL, BULK_OK);                     /* PUT bulk */
    script(f->srv, 200, NULL, BULK_OK);                     /* DELETE bulk */
    cr_entry *a = mk("a", "cell-1", "https://one.example.com/in"),
             *b = mk("b", "cell-2", "https://two.example.com/in");
    cr_batch_op ops[3] = {
        { .kind = CR_BATCH_PUT, .entry = a, .expect = CR_VERSION_ABSENT },
        { .kind = CR_BATCH_PUT, .entry = b, .expect = 3 },
        { .kind = CR_BATCH_DELETE, .tenant_id = "c", .expect = 5 },
    };
    assert_int_equal(cr_store_batch(f->s, ops, 3, &err), CR_STORE_OK);
    for (int i = 0; i < 3; i++)
        assert_true(ops[i].applied);
    assert_int_equal(ops[0].version, 8);        /* after the tombstone */
    assert_int_equal(ops[1].version, 4);
    assert_int_equal(f->srv->nreq, 7);
    const request *put = req(f, 5);
    assert_string_equal(put->method, "PUT");
    assert_string_equal(put->path, NSPATH "/bulk");
    assert_non_null(strstr(put->body, "\"key\":\"a\""));
    assert_non_null(strstr(put->body, "\"value\":\"https://one.example.com/in\""));
    assert_non_null(strstr(put->body, "\"version\":8"));
    assert_non_null(strstr(put->body, "\"key\":\"_cellrouter-retired."));
    assert_non_null(strstr(put->body, "\"version\":5"));
    assert_no_token(put->body);
    const request *del = req(f, 6);
    assert_string_equal(del->method, "DELETE");
    assert_string_equal(del->path, NSPATH "/bulk");
    assert_string_equal(del->body, "[\"c\"]");
    cr_entry_free(a);
    cr_entry_free(b);
}

/* A refused condition sends no write; keys Workers KV reports as not
 * written are not applied, the others are. */
static void test_batch_conflict_and_partial(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_entry *a = mk("a", "cell-1", "https://one.example.com/in"),
             *b = mk("b", "cell-2", "https://two.example.com/in");
    script_md(f->srv, "{\"cell_id\":\"c\",\"schema\":1,"
              "\"updated_at\":\"x\",\"version\":4}");
    script_md(f->srv, "{\"cell_id\":\"c\",\"schema\":1,"
              "\"updated_at\":\"x\",\"version\":2}");
    cr_batch_op ops[2] = {
        { .kind = CR_BATCH_PUT, .entry = a, .expect = 3 },
        { .kind = CR_BATCH_PUT, .entry = b, .expect = 2 },
    };
    assert_int_equal(cr_store_batch(f->s, ops, 2, &err), CR_STORE_CONFLICT);
    assert_int_equal(ops[0].rc, CR_STORE_CONFLICT);
    assert_int_equal(ops[0].actual_version, 4);
    assert_false(ops[0].applied);
    assert_false(ops[1].applied);
    assert_int_equal(f->srv->nreq, 2);          /* reads only */

    script_md(f->srv, "{\"cell_id\":\"c\",\"schema\":1,"
              "\"updated_at\":\"x\",\"version\":3}");
    script_md(f->srv, "{\"cell_id\":\"c\",\"schema\":1,"
              "\"updated_at\":\"x\",\"version\":2}");
    script(f->srv, 200, NULL, "{\"success\":true,\"errors\":[],"
           "\"messages\":[],\"result\":{\"successful_key_count\":1,"
           "\"unsuccessful_keys\":[\"b\"]}}");
    assert_int_equal(cr_store_batch(f->s, ops, 2, &err), CR_STORE_IO);
    assert_true(ops[0].applied);
    assert_int_equal(ops[0].version, 4);
    assert_false(ops[1].applied);
    assert_int_equal(ops[1].rc, CR_STORE_IO);
    assert_non_null(strstr(err.msg, "1 of 2 keys"));
    assert_non_null(strstr(err.msg, "tenant b"));
    assert_no_token(err.msg);
    cr_entry_free(a);
    cr_entry_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_request_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditional, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_recreate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_and_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_never_leaks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_limit, setup, teardown),
        cmocka_unit_test(test_settings),
        cmocka_unit_test_setup_teardown(test_batch_bulk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_conflict_and_partial,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
