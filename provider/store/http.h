/*
 * store/http.h — the little HTTP client the remote store backends need,
 * over libcurl: one request in, status + body + Retry-After out.
 *
 * It knows nothing of any API: retries, error envelopes and what a status
 * means are the backend's business. What it guarantees: a bounded response
 * size (a hostile or broken server cannot make us allocate without limit),
 * a bounded time per request, connection reuse across requests and
 * threads (a pool of easy handles), and that the bearer token only ever
 * goes into the Authorization header, never into an error string.
 */
#ifndef CR_STORE_HTTP_H
#define CR_STORE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cr_http_pool cr_http_pool;

/* NULL on allocation failure. Initialises libcurl once per process. */
cr_http_pool *cr_http_pool_new(void);
void cr_http_pool_free(cr_http_pool *p);

/* One part of a multipart/form-data body. */
typedef struct cr_http_part {
    const char *name;
    const char *data;
    size_t len;
    const char *content_type;       /* NULL: none (plain form field) */
} cr_http_part;

typedef struct cr_http_req {
    const char *method;             /* "GET", "POST", "PUT", "DELETE" */
    const char *url;
    const char *bearer;             /* secret; NULL: no Authorization */
    const cr_http_part *parts;      /* multipart body when nparts > 0 */
    size_t nparts;
    /* Otherwise a raw body (e.g. JSON for bulk endpoints), borrowed for
     * the call; NULL: none. */
    const char *body;
    size_t body_len;
    const char *body_type;          /* its Content-Type, e.g.
                                       "application/json" */
    long timeout_ms;                /* whole request, connect included */
    size_t max_body;                /* larger answers fail (truncated) */
} cr_http_req;

typedef struct cr_http_resp {
    long status;                    /* 0: no HTTP answer (see error) */
    char *body;                     /* NUL-terminated, owned; may be NULL */
    size_t len;
    long retry_after_ms;            /* Retry-After, -1 when absent */
    bool truncated;                 /* body exceeded max_body */
    char error[256];                /* transport failure, in words */
} cr_http_resp;

/* Performs the request. Returns 0 when an HTTP answer (any status) came
 * back, -1 otherwise with resp->error set (connection refused, timeout,
 * oversized body, out of memory). resp is cleared first; free it with
 * cr_http_resp_clear. Thread-safe. */
int cr_http_do(cr_http_pool *p, const cr_http_req *req, cr_http_resp *resp);
void cr_http_resp_clear(cr_http_resp *resp);

/* Percent-encodes everything but unreserved characters; NULL on ENOMEM. */
char *cr_http_escape(const char *s);

#endif
