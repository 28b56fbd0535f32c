/*
 * store/cloudflare_kv.c — the routing map in a Cloudflare Workers KV
 * namespace, through the v4 REST API, so the edge router (a Worker bound to
 * the same namespace) reads exactly what Terraform wrote. What a pair means
 * is in cfkv_entry.c, how the API is spoken in cfkv_api.c; this file holds
 * the store operations and how each learns what the namespace holds for the
 * fewest requests, because requests are what Cloudflare rations (1,200 per
 * 5 minutes per user, then a 5-minute lockout).
 *
 * Reading. A key listing returns 1,000 keys with their metadata per
 * request, and the metadata holds the whole entry; a bulk read returns 100
 * keys with value and metadata. To learn about a set of keys (sorted), the
 * backend lists the keys their ids share as a prefix (their longest common
 * prefix) page by page, and stops as soon as the listing has passed the
 * last key it needs; if the listing turns out to hold many other keys (it
 * passes fewer than 100 of ours a page), it switches to bulk reads once the
 * pages it spent equal what bulk reads of the keys still unseen would cost
 * (so it spends at most about twice the cheaper of the two). Bulk reads
 * alone serve sets of up to 100 keys.
 *   refresh of 100,000 tenants: ~100 listing pages;
 *   of 1,000 tenants: 1 page (their ids share a prefix, or the namespace
 *   is small) to 10 bulk reads; get of one tenant: 1 bulk read.
 *
 * Writing. A batch (up to 10,000 operations, the bulk write limit) costs
 * the reads above for its versions and tombstones (a tenant's tombstone
 * sits next to it in key order, so the same listing finds both), then one
 * bulk write of every new pair and tombstone, then one bulk delete of the
 * deleted keys when there are any:
 *   create of 100,000 tenants: 10 batches x (1 listing page + 1 write);
 *   change of one tenant: 1 bulk read + 1 write.
 *
 * No compare-and-swap. Workers KV has no conditional write, so a
 * conditional put or delete reads the version first (as above) and then
 * writes. Another writer can slip in between the read and the write (a
 * window of the batch's own round trips, plus KV's propagation: a read may
 * not yet show a write made elsewhere in the last ~60 s); the last write
 * then wins. The README states this; SQLite is the backend for strict
 * conflict detection. A delete whose entry reads as absent still deletes
 * the key and records Terraform's version in the tombstone, so a stale read
 * can neither leave the tenant routed nor let its versions repeat.
 *
 * Bulk writes are applied key by key, not atomically: Cloudflare's answer
 * lists the keys it could not write (unsuccessful_keys), and only those are
 * reported as not applied. A delete goes ahead only once its tombstone is
 * written, so versions never repeat.
 */
#include "store/cfkv.h"

#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG "store"

/* ---- settings ------------------------------------------------------------- */

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
    /* Fewer requests per 5 minutes than the default, to leave more of the
     * account's 1,200 to other tools (or for tests of the pacer). */
    const char *b = getenv("CELLROUTER_KV_REQUEST_BUDGET");
    if (b && *b) {
        char *end;
        long v = strtol(b, &end, 10);
        cfg->request_budget = !*end && v >= 1 && v <= CFKV_API_LIMIT ? (int)v
                                                                     : -1;
    }
}

/* ---- what the namespace holds for a set of keys --------------------------- */

typedef struct item {
    const char *key;            /* borrowed; sorted and unique in an array */
    bool found;
    json_t *md;                 /* owned; json null when the pair has none */
    char *value;                /* owned; NULL unless bulk read */
    size_t vlen;
} item;

static int item_cmp(const void *a, const void *b)
{
    return strcmp(((const item *)a)->key, ((const item *)b)->key);
}

static item *item_find(item *it, size_t n, const char *key)
{
    item k = { .key = key };
    return n ? bsearch(&k, it, n, sizeof *it, item_cmp) : NULL;
}

static void items_free(item *it, size_t n)
{
    for (size_t i = 0; it && i < n; i++) {
        json_decref(it[i].md);
        free(it[i].value);
    }
    free(it);
}

/* Sorts and drops repeated keys; returns the new count. */
static size_t items_sort(item *it, size_t n)
{
    size_t k = 0;
    if (n > 1)
        qsort(it, n, sizeof *it, item_cmp);
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(it[k - 1].key, it[i].key) != 0)
            it[k++] = it[i];
    return k;
}

static size_t bulk_requests(size_t keys)
{
    return (keys + CFKV_BULK_GET_MAX - 1) / CFKV_BULK_GET_MAX;
}

