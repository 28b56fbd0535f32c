/*
 * store/store.c — what every routing-map backend shares: the entry type's
 * memory management, the names of result codes, and the one validation of
 * an entry (cr_entry_check) that the provider's resource validation, cellctl
 * and every backend's read path call, so the rules live in exactly one place.
 *
 * The rules, and why:
 *
 *   tenant_id         1-512 bytes of [A-Za-z0-9._:@-], first byte a letter or
 *                     digit. 512 bytes is Cloudflare Workers KV's key limit;
 *                     every allowed byte is a URL "pchar" that needs no
 *                     percent-encoding, so the id can be used verbatim as a KV
 *                     key and as a URL path segment; starting with a letter or
 *                     digit rules out "." and ".." (path traversal) and
 *                     option-looking ids such as "-x" on command lines.
 *   cell_id,          1-63 bytes of [a-z0-9-], first byte a letter or digit:
 *   standby_cell_id   the rule cellgen applies to the cells it generates, so
 *                     every cell id in the map can name a generated cell (and
 *                     is a valid DNS label prefix).
 *   endpoint,         an absolute http:// or https:// URL with a host, at most
 *   standby_endpoint  2048 bytes of printable ASCII (internationalised hosts
 *                     in their punycode form), parsed by libcurl's URL API;
 *                     no user:password@ part (credentials must never sit in a
 *                     routing map, which operators print and export) and no
 *                     #fragment (never sent to a server, so it is a mistake).
 *   standby           both standby fields or neither; the standby cell must
 *                     differ from the primary cell.
 *   labels            keys 1-63 bytes, values at most 256 bytes, both valid
 *                     UTF-8 without control characters (they are printed in
 *                     cellctl's table and stored as JSON).
 */
#include "common/utf8.h"
#include "store/store.h"
#include "store/backend.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- entries ---------------------------------------------------------- */

cr_entry *cr_entry_new(void)
{
    return calloc(1, sizeof(cr_entry));
}

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

int cr_entry_copy(cr_entry *dst, const cr_entry *src)
{
    memset(dst, 0, sizeof(*dst));
    if (dup_opt(&dst->tenant_id, src->tenant_id) ||
        dup_opt(&dst->cell_id, src->cell_id) ||
        dup_opt(&dst->endpoint, src->endpoint) ||
        dup_opt(&dst->standby_cell_id, src->standby_cell_id) ||
        dup_opt(&dst->standby_endpoint, src->standby_endpoint) ||
        dup_opt(&dst->updated_at, src->updated_at))
        goto nomem;
    dst->version = src->version;
    dst->has_labels = src->has_labels;
    if (src->nlabels) {
        dst->labels = calloc(src->nlabels, sizeof(cr_label));
        if (!dst->labels)
            goto nomem;
        for (size_t i = 0; i < src->nlabels; i++) {
            dst->nlabels = i + 1;
            if (dup_opt(&dst->labels[i].key, src->labels[i].key) ||
                dup_opt(&dst->labels[i].value, src->labels[i].value))
                goto nomem;
        }
    }
    return 0;
nomem:
    cr_entry_clear(dst);
    return -1;
}

void cr_entry_clear(cr_entry *e)
{
    if (!e)
        return;
    free(e->tenant_id);
    free(e->cell_id);
    free(e->endpoint);
    free(e->standby_cell_id);
    free(e->standby_endpoint);
    free(e->updated_at);
    for (size_t i = 0; i < e->nlabels; i++) {
        free(e->labels[i].key);
        free(e->labels[i].value);
    }
    free(e->labels);
    memset(e, 0, sizeof(*e));
}

void cr_entry_free(cr_entry *e)
{
    cr_entry_clear(e);
    free(e);
}

/* Keeps labels sorted by key (strcmp) with unique keys: a binary search
 * finds the slot; an existing key has its value replaced. Any label makes
 * the map non-null. Returns 0, or -1 on allocation failure / NULL input,
 * leaving the entry unchanged. */
