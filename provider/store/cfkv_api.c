/*
 * store/cfkv_api.c — the Cloudflare v4 REST API as the Workers KV backend
 * uses it: every request paced under the account's rate limit, retried when
 * that is safe, and its failure put in words a Terraform user can act on.
 *
 * Endpoints (Cloudflare's API reference for kv/namespaces, and the
 * generated client cloudflare-typescript, src/resources/kv/namespaces/):
 *
 *   GET  .../namespaces/N              {id, title, supports_url_encoding}
 *   GET  .../namespaces/N/keys         ?prefix=&cursor=&limit=10..1000;
 *                                      result [{name, metadata, expiration}],
 *                                      result_info {count, cursor}
 *   POST .../namespaces/N/bulk/get     {"keys": [<= 100], "type": "text",
 *                                      "withMetadata": true}; result
 *                                      {values: {key: null | {value,
 *                                      metadata, expiration?}}}
 *   PUT  .../namespaces/N/bulk         [{key, value, metadata}] (<= 10,000,
 *                                      <= 100 MB); result
 *                                      {successful_key_count,
 *                                      unsuccessful_keys}
 *   POST .../namespaces/N/bulk/delete  [key, ...] (<= 10,000); same result
 *
 * Keys travel only in JSON bodies, never in a URL path, so the namespace's
 * supports_url_encoding (whether a key written on the URL is decoded) does
 * not change what this client writes; see cfkv_entry.c for keys an earlier
 * version left percent-encoded. The legacy bulk delete (DELETE .../bulk
 * with a body) is named by neither the API reference nor the SDK any more
 * and is not used.
 *
 * The request budget. Cloudflare allows 1,200 requests per 5 minutes per
 * user, counting the dashboard and every token, and blocks every call for
 * the next 5 minutes past that, answering 429 with retry-after
 * (developers.cloudflare.com/fundamentals/api/reference/limits/). The
 * pacer (store/pacer.c) keeps this client under its own budget
 * (CR_CFKV_REQUEST_BUDGET by default) so that it never causes the lockout;
 * a 429 caused by someone else is waited out for as long as Cloudflare
 * asks, up to the whole lockout plus the retry budget, with progress
 * reported while waiting.
 *
 * Retries. A 429, a 5xx or a network error is retried; every request is
 * idempotent (reads, whole-pair writes, deletes), so retrying is safe. 5xx
 * and network errors back off from 250 ms doubling to 8 s within the retry
 * budget (30 s by default).
 *
 * Auth errors (observed answers; the published schema promises only a
 * generic error object):
 *   400 code 9106        no credentials reached the API
 *   400 code 6003 (6111) the Authorization header is malformed
 *   401                  the token is not valid (mistyped, expired, revoked)
 *   403 code 10000       the token lacks a permission, or the account is
 *                        not one it may use; on a write after reads
 *                        succeeded: it may read but not write
 *   404 code 7003/7000   the account id cannot be routed (malformed)
 *   404 on the namespace the namespace does not exist in that account
 *
 * The API token goes into the Authorization header only. Messages quote
 * Cloudflare's error text, so each is scrubbed of the token before it
 * leaves this file, in case a server echoes it.
 */
#include "store/cfkv.h"

#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG "store"
/* A read answers in seconds; a bulk write or delete of 10,000 keys (up to
 * 100 MB) may take minutes. */
#define READ_TIMEOUT_MS     60000L
#define WRITE_TIMEOUT_MS    300000L
#define BACKOFF_FIRST_MS    250L
#define BACKOFF_MAX_MS      8000L
/* A list page of 1,000 keys with 1 KB of metadata each is ~1.2 MB; a bulk
 * read of 100 values of up to 2 KB much less. */
#define MAX_ANSWER          (32u << 20)

/* ---- messages ------------------------------------------------------------- */

