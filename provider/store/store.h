/*
 * store/store.h — the routing map, behind one small interface.
 *
 * The routing map is a set of entries, one per tenant: which cell serves it,
 * at which endpoint, and where it fails over to. Every backend (the embedded
 * SQLite file, Cloudflare Workers KV, ...) implements the same four
 * operations. Writes are conditional on the entry's version so that a
 * concurrent out-of-band write is reported as a conflict, never overwritten,
 * and every write is atomic: a killed process never leaves a torn entry.
 *
 * Ownership: entries returned by a store are owned by the caller
 * (cr_entry_free, cr_entry_list_free). Inputs are borrowed.
 */
#ifndef CR_STORE_H
#define CR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cr_label {
    char *key;
    char *value;
} cr_label;

typedef struct cr_entry {
    char *tenant_id;
    char *cell_id;
    char *endpoint;
    char *standby_cell_id;      /* NULL when none */
    char *standby_endpoint;     /* NULL when none */
    size_t nlabels;
    cr_label *labels;           /* sorted by key, keys unique */
    bool has_labels;            /* false: labels are null, not an empty map */
    int64_t version;            /* >= 1; set by the store on every write */
    char *updated_at;           /* RFC 3339 UTC, set by the store on write */
} cr_entry;

typedef struct cr_entry_list {
    size_t len, cap;
    cr_entry *items;            /* sorted by tenant_id */
} cr_entry_list;

cr_entry *cr_entry_new(void);
int  cr_entry_copy(cr_entry *dst, const cr_entry *src);  /* dst uninitialised */
void cr_entry_clear(cr_entry *e);                        /* frees the fields */
void cr_entry_free(cr_entry *e);                         /* clear + free */
int  cr_entry_set_label(cr_entry *e, const char *key, const char *value);
void cr_entry_list_free(cr_entry_list *l);

/* Result codes of every store operation. */
typedef enum cr_store_rc {
    CR_STORE_OK = 0,
    CR_STORE_NOT_FOUND,     /* no such entry */
    CR_STORE_EXISTS,        /* create over an entry that exists */
    CR_STORE_CONFLICT,      /* the entry's version is not the expected one */
    CR_STORE_INVALID,       /* bad argument or bad data in the store */
    CR_STORE_IO,            /* the backend failed: file, network, API */
    CR_STORE_AUTH,          /* credentials refused (401/403) */
    CR_STORE_NOMEM,
    CR_STORE_IN_USE         /* a cell that tenants still name (cells) */
} cr_store_rc;

/* What went wrong, in words fit for a Terraform diagnostic detail. Fixed
 * size so that reporting an error never allocates. Never holds secrets. */
typedef struct cr_store_err {
    cr_store_rc rc;
    int64_t actual_version; /* CONFLICT/EXISTS: what the store holds (0: none) */
    char msg[512];
} cr_store_err;

const char *cr_store_rc_name(cr_store_rc rc);

/* Special expected versions for put and delete. */
#define CR_VERSION_ANY     (-1)  /* unconditional (operator writes) */
#define CR_VERSION_ABSENT  0     /* put: the entry must not exist */

typedef struct cr_store cr_store;
typedef struct cr_store_cell_ops cr_store_cell_ops;    /* cells, below */

/* ---- batches ------------------------------------------------------------
 *
 * A batch is a list of puts and deletes, each conditional on a version as
 * for put and del, written all-or-nothing: either every operation is
 * applied, or none is. That is what lets a resource owning thousands of
 * entries (cellrouter_tenants) write them in a few transactions and still
 * know exactly what was written when something fails.
 *
 * Per-operation outcomes are filled in by the store:
 *   applied          true once the operation is in the map (durably);
 *   rc               OK, or why this operation was refused: EXISTS,
 *                    CONFLICT (actual_version as for put/del; 0 = the entry
 *                    was deleted), NOT_FOUND (delete of an absent entry),
 *                    INVALID (entry fails cr_entry_check, bad expect,
 *                    tenant twice in one batch);
 *   version, updated_at  what a PUT wrote.
 * A delete of an entry that is already absent is not a failure: it is
 * reported as NOT_FOUND with applied = true (the entry is gone, as asked),
 * whatever `expect` was.
 * The call returns OK when every operation was applied; CONFLICT, EXISTS
 * or INVALID when any operation was refused (every refused operation is
 * marked, not only the first, and nothing was applied); IO, AUTH or NOMEM
 * when the backend failed (err says how; with a backend that has no batch
 * operation, `applied` tells which operations were written before the
 * failure). */