int cr_entry_set_label(cr_entry *e, const char *key, const char *value)
{
    if (!e || !key || !value) {
        errno = EINVAL;
        return -1;
    }
    size_t lo = 0, hi = e->nlabels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(e->labels[mid].key, key);
        if (c == 0) {
            char *v = strdup(value);
            if (!v)
                return -1;
            free(e->labels[mid].value);
            e->labels[mid].value = v;
            e->has_labels = true;
            return 0;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    char *k = strdup(key), *v = strdup(value);
    cr_label *grown = (k && v) ? realloc(e->labels,
                                         (e->nlabels + 1) * sizeof(cr_label))
                               : NULL;
    if (!grown) {
        free(k);
        free(v);
        return -1;
    }
    e->labels = grown;
    memmove(&e->labels[lo + 1], &e->labels[lo],
            (e->nlabels - lo) * sizeof(cr_label));
    e->labels[lo].key = k;
    e->labels[lo].value = v;
    e->nlabels++;
    e->has_labels = true;
    return 0;
}

const char *cr_entry_label(const cr_entry *e, const char *key)
{
    size_t lo = 0, hi = e->nlabels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(e->labels[mid].key, key);
        if (c == 0)
            return e->labels[mid].value;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void cr_entry_list_free(cr_entry_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->len; i++)
        cr_entry_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* ---- result codes and errors ------------------------------------------ */

const char *cr_store_rc_name(cr_store_rc rc)
{
    switch (rc) {
    case CR_STORE_OK:        return "ok";
    case CR_STORE_NOT_FOUND: return "not found";
    case CR_STORE_EXISTS:    return "already exists";
    case CR_STORE_CONFLICT:  return "version conflict";
    case CR_STORE_INVALID:   return "invalid";
    case CR_STORE_IO:        return "I/O error";
    case CR_STORE_AUTH:      return "access denied";
    case CR_STORE_NOMEM:     return "out of memory";
    case CR_STORE_IN_USE:    return "in use";
    }
    return "unknown error";
}

cr_store_rc cr_store_err_set(cr_store_err *err, cr_store_rc rc,
                             const char *fmt, ...)
{
    if (!err)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    err->rc = rc;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return rc;
}

void cr_store_err_clear(cr_store_err *err)
{
    if (!err)
        return;
    err->rc = CR_STORE_OK;
    err->actual_version = 0;
    err->msg[0] = '\0';
}

/* ---- validation -------------------------------------------------------- */

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

const char *cr_tenant_id_check(const char *id)
{
    if (!id || !*id)
        return "tenant_id must not be empty";
    size_t n = strlen(id);
    if (n > CR_TENANT_ID_MAX)
        return "tenant_id is longer than 512 bytes";
    if (!is_alnum((unsigned char)id[0]))
        return "tenant_id must start with a letter or a digit";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!is_alnum(c) && c != '.' && c != '_' && c != ':' && c != '@' &&
            c != '-')
            return "tenant_id may only contain letters, digits and . _ : @ -";
    }
    return NULL;
}

const char *cr_cell_id_check(const char *id)
{
    if (!id || !*id)
        return "cell id must not be empty";
    size_t n = strlen(id);
    if (n > CR_CELL_ID_MAX)
        return "cell id is longer than 63 bytes";
    unsigned char c0 = (unsigned char)id[0];
    if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= '0' && c0 <= '9')))
        return "cell id must start with a lowercase letter or a digit";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return "cell id may only contain lowercase letters, digits and -";
    }
    return NULL;
}

/* Parsing a URL is by far the costliest rule, and every entry is checked
 * again wherever it passes (validation, each write, each read back): at
 * 100,000 tenants that is most of a refresh's checking. A fleet's entries
 * share a handful of endpoints, so the last few valid ones are remembered,
 * per thread (no locking; 16 KB each). Only valid URLs are remembered, so
 * a remembered answer is always "valid".
 *
 * The memo is allocated by the first check on each thread, not declared
 * _Thread_local: a thread-local array is part of every thread's static TLS
 * block, which the C library zeroes (so dirties) in each of the process's
 * threads, gRPC's own included, whether or not it ever checks a URL: 16 KB
 * of private memory per thread, most of what a provider's threads cost
 * (bench/startup.sh). */