/* Replaces every occurrence of the token in `msg` by "[redacted]". */
static void scrub(const cfkv *s, char *msg, size_t cap)
{
    if (!s || !s->token || !*s->token || !msg)
        return;
    size_t tn = strlen(s->token);
    static const char red[] = "[redacted]";
    char *p;
    while ((p = strstr(msg, s->token)) != NULL) {
        size_t tail = strlen(p + tn);
        size_t rn = sizeof red - 1;
        if ((size_t)(p - msg) + rn + tail + 1 > cap)
            rn = 0;                 /* no room: just cut the token out */
        memmove(p + rn, p + tn, tail + 1);
        memcpy(p, red, rn);
    }
}

cr_store_rc cfkv_fail(cfkv *s, cr_store_err *err, cr_store_rc rc,
                      const char *fmt, ...)
{
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    scrub(s, msg, sizeof msg);
    return cr_store_err_set(err, rc, "%s", msg);
}

/* Cloudflare's error envelope {"success":false,"errors":[{"code":N,
 * "message":"...","error_chain":[...]}]} as "code N: message" (printable,
 * bounded). *code: the first code (0: none); *chain: the first code of its
 * error_chain (0: none). */
static void errors_of(const cr_http_resp *r, char *buf, size_t cap,
                      long *code, long *chain)
{
    json_error_t jerr;
    json_t *root = r->body ? json_loadb(r->body, r->len, 0, &jerr) : NULL;
    json_t *errs = root ? json_object_get(root, "errors") : NULL;
    size_t used = 0;
    *code = *chain = 0;
    buf[0] = '\0';
    for (size_t i = 0; json_is_array(errs) && i < json_array_size(errs) &&
                       i < 3; i++) {
        json_t *e = json_array_get(errs, i);
        json_t *c = json_object_get(e, "code");
        json_t *m = json_object_get(e, "message");
        json_t *ch = json_object_get(e, "error_chain");
        json_t *c2 = json_object_get(json_array_get(ch, 0), "code");
        json_t *m2 = json_object_get(json_array_get(ch, 0), "message");
        char pb[CR_STORE_PRINTABLE], pb2[CR_STORE_PRINTABLE];
        if (i == 0) {
            *code = json_is_integer(c) ? (long)json_integer_value(c) : 0;
            *chain = json_is_integer(c2) ? (long)json_integer_value(c2) : 0;
        }
        int w = snprintf(buf + used, cap - used, "%scode %lld: %s%s%s%s",
            used ? "; " : "",
            json_is_integer(c) ? (long long)json_integer_value(c) : 0LL,
            json_is_string(m) ? cr_store_printable(json_string_value(m), pb)
                              : "(no message)",
            json_is_string(m2) ? " (" : "",
            json_is_string(m2) ? cr_store_printable(json_string_value(m2), pb2)
                               : "",
            json_is_string(m2) ? ")" : "");
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
    }
    json_decref(root);
    if (!buf[0])
        snprintf(buf, cap, "no Cloudflare error details in the answer");
}

cr_store_rc cfkv_unexpected(cfkv *s, const char *what, cr_http_resp *r,
                            cr_store_err *err)
{
    long code, chain;
    char det[240];
    errors_of(r, det, sizeof det, &code, &chain);
    if (r->status == 404 && (code == 7003 || code == 7000))
        return cfkv_fail(s, err, CR_STORE_IO,
            "Workers KV API at %s could not route the request while %s "
            "(HTTP 404, %s): check that account_id %s is a Cloudflare account "
            "id (32 hexadecimal characters) and that api_url is Cloudflare's "
            "v4 API.", s->api_url, what, det, s->account_id);
    if (r->status == 404)
        return cfkv_fail(s, err, CR_STORE_IO,
            "Workers KV API at %s answered 404 while %s (%s): check that "
            "namespace_id %s is a Workers KV namespace of account %s and that "
            "api_url is Cloudflare's v4 API.", s->api_url, what, det,
            s->namespace_id, s->account_id);
    if (r->status == 400 || r->status == 413 || r->status == 414)
        return cfkv_fail(s, err, CR_STORE_INVALID,
            "Workers KV refused a request while %s (HTTP %ld, %s)", what,
            r->status, det);
    return cfkv_fail(s, err, CR_STORE_IO,
                     "Workers KV API at %s answered HTTP %ld while %s (%s)",
                     s->api_url, r->status, what, det);
}