/* Bulk reads of every item: found, metadata and value. */
static cr_store_rc bulk_read(cfkv *s, item *it, size_t n, const char *what,
                             cr_store_err *err)
{
    const char *keys[CFKV_BULK_GET_MAX];
    cr_store_rc rc = cfkv_can_fit(s, bulk_requests(n), what, err);
    for (size_t i = 0; rc == CR_STORE_OK && i < n; i += CFKV_BULK_GET_MAX) {
        size_t m = n - i < CFKV_BULK_GET_MAX ? n - i : CFKV_BULK_GET_MAX;
        json_t *values;
        for (size_t j = 0; j < m; j++)
            keys[j] = it[i + j].key;
        if ((rc = cfkv_bulk_get(s, keys, m, what, &values, err)))
            break;
        for (size_t j = 0; rc == CR_STORE_OK && j < m; j++) {
            item *x = &it[i + j];
            json_t *v = json_object_get(values, x->key);
            if (json_is_null(v))
                continue;
            json_t *md = json_object_get(v, "metadata");
            const char *val = json_string_value(json_object_get(v, "value"));
            x->found = true;
            x->md = md ? json_incref(md) : json_null();
            x->vlen = json_string_length(json_object_get(v, "value"));
            if (!(x->value = malloc(x->vlen + 1)))
                rc = cr_store_err_nomem(err);
            else
                memcpy(x->value, val, x->vlen + 1);
        }
        json_decref(values);
    }
    return rc;
}

static size_t common_prefix(const char *a, const char *b)
{
    size_t i = 0;
    while (a[i] && a[i] == b[i])
        i++;
    return i;
}

/* What the namespace holds for each item (sorted, unique): see the top of
 * the file for how it chooses between a listing and bulk reads. Items the
 * listing passed without finding are absent. */
static cr_store_rc lookup(cfkv *s, item *it, size_t n, const char *what,
                          cr_store_err *err)
{
    if (n == 0)
        return CR_STORE_OK;
    if (bulk_requests(n) <= 1)
        return bulk_read(s, it, n, what, err);
    char *prefix = strndup(it[0].key, common_prefix(it[0].key,
                                                     it[n - 1].key));
    cfkv_lister l = { .prefix = prefix };
    cr_store_rc rc = prefix ? CR_STORE_OK : cr_store_err_nomem(err);
    size_t covered = 0;
    json_t *keys;
    while (rc == CR_STORE_OK &&
           (rc = cfkv_list_next(s, &l, what, &keys, err)) == CR_STORE_OK &&
           keys) {
        size_t i;
        json_t *k;
        const char *last = NULL;
        json_array_foreach(keys, i, k) {
            last = json_string_value(json_object_get(k, "name"));
            item *x = item_find(it, n, last);
            if (x && !x->found) {
                json_t *md = json_object_get(k, "metadata");
                x->found = true;
                x->md = md ? json_incref(md) : json_null();
            }
        }
        while (last && covered < n && strcmp(it[covered].key, last) <= 0)
            covered++;
        if (l.done || covered == n)
            break;
        /* Bulk reads of the rest, once the pages spent pay for them and the
         * listing, at the pace it has passed our keys so far, would cost
         * more. */
        size_t left = n - covered, bulk = bulk_requests(left);
        size_t pace = covered / (size_t)l.pages;    /* keys passed a page */
        if ((size_t)l.pages >= bulk &&
            (pace == 0 || (left + pace - 1) / pace > bulk)) {
            cr_log_debug(LOG, "workers kv: %s: %d listing pages passed %zu "
                         "of %zu keys; reading the rest in bulk", what,
                         l.pages, covered, n);
            rc = bulk_read(s, it + covered, n - covered, what, err);
            break;
        }
    }
    cfkv_lister_free(&l);
    free(prefix);
    return rc;
}

/* ---- first-format tombstones ---------------------------------------------- */

/* Lists every first-format tombstone once per store: this version never
 * writes new ones (only an older cellrouter still running could). */