#define ENDPOINT_MEMO 8
typedef struct endpoint_memo {
    char url[ENDPOINT_MEMO][CR_ENDPOINT_MAX + 1];
    unsigned next;
} endpoint_memo;
static pthread_key_t endpoint_memo_key;
static bool endpoint_memo_ok;
static pthread_once_t endpoint_memo_once = PTHREAD_ONCE_INIT;

static void endpoint_memo_key_make(void)
{
    endpoint_memo_ok = pthread_key_create(&endpoint_memo_key, free) == 0;
}

/* This thread's memo; NULL (check without one) when there is no memory. */
static endpoint_memo *endpoint_memo_get(void)
{
    pthread_once(&endpoint_memo_once, endpoint_memo_key_make);
    if (!endpoint_memo_ok)
        return NULL;
    endpoint_memo *m = pthread_getspecific(endpoint_memo_key);
    if (m == NULL && (m = calloc(1, sizeof *m)) != NULL &&
        pthread_setspecific(endpoint_memo_key, m) != 0) {
        free(m);
        m = NULL;
    }
    return m;
}

static const char *endpoint_check_uncached(const char *url, size_t n);

const char *cr_endpoint_check(const char *url)
{
    if (!url || !*url)
        return "endpoint must not be empty";
    size_t n = strlen(url);
    if (n > CR_ENDPOINT_MAX)
        return "endpoint is longer than 2048 bytes";
    endpoint_memo *m = endpoint_memo_get();
    for (unsigned i = 0; m != NULL && i < ENDPOINT_MEMO; i++)
        if (m->url[i][0] && strcmp(m->url[i], url) == 0)
            return NULL;
    const char *bad = endpoint_check_uncached(url, n);
    if (!bad && m != NULL) {
        memcpy(m->url[m->next], url, n + 1);
        m->next = (m->next + 1) % ENDPOINT_MEMO;
    }
    return bad;
}

static const char *endpoint_check_uncached(const char *url, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f)
            return "endpoint must be printable ASCII without spaces "
                   "(percent-encode other bytes, use punycode for hosts)";
    }
    /* libcurl would also accept "http:/host" or a missing scheme with the
     * right flags; insisting on the literal "scheme://" keeps the map free
     * of anything a browser or proxy would read differently. */
    if (strchr(url, '#'))
        return "endpoint must not contain a #fragment";
    if (strncasecmp(url, "http://", 7) != 0 &&
        strncasecmp(url, "https://", 8) != 0)
        return "endpoint must be an absolute URL starting with http:// or "
               "https://";
    /* "https:///x" would make libcurl skip the extra slash and read "x" as
     * the host; a backslash is a path separator to browsers but not to
     * libcurl. Both are read differently by different parsers: refuse. */
    const char *authority = strstr(url, "://") + 3;
    if (*authority == '/')
        return "endpoint must name a host after the scheme";
    if (strchr(url, '\\'))
        return "endpoint must not contain a backslash";

    CURLU *u = curl_url();
    if (!u)
        return "out of memory while parsing endpoint";
    const char *bad = NULL;
    char *part = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        bad = "endpoint is not a valid URL";
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK ||
        !part || !*part) {
        bad = "endpoint must name a host";
        goto out;
    }
    curl_free(part);
    part = NULL;
    if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_OPTIONS, &part, 0) == CURLUE_OK) {
        bad = "endpoint must not contain credentials (user:password@)";
        goto out;
    }
    if (curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
        bad = "endpoint must not contain a #fragment";
        goto out;
    }
out:
    curl_free(part);
    curl_url_cleanup(u);
    return bad;
}

/* Strict UTF-8 (cr_utf8_char) and no C0/C1 control characters or DEL
 * (backend.h: labels here, a cell's reason in store/cell.c). */
bool cr_store_text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        unsigned c = *p;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            p++;
            n--;
            continue;
        }
        unsigned cp;
        size_t len = cr_utf8_char(p, n, &cp);
        if (!len || (cp >= 0x80 && cp <= 0x9f))
            return false;
        p += len;
        n -= len;
    }
    return true;
}