/* 400/401/403 answers that concern the credentials, in words; OK when the
 * answer is not one of them. */
static cr_store_rc auth_error(cfkv *s, const char *what, cfkv_access acc,
                              cr_http_resp *r, cr_store_err *err)
{
    long code, chain;
    char det[240];
    if (r->status != 400 && r->status != 401 && r->status != 403)
        return CR_STORE_OK;
    errors_of(r, det, sizeof det, &code, &chain);
    if (r->status == 400 && code == 9106)
        return cfkv_fail(s, err, CR_STORE_AUTH,
            "Cloudflare received no API token while %s (HTTP 400, %s). Set "
            "api_token or CLOUDFLARE_API_TOKEN to a token with the \"Workers "
            "KV Storage:Edit\" permission on account %s.", what, det,
            s->account_id);
    if (r->status == 400 && code == 6003)
        return cfkv_fail(s, err, CR_STORE_AUTH,
            "Cloudflare could not read the API token while %s (HTTP 400, "
            "%s): it is not in the form of a Cloudflare API token. Copy the "
            "token again (an API token, not a Global API Key); it needs the "
            "\"Workers KV Storage:Edit\" permission on account %s.", what,
            det, s->account_id);
    if (r->status == 400)
        return CR_STORE_OK;
    if (r->status == 401)
        return cfkv_fail(s, err, CR_STORE_AUTH,
            "Cloudflare refused the API token while %s (HTTP 401, %s): it is "
            "not a valid token (mistyped, expired or revoked). Create or roll "
            "a token with the \"Workers KV Storage:Edit\" permission on "
            "account %s.", what, det, s->account_id);
    if (acc == CFKV_WRITE && s->read_ok)
        return cfkv_fail(s, err, CR_STORE_AUTH,
            "Cloudflare refused the API token while %s (HTTP 403, %s): it "
            "may read namespace %s but not write it. Give the token the "
            "\"Workers KV Storage:Edit\" permission on account %s (\"Workers "
            "KV Storage:Read\" is not enough).", what, det, s->namespace_id,
            s->account_id);
    return cfkv_fail(s, err, CR_STORE_AUTH,
        "Cloudflare refused the API token while %s (HTTP 403, %s). Check "
        "that the token has the \"Workers KV Storage:Edit\" permission on "
        "account %s, and that account_id is that account's id.", what, det,
        s->account_id);
}

/* ---- one request ---------------------------------------------------------- */

static bool retryable(const cr_http_resp *r)
{
    return r->status == 0 || r->status == 429 || r->status >= 500;
}

