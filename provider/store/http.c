/*
 * store/http.c — HTTP requests for the remote store backends, over libcurl
 * (see http.h for what it guarantees).
 *
 * Handles. A curl easy handle keeps its connections open between requests,
 * so reusing handles is what makes 1,000 sequential writes cheap. The
 * provider calls the store from several threads at once and an easy handle
 * must only be used by one thread at a time, so handles live in a small
 * pool: a request takes an idle one (or makes one) and gives it back.
 *
 * Redirects are not followed: an API that answers 3xx is misconfigured,
 * and following one would send the bearer token to another host.
 */
#include "store/http.h"
#include "store/tls_roots.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define POOL_MAX_IDLE 16

struct cr_http_pool {
    pthread_mutex_t mu;
    CURL *idle[POOL_MAX_IDLE];
    size_t nidle;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

cr_http_pool *cr_http_pool_new(void)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return NULL;
    cr_http_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    return p;
}

void cr_http_pool_free(cr_http_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nidle; i++)
        curl_easy_cleanup(p->idle[i]);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

static CURL *take(cr_http_pool *p)
{
    CURL *h = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->nidle > 0)
        h = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->mu);
    if (h)
        curl_easy_reset(h);     /* options go, connections stay */
    else
        h = curl_easy_init();
    return h;
}

static void give_back(cr_http_pool *p, CURL *h)
{
    pthread_mutex_lock(&p->mu);
    if (p->nidle < POOL_MAX_IDLE) {
        p->idle[p->nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (h)
        curl_easy_cleanup(h);
}

void cr_http_resp_clear(cr_http_resp *resp)
{
    if (!resp)
        return;
    free(resp->body);
    memset(resp, 0, sizeof *resp);
    resp->retry_after_ms = -1;
}

typedef struct sink {
    cr_http_resp *resp;
    size_t cap, max;
    bool nomem;
} sink;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    sink *k = arg;
    cr_http_resp *r = k->resp;
    size_t add = size * n;
    if (add > k->max - r->len) {
        r->truncated = true;
        return 0;                       /* aborts the transfer */
    }
    if (r->len + add + 1 > k->cap) {
        size_t cap = k->cap ? k->cap : 1024;
        while (cap < r->len + add + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b) {
            k->nomem = true;
            return 0;
        }
        r->body = b;
        k->cap = cap;
    }
    memcpy(r->body + r->len, data, add);
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

/* Retry-After is either delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
static long parse_retry_after(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v >= '0' && *v <= '9') {
        long secs = 0;
        for (; *v >= '0' && *v <= '9'; v++) {
            if (secs > 86400)           /* a day: anything more is absurd */
                return 86400L * 1000;
            secs = secs * 10 + (*v - '0');
        }
        while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
            v++;
        return *v ? -1 : secs * 1000;
    }
    time_t when = curl_getdate(v, NULL);
    if (when < 0)
        return -1;
    time_t now = time(NULL);
    return when <= now ? 0 : (long)(when - now > 86400 ? 86400 : when - now) * 1000;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    cr_http_resp *r = arg;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && len < 256 &&
        strncasecmp(data, name, sizeof name - 1) == 0) {
        char v[256];
        memcpy(v, data + sizeof name - 1, len - (sizeof name - 1));
        v[len - (sizeof name - 1)] = '\0';
        r->retry_after_ms = parse_retry_after(v);
    }
    return len;
}

char *cr_http_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

int cr_http_do(cr_http_pool *p, const cr_http_req *req, cr_http_resp *resp)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    curl_mime *mime = NULL;
    char *auth = NULL;
    int rc = -1;

    memset(resp, 0, sizeof *resp);
    resp->retry_after_ms = -1;
    CURL *h = take(p);
    if (!h) {
        snprintf(resp->error, sizeof resp->error, "out of memory");
        return -1;
    }
    sink k = { resp, 0, req->max_body ? req->max_body : (1u << 20), false };

    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    if (strcmp(req->method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    const cr_tls_roots *roots = cr_tls_roots_get();   /* the host's CAs */
    if (roots->file[0] || roots->dir[0]) {
        curl_easy_setopt(h, CURLOPT_CAINFO, roots->file[0] ? roots->file : NULL);
        curl_easy_setopt(h, CURLOPT_CAPATH, roots->dir[0] ? roots->dir : NULL);
    }
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0
                                                ? req->timeout_ms : 30000L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "cellrouter");
    /* An empty Expect: no 100-continue round trip for multipart bodies. */
    headers = curl_slist_append(headers, "Expect:");
    headers = headers ? curl_slist_append(headers, "Accept: application/json")
                      : NULL;
    if (headers && req->bearer) {
        size_t n = strlen(req->bearer) + 32;
        auth = malloc(n);
        if (auth) {
            snprintf(auth, n, "Authorization: Bearer %s", req->bearer);
            struct curl_slist *t = curl_slist_append(headers, auth);
            if (!t) {
                curl_slist_free_all(headers);
                headers = NULL;
            } else {
                headers = t;
            }
        }
    }
    if (headers && req->nparts == 0 && req->body && req->body_type) {
        char ct[128];
        snprintf(ct, sizeof ct, "Content-Type: %s", req->body_type);
        struct curl_slist *t = curl_slist_append(headers, ct);
        if (!t) {
            curl_slist_free_all(headers);
            headers = NULL;
        } else {
            headers = t;
        }
    }
    if (!headers || (req->bearer && !auth)) {
        snprintf(resp->error, sizeof resp->error, "out of memory");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (req->nparts == 0 && req->body) {
        /* The body is the caller's, alive for the call; the custom request
         * keeps the method (POSTFIELDS alone would make it a POST). */
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)req->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }
    if (req->nparts > 0) {
        mime = curl_mime_init(h);
        for (size_t i = 0; mime && i < req->nparts; i++) {
            curl_mimepart *part = curl_mime_addpart(mime);
            if (!part || curl_mime_name(part, req->parts[i].name) ||
                curl_mime_data(part, req->parts[i].data, req->parts[i].len) ||
                (req->parts[i].content_type &&
                 curl_mime_type(part, req->parts[i].content_type))) {
                snprintf(resp->error, sizeof resp->error, "out of memory");
                goto out;
            }
        }
        if (!mime) {
            snprintf(resp->error, sizeof resp->error, "out of memory");
            goto out;
        }
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
        /* MIMEPOST sets the method to POST; the custom request wins. */
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }

    CURLcode cc = curl_easy_perform(h);
    if (k.nomem) {
        snprintf(resp->error, sizeof resp->error, "out of memory reading "
                 "the answer");
    } else if (resp->truncated) {
        snprintf(resp->error, sizeof resp->error, "the answer is larger "
                 "than %zu bytes", k.max);
    } else if (cc != CURLE_OK) {
        /* libcurl's message names host and port at most, never headers. */
        snprintf(resp->error, sizeof resp->error, "%s",
                 errbuf[0] ? errbuf : curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        rc = 0;
    }
out:
    curl_mime_free(mime);
    curl_slist_free_all(headers);
    if (auth) {
        /* Do not leave the token in freed heap memory. */
        volatile char *v = auth;
        for (size_t i = 0; v[i]; i++)
            v[i] = 0;
        free(auth);
    }
    if (rc != 0) {
        resp->status = 0;
        free(resp->body);
        resp->body = NULL;
        resp->len = 0;
    }
    /* The handle keeps a pointer to errbuf and the headers; drop them
     * before it goes back to the pool. */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    give_back(p, h);
    return rc;
}