typedef enum cr_batch_kind {
    CR_BATCH_PUT = 1,
    CR_BATCH_DELETE = 2
} cr_batch_kind;

typedef struct cr_batch_op {
    cr_batch_kind kind;
    const cr_entry *entry;      /* PUT: borrowed (version ignored) */
    const char *tenant_id;      /* DELETE: borrowed (PUT: entry's) */
    int64_t expect;             /* as for put and del */
    /* outcome */
    bool applied;
    cr_store_rc rc;
    int64_t actual_version;
    int64_t version;            /* PUT: the version written */
    char updated_at[40];        /* PUT: the time written */
} cr_batch_op;

/* The most operations a backend is asked to write in one batch unless it
 * says otherwise (cr_store_batch_max): one SQLite transaction each. Callers
 * split larger change sets by cr_store_batch_max(s). */
#define CR_STORE_BATCH_MAX 1000

typedef struct cr_store_ops {
    const char *name;       /* "sqlite", "cloudflare_kv" */
    /* *out is NULL (and rc OK) when the tenant has no entry. */
    cr_store_rc (*get)(cr_store *s, const char *tenant_id, cr_entry **out,
                       cr_store_err *err);
    /* Writes `in` (its version and updated_at are ignored) if the current
     * version equals `expect` (CR_VERSION_ABSENT: must not exist,
     * CR_VERSION_ANY: whatever it is). The store assigns version = old + 1
     * (1 on create) and updated_at = now; *written (if non-NULL) receives
     * the entry as stored.
     * Outcomes: EXISTS (expect ABSENT, entry present; err->actual_version
     * = its version); CONFLICT (expect N >= 1 and the entry is at another
     * version, err->actual_version = it, or was deleted, actual_version =
     * 0); INVALID (entry fails cr_entry_check, or expect < -1). put never
     * returns NOT_FOUND.
     * Versions never repeat for a tenant: an entry re-created after a
     * delete continues after the deleted entry's last version (its first
     * version is 1 only if the tenant never had an entry), so a writer
     * holding a version of the old entry gets CONFLICT, never overwrites. */
    cr_store_rc (*put)(cr_store *s, const cr_entry *in, int64_t expect,
                       cr_entry **written, cr_store_err *err);
    /* Deletes if the current version equals `expect` (or CR_VERSION_ANY).
     * NOT_FOUND when there is nothing to delete (whatever `expect` was);
     * CONFLICT with err->actual_version when the version differs; INVALID
     * for expect 0 (ABSENT) or < -1. */
    cr_store_rc (*del)(cr_store *s, const char *tenant_id, int64_t expect,
                       cr_store_err *err);
    /* Every entry whose tenant id starts with `prefix` ("" or NULL = all),
     * sorted by tenant id (byte order). A stored entry that is invalid
     * makes the whole call INVALID, naming the tenant; *out is then empty.
     * get does the same for its one entry. */
    cr_store_rc (*list)(cr_store *s, const char *prefix, cr_entry_list *out,
                        cr_store_err *err);
    void (*close)(cr_store *s);
    /* Optional (NULL: cr_store_list_page answers the whole list at once):
     * `list` one page at a time, for listings too large to hold (a
     * `terraform query` over 100,000 tenants); see cr_store_list_page. */
    cr_store_rc (*list_page)(cr_store *s, const char *prefix,
                             const char *cursor, size_t max,
                             cr_entry_list *out, char **next,
                             cr_store_err *err);
    /* Optional (NULL: every entry that passes cr_entry_check fits).
     * Limits of the backend itself, such as Workers KV's 1024 bytes of
     * metadata: NULL when `e` fits, else a message in `buf` naming the
     * limit and the size. Lets plan-time validation refuse what put would
     * refuse with CR_STORE_INVALID. */
    const char *(*fits)(cr_store *s, const cr_entry *e, char *buf,
                        size_t bufsz);
    /* Optional batch operations (NULL: cr_store_batch falls back to one
     * put/del per operation; see there). */
    cr_store_rc (*batch)(cr_store *s, cr_batch_op *ops, size_t n,
                         cr_store_err *err);
    cr_store_rc (*get_many)(cr_store *s, const char *const *tenant_ids,
                            size_t n, cr_entry_list *out, cr_store_err *err);
    /* Optional: the most operations one batch call takes (0:
     * CR_STORE_BATCH_MAX). Workers KV takes 10,000, its bulk write limit,
     * so that a fleet costs a tenth of the requests. */
    size_t batch_max;
    /* The cells of the map (see "cells" below); NULL: the backend keeps
     * none, and every cell call is INVALID. */
    const cr_store_cell_ops *cells;
} cr_store_ops;