static cr_store_rc legacy_load(cfkv *s, cr_store_err *err)
{
    cr_store_rc rc = CR_STORE_OK;
    pthread_mutex_lock(&s->mu);
    if (s->legacy_loaded) {
        pthread_mutex_unlock(&s->mu);
        return CR_STORE_OK;
    }
    json_t *map = json_object(), *keys;
    cfkv_lister l = { .prefix = CFKV_LEGACY_PREFIX };
    if (!map)
        rc = cr_store_err_nomem(err);
    while (rc == CR_STORE_OK &&
           (rc = cfkv_list_next(s, &l, "listing old tombstones", &keys,
                                err)) == CR_STORE_OK && keys) {
        size_t i;
        json_t *k;
        json_array_foreach(keys, i, k) {
            int64_t v = cfkv_md_version(json_object_get(k, "metadata"));
            if (v > 0 && json_object_set_new(map, json_string_value(
                             json_object_get(k, "name")), json_integer(v)))
                rc = cr_store_err_nomem(err);
        }
    }
    cfkv_lister_free(&l);
    if (rc == CR_STORE_OK) {
        s->legacy = map;
        s->legacy_loaded = true;
    } else {
        json_decref(map);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int64_t legacy_version(cfkv *s, const char *key)
{
    pthread_mutex_lock(&s->mu);
    json_t *v = json_object_get(s->legacy, key);
    int64_t r = json_is_integer(v) ? json_integer_value(v) : 0;
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* ---- reading entries ------------------------------------------------------ */

/* Appends the entries the items hold (found ones) to `out`, decoded; the
 * schema-1 entries among them are read again in bulk for their values. */
static cr_store_rc collect(cfkv *s, item *it, size_t n, const char *what,
                           cr_entry_list *out, cr_store_err *err)
{
    item *again = NULL;
    size_t nagain = 0;
    cr_store_rc rc = CR_STORE_OK;
    for (int round = 0; round < 2 && rc == CR_STORE_OK; round++) {
        item *src = round ? again : it;
        size_t m = round ? nagain : n;
        for (size_t i = 0; rc == CR_STORE_OK && i < m; i++) {
            if (!src[i].found)
                continue;
            cr_entry *e = cr_entry_list_push(out);
            bool need = false;
            if (!e) {
                rc = cr_store_err_nomem(err);
                break;
            }
            rc = cfkv_decode(s, src[i].key, src[i].md, src[i].value,
                             src[i].vlen, e, &need, err);
            if (rc != CR_STORE_OK || need)
                out->len--;
            if (rc == CR_STORE_OK && need && round == 0) {
                if (!again && !(again = calloc(n, sizeof *again))) {
                    rc = cr_store_err_nomem(err);
                    break;
                }
                again[nagain++].key = src[i].key;
            } else if (rc == CR_STORE_OK && need) {
                rc = cfkv_fail(s, err, CR_STORE_IO, "Workers KV API at %s "
                               "answered a bulk read of tenant %s without its "
                               "value", s->api_url, src[i].key);
            }
        }
        if (rc == CR_STORE_OK && round == 0 && nagain) {
            char w[200];
            snprintf(w, sizeof w, "%s (values of %zu entries in the first "
                     "format)", what, nagain);
            rc = bulk_read(s, again, nagain, w, err);
        }
        if (!nagain)
            break;
    }
    /* The entries read again came last: back into tenant id order. */
    if (rc == CR_STORE_OK && nagain)
        cr_entry_list_sort(out);
    items_free(again, nagain);
    return rc;
}

static cr_store_rc cf_get(cr_store *base, const char *tenant_id,
                          cr_entry **out, cr_store_err *err)
{
    cfkv *s = (cfkv *)base;
    char what[600];
    cr_entry_list l = {0};
    item x = { .key = tenant_id };

    cr_store_err_clear(err);
    *out = NULL;
    const char *msg = cr_tenant_id_check(tenant_id);
    if (msg)
        return cr_store_err_set(err, CR_STORE_INVALID, "%s", msg);
    snprintf(what, sizeof what, "reading tenant %s", tenant_id);
    cr_store_rc rc = bulk_read(s, &x, 1, what, err);
    if (rc == CR_STORE_OK)
        rc = collect(s, &x, 1, what, &l, err);
    json_decref(x.md);
    free(x.value);
    if (rc == CR_STORE_OK && l.len == 1) {
        cr_entry *e = cr_entry_new();
        if (!e) {
            cr_entry_list_free(&l);
            return cr_store_err_nomem(err);
        }
        *e = l.items[0];
        l.len = 0;
        *out = e;
    }
    cr_entry_list_free(&l);
    return rc;
}

static cr_store_rc cf_get_many(cr_store *base, const char *const *ids,
                               size_t n, cr_entry_list *out,
                               cr_store_err *err)
{
    cfkv *s = (cfkv *)base;
    char what[120];
    unsigned long before = cr_pacer_total(s->pacer);
    item *it = calloc(n ? n : 1, sizeof *it);
    if (!it)
        return cr_store_err_nomem(err);
    for (size_t i = 0; i < n; i++)
        it[i].key = ids[i];
    size_t m = items_sort(it, n);
    snprintf(what, sizeof what, "reading %zu tenants", m);
    cr_store_rc rc = lookup(s, it, m, what, err);
    if (rc == CR_STORE_OK)
        rc = collect(s, it, m, what, out, err);
    items_free(it, m);
    if (rc != CR_STORE_OK)
        cr_entry_list_free(out);
    cr_log_debug(LOG, "workers kv: %s: %lu requests", what,
                 cr_pacer_total(s->pacer) - before);
    return rc;
}

/* What a listing collects: the entries of its pages, and the keys of
 * entries in the first format, whose values are read in bulk at the end. */
typedef struct listing {
    const char *prefix;
    cr_entry_list *out;
    item *old;
    size_t nold, capold;
} listing;

/* Takes the entries of one page of keys (tombstones and stray keys left
 * out, the first format's set aside in ls->old). */
static cr_store_rc list_take(cfkv *s, listing *ls, json_t *keys,
                             cr_store_err *err)
{
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        const char *key = json_string_value(json_object_get(k, "name"));
        char pb[CR_STORE_PRINTABLE];
        if (strncmp(key, ls->prefix, strlen(ls->prefix)) != 0)
            continue;           /* not asked for */
        cfkv_key_kind kind = cfkv_key_kind_of(s, key);
        if (kind == CFKV_KEY_TOMB || kind == CFKV_KEY_LEGACY_TOMB ||
            kind == CFKV_KEY_RESERVED)
            continue;           /* tombstones; cells (cfkv_cells.c) */
        if (kind == CFKV_KEY_STRAY) {
            cr_log_warn(LOG, "workers kv: skipping key \"%s\": an earlier "
                        "cellrouter wrote it percent-encoded into a "
                        "namespace that does not decode keys; the next "
                        "write of the tenant removes it",
                        cr_store_printable(key, pb));
            continue;
        }
        if (kind == CFKV_KEY_OTHER) {
            char where[160];
            snprintf(where, sizeof where, "Workers KV namespace %s",
                     s->namespace_id);
            return cr_store_err_damaged(err, where, key, "the key is not a "
                                        "tenant id");
        }
        cr_entry *e = cr_entry_list_push(ls->out);
        bool need = false;
        if (!e)
            return cr_store_err_nomem(err);
        cr_store_rc rc = cfkv_decode(s, key, json_object_get(k, "metadata"),
                                     NULL, 0, e, &need, err);
        if (rc != CR_STORE_OK || need)
            ls->out->len--;
        if (rc != CR_STORE_OK)
            return rc;
        if (!need)
            continue;
        if (ls->nold == ls->capold) {
            size_t cap = ls->capold ? ls->capold * 2 : 64;
            item *g = realloc(ls->old, cap * sizeof *g);
            if (!g)
                return cr_store_err_nomem(err);
            ls->old = g;
            ls->capold = cap;
        }
        memset(&ls->old[ls->nold], 0, sizeof *ls->old);
        if (!(ls->old[ls->nold].key = strdup(key)))
            return cr_store_err_nomem(err);
        ls->nold++;
    }
    return CR_STORE_OK;
}

/* Reads the entries set aside (rc OK), sorts the result, and releases the
 * listing; on failure ls->out is emptied. */
static cr_store_rc list_finish(cfkv *s, listing *ls, cr_store_rc rc,
                               cr_store_err *err)
{
    cr_entry_list *out = ls->out;
    if (rc == CR_STORE_OK && ls->nold) {
        cr_entry_list more = {0};
        rc = bulk_read(s, ls->old, ls->nold, "listing entries (values of "
                       "entries in the first format)", err);
        if (rc == CR_STORE_OK)
            rc = collect(s, ls->old, ls->nold, "listing entries", &more, err);
        for (size_t i = 0; rc == CR_STORE_OK && i < more.len; i++) {
            cr_entry *e = cr_entry_list_push(out);
            if (!e) {
                rc = cr_store_err_nomem(err);
                break;
            }
            *e = more.items[i];
            memset(&more.items[i], 0, sizeof more.items[i]);
        }
        cr_entry_list_free(&more);
    }
    for (size_t i = 0; i < ls->nold; i++)
        free((char *)ls->old[i].key);
    items_free(ls->old, ls->nold);
    if (rc == CR_STORE_OK) {
        const char *dup = cr_entry_list_sort(out);
        char pb[CR_STORE_PRINTABLE];
        if (dup)
            rc = cfkv_fail(s, err, CR_STORE_IO, "Workers KV API at %s listed "
                           "tenant \"%s\" twice", s->api_url,
                           cr_store_printable(dup, pb));
    }
    if (rc != CR_STORE_OK)
        cr_entry_list_free(out);
    return rc;
}

static cr_store_rc cf_list(cr_store *base, const char *prefix,
                           cr_entry_list *out, cr_store_err *err)
{
    cfkv *s = (cfkv *)base;
    unsigned long before = cr_pacer_total(s->pacer);
    cr_store_rc rc = CR_STORE_OK;
    json_t *keys;

    cr_store_err_clear(err);
    memset(out, 0, sizeof *out);
    listing ls = { .prefix = prefix ? prefix : "", .out = out };
    cfkv_lister l = { .prefix = ls.prefix };
    while (rc == CR_STORE_OK &&
           (rc = cfkv_list_next(s, &l, "listing entries", &keys, err)) ==
               CR_STORE_OK && keys)
        rc = list_take(s, &ls, keys, err);
    cfkv_lister_free(&l);
    rc = list_finish(s, &ls, rc, err);
    cr_log_debug(LOG, "workers kv: listing %zu entries: %lu requests",
                 out->len, cr_pacer_total(s->pacer) - before);
    return rc;
}

/* One page of the key listing (at most 1,000 keys, Cloudflare's page):
 * `max` is not needed to bound it. The cursor is Cloudflare's. */
static cr_store_rc cf_list_page(cr_store *base, const char *prefix,
                                const char *cursor, size_t max,
                                cr_entry_list *out, char **next,
                                cr_store_err *err)
{
    cfkv *s = (cfkv *)base;
    json_t *keys = NULL;

    (void)max;
    cr_store_err_clear(err);
    memset(out, 0, sizeof *out);
    *next = NULL;
    listing ls = { .prefix = prefix ? prefix : "", .out = out };
    cfkv_lister l = { .prefix = ls.prefix };
    if (cursor && *cursor && !(l.cursor = strdup(cursor)))
        return cr_store_err_nomem(err);
    cr_store_rc rc = cfkv_list_next(s, &l, "listing entries", &keys, err);
    if (rc == CR_STORE_OK && keys)
        rc = list_take(s, &ls, keys, err);
    if (rc == CR_STORE_OK && keys && !l.done) {
        *next = l.cursor;       /* the cursor of the page after */
        l.cursor = NULL;
    }
    cfkv_lister_free(&l);
    rc = list_finish(s, &ls, rc, err);
    if (rc != CR_STORE_OK) {
        free(*next);
        *next = NULL;
    }
    return rc;
}

/* ---- writing: the batch --------------------------------------------------- */

typedef struct opstate {
    const char *id;
    char *tomb;                 /* tombstone key (NULL: not needed) */
    char *legacy;               /* first-format tombstone key (NULL: none) */
    item *entry_it, *tomb_it, *legacy_it;
    int64_t cur;                /* entry's version (0: absent) */
    int64_t retired;            /* last version of a deleted entry */
    int64_t legacy_version;
    bool found, versionless;
    bool tomb_written;          /* a tombstone is in this batch's write */
} opstate;

static const char *op_id(const cr_batch_op *op)
{
    return op->kind == CR_BATCH_PUT ? op->entry->tenant_id : op->tenant_id;
}

static bool is_legacy_key(const char *k)
{
    return strncmp(k, CFKV_LEGACY_PREFIX, sizeof CFKV_LEGACY_PREFIX - 1) == 0;
}

/* Reads the versions (and tombstones) every operation needs. */
static cr_store_rc read_versions(cfkv *s, cr_batch_op *ops, opstate *st,
                                 size_t n, item **main_out, size_t *nmain,
                                 item **leg_out, size_t *nleg,
                                 const char *what, cr_store_err *err)
{
    item *main = calloc(2 * n + 1, sizeof *main), *leg = calloc(2 * n + 1,
                                                                sizeof *leg);
    size_t m = 0, l = 0;
    cr_store_rc rc = CR_STORE_OK;
    *main_out = main;
    *leg_out = leg;
    *nmain = *nleg = 0;
    if (!main || !leg)
        return cr_store_err_nomem(err);
    for (size_t i = 0; i < n; i++) {
        char k[CFKV_KEYBUF];
        st[i].id = op_id(&ops[i]);
        main[m++].key = st[i].id;
        /* A create (or an unconditional put that may create) continues
         * after the tombstone; a delete writes one. */
        if (ops[i].kind == CR_BATCH_PUT && ops[i].expect > 0)
            continue;
        cfkv_tomb_key(st[i].id, k);
        if (!(st[i].tomb = strdup(k)))
            return cr_store_err_nomem(err);
        if (is_legacy_key(k)) {
            leg[l++].key = st[i].tomb;
        } else {
            main[m++].key = st[i].tomb;
            cfkv_legacy_key(st[i].id, k);
            if (!(st[i].legacy = strdup(k)))
                return cr_store_err_nomem(err);
            leg[l++].key = st[i].legacy;
        }
    }
    m = items_sort(main, m);
    l = items_sort(leg, l);
    *nmain = m;
    *nleg = l;
    if (m + l <= CFKV_BULK_GET_MAX) {
        /* One bulk read answers everything. */
        item *all = calloc(m + l + 1, sizeof *all);
        if (!all)
            return cr_store_err_nomem(err);
        memcpy(all, main, m * sizeof *all);
        memcpy(all + m, leg, l * sizeof *all);
        rc = bulk_read(s, all, m + l, what, err);
        memcpy(main, all, m * sizeof *all);
        memcpy(leg, all + m, l * sizeof *all);
        free(all);
    } else {
        rc = lookup(s, main, m, what, err);
        if (rc == CR_STORE_OK && l > 0 &&
            (rc = legacy_load(s, err)) == CR_STORE_OK)
            for (size_t i = 0; i < l; i++) {
                int64_t v = legacy_version(s, leg[i].key);
                if (v > 0) {
                    leg[i].found = true;
                    leg[i].md = cfkv_tomb_metadata("", v);
                }
            }
    }
    for (size_t i = 0; rc == CR_STORE_OK && i < n; i++) {
        opstate *o = &st[i];
        o->entry_it = item_find(main, m, o->id);
        if (o->tomb)
            o->tomb_it = is_legacy_key(o->tomb) ? item_find(leg, l, o->tomb)
                                                : item_find(main, m, o->tomb);
        if (o->legacy)
            o->legacy_it = item_find(leg, l, o->legacy);
        o->found = o->entry_it && o->entry_it->found;
        o->cur = o->found ? cfkv_md_version(o->entry_it->md) : 0;
        o->versionless = o->found && o->cur == 0;
        int64_t t = o->tomb_it && o->tomb_it->found
                        ? cfkv_md_version(o->tomb_it->md) : 0;
        o->legacy_version = o->legacy_it && o->legacy_it->found
                                ? cfkv_md_version(o->legacy_it->md) : 0;
        o->retired = t > o->legacy_version ? t : o->legacy_version;
    }
    return rc;
}

static cr_store_rc cf_batch(cr_store *base, cr_batch_op *ops, size_t n,
                            cr_store_err *err)
{
    cfkv *s = (cfkv *)base;
    char what[200], buf[600], stamp[CR_STORE_TIME_LEN],
         pb[CR_STORE_PRINTABLE], stray[CFKV_KEYBUF];
    opstate *st = calloc(n ? n : 1, sizeof *st);
    item *main = NULL, *leg = NULL;
    size_t nmain = 0, nleg = 0;
    json_t *pairs = json_array(), *dels = json_array(),
           *extra = json_array(), *failed = json_object();
    unsigned long before = cr_pacer_total(s->pacer);
    cr_store_rc rc = CR_STORE_OK;

    if (!st || !pairs || !dels || !extra || !failed) {
        rc = cr_store_err_nomem(err);
        goto out;
    }
    if (n == 1)
        snprintf(what, sizeof what, "%s tenant %s",
                 ops[0].kind == CR_BATCH_PUT ? "writing" : "deleting",
                 cr_store_printable(op_id(&ops[0]), pb));
    else
        snprintf(what, sizeof what, "writing a batch of %zu entries", n);
    /* 0. What Workers KV cannot hold is refused before any request. */
    for (size_t i = 0; i < n; i++) {
        const char *msg;
        if (ops[i].kind == CR_BATCH_PUT &&
            (msg = cfkv_fits(ops[i].entry, buf, sizeof buf))) {
            ops[i].rc = CR_STORE_INVALID;
            rc = cr_store_err_set(err, CR_STORE_INVALID, "tenant %s: %s",
                                  cr_store_printable(op_id(&ops[i]), pb), msg);
            goto out;
        }
    }
    /* 1. Every version, then every condition, before anything is written. */
    if ((rc = read_versions(s, ops, st, n, &main, &nmain, &leg, &nleg, what,
                            err)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        cr_batch_op *op = &ops[i];
        opstate *o = &st[i];
        if (o->versionless && op->expect != CR_VERSION_ANY) {
            char where[160];
            op->rc = CR_STORE_INVALID;
            snprintf(where, sizeof where, "Workers KV namespace %s",
                     s->namespace_id);
            rc = cr_store_err_damaged(err, where, o->id, "its metadata has no "
                                      "cellrouter version");
            goto out;
        }
        if (op->kind == CR_BATCH_DELETE && !o->found) {
            op->rc = CR_STORE_NOT_FOUND;    /* gone already, as asked */
            op->applied = true;
        } else {
            cr_store_batch_condition(op, o->cur);
        }
    }
    if ((rc = cr_store_batch_refused(ops, n, err)) != CR_STORE_OK)
        goto out;

    /* 2. The pairs: entries, and the tombstones of deletes. */
    cr_store_now(stamp);
    for (size_t i = 0; i < n; i++) {
        cr_batch_op *op = &ops[i];
        opstate *o = &st[i];
        if (op->kind == CR_BATCH_PUT) {
            int64_t from = o->cur ? o->cur : o->retired;
            if (from == INT64_MAX) {
                op->rc = CR_STORE_INVALID;
                rc = cr_store_err_set(err, CR_STORE_INVALID, "tenant \"%s\" "
                                      "has exhausted its versions",
                                      cr_store_printable(o->id, pb));
                goto out;
            }
            cr_entry e = *op->entry;
            e.version = from + 1;
            e.updated_at = stamp;
            if (cfkv_add_pair(pairs, o->id, e.endpoint,
                              cfkv_entry_metadata(&e))) {
                rc = cr_store_err_nomem(err);
                goto out;
            }
            op->version = e.version;
            snprintf(op->updated_at, sizeof op->updated_at, "%s", stamp);
            continue;
        }
        /* A delete: the tombstone records the last version, and when the
         * entry read as absent, the version Terraform saw (the read may be
         * stale), so no version can repeat either way. */
        int64_t last = o->cur > op->expect ? o->cur : op->expect;
        if (last > o->retired) {
            if (cfkv_add_pair(pairs, o->tomb, CFKV_TOMB_VALUE,
                         cfkv_tomb_metadata(o->id, last))) {
                rc = cr_store_err_nomem(err);
                goto out;
            }
            o->tomb_written = true;
        }
    }
    size_t ndel = 0;
    for (size_t i = 0; i < n; i++)
        ndel += ops[i].kind == CR_BATCH_DELETE &&
                (st[i].found || ops[i].expect > 0);
    size_t need = (json_array_size(pairs) + CFKV_BULK_WRITE_MAX - 1) /
                      CFKV_BULK_WRITE_MAX +
                  (ndel + CFKV_BULK_WRITE_MAX - 1) / CFKV_BULK_WRITE_MAX;
    if ((rc = cfkv_can_fit(s, need, what, err)))
        goto out;

    /* 3. One bulk write (entries and tombstones). When it fails, what went
     * in before the failure stays reported as applied. */
    cr_store_rc wrc = CR_STORE_OK;
    if (json_array_size(pairs) > 0)
        wrc = cfkv_bulk_write(s, pairs, what, failed, err);
    for (size_t i = 0; i < n; i++) {
        if (ops[i].kind == CR_BATCH_PUT) {
            ops[i].applied = !json_object_get(failed, st[i].id);
            if (ops[i].applied && s->url_decoding == 0 &&
                cfkv_stray_key(st[i].id, stray))
                json_array_append_new(extra, json_string(stray));
        }
    }

    /* 4. One bulk delete of the deleted keys whose tombstone is in (and of
     * first-format tombstones the new ones replace, and of keys an earlier
     * version left percent-encoded). */
    for (size_t i = 0; i < n; i++) {
        cr_batch_op *op = &ops[i];
        opstate *o = &st[i];
        if (op->kind != CR_BATCH_DELETE || (!o->found && op->expect <= 0))
            continue;
        if (wrc != CR_STORE_OK ||
            (o->tomb_written && json_object_get(failed, o->tomb))) {
            json_object_set(failed, o->id, json_true());
            continue;
        }
        if (json_array_append_new(dels, json_string(o->id))) {
            rc = cr_store_err_nomem(err);
            goto out;
        }
        if (o->tomb_written && o->legacy && o->legacy_version > 0)
            json_array_append_new(extra, json_string(o->legacy));
        if (s->url_decoding == 0 && cfkv_stray_key(o->id, stray))
            json_array_append_new(extra, json_string(stray));
    }
    size_t nextra = json_array_size(extra);
    for (size_t i = 0; i < nextra; i++)
        json_array_append(dels, json_array_get(extra, i));
    if (wrc == CR_STORE_OK && json_array_size(dels) > 0)
        wrc = cfkv_bulk_delete(s, dels, what, failed, err);

    /* 5. What went in. */
    size_t nfail = 0;
    const char *first = NULL;
    for (size_t i = 0; i < n; i++) {
        cr_batch_op *op = &ops[i];
        if (!json_object_get(failed, st[i].id)) {
            op->applied = true;
            continue;
        }
        op->applied = false;
        op->rc = CR_STORE_IO;
        op->version = 0;
        op->updated_at[0] = '\0';
        if (!nfail++)
            first = st[i].id;
    }
    if (wrc != CR_STORE_OK)
        rc = wrc;                       /* err says why */
    else if (nfail)
        rc = cfkv_fail(s, err, CR_STORE_IO, "Workers KV could not write %zu "
                       "of %zu keys of a bulk request (first: tenant %s); "
                       "the others were written. Run again to retry them.",
                       nfail, n, cr_store_printable(first, pb));
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
        if (st) {
            free(st[i].tomb);
            free(st[i].legacy);
        }
    }
    items_free(main, nmain);
    items_free(leg, nleg);
    free(st);
    json_decref(pairs);
    json_decref(dels);
    json_decref(extra);
    json_decref(failed);
    cr_log_debug(LOG, "workers kv: %s: %s, %lu requests", what,
                 cr_store_rc_name(rc), cr_pacer_total(s->pacer) - before);
    return rc;
}

/* ---- single writes: a batch of one ---------------------------------------- */

static cr_store_rc cf_put(cr_store *base, const cr_entry *in, int64_t expect,
                          cr_entry **written, cr_store_err *err)
{
    cr_batch_op op = { .kind = CR_BATCH_PUT, .entry = in, .expect = expect };
    const char *field = NULL, *msg;
    cr_store_err_clear(err);
    if (written)
        *written = NULL;
    if (!in)
        return cr_store_err_set(err, CR_STORE_INVALID, "no entry to write");
    if ((msg = cr_entry_check(in, &field)))
        return cr_store_err_set(err, CR_STORE_INVALID, "%s: %s",
                                field ? field : "entry", msg);
    cr_store_rc rc = cr_store_check_expect(expect, false, err);
    if (rc != CR_STORE_OK)
        return rc;
    op.tenant_id = in->tenant_id;
    rc = cf_batch(base, &op, 1, err);
    if (rc == CR_STORE_EXISTS)
        return cr_store_err_exists(err, in->tenant_id, op.actual_version);
    if (rc == CR_STORE_CONFLICT)
        return cr_store_err_changed(err, in->tenant_id, expect,
                                    op.actual_version);
    if (rc != CR_STORE_OK || !written)
        return rc;
    cr_entry *w = cr_entry_new();
    if (!w || cr_entry_copy(w, in) != 0) {
        free(w);
        return cr_store_err_nomem(err);
    }
    free(w->updated_at);
    w->version = op.version;
    if (!(w->updated_at = strdup(op.updated_at))) {
        cr_entry_free(w);
        return cr_store_err_nomem(err);
    }
    *written = w;
    return CR_STORE_OK;
}

static cr_store_rc cf_del(cr_store *base, const char *tenant_id,
                          int64_t expect, cr_store_err *err)
{
    cr_batch_op op = { .kind = CR_BATCH_DELETE, .tenant_id = tenant_id,
                       .expect = expect };
    cr_store_err_clear(err);
    const char *msg = cr_tenant_id_check(tenant_id);
    if (msg)
        return cr_store_err_set(err, CR_STORE_INVALID, "%s", msg);
    cr_store_rc rc = cr_store_check_expect(expect, true, err);
    if (rc != CR_STORE_OK)
        return rc;
    rc = cf_batch(base, &op, 1, err);
    if (rc == CR_STORE_CONFLICT)
        return cr_store_err_changed(err, tenant_id, expect,
                                    op.actual_version);
    if (rc == CR_STORE_OK && op.rc == CR_STORE_NOT_FOUND)
        return cr_store_err_no_entry(err, tenant_id);
    return rc;
}

static const char *cf_fits(cr_store *base, const cr_entry *e, char *buf,
                           size_t cap)
{
    (void)base;
    return cfkv_fits(e, buf, cap);
}

/* ---- opening and closing -------------------------------------------------- */

static void cf_close(cr_store *base)
{
    cfkv *s = (cfkv *)base;
    if (!s)
        return;
    cr_http_pool_free(s->http);
    cr_pacer_free(s->pacer);
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
    json_decref(s->legacy);
    pthread_mutex_destroy(&s->mu);
    cfkv_cells_free(s);
    free(s);
}

static const cr_store_ops CF_OPS = {
    .name = "cloudflare_kv",
    .get = cf_get,
    .put = cf_put,
    .del = cf_del,
    .list = cf_list,
    .list_page = cf_list_page,
    .close = cf_close,
    .fits = cf_fits,
    .batch = cf_batch,
    .get_many = cf_get_many,
    .batch_max = CR_CFKV_BATCH_MAX,
    .cells = &cfkv_cell_ops,
};

unsigned long cr_store_cfkv_requests(const cr_store *s)
{
    return s && s->ops == &CF_OPS ? cr_pacer_total(((const cfkv *)s)->pacer)
                                  : 0;
}

/* Progress goes to the log (WARN: Terraform shows it with TF_LOG=WARN) and
 * to the caller's callback. */
static void report(void *ctx, const char *msg)
{
    cfkv *s = ctx;
    cr_log_warn(LOG, "workers kv: %s", msg);
    if (s->progress)
        s->progress(s->progress_ctx, msg);
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
    if (cfg->request_budget < 0 || cfg->request_budget > CFKV_API_LIMIT)
        return cr_store_err_set(err, CR_STORE_INVALID, "cloudflare_kv: the "
                                "request budget must be 1 to %d requests per "
                                "5 minutes (Cloudflare's limit)",
                                CFKV_API_LIMIT);

    cfkv *s = calloc(1, sizeof *s);
    if (!s)
        return cr_store_err_nomem(err);
    pthread_mutex_init(&s->mu, NULL);
    cfkv_cells_init(s);
    s->base.ops = &CF_OPS;
    s->url_decoding = -1;
    s->retry_budget_ms = cfg->retry_budget_ms ? cfg->retry_budget_ms
                                              : CR_CFKV_RETRY_DEFAULT_MS;
    s->progress = cfg->progress;
    s->progress_ctx = cfg->progress_ctx;
    s->stop = cfg->stop;
    size_t alen = strlen(api);
    while (alen > 0 && api[alen - 1] == '/')
        alen--;
    s->api_url = strndup(api, alen);
    s->account_id = strdup(cfg->account_id);
    s->namespace_id = strdup(cfg->namespace_id);
    s->token = strdup(cfg->api_token);
    s->http = cr_http_pool_new();
    s->pacer = cr_pacer_new(cfg->request_budget ? cfg->request_budget
                                                : CR_CFKV_REQUEST_BUDGET,
                            CFKV_API_WINDOW_MS, "Cloudflare allows 1,200 API "
                            "requests per 5 minutes per user");
    size_t n = alen + strlen(cfg->account_id) + strlen(cfg->namespace_id) + 64;
    s->ns_url = malloc(n);
    if (!s->api_url || !s->account_id || !s->namespace_id || !s->token ||
        !s->http || !s->pacer || !s->ns_url) {
        cf_close(&s->base);
        return cr_store_err_nomem(err);
    }
    cr_pacer_set_progress(s->pacer, report, s, cfg->stop);
    snprintf(s->ns_url, n, "%s/accounts/%s/storage/kv/namespaces/%s",
             s->api_url, s->account_id, s->namespace_id);
    /* The namespace is read once, so a wrong token, account or namespace
     * is reported when the provider is configured, not in the middle of an
     * apply, and so that a 404 later can only mean a missing key. */
    if (!cfg->skip_probe) {
        cr_store_rc rc = cfkv_read_namespace(s, err);
        if (rc != CR_STORE_OK) {
            cr_log_warn(LOG, "cannot use Workers KV namespace %s: %s",
                        s->namespace_id, err ? err->msg : "");
            cf_close(&s->base);
            return rc;
        }
    }
    cr_log_debug(LOG, "using Workers KV namespace %s of account %s at %s "
                 "(supports_url_encoding: %s)", s->namespace_id,
                 s->account_id, s->api_url,
                 s->url_decoding < 0 ? "not read"
                 : s->url_decoding ? "true" : "false");
    *out = &s->base;
    return CR_STORE_OK;
}
