/*
 * store/cloudflare_kv.c — the routing map in a Cloudflare Workers KV
 * namespace, through the v4 REST API, so the edge router (a Worker bound to
 * the same namespace) reads exactly what Terraform wrote.
 *
 * Layout. One KV pair per tenant: the key is the tenant id, the value is
 * the endpoint URL (a router that only reads values keeps working), and
 * the metadata is a small JSON object with the rest of the entry:
 *
 *   {"cell_id":"aws-eu-1","labels":{"tier":"gold"},"schema":1,
 *    "standby_cell_id":"azure-eu-1","standby_endpoint":"https://...",
 *    "updated_at":"2026-11-26T06:00:00.000000Z","version":3}
 *
 * Cloudflare caps metadata at 1024 bytes serialised; cr_cfkv_fits (the
 * store's `fits` operation) measures an entry with the widest version and
 * timestamp so the provider can refuse an entry at plan time rather than
 * half-way through an apply.
 *
 * No compare-and-swap. Workers KV has no conditional write, so a
 * conditional put or delete reads the entry's metadata first, compares its
 * version with the caller's expectation and then writes. Another writer
 * can slip in between the read and the write (a window of one API round
 * trip, plus KV's own propagation: a read may be served by a location
 * that has not yet seen a write made elsewhere, for up to about 60 s);
 * the last write then wins. The README states this; SQLite is the backend
 * for strict conflict detection.
 *
 * Versions never repeat for a tenant, as store.h requires: deleting an
 * entry first writes a tombstone under a reserved key ("_cellrouter-
 * retired." + SHA-256 of the tenant id, which no tenant id can be since ids
 * start with a letter or digit) recording its last version; re-creating it
 * continues from there. The tombstone is written before the delete, so a
 * failure in between leaves the entry whole.
 *
 * Failures. 429 and 5xx answers and network errors are retried with
 * exponential backoff (250 ms doubling to 8 s), honouring Retry-After,
 * until the retry budget (30 s by default) would be exceeded; every request
 * is idempotent (a PUT of a whole pair, a DELETE), so retrying is safe.
 * 401/403 and unexpected 404s say what to check: the token's "Workers KV
 * Storage:Edit" permission, the account id, the namespace id. Everything
 * read back is validated; a pair that is not a valid entry is
 * CR_STORE_INVALID naming the tenant, never a crash.
 *
 * The API token goes into the Authorization header only. Messages quote
 * Cloudflare's error text, so each message is scrubbed of the token
 * before it leaves this file, in case a server echoes it.
 */
#include "common/log.h"
#include "store/backend.h"
#include "store/http.h"
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LOG "store"
#define CF_SCHEMA            1
#define CF_REQUEST_TIMEOUT   30000L         /* ms, one request */
#define CF_BACKOFF_FIRST_MS  250L
#define CF_BACKOFF_MAX_MS    8000L
#define CF_MAX_BODY          (16u << 20)    /* a list page is ~1.6 MB */
#define CF_LIST_LIMIT        1000
#define CF_MAX_PAGES         100000
#define CF_RETIRED_PREFIX    "_cellrouter-retired."
/* KV's error code for a key that does not exist. */
#define CF_KEY_NOT_FOUND     10009

typedef struct cf_store {
    cr_store base;                  /* first: a cr_store* is a cf_store* */
    cr_http_pool *http;
    char *ns_url;                   /* .../accounts/A/storage/kv/namespaces/N */
    char *api_url;
    char *account_id;
    char *namespace_id;
    char *token;                    /* secret */
    long retry_budget_ms;
} cf_store;

/* ---- settings ----------------------------------------------------------- */

const char *cr_cfkv_check_id(const char *id)
{
    if (!id || !*id)
        return "must not be empty";
    size_t n = strlen(id);
    if (n > 64)
        return "is longer than 64 characters (Cloudflare ids are 32 "
               "hexadecimal characters)";
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
            return "may only hold letters, digits, '-' and '_' (Cloudflare "
                   "ids are 32 hexadecimal characters)";
    }
    return NULL;
}

const char *cr_cfkv_check_token(const char *token)
{
    if (!token || !*token)
        return "is empty";
    size_t n = strlen(token);
    if (n > 1024)
        return "is longer than 1024 characters";
    /* It goes into an HTTP header: no spaces, controls or non-ASCII. */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7f)
            return "contains a space, a control character or a non-ASCII "
                   "character (copy the token again)";
    return NULL;
}

const char *cr_cfkv_check_api_url(const char *url)
{
    if (!url || !*url)
        return "must not be empty";
    if (strlen(url) > 1024)
        return "is longer than 1024 characters";
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return "contains a space, a control character or a non-ASCII "
                   "character";
    if (strchr(url, '?') || strchr(url, '#'))
        return "must not have a query or a fragment";
    if (strncmp(url, "https://", 8) == 0)
        return url[8] && url[8] != '/' ? NULL : "has no host";
    if (strncmp(url, "http://", 7) == 0) {
        /* The token travels with every request: plain HTTP only to this
         * machine (local API stand-ins, tests). */
        const char *h = url + 7;
        static const char *const local[] = {"127.0.0.1", "localhost",
                                            "[::1]"};
        for (size_t i = 0; i < 3; i++) {
            size_t n = strlen(local[i]);
            if (strncmp(h, local[i], n) == 0 &&
                (h[n] == '\0' || h[n] == ':' || h[n] == '/'))
                return NULL;
        }
        return "must use https:// (plain http:// is only allowed for "
               "127.0.0.1, localhost and [::1], since the API token is sent "
               "with every request)";
    }
    return "must be an https:// URL";
}

void cr_cfkv_config_from_env(cr_cfkv_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->account_id = getenv("CLOUDFLARE_ACCOUNT_ID");
    cfg->namespace_id = getenv("CLOUDFLARE_KV_NAMESPACE_ID");
    cfg->api_token = getenv("CLOUDFLARE_API_TOKEN");
    cfg->api_url = getenv("CLOUDFLARE_API_URL");
}

/* ---- errors ------------------------------------------------------------- */