cr_store_rc cfkv_request(cfkv *s, const char *what, const char *method,
                         const char *url, const char *json, cfkv_access acc,
                         cr_http_resp *r, cr_store_err *err)
{
    long start = cr_pacer_now(s->pacer), backoff = BACKOFF_FIRST_MS;
    /* A 429 may be waited out up to Cloudflare's whole lockout on top of
     * the retry budget; other failures within the retry budget. */
    long deadline = start + s->retry_budget_ms;
    int attempt = 0;
    cr_http_req req = {
        .method = method, .url = url, .bearer = s->token,
        .body = json, .body_len = json ? strlen(json) : 0,
        .body_type = json ? "application/json" : NULL,
        .timeout_ms = acc == CFKV_WRITE ? WRITE_TIMEOUT_MS : READ_TIMEOUT_MS,
        .max_body = MAX_ANSWER,
    };
    memset(r, 0, sizeof *r);
    for (;;) {
        long lock = cr_pacer_lockout_left(s->pacer);
        long now = cr_pacer_now(s->pacer);
        if (lock > 0 && now + lock > deadline + CFKV_LOCKOUT_MS)
            return cfkv_fail(s, err, CR_STORE_IO,
                "Workers KV API at %s: Cloudflare's rate limit holds every "
                "request for %ld s more, longer than this client waits (%ld s "
                "retry budget after Cloudflare's 5-minute lockout), while "
                "%s. Nothing was changed by this request; run again later.",
                s->api_url, (lock + 999) / 1000,
                s->retry_budget_ms / 1000, what);
        if (cr_pacer_acquire(s->pacer, what) != 0)
            return cfkv_fail(s, err, CR_STORE_IO, "stopped while %s", what);
        attempt++;
        cr_http_do(s->http, &req, r);
        cr_log_trace(LOG, "workers kv %s %s: %s%ld (attempt %d)", method,
                     what, r->status ? "HTTP " : "no answer, ", r->status,
                     attempt);
        if (!retryable(r))
            break;
        now = cr_pacer_now(s->pacer);
        long wait = backoff;
        char cause[300];
        if (r->status == 0) {
            snprintf(cause, sizeof cause, "%s", r->error);
        } else {
            long code, chain;
            char det[240];
            errors_of(r, det, sizeof det, &code, &chain);
            snprintf(cause, sizeof cause, "HTTP %ld%s (%s)", r->status,
                     r->status == 429 ? ", rate limited" : "", det);
        }
        scrub(s, cause, sizeof cause);     /* it is logged below */
        if (r->status == 429 && r->retry_after_ms >= 0) {
            char why[160];
            wait = r->retry_after_ms;
            snprintf(why, sizeof why, "Cloudflare answered 429 (rate "
                     "limited) and asked to wait %ld s",
                     (r->retry_after_ms + 999) / 1000);
            if (now + wait <= deadline + CFKV_LOCKOUT_MS)
                cr_pacer_lockout(s->pacer, wait, why);
        } else if (r->retry_after_ms >= 0) {
            wait = r->retry_after_ms;
        }
        long limit = r->status == 429 && r->retry_after_ms >= 0
                         ? deadline + CFKV_LOCKOUT_MS : deadline;
        if (now + wait > limit) {
            char next[64] = "";
            if (r->retry_after_ms >= 0)
                snprintf(next, sizeof next, "; the API asked to wait %ld s "
                         "more", (r->retry_after_ms + 999) / 1000);
            cr_log_warn(LOG, "workers kv: giving up %s after %d attempts",
                        what, attempt);
            /* A write that got no answer may have been applied, in part. */
            bool unknown = acc == CFKV_WRITE && r->status == 0;
            cr_store_rc rc = cfkv_fail(s, err, CR_STORE_IO,
                "Workers KV API at %s failed while %s: %s; gave up after %d "
                "attempts in %.1f s (retry budget %ld s)%s. %s; run again "
                "later%s.",
                s->api_url, what, cause, attempt, (now - start) / 1000.0,
                s->retry_budget_ms / 1000, next,
                unknown ? "Without an answer, Workers KV may have applied the "
                          "request in part: the next refresh reads what the "
                          "routing map holds"
                        : "Nothing was changed by the failed request",
                r->status == 0 ? " or check api_url and the network"
                : r->status == 429 ? " (Cloudflare allows 1,200 requests per "
                  "5 minutes per user, and 1 write per second per key)" : "");
            cr_http_resp_clear(r);
            return rc;
        }
        cr_log_debug(LOG, "workers kv %s: %s, retrying in %ld ms", what,
                     cause, wait);
        bool locked = r->status == 429 && r->retry_after_ms >= 0;
        cr_http_resp_clear(r);
        /* After a 429 the pacer holds every request back (and reports the
         * wait); other failures back off here. */
        if (!locked && cr_pacer_sleep(s->pacer, wait) != 0)
            return cfkv_fail(s, err, CR_STORE_IO, "stopped while %s", what);
        if (backoff < BACKOFF_MAX_MS)
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                   : backoff * 2;
    }
    cr_store_rc rc = auth_error(s, what, acc, r, err);
    if (rc != CR_STORE_OK) {
        cr_http_resp_clear(r);
        return rc;
    }
    if (acc == CFKV_READ && r->status / 100 == 2)
        s->read_ok = 1;
    return CR_STORE_OK;
}

