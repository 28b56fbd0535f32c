/*
 * tests/unit/test_store_cfkv.c — the Cloudflare Workers KV backend against
 * a scripted HTTP server on 127.0.0.1: each test queues the answers the
 * API gives and checks what the backend sent and concluded, request by
 * request. Covers the endpoints and their bodies (bulk get, bulk write,
 * POST .../bulk/delete, key listings; no key ever in a URL path), how many
 * requests each operation costs (a listing of the ids' common prefix or
 * bulk reads, whichever is cheaper), conditional writes without CAS,
 * tombstones of both formats keeping versions monotonic, schema-1 entries
 * read and rewritten, keys an earlier version left percent-encoded,
 * unsuccessful_keys, retries honouring Retry-After up to Cloudflare's
 * lockout with progress, the request budget, auth errors in words, hostile
 * answers, the metadata limit as Cloudflare measures it, settings, and that
 * the API token appears in no message and no log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
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
#include "store/cfkv.h"
#include "store/store.h"

#define TOKEN   "tok-S3CRET-abcdef0123456789"
#define ACCOUNT "0123456789abcdef0123456789abcdef"
#define NS      "fedcba9876543210fedcba9876543210"
#define NSPATH  "/client/v4/accounts/" ACCOUNT "/storage/kv/namespaces/" NS

/* ---- a scripted HTTP server ---------------------------------------------- */

#define MAXQ 128

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

static const char BULK_OK[] =
    "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":"
    "{\"successful_key_count\":1,\"unsuccessful_keys\":[]}}";

/* An envelope around `result` (JSON text). */
static void script_ok(server *s, const char *result)
{
    size_t n = strlen(result) + 128;
    char *body = malloc(n);
    snprintf(body, n, "{\"success\":true,\"errors\":[],\"messages\":[],"
             "\"result\":%s}", result);
    script(s, 200, NULL, body);
    free(body);
}

/* A bulk get answer: `values` is the JSON object's inside ("\"a\":null"). */
static void script_values(server *s, const char *values)
{
    size_t n = strlen(values) + 32;
    char *r = malloc(n);
    snprintf(r, n, "{\"values\":{%s}}", values);
    script_ok(s, r);
    free(r);
}

/* A listing page: `items` is the result array's inside. */
static void script_page(server *s, const char *items, const char *cursor)
{
    size_t n = strlen(items) + strlen(cursor) + 160;
    char *body = malloc(n);
    snprintf(body, n, "{\"success\":true,\"errors\":[],\"messages\":[],"
             "\"result\":[%s],\"result_info\":{\"count\":0,\"cursor\":"
             "\"%s\"}}", items, cursor);
    script(s, 200, NULL, body);
    free(body);
}

static void script_error(server *s, int status, int code, const char *msg)
{
    char body[512];
    snprintf(body, sizeof body, "{\"success\":false,\"errors\":[{\"code\":"
             "%d,\"message\":\"%s\"}],\"messages\":[],\"result\":null}",
             code, msg);
    script(s, status, NULL, body);
}

/* The bulk read answer for a tenant that has nothing: no entry, no
 * tombstone of either format. */
static const char *absent(char *buf, size_t cap, const char *id)
{
    char legacy[CFKV_KEYBUF];
    cfkv_legacy_key(id, legacy);
    snprintf(buf, cap, "\"%s\":null,\"%s~retired\":null,\"%s\":null", id,
             id, legacy);
    return buf;
}

/* Schema-2 metadata of an entry on cell `cell` at `ep`, version `v`. */
static const char *md2(char *buf, size_t cap, const char *cell,
                       const char *ep, int v)
{
    snprintf(buf, cap, "{\"cell_id\":\"%s\",\"endpoint\":\"%s\","
             "\"schema\":2,\"updated_at\":\"2026-01-01T00:00:00.000000Z\","
             "\"version\":%d}", cell, ep, v);
    return buf;
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

typedef struct progress_log {
    int calls;
    char last[512];
    char all[4096];
} progress_log;

static void on_progress(void *ctx, const char *msg)
{
    progress_log *p = ctx;
    p->calls++;
    snprintf(p->last, sizeof p->last, "%s", msg);
    size_t n = strlen(p->all);
    snprintf(p->all + n, sizeof p->all - n, "%s\n", msg);
}

static cr_store_rc open_store_with(fixture *f, long budget_ms, bool probe,
                                   int requests, progress_log *pl,
                                   cr_store_err *err)
{
    cr_cfkv_config c = {
        .account_id = ACCOUNT, .namespace_id = NS, .api_token = TOKEN,
        .api_url = f->api, .retry_budget_ms = budget_ms, .skip_probe = !probe,
        .request_budget = requests, .progress = pl ? on_progress : NULL,
        .progress_ctx = pl,
    };
    return cr_store_cfkv_open(&c, &f->s, err);
}

static cr_store_rc open_store(fixture *f, long budget_ms, bool probe,
                              cr_store_err *err)
{
    return open_store_with(f, budget_ms, probe, 0, NULL, err);
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

/* ---- reading -------------------------------------------------------------- */

/* One bulk read answers a get: value and metadata together; a schema-2
 * entry comes from its metadata, and its value must agree with it. */
static void test_get(void **state)
{
    fixture *f = *state;
    char md[512], v[1024];
    cr_entry *e = NULL;
    cr_store_err err;
    snprintf(v, sizeof v, "\"acme\":{\"value\":\"https://c1.example.com\","
             "\"metadata\":{\"cell_id\":\"cell-1\",\"endpoint\":"
             "\"https://c1.example.com\",\"labels\":{\"a\":\"1\",\"b\":\"2\"},"
             "\"schema\":2,\"standby_cell_id\":\"cell-2\",\"standby_endpoint\":"
             "\"https://c2.example.com\",\"updated_at\":"
             "\"2026-01-01T00:00:00.000000Z\",\"version\":7}}");
    script_values(f->srv, v);
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_OK);
    assert_non_null(e);
    assert_string_equal(e->endpoint, "https://c1.example.com");
    assert_string_equal(e->standby_cell_id, "cell-2");
    assert_int_equal(e->version, 7);
    assert_string_equal(cr_entry_label(e, "b"), "2");
    assert_int_equal(f->srv->nreq, 1);
    assert_string_equal(req(f, 0)->method, "POST");
    assert_string_equal(req(f, 0)->path, NSPATH "/bulk/get");
    assert_string_equal(req(f, 0)->body, "{\"keys\":[\"acme\"],\"type\":"
                        "\"text\",\"withMetadata\":true}");
    assert_string_equal(req(f, 0)->auth, "Bearer " TOKEN);
    cr_entry_free(e);

    /* Schema 1 (the first format): the endpoint is the value. */
    script_values(f->srv, "\"old\":{\"value\":\"https://v.example.com\","
                  "\"metadata\":{\"cell_id\":\"c\",\"schema\":1,\"updated_at\":"
                  "\"2026-01-01T00:00:00Z\",\"version\":2}}");
    assert_int_equal(cr_store_get(f->s, "old", &e, &err), CR_STORE_OK);
    assert_string_equal(e->endpoint, "https://v.example.com");
    cr_entry_free(e);
    e = NULL;

    /* Absent: null in the answer, OK with no entry. */
    script_values(f->srv, "\"ghost\":null");
    assert_int_equal(cr_store_get(f->s, "ghost", &e, &err), CR_STORE_OK);
    assert_null(e);

    /* A value that says otherwise than the metadata was written by
     * something else: the router would follow the value. */
    snprintf(v, sizeof v, "\"acme\":{\"value\":\"https://other.example.com\","
             "\"metadata\":%s}", md2(md, sizeof md, "cell-1",
                                     "https://c1.example.com", 3));
    script_values(f->srv, v);
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "differs from the endpoint"));
    assert_non_null(strstr(err.msg, "cellctl set"));

    /* A bad tenant id never reaches the API. */
    size_t before = f->srv->nreq;
    assert_int_equal(cr_store_get(f->s, "../x", &e, &err), CR_STORE_INVALID);
    assert_int_equal(f->srv->nreq, before);
}

/* 250 tenants whose ids share "t": one listing page of that prefix, which
 * also says which of them are absent. */