/* At most 64 printable bytes of an untrusted string, for messages. */
static const char *printable(const char *s, char buf[80])
{
    size_t o = 0;
    if (!s)
        return "(null)";
    for (size_t i = 0; s[i] && o < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (strlen(s) > 64) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* Replaces every occurrence of the token in `msg` by "[redacted]". */
static void scrub(const cf_store *s, char *msg, size_t cap)
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

static cr_store_rc fail(cf_store *s, cr_store_err *err, cr_store_rc rc,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static cr_store_rc fail(cf_store *s, cr_store_err *err, cr_store_rc rc,
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

/* Cloudflare's error envelope, {"success":false,"errors":[{"code":N,
 * "message":"..."}]}, as "code N: message" (printable, bounded). *code
 * receives the first code, 0 when there is none. */
static void cf_errors(const cr_http_resp *r, char *buf, size_t cap, long *code)
{
    json_error_t jerr;
    json_t *root = r->body ? json_loadb(r->body, r->len, 0, &jerr) : NULL;
    json_t *errs = root ? json_object_get(root, "errors") : NULL;
    size_t used = 0;
    *code = 0;
    buf[0] = '\0';
    if (json_is_array(errs)) {
        for (size_t i = 0; i < json_array_size(errs) && i < 3; i++) {
            json_t *e = json_array_get(errs, i);
            json_t *c = json_object_get(e, "code");
            json_t *m = json_object_get(e, "message");
            char pb[80];
            if (i == 0 && json_is_integer(c))
                *code = (long)json_integer_value(c);
            int w = snprintf(buf + used, cap - used, "%s%s%lld%s%s",
                             used ? "; " : "", json_is_integer(c) ? "code " : "",
                             json_is_integer(c) ? (long long)json_integer_value(c) : 0LL,
                             json_is_string(m) ? ": " : "",
                             json_is_string(m) ? printable(json_string_value(m), pb) : "");
            if (w < 0 || (size_t)w >= cap - used)
                break;
            used += (size_t)w;
        }
    }
    json_decref(root);
    if (!buf[0])
        snprintf(buf, cap, "no Cloudflare error details in the answer");
}

/* ---- requests with retries ---------------------------------------------- */

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static bool retryable(const cr_http_resp *r)
{
    return r->status == 0 || r->status == 429 || r->status >= 500;
}

/* One API call: `what` names it for messages ("reading tenant x").
 * Retries transient failures within the retry budget. On success (any
 * HTTP answer that is not retried) returns OK with *resp filled; 401 and
 * 403 become CR_STORE_AUTH here, everything else is the caller's to read. */
static cr_store_rc cf_call_body(cf_store *s, const char *what,
                                const char *method, const char *url,
                                const cr_http_part *parts, size_t nparts,
                                const char *json, cr_http_resp *resp,
                                cr_store_err *err)
{
    long start = now_ms(), backoff = CF_BACKOFF_FIRST_MS;
    int attempt = 0;
    cr_http_req req = {
        .method = method, .url = url, .bearer = s->token,
        .parts = parts, .nparts = nparts,
        .body = json, .body_len = json ? strlen(json) : 0,
        .body_type = json ? "application/json" : NULL,
        .timeout_ms = CF_REQUEST_TIMEOUT, .max_body = CF_MAX_BODY,
    };
    for (;;) {
        attempt++;
        cr_http_do(s->http, &req, resp);
        cr_log_trace(LOG, "workers kv %s %s: %s%ld (attempt %d)", method,
                     what, resp->status ? "HTTP " : "no answer, ",
                     resp->status, attempt);
        if (!retryable(resp))
            break;
        long elapsed = now_ms() - start;
        long wait = resp->retry_after_ms >= 0 ? resp->retry_after_ms
                                              : backoff;
        if (elapsed + wait > s->retry_budget_ms) {
            char cause[300];
            if (resp->status == 0) {
                snprintf(cause, sizeof cause, "%s", resp->error);
            } else {
                long code;
                char det[240];
                cf_errors(resp, det, sizeof det, &code);
                snprintf(cause, sizeof cause, "HTTP %ld%s (%s)", resp->status,
                         resp->status == 429 ? ", rate limited" : "", det);
            }
            char next[64] = "";
            if (resp->retry_after_ms >= 0)
                snprintf(next, sizeof next, "; the API asked to wait %ld s "
                         "more", (resp->retry_after_ms + 999) / 1000);
            cr_log_warn(LOG, "workers kv: giving up %s after %d attempts",
                        what, attempt);
            cr_store_rc rc = fail(s, err, CR_STORE_IO,
                "Workers KV API at %s failed while %s: %s; gave up after %d "
                "attempts in %.1f s (retry budget %ld s)%s. Nothing was "
                "changed by the failed request; run again later%s.",
                s->api_url, what, cause, attempt, elapsed / 1000.0,
                s->retry_budget_ms / 1000, next,
                resp->status == 0 ? " or check api_url and the network"
                : resp->status == 429 ? " (Cloudflare allows 1 write per "
                  "second per key and a per-token request budget)" : "");
            cr_http_resp_clear(resp);
            return rc;
        }
        cr_log_debug(LOG, "workers kv %s: %s%ld, retrying in %ld ms", what,
                     resp->status ? "HTTP " : "no answer, ", resp->status,
                     wait);
        cr_http_resp_clear(resp);
        sleep_ms(wait);
        if (backoff < CF_BACKOFF_MAX_MS)
            backoff = backoff * 2 > CF_BACKOFF_MAX_MS ? CF_BACKOFF_MAX_MS
                                                      : backoff * 2;
    }
    if (resp->status == 401 || resp->status == 403) {
        long code;
        char det[240];
        cf_errors(resp, det, sizeof det, &code);
        cr_store_rc rc = fail(s, err, CR_STORE_AUTH,
            "Cloudflare refused the API token while %s (HTTP %ld, %s). Check "
            "that the token is valid and has the \"Workers KV Storage:Edit\" "
            "permission on account %s, and that account_id is that "
            "account's id.", what, resp->status, det, s->account_id);
        cr_http_resp_clear(resp);
        return rc;
    }
    return CR_STORE_OK;
}

static cr_store_rc cf_call(cf_store *s, const char *what, const char *method,
                           const char *url, const cr_http_part *parts,
                           size_t nparts, cr_http_resp *resp,
                           cr_store_err *err)
{
    return cf_call_body(s, what, method, url, parts, nparts, NULL, resp,
                        err);
}

/* A 404 that is not "key not found" means the URL itself is wrong. */
static cr_store_rc not_found_error(cf_store *s, const char *what,
                                   cr_http_resp *r, cr_store_err *err)
{
    long code;
    char det[240];
    cf_errors(r, det, sizeof det, &code);
    return fail(s, err, CR_STORE_IO,
        "Workers KV API at %s answered 404 while %s (%s): check that "
        "namespace_id %s is a Workers KV namespace of account %s and that "
        "api_url is Cloudflare's v4 API.", s->api_url, what, det,
        s->namespace_id, s->account_id);
}

static bool is_key_not_found(const cr_http_resp *r)
{
    long code;
    char det[240];
    if (r->status != 404)
        return false;
    cf_errors(r, det, sizeof det, &code);
    return code == CF_KEY_NOT_FOUND;
}

static cr_store_rc unexpected(cf_store *s, const char *what, cr_http_resp *r,
                              cr_store_err *err)
{
    long code;
    char det[240];
    if (r->status == 404)
        return not_found_error(s, what, r, err);
    cf_errors(r, det, sizeof det, &code);
    return fail(s, err, CR_STORE_IO,
                "Workers KV API at %s answered HTTP %ld while %s (%s)",
                s->api_url, r->status, what, det);
}

/* A JSON envelope {"success":true,"result":...}; *root owns the result. */
static cr_store_rc envelope(cf_store *s, const char *what, cr_http_resp *r,
                            json_t **root, json_t **result, cr_store_err *err)
{
    json_error_t jerr;
    *root = r->body ? json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES,
                                 &jerr) : NULL;
    if (!*root || !json_is_object(*root))
        return fail(s, err, CR_STORE_IO, "Workers KV API at %s answered "
                    "%s with something that is not a JSON object (%s)",
                    s->api_url, what, *root ? "wrong type" : jerr.text);
    if (!json_is_true(json_object_get(*root, "success")))
        return fail(s, err, CR_STORE_IO, "Workers KV API at %s did not "
                    "report success while %s", s->api_url, what);
    *result = json_object_get(*root, "result");
    return CR_STORE_OK;
}

/* ---- URLs and keys ------------------------------------------------------ */

static char *url_for(cf_store *s, const char *kind, const char *key)
{
    char *k = cr_http_escape(key);
    if (!k)
        return NULL;
    size_t n = strlen(s->ns_url) + strlen(kind) + strlen(k) + 3;
    char *u = malloc(n);
    if (u)
        snprintf(u, n, "%s/%s/%s", s->ns_url, kind, k);
    free(k);
    return u;
}

static void retired_key(const char *tenant_id, char out[128])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)tenant_id, strlen(tenant_id), md);
    size_t o = (size_t)snprintf(out, 128, "%s", CF_RETIRED_PREFIX);
    for (size_t i = 0; i < sizeof md; i++)
        o += (size_t)snprintf(out + o, 128 - o, "%02x", md[i]);
}