/* Every backend embeds this as its first member. */
struct cr_store {
    const cr_store_ops *ops;
};

static inline cr_store_rc cr_store_get(cr_store *s, const char *id,
                                       cr_entry **out, cr_store_err *err)
{ return s->ops->get(s, id, out, err); }
static inline cr_store_rc cr_store_put(cr_store *s, const cr_entry *in,
                                       int64_t expect, cr_entry **written,
                                       cr_store_err *err)
{ return s->ops->put(s, in, expect, written, err); }
static inline cr_store_rc cr_store_delete(cr_store *s, const char *id,
                                          int64_t expect, cr_store_err *err)
{ return s->ops->del(s, id, expect, err); }
static inline cr_store_rc cr_store_list(cr_store *s, const char *prefix,
                                        cr_entry_list *out, cr_store_err *err)
{ return s->ops->list(s, prefix, out, err); }
static inline void cr_store_close(cr_store *s) { if (s) s->ops->close(s); }
static inline size_t cr_store_batch_max(const cr_store *s)
{ return s && s->ops->batch_max ? s->ops->batch_max : CR_STORE_BATCH_MAX; }
static inline const char *cr_store_entry_fits(cr_store *s, const cr_entry *e,
                                              char *buf, size_t bufsz)
{ return s && s->ops->fits ? s->ops->fits(s, e, buf, bufsz) : NULL; }

/* Applies `ops` (at most cr_store_batch_max(s)) all-or-nothing when the
 * backend has a batch operation; otherwise checks every expected version
 * first (refusing the batch as the backend would) and then writes one
 * operation at a time, so only a concurrent writer or a backend failure
 * can leave it half-applied, which `applied` then shows. */
cr_store_rc cr_store_batch(cr_store *s, cr_batch_op *ops, size_t n,
                           cr_store_err *err);

/* One page of cr_store_list: entries whose tenant id starts with `prefix`
 * ("" or NULL: all), in tenant id order, at most `max` of them, from where
 * `cursor` says (NULL or "": the start). *next receives the cursor of the
 * following page (malloc'd; the caller frees it), NULL after the last one.
 * A page may be empty and still have a next one. Pages read at different
 * times: an entry written meanwhile is seen as it is when its page is read.
 * The cursor is the backend's own text (SQLite: the last tenant id of the
 * page, for keyset pagination on the primary key; Workers KV: the API's
 * listing cursor). An invalid stored entry in the page makes it INVALID,
 * as for list. A backend without paging answers everything in one page. */
cr_store_rc cr_store_list_page(cr_store *s, const char *prefix,
                               const char *cursor, size_t max,
                               cr_entry_list *out, char **next,
                               cr_store_err *err);

/* The entries of the given tenants (those that exist), sorted by tenant id,
 * in one query where the backend can (SQLite); otherwise one list of the
 * whole map, filtered. tenant_ids need not be sorted; duplicates are
 * read once. An invalid stored entry among them makes the call INVALID
 * naming the tenant, as for list. */