cr_store_rc cfkv_envelope(cfkv *s, const char *what, cr_http_resp *r,
                          json_t **root, json_t **result, cr_store_err *err)
{
    json_error_t jerr;
    *result = NULL;
    *root = r->body ? json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES,
                                 &jerr) : NULL;
    if (!*root || !json_is_object(*root))
        return cfkv_fail(s, err, CR_STORE_IO, "Workers KV API at %s answered "
                         "%s with something that is not a JSON object (%s)",
                         s->api_url, what,
                         *root ? "wrong type" : r->body ? jerr.text
                                                        : "no body");
    if (!json_is_true(json_object_get(*root, "success")))
        return cfkv_fail(s, err, CR_STORE_IO, "Workers KV API at %s did not "
                         "report success while %s", s->api_url, what);
    *result = json_object_get(*root, "result");
    return CR_STORE_OK;
}

/* A request whose answer must be a 2xx envelope: *root and *result as for
 * cfkv_envelope. */
static cr_store_rc call_json(cfkv *s, const char *what, const char *method,
                             const char *url, const char *body,
                             cfkv_access acc, json_t **root, json_t **result,
                             cr_store_err *err)
{
    cr_http_resp r;
    *root = *result = NULL;
    cr_store_rc rc = cfkv_request(s, what, method, url, body, acc, &r, err);
    if (rc != CR_STORE_OK)
        return rc;
    if (r.status / 100 == 2)
        rc = cfkv_envelope(s, what, &r, root, result, err);
    else
        rc = cfkv_unexpected(s, what, &r, err);
    cr_http_resp_clear(&r);
    if (rc != CR_STORE_OK) {
        json_decref(*root);
        *root = *result = NULL;
    }
    return rc;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *u = malloc(n);
    if (u)
        snprintf(u, n, "%s%s", a, b);
    return u;
}

/* ---- endpoints ------------------------------------------------------------ */

cr_store_rc cfkv_read_namespace(cfkv *s, cr_store_err *err)
{
    json_t *root, *result;
    const char *what = "reading the namespace";
    cr_store_rc rc = call_json(s, what, "GET", s->ns_url, NULL, CFKV_READ,
                               &root, &result, err);
    if (rc != CR_STORE_OK)
        return rc;
    json_t *id = json_object_get(result, "id");
    json_t *enc = json_object_get(result, "supports_url_encoding");
    if (!json_is_object(result) || !json_is_string(id) ||
        strcmp(json_string_value(id), s->namespace_id) != 0)
        rc = cfkv_fail(s, err, CR_STORE_IO, "Workers KV API at %s answered "
                       "%s without namespace %s", s->api_url, what,
                       s->namespace_id);
    else
        /* Optional in the API reference; absent means the default (true). */
        s->url_decoding = json_is_boolean(enc) ? json_is_true(enc) : 1;
    json_decref(root);
    return rc;
}

/* One page of GET .../keys: *keys is the page's array, owned by *root;
 * *next the next cursor ("" at the end, owned). */
static cr_store_rc list_page(cfkv *s, const char *prefix, const char *cursor,
                             const char *what, json_t **root, json_t **keys,
                             char **next, cr_store_err *err)
{
    char *ep = cr_http_escape(prefix), *ec = cr_http_escape(cursor);
    char *url = NULL;
    json_t *result;
    *root = *keys = NULL;
    *next = NULL;
    if (ep && ec) {
        size_t n = strlen(s->ns_url) + strlen(ep) + strlen(ec) + 64;
        if ((url = malloc(n)))
            snprintf(url, n, "%s/keys?limit=%d%s%s%s%s", s->ns_url,
                     CFKV_LIST_LIMIT, *ep ? "&prefix=" : "", ep,
                     *ec ? "&cursor=" : "", ec);
    }
    free(ep);
    free(ec);
    if (!url)
        return cr_store_err_nomem(err);
    cr_store_rc rc = call_json(s, what, "GET", url, NULL, CFKV_READ, root,
                               &result, err);
    free(url);
    if (rc != CR_STORE_OK)
        return rc;
    json_t *info = json_object_get(*root, "result_info");
    json_t *cur = json_object_get(info, "cursor");
    if (!json_is_array(result) || (cur && !json_is_null(cur) &&
                                   !json_is_string(cur))) {
        rc = cfkv_fail(s, err, CR_STORE_IO, "Workers KV API at %s answered "
                       "%s without a result array or with a bad cursor",
                       s->api_url, what);
    } else {
        size_t i;
        json_t *k;
        json_array_foreach(result, i, k) {
            json_t *name = json_object_get(k, "name");
            if (!json_is_string(name) ||
                strlen(json_string_value(name)) != json_string_length(name)) {
                rc = cfkv_fail(s, err, CR_STORE_IO, "Workers KV API at %s "
                               "listed a key without a name while %s",
                               s->api_url, what);
                break;
            }
        }
    }
    if (rc == CR_STORE_OK &&
        !(*next = strdup(json_is_string(cur) ? json_string_value(cur) : "")))
        rc = cr_store_err_nomem(err);
    if (rc != CR_STORE_OK) {
        json_decref(*root);
        *root = NULL;
        return rc;
    }
    *keys = result;
    return CR_STORE_OK;
}

