/*
 * store/cfkv.h — the parts of the Cloudflare Workers KV backend, shared by
 * its three files and by nothing else:
 *
 *   cfkv_api.c       the v4 REST API: one request paced, retried and its
 *                    failure put in words (auth errors precisely); the
 *                    endpoints the backend uses, all of them bulk or
 *                    listing endpoints whose keys travel in JSON bodies
 *   cfkv_entry.c     what a KV pair means: entry <-> metadata (schema 2,
 *                    and reading schema 1), tombstones, the metadata size
 *                    as Cloudflare measures it
 *   cloudflare_kv.c  the store operations, and how each finds what the
 *                    namespace holds for fewest requests
 *   cfkv_cells.c     the cells (store.h, "cells"): definitions, the one
 *                    serving-state document, their operations
 */
#ifndef CR_STORE_CFKV_H
#define CR_STORE_CFKV_H

#include "store/backend.h"
#include "store/http.h"
#include "store/pacer.h"
#include "store/store.h"

#include <jansson.h>
#include <pthread.h>

/* ---- limits Cloudflare publishes ------------------------------------------ */

/* developers.cloudflare.com/fundamentals/api/reference/limits/: 1,200
 * requests per 5 minutes per user/token; past it every call gets 429 for
 * the next 5 minutes, with retry-after. */
#define CFKV_API_LIMIT        1200
#define CFKV_API_WINDOW_MS    (300L * 1000)
#define CFKV_LOCKOUT_MS       (300L * 1000)
/* API reference, kv/namespaces/keys list: limit 10..1000. */
#define CFKV_LIST_LIMIT       1000
/* API reference, bulk get: "Array of keys to retrieve (maximum of 100)". */
#define CFKV_BULK_GET_MAX     100
/* API reference, bulk update and bulk delete: up to 10,000 pairs or keys;
 * "The entire request size must be 100 megabytes or less". */
#define CFKV_BULK_WRITE_MAX   10000
#define CFKV_BULK_BODY_MAX    (100u * 1000 * 1000)
/* KV limits (developers.cloudflare.com/kv/platform/limits/): key 512 bytes. */
#define CFKV_KEY_MAX          512

/* ---- the store ------------------------------------------------------------ */

typedef struct cfkv {
    cr_store base;                  /* first: a cr_store* is a cfkv* */
    cr_http_pool *http;
    cr_pacer *pacer;
    char *api_url;
    char *account_id;
    char *namespace_id;
    char *ns_url;                   /* .../accounts/A/storage/kv/namespaces/N */
    char *token;                    /* secret */
    long retry_budget_ms;
    /* The namespace's supports_url_encoding: 1, 0, or -1 (not read). */
    int url_decoding;
    cr_store_progress_fn progress;
    void *progress_ctx;
    const volatile int *stop;
    volatile int read_ok;           /* a read succeeded with this token */
    /* Tombstones of the first format (CFKV_LEGACY_PREFIX + SHA-256),
     * listed once: this version never writes new ones. */
    pthread_mutex_t mu;
    bool legacy_loaded;
    json_t *legacy;                 /* key -> version */
    /* The cells as last read (cfkv_cells.c): reads of cells within a few
     * seconds share one listing and one document read; every cell write
     * through this handle drops them. */
    pthread_mutex_t cells_mu;
    json_t *cells_defs;             /* key -> metadata; NULL: not read */
    json_t *cells_doc;              /* the document; NULL: damaged */
    cr_store_err cells_doc_err;     /* why, when damaged */
    long cells_read_at;             /* cr_pacer_now() */
} cfkv;

/* ---- cfkv_api.c ----------------------------------------------------------- */

typedef enum cfkv_access { CFKV_READ, CFKV_WRITE } cfkv_access;