static void test_get_many_listing(void **state)
{
    fixture *f = *state;
    char *ids[250], md[512], item[700];
    size_t cap = 250 * 700, used = 0;
    char *items = calloc(1, cap);
    for (int i = 0; i < 250; i++) {
        char id[16];
        snprintf(id, sizeof id, "t%03d", i);
        ids[i] = strdup(id);
        if (i % 2)
            continue;               /* odd ones are absent */
        snprintf(item, sizeof item, "%s{\"name\":\"%s\",\"metadata\":%s}",
                 used ? "," : "", id,
                 i == 0 ? "{\"cell_id\":\"cell-1\",\"schema\":1,"
                          "\"updated_at\":\"2026-01-01T00:00:00Z\","
                          "\"version\":1}"
                 : md2(md, sizeof md, "cell-1", "https://c.example.com/in", 1));
        used += (size_t)snprintf(items + used, cap - used, "%s", item);
        if (i == 10) {              /* a tombstone beside its tenant */
            used += (size_t)snprintf(items + used, cap - used,
                ",{\"name\":\"t010~retired\",\"metadata\":{\"tenant_id\":"
                "\"t010\",\"version\":3}}");
        }
    }
    script_page(f->srv, items, "");
    /* t000 is in the first format: its value is read in bulk. */
    script_values(f->srv, "\"t000\":{\"value\":\"https://old.example.com\","
                  "\"metadata\":{\"cell_id\":\"cell-1\",\"schema\":1,"
                  "\"updated_at\":\"2026-01-01T00:00:00Z\",\"version\":1}}");
    cr_entry_list l;
    cr_store_err err;
    assert_int_equal(cr_store_get_many(f->s, (const char *const *)ids, 250,
                                       &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 125);
    assert_string_equal(l.items[0].tenant_id, "t000");   /* still in order */
    assert_string_equal(l.items[0].endpoint, "https://old.example.com");
    assert_string_equal(l.items[124].tenant_id, "t248");
    assert_string_equal(l.items[5].endpoint, "https://c.example.com/in");
    assert_int_equal(f->srv->nreq, 2);
    assert_string_equal(req(f, 0)->method, "GET");
    assert_string_equal(req(f, 0)->path, NSPATH "/keys?limit=1000&prefix=t");
    assert_string_equal(req(f, 1)->body, "{\"keys\":[\"t000\"],\"type\":"
                        "\"text\",\"withMetadata\":true}");
    cr_entry_list_free(&l);
    free(items);

    /* Up to 100 ids: one bulk read, whatever the namespace holds. */
    script_values(f->srv, "\"t001\":null,\"t002\":null");
    assert_int_equal(cr_store_get_many(f->s, (const char *const *)ids + 1, 2,
                                       &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 0);
    assert_string_equal(req(f, 2)->path, NSPATH "/bulk/get");
    for (int i = 0; i < 250; i++)
        free(ids[i]);
}

/* A listing that holds mostly other keys is abandoned once the pages spent
 * equal what bulk reads of the keys not yet seen cost. */
static void test_get_many_switches_to_bulk(void **state)
{
    fixture *f = *state;
    char *ids[150];
    for (int i = 0; i < 150; i++) {
        char id[16];
        snprintf(id, sizeof id, "z%03d", i);
        ids[i] = strdup(id);
    }
    /* ids share "z": the listing of "z" shows other keys first. */
    script_page(f->srv, "{\"name\":\"z-other-1\",\"metadata\":null}", "c1");
    script_page(f->srv, "{\"name\":\"z-other-2\",\"metadata\":null}", "c2");
    char vals[150 * 16];
    size_t u = 0;
    for (int i = 0; i < 100; i++)
        u += (size_t)snprintf(vals + u, sizeof vals - u, "%s\"%s\":null",
                              i ? "," : "", ids[i]);
    script_values(f->srv, vals);
    u = 0;
    for (int i = 100; i < 150; i++)
        u += (size_t)snprintf(vals + u, sizeof vals - u, "%s\"%s\":null",
                              i > 100 ? "," : "", ids[i]);
    script_values(f->srv, vals);
    cr_entry_list l;
    cr_store_err err;
    assert_int_equal(cr_store_get_many(f->s, (const char *const *)ids, 150,
                                       &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 0);
    assert_int_equal(f->srv->nreq, 4);
    assert_string_equal(req(f, 1)->path, NSPATH "/keys?limit=1000&prefix=z&cursor=c1");
    assert_string_equal(req(f, 2)->path, NSPATH "/bulk/get");
    assert_string_equal(req(f, 3)->path, NSPATH "/bulk/get");
    assert_int_equal(cr_store_cfkv_requests(f->s), 4);
    for (int i = 0; i < 150; i++)
        free(ids[i]);
}

/* A listing that passes ~1,000 of our keys a page is finished, not
 * abandoned for bulk reads near its end (2,100 keys: 3 pages, where bulk
 * reads would cost 21). */
static void test_get_many_dense_listing(void **state)
{
    fixture *f = *state;
    enum { N = 2100 };
    char *ids[N], md[512];
    size_t cap = 1000 * 200;
    char *items = malloc(cap);
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "t%04d", i);
        ids[i] = strdup(id);
    }
    md2(md, sizeof md, "cell-1", "https://c.example.com", 1);
    for (int page = 0; page < 3; page++) {
        size_t used = 0;
        int to = page == 2 ? N : (page + 1) * 1000;
        for (int i = page * 1000; i < to; i++)
            used += (size_t)snprintf(items + used, cap - used,
                                     "%s{\"name\":\"%s\",\"metadata\":%s}",
                                     used ? "," : "", ids[i], md);
        script_page(f->srv, items, page == 2 ? "" : page ? "c2" : "c1");
    }
    cr_entry_list l;
    cr_store_err err;
    assert_int_equal(cr_store_get_many(f->s, (const char *const *)ids, N, &l,
                                       &err), CR_STORE_OK);
    assert_int_equal(l.len, N);
    assert_int_equal(f->srv->nreq, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(req(f, i)->method, "GET");
    cr_entry_list_free(&l);
    free(items);
    for (int i = 0; i < N; i++)
        free(ids[i]);
}

/* cellctl list: pages of the prefix; tombstones of both formats skipped;
 * schema-1 entries read again in bulk for their values; the cursor goes
 * back percent-encoded; a server repeating a cursor is caught. */
static void test_list_paging(void **state)
{
    fixture *f = *state;
    char md[512], items[2048];
    snprintf(items, sizeof items,
             "{\"name\":\"t-b\",\"metadata\":%s},"
             "{\"name\":\"t-b~retired\",\"metadata\":{\"tenant_id\":\"t-b\","
             "\"version\":1}},"
             "{\"name\":\"t-a\",\"metadata\":{\"cell_id\":\"cell-1\","
             "\"schema\":1,\"updated_at\":\"2026-01-01T00:00:00Z\","
             "\"version\":1}}",
             md2(md, sizeof md, "cell-1", "https://b.example.com", 2));
    script_page(f->srv, items, "next+page/1");
    snprintf(items, sizeof items, "{\"name\":\"t-c\",\"metadata\":%s}",
             md2(md, sizeof md, "cell-1", "https://c.example.com", 1));
    script_page(f->srv, items, "");
    script_values(f->srv, "\"t-a\":{\"value\":\"https://a.example.com\","
                  "\"metadata\":{\"cell_id\":\"cell-1\",\"schema\":1,"
                  "\"updated_at\":\"2026-01-01T00:00:00Z\",\"version\":1}}");
    cr_entry_list l;
    cr_store_err err;
    assert_int_equal(cr_store_list(f->s, "t-", &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 3);
    assert_string_equal(l.items[0].tenant_id, "t-a");
    assert_string_equal(l.items[0].endpoint, "https://a.example.com");
    assert_string_equal(l.items[1].endpoint, "https://b.example.com");
    assert_string_equal(l.items[2].tenant_id, "t-c");
    assert_int_equal(f->srv->nreq, 3);
    assert_string_equal(req(f, 0)->path, NSPATH "/keys?limit=1000&prefix=t-");
    assert_string_equal(req(f, 1)->path,
                        NSPATH "/keys?limit=1000&prefix=t-&cursor=next%2Bpage%2F1");
    assert_string_equal(req(f, 2)->body, "{\"keys\":[\"t-a\"],\"type\":"
                        "\"text\",\"withMetadata\":true}");
    cr_entry_list_free(&l);

    script_page(f->srv, "", "same");
    script_page(f->srv, "", "same");
    assert_int_equal(cr_store_list(f->s, NULL, &l, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "same list cursor"));
    assert_int_equal(l.len, 0);

    /* A key that is no tenant id is damage, named. */
    script_page(f->srv, "{\"name\":\"not a tenant\",\"metadata\":null}", "");
    assert_int_equal(cr_store_list(f->s, NULL, &l, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "\"not a tenant\""));
}

/* cr_store_list_page: one listing page per call, resumed from Cloudflare's
 * cursor, with the same filtering as a whole listing (tombstones out,
 * schema-1 values read in bulk for that page); the last page has no next
 * cursor; a page of tombstones only is empty and still goes on. */
static void test_list_page(void **state)
{
    fixture *f = *state;
    char md[512], items[2048];
    snprintf(items, sizeof items,
             "{\"name\":\"t-b\",\"metadata\":%s},"
             "{\"name\":\"t-b~retired\",\"metadata\":{\"tenant_id\":\"t-b\","
             "\"version\":1}},"
             "{\"name\":\"t-a\",\"metadata\":{\"cell_id\":\"cell-1\","
             "\"schema\":1,\"updated_at\":\"2026-01-01T00:00:00Z\","
             "\"version\":1}}",
             md2(md, sizeof md, "cell-1", "https://b.example.com", 2));
    script_page(f->srv, items, "next+page/1");
    script_values(f->srv, "\"t-a\":{\"value\":\"https://a.example.com\","
                  "\"metadata\":{\"cell_id\":\"cell-1\",\"schema\":1,"
                  "\"updated_at\":\"2026-01-01T00:00:00Z\",\"version\":1}}");
    cr_entry_list l;
    cr_store_err err;
    char *next = NULL;
    assert_int_equal(cr_store_list_page(f->s, "t-", NULL, 100, &l, &next,
                                        &err), CR_STORE_OK);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0].tenant_id, "t-a");
    assert_string_equal(l.items[0].endpoint, "https://a.example.com");
    assert_string_equal(l.items[1].tenant_id, "t-b");
    assert_string_equal(next, "next+page/1");
    assert_int_equal(f->srv->nreq, 2);
    assert_string_equal(req(f, 0)->path, NSPATH "/keys?limit=1000&prefix=t-");
    cr_entry_list_free(&l);

    script_page(f->srv, "{\"name\":\"t-b~retired\",\"metadata\":"
                "{\"tenant_id\":\"t-b\",\"version\":1}}", "page/2");
    char *next2 = NULL;
    assert_int_equal(cr_store_list_page(f->s, "t-", next, 100, &l, &next2,
                                        &err), CR_STORE_OK);
    assert_int_equal(l.len, 0);
    assert_string_equal(next2, "page/2");
    assert_string_equal(req(f, 2)->path,
                        NSPATH "/keys?limit=1000&prefix=t-&cursor=next%2Bpage%2F1");
    free(next);
    next = NULL;

    snprintf(items, sizeof items, "{\"name\":\"t-c\",\"metadata\":%s}",
             md2(md, sizeof md, "cell-1", "https://c.example.com", 1));
    script_page(f->srv, items, "");
    assert_int_equal(cr_store_list_page(f->s, "t-", next2, 100, &l, &next,
                                        &err), CR_STORE_OK);
    assert_int_equal(l.len, 1);
    assert_string_equal(l.items[0].tenant_id, "t-c");
    assert_null(next);
    cr_entry_list_free(&l);
    free(next2);

    /* Damage in a page fails that page, naming the key. */
    script_page(f->srv, "{\"name\":\"not a tenant\",\"metadata\":null}", "x");
    assert_int_equal(cr_store_list_page(f->s, NULL, NULL, 100, &l, &next,
                                        &err), CR_STORE_INVALID);
    assert_null(next);
    assert_int_equal(l.len, 0);
}

static void test_invalid_entries(void **state)
{
    fixture *f = *state;
    char v[1024], md[512];
    cr_entry *e = NULL;
    cr_store_err err;
    /* A pair written by someone else, without cellrouter's metadata. */
    script_values(f->srv, "\"acme\":{\"value\":\"https://h\",\"metadata\":null}");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "\"acme\""));
    assert_non_null(strstr(err.msg, "not written by cellrouter"));
    /* A bad field; a time that is not a time; a schema from the future. */
    script_values(f->srv, "\"acme\":{\"value\":\"https://h\",\"metadata\":"
                  "{\"cell_id\":7,\"endpoint\":\"https://h\",\"schema\":2,"
                  "\"updated_at\":\"2026-01-01T00:00:00Z\",\"version\":1}}");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "cell_id"));
    script_values(f->srv, "\"acme\":{\"value\":\"https://h\",\"metadata\":"
                  "{\"cell_id\":\"c\",\"endpoint\":\"https://h\",\"schema\":2,"
                  "\"updated_at\":\"yesterday\",\"version\":1}}");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "RFC 3339"));
    snprintf(v, sizeof v, "\"acme\":{\"value\":\"https://h\",\"metadata\":%s}",
             md2(md, sizeof md, "c", "https://h", 1));
    char *s3 = strstr(v, "\"schema\":2");
    s3[9] = '3';
    script_values(f->srv, v);
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "upgrade cellrouter"));
    /* Answers that are not the API's. */
    script(f->srv, 200, NULL, "<html>proxy</html>");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "not a JSON object"));
    script(f->srv, 200, NULL, "{\"success\":false}");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_IO);
    script_ok(f->srv, "{\"values\":{}}");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "without a text value or null"));
    /* A 404 on a bulk read never means "absent": the URL is wrong. */
    script_error(f->srv, 404, 10013, "namespace not found");
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "namespace_id " NS));
    assert_non_null(strstr(err.msg, "account " ACCOUNT));
    assert_null(e);
}