/* Pages a listing may take: a billion keys. */
#define MAX_PAGES 1000000

cr_store_rc cfkv_list_next(cfkv *s, cfkv_lister *l, const char *what,
                           json_t **keys, cr_store_err *err)
{
    char w[300], *next = NULL;
    json_decref(l->page);
    l->page = NULL;
    *keys = NULL;
    if (l->done)
        return CR_STORE_OK;
    if (l->pages == MAX_PAGES)
        return cfkv_fail(s, err, CR_STORE_IO, "Workers KV API at %s kept "
                         "returning more pages after %d while %s", s->api_url,
                         MAX_PAGES, what);
    snprintf(w, sizeof w, "%s (listing, page %d)", what, l->pages + 1);
    cr_store_rc rc = list_page(s, l->prefix ? l->prefix : "",
                               l->cursor ? l->cursor : "", w, &l->page, keys,
                               &next, err);
    if (rc != CR_STORE_OK)
        return rc;
    l->pages++;
    if (!*next) {
        l->done = true;
    } else if (l->cursor && strcmp(next, l->cursor) == 0) {
        free(next);
        json_decref(l->page);
        l->page = NULL;
        *keys = NULL;
        return cfkv_fail(s, err, CR_STORE_IO, "Workers KV API at %s returned "
                         "the same list cursor twice while %s", s->api_url,
                         what);
    }
    free(l->cursor);
    l->cursor = next;
    return CR_STORE_OK;
}

void cfkv_lister_free(cfkv_lister *l)
{
    json_decref(l->page);
    free(l->cursor);
    l->page = NULL;
    l->cursor = NULL;
}