cr_store_rc cr_store_get_many(cr_store *s, const char *const *tenant_ids,
                              size_t n, cr_entry_list *out,
                              cr_store_err *err);

/* Backends. */
/* Opens (creating if needed) the SQLite routing map at `path`: WAL mode,
 * busy timeout, one transaction per write. */
cr_store_rc cr_store_sqlite_open(const char *path, cr_store **out,
                                 cr_store_err *err);
/* The default path: $CELLROUTER_DB, else "cellrouter.db". Borrowed. */
const char *cr_store_sqlite_default_path(void);

/* Cloudflare Workers KV (store/cloudflare_kv.c; README "The routing map in
 * Cloudflare Workers KV"): key = tenant id, value = endpoint URL, metadata =
 * the whole entry as JSON (at most CR_CFKV_METADATA_MAX bytes as Cloudflare
 * measures it, less a margin), so that one key listing answers a refresh.
 * Every string is borrowed for the call only. api_token is a secret: it is
 * sent in the Authorization header and nowhere else (never in logs or
 * error messages). */
#define CR_CFKV_DEFAULT_API_URL  "https://api.cloudflare.com/client/v4"
#define CR_CFKV_METADATA_MAX     1024
#define CR_CFKV_RETRY_DEFAULT_MS 30000
/* Cloudflare allows 1,200 API requests per 5 minutes per user; the client
 * keeps to this many of its own by default, leaving room for the dashboard
 * and other tools on the same account. */
#define CR_CFKV_REQUEST_BUDGET   1000
#define CR_CFKV_BATCH_MAX        10000
/* Long waits (rate limits) are reported through this, several times a
 * minute, so that nobody watches a silent 5-minute hang. */
typedef void (*cr_store_progress_fn)(void *ctx, const char *message);
typedef struct cr_cfkv_config {
    const char *account_id;
    const char *namespace_id;
    const char *api_token;
    const char *api_url;        /* NULL or "": CR_CFKV_DEFAULT_API_URL */
    long retry_budget_ms;       /* 5xx/network retries; 0: default. A 429
                                   is waited out as long as Cloudflare asks
                                   (its lockout is 5 minutes) on top. */
    bool skip_probe;            /* do not read the namespace when opening */
    int request_budget;         /* requests per 5 minutes; 0: default */
    cr_store_progress_fn progress;  /* NULL: progress goes to the log */
    void *progress_ctx;
    /* When non-NULL and *stop becomes nonzero, waits end at once with an
     * error (Terraform's Stop). */
    const volatile int *stop;
} cr_cfkv_config;
cr_store_rc cr_store_cfkv_open(const cr_cfkv_config *cfg, cr_store **out,
                               cr_store_err *err);
/* The number of API requests a Workers KV store has made (0 for any other
 * store): what `make bench` reports. */
unsigned long cr_store_cfkv_requests(const cr_store *s);
/* Fills a config from the environment: CLOUDFLARE_ACCOUNT_ID,
 * CLOUDFLARE_KV_NAMESPACE_ID, CLOUDFLARE_API_TOKEN, CLOUDFLARE_API_URL
 * (each NULL when unset). The strings are the environment's. */
void cr_cfkv_config_from_env(cr_cfkv_config *cfg);
/* Rules for each setting: NULL when valid, else a static message. */
const char *cr_cfkv_check_id(const char *id);         /* account, namespace */
const char *cr_cfkv_check_token(const char *token);
const char *cr_cfkv_check_api_url(const char *url);

/* Checks an entry before it is written (tenant id charset and length, URL
 * shape, both-or-neither standby). Returns NULL when valid, else a static
 * message naming the field. Shared by the provider's validation and cellctl.
 * *field (if non-NULL) receives the attribute name at fault ("tenant_id",
 * "cell_id", "endpoint", "standby_cell_id", "standby_endpoint", "labels"),
 * NULL when valid. The rules are documented at the top of store/store.c. */