/* ---- metadata ----------------------------------------------------------- */

static int set_str(json_t *o, const char *k, const char *v)
{
    return v ? json_object_set_new(o, k, json_string(v)) : 0;
}

/* The entry's metadata, compact with sorted keys; NULL on ENOMEM. */
static char *metadata_json(const cr_entry *e)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = set_str(o, "cell_id", e->cell_id) ||
              set_str(o, "standby_cell_id", e->standby_cell_id) ||
              set_str(o, "standby_endpoint", e->standby_endpoint) ||
              set_str(o, "updated_at", e->updated_at) ||
              json_object_set_new(o, "version", json_integer(e->version)) ||
              json_object_set_new(o, "schema", json_integer(CF_SCHEMA));
    if (!bad && e->has_labels) {
        json_t *l = json_object();
        bad = !l || json_object_set_new(o, "labels", l);
        for (size_t i = 0; !bad && i < e->nlabels; i++)
            bad = json_object_set_new(l, e->labels[i].key,
                                      json_string(e->labels[i].value));
    }
    char *s = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

/* Worst case: the widest version and timestamp the store may assign. */
static const char *cf_fits(cr_store *base, const cr_entry *e, char *buf,
                           size_t cap)
{
    (void)base;
    cr_entry w = *e;
    w.version = INT64_MAX;
    w.updated_at = (char *)"0000-00-00T00:00:00.000000Z";
    char *m = metadata_json(&w);
    if (!m) {
        snprintf(buf, cap, "out of memory measuring the entry");
        return buf;
    }
    size_t n = strlen(m);
    free(m);
    if (n <= CR_CFKV_METADATA_MAX)
        return NULL;
    snprintf(buf, cap,
             "The entry's metadata would take up to %zu bytes in Workers KV, "
             "which allows at most %d (it holds cell_id, the standby cell "
             "and endpoint, labels, version and updated_at as JSON). Use "
             "fewer or shorter labels or a shorter standby_endpoint.",
             n, CR_CFKV_METADATA_MAX);
    return buf;
}

static const char *json_cstr(json_t *o, const char *k, bool optional,
                             char **out, const char **bad)
{
    json_t *v = json_object_get(o, k);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!optional)
            *bad = "is missing";
        return k;
    }
    if (!json_is_string(v) ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        *bad = "is not a string";
        return k;
    }
    *out = strdup(json_string_value(v));
    if (!*out)
        *bad = "could not be copied";
    return k;
}

/* Decodes a pair into *e (zeroed here): the key, the value (endpoint) and
 * the metadata. Returns OK, or INVALID naming the tenant and the field. */
static cr_store_rc decode_entry(cf_store *s, const char *key,
                                const char *value, size_t vlen, json_t *md,
                                cr_entry *e, cr_store_err *err)
{
    const char *bad = NULL, *field = NULL;
    char pb[80];
    memset(e, 0, sizeof *e);
    if (!(e->tenant_id = strdup(key)))
        goto nomem;
    if (memchr(value, '\0', vlen) || vlen > CR_ENDPOINT_MAX) {
        field = "value (endpoint)";
        bad = vlen > CR_ENDPOINT_MAX ? "is too long" : "contains a NUL byte";
        goto invalid;
    }
    if (!(e->endpoint = strndup(value, vlen)))
        goto nomem;
    if (!json_is_object(md)) {
        field = "metadata";
        bad = md && !json_is_null(md) ? "is not a JSON object"
              : "is missing (not written by cellrouter)";
        goto invalid;
    }
    json_t *sv = json_object_get(md, "schema");
    if (!json_is_integer(sv) || json_integer_value(sv) != CF_SCHEMA) {
        field = "metadata schema";
        bad = json_is_integer(sv) ? "is a version this cellrouter does not "
              "know (upgrade cellrouter)" : "is missing (not written by "
              "cellrouter)";
        goto invalid;
    }
    field = json_cstr(md, "cell_id", false, &e->cell_id, &bad);
    if (bad) goto invalid;
    field = json_cstr(md, "standby_cell_id", true, &e->standby_cell_id, &bad);
    if (bad) goto invalid;
    field = json_cstr(md, "standby_endpoint", true, &e->standby_endpoint, &bad);
    if (bad) goto invalid;
    field = json_cstr(md, "updated_at", false, &e->updated_at, &bad);
    if (bad) goto invalid;
    json_t *ver = json_object_get(md, "version");
    field = "version";
    if (!json_is_integer(ver) || json_integer_value(ver) < 1) {
        bad = "is not a positive integer";
        goto invalid;
    }
    e->version = json_integer_value(ver);
    json_t *labels = json_object_get(md, "labels");
    field = "labels";
    if (labels && !json_is_null(labels)) {
        if (!json_is_object(labels)) {
            bad = "is not a JSON object";
            goto invalid;
        }
        e->has_labels = true;
        const char *k;
        json_t *lv;
        json_object_foreach(labels, k, lv) {
            if (!json_is_string(lv) ||
                strlen(json_string_value(lv)) != json_string_length(lv) ||
                strlen(k) == 0) {
                bad = "hold a value that is not a string";
                goto invalid;
            }
            if (cr_entry_set_label(e, k, json_string_value(lv)) != 0)
                goto nomem;
        }
    }
    const char *f2 = NULL;
    if ((bad = cr_entry_check(e, &f2))) {
        field = f2 ? f2 : "entry";
        goto invalid;
    }
    return CR_STORE_OK;
invalid:
    cr_entry_clear(e);
    return fail(s, err, CR_STORE_INVALID,
                "Workers KV namespace %s holds an invalid entry for tenant "
                "\"%s\": %s %s (repair it with cellctl set or cellctl "
                "delete)", s->namespace_id, printable(key, pb), field, bad);
nomem:
    cr_entry_clear(e);
    return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
}