/* ---- writing -------------------------------------------------------------- */

/* A create: one bulk read of the key, its tombstone and its first-format
 * tombstone, then one bulk write. No key ever goes into a URL path. */
static void test_create_request_shape(void **state)
{
    fixture *f = *state;
    char legacy[CFKV_KEYBUF], vals[4096];
    cfkv_legacy_key("acme:eu", legacy);
    snprintf(vals, sizeof vals, "\"acme:eu\":null,\"acme:eu~retired\":null,"
             "\"%s\":null", legacy);
    script_values(f->srv, vals);
    script(f->srv, 200, NULL, BULK_OK);
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
    assert_int_equal(f->srv->nreq, 2);
    char want[4096];
    snprintf(want, sizeof want, "{\"keys\":[\"acme:eu\",\"acme:eu~retired\","
             "\"%s\"],\"type\":\"text\",\"withMetadata\":true}", legacy);
    assert_string_equal(req(f, 0)->body, want);
    const request *put = req(f, 1);
    assert_string_equal(put->method, "PUT");
    assert_string_equal(put->path, NSPATH "/bulk");
    assert_non_null(strstr(put->body, "\"key\":\"acme:eu\""));
    assert_non_null(strstr(put->body, "\"value\":\"https://cell-1.example.com/in\""));
    assert_non_null(strstr(put->body, "\"endpoint\":\"https://cell-1.example.com/in\""));
    assert_non_null(strstr(put->body, "\"cell_id\":\"cell-1\""));
    assert_non_null(strstr(put->body, "\"labels\":{\"tier\":\"gold\"}"));
    assert_non_null(strstr(put->body, "\"schema\":2"));
    assert_non_null(strstr(put->body, "\"standby_cell_id\":\"cell-2\""));
    assert_non_null(strstr(put->body, "\"version\":1"));
    assert_no_token(put->body);
    cr_entry_free(w);
    cr_entry_free(e);
}

static void test_conditional(void **state)
{
    fixture *f = *state;
    char md[512], v5[700];
    snprintf(v5, sizeof v5, "\"acme\":{\"value\":\"https://h\",\"metadata\":%s}",
             md2(md, sizeof md, "c", "https://h", 5));
    cr_entry *e = mk("acme", "cell-1", "https://h");
    cr_store_err err;
    char legacy[CFKV_KEYBUF], absent[4096];
    cfkv_legacy_key("acme", legacy);

    script_values(f->srv, v5);
    assert_int_equal(cr_store_put(f->s, e, 3, NULL, &err), CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 5);
    assert_non_null(strstr(err.msg, "expected version 3, found 5"));
    snprintf(absent, sizeof absent, "%s,\"acme~retired\":null,\"%s\":null", v5,
             legacy);
    script_values(f->srv, absent);
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ABSENT, NULL, &err),
                     CR_STORE_EXISTS);
    assert_int_equal(err.actual_version, 5);
    script_values(f->srv, "\"acme\":null");
    assert_int_equal(cr_store_put(f->s, e, 5, NULL, &err), CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 0);
    assert_non_null(strstr(err.msg, "deleted by someone else"));
    /* Nothing was written by any of them: one bulk read each. */
    assert_int_equal(f->srv->nreq, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(req(f, i)->path, NSPATH "/bulk/get");

    /* The expected version: written as version + 1, in schema 2. */
    cr_entry *w = NULL;
    script_values(f->srv, v5);
    script(f->srv, 200, NULL, BULK_OK);
    assert_int_equal(cr_store_put(f->s, e, 5, &w, &err), CR_STORE_OK);
    assert_int_equal(w->version, 6);
    assert_non_null(strstr(req(f, 4)->body, "\"version\":6"));
    cr_entry_free(w);

    /* A schema-1 entry is read with its value and rewritten as schema 2. */
    script_values(f->srv, "\"acme\":{\"value\":\"https://h\",\"metadata\":"
                  "{\"cell_id\":\"c\",\"schema\":1,\"updated_at\":"
                  "\"2026-01-01T00:00:00Z\",\"version\":6}}");
    script(f->srv, 200, NULL, BULK_OK);
    assert_int_equal(cr_store_put(f->s, e, 6, NULL, &err), CR_STORE_OK);
    assert_non_null(strstr(req(f, 6)->body, "\"schema\":2"));
    assert_non_null(strstr(req(f, 6)->body, "\"endpoint\":\"https://h\""));
    cr_entry_free(e);
}

static void test_delete_and_recreate(void **state)
{
    fixture *f = *state;
    char md[512], vals[4096], legacy[CFKV_KEYBUF];
    cr_store_err err;
    cfkv_legacy_key("acme", legacy);
    snprintf(vals, sizeof vals, "\"acme\":{\"value\":\"https://h\",\"metadata\":"
             "%s},\"acme~retired\":null,\"%s\":null",
             md2(md, sizeof md, "c", "https://h", 3), legacy);
    script_values(f->srv, vals);
    script(f->srv, 200, NULL, BULK_OK);             /* the tombstone */
    script(f->srv, 200, NULL, BULK_OK);             /* the delete */
    assert_int_equal(cr_store_delete(f->s, "acme", 3, &err), CR_STORE_OK);
    assert_int_equal(f->srv->nreq, 3);
    assert_string_equal(req(f, 1)->method, "PUT");
    assert_string_equal(req(f, 1)->body, "[{\"key\":\"acme~retired\",\"value\":"
                        "\"retired\",\"metadata\":{\"version\":3,"
                        "\"tenant_id\":\"acme\"}}]");
    assert_string_equal(req(f, 2)->method, "POST");
    assert_string_equal(req(f, 2)->path, NSPATH "/bulk/delete");
    assert_string_equal(req(f, 2)->body, "[\"acme\"]");

    /* Re-created: continues after the tombstone's version. */
    snprintf(vals, sizeof vals, "\"acme\":null,\"acme~retired\":{\"value\":"
             "\"retired\",\"metadata\":{\"tenant_id\":\"acme\",\"version\":3}},"
             "\"%s\":null", legacy);
    script_values(f->srv, vals);
    script(f->srv, 200, NULL, BULK_OK);
    cr_entry *e = mk("acme", "cell-1", "https://h"), *w = NULL;
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ABSENT, &w, &err),
                     CR_STORE_OK);
    assert_int_equal(w->version, 4);
    cr_entry_free(w);
    cr_entry_free(e);

    /* Nothing to delete: NOT_FOUND after one read, nothing sent. */
    size_t before = f->srv->nreq;
    script_values(f->srv, absent(vals, sizeof vals, "ghost"));
    assert_int_equal(cr_store_delete(f->s, "ghost", CR_VERSION_ANY, &err),
                     CR_STORE_NOT_FOUND);
    assert_int_equal(f->srv->nreq, before + 1);
    /* Absent, but Terraform saw version 4: the read may be stale, so the
     * key is deleted anyway and the tombstone keeps version 4. */
    script_values(f->srv, absent(vals, sizeof vals, "gone"));
    script(f->srv, 200, NULL, BULK_OK);
    script(f->srv, 200, NULL, BULK_OK);
    assert_int_equal(cr_store_delete(f->s, "gone", 4, &err),
                     CR_STORE_NOT_FOUND);
    assert_non_null(strstr(req(f, before + 2)->body, "\"key\":\"gone~retired\""));
    assert_non_null(strstr(req(f, before + 2)->body, "\"version\":4"));
    assert_string_equal(req(f, before + 3)->body, "[\"gone\"]");
    /* A stale version is a conflict, nothing sent. */
    before = f->srv->nreq;
    snprintf(vals, sizeof vals, "\"acme\":{\"value\":\"https://h\",\"metadata\":"
             "%s},\"acme~retired\":null,\"%s\":null",
             md2(md, sizeof md, "c", "https://h", 9), legacy);
    script_values(f->srv, vals);
    assert_int_equal(cr_store_delete(f->s, "acme", 4, &err),
                     CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 9);
    assert_int_equal(f->srv->nreq, before + 1);
    assert_int_equal(cr_store_delete(f->s, "acme", CR_VERSION_ABSENT, &err),
                     CR_STORE_INVALID);
    assert_int_equal(f->srv->nreq, before + 1);
}