const char *cr_entry_check(const cr_entry *e, const char **field);

/* The same rules one value at a time, for callers that want a precise
 * attribute path (labels["team"]). NULL when valid, else a static message. */
#define CR_TENANT_ID_MAX    512   /* bytes; Cloudflare KV's key limit */
#define CR_CELL_ID_MAX      63
#define CR_ENDPOINT_MAX     2048
#define CR_LABEL_KEY_MAX    63
#define CR_LABEL_VALUE_MAX  256
const char *cr_tenant_id_check(const char *tenant_id);
const char *cr_cell_id_check(const char *cell_id);
const char *cr_endpoint_check(const char *url);
const char *cr_label_check(const char *key, const char *value);

/* The value of label `key`, or NULL. Borrowed from the entry. */
const char *cr_entry_label(const cr_entry *e, const char *key);

/* The owner tag: the label a `cellrouter_tenants` resource puts on every
 * entry it writes, naming the resource (its `name`), so that another
 * resource or an import cannot take the key over. Reserved: users cannot
 * set it, and it is never shown in `labels` nor written in the tenants
 * document below. */
#define CR_OWNER_LABEL "cellrouter.owner"

/* ---- the tenants document --------------------------------------------------
 *
 * Entries as one JSON object keyed by tenant id, each value holding what a
 * user sets on an entry: cell_id, endpoint, standby_cell_id,
 * standby_endpoint, labels (never version, updated_at or the owner tag):
 *
 *   {
 *     "acme": {"cell_id": "aws-alpha", "endpoint": "https://a.example.com/in"},
 *     "globex": {"cell_id": "azure-beta", "endpoint": "...", "labels": {"tier": "gold"}}
 *   }
 *
 * It is what `cellctl export` prints, what cellrouter_tenants reads in
 * `tenants_json` and what the data source cellrouter_routing_map returns
 * in `tenants_json`, so an export is a valid starting configuration. One
 * entry per line, in the order given (callers give them sorted by tenant
 * id, each once); strings are JSON-escaped, UTF-8 kept as it is.
 *
 * By default a field without a value is left out (no standby, no
 * labels). A style (CR_DOC_*) writes it the way a document being written
 * back had it, so that Terraform, which compares JSON strings by their
 * structure when it shows a plan, sees no difference where there is none:
 * `"standby_cell_id": null`, `"labels": null` or `"labels": {}`. */
enum {
    CR_DOC_NULL_STANDBY_CELL     = 1u << 0,
    CR_DOC_NULL_STANDBY_ENDPOINT = 1u << 1,
    CR_DOC_NULL_LABELS           = 1u << 2,
    CR_DOC_EMPTY_LABELS          = 1u << 3,
};
typedef struct cr_doc_writer cr_doc_writer;
/* A new document; NULL on ENOMEM. */
cr_doc_writer *cr_doc_writer_new(void);
/* Appends e (its tenant id, user fields and labels but the owner tag).
 * 0, or -1 after a failed allocation (the writer is then only good for
 * cr_doc_writer_free). */
int cr_doc_writer_add(cr_doc_writer *w, const cr_entry *e, unsigned style);
/* The document (malloc'd, NUL-terminated; *len its length), and frees
 * the writer. NULL on ENOMEM. */
char *cr_doc_writer_finish(cr_doc_writer *w, size_t *len);
void cr_doc_writer_free(cr_doc_writer *w);

/* Backend selection lives in one function (store/open.c): the provider's
 * configuration and cellctl's flags both end up there.
 * backend: NULL, "" or "sqlite" for the embedded SQLite file; path: the
 * SQLite file, NULL for cr_store_sqlite_default_path(). "cloudflare_kv"
 * takes its settings from the environment (cr_cfkv_config_from_env) unless
 * cr_store_open_with is given them. */
typedef struct cr_store_config {
    const char *backend;
    const char *path;
} cr_store_config;
cr_store_rc cr_store_open(const cr_store_config *cfg, cr_store **out,
                          cr_store_err *err);