/* ---- primitive reads ---------------------------------------------------- */

/* The metadata of `key`: *md (owned) or NULL with *found false. */
static cr_store_rc read_metadata(cf_store *s, const char *key, const char *what,
                                 bool *found, json_t **md, cr_store_err *err)
{
    cr_http_resp r;
    json_t *root = NULL, *result = NULL;
    *found = false;
    *md = NULL;
    char *url = url_for(s, "metadata", key);
    if (!url)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    cr_store_rc rc = cf_call(s, what, "GET", url, NULL, 0, &r, err);
    free(url);
    if (rc != CR_STORE_OK)
        return rc;
    if (r.status == 200) {
        rc = envelope(s, what, &r, &root, &result, err);
        if (rc == CR_STORE_OK) {
            *found = true;
            *md = result ? json_incref(result) : json_null();
        }
    } else if (!is_key_not_found(&r)) {
        rc = unexpected(s, what, &r, err);
    }
    json_decref(root);
    cr_http_resp_clear(&r);
    return rc;
}

/* The value of `key`: *value (owned, NUL-terminated) or NULL when gone. */
static cr_store_rc read_value(cf_store *s, const char *key, const char *what,
                              char **value, size_t *vlen, cr_store_err *err)
{
    cr_http_resp r;
    *value = NULL;
    *vlen = 0;
    char *url = url_for(s, "values", key);
    if (!url)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    cr_store_rc rc = cf_call(s, what, "GET", url, NULL, 0, &r, err);
    free(url);
    if (rc != CR_STORE_OK)
        return rc;
    if (r.status == 200) {
        *value = r.body ? r.body : strdup("");
        *vlen = r.len;
        r.body = NULL;
        if (!*value)
            rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    } else if (!is_key_not_found(&r)) {
        rc = unexpected(s, what, &r, err);
    }
    cr_http_resp_clear(&r);
    return rc;
}

/* The version an entry's metadata records; 0 when absent or unreadable. */
static int64_t md_version(json_t *md)
{
    json_t *v = json_object_get(md, "version");
    return json_is_integer(v) && json_integer_value(v) > 0
               ? json_integer_value(v) : 0;
}

static cr_store_rc check_id_arg(const char *tenant_id, cr_store_err *err)
{
    const char *msg = tenant_id ? cr_tenant_id_check(tenant_id)
                                : "must not be empty";
    if (msg)
        return cr_store_err_set(err, CR_STORE_INVALID, "tenant_id %s", msg);
    return CR_STORE_OK;
}

/* ---- operations --------------------------------------------------------- */

static cr_store_rc cf_get(cr_store *base, const char *tenant_id,
                          cr_entry **out, cr_store_err *err)
{
    cf_store *s = (cf_store *)base;
    char what[600];
    bool found;
    json_t *md = NULL;
    char *value = NULL;
    size_t vlen;

    cr_store_err_clear(err);
    *out = NULL;
    cr_store_rc rc = check_id_arg(tenant_id, err);
    if (rc != CR_STORE_OK)
        return rc;
    snprintf(what, sizeof what, "reading tenant %s", tenant_id);
    if ((rc = read_metadata(s, tenant_id, what, &found, &md, err)) ||
        !found)
        goto out;
    if ((rc = read_value(s, tenant_id, what, &value, &vlen, err)) || !value)
        goto out;               /* deleted between the two reads: gone */
    cr_entry *e = cr_entry_new();
    if (!e) {
        rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
        goto out;
    }
    rc = decode_entry(s, tenant_id, value, vlen, md, e, err);
    if (rc == CR_STORE_OK)
        *out = e;
    else
        free(e);
out:
    json_decref(md);
    free(value);
    return rc;
}

static void now_rfc3339(char out[40])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%06ldZ", ts.tv_nsec / 1000);
}

/* PUT key with value and metadata, as one multipart request: the pair is
 * replaced whole or not at all. */
static cr_store_rc write_pair(cf_store *s, const char *key, const char *value,
                              const char *metadata, const char *what,
                              cr_store_err *err)
{
    cr_http_part parts[2] = {
        { "value", value, strlen(value), NULL },
        { "metadata", metadata, strlen(metadata), NULL },
    };
    cr_http_resp r;
    char *url = url_for(s, "values", key);
    if (!url)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    cr_store_rc rc = cf_call(s, what, "PUT", url, parts, 2, &r, err);
    free(url);
    if (rc != CR_STORE_OK)
        return rc;
    if (r.status / 100 == 2) {
        json_t *root = NULL, *result;
        rc = envelope(s, what, &r, &root, &result, err);
        json_decref(root);
    } else if (r.status == 400 || r.status == 413) {
        long code;
        char det[240];
        cf_errors(&r, det, sizeof det, &code);
        rc = fail(s, err, CR_STORE_INVALID, "Workers KV refused the entry "
                  "while %s (HTTP %ld, %s)", what, r.status, det);
    } else {
        rc = unexpected(s, what, &r, err);
    }
    cr_http_resp_clear(&r);
    return rc;
}