/* Tombstones of the first format still count, and a new tombstone
 * replaces them. */
static void test_legacy_tombstones(void **state)
{
    fixture *f = *state;
    char legacy[CFKV_KEYBUF], vals[4096];
    cr_store_err err;
    cfkv_legacy_key("acme", legacy);
    snprintf(vals, sizeof vals, "\"acme\":null,\"acme~retired\":null,"
             "\"%s\":{\"value\":\"retired\",\"metadata\":{\"tenant_id\":"
             "\"acme\",\"version\":7}}", legacy);
    script_values(f->srv, vals);
    script(f->srv, 200, NULL, BULK_OK);
    cr_entry *e = mk("acme", "cell-1", "https://h"), *w = NULL;
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ABSENT, &w, &err),
                     CR_STORE_OK);
    assert_int_equal(w->version, 8);
    cr_entry_free(w);
    cr_entry_free(e);

    char md[512];
    snprintf(vals, sizeof vals, "\"acme\":{\"value\":\"https://h\","
             "\"metadata\":%s},\"acme~retired\":null,\"%s\":{\"value\":"
             "\"retired\",\"metadata\":{\"tenant_id\":\"acme\",\"version\":7}}",
             md2(md, sizeof md, "c", "https://h", 8), legacy);
    script_values(f->srv, vals);
    script(f->srv, 200, NULL, BULK_OK);
    script(f->srv, 200, NULL, BULK_OK);
    assert_int_equal(cr_store_delete(f->s, "acme", 8, &err), CR_STORE_OK);
    assert_non_null(strstr(req(f, 3)->body, "\"version\":8"));
    char want[4096];
    snprintf(want, sizeof want, "[\"acme\",\"%s\"]", legacy);
    assert_string_equal(req(f, 4)->body, want);

    /* Ids too long for the suffix keep the first format's key. */
    char id[CR_TENANT_ID_MAX + 1], tomb[CFKV_KEYBUF];
    memset(id, 'x', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    cfkv_tomb_key(id, tomb);
    cfkv_legacy_key(id, legacy);
    assert_string_equal(tomb, legacy);
    cfkv_tomb_key("acme", tomb);
    assert_string_equal(tomb, "acme~retired");
}

/* A batch: versions and tombstones in one bulk read, then one bulk write
 * (entries and the tombstone), then one bulk delete: 3 requests. */
static void test_batch_bulk(void **state)
{
    fixture *f = *state;
    char la[CFKV_KEYBUF], lc[CFKV_KEYBUF], vals[4096], m1[512], m2[512];
    cr_store_err err;
    cfkv_legacy_key("a", la);
    cfkv_legacy_key("c", lc);
    snprintf(vals, sizeof vals,
             "\"a\":null,\"a~retired\":{\"value\":\"retired\",\"metadata\":"
             "{\"tenant_id\":\"a\",\"version\":7}},"
             "\"b\":{\"value\":\"https://b\",\"metadata\":%s},"
             "\"c\":{\"value\":\"https://c\",\"metadata\":%s},"
             "\"c~retired\":null,\"%s\":null,\"%s\":null",
             md2(m1, sizeof m1, "c", "https://b", 3),
             md2(m2, sizeof m2, "c", "https://c", 5), la, lc);
    script_values(f->srv, vals);
    script(f->srv, 200, NULL, BULK_OK);
    script(f->srv, 200, NULL, BULK_OK);
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
    assert_int_equal(f->srv->nreq, 3);
    const request *put = req(f, 1);
    assert_string_equal(put->path, NSPATH "/bulk");
    assert_non_null(strstr(put->body, "\"key\":\"a\""));
    assert_non_null(strstr(put->body, "\"version\":8"));
    assert_non_null(strstr(put->body, "\"key\":\"c~retired\""));
    assert_non_null(strstr(put->body, "\"version\":5"));
    assert_no_token(put->body);
    assert_string_equal(req(f, 2)->path, NSPATH "/bulk/delete");
    assert_string_equal(req(f, 2)->body, "[\"c\"]");
    assert_int_equal(cr_store_batch_max(f->s), CR_CFKV_BATCH_MAX);
    cr_entry_free(a);
    cr_entry_free(b);
}

/* 200 creates: versions from one listing of their common prefix and the
 * first-format tombstones from one listing of theirs (read once per
 * store), then one bulk write. */
static void test_batch_listing(void **state)
{
    fixture *f = *state;
    cr_entry *es[200];
    cr_batch_op ops[200];
    memset(ops, 0, sizeof ops);
    for (int i = 0; i < 200; i++) {
        char id[16];
        snprintf(id, sizeof id, "t%03d", i);
        es[i] = mk(id, "cell-1", "https://h.example.com");
        ops[i] = (cr_batch_op){ .kind = CR_BATCH_PUT, .entry = es[i],
                                .expect = CR_VERSION_ABSENT };
    }
    script_page(f->srv, "{\"name\":\"t007~retired\",\"metadata\":{\"tenant_id\":"
                "\"t007\",\"version\":41}}", "");
    script_page(f->srv, "", "");
    script(f->srv, 200, NULL, BULK_OK);
    cr_store_err err;
    assert_int_equal(cr_store_batch(f->s, ops, 200, &err), CR_STORE_OK);
    assert_int_equal(f->srv->nreq, 3);
    assert_string_equal(req(f, 0)->path, NSPATH "/keys?limit=1000&prefix=t");
    assert_string_equal(req(f, 1)->path,
                        NSPATH "/keys?limit=1000&prefix=_cellrouter-retired.");
    assert_string_equal(req(f, 2)->path, NSPATH "/bulk");
    assert_int_equal(ops[7].version, 42);
    assert_int_equal(ops[8].version, 1);

    /* The next batch lists its versions again, but not the old
     * tombstones. */
    for (int i = 0; i < 200; i++)
        ops[i].expect = 1;
    ops[7].expect = 42;
    script_page(f->srv, "", "");
    cr_store_batch(f->s, ops, 200, &err);
    assert_int_equal(err.rc, CR_STORE_CONFLICT);    /* all absent now */
    assert_int_equal(f->srv->nreq, 4);
    for (int i = 0; i < 200; i++)
        cr_entry_free(es[i]);
}

/* A refused condition sends no write; keys Workers KV reports as not
 * written are not applied, the others are. */
static void test_batch_conflict_and_partial(void **state)
{
    fixture *f = *state;
    char m1[512], m2[512], vals[4096];
    cr_store_err err;
    cr_entry *a = mk("a", "cell-1", "https://one.example.com/in"),
             *b = mk("b", "cell-2", "https://two.example.com/in");
    snprintf(vals, sizeof vals, "\"a\":{\"value\":\"https://x\",\"metadata\":%s},"
             "\"b\":{\"value\":\"https://x\",\"metadata\":%s}",
             md2(m1, sizeof m1, "c", "https://x", 4),
             md2(m2, sizeof m2, "c", "https://x", 2));
    script_values(f->srv, vals);
    cr_batch_op ops[2] = {
        { .kind = CR_BATCH_PUT, .entry = a, .expect = 3 },
        { .kind = CR_BATCH_PUT, .entry = b, .expect = 2 },
    };
    assert_int_equal(cr_store_batch(f->s, ops, 2, &err), CR_STORE_CONFLICT);
    assert_int_equal(ops[0].rc, CR_STORE_CONFLICT);
    assert_int_equal(ops[0].actual_version, 4);
    assert_false(ops[0].applied);
    assert_false(ops[1].applied);
    assert_int_equal(f->srv->nreq, 1);          /* the read only */

    snprintf(vals, sizeof vals, "\"a\":{\"value\":\"https://x\",\"metadata\":%s},"
             "\"b\":{\"value\":\"https://x\",\"metadata\":%s}",
             md2(m1, sizeof m1, "c", "https://x", 3),
             md2(m2, sizeof m2, "c", "https://x", 2));
    script_values(f->srv, vals);
    script_ok(f->srv, "{\"successful_key_count\":1,\"unsuccessful_keys\":[\"b\"]}");
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

/* A namespace with supports_url_encoding = false: keys an earlier version
 * wrote percent-encoded there are skipped by listings and deleted by the
 * next write of the tenant. */
static void test_url_encoding_false(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_store_close(f->s);
    f->s = NULL;
    script_ok(f->srv, "{\"id\":\"" NS "\",\"title\":\"map\","
              "\"supports_url_encoding\":false}");
    assert_int_equal(open_store(f, 5000, true, &err), CR_STORE_OK);
    assert_string_equal(req(f, 0)->path, NSPATH);
    char legacy[CFKV_KEYBUF], vals[4096], md[512], items[1400];
    cfkv_legacy_key("acme:eu", legacy);
    snprintf(vals, sizeof vals, "\"acme:eu\":null,\"acme:eu~retired\":null,"
             "\"%s\":null", legacy);
    script_values(f->srv, vals);
    script(f->srv, 200, NULL, BULK_OK);
    script(f->srv, 200, NULL, BULK_OK);
    cr_entry *e = mk("acme:eu", "cell-1", "https://h");
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ABSENT, NULL, &err),
                     CR_STORE_OK);
    assert_string_equal(req(f, 3)->path, NSPATH "/bulk/delete");
    assert_string_equal(req(f, 3)->body, "[\"acme%3Aeu\"]");
    cr_entry_free(e);

    snprintf(items, sizeof items, "{\"name\":\"acme%%3Aeu\",\"metadata\":%s},"
             "{\"name\":\"acme:eu\",\"metadata\":%s}",
             md2(md, sizeof md, "cell-1", "https://h", 1),
             md2(md, sizeof md, "cell-1", "https://h", 1));
    script_page(f->srv, items, "");
    cr_entry_list l;
    assert_int_equal(cr_store_list(f->s, "", &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 1);
    assert_string_equal(l.items[0].tenant_id, "acme:eu");
    cr_entry_list_free(&l);
}