cr_store_rc cfkv_bulk_get(cfkv *s, const char *const *keys, size_t n,
                          const char *what, json_t **values,
                          cr_store_err *err)
{
    json_t *arr = json_array(), *root, *result;
    *values = NULL;
    for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, json_string(keys[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    json_t *body = arr ? json_pack("{s:o,s:s,s:b}", "keys", arr, "type",
                                   "text", "withMetadata", 1) : NULL;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    char *url = join(s->ns_url, "/bulk/get");
    json_decref(body);
    if (!text || !url) {
        free(text);
        free(url);
        return cr_store_err_nomem(err);
    }
    cr_store_rc rc = call_json(s, what, "POST", url, text, CFKV_READ, &root,
                               &result, err);
    free(text);
    free(url);
    if (rc != CR_STORE_OK)
        return rc;
    json_t *vals = json_object_get(result, "values");
    for (size_t i = 0; rc == CR_STORE_OK && i < n; i++) {
        json_t *v = json_object_get(vals, keys[i]);
        char pb[CR_STORE_PRINTABLE];
        if (!v || !(json_is_null(v) ||
                    (json_is_object(v) &&
                     json_is_string(json_object_get(v, "value")))))
            rc = cfkv_fail(s, err, CR_STORE_IO, "Workers KV API at %s "
                           "answered %s without a text value or null for key "
                           "\"%s\"", s->api_url, what,
                           cr_store_printable(keys[i], pb));
    }
    if (rc == CR_STORE_OK)
        *values = json_incref(vals);
    json_decref(root);
    return rc;
}

/* Adds the keys of result.unsuccessful_keys to `failed`. An answer without
 * the field means every key went in. */
static void unsuccessful(json_t *result, json_t *failed)
{
    json_t *keys = json_object_get(result, "unsuccessful_keys");
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
        if (json_is_string(k))
            json_object_set(failed, json_string_value(k), json_true());
}

/* One bulk request per chunk of `items`: at most CFKV_BULK_WRITE_MAX items
 * and CFKV_BULK_BODY_MAX bytes each. */
static cr_store_rc bulk_chunks(cfkv *s, const char *method,
                               const char *path, json_t *items,
                               const char *what, json_t *failed,
                               cr_store_err *err)
{
    size_t n = json_array_size(items), done = 0;
    char *url = join(s->ns_url, path);
    cr_store_rc rc = url ? CR_STORE_OK : cr_store_err_nomem(err);
    while (rc == CR_STORE_OK && done < n) {
        size_t take = n - done > CFKV_BULK_WRITE_MAX ? CFKV_BULK_WRITE_MAX
                                                     : n - done;
        char *text = NULL;
        for (;;) {
            json_t *chunk = json_array();
            for (size_t i = 0; chunk && i < take; i++)
                if (json_array_append(chunk, json_array_get(items, done + i)))
                    break;
            text = chunk && json_array_size(chunk) == take
                       ? json_dumps(chunk, JSON_COMPACT) : NULL;
            json_decref(chunk);
            if (!text || strlen(text) <= CFKV_BULK_BODY_MAX || take == 1)
                break;
            free(text);
            text = NULL;
            take /= 2;
        }
        if (!text) {
            rc = cr_store_err_nomem(err);
            break;
        }
        json_t *root, *result;
        rc = call_json(s, what, method, url, text, CFKV_WRITE, &root, &result,
                       err);
        free(text);
        if (rc == CR_STORE_OK)
            unsuccessful(result, failed);
        json_decref(root);
        if (rc == CR_STORE_OK)
            done += take;
    }
    /* What is not known to be in counts as not written: the caller reports
     * exactly the rest as applied. */
    for (size_t i = done; rc != CR_STORE_OK && i < n; i++) {
        json_t *it = json_array_get(items, i);
        json_t *k = json_is_object(it) ? json_object_get(it, "key") : it;
        if (json_is_string(k))
            json_object_set(failed, json_string_value(k), json_true());
    }
    free(url);
    return rc;
}

cr_store_rc cfkv_bulk_write(cfkv *s, json_t *pairs, const char *what,
                            json_t *failed, cr_store_err *err)
{
    return bulk_chunks(s, "PUT", "/bulk", pairs, what, failed, err);
}

int cfkv_add_pair(json_t *pairs, const char *key, const char *value,
                  json_t *md)
{
    json_t *p = md ? json_pack("{s:s,s:s,s:o}", "key", key, "value", value,
                               "metadata", md) : NULL;
    return !p || json_array_append_new(pairs, p);
}

cr_store_rc cfkv_bulk_delete(cfkv *s, json_t *keys, const char *what,
                             json_t *failed, cr_store_err *err)
{
    return bulk_chunks(s, "POST", "/bulk/delete", keys, what, failed, err);
}

cr_store_rc cfkv_can_fit(cfkv *s, size_t need, const char *what,
                         cr_store_err *err)
{
    int budget = cr_pacer_budget(s->pacer);
    if (need <= (size_t)budget)
        return CR_STORE_OK;
    return cfkv_fail(s, err, CR_STORE_IO,
        "%s needs %zu Workers KV API requests, more than the %d this client "
        "makes in 5 minutes (Cloudflare allows %d per 5 minutes per user and "
        "then blocks every request for 5 minutes). Nothing was written. "
        "Split the change into smaller ones.", what, need, budget,
        CFKV_API_LIMIT);
}