/* The same, with what a remote backend needs beyond a name (each field
 * optional): explicit Workers KV settings (NULL: the environment's), and
 * where long waits are reported (replacing the settings' own). */
typedef struct cr_store_open_opts {
    const cr_cfkv_config *cloudflare_kv;
    cr_store_progress_fn progress;
    void *progress_ctx;
} cr_store_open_opts;
cr_store_rc cr_store_open_with(const cr_store_config *cfg,
                               const cr_store_open_opts *opts,
                               cr_store **out, cr_store_err *err);

/* ---- cells (issue 13) -------------------------------------------------------
 *
 * The cells of the fleet, next to the tenants that name them. Two owners,
 * two records per cell, never written by each other's writers:
 *
 *   the definition (cr_cell): what a cell is, its id, ingest endpoint,
 *     health URL and labels. Terraform owns it (cellrouter_cell); writes
 *     are conditional on its version, exactly as for tenants (versions
 *     never repeat, even across delete and re-create).
 *   the serving record (cr_cell_state): whether the cell is serving or
 *     failed, why, when, by whom, and the operator's pin. Operators
 *     (cellctl) and automation (the edge's health prober) own it; writes
 *     are conditional on the record's own version. Terraform never writes
 *     it, except that destroying a cell drops its record.
 *
 * A cell with a definition and no serving record is serving (never probed,
 * never changed). Writing one record keeps the other as it is; a serving
 * record's `probe` (the prober's memory) and anything else a newer writer
 * keeps in it are kept as they are by every write here. How each backend
 * lays the two out is in store/README.md ("Cells").
 */

typedef enum cr_cell_serving {
    CR_CELL_SERVING = 0,
    CR_CELL_FAILED = 1,
} cr_cell_serving;

typedef struct cr_cell_state {
    cr_cell_serving state;
    bool pinned;            /* automation may not change `state` */
    char *reason;           /* "" when none; NULL when there is no record */
    char *changed_at;       /* RFC 3339, set by the store; NULL: no record */
    char *changed_by;       /* "automation" or "operator:<name>"; NULL: no
                               record */
    int64_t version;        /* the record's; 0: no record */
    char *probe;            /* the prober's memory as compact JSON, NULL
                               when none; read-only here */
} cr_cell_state;

typedef struct cr_cell {
    char *cell_id;
    char *endpoint;
    char *health_url;           /* NULL when none */
    size_t nlabels;
    cr_label *labels;           /* sorted by key, keys unique */
    bool has_labels;            /* false: labels are null, not an empty map */
    int64_t version;            /* the definition's; set by the store */
    char *updated_at;           /* the definition's; set by the store */
    cr_cell_state serving;      /* read with the definition; put ignores it */
} cr_cell;

typedef struct cr_cell_list {
    size_t len, cap;
    cr_cell *items;             /* sorted by cell_id */
} cr_cell_list;

cr_cell *cr_cell_new(void);
int  cr_cell_copy(cr_cell *dst, const cr_cell *src);     /* dst uninitialised */
void cr_cell_clear(cr_cell *c);
void cr_cell_free(cr_cell *c);
int  cr_cell_set_label(cr_cell *c, const char *key, const char *value);
const char *cr_cell_label(const cr_cell *c, const char *key);
void cr_cell_list_free(cr_cell_list *l);
void cr_cell_state_clear(cr_cell_state *st);
int  cr_cell_state_copy(cr_cell_state *dst, const cr_cell_state *src);

/* "serving" / "failed", and back (-1: neither). */
const char *cr_cell_serving_name(cr_cell_serving s);
int cr_cell_serving_parse(const char *name, cr_cell_serving *out);

/* The rules (store/cell.c), NULL when valid, else a static message (the
 * health URL's: valid until the next call on the thread). cr_cell_check
 * checks a definition (cell id, endpoint, health URL, labels) and names
 * the field at fault in *field ("cell_id", "endpoint", "health_url",
 * "labels"). A reason is at most CR_CELL_REASON_MAX bytes of UTF-8
 * without control characters; changed_by is "automation" or
 * "operator:<name>", the name 1 to CR_CELL_OPERATOR_MAX bytes of letters,
 * digits and . _ @ -. */