/* The last version a deleted entry of this tenant had (0: none). */
static cr_store_rc retired_version(cf_store *s, const char *tenant_id,
                                   const char *what, int64_t *out,
                                   cr_store_err *err)
{
    char key[128];
    bool found;
    json_t *md = NULL;
    retired_key(tenant_id, key);
    *out = 0;
    cr_store_rc rc = read_metadata(s, key, what, &found, &md, err);
    if (rc == CR_STORE_OK && found)
        *out = md_version(md);
    json_decref(md);
    return rc;
}

static cr_store_rc cf_put(cr_store *base, const cr_entry *in, int64_t expect,
                          cr_entry **written, cr_store_err *err)
{
    cf_store *s = (cf_store *)base;
    char what[600], pb[80], buf[400], stamp[40];
    bool found;
    json_t *md = NULL;
    char *meta = NULL;
    cr_entry e;

    cr_store_err_clear(err);
    if (written)
        *written = NULL;
    const char *field = NULL, *msg = cr_entry_check(in, &field);
    if (msg)
        return cr_store_err_set(err, CR_STORE_INVALID, "%s: %s",
                                field ? field : "entry", msg);
    if (expect < CR_VERSION_ANY)
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "expected version %lld is not valid",
                                (long long)expect);
    if ((msg = cf_fits(base, in, buf, sizeof buf)))
        return cr_store_err_set(err, CR_STORE_INVALID, "%s", msg);

    snprintf(what, sizeof what, "writing tenant %s", in->tenant_id);
    cr_store_rc rc = read_metadata(s, in->tenant_id, what, &found, &md, err);
    if (rc != CR_STORE_OK)
        return rc;
    int64_t cur = found ? md_version(md) : 0;
    json_decref(md);
    if (found && cur == 0 && expect != CR_VERSION_ANY)
        return fail(s, err, CR_STORE_INVALID,
                    "Workers KV namespace %s holds an entry for tenant \"%s\" "
                    "without a cellrouter version (repair it with cellctl set "
                    "or cellctl delete)", s->namespace_id,
                    printable(in->tenant_id, pb));
    if (expect == CR_VERSION_ABSENT && found) {
        if (err)
            err->actual_version = cur;
        return fail(s, err, CR_STORE_EXISTS, "tenant %s already has an "
                    "entry (version %lld)", in->tenant_id, (long long)cur);
    }
    if (expect >= 1 && cur != expect) {
        if (err)
            err->actual_version = cur;
        return fail(s, err, CR_STORE_CONFLICT, "tenant %s is at version "
                    "%lld, not %lld", in->tenant_id, (long long)cur,
                    (long long)expect);
    }
    int64_t base_version = cur;
    if (cur == 0) {             /* absent, or a pair without our version */
        int64_t retired = 0;
        if ((rc = retired_version(s, in->tenant_id, what, &retired, err)))
            return rc;
        base_version = retired;
    }
    if (cr_entry_copy(&e, in) != 0)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    now_rfc3339(stamp);
    free(e.updated_at);
    e.updated_at = strdup(stamp);
    e.version = base_version + 1;
    if (!e.updated_at || !(meta = metadata_json(&e))) {
        rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
        goto out;
    }
    rc = write_pair(s, e.tenant_id, e.endpoint, meta, what, err);
    if (rc != CR_STORE_OK)
        goto out;
    cr_log_debug(LOG, "workers kv: wrote tenant %s (version %lld)",
                 e.tenant_id, (long long)e.version);
    if (written) {
        *written = cr_entry_new();
        if (!*written || cr_entry_copy(*written, &e) != 0) {
            free(*written);
            *written = NULL;
            rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
        }
    }
out:
    free(meta);
    cr_entry_clear(&e);
    return rc;
}

static cr_store_rc cf_del(cr_store *base, const char *tenant_id,
                          int64_t expect, cr_store_err *err)
{
    cf_store *s = (cf_store *)base;
    char what[600];
    bool found;
    json_t *md = NULL;

    cr_store_err_clear(err);
    cr_store_rc rc = check_id_arg(tenant_id, err);
    if (rc != CR_STORE_OK)
        return rc;
    if (expect == CR_VERSION_ABSENT || expect < CR_VERSION_ANY)
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "expected version %lld is not valid for a "
                                "delete", (long long)expect);
    snprintf(what, sizeof what, "deleting tenant %s", tenant_id);
    if ((rc = read_metadata(s, tenant_id, what, &found, &md, err)))
        return rc;
    int64_t cur = found ? md_version(md) : 0;
    json_decref(md);
    if (!found)
        return cr_store_err_set(err, CR_STORE_NOT_FOUND,
                                "tenant %s has no entry", tenant_id);
    if (expect >= 1 && cur != expect) {
        if (err)
            err->actual_version = cur;
        return fail(s, err, CR_STORE_CONFLICT, "tenant %s is at version "
                    "%lld, not %lld", tenant_id, (long long)cur,
                    (long long)expect);
    }
    if (cur > 0) {
        /* The tombstone first: if the delete below fails, the entry is
         * still whole and the tombstone only remembers a version. */
        int64_t retired = 0;
        if ((rc = retired_version(s, tenant_id, what, &retired, err)))
            return rc;
        if (cur > retired) {
            char key[128], meta[700];
            json_t *o = json_pack("{s:I,s:s}", "version", (json_int_t)cur,
                                  "tenant_id", tenant_id);
            char *m = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            json_decref(o);
            if (!m)
                return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
            snprintf(meta, sizeof meta, "%s", m);
            free(m);
            retired_key(tenant_id, key);
            if ((rc = write_pair(s, key, "retired", meta, what, err)))
                return rc;
        }
    }
    cr_http_resp r;
    char *url = url_for(s, "values", tenant_id);
    if (!url)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    rc = cf_call(s, what, "DELETE", url, NULL, 0, &r, err);
    free(url);
    if (rc != CR_STORE_OK)
        return rc;
    if (r.status / 100 == 2) {
        json_t *root = NULL, *result;
        rc = envelope(s, what, &r, &root, &result, err);
        json_decref(root);
    } else if (is_key_not_found(&r)) {
        rc = cr_store_err_set(err, CR_STORE_NOT_FOUND,
                              "tenant %s has no entry", tenant_id);
    } else {
        rc = unexpected(s, what, &r, err);
    }
    cr_http_resp_clear(&r);
    if (rc == CR_STORE_OK)
        cr_log_debug(LOG, "workers kv: deleted tenant %s (version %lld)",
                     tenant_id, (long long)cur);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const cr_entry *)a)->tenant_id,
                  ((const cr_entry *)b)->tenant_id);
}