/* Fills *err with a message scrubbed of the API token. */
cr_store_rc cfkv_fail(cfkv *s, cr_store_err *err, cr_store_rc rc,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One API call, `what` naming it for messages ("listing keys"): paced,
 * retried on 429 (as long as Cloudflare asks, up to its 5-minute lockout
 * plus the retry budget), on 5xx and network errors (within the retry
 * budget). Auth failures become CR_STORE_AUTH with what to check. Any
 * other HTTP answer comes back in *r with OK (clear it). `json` is the
 * request body (NULL: none). */
cr_store_rc cfkv_request(cfkv *s, const char *what, const char *method,
                         const char *url, const char *json, cfkv_access acc,
                         cr_http_resp *r, cr_store_err *err);
/* A 2xx answer's envelope {"success":true,"result":...}: *root owns it. */
cr_store_rc cfkv_envelope(cfkv *s, const char *what, cr_http_resp *r,
                          json_t **root, json_t **result, cr_store_err *err);
/* An answer this client did not expect, in words. */
cr_store_rc cfkv_unexpected(cfkv *s, const char *what, cr_http_resp *r,
                            cr_store_err *err);

/* GET the namespace: checks that it exists and reads supports_url_encoding. */
cr_store_rc cfkv_read_namespace(cfkv *s, cr_store_err *err);
/* A key listing (GET .../keys), page by page:
 *
 *   cfkv_lister l = { .prefix = "t" };
 *   json_t *keys;
 *   while ((rc = cfkv_list_next(s, &l, what, &keys, err)) == CR_STORE_OK &&
 *          keys) ... each {name, metadata?, expiration?} of the page ...
 *   cfkv_lister_free(&l);
 *
 * keys is NULL after the last page; it belongs to the lister until the
 * next call. A server that repeats a cursor or never ends is an error. */
typedef struct cfkv_lister {
    const char *prefix;         /* borrowed; NULL or "": every key */
    char *cursor;               /* next page's cursor (NULL: the first) */
    json_t *page;
    int pages;                  /* pages read */
    bool done;
} cfkv_lister;
cr_store_rc cfkv_list_next(cfkv *s, cfkv_lister *l, const char *what,
                           json_t **keys, cr_store_err *err);
void cfkv_lister_free(cfkv_lister *l);
/* POST .../bulk/get of at most CFKV_BULK_GET_MAX keys, with metadata:
 * *values maps every key asked for to null (absent) or {value, metadata}. */
cr_store_rc cfkv_bulk_get(cfkv *s, const char *const *keys, size_t n,
                          const char *what, json_t **values,
                          cr_store_err *err);
/* PUT .../bulk with `pairs` (an array of {key, value, metadata}), split into
 * requests within the API's limits; keys Cloudflare reports in
 * unsuccessful_keys go into `failed` (an object used as a set), and when a
 * request fails, every key not known to be written. */
cr_store_rc cfkv_bulk_write(cfkv *s, json_t *pairs, const char *what,
                            json_t *failed, cr_store_err *err);
/* Appends {key, value, metadata: md} to `pairs`, taking md (NULL: a failed
 * allocation, reported). 0, or non-zero on ENOMEM. */
int cfkv_add_pair(json_t *pairs, const char *key, const char *value,
                  json_t *md);
/* POST .../bulk/delete with `keys` (an array of strings), split likewise. */
cr_store_rc cfkv_bulk_delete(cfkv *s, json_t *keys, const char *what,
                             json_t *failed, cr_store_err *err);
/* Whether `need` more requests fit one window of the budget; otherwise an
 * error naming the count ("... needs N requests ..."). */
cr_store_rc cfkv_can_fit(cfkv *s, size_t need, const char *what,
                         cr_store_err *err);

/* ---- cfkv_entry.c --------------------------------------------------------- */

/* Schema 2: the metadata holds the whole entry (endpoint too), so a key
 * listing answers a refresh. Schema 1 (the first format) left the endpoint
 * to the value; it is read, and rewritten as 2 by the next write. */
#define CFKV_SCHEMA           2
/* A tenant's tombstone sits right after it in key order ('~' sorts after
 * every character a tenant id may hold and is none of them), so that the
 * listing that finds a tenant finds its tombstone. Ids longer than
 * CFKV_KEY_MAX - strlen(suffix) keep the first format's key. */
#define CFKV_TOMB_SUFFIX      "~retired"
#define CFKV_TOMB_VALUE       "retired"
#define CFKV_LEGACY_PREFIX    "_cellrouter-retired."
#define CFKV_KEYBUF           (CFKV_KEY_MAX + 1)
/* The share of the 1,024 bytes of metadata an entry may use, as Cloudflare
 * measures it (see cfkv_entry.c for why 64 bytes are kept free). */
#define CFKV_METADATA_MARGIN  64

typedef enum cfkv_key_kind {
    CFKV_KEY_TENANT,        /* a valid tenant id */
    CFKV_KEY_TOMB,          /* <id>~retired */
    CFKV_KEY_LEGACY_TOMB,   /* _cellrouter-retired.<sha256> */
    CFKV_KEY_STRAY,         /* an id written percent-encoded (see there) */
    CFKV_KEY_RESERVED,      /* CFKV_RESERVED_PREFIX...: cells, never tenants */
    CFKV_KEY_OTHER
} cfkv_key_kind;

cfkv_key_kind cfkv_key_kind_of(const cfkv *s, const char *key);
/* The key of a tenant's tombstone, and of its first-format tombstone. */
void cfkv_tomb_key(const char *tenant_id, char out[CFKV_KEYBUF]);
void cfkv_legacy_key(const char *tenant_id, char out[CFKV_KEYBUF]);
/* The key a version before this one stored a tenant id under when it wrote
 * it on the URL of a namespace that does not decode URLs (':' and '@'
 * percent-encoded); false when the id needs no encoding. */
bool cfkv_stray_key(const char *tenant_id, char out[CFKV_KEYBUF]);

/* Keys starting with this are cellrouter's own (cells), never tenants: a
 * tenant id starts with a letter or a digit. Every tenant listing skips
 * them. */
#define CFKV_RESERVED_PREFIX  "_cellrouter."

/* The metadata's size as cfkv_fits counts it: the UTF-8 length of its
 * JSON text with '<', '>', '&', U+2028 and U+2029 at their escaped length
 * (*plain: without that; SIZE_MAX both on ENOMEM). */
size_t cfkv_md_measure(json_t *md, size_t *plain);

/* NULL when metadata `md` (made with the widest version and time the store
 * could give) fits, else a message in buf: "The <what>'s metadata would
 * take ... holds <holds> as JSON. <advice>." */
const char *cfkv_md_fits(json_t *md, const char *what, const char *holds,
                         const char *advice, char *buf, size_t cap);

/* New JSON metadata for an entry (schema 2) and for a tombstone. */
json_t *cfkv_entry_metadata(const cr_entry *e);
json_t *cfkv_tomb_metadata(const char *tenant_id, int64_t version);
/* The version a pair's metadata records (entry or tombstone); 0: none. */
int64_t cfkv_md_version(json_t *md);
/* NULL when the entry's metadata fits (with the widest version and time
 * the store could give it), else a message in buf. */
const char *cfkv_fits(const cr_entry *e, char *buf, size_t cap);
/* The metadata's size as Cloudflare measures it: the UTF-8 length of its
 * JSON text (JSON.stringify in Cloudflare's runtime). */
size_t cfkv_metadata_size(json_t *md);

/* Metadata field k as a new string: NULL when fine (*out NULL when absent
 * or null and `optional`), else what is wrong ("is not a string"). */
const char *cfkv_md_str(json_t *md, const char *k, bool optional, char **out);

/* Decodes a pair into *e (zeroed here). `value` is NULL when only the
 * metadata is at hand (a listing): a schema-1 entry then needs its value,
 * which *need_value says (OK returned, *e empty). A schema-2 entry whose
 * value is at hand must agree with its metadata. INVALID names the tenant
 * and the field. */
cr_store_rc cfkv_decode(cfkv *s, const char *key, json_t *md,
                        const char *value, size_t vlen, cr_entry *e,
                        bool *need_value, cr_store_err *err);

/* ---- cfkv_cells.c ---------------------------------------------------------- */

extern const cr_store_cell_ops cfkv_cell_ops;
/* Opening and closing a store: the cells' lock and what they cache. */
void cfkv_cells_init(cfkv *s);
void cfkv_cells_free(cfkv *s);
/* For the fuzz target (tests/fuzz/fuzz_doc.c) and tests: what a read of
 * cells makes of Cloudflare's answers, without a request. Parses the
 * serving-state document `doc` (NULL: the key is absent) and decodes each
 * of its records; then, when `md` is not NULL, decodes the definition of
 * `key` (CFKV_RESERVED_PREFIX "cell.<id>") from its metadata md and value
 * (NULL: from a listing) into *c, with its record (c may be NULL when md
 * is). OK, or the error a read would report (*c empty). */
cr_store_rc cfkv_cells_decode(cfkv *s, const char *doc, size_t doclen,
                              const char *key, json_t *md, const char *value,
                              size_t vlen, cr_cell *c, cr_store_err *err);

#endif