/* ---- failures ------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_retries(void **state)
{
    fixture *f = *state;
    char md[512], vals[700];
    cr_store_err err;
    cr_entry *e = mk("acme", "cell-1", "https://h"), *w = NULL;
    snprintf(vals, sizeof vals, "\"acme\":{\"value\":\"https://h\","
             "\"metadata\":%s}", md2(md, sizeof md, "c", "https://h", 1));
    script_values(f->srv, vals);
    script(f->srv, 429, "Retry-After: 1\r\n", "{\"success\":false,"
           "\"errors\":[{\"code\":10000,\"message\":\"Rate limited\"}]}");
    script(f->srv, 503, NULL, "busy");
    script(f->srv, 200, NULL, BULK_OK);
    double t0 = now_s();
    assert_int_equal(cr_store_put(f->s, e, 1, &w, &err), CR_STORE_OK);
    /* Retry-After was honoured (a lower bound: never earlier). */
    assert_true(now_s() - t0 >= 0.99);   /* ms clock */
    assert_int_equal(w->version, 2);
    assert_int_equal(f->srv->nreq, 4);
    for (size_t i = 1; i < 4; i++)
        assert_string_equal(req(f, i)->path, NSPATH "/bulk");
    cr_entry_free(w);
    cr_entry_free(e);
}

/* A 429 is waited out as long as Cloudflare asks (up to its lockout),
 * beyond the retry budget, and the wait is reported, not silent. */
static void test_lockout_with_progress(void **state)
{
    fixture *f = *state;
    progress_log pl = {0};
    cr_store_err err;
    cr_store_close(f->s);
    assert_int_equal(open_store_with(f, 1000, false, 0, &pl, &err),
                     CR_STORE_OK);
    script(f->srv, 429, "Retry-After: 3\r\n", "{\"success\":false,"
           "\"errors\":[{\"code\":10000,\"message\":\"Rate limited\"}]}");
    script_values(f->srv, "\"acme\":null");
    double t0 = now_s();
    cr_entry *e = NULL;
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_OK);
    assert_true(now_s() - t0 >= 2.99);   /* ms clock */
    assert_true(pl.calls >= 2);
    assert_non_null(strstr(pl.all, "waiting 3 s before reading tenant acme"));
    assert_non_null(strstr(pl.all, "asked to wait 3 s"));
    assert_non_null(strstr(pl.last, "waited 3 s"));

    /* Longer than the whole lockout and the retry budget: one attempt. */
    script(f->srv, 429, "Retry-After: 400\r\n", "{\"success\":false}");
    size_t before = f->srv->nreq;
    assert_int_equal(cr_store_get(f->s, "acme", &e, &err), CR_STORE_IO);
    assert_int_equal(f->srv->nreq, before + 1);
    assert_non_null(strstr(err.msg, "rate limited"));
    assert_non_null(strstr(err.msg, "wait 400 s"));
}

static void test_retry_budget(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_store_close(f->s);
    assert_int_equal(open_store(f, 1000, false, &err), CR_STORE_OK);
    /* Always 503: gives up within the budget, nothing written. */
    for (int i = 0; i < 20; i++)
        script_error(f->srv, 503, 10001, "service unavailable");
    cr_entry *e = mk("acme", "cell-1", "https://h");
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_IO);
    assert_non_null(strstr(err.msg, "HTTP 503"));
    assert_non_null(strstr(err.msg, "gave up after"));
    assert_non_null(strstr(err.msg, "retry budget 1 s"));
    assert_true(f->srv->nreq >= 2 && f->srv->nreq < 20);
    for (size_t i = 0; i < f->srv->nreq; i++)
        assert_string_equal(req(f, i)->path, NSPATH "/bulk/get");
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

/* An operation that needs more requests than one window of the budget
 * fails before it writes, naming the count. */
static void test_request_budget(void **state)
{
    fixture *f = *state;
    char md[512], vals[4096], legacy[CFKV_KEYBUF];
    cr_store_err err;
    cr_store_close(f->s);
    assert_int_equal(open_store_with(f, 1000, false, 1, NULL, &err),
                     CR_STORE_OK);
    cfkv_legacy_key("acme", legacy);
    snprintf(vals, sizeof vals, "\"acme\":{\"value\":\"https://h\",\"metadata\":"
             "%s},\"acme~retired\":null,\"%s\":null",
             md2(md, sizeof md, "c", "https://h", 3), legacy);
    script_values(f->srv, vals);
    /* A delete needs a write (the tombstone) and a delete after its read:
     * two more than a budget of one request per 5 minutes. */
    assert_int_equal(cr_store_delete(f->s, "acme", 3, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "needs 2 Workers KV API requests"));
    assert_non_null(strstr(err.msg, "the 1 this client makes in 5 minutes"));
    assert_non_null(strstr(err.msg, "Nothing was written"));
    assert_int_equal(f->srv->nreq, 1);
    assert_int_equal(cr_store_cfkv_requests(f->s), 1);
}

static void test_auth_and_probe(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_store_close(f->s);
    f->s = NULL;
    script_error(f->srv, 403, 10000, "Authentication error");
    assert_int_equal(open_store(f, 1000, true, &err), CR_STORE_AUTH);
    assert_null(f->s);
    assert_non_null(strstr(err.msg, "Workers KV Storage:Edit"));
    assert_non_null(strstr(err.msg, "account " ACCOUNT));
    assert_non_null(strstr(err.msg, "code 10000: Authentication error"));
    assert_no_token(err.msg);
    assert_string_equal(req(f, 0)->method, "GET");
    assert_string_equal(req(f, 0)->path, NSPATH);

    script_error(f->srv, 401, 10000, "Authentication error");
    assert_int_equal(open_store(f, 1000, true, &err), CR_STORE_AUTH);
    assert_non_null(strstr(err.msg, "not a valid token"));
    script_error(f->srv, 400, 9106, "Missing X-Auth-Key, X-Auth-Email or "
                 "Authorization headers");
    assert_int_equal(open_store(f, 1000, true, &err), CR_STORE_AUTH);
    assert_non_null(strstr(err.msg, "received no API token"));
    script(f->srv, 400, NULL, "{\"success\":false,\"errors\":[{\"code\":6003,"
           "\"message\":\"Invalid request headers\",\"error_chain\":[{\"code\":"
           "6111,\"message\":\"Invalid format for Authorization header\"}]}]}");
    assert_int_equal(open_store(f, 1000, true, &err), CR_STORE_AUTH);
    assert_non_null(strstr(err.msg, "not in the form of a Cloudflare API token"));
    assert_non_null(strstr(err.msg, "Invalid format for Authorization header"));
    script(f->srv, 404, NULL, "{\"success\":false,\"errors\":[{\"code\":7003,"
           "\"message\":\"Could not route\"},{\"code\":7000,\"message\":"
           "\"No route for that URI\"}]}");
    assert_int_equal(open_store(f, 1000, true, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "check that account_id " ACCOUNT));
    script_error(f->srv, 404, 10013, "namespace not found");
    assert_int_equal(open_store(f, 1000, true, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "check that namespace_id " NS));
    script_ok(f->srv, "{\"id\":\"0000\",\"title\":\"x\"}");
    assert_int_equal(open_store(f, 1000, true, &err), CR_STORE_IO);
    script_ok(f->srv, "{\"id\":\"" NS "\",\"title\":\"x\"}");
    assert_int_equal(open_store(f, 1000, true, &err), CR_STORE_OK);
    assert_non_null(f->s);

    /* A token that may read but not write. */
    char vals[4096];
    script_values(f->srv, absent(vals, sizeof vals, "acme"));
    script_error(f->srv, 403, 10000, "Authentication error");
    cr_entry *e = mk("acme", "cell-1", "https://h");
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_AUTH);
    assert_non_null(strstr(err.msg, "may read namespace " NS " but not write"));
    cr_entry_free(e);
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
    script_error(f->srv, 400, 1, "bad token " TOKEN);
    assert_int_equal(cr_store_get(f->s, "acme", &g, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "[redacted]"));
    assert_no_token(err.msg);
    script_error(f->srv, 403, 1, TOKEN);
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_AUTH);
    assert_no_token(err.msg);
    script_error(f->srv, 503, 1, TOKEN);
    char vals[4096];
    script_values(f->srv, absent(vals, sizeof vals, "acme"));
    script(f->srv, 200, NULL, BULK_OK);
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

/* The metadata limit as Cloudflare measures it (the UTF-8 length of the
 * JSON text), with 64 of the 1,024 bytes kept free: an entry may use 960. */