/* One page of GET .../keys: appends the entries of this page to `out`
 * (reading each value) and returns the next cursor ("" at the end). */
static cr_store_rc list_page(cf_store *s, const char *prefix,
                             const char *cursor, char **next,
                             cr_entry_list *out, cr_store_err *err)
{
    char *ep = cr_http_escape(prefix), *ec = cr_http_escape(cursor);
    char *url = NULL;
    cr_http_resp r = {0};
    json_t *root = NULL, *result = NULL;
    cr_store_rc rc;
    const char *what = "listing entries";

    *next = NULL;
    if (ep && ec) {
        size_t n = strlen(s->ns_url) + strlen(ep) + strlen(ec) + 64;
        if ((url = malloc(n)))
            snprintf(url, n, "%s/keys?limit=%d%s%s%s%s", s->ns_url,
                     CF_LIST_LIMIT, *ep ? "&prefix=" : "", ep,
                     *ec ? "&cursor=" : "", ec);
    }
    free(ep);
    free(ec);
    if (!url)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    rc = cf_call(s, what, "GET", url, NULL, 0, &r, err);
    free(url);
    if (rc != CR_STORE_OK)
        return rc;
    if (r.status != 200) {
        rc = unexpected(s, what, &r, err);
        goto out;
    }
    if ((rc = envelope(s, what, &r, &root, &result, err)))
        goto out;
    json_t *info = json_object_get(root, "result_info");
    json_t *cur = info ? json_object_get(info, "cursor") : NULL;
    if (!json_is_array(result) || (cur && !json_is_null(cur) &&
                                    !json_is_string(cur))) {
        rc = fail(s, err, CR_STORE_IO, "Workers KV API at %s answered a key "
                  "listing without a result array or with a bad cursor",
                  s->api_url);
        goto out;
    }
    size_t i;
    json_t *k;
    json_array_foreach(result, i, k) {
        json_t *name = json_object_get(k, "name");
        if (!json_is_string(name) ||
            strlen(json_string_value(name)) != json_string_length(name)) {
            rc = fail(s, err, CR_STORE_IO, "Workers KV API at %s listed a "
                      "key without a name", s->api_url);
            goto out;
        }
        const char *key = json_string_value(name);
        if (strncmp(key, CF_RETIRED_PREFIX, sizeof CF_RETIRED_PREFIX - 1) == 0)
            continue;
        /* A listed key must match the prefix asked for. */
        if (strncmp(key, prefix, strlen(prefix)) != 0)
            continue;
        char *value = NULL, w[600];
        size_t vlen;
        snprintf(w, sizeof w, "reading tenant %s", key);
        if ((rc = read_value(s, key, w, &value, &vlen, err)))
            goto out;
        if (!value)
            continue;               /* deleted since the listing */
        cr_entry *e = cr_entry_list_push(out);
        if (!e) {
            free(value);
            rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
            goto out;
        }
        rc = decode_entry(s, key, value, vlen, json_object_get(k, "metadata"),
                          e, err);
        free(value);
        if (rc != CR_STORE_OK) {
            out->len--;
            goto out;
        }
    }
    *next = strdup(json_is_string(cur) ? json_string_value(cur) : "");
    if (!*next)
        rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
out:
    json_decref(root);
    cr_http_resp_clear(&r);
    return rc;
}

static cr_store_rc cf_list(cr_store *base, const char *prefix,
                           cr_entry_list *out, cr_store_err *err)
{
    cf_store *s = (cf_store *)base;
    char *cursor = strdup(""), *next = NULL;
    cr_store_rc rc = CR_STORE_OK;

    cr_store_err_clear(err);
    memset(out, 0, sizeof *out);
    if (!prefix)
        prefix = "";
    if (!cursor)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    for (int page = 0;; page++) {
        if (page == CF_MAX_PAGES) {
            rc = fail(s, err, CR_STORE_IO, "Workers KV API at %s kept "
                      "returning more pages after %d; giving up", s->api_url,
                      CF_MAX_PAGES);
            break;
        }
        if ((rc = list_page(s, prefix, cursor, &next, out, err)))
            break;
        if (!*next)
            break;
        if (strcmp(next, cursor) == 0) {
            rc = fail(s, err, CR_STORE_IO, "Workers KV API at %s returned "
                      "the same list cursor twice", s->api_url);
            break;
        }
        free(cursor);
        cursor = next;
        next = NULL;
    }
    free(cursor);
    free(next);
    if (rc != CR_STORE_OK) {
        cr_entry_list_free(out);
        return rc;
    }
    if (out->len > 1)
        qsort(out->items, out->len, sizeof *out->items, cmp_entry);
    for (size_t i = 1; i < out->len; i++)
        if (strcmp(out->items[i - 1].tenant_id, out->items[i].tenant_id) == 0) {
            char pb[80];
            rc = fail(s, err, CR_STORE_IO, "Workers KV API at %s listed "
                      "tenant \"%s\" twice", s->api_url,
                      printable(out->items[i].tenant_id, pb));
            cr_entry_list_free(out);
            return rc;
        }
    return CR_STORE_OK;
}

static void cf_close(cr_store *base)
{
    cf_store *s = (cf_store *)base;
    if (!s)
        return;
    cr_http_pool_free(s->http);
    free(s->ns_url);
    free(s->api_url);
    free(s->account_id);
    free(s->namespace_id);
    if (s->token) {
        volatile char *v = s->token;
        for (size_t i = 0; v[i]; i++)
            v[i] = 0;
        free(s->token);
    }
    free(s);
}

/* ---- batches: the bulk endpoints -----------------------------------------
 *
 * A batch (at most CR_STORE_BATCH_MAX operations, well under the API's
 * 10,000 keys per bulk request) is: every entry's version read and checked
 * first, as for put and del (no compare-and-swap here either: the same
 * one-round-trip window applies, per key); then one bulk write (PUT .../bulk)
 * of every new pair and every tombstone; then one bulk delete (DELETE
 * .../bulk) of the deleted keys. Two requests instead of one per key.
 *
 * Workers KV applies a bulk request key by key, not atomically: its answer
 * lists the keys it could not write (`unsuccessful_keys`), and only those
 * are reported as not applied. A delete goes ahead only if its tombstone
 * was written, so versions never repeat.
 */

/* Adds the keys of result.unsuccessful_keys to `failed` (a JSON object
 * used as a set). An answer without the field means every key went in. */