const char *cr_label_check(const char *key, const char *value)
{
    if (!key || !*key)
        return "label keys must not be empty";
    if (strlen(key) > CR_LABEL_KEY_MAX)
        return "label key is longer than 63 bytes";
    if (!cr_store_text_ok(key))
        return "label key must be UTF-8 text without control characters";
    if (!value)
        return "label value must not be null";
    if (strlen(value) > CR_LABEL_VALUE_MAX)
        return "label value is longer than 256 bytes";
    if (!cr_store_text_ok(value))
        return "label value must be UTF-8 text without control characters";
    return NULL;
}

const char *cr_store_labels_check(const cr_entry *e)
{
    const char *msg;
    for (size_t i = 0; i < e->nlabels; i++) {
        if ((msg = cr_label_check(e->labels[i].key, e->labels[i].value)))
            return msg;
        if (i && strcmp(e->labels[i - 1].key, e->labels[i].key) >= 0)
            return "labels are not sorted by key with unique keys";
    }
    return NULL;
}

const char *cr_entry_check(const cr_entry *e, const char **field)
{
    const char *dummy, *msg;
    if (!field)
        field = &dummy;
    *field = NULL;
    if (!e)
        return "no entry";

    *field = "tenant_id";
    if ((msg = cr_tenant_id_check(e->tenant_id)))
        return msg;
    *field = "cell_id";
    if (!e->cell_id)
        return "cell_id is required";
    if ((msg = cr_cell_id_check(e->cell_id)))
        return msg;
    *field = "endpoint";
    if (!e->endpoint)
        return "endpoint is required";
    if ((msg = cr_endpoint_check(e->endpoint)))
        return msg;

    bool has_cell = e->standby_cell_id != NULL;
    bool has_ep = e->standby_endpoint != NULL;
    if (has_cell != has_ep) {
        *field = has_cell ? "standby_endpoint" : "standby_cell_id";
        return "standby_cell_id and standby_endpoint must be set together "
               "(both or neither)";
    }
    if (has_cell) {
        *field = "standby_cell_id";
        if ((msg = cr_cell_id_check(e->standby_cell_id)))
            return msg;
        if (strcmp(e->standby_cell_id, e->cell_id) == 0)
            return "standby_cell_id must differ from cell_id";
        *field = "standby_endpoint";
        if ((msg = cr_endpoint_check(e->standby_endpoint)))
            return msg;
    }

    *field = "labels";
    if (!e->has_labels && e->nlabels)
        return "labels are null but the entry carries some";
    if ((msg = cr_store_labels_check(e)))
        return msg;
    *field = NULL;
    return NULL;
}

/* ---- batches ------------------------------------------------------------ */