static void test_metadata_limit(void **state)
{
    fixture *f = *state;
    cr_entry *e = mk("acme", "cell-1", "https://h.example.com");
    char buf[600], val[CR_LABEL_VALUE_MAX + 1];
    const char *msg = NULL;
    /* Small entries fit. */
    assert_null(cr_store_entry_fits(f->s, e, buf, sizeof buf));
    /* Grow labels one byte at a time until the entry no longer fits: the
     * first size refused is 961 bytes. */
    for (int i = 0; i < 8 && !msg; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        for (int len = 0; len <= CR_LABEL_VALUE_MAX && !msg; len++) {
            memset(val, 'v', (size_t)len);
            val[len] = '\0';
            cr_entry_set_label(e, k, val);
            msg = cr_store_entry_fits(f->s, e, buf, sizeof buf);
        }
    }
    assert_non_null(msg);
    assert_non_null(strstr(msg, "up to 961 bytes"));
    assert_non_null(strstr(msg, "at most 1024"));
    assert_non_null(strstr(msg, "may use 960"));
    cr_entry_free(e);

    /* '<', '>' and '&' count at the length of an escape (6 bytes). */
    e = mk("acme", "cell-1", "https://h.example.com");
    memset(val, 'v', 200);
    val[200] = '\0';
    cr_entry_set_label(e, "a", val);
    cr_entry_set_label(e, "b", val);
    cr_entry_set_label(e, "c", val);
    assert_null(cr_store_entry_fits(f->s, e, buf, sizeof buf));
    memset(val, '<', 100);
    val[100] = '\0';
    cr_entry_set_label(e, "d", val);
    msg = cr_store_entry_fits(f->s, e, buf, sizeof buf);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "escaped length"));
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
    c.api_url = NULL;
    c.request_budget = 1201;
    assert_int_equal(cr_store_cfkv_open(&c, &s, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "request budget"));
    assert_null(s);

    setenv("CELLROUTER_KV_REQUEST_BUDGET", "200", 1);
    cr_cfkv_config_from_env(&c);
    assert_int_equal(c.request_budget, 200);
    setenv("CELLROUTER_KV_REQUEST_BUDGET", "5000", 1);
    cr_cfkv_config_from_env(&c);
    assert_int_equal(c.request_budget, -1);     /* refused by open */
    unsetenv("CELLROUTER_KV_REQUEST_BUDGET");
}

/* ---- cells (issue 13) ----------------------------------------------------- */

#define CELLKEY(id) "_cellrouter.cell." id
#define STATES      "_cellrouter.cells"
#define TOMBKEY(id) "_cellrouter.cell-retired." id

/* A cell definition's metadata (schema 1), version v. */
static const char *cell_md(char *buf, size_t cap, const char *id,
                           const char *ep, int v)
{
    snprintf(buf, cap, "{\"schema\":1,\"cell_id\":\"%s\",\"endpoint\":\"%s\","
             "\"health_url\":\"%s/healthz\",\"labels\":{\"cloud\":\"aws\"},"
             "\"version\":%d,\"updated_at\":\"2026-12-03T10:00:00Z\"}", id, ep,
             ep, v);
    return buf;
}

/* The serving-state document as a bulk read's value (JSON in a string). */
static const char *doc_value(char *buf, size_t cap, const char *doc)
{
    json_t *s = json_string(doc);
    char *q = json_dumps(s, JSON_ENCODE_ANY);
    snprintf(buf, cap, "{\"value\":%s,\"metadata\":null}", q);
    free(q);
    json_decref(s);
    return buf;
}

static const char DOC[] =
    "{\"schema\":1,\"updated_at\":\"2026-12-03T10:00:00Z\",\"future\":[1],"
    "\"cells\":{"
    "\"aws-alpha\":{\"state\":\"serving\",\"reason\":\"\",\"changed_at\":"
    "\"2026-12-03T09:00:00Z\",\"changed_by\":\"automation\",\"pinned\":false,"
    "\"version\":2,\"probe\":{\"failures\":1,\"successes\":0,"
    "\"last_error\":\"HTTP 503\"},\"note\":\"kept\"},"
    "\"azure-beta\":{\"state\":\"failed\",\"reason\":\"drain\",\"changed_at\":"
    "\"2026-12-03T09:30:00Z\",\"changed_by\":\"operator:alice\",\"pinned\":"
    "true,\"version\":7}}}";

/* Every cell in one listing page of the definitions' prefix and one read
 * of the document; reads that follow within a few seconds share them. */
static void test_cells_read(void **state)
{
    fixture *f = *state;
    char items[2048], m1[512], m2[512], dv[2048], vals[2300];
    snprintf(items, sizeof items, "{\"name\":\"" CELLKEY("aws-alpha") "\","
             "\"metadata\":%s},{\"name\":\"" CELLKEY("azure-beta") "\","
             "\"metadata\":%s}",
             cell_md(m1, sizeof m1, "aws-alpha", "https://a.example.com", 3),
             cell_md(m2, sizeof m2, "azure-beta", "https://b.example.com", 1));
    script_page(f->srv, items, "");
    snprintf(vals, sizeof vals, "\"" STATES "\":%s",
             doc_value(dv, sizeof dv, DOC));
    script_values(f->srv, vals);
    cr_cell_list l;
    cr_store_err err;
    assert_int_equal(cr_store_cell_list(f->s, &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0].cell_id, "aws-alpha");
    assert_string_equal(l.items[0].health_url,
                        "https://a.example.com/healthz");
    assert_string_equal(cr_cell_label(&l.items[0], "cloud"), "aws");
    assert_int_equal(l.items[0].version, 3);
    assert_int_equal(l.items[0].serving.version, 2);
    assert_string_equal(l.items[0].serving.probe, "{\"failures\":1,"
                        "\"successes\":0,\"last_error\":\"HTTP 503\"}");
    assert_int_equal(l.items[1].serving.state, CR_CELL_FAILED);
    assert_true(l.items[1].serving.pinned);
    assert_string_equal(l.items[1].serving.changed_by, "operator:alice");
    cr_cell_list_free(&l);
    assert_int_equal(f->srv->nreq, 2);
    assert_string_equal(req(f, 0)->path, NSPATH "/keys?limit=1000&prefix="
                        "_cellrouter.cell.");
    assert_string_equal(req(f, 1)->body, "{\"keys\":[\"" STATES "\"],"
                        "\"type\":\"text\",\"withMetadata\":true}");

    /* A refresh of each cell right after: no request at all. */
    cr_cell *c = NULL;
    assert_int_equal(cr_store_cell_get(f->s, "azure-beta", &c, &err),
                     CR_STORE_OK);
    assert_string_equal(c->serving.reason, "drain");
    cr_cell_free(c);
    assert_int_equal(cr_store_cell_get(f->s, "ghost", &c, &err), CR_STORE_OK);
    assert_null(c);
    assert_int_equal(f->srv->nreq, 2);
}

/* Tenant listings skip every _cellrouter. key: the cells live in the same
 * namespace, and no tenant id starts with '_'. */