static void bulk_failures(json_t *result, json_t *failed)
{
    json_t *keys = json_object_get(result, "unsuccessful_keys");
    size_t i;
    json_t *k;
    if (!json_is_array(keys))
        return;
    json_array_foreach(keys, i, k)
        if (json_is_string(k))
            json_object_set(failed, json_string_value(k), json_true());
}

/* One bulk request with a JSON body; unsuccessful keys go into `failed`. */
static cr_store_rc bulk_call(cf_store *s, const char *method, json_t *body,
                             const char *what, json_t *failed,
                             cr_store_err *err)
{
    char *json = json_dumps(body, JSON_COMPACT);
    size_t n = strlen(s->ns_url) + 8;
    char *url = malloc(n);
    cr_http_resp r;
    if (!json || !url) {
        free(json);
        free(url);
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    }
    snprintf(url, n, "%s/bulk", s->ns_url);
    cr_store_rc rc = cf_call_body(s, what, method, url, NULL, 0, json, &r,
                                  err);
    free(url);
    free(json);
    if (rc != CR_STORE_OK)
        return rc;
    if (r.status / 100 == 2) {
        json_t *root = NULL, *result = NULL;
        rc = envelope(s, what, &r, &root, &result, err);
        if (rc == CR_STORE_OK)
            bulk_failures(result, failed);
        json_decref(root);
    } else if (r.status == 400 || r.status == 413) {
        long code;
        char det[240];
        cf_errors(&r, det, sizeof det, &code);
        rc = fail(s, err, CR_STORE_INVALID, "Workers KV refused a bulk "
                  "request while %s (HTTP %ld, %s)", what, r.status, det);
    } else {
        rc = unexpected(s, what, &r, err);
    }
    cr_http_resp_clear(&r);
    return rc;
}

static json_t *pair_json(const char *key, const char *value,
                         const char *metadata)
{
    json_t *md = json_loads(metadata, 0, NULL);
    json_t *o = md ? json_pack("{s:s,s:s,s:o}", "key", key, "value", value,
                               "metadata", md)
                   : NULL;
    return o;
}

static cr_store_rc cf_batch(cr_store *base, cr_batch_op *ops, size_t n,
                            cr_store_err *err)
{
    cf_store *s = (cf_store *)base;
    char what[200], buf[400], stamp[40], rkey[128], pb[80];
    int64_t *cur = calloc(n, sizeof *cur), *retired = calloc(n, sizeof *retired);
    json_t *writes = json_array(), *dels = json_array(),
           *failed = json_object();
    cr_store_rc rc = CR_STORE_OK;

    if (!cur || !retired || !writes || !dels || !failed) {
        rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
        goto out;
    }
    snprintf(what, sizeof what, "writing a batch of %zu entries", n);
    /* 1. Every condition, before anything is written. */
    for (size_t i = 0; i < n; i++) {
        cr_batch_op *op = &ops[i];
        const char *id = op->kind == CR_BATCH_PUT ? op->entry->tenant_id
                                                  : op->tenant_id;
        const char *msg;
        if (op->kind == CR_BATCH_PUT &&
            (msg = cf_fits(base, op->entry, buf, sizeof buf))) {
            op->rc = CR_STORE_INVALID;
            rc = cr_store_err_set(err, CR_STORE_INVALID, "tenant %s: %s",
                                  printable(id, pb), msg);
            goto out;
        }
        bool found;
        json_t *md = NULL;
        if ((rc = read_metadata(s, id, what, &found, &md, err)))
            goto out;
        cur[i] = found ? md_version(md) : 0;
        json_decref(md);
        if (found && cur[i] == 0 && op->expect != CR_VERSION_ANY) {
            op->rc = CR_STORE_INVALID;
            rc = fail(s, err, CR_STORE_INVALID, "Workers KV namespace %s "
                      "holds an entry for tenant \"%s\" without a cellrouter "
                      "version (repair it with cellctl set or cellctl "
                      "delete)", s->namespace_id, printable(id, pb));
            goto out;
        }
        if (op->kind == CR_BATCH_DELETE && !found) {
            op->rc = CR_STORE_NOT_FOUND;    /* gone already, as asked */
            op->applied = true;
        } else
            cr_store_batch_condition(op, cur[i]);
    }
    if ((rc = cr_store_batch_refused(ops, n, err)) != CR_STORE_OK)
        goto out;

    /* 2. The versions to continue from, and the bodies. */
    now_rfc3339(stamp);
    for (size_t i = 0; i < n; i++) {
        cr_batch_op *op = &ops[i];
        const char *id = op->kind == CR_BATCH_PUT ? op->entry->tenant_id
                                                  : op->tenant_id;
        if (op->rc == CR_STORE_NOT_FOUND)
            continue;
        if ((op->kind == CR_BATCH_PUT && cur[i] == 0) ||
            (op->kind == CR_BATCH_DELETE && cur[i] > 0)) {
            if ((rc = retired_version(s, id, what, &retired[i], err)))
                goto out;
        }
        json_t *pair = NULL;
        if (op->kind == CR_BATCH_PUT) {
            cr_entry e = *op->entry;
            e.version = (cur[i] ? cur[i] : retired[i]) + 1;
            e.updated_at = stamp;
            char *meta = metadata_json(&e);
            pair = meta ? pair_json(id, e.endpoint, meta) : NULL;
            free(meta);
            op->version = e.version;
            snprintf(op->updated_at, sizeof op->updated_at, "%s", stamp);
        } else if (cur[i] > retired[i]) {
            json_t *md = json_pack("{s:I,s:s}", "version", (json_int_t)cur[i],
                                   "tenant_id", id);
            char *meta = md ? json_dumps(md, JSON_COMPACT | JSON_SORT_KEYS)
                            : NULL;
            json_decref(md);
            retired_key(id, rkey);
            pair = meta ? pair_json(rkey, "retired", meta) : NULL;
            free(meta);
        }
        bool nomem = (op->kind == CR_BATCH_PUT || cur[i] > retired[i]) &&
                     (!pair || json_array_append_new(writes, pair));
        if (!nomem && op->kind == CR_BATCH_DELETE)
            nomem = json_array_append_new(dels, json_string(id)) != 0;
        if (nomem) {
            rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
            goto out;
        }
    }

    /* 3. One bulk write (entries and tombstones), then one bulk delete of
     * the keys whose tombstone is in. */
    if (json_array_size(writes) > 0 &&
        (rc = bulk_call(s, "PUT", writes, what, failed, err)))
        goto out;
    /* The puts are in (but for unsuccessful keys) whatever happens to the
     * deletes: say so now. */
    for (size_t i = 0; i < n; i++)
        if (ops[i].kind == CR_BATCH_PUT &&
            !json_object_get(failed, ops[i].entry->tenant_id))
            ops[i].applied = true;
    size_t k = 0;
    json_t *todel = json_array();
    if (!todel) {
        rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        cr_batch_op *op = &ops[i];
        if (op->kind != CR_BATCH_DELETE || op->rc == CR_STORE_NOT_FOUND)
            continue;
        const char *id = json_string_value(json_array_get(dels, k++));
        retired_key(id, rkey);
        if (!json_object_get(failed, rkey))
            json_array_append_new(todel, json_string(id));
        else
            json_object_set(failed, id, json_true());
    }
    if (json_array_size(todel) > 0)
        rc = bulk_call(s, "DELETE", todel, what, failed, err);
    json_decref(todel);
    if (rc != CR_STORE_OK)
        goto out;

    /* 4. What went in. */
    size_t nfail = 0;
    const char *first = NULL;
    for (size_t i = 0; i < n; i++) {
        cr_batch_op *op = &ops[i];
        const char *id = op->kind == CR_BATCH_PUT ? op->entry->tenant_id
                                                  : op->tenant_id;
        if (op->applied || !json_object_get(failed, id)) {
            op->applied = true;
            continue;
        }
        op->rc = CR_STORE_IO;
        op->version = 0;
        op->updated_at[0] = '\0';
        if (!nfail++)
            first = id;
    }
    if (nfail)
        rc = fail(s, err, CR_STORE_IO, "Workers KV could not write %zu of "
                  "%zu keys of a bulk request (first: tenant %s); the others "
                  "were written. Run again to retry them.", nfail, n,
                  printable(first, pb));
out:
    if (rc == CR_STORE_CONFLICT || rc == CR_STORE_EXISTS ||
        rc == CR_STORE_INVALID) {
        for (size_t i = 0; i < n; i++)
            ops[i].applied = false;         /* nothing was written */
    }
    for (size_t i = 0; i < n; i++) {
        if (!ops[i].applied || ops[i].kind != CR_BATCH_PUT) {
            ops[i].version = 0;
            ops[i].updated_at[0] = '\0';
        }
    }
    json_decref(writes);
    json_decref(dels);
    json_decref(failed);
    free(cur);
    free(retired);
    return rc;
}