static const char *op_id(const cr_batch_op *op)
{
    if (op->kind == CR_BATCH_PUT)
        return op->entry ? op->entry->tenant_id : NULL;
    return op->tenant_id;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* What every backend can rely on before it sees a batch: a known kind, a
 * valid entry or id, a sensible expected version, each tenant once. Marks
 * every bad operation; returns INVALID if there is one. */
static cr_store_rc batch_precheck(cr_batch_op *ops, size_t n,
                                  cr_store_err *err)
{
    cr_store_rc rc = CR_STORE_OK;
    const char *first = NULL, *why = NULL;

    for (size_t i = 0; i < n; i++) {
        cr_batch_op *op = &ops[i];
        const char *bad = NULL, *field = NULL;
        op->applied = false;
        op->rc = CR_STORE_OK;
        op->actual_version = 0;
        op->version = 0;
        op->updated_at[0] = '\0';
        if (op->kind == CR_BATCH_PUT) {
            bad = op->entry ? cr_entry_check(op->entry, &field) : "no entry";
            if (!bad && op->expect < CR_VERSION_ANY)
                bad = "expected version is not a version";
        } else if (op->kind == CR_BATCH_DELETE) {
            bad = cr_tenant_id_check(op->tenant_id);
            if (!bad && (op->expect == CR_VERSION_ABSENT ||
                         op->expect < CR_VERSION_ANY))
                bad = "expected version makes no sense for a delete";
        } else {
            bad = "unknown operation";
        }
        if (bad) {
            op->rc = CR_STORE_INVALID;
            if (!first) {
                first = op_id(op) ? op_id(op) : "(none)";
                why = bad;
            }
            rc = CR_STORE_INVALID;
        }
    }
    if (rc != CR_STORE_OK)
        return cr_store_err_set(err, rc, "batch refused: tenant \"%.64s\": "
                                "%s", first, why);

    const char **ids = n ? malloc(n * sizeof *ids) : NULL;
    if (n && !ids)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        ids[i] = op_id(&ops[i]);
    if (n > 1)
        qsort(ids, n, sizeof *ids, cmp_str_ptr);
    for (size_t i = 1; i < n && rc == CR_STORE_OK; i++) {
        if (strcmp(ids[i - 1], ids[i]) == 0) {
            for (size_t j = 0; j < n; j++)
                if (strcmp(op_id(&ops[j]), ids[i]) == 0)
                    ops[j].rc = CR_STORE_INVALID;
            rc = cr_store_err_set(err, CR_STORE_INVALID,
                                  "batch refused: tenant \"%.64s\" appears "
                                  "twice", ids[i]);
        }
    }
    free(ids);
    return rc;
}

/* Would `op` be refused against an entry currently at version `cur` (0:
 * absent)? Marks it and returns its rc. */
static cr_store_rc batch_condition(cr_batch_op *op, int64_t cur)
{
    if (op->kind == CR_BATCH_PUT) {
        if (op->expect == CR_VERSION_ABSENT && cur > 0)
            op->rc = CR_STORE_EXISTS;
        else if (op->expect > 0 && cur != op->expect)
            op->rc = CR_STORE_CONFLICT;
    } else if (cur > 0 && op->expect > 0 && cur != op->expect) {
        op->rc = CR_STORE_CONFLICT;
    }
    if (op->rc != CR_STORE_OK)
        op->actual_version = cur;
    return op->rc;
}

/* The overall result of a refused batch: EXISTS only when every refusal
 * is EXISTS, else CONFLICT (a version changed under us). */
static cr_store_rc batch_refused(const cr_batch_op *ops, size_t n,
                                 cr_store_err *err)
{
    size_t nref = 0;
    bool all_exists = true;
    const char *first = NULL;
    for (size_t i = 0; i < n; i++) {
        if (ops[i].rc == CR_STORE_OK || ops[i].rc == CR_STORE_NOT_FOUND)
            continue;
        nref++;
        if (ops[i].rc != CR_STORE_EXISTS)
            all_exists = false;
        if (!first)
            first = op_id(&ops[i]);
    }
    if (!nref)
        return CR_STORE_OK;
    cr_store_rc rc = all_exists ? CR_STORE_EXISTS : CR_STORE_CONFLICT;
    return cr_store_err_set(err, rc, "batch refused: %zu operation(s) do not "
                            "match the routing map (first: tenant \"%.64s\"); "
                            "nothing was written", nref, first);
}

/* Fallback for backends without a batch operation. */
static cr_store_rc batch_one_by_one(cr_store *s, cr_batch_op *ops, size_t n,
                                    cr_store_err *err)
{
    for (size_t i = 0; i < n; i++) {
        cr_entry *cur = NULL;
        cr_store_rc rc = cr_store_get(s, op_id(&ops[i]), &cur, err);
        if (rc != CR_STORE_OK)
            return rc;
        batch_condition(&ops[i], cur ? cur->version : 0);
        cr_entry_free(cur);
    }
    cr_store_rc rc = batch_refused(ops, n, err);
    if (rc != CR_STORE_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        cr_batch_op *op = &ops[i];
        cr_store_err e1;
        cr_store_err_clear(&e1);
        if (op->kind == CR_BATCH_PUT) {
            cr_entry *w = NULL;
            rc = cr_store_put(s, op->entry, op->expect, &w, &e1);
            if (rc == CR_STORE_OK) {
                op->version = w->version;
                snprintf(op->updated_at, sizeof op->updated_at, "%s",
                         w->updated_at ? w->updated_at : "");
            }
            cr_entry_free(w);
        } else {
            rc = cr_store_delete(s, op->tenant_id, op->expect, &e1);
            if (rc == CR_STORE_NOT_FOUND) {
                op->rc = CR_STORE_NOT_FOUND;
                rc = CR_STORE_OK;
            }
        }
        if (rc != CR_STORE_OK) {
            /* A writer slipped in since the check, or the backend failed:
             * what came before stays applied, and says so. */
            op->rc = rc;
            op->actual_version = e1.actual_version;
            if (err)
                *err = e1;
            return rc;
        }
        op->applied = true;
    }
    return CR_STORE_OK;
}

cr_store_rc cr_store_batch(cr_store *s, cr_batch_op *ops, size_t n,
                           cr_store_err *err)
{
    cr_store_err_clear(err);
    if (!s || (n && !ops))
        return cr_store_err_set(err, CR_STORE_INVALID, "no batch");
    if (n > cr_store_batch_max(s))
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "a batch holds at most %zu operations (%zu "
                                "given)", cr_store_batch_max(s), n);
    cr_store_rc rc = batch_precheck(ops, n, err);
    if (rc != CR_STORE_OK || n == 0)
        return rc;
    if (s->ops->batch)
        return s->ops->batch(s, ops, n, err);
    return batch_one_by_one(s, ops, n, err);
}