#define CR_CELL_REASON_MAX    512
#define CR_CELL_OPERATOR_MAX  64
#define CR_CELL_BY_AUTOMATION "automation"
#define CR_CELL_BY_OPERATOR   "operator:"
const char *cr_cell_check(const cr_cell *c, const char **field);
const char *cr_health_url_check(const char *url);
const char *cr_cell_reason_check(const char *reason);
const char *cr_cell_changed_by_check(const char *changed_by);

/* What a backend implements for cells (cr_store_ops.cells). Each call's
 * arguments are checked by the cr_store_cell_* functions below first. */
struct cr_store_cell_ops {
    /* *out NULL (OK) when the cell has no definition. */
    cr_store_rc (*get)(cr_store *s, const char *cell_id, cr_cell **out,
                       cr_store_err *err);
    cr_store_rc (*list)(cr_store *s, cr_cell_list *out, cr_store_err *err);
    cr_store_rc (*put)(cr_store *s, const cr_cell *in, int64_t expect,
                       cr_cell **written, cr_store_err *err);
    cr_store_rc (*del)(cr_store *s, const char *cell_id, int64_t expect,
                       size_t *tenants, cr_store_err *err);
    cr_store_rc (*set_state)(cr_store *s, const char *cell_id,
                             const cr_cell_state *in, int64_t expect,
                             cr_cell **written, cr_store_err *err);
    /* Optional, as cr_store_ops.fits. */
    const char *(*fits)(cr_store *s, const cr_cell *c, char *buf,
                        size_t bufsz);
};

/* The cell's definition and serving record; *out NULL when the cell has
 * no definition (a serving record without one is not a cell). */
cr_store_rc cr_store_cell_get(cr_store *s, const char *cell_id, cr_cell **out,
                              cr_store_err *err);
/* Every cell with its serving record, sorted by cell id. A stored cell or
 * record that is invalid makes the call INVALID, naming the cell. */
cr_store_rc cr_store_cell_list(cr_store *s, cr_cell_list *out,
                               cr_store_err *err);
/* Writes the definition `in` (serving, version, updated_at ignored) if its
 * version is `expect`, with the outcomes of a tenant's put (EXISTS,
 * CONFLICT; versions never repeat for a cell). The serving record is kept;
 * *written (if not NULL) receives the cell as stored, with its record. */
cr_store_rc cr_store_cell_put(cr_store *s, const cr_cell *in, int64_t expect,
                              cr_cell **written, cr_store_err *err);
/* Deletes the definition and drops the serving record, if the definition's
 * version is `expect` (or CR_VERSION_ANY), as a tenant's delete; refused
 * with IN_USE while tenants name the cell as primary or standby, their
 * number in *tenants (if not NULL; 0 otherwise) and a message naming a few. */
cr_store_rc cr_store_cell_delete(cr_store *s, const char *cell_id,
                                 int64_t expect, size_t *tenants,
                                 cr_store_err *err);
/* Writes the serving record of a defined cell: state, pinned, reason (NULL:
 * "") and changed_by from `in`; the store sets changed_at to now and the
 * version to the record's + 1, and keeps the rest of the record (probe).
 * Conditional on the record's version: CR_VERSION_ABSENT (no record yet),
 * N (the record is at N, else CONFLICT with actual_version), or
 * CR_VERSION_ANY. NOT_FOUND when the cell has no definition. *written (if
 * not NULL) receives the whole cell as written. */
cr_store_rc cr_store_cell_set_state(cr_store *s, const char *cell_id,
                                    const cr_cell_state *in, int64_t expect,
                                    cr_cell **written, cr_store_err *err);
/* NULL when the definition fits the backend's own limits (Workers KV's
 * metadata), else a message in buf. */
const char *cr_store_cell_fits(cr_store *s, const cr_cell *c, char *buf,
                               size_t bufsz);

#endif