static void test_cells_not_tenants(void **state)
{
    fixture *f = *state;
    char items[2048], m1[512], md[512];
    snprintf(items, sizeof items,
             "{\"name\":\"" CELLKEY("aws-alpha") "\",\"metadata\":%s},"
             "{\"name\":\"" STATES "\"},"
             "{\"name\":\"" TOMBKEY("old") "\",\"metadata\":{\"cell_id\":"
             "\"old\",\"version\":2}},"
             "{\"name\":\"acme\",\"metadata\":%s}",
             cell_md(m1, sizeof m1, "aws-alpha", "https://a.example.com", 3),
             md2(md, sizeof md, "aws-alpha", "https://a.example.com", 1));
    script_page(f->srv, items, "");
    cr_entry_list l;
    cr_store_err err;
    assert_int_equal(cr_store_list(f->s, NULL, &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 1);
    assert_string_equal(l.items[0].tenant_id, "acme");
    cr_entry_list_free(&l);
}

/* A create: one bulk read (definition, document, tombstone), one bulk
 * write of the definition; the serving record already there is kept. */
static void test_cells_put(void **state)
{
    fixture *f = *state;
    char dv[2048], vals[3000], m1[512];
    snprintf(vals, sizeof vals, "\"" CELLKEY("aws-alpha") "\":null,\"" STATES
             "\":%s,\"" TOMBKEY("aws-alpha") "\":{\"value\":\"retired\","
             "\"metadata\":{\"cell_id\":\"aws-alpha\",\"version\":4}}",
             doc_value(dv, sizeof dv, DOC));
    script_values(f->srv, vals);
    script(f->srv, 200, NULL, BULK_OK);
    cr_cell in = {0}, *w = NULL;
    in.cell_id = (char *)"aws-alpha";
    in.endpoint = (char *)"https://a.example.com/ingest";
    in.has_labels = true;
    cr_store_err err;
    assert_int_equal(cr_store_cell_put(f->s, &in, CR_VERSION_ABSENT, &w,
                                       &err), CR_STORE_OK);
    assert_int_equal(w->version, 5);            /* after the tombstone */
    assert_int_equal(w->serving.version, 2);
    cr_cell_free(w);
    assert_int_equal(f->srv->nreq, 2);
    assert_string_equal(req(f, 0)->body, "{\"keys\":[\"" CELLKEY("aws-alpha")
                        "\",\"" STATES "\",\"" TOMBKEY("aws-alpha") "\"],"
                        "\"type\":\"text\",\"withMetadata\":true}");
    const request *put = req(f, 1);
    assert_string_equal(put->path, NSPATH "/bulk");
    assert_non_null(strstr(put->body, "[{\"key\":\"" CELLKEY("aws-alpha")
                           "\",\"value\":\"https://a.example.com/ingest\","
                           "\"metadata\":{\"schema\":1,\"cell_id\":"
                           "\"aws-alpha\",\"endpoint\":"
                           "\"https://a.example.com/ingest\",\"labels\":{},"
                           "\"version\":5,\"updated_at\":\""));
    assert_null(strstr(put->body, STATES));     /* the document untouched */

    /* Stale versions: refused after the read, nothing written. */
    snprintf(vals, sizeof vals, "\"" CELLKEY("aws-alpha") "\":{\"value\":"
             "\"https://a.example.com/ingest\",\"metadata\":%s},\"" STATES
             "\":null,\"" TOMBKEY("aws-alpha") "\":null",
             cell_md(m1, sizeof m1, "aws-alpha",
                     "https://a.example.com/ingest", 5));
    script_values(f->srv, vals);
    assert_int_equal(cr_store_cell_put(f->s, &in, 4, NULL, &err),
                     CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 5);
    script_values(f->srv, vals);
    assert_int_equal(cr_store_cell_put(f->s, &in, CR_VERSION_ABSENT, NULL,
                                       &err), CR_STORE_EXISTS);
    assert_int_equal(f->srv->nreq, 4);

    /* Metadata too large for Workers KV: refused before any request. */
    char big[300];
    memset(big, 'v', 250);
    big[250] = '\0';
    for (int i = 0; i < 4; i++) {
        char k[4] = {(char)('a' + i), 0};
        cr_cell_set_label(&in, k, big);
    }
    assert_int_equal(cr_store_cell_put(f->s, &in, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "Cloudflare allows at most 1024"));
    assert_non_null(cr_store_cell_fits(f->s, &in, big, sizeof big));
    assert_int_equal(f->srv->nreq, 4);
    cr_cell_clear(&(cr_cell){ .labels = in.labels, .nlabels = in.nlabels });
}

/* A serving-state write: the document read right before, the one record
 * changed (its probe and unknown keys kept), every other cell's record and
 * the document's unknown keys as they were; one write. */
static void test_cells_set_state(void **state)
{
    fixture *f = *state;
    char dv[2048], vals[3000], m1[512];
    snprintf(vals, sizeof vals, "\"" CELLKEY("aws-alpha") "\":{\"value\":"
             "\"https://a.example.com\",\"metadata\":%s},\"" STATES "\":%s",
             cell_md(m1, sizeof m1, "aws-alpha", "https://a.example.com", 3),
             doc_value(dv, sizeof dv, DOC));
    cr_cell_state in = { .state = CR_CELL_FAILED, .reason = (char *)"outage",
                         .changed_by = (char *)"operator:bob" };
    cr_cell *w = NULL;
    cr_store_err err;

    /* The record moved on since the caller read it: nothing written. */
    script_values(f->srv, vals);
    assert_int_equal(cr_store_cell_set_state(f->s, "aws-alpha", &in, 1, NULL,
                                             &err), CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 2);
    assert_int_equal(f->srv->nreq, 1);

    script_values(f->srv, vals);
    script(f->srv, 200, NULL, BULK_OK);
    assert_int_equal(cr_store_cell_set_state(f->s, "aws-alpha", &in, 2, &w,
                                             &err), CR_STORE_OK);
    assert_int_equal(w->serving.version, 3);
    assert_int_equal(w->serving.state, CR_CELL_FAILED);
    assert_string_equal(w->serving.changed_by, "operator:bob");
    assert_int_equal(w->version, 3);
    cr_cell_free(w);
    assert_int_equal(f->srv->nreq, 3);
    assert_string_equal(req(f, 1)->body, "{\"keys\":[\"" CELLKEY("aws-alpha")
                        "\",\"" STATES "\"],\"type\":\"text\","
                        "\"withMetadata\":true}");
    json_error_t jerr;
    json_t *pairs = json_loads(req(f, 2)->body, 0, &jerr);
    assert_int_equal(json_array_size(pairs), 1);
    json_t *p = json_array_get(pairs, 0);
    assert_string_equal(json_string_value(json_object_get(p, "key")), STATES);
    assert_null(json_object_get(p, "metadata"));
    json_t *doc = json_loads(json_string_value(json_object_get(p, "value")),
                             0, &jerr);
    assert_non_null(doc);
    assert_non_null(json_object_get(doc, "future"));
    json_t *a = json_object_get(json_object_get(doc, "cells"), "aws-alpha");
    assert_string_equal(json_string_value(json_object_get(a, "state")),
                        "failed");
    assert_string_equal(json_string_value(json_object_get(a, "reason")),
                        "outage");
    assert_int_equal(json_integer_value(json_object_get(a, "version")), 3);
    assert_false(json_is_true(json_object_get(a, "pinned")));
    /* The change of state dropped the prober's counters (they counted
     * towards the old state); other fields of the record are kept. */
    assert_null(json_object_get(a, "probe"));
    assert_string_equal(json_string_value(json_object_get(a, "note")), "kept");
    json_t *b = json_object_get(json_object_get(doc, "cells"), "azure-beta");
    assert_int_equal(json_integer_value(json_object_get(b, "version")), 7);
    assert_string_equal(json_string_value(json_object_get(b, "reason")),
                        "drain");
    assert_string_not_equal(json_string_value(json_object_get(doc,
                            "updated_at")), "2026-12-03T10:00:00Z");
    json_decref(doc);
    json_decref(pairs);

    /* No document yet: the first record is version 1. */
    snprintf(vals, sizeof vals, "\"" CELLKEY("aws-alpha") "\":{\"value\":"
             "\"https://a.example.com\",\"metadata\":%s},\"" STATES "\":null",
             m1);
    script_values(f->srv, vals);
    script(f->srv, 200, NULL, BULK_OK);
    assert_int_equal(cr_store_cell_set_state(f->s, "aws-alpha", &in,
                                             CR_VERSION_ABSENT, &w, &err),
                     CR_STORE_OK);
    assert_int_equal(w->serving.version, 1);
    cr_cell_free(w);
    assert_non_null(strstr(req(f, 4)->body, "\\\"schema\\\":1"));

    /* No definition: NOT_FOUND; a damaged document is never overwritten. */
    size_t before = f->srv->nreq;
    script_values(f->srv, "\"" CELLKEY("ghost") "\":null,\"" STATES "\":null");
    assert_int_equal(cr_store_cell_set_state(f->s, "ghost", &in,
                                             CR_VERSION_ANY, NULL, &err),
                     CR_STORE_NOT_FOUND);
    snprintf(vals, sizeof vals, "\"" CELLKEY("aws-alpha") "\":{\"value\":"
             "\"https://a.example.com\",\"metadata\":%s},\"" STATES "\":"
             "{\"value\":\"{not json\",\"metadata\":null}", m1);
    script_values(f->srv, vals);
    assert_int_equal(cr_store_cell_set_state(f->s, "aws-alpha", &in,
                                             CR_VERSION_ANY, NULL, &err),
                     CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "is not JSON"));
    assert_non_null(strstr(err.msg, "never overwritten"));
    snprintf(vals, sizeof vals, "\"" CELLKEY("aws-alpha") "\":{\"value\":"
             "\"https://a.example.com\",\"metadata\":%s},\"" STATES "\":%s",
             m1, doc_value(dv, sizeof dv, "{\"schema\":2,\"cells\":{}}"));
    script_values(f->srv, vals);
    assert_int_equal(cr_store_cell_set_state(f->s, "aws-alpha", &in,
                                             CR_VERSION_ANY, NULL, &err),
                     CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "upgrade cellrouter"));
    snprintf(vals, sizeof vals, "\"" CELLKEY("aws-alpha") "\":{\"value\":"
             "\"https://a.example.com\",\"metadata\":%s},\"" STATES "\":%s",
             m1, doc_value(dv, sizeof dv, "{\"schema\":1,\"cells\":"
                           "{\"aws-alpha\":{\"state\":\"down\","
                           "\"version\":1}}}"));
    script_values(f->srv, vals);
    assert_int_equal(cr_store_cell_set_state(f->s, "aws-alpha", &in,
                                             CR_VERSION_ANY, NULL, &err),
                     CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "state is neither serving nor failed"));
    assert_int_equal(f->srv->nreq, before + 4);  /* reads only */
}

/* A delete: refused while tenants name the cell (one listing of the
 * namespace counts them); then the tombstone and the document without the
 * cell's record in one write, and the definition removed. */