/* Shared by backends that implement `batch` themselves. */
cr_store_rc cr_store_batch_condition(cr_batch_op *op, int64_t cur)
{
    return batch_condition(op, cur);
}

cr_store_rc cr_store_batch_refused(const cr_batch_op *ops, size_t n,
                                   cr_store_err *err)
{
    return batch_refused(ops, n, err);
}

cr_store_rc cr_store_list_page(cr_store *s, const char *prefix,
                               const char *cursor, size_t max,
                               cr_entry_list *out, char **next,
                               cr_store_err *err)
{
    cr_store_err_clear(err);
    memset(out, 0, sizeof *out);
    *next = NULL;
    if (!s || max == 0)
        return cr_store_err_set(err, CR_STORE_INVALID, "no store, or an "
                                "empty page asked for");
    if (s->ops->list_page)
        return s->ops->list_page(s, prefix, cursor, max, out, next, err);
    /* No paging: the whole list is the first and only page. */
    if (cursor && *cursor)
        return CR_STORE_OK;
    return cr_store_list(s, prefix, out, err);
}

cr_store_rc cr_store_get_many(cr_store *s, const char *const *tenant_ids,
                              size_t n, cr_entry_list *out,
                              cr_store_err *err)
{
    cr_store_err_clear(err);
    memset(out, 0, sizeof *out);
    if (!s || (n && !tenant_ids))
        return cr_store_err_set(err, CR_STORE_INVALID, "no tenants");
    for (size_t i = 0; i < n; i++)
        if (!tenant_ids[i] || !*tenant_ids[i])
            return cr_store_err_set(err, CR_STORE_INVALID,
                                    "tenant_id must not be empty");
    if (n == 0)
        return CR_STORE_OK;
    if (s->ops->get_many)
        return s->ops->get_many(s, tenant_ids, n, out, err);

    /* One listing of the whole map, merged with the sorted ids: one
     * request stream instead of n round trips. */
    const char **ids = malloc(n * sizeof *ids);
    if (!ids)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    memcpy(ids, tenant_ids, n * sizeof *ids);
    qsort(ids, n, sizeof *ids, cmp_str_ptr);
    cr_entry_list all = {0};
    cr_store_rc rc = cr_store_list(s, "", &all, err);
    if (rc != CR_STORE_OK) {
        free(ids);
        return rc;
    }
    size_t i = 0, j = 0, kept = 0;
    while (j < all.len) {
        int c = i < n ? strcmp(ids[i], all.items[j].tenant_id) : 1;
        if (i < n && c < 0) {
            i++;
        } else if (c == 0) {
            all.items[kept++] = all.items[j++];     /* moved, not copied */
            while (i < n && strcmp(ids[i], all.items[kept - 1].tenant_id) == 0)
                i++;
        } else {
            cr_entry_clear(&all.items[j++]);
        }
    }
    all.len = kept;
    free(ids);
    *out = all;
    return CR_STORE_OK;
}