static const cr_store_ops CF_OPS = {
    .name = "cloudflare_kv",
    .get = cf_get,
    .put = cf_put,
    .del = cf_del,
    .list = cf_list,
    .close = cf_close,
    .fits = cf_fits,
    .batch = cf_batch,
};

/* ---- opening ------------------------------------------------------------ */

/* A cheap authenticated request, so a wrong token, account or namespace is
 * reported when the provider is configured, not in the middle of an apply. */
static cr_store_rc probe(cf_store *s, cr_store_err *err)
{
    cr_http_resp r;
    size_t n = strlen(s->ns_url) + 32;
    char *url = malloc(n);
    const char *what = "checking access to the namespace";
    if (!url)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    snprintf(url, n, "%s/keys?limit=10", s->ns_url);
    cr_store_rc rc = cf_call(s, what, "GET", url, NULL, 0, &r, err);
    free(url);
    if (rc != CR_STORE_OK)
        return rc;
    if (r.status != 200) {
        rc = unexpected(s, what, &r, err);
    } else {
        json_t *root = NULL, *result;
        rc = envelope(s, what, &r, &root, &result, err);
        json_decref(root);
    }
    cr_http_resp_clear(&r);
    return rc;
}

cr_store_rc cr_store_cfkv_open(const cr_cfkv_config *cfg, cr_store **out,
                               cr_store_err *err)
{
    const char *msg;
    cr_store_err_clear(err);
    *out = NULL;
    if ((msg = cr_cfkv_check_id(cfg->account_id)))
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "cloudflare_kv: account_id %s%s", msg,
                                cfg->account_id ? "" :
                                " (set it, or CLOUDFLARE_ACCOUNT_ID)");
    if ((msg = cr_cfkv_check_id(cfg->namespace_id)))
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "cloudflare_kv: namespace_id %s%s", msg,
                                cfg->namespace_id ? "" :
                                " (set it, or CLOUDFLARE_KV_NAMESPACE_ID)");
    if ((msg = cr_cfkv_check_token(cfg->api_token)))
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "cloudflare_kv: the API token %s%s", msg,
                                cfg->api_token ? "" :
                                " (set api_token or CLOUDFLARE_API_TOKEN)");
    const char *api = cfg->api_url && *cfg->api_url ? cfg->api_url
                                                    : CR_CFKV_DEFAULT_API_URL;
    if ((msg = cr_cfkv_check_api_url(api)))
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "cloudflare_kv: api_url %s", msg);
    if (cfg->retry_budget_ms < 0 || cfg->retry_budget_ms > 3600000)
        return cr_store_err_set(err, CR_STORE_INVALID, "cloudflare_kv: the "
                                "retry budget must be 0 to 3600 s");

    cf_store *s = calloc(1, sizeof *s);
    if (!s)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    s->base.ops = &CF_OPS;
    s->retry_budget_ms = cfg->retry_budget_ms ? cfg->retry_budget_ms
                                              : CR_CFKV_RETRY_DEFAULT_MS;
    size_t alen = strlen(api);
    while (alen > 0 && api[alen - 1] == '/')
        alen--;
    s->api_url = strndup(api, alen);
    s->account_id = strdup(cfg->account_id);
    s->namespace_id = strdup(cfg->namespace_id);
    s->token = strdup(cfg->api_token);
    s->http = cr_http_pool_new();
    size_t n = alen + strlen(cfg->account_id) + strlen(cfg->namespace_id) + 64;
    s->ns_url = malloc(n);
    if (!s->api_url || !s->account_id || !s->namespace_id || !s->token ||
        !s->http || !s->ns_url) {
        cf_close(&s->base);
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    }
    snprintf(s->ns_url, n, "%s/accounts/%s/storage/kv/namespaces/%s",
             s->api_url, s->account_id, s->namespace_id);
    if (!cfg->skip_probe) {
        cr_store_rc rc = probe(s, err);
        if (rc != CR_STORE_OK) {
            cr_log_warn(LOG, "cannot use Workers KV namespace %s: %s",
                        s->namespace_id, err ? err->msg : "");
            cf_close(&s->base);
            return rc;
        }
    }
    cr_log_debug(LOG, "using Workers KV namespace %s of account %s at %s",
                 s->namespace_id, s->account_id, s->api_url);
    *out = &s->base;
    return CR_STORE_OK;
}