static void test_cells_delete(void **state)
{
    fixture *f = *state;
    char dv[2048], vals[3000], m1[512], md[512], items[2048];
    snprintf(vals, sizeof vals, "\"" CELLKEY("aws-alpha") "\":{\"value\":"
             "\"https://a.example.com\",\"metadata\":%s},\"" STATES "\":%s,\""
             TOMBKEY("aws-alpha") "\":null",
             cell_md(m1, sizeof m1, "aws-alpha", "https://a.example.com", 3),
             doc_value(dv, sizeof dv, DOC));
    char md3[512];
    snprintf(md3, sizeof md3, "{\"cell_id\":\"azure-beta\",\"endpoint\":"
             "\"https://b\",\"schema\":2,\"standby_cell_id\":\"aws-alpha\","
             "\"standby_endpoint\":\"https://a\",\"updated_at\":"
             "\"2026-01-01T00:00:00Z\",\"version\":1}");
    snprintf(items, sizeof items,
             "{\"name\":\"" CELLKEY("aws-alpha") "\",\"metadata\":%s},"
             "{\"name\":\"acme\",\"metadata\":%s},"
             "{\"name\":\"acme~retired\",\"metadata\":{\"tenant_id\":\"acme\","
             "\"version\":1,\"cell_id\":\"aws-alpha\"}},"
             "{\"name\":\"globex\",\"metadata\":%s},"
             "{\"name\":\"hooli\",\"metadata\":{\"cell_id\":\"other\"}}",
             m1, md2(md, sizeof md, "aws-alpha", "https://a", 1), md3);
    script_values(f->srv, vals);
    script_page(f->srv, items, "");
    size_t n = 0;
    cr_store_err err;
    assert_int_equal(cr_store_cell_delete(f->s, "aws-alpha", 3, &n, &err),
                     CR_STORE_IN_USE);
    assert_int_equal(n, 2);
    assert_non_null(strstr(err.msg, "\"acme\", \"globex\""));
    assert_int_equal(f->srv->nreq, 2);
    assert_string_equal(req(f, 1)->path, NSPATH "/keys?limit=1000");

    script_values(f->srv, vals);
    script_page(f->srv, "{\"name\":\"hooli\",\"metadata\":{\"cell_id\":"
                "\"other\"}}", "");
    script(f->srv, 200, NULL, BULK_OK);
    script(f->srv, 200, NULL, BULK_OK);
    assert_int_equal(cr_store_cell_delete(f->s, "aws-alpha", 3, &n, &err),
                     CR_STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(f->srv->nreq, 6);
    json_error_t jerr;
    json_t *pairs = json_loads(req(f, 4)->body, 0, &jerr);
    assert_int_equal(json_array_size(pairs), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(pairs, 0), "key")),
                        TOMBKEY("aws-alpha"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(
                         json_array_get(pairs, 0), "metadata"), "version")),
                     3);
    json_t *doc = json_loads(json_string_value(json_object_get(
                                 json_array_get(pairs, 1), "value")), 0,
                             &jerr);
    assert_null(json_object_get(json_object_get(doc, "cells"), "aws-alpha"));
    assert_non_null(json_object_get(json_object_get(doc, "cells"),
                                    "azure-beta"));
    json_decref(doc);
    json_decref(pairs);
    assert_string_equal(req(f, 5)->path, NSPATH "/bulk/delete");
    assert_string_equal(req(f, 5)->body, "[\"" CELLKEY("aws-alpha") "\"]");

    /* A stale version, or nothing to delete: one read, nothing sent. */
    script_values(f->srv, vals);
    assert_int_equal(cr_store_cell_delete(f->s, "aws-alpha", 2, &n, &err),
                     CR_STORE_CONFLICT);
    script_values(f->srv, "\"" CELLKEY("ghost") "\":null,\"" STATES "\":null,"
                  "\"" TOMBKEY("ghost") "\":null");
    assert_int_equal(cr_store_cell_delete(f->s, "ghost", CR_VERSION_ANY, &n,
                                          &err), CR_STORE_NOT_FOUND);
    assert_int_equal(f->srv->nreq, 8);
}

/* Definitions and documents written by something else: INVALID naming the
 * cell, never a crash. */
static void test_cells_damaged(void **state)
{
    fixture *f = *state;
    static const struct { const char *md, *needle; } cases[] = {
        {"null", "metadata is missing"},
        {"{\"schema\":9}", "upgrade cellrouter"},
        {"{\"schema\":1,\"cell_id\":\"other\",\"endpoint\":\"https://a\","
         "\"version\":1,\"updated_at\":\"2026-01-01T00:00:00Z\"}",
         "differs from the cell its key names"},
        {"{\"schema\":1,\"cell_id\":\"c1\",\"endpoint\":\"ftp://a\","
         "\"version\":1,\"updated_at\":\"2026-01-01T00:00:00Z\"}",
         "endpoint must be"},
        {"{\"schema\":1,\"cell_id\":\"c1\",\"endpoint\":\"https://a\","
         "\"version\":0,\"updated_at\":\"2026-01-01T00:00:00Z\"}",
         "version is not a positive integer"},
        {"{\"schema\":1,\"cell_id\":\"c1\",\"endpoint\":\"https://a\","
         "\"version\":1,\"updated_at\":\"2026-01-01T00:00:00Z\","
         "\"labels\":{\"k\":1}}", "not a string"},
    };
    char items[2048], m1[512];
    cr_cell_list l;
    cr_cell *c = NULL;
    cr_store_err err;
    cell_md(m1, sizeof m1, "c2", "https://b", 1);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        /* A fresh handle each time: reads share what they read. */
        cr_store_close(f->s);
        assert_int_equal(open_store(f, 5000, false, &err), CR_STORE_OK);
        snprintf(items, sizeof items, "{\"name\":\"" CELLKEY("c1") "\","
                 "\"metadata\":%s},{\"name\":\"" CELLKEY("c2") "\","
                 "\"metadata\":%s}", cases[i].md, m1);
        script_page(f->srv, items, "");
        script_values(f->srv, "\"" STATES "\":null");
        cr_store_rc rc = cr_store_cell_list(f->s, &l, &err);
        if (rc != CR_STORE_INVALID || !strstr(err.msg, cases[i].needle) ||
            !strstr(err.msg, "\"c1\""))
            fail_msg("case %zu: %s: %s", i, cr_store_rc_name(rc), err.msg);
        assert_int_equal(l.len, 0);
        /* The damage is c1's: c2 still reads, without a request. */
        size_t before = f->srv->nreq;
        assert_int_equal(cr_store_cell_get(f->s, "c2", &c, &err),
                         CR_STORE_OK);
        assert_string_equal(c->endpoint, "https://b");
        cr_cell_free(c);
        c = NULL;
        assert_int_equal(cr_store_cell_get(f->s, "c1", &c, &err),
                         CR_STORE_INVALID);
        assert_null(c);
        assert_int_equal(f->srv->nreq, before);
    }
    /* A document that is not one: every read of a state says so. */
    char dv[512], vals[1024];
    cr_store_close(f->s);
    assert_int_equal(open_store(f, 5000, false, &err), CR_STORE_OK);
    snprintf(items, sizeof items, "{\"name\":\"" CELLKEY("c1") "\","
             "\"metadata\":%s}", cell_md(m1, sizeof m1, "c1", "https://a", 1));
    script_page(f->srv, items, "");
    snprintf(vals, sizeof vals, "\"" STATES "\":%s",
             doc_value(dv, sizeof dv, "[]"));
    script_values(f->srv, vals);
    assert_int_equal(cr_store_cell_list(f->s, &l, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "is not a JSON object"));
    assert_int_equal(cr_store_cell_get(f->s, "c1", &c, &err),
                     CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "serving-state document"));
}

/* cfkv_cells_decode, the decoding steps of a cells read on answers given
 * (the fuzz target's way in): a definition with its serving record, a
 * damaged record of another cell, a document that is not one. */
static void test_cells_decode(void **state)
{
    (void)state;
    cfkv s;
    memset(&s, 0, sizeof s);
    s.namespace_id = (char *)"ns1";
    static const char doc[] =
        "{\"schema\":1,\"cells\":{\"c1\":{\"state\":\"failed\",\"reason\":"
        "\"probe\",\"changed_at\":\"2026-01-01T00:00:00Z\",\"changed_by\":"
        "\"automation\",\"pinned\":true,\"version\":4,\"probe\":{\"n\": 2}},"
        "\"c2\":null}}";
    json_t *md = json_pack("{s:i,s:s,s:s,s:i,s:s}", "schema", 1, "cell_id",
                           "c1", "endpoint", "https://a", "version", 3,
                           "updated_at", "2026-01-01T00:00:00Z");
    cr_cell c;
    cr_store_err err;
    assert_int_equal(cfkv_cells_decode(&s, doc, strlen(doc), CELLKEY("c1"),
                                       md, "https://a", 9, &c, &err),
                     CR_STORE_OK);
    assert_string_equal(c.endpoint, "https://a");
    assert_int_equal(c.version, 3);
    assert_int_equal(c.serving.state, CR_CELL_FAILED);
    assert_true(c.serving.pinned);
    assert_int_equal(c.serving.version, 4);
    assert_string_equal(c.serving.probe, "{\"n\":2}");
    cr_cell_clear(&c);
    /* The key absent: an empty document, the cell serving. */
    assert_int_equal(cfkv_cells_decode(&s, NULL, 0, CELLKEY("c1"), md, NULL,
                                       0, &c, &err), CR_STORE_OK);
    assert_int_equal(c.serving.state, CR_CELL_SERVING);
    assert_int_equal(c.serving.version, 0);
    cr_cell_clear(&c);
    json_decref(md);
    static const char bad[] =
        "{\"schema\":1,\"cells\":{\"c2\":{\"state\":\"gone\",\"version\":1}}}";
    assert_int_equal(cfkv_cells_decode(&s, bad, strlen(bad), NULL, NULL,
                                       NULL, 0, NULL, &err),
                     CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "\"c2\""));
    assert_non_null(strstr(err.msg, "state is neither serving nor failed"));
    assert_int_equal(cfkv_cells_decode(&s, "[]", 2, NULL, NULL, NULL, 0,
                                       NULL, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "is not a JSON object"));
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_get),
        T(test_get_many_listing),
        T(test_get_many_switches_to_bulk),
        T(test_get_many_dense_listing),
        T(test_list_paging),
        T(test_list_page),
        T(test_invalid_entries),
        T(test_create_request_shape),
        T(test_conditional),
        T(test_delete_and_recreate),
        T(test_legacy_tombstones),
        T(test_batch_bulk),
        T(test_batch_listing),
        T(test_batch_conflict_and_partial),
        T(test_url_encoding_false),
        T(test_retries),
        T(test_lockout_with_progress),
        T(test_retry_budget),
        T(test_request_budget),
        T(test_auth_and_probe),
        T(test_token_never_leaks),
        T(test_metadata_limit),
        T(test_cells_read),
        T(test_cells_not_tenants),
        T(test_cells_put),
        T(test_cells_set_state),
        T(test_cells_delete),
        T(test_cells_damaged),
        cmocka_unit_test(test_cells_decode),
        cmocka_unit_test(test_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
