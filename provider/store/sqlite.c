/*
 * store/sqlite.c — the embedded routing-map backend: one SQLite file.
 *
 * Durability and atomicity. The file is in WAL mode, and every write is one
 * BEGIN IMMEDIATE ... COMMIT transaction that reads the current version,
 * checks the caller's expectation and writes, so the check and the write
 * cannot be separated by another writer (thread or process) and a process
 * killed at any instant leaves either the old or the new entry, never a mix.
 * synchronous=FULL: in WAL mode that costs one fsync of the WAL per commit,
 * which is cheap at the rate a routing map changes, and it means a write
 * that was acknowledged (and recorded by Terraform in its state, or reported
 * to an on-call engineer by cellctl) survives a power loss too; NORMAL would
 * only protect against a crashed process. Other processes that hold the
 * write lock are waited for up to CR_SQLITE_BUSY_MS before the write fails
 * with CR_STORE_IO.
 *
 * Versions never go backwards for a tenant, even across delete and
 * re-create (the ABA problem: a writer that last saw version 1 of a deleted
 * entry must not be able to overwrite a re-created entry that started at 1
 * again). Deleting an entry records its last version in `retired_versions`;
 * re-creating it continues from there. That keeps version = old + 1 within
 * an entry's life, costs one small row per deleted tenant, and needs no
 * global counter that every writer would contend on.
 *
 * Threads. The provider calls the store from up to 10 threads at once. One
 * connection serialised by a mutex is enough: every operation is a few
 * indexed statements, SQLite itself serialises writers to one file, and the
 * prepared statements (compiled once at open) can then be shared safely.
 *
 * Hostile files. Everything read back is checked: column types, JSON labels,
 * versions, and the whole entry against cr_entry_check. A bad row is
 * CR_STORE_INVALID naming the tenant, never a crash. trusted_schema=OFF and
 * SQLITE_DBCONFIG_DEFENSIVE keep a crafted schema from calling functions
 * with side effects or corrupting the file through us.
 */
#include "common/log.h"
#include "common/utf8.h"
#include "store/backend.h"
#include "store/store.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <yajl/yajl_parse.h>

#define CR_SQLITE_SCHEMA_VERSION 2
#define CR_SQLITE_BUSY_MS        5000

/* The entries table as this code creates it. SQLite keeps this text in
 * sqlite_schema; finding it there unchanged (see entries_ours) is what lets
 * get_many rely on the primary key's order. */
#define ENTRIES_V1                                                          \
    "CREATE TABLE entries ("                                                \
    "  tenant_id        TEXT NOT NULL PRIMARY KEY,"                         \
    "  cell_id          TEXT NOT NULL,"                                     \
    "  endpoint         TEXT NOT NULL,"                                     \
    "  standby_cell_id  TEXT,"                                              \
    "  standby_endpoint TEXT,"                                              \
    "  labels           TEXT,"      /* JSON object of strings; NULL: null */\
    "  version          INTEGER NOT NULL,"                                  \
    "  updated_at       TEXT NOT NULL"                                      \
    ") STRICT, WITHOUT ROWID"

static const char SCHEMA_V1[] =
    ENTRIES_V1 ";"
    "CREATE TABLE retired_versions ("
    "  tenant_id TEXT NOT NULL PRIMARY KEY,"
    "  version   INTEGER NOT NULL"  /* last version before the delete */
    ") STRICT, WITHOUT ROWID;"
    "PRAGMA user_version = 1;";

/* Schema 2 (issue 13) adds the cells: their definitions (Terraform's),
 * their serving records (operators' and automation's), and the last
 * version of each deleted definition, as retired_versions does for
 * tenants. A map at schema 1 is migrated by running this alone. */
static const char SCHEMA_V2[] =
    "CREATE TABLE cells ("
    "  cell_id    TEXT NOT NULL PRIMARY KEY,"
    "  endpoint   TEXT NOT NULL,"
    "  health_url TEXT,"
    "  labels     TEXT,"            /* JSON object of strings; NULL: null */
    "  version    INTEGER NOT NULL,"
    "  updated_at TEXT NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE cell_states ("
    "  cell_id    TEXT NOT NULL PRIMARY KEY,"
    "  state      TEXT NOT NULL,"   /* serving | failed */
    "  reason     TEXT NOT NULL,"
    "  changed_at TEXT NOT NULL,"
    "  changed_by TEXT NOT NULL,"   /* automation | operator:<name> */
    "  pinned     INTEGER NOT NULL,"
    "  version    INTEGER NOT NULL,"
    "  probe      TEXT"             /* the prober's memory, JSON; kept */
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE retired_cell_versions ("
    "  cell_id TEXT NOT NULL PRIMARY KEY,"
    "  version INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "PRAGMA user_version = 2;";

#define ENTRY_COLS "tenant_id, cell_id, endpoint, standby_cell_id, " \
                   "standby_endpoint, labels, version, updated_at"

enum {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
    ST_GET, ST_VERSION, ST_UPSERT, ST_DELETE,
    ST_RETIRED_GET, ST_RETIRED_PUT, ST_RETIRED_DEL,
    ST_LIST_ALL, ST_LIST_FROM, ST_LIST_RANGE, ST_GET_MANY, ST_GET_SPAN,
    ST_PAGE_FROM, ST_PAGE_RANGE,
    /* cells */
    ST_CELL_GET, ST_CELL_LIST, ST_CELL_VERSION, ST_CELL_UPSERT,
    ST_CELL_DELETE, ST_CELL_RETIRED_GET, ST_CELL_RETIRED_PUT,
    ST_CELL_RETIRED_DEL, ST_STATE_VERSION, ST_STATE_UPSERT, ST_STATE_DELETE,
    ST_CELL_TENANTS, ST_CELL_TENANTS_SOME,
    ST_COUNT
};

/* A cell's definition with its serving record (NULLs when none). */
#define CELL_SELECT                                                         \
    "SELECT c.cell_id, c.endpoint, c.health_url, c.labels, c.version, "     \
    "c.updated_at, s.state, s.reason, s.changed_at, s.changed_by, "         \
    "s.pinned, s.version, s.probe FROM cells AS c "                         \
    "LEFT JOIN cell_states AS s ON s.cell_id = c.cell_id "

static const char *const STMT_SQL[ST_COUNT] = {
    [ST_BEGIN]       = "BEGIN IMMEDIATE",
    [ST_COMMIT]      = "COMMIT",
    [ST_ROLLBACK]    = "ROLLBACK",
    [ST_GET]         = "SELECT " ENTRY_COLS " FROM entries WHERE tenant_id = ?1",
    [ST_VERSION]     = "SELECT version FROM entries WHERE tenant_id = ?1",
    [ST_UPSERT]      = "INSERT INTO entries (" ENTRY_COLS ") "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                       "ON CONFLICT (tenant_id) DO UPDATE SET "
                       "cell_id = excluded.cell_id, "
                       "endpoint = excluded.endpoint, "
                       "standby_cell_id = excluded.standby_cell_id, "
                       "standby_endpoint = excluded.standby_endpoint, "
                       "labels = excluded.labels, "
                       "version = excluded.version, "
                       "updated_at = excluded.updated_at",
    [ST_DELETE]      = "DELETE FROM entries WHERE tenant_id = ?1",
    [ST_RETIRED_GET] = "SELECT version FROM retired_versions "
                       "WHERE tenant_id = ?1",
    [ST_RETIRED_PUT] = "INSERT INTO retired_versions (tenant_id, version) "
                       "VALUES (?1, ?2) ON CONFLICT (tenant_id) DO UPDATE "
                       "SET version = max(version, excluded.version)",
    [ST_RETIRED_DEL] = "DELETE FROM retired_versions WHERE tenant_id = ?1",
    /* Prefix listing is a range scan on the primary key, not LIKE, so '%'
     * and '_' in ids are plain characters and the index is used. */
    [ST_LIST_ALL]    = "SELECT " ENTRY_COLS " FROM entries "
                       "ORDER BY tenant_id",
    [ST_LIST_FROM]   = "SELECT " ENTRY_COLS " FROM entries "
                       "WHERE tenant_id >= ?1 ORDER BY tenant_id",
    [ST_LIST_RANGE]  = "SELECT " ENTRY_COLS " FROM entries "
                       "WHERE tenant_id >= ?1 AND tenant_id < ?2 "
                       "ORDER BY tenant_id",
    /* Many tenants in one query: the ids travel as one JSON array, and
     * each is looked up on the primary key. */
    [ST_GET_MANY]    = "SELECT " ENTRY_COLS " FROM entries "
                       "WHERE tenant_id IN (SELECT value FROM json_each(?1)) "
                       "ORDER BY tenant_id",
    /* ... or, in a map this code created, walked in key order from the
     * first asked id to the last, merged with the sorted ids (see
     * get_many_walk). */
    [ST_GET_SPAN]    = "SELECT " ENTRY_COLS " FROM entries "
                       "WHERE tenant_id >= ?1 AND tenant_id <= ?2 "
                       "ORDER BY tenant_id",
    /* One page of a listing (sq_list_page): keyset pagination on the
     * primary key, from an inclusive lower bound, so a page costs the same
     * wherever it is in the map. */
    [ST_PAGE_FROM]   = "SELECT " ENTRY_COLS " FROM entries "
                       "WHERE tenant_id >= ?1 ORDER BY tenant_id LIMIT ?2",
    [ST_PAGE_RANGE]  = "SELECT " ENTRY_COLS " FROM entries "
                       "WHERE tenant_id >= ?1 AND tenant_id < ?2 "
                       "ORDER BY tenant_id LIMIT ?3",
    [ST_CELL_GET]    = CELL_SELECT "WHERE c.cell_id = ?1",
    [ST_CELL_LIST]   = CELL_SELECT "ORDER BY c.cell_id",
    [ST_CELL_VERSION] = "SELECT version FROM cells WHERE cell_id = ?1",
    [ST_CELL_UPSERT] = "INSERT INTO cells (cell_id, endpoint, health_url, "
                       "labels, version, updated_at) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                       "ON CONFLICT (cell_id) DO UPDATE SET "
                       "endpoint = excluded.endpoint, "
                       "health_url = excluded.health_url, "
                       "labels = excluded.labels, "
                       "version = excluded.version, "
                       "updated_at = excluded.updated_at",
    [ST_CELL_DELETE] = "DELETE FROM cells WHERE cell_id = ?1",
    [ST_CELL_RETIRED_GET] = "SELECT version FROM retired_cell_versions "
                            "WHERE cell_id = ?1",
    [ST_CELL_RETIRED_PUT] = "INSERT INTO retired_cell_versions (cell_id, "
                            "version) VALUES (?1, ?2) ON CONFLICT (cell_id) "
                            "DO UPDATE SET version = "
                            "max(version, excluded.version)",
    [ST_CELL_RETIRED_DEL] = "DELETE FROM retired_cell_versions "
                            "WHERE cell_id = ?1",
    [ST_STATE_VERSION] = "SELECT version FROM cell_states WHERE cell_id = ?1",
    /* The probe column is the prober's: kept, except that a change of
     * state drops its counters (they counted towards the old state), as
     * on Workers KV. */
    [ST_STATE_UPSERT] = "INSERT INTO cell_states (cell_id, state, reason, "
                        "changed_at, changed_by, pinned, version) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                        "ON CONFLICT (cell_id) DO UPDATE SET "
                        "probe = CASE WHEN state = excluded.state "
                        "THEN probe ELSE NULL END, "
                        "state = excluded.state, reason = excluded.reason, "
                        "changed_at = excluded.changed_at, "
                        "changed_by = excluded.changed_by, "
                        "pinned = excluded.pinned, "
                        "version = excluded.version",
    [ST_STATE_DELETE] = "DELETE FROM cell_states WHERE cell_id = ?1",
    /* A scan of the map: only a cell's delete asks, and an index on both
     * columns would cost every tenant write. */
    [ST_CELL_TENANTS] = "SELECT count(*) FROM entries "
                        "WHERE cell_id = ?1 OR standby_cell_id = ?1",
    [ST_CELL_TENANTS_SOME] = "SELECT tenant_id FROM entries "
                             "WHERE cell_id = ?1 OR standby_cell_id = ?1 "
                             "ORDER BY tenant_id LIMIT 3",
};

typedef struct sq_store {
    cr_store base;              /* first: a cr_store* is a sq_store* */
    sqlite3 *db;
    pthread_mutex_t mu;         /* serialises every use of db and stmt[] */
    sqlite3_stmt *stmt[ST_COUNT];
    bool entries_ours;          /* entries is ENTRIES_V1, text is UTF-8 */
    char path[];
} sq_store;

/* ---- errors ------------------------------------------------------------ */

/* SQLite's message for the connection's last error, sanitised. */
static const char *db_errmsg(sqlite3 *db, char buf[260])
{
    return cr_store_printable_n(sqlite3_errmsg(db), buf, 256);
}

/* Turns a SQLite failure into a store error. Caller holds the mutex (the
 * connection's error message is per connection). */
static cr_store_rc sq_fail(sq_store *s, cr_store_err *err, int rc,
                           const char *what)
{
    char buf[260];
    const char *detail = s->db ? db_errmsg(s->db, buf) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return cr_store_err_set(err, CR_STORE_NOMEM,
                                "out of memory while %s", what);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return cr_store_err_set(err, CR_STORE_IO,
            "routing map %s stayed locked by another writer for more than "
            "%d s while %s: %s", s->path, CR_SQLITE_BUSY_MS / 1000, what,
            detail);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
        return cr_store_err_set(err, CR_STORE_INVALID,
            "routing map %s is damaged or not a SQLite database (%s): %s",
            s->path, what, detail);
    default:
        return cr_store_err_set(err, CR_STORE_IO,
            "routing map %s: %s failed: %s", s->path, what, detail);
    }
}

/* ---- small helpers ----------------------------------------------------- */

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC)
             : sqlite3_bind_null(st, i);
}

static void rollback(sq_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        step_done(s->stmt[ST_ROLLBACK]);
}

/* ---- reading rows ------------------------------------------------------ */

/* A TEXT column without embedded NULs, not copied: *v points into SQLite's
 * row buffer (valid until the next step or reset of `st`), NULL for SQL
 * NULL when `optional`. Returns a static reason on bad data. */
static const char *col_view(sqlite3_stmt *st, int i, bool optional,
                            const char **v, size_t *n, bool *nomem)
{
    *v = NULL;
    *n = 0;
    int t = sqlite3_column_type(st, i);
    if (t == SQLITE_NULL)
        return optional ? NULL : "is null";
    if (t != SQLITE_TEXT)
        return "is not text";
    const char *p = (const char *)sqlite3_column_text(st, i);
    int len = sqlite3_column_bytes(st, i);
    if (!p) {
        *nomem = true;
        return "could not be read";
    }
    if (memchr(p, '\0', (size_t)len))
        return "contains a NUL byte";
    *v = p;
    *n = (size_t)len;
    return NULL;
}

/* col_view, copied (malloc + memcpy: the length is known, no strndup). */
static const char *col_text(sqlite3_stmt *st, int i, bool optional,
                            char **out, bool *nomem)
{
    const char *v;
    size_t n;
    *out = NULL;
    const char *bad = col_view(st, i, optional, &v, &n, nomem);
    if (bad || !v)
        return bad;
    if (!(*out = malloc(n + 1))) {
        *nomem = true;
        return "could not be copied";
    }
    memcpy(*out, v, n);
    (*out)[n] = '\0';
    return NULL;
}

/* Labels are stored as a JSON object of strings; NULL means null labels.
 *
 * Two decoders. The slow one (jansson, a whole tree) is the reference: it
 * defines which texts are valid and what is said about the others. The
 * fast one (yajl, streaming, no tree) handles the common case, an object
 * of strings with unique keys in plain UTF-8, and gives up on anything
 * else, which then goes to the slow one. Bad data is rare, so its cost
 * does not matter, and every diagnostic stays exactly what it was.
 *
 * The fast path must never accept what jansson refuses. yajl differs from
 * jansson in a few places, all caught before or after yajl runs:
 *   - yajl turns a lone high-surrogate escape (\uD800 not followed by a
 *     low one) into '?' and a lone low one into an encoded surrogate, and
 *     pairs a high surrogate with any following \u escape; jansson refuses
 *     all of these. yajl also decodes \u0000 to a NUL byte, which jansson
 *     refuses without JSON_ALLOW_NUL. raw_fast_ok() reads every \u escape
 *     in the raw text and sends such texts to the slow path.
 *   - yajl checks only the shape of UTF-8 sequences (it passes overlong
 *     forms, encoded surrogates and code points above U+10FFFF); jansson
 *     refuses them. raw_fast_ok() checks UTF-8 strictly.
 *   - yajl takes \v and \f as white space; jansson does not. raw_fast_ok()
 *     refuses every control byte but JSON's own white space.
 *   - jansson refuses duplicate keys (JSON_REJECT_DUPLICATES) and nesting
 *     deeper than 2048; the fast path refuses duplicates itself and any
 *     nesting at all (a nested value is not a string anyway).
 * Backslashes and bytes >= 0x80 are rare in labels, so for most texts
 * raw_fast_ok() is one pass of comparisons. */

#define LABELS_JSON_FLAGS JSON_REJECT_DUPLICATES

static const char *labels_from_json_slow(const char *text, size_t len,
                                         cr_entry *e, bool *nomem)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, LABELS_JSON_FLAGS, &jerr);
    if (!root)
        return "labels are not valid JSON";
    const char *bad = cr_store_labels_from_json(root, e, nomem);
    json_decref(root);
    return bad;
}

/* May the fast path read this raw text? (See above: false sends it to the
 * slow path, which decides; it never rejects anything by itself.) */
static bool raw_fast_ok(const unsigned char *p, size_t n)
{
    /* \u0000 and lone surrogate escapes (yajl: a NUL byte and '?'). */
    if (cr_json_bad_escape((const char *)p, n, true) < n)
        return false;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x80) {
            i++;
            continue;
        }
        if (c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        if (c < 0x20)
            return false;
        /* Strict UTF-8, as jansson's utf8_check_full. */
        unsigned cp;
        size_t len = cr_utf8_char(p + i, n - i, &cp);
        if (!len)
            return false;
        i += len;
    }
    return true;
}

/* The fast path's state while yajl streams one labels text. */
typedef struct labels_ctx {
    cr_entry *e;
    size_t cap;                 /* of e->labels */
    int depth;                  /* 1 inside the top-level object */
    bool want_value;            /* a key was read, its value is next */
    bool nomem;
} labels_ctx;

/* Any callback returning 0 cancels the parse: the slow path decides. */
static int lf_no(void *ctx) { (void)ctx; return 0; }
static int lf_no_bool(void *ctx, int b) { (void)ctx; (void)b; return 0; }
static int lf_no_num(void *ctx, const char *s, size_t n)
{ (void)ctx; (void)s; (void)n; return 0; }

static char *lf_dup(labels_ctx *c, const unsigned char *s, size_t n)
{
    /* JSON allows \u0000 (raw_fast_ok refuses it already; kept in case). */
    if (memchr(s, '\0', n))
        return NULL;
    char *d = malloc(n + 1);
    if (!d) {
        c->nomem = true;
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static int lf_start_map(void *ctx)
{
    labels_ctx *c = ctx;
    if (c->depth != 0)
        return 0;                       /* nested: not a string */
    c->depth = 1;
    c->e->has_labels = true;
    return 1;
}

static int lf_end_map(void *ctx)
{
    labels_ctx *c = ctx;
    c->depth = 2;                       /* nothing may follow */
    return 1;
}

static int lf_key(void *ctx, const unsigned char *s, size_t n)
{
    labels_ctx *c = ctx;
    cr_entry *e = c->e;
    if (c->depth != 1)
        return 0;
    if (e->nlabels == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        cr_label *l = realloc(e->labels, cap * sizeof *l);
        if (!l) {
            c->nomem = true;
            return 0;
        }
        e->labels = l;
        c->cap = cap;
    }
    char *k = lf_dup(c, s, n);
    if (!k)
        return 0;
    e->labels[e->nlabels].key = k;
    e->labels[e->nlabels].value = NULL;
    e->nlabels++;
    c->want_value = true;
    return 1;
}

static int lf_string(void *ctx, const unsigned char *s, size_t n)
{
    labels_ctx *c = ctx;
    if (c->depth != 1 || !c->want_value)
        return 0;
    char *v = lf_dup(c, s, n);
    if (!v)
        return 0;
    c->e->labels[c->e->nlabels - 1].value = v;
    c->want_value = false;
    return 1;
}

static const yajl_callbacks LABELS_CB = {
    .yajl_null = lf_no,
    .yajl_boolean = lf_no_bool,
    .yajl_number = lf_no_num,           /* raw: no conversion, no overflow */
    .yajl_string = lf_string,
    .yajl_start_map = lf_start_map,
    .yajl_map_key = lf_key,
    .yajl_end_map = lf_end_map,
    .yajl_start_array = lf_no,
    .yajl_end_array = lf_no,
};

static int label_cmp(const void *a, const void *b)
{
    return strcmp(((const cr_label *)a)->key, ((const cr_label *)b)->key);
}

static void labels_drop(cr_entry *e)
{
    for (size_t i = 0; i < e->nlabels; i++) {
        free(e->labels[i].key);
        free(e->labels[i].value);
    }
    free(e->labels);
    e->labels = NULL;
    e->nlabels = 0;
    e->has_labels = false;
}

/* yajl allocates a handful of small blocks per parse (handle, lexer,
 * state stack, buffers) and frees them at once: at one parse per row that
 * was a fifth of the fast path. They come from a bump arena on the stack
 * instead, with malloc beyond it (hostile texts: deep or long). Each block
 * is preceded by its size so realloc can copy. */
typedef struct yajl_arena {
    size_t used;
    _Alignas(max_align_t) unsigned char mem[4096];
} yajl_arena;

#define ARENA_HDR sizeof(max_align_t)

static bool arena_owns(const yajl_arena *a, const void *p)
{
    return (const unsigned char *)p >= a->mem &&
           (const unsigned char *)p < a->mem + sizeof a->mem;
}

static void *arena_malloc(void *ctx, size_t n)
{
    yajl_arena *a = ctx;
    size_t need = ARENA_HDR + ((n + ARENA_HDR - 1) / ARENA_HDR) * ARENA_HDR;
    if (n > sizeof a->mem || need > sizeof a->mem - a->used)
        return malloc(n);
    unsigned char *p = a->mem + a->used;
    a->used += need;
    memcpy(p, &n, sizeof n);
    return p + ARENA_HDR;
}

static void arena_free(void *ctx, void *p)
{
    if (!arena_owns(ctx, p))
        free(p);
}

static void *arena_realloc(void *ctx, void *p, size_t n)
{
    if (!p)
        return arena_malloc(ctx, n);
    if (!arena_owns(ctx, p))
        return realloc(p, n);
    size_t old;
    memcpy(&old, (unsigned char *)p - ARENA_HDR, sizeof old);
    void *q = arena_malloc(ctx, n);
    if (q)
        memcpy(q, p, old < n ? old : n);
    return q;
}

/* The fast path: true when it decoded the text into e (labels sorted by
 * key, keys unique); false, with e's labels untouched, when the slow path
 * must decide (or *nomem). */
static bool labels_from_json_fast(const char *text, size_t len, cr_entry *e,
                                  bool *nomem)
{
    const unsigned char *p = (const unsigned char *)text;
    if (!raw_fast_ok(p, len))
        return false;
    labels_ctx c = { .e = e };
    yajl_arena arena;
    arena.used = 0;
    yajl_alloc_funcs af = {
        .malloc = arena_malloc, .realloc = arena_realloc,
        .free = arena_free, .ctx = &arena,
    };
    yajl_handle h = yajl_alloc(&LABELS_CB, &af, &c);
    if (!h) {
        *nomem = true;
        return false;
    }
    /* yajl's defaults are what JSON is: no comments, UTF-8 checked, one
     * value, nothing after it. */
    bool ok = yajl_parse(h, p, len) == yajl_status_ok &&
              yajl_complete_parse(h) == yajl_status_ok &&
              c.depth == 2 && !c.want_value;
    yajl_free(h);
    if (ok) {
        /* The store writes keys sorted; sort anything else, then a key
         * equal to its neighbour is a duplicate. */
        bool sorted = true;
        for (size_t i = 1; i < e->nlabels && sorted; i++)
            sorted = strcmp(e->labels[i - 1].key, e->labels[i].key) < 0;
        if (!sorted) {
            qsort(e->labels, e->nlabels, sizeof *e->labels, label_cmp);
            for (size_t i = 1; i < e->nlabels && ok; i++)
                ok = strcmp(e->labels[i - 1].key, e->labels[i].key) != 0;
        }
    }
    if (!ok) {
        if (c.nomem)
            *nomem = true;
        labels_drop(e);
    }
    return ok;
}

static const char *labels_from_json(const char *text, size_t len,
                                    cr_entry *e, bool *nomem)
{
    if (labels_from_json_fast(text, len, e, nomem))
        return NULL;
    if (*nomem)
        return "labels could not be copied";
    return labels_from_json_slow(text, len, e, nomem);
}

static char *labels_to_json(const cr_entry *e)
{
    bool nomem;
    json_t *o = cr_store_labels_to_json(e, &nomem);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

/* Decodes the current row of a SELECT ENTRY_COLS into *e (zeroed here). */
static cr_store_rc row_to_entry(sq_store *s, sqlite3_stmt *st, cr_entry *e,
                                cr_store_err *err)
{
    static const char *const names[] = {
        "tenant_id", "cell_id", "endpoint", "standby_cell_id",
        "standby_endpoint", "labels", "version", "updated_at"
    };
    bool nomem = false;
    const char *bad = NULL, *col = NULL;
    const char *labels = NULL;
    size_t labels_len = 0;
    memset(e, 0, sizeof(*e));

    if ((bad = col_text(st, 0, false, &e->tenant_id, &nomem))) { col = names[0]; goto fail; }
    if ((bad = col_text(st, 1, false, &e->cell_id, &nomem))) { col = names[1]; goto fail; }
    if ((bad = col_text(st, 2, false, &e->endpoint, &nomem))) { col = names[2]; goto fail; }
    if ((bad = col_text(st, 3, true, &e->standby_cell_id, &nomem))) { col = names[3]; goto fail; }
    if ((bad = col_text(st, 4, true, &e->standby_endpoint, &nomem))) { col = names[4]; goto fail; }
    if ((bad = col_view(st, 5, true, &labels, &labels_len, &nomem))) { col = names[5]; goto fail; }
    if (labels && (bad = labels_from_json(labels, labels_len, e, &nomem))) { col = NULL; goto fail; }
    col = names[6];
    if (sqlite3_column_type(st, 6) != SQLITE_INTEGER) { bad = "is not an integer"; goto fail; }
    e->version = sqlite3_column_int64(st, 6);
    if (e->version < 1) { bad = "is not a positive integer"; goto fail; }
    if ((bad = col_text(st, 7, false, &e->updated_at, &nomem))) { col = names[7]; goto fail; }
    if (!cr_store_time_ok(e->updated_at)) { col = names[7]; bad = "is not an RFC 3339 time"; goto fail; }
    const char *field = NULL;
    if ((bad = cr_entry_check(e, &field))) { col = NULL; goto fail; }
    return CR_STORE_OK;

fail:
    if (nomem) {
        cr_entry_clear(e);
        return cr_store_err_set(err, CR_STORE_NOMEM,
                                "out of memory reading the routing map");
    }
    {
        /* The tenant id itself may be the bad column: quote the raw bytes. */
        const unsigned char *raw = sqlite3_column_type(st, 0) == SQLITE_TEXT
                                       ? sqlite3_column_text(st, 0) : NULL;
        char where[300], what[300];
        snprintf(where, sizeof where, "routing map %s", s->path);
        snprintf(what, sizeof what, "%s%s%s", col ? col : "", col ? " " : "",
                 bad);
        cr_store_err_damaged(err, where, (const char *)raw, what);
    }
    cr_entry_clear(e);
    return CR_STORE_INVALID;
}

/* ---- operations -------------------------------------------------------- */

static cr_store_rc sq_get(cr_store *base, const char *tenant_id,
                          cr_entry **out, cr_store_err *err)
{
    sq_store *s = (sq_store *)base;
    cr_store_err_clear(err);
    *out = NULL;
    cr_store_rc rc = cr_store_check_tenant_arg(tenant_id, err);
    if (rc != CR_STORE_OK)
        return rc;

    cr_entry *e = cr_entry_new();
    if (!e)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->stmt[ST_GET];
    sqlite3_bind_text(st, 1, tenant_id, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = row_to_entry(s, st, e, err);
    else if (src == SQLITE_DONE)
        rc = CR_STORE_OK;
    else
        rc = sq_fail(s, err, src, "reading an entry");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->mu);

    if (rc == CR_STORE_OK && src == SQLITE_ROW)
        *out = e;
    else
        cr_entry_free(e);
    return rc;
}

/* Reads the current version of `id` (ver_stmt: a tenant's, a cell's or a
 * serving record's; `what` names it in messages) inside the write
 * transaction: 0 when absent, -1 (with *err set) when the stored value is
 * not a version. */
static cr_store_rc current_version(sq_store *s, const char *id, int ver_stmt,
                                   int64_t *out, cr_store_err *err)
{
    char buf[CR_STORE_PRINTABLE];
    sqlite3_stmt *st = s->stmt[ver_stmt];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    cr_store_rc rc = CR_STORE_OK;
    *out = 0;
    if (src == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
            (*out = sqlite3_column_int64(st, 0)) < 1) {
            *out = -1;
            rc = cr_store_err_set(err, CR_STORE_INVALID,
                "routing map %s holds an invalid version for %s \"%s\"%s",
                s->path, ver_stmt == ST_VERSION ? "tenant"
                         : ver_stmt == ST_CELL_VERSION ? "cell"
                         : "the serving state of cell",
                cr_store_printable(id, buf),
                ver_stmt == ST_VERSION ? " (repair it with cellctl delete)"
                                       : "");
        }
    } else if (src != SQLITE_DONE) {
        rc = sq_fail(s, err, src, "reading a version");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static cr_store_rc sq_put(cr_store *base, const cr_entry *in, int64_t expect,
                          cr_entry **written, cr_store_err *err)
{
    sq_store *s = (sq_store *)base;
    const char *field = NULL, *bad;
    char buf[CR_STORE_PRINTABLE];
    cr_store_err_clear(err);
    if (written)
        *written = NULL;
    if (!in)
        return cr_store_err_set(err, CR_STORE_INVALID, "no entry to write");
    if ((bad = cr_entry_check(in, &field)))
        return cr_store_err_set(err, CR_STORE_INVALID, "%s: %s",
                                field ? field : "entry", bad);
    if (cr_store_check_expect(expect, false, err) != CR_STORE_OK)
        return err ? err->rc : CR_STORE_INVALID;

    char *labels = labels_to_json(in);
    if (in->has_labels && !labels)
        return cr_store_err_set(err, CR_STORE_NOMEM,
                                "out of memory encoding labels");
    /* The result is prepared before the write so that, once committed, the
     * caller's copy cannot fail to materialise. */
    cr_entry *out = NULL;
    if (written) {
        out = cr_entry_new();
        if (!out || cr_entry_copy(out, in) != 0) {
            free(out);
            free(labels);
            return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
        }
        free(out->updated_at);
        out->updated_at = NULL;
    }
    char now[CR_STORE_TIME_LEN];
    cr_store_now(now);
    char *stamp = strdup(now);
    if (!stamp) {
        cr_entry_free(out);
        free(labels);
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    }

    pthread_mutex_lock(&s->mu);
    cr_store_rc rc = CR_STORE_OK;
    int64_t cur = 0, next = 0;
    int src = step_done(s->stmt[ST_BEGIN]);
    if (src != SQLITE_OK) {
        rc = sq_fail(s, err, src, "starting a write");
        goto done;
    }
    rc = current_version(s, in->tenant_id, ST_VERSION, &cur, err);
    if (rc != CR_STORE_OK)
        goto done;

    if (expect == CR_VERSION_ABSENT && cur > 0) {
        rc = cr_store_err_exists(err, in->tenant_id, cur);
        goto done;
    }
    if (expect > 0 && cur != expect) {
        rc = cr_store_err_changed(err, in->tenant_id, expect, cur);
        goto done;
    }
    if (cur == 0) {
        /* Created (or re-created): continue after the retired version. */
        int64_t retired = 0;
        sqlite3_stmt *st = s->stmt[ST_RETIRED_GET];
        sqlite3_bind_text(st, 1, in->tenant_id, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
        if (src == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
            retired = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (src != SQLITE_ROW && src != SQLITE_DONE) {
            rc = sq_fail(s, err, src, "reading a retired version");
            goto done;
        }
        cur = retired > 0 ? retired : 0;
    }
    if (cur == INT64_MAX) {
        rc = cr_store_err_set(err, CR_STORE_INVALID,
            "tenant \"%s\" has exhausted its versions",
            cr_store_printable(in->tenant_id, buf));
        goto done;
    }
    next = cur + 1;

    sqlite3_stmt *up = s->stmt[ST_UPSERT];
    bind_text(up, 1, in->tenant_id);
    bind_text(up, 2, in->cell_id);
    bind_text(up, 3, in->endpoint);
    bind_text(up, 4, in->standby_cell_id);
    bind_text(up, 5, in->standby_endpoint);
    bind_text(up, 6, labels);
    sqlite3_bind_int64(up, 7, next);
    bind_text(up, 8, stamp);
    if ((src = step_done(up)) != SQLITE_OK) {
        rc = sq_fail(s, err, src, "writing an entry");
        goto done;
    }
    sqlite3_bind_text(s->stmt[ST_RETIRED_DEL], 1, in->tenant_id, -1,
                      SQLITE_STATIC);
    if ((src = step_done(s->stmt[ST_RETIRED_DEL])) != SQLITE_OK) {
        rc = sq_fail(s, err, src, "writing an entry");
        goto done;
    }
    if ((src = step_done(s->stmt[ST_COMMIT])) != SQLITE_OK)
        rc = sq_fail(s, err, src, "committing a write");

done:
    if (rc != CR_STORE_OK) {
        rollback(s);
        cr_log(rc == CR_STORE_IO || rc == CR_STORE_NOMEM ? CR_LOG_WARN
                                                         : CR_LOG_DEBUG,
               "store", "put tenant %s refused: %s", in->tenant_id,
               err ? err->msg : cr_store_rc_name(rc));
    }
    pthread_mutex_unlock(&s->mu);
    free(labels);
    if (rc != CR_STORE_OK) {
        free(stamp);
        cr_entry_free(out);
        return rc;
    }
    cr_log_debug("store", "put tenant %s (expected %lld): version %lld",
                 in->tenant_id, (long long)expect, (long long)next);
    if (out) {
        out->version = next;
        out->updated_at = stamp;
        *written = out;
    } else {
        free(stamp);
    }
    return CR_STORE_OK;
}

/* The start of every delete, in its transaction: BEGIN, the current
 * version (`cell`: of a cell's definition, else of a tenant's entry),
 * NOT_FOUND when there is none, CONFLICT when it is not `expect`. An
 * unreadable version can still be deleted unconditionally: that is how an
 * operator clears a damaged row. Caller holds the mutex, and rolls back
 * on failure. */
static cr_store_rc begin_delete(sq_store *s, const char *id, bool cell,
                                int64_t expect, int64_t *cur,
                                cr_store_err *err)
{
    int src = step_done(s->stmt[ST_BEGIN]);
    if (src != SQLITE_OK)
        return sq_fail(s, err, src, "starting a delete");
    cr_store_rc rc = current_version(s, id, cell ? ST_CELL_VERSION
                                                 : ST_VERSION, cur, err);
    if (rc == CR_STORE_INVALID && *cur == -1 && expect == CR_VERSION_ANY) {
        cr_store_err_clear(err);
        rc = CR_STORE_OK;
    }
    if (rc != CR_STORE_OK)
        return rc;
    if (*cur == 0)
        return cell ? cr_store_err_no_cell(err, id)
                    : cr_store_err_no_entry(err, id);
    if (expect > 0 && *cur != expect)
        return cell ? cr_store_err_cell_changed(err, id, false, expect, *cur)
                    : cr_store_err_changed(err, id, expect, *cur);
    return CR_STORE_OK;
}

static cr_store_rc sq_del(cr_store *base, const char *tenant_id,
                          int64_t expect, cr_store_err *err)
{
    sq_store *s = (sq_store *)base;
    char buf[CR_STORE_PRINTABLE];
    cr_store_err_clear(err);
    cr_store_rc rc = cr_store_check_tenant_arg(tenant_id, err);
    if (rc != CR_STORE_OK)
        return rc;
    if ((rc = cr_store_check_expect(expect, true, err)) != CR_STORE_OK)
        return rc;

    pthread_mutex_lock(&s->mu);
    int64_t cur = 0;
    int src;
    if ((rc = begin_delete(s, tenant_id, false, expect, &cur, err)))
        goto done;
    sqlite3_bind_text(s->stmt[ST_DELETE], 1, tenant_id, -1, SQLITE_STATIC);
    if ((src = step_done(s->stmt[ST_DELETE])) != SQLITE_OK) {
        rc = sq_fail(s, err, src, "deleting an entry");
        goto done;
    }
    if (cur > 0) {
        sqlite3_stmt *st = s->stmt[ST_RETIRED_PUT];
        sqlite3_bind_text(st, 1, tenant_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, cur);
        if ((src = step_done(st)) != SQLITE_OK) {
            rc = sq_fail(s, err, src, "deleting an entry");
            goto done;
        }
    }
    if ((src = step_done(s->stmt[ST_COMMIT])) != SQLITE_OK)
        rc = sq_fail(s, err, src, "committing a delete");
done:
    if (rc != CR_STORE_OK) {
        rollback(s);
        cr_log(rc == CR_STORE_IO || rc == CR_STORE_NOMEM ? CR_LOG_WARN
                                                         : CR_LOG_DEBUG,
               "store", "delete tenant %s refused: %s",
               cr_store_printable(tenant_id, buf),
               err ? err->msg : cr_store_rc_name(rc));
    } else {
        cr_log_debug("store", "deleted tenant %s (version %lld)", tenant_id,
                     (long long)cur);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* The smallest string greater than every string starting with `prefix`:
 * the prefix with trailing 0xff bytes dropped and its last byte incremented.
 * NULL (no upper bound) when there is no such string or on ENOMEM (*nomem). */
static char *prefix_upper_bound(const char *prefix, bool *nomem)
{
    size_t n = strlen(prefix);
    while (n > 0 && (unsigned char)prefix[n - 1] == 0xff)
        n--;
    if (n == 0)
        return NULL;
    char *hi = strndup(prefix, n);
    if (!hi) {
        *nomem = true;
        return NULL;
    }
    hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
    return hi;
}

static cr_store_rc sq_list(cr_store *base, const char *prefix,
                           cr_entry_list *out, cr_store_err *err)
{
    sq_store *s = (sq_store *)base;
    cr_store_err_clear(err);
    memset(out, 0, sizeof(*out));
    if (!prefix)
        prefix = "";
    bool nomem = false;
    char *hi = prefix_upper_bound(prefix, &nomem);
    if (nomem)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");

    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st;
    if (!*prefix) {
        st = s->stmt[ST_LIST_ALL];
    } else if (!hi) {
        st = s->stmt[ST_LIST_FROM];
        sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
    } else {
        st = s->stmt[ST_LIST_RANGE];
        sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
    }
    cr_store_rc rc = CR_STORE_OK;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        cr_entry *e = cr_entry_list_push(out);
        if (!e) {
            rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
            break;
        }
        if ((rc = row_to_entry(s, st, e, err)) != CR_STORE_OK) {
            out->len--;
            break;
        }
    }
    if (rc == CR_STORE_OK && src != SQLITE_DONE)
        rc = sq_fail(s, err, src, "listing entries");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->mu);
    free(hi);
    if (rc != CR_STORE_OK)
        cr_entry_list_free(out);
    return rc;
}

static cr_store_rc read_rows(sq_store *s, sqlite3_stmt *st, cr_entry_list *out,
                             cr_store_err *err);

/* One page of a listing. The cursor is the last tenant id of the page
 * before: the page starts at the smallest id after it, which is that id
 * followed by a NUL byte (ids never hold one, and SQLite compares TEXT
 * bytewise over its whole length), or at the prefix if that comes later.
 * A full page hands its last id on as the next cursor. */
static cr_store_rc sq_list_page(cr_store *base, const char *prefix,
                                const char *cursor, size_t max,
                                cr_entry_list *out, char **next,
                                cr_store_err *err)
{
    sq_store *s = (sq_store *)base;
    cr_store_err_clear(err);
    memset(out, 0, sizeof(*out));
    *next = NULL;
    if (!prefix)
        prefix = "";
    if (max == 0 || max > INT32_MAX)
        return cr_store_err_set(err, CR_STORE_INVALID, "a page holds 1 to "
                                "%d entries", INT32_MAX);
    bool nomem = false;
    char *hi = prefix_upper_bound(prefix, &nomem);
    if (nomem)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    const char *lo = prefix;
    int lolen = (int)strlen(prefix);
    if (cursor && *cursor && strcmp(cursor, prefix) >= 0) {
        lo = cursor;
        lolen = (int)strlen(cursor) + 1;    /* with its NUL: just after */
    }
    if (hi && strcmp(lo, hi) >= 0) {
        free(hi);
        return CR_STORE_OK;                 /* past the prefix: done */
    }

    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->stmt[hi ? ST_PAGE_RANGE : ST_PAGE_FROM];
    sqlite3_bind_text(st, 1, lo, lolen, SQLITE_STATIC);
    if (hi)
        sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, hi ? 3 : 2, (sqlite3_int64)max);
    cr_store_rc rc = read_rows(s, st, out, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->mu);
    free(hi);
    if (rc == CR_STORE_OK && out->len == max &&
        !(*next = strdup(out->items[out->len - 1].tenant_id)))
        rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    if (rc != CR_STORE_OK)
        cr_entry_list_free(out);
    return rc;
}

/* ---- batches ------------------------------------------------------------
 *
 * One BEGIN IMMEDIATE ... COMMIT per batch: every condition is checked
 * first (all of them, so a refusal names every key that does not match),
 * then every write is done, then one commit (one fsync of the WAL for the
 * whole batch, which is what makes 100,000 writes affordable). Any failure
 * rolls the whole batch back.
 */

/* The version a (re-)created entry (ST_RETIRED_GET) or cell definition
 * (ST_CELL_RETIRED_GET) continues from. */
static cr_store_rc retired_version(sq_store *s, int stmt, const char *id,
                                   int64_t *out, cr_store_err *err)
{
    sqlite3_stmt *st = s->stmt[stmt];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    *out = 0;
    if (src == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
        sqlite3_column_int64(st, 0) > 0)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        return sq_fail(s, err, src, "reading a retired version");
    return CR_STORE_OK;
}

static cr_store_rc batch_write(sq_store *s, cr_batch_op *op, int64_t cur,
                               const char *labels, const char *stamp,
                               cr_store_err *err)
{
    char buf[CR_STORE_PRINTABLE];
    int src;
    if (op->kind == CR_BATCH_DELETE) {
        if (cur == 0) {
            op->rc = CR_STORE_NOT_FOUND;
            return CR_STORE_OK;
        }
        sqlite3_bind_text(s->stmt[ST_DELETE], 1, op->tenant_id, -1,
                          SQLITE_STATIC);
        if ((src = step_done(s->stmt[ST_DELETE])) != SQLITE_OK)
            return sq_fail(s, err, src, "deleting an entry");
        if (cur > 0) {
            sqlite3_stmt *st = s->stmt[ST_RETIRED_PUT];
            sqlite3_bind_text(st, 1, op->tenant_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, cur);
            if ((src = step_done(st)) != SQLITE_OK)
                return sq_fail(s, err, src, "deleting an entry");
        }
        return CR_STORE_OK;
    }
    const cr_entry *in = op->entry;
    if (cur == 0) {
        cr_store_rc rc = retired_version(s, ST_RETIRED_GET, in->tenant_id,
                                         &cur, err);
        if (rc != CR_STORE_OK)
            return rc;
    }
    if (cur == INT64_MAX) {
        op->rc = CR_STORE_INVALID;
        return cr_store_err_set(err, CR_STORE_INVALID,
            "tenant \"%s\" has exhausted its versions",
            cr_store_printable(in->tenant_id, buf));
    }
    sqlite3_stmt *up = s->stmt[ST_UPSERT];
    bind_text(up, 1, in->tenant_id);
    bind_text(up, 2, in->cell_id);
    bind_text(up, 3, in->endpoint);
    bind_text(up, 4, in->standby_cell_id);
    bind_text(up, 5, in->standby_endpoint);
    bind_text(up, 6, labels);
    sqlite3_bind_int64(up, 7, cur + 1);
    bind_text(up, 8, stamp);
    if ((src = step_done(up)) != SQLITE_OK)
        return sq_fail(s, err, src, "writing an entry");
    sqlite3_bind_text(s->stmt[ST_RETIRED_DEL], 1, in->tenant_id, -1,
                      SQLITE_STATIC);
    if ((src = step_done(s->stmt[ST_RETIRED_DEL])) != SQLITE_OK)
        return sq_fail(s, err, src, "writing an entry");
    op->version = cur + 1;
    snprintf(op->updated_at, sizeof op->updated_at, "%s", stamp);
    return CR_STORE_OK;
}

static cr_store_rc sq_batch(cr_store *base, cr_batch_op *ops, size_t n,
                            cr_store_err *err)
{
    sq_store *s = (sq_store *)base;
    cr_store_rc rc = CR_STORE_OK;
    char **labels = calloc(n ? n : 1, sizeof *labels);
    int64_t *cur = calloc(n ? n : 1, sizeof *cur);
    char stamp[CR_STORE_TIME_LEN];

    if (!labels || !cur) {
        free(labels);
        free(cur);
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (ops[i].kind != CR_BATCH_PUT || !ops[i].entry->has_labels)
            continue;
        if (!(labels[i] = labels_to_json(ops[i].entry))) {
            rc = cr_store_err_set(err, CR_STORE_NOMEM,
                                  "out of memory encoding labels");
            goto out;
        }
    }
    cr_store_now(stamp);

    pthread_mutex_lock(&s->mu);
    int src = step_done(s->stmt[ST_BEGIN]);
    if (src != SQLITE_OK) {
        rc = sq_fail(s, err, src, "starting a batch");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const char *id = ops[i].kind == CR_BATCH_PUT ? ops[i].entry->tenant_id
                                                     : ops[i].tenant_id;
        rc = current_version(s, id, ST_VERSION, &cur[i], err);
        /* As for a single delete: an unconditional delete clears a row
         * whose version is damaged. */
        if (rc == CR_STORE_INVALID && cur[i] == -1 &&
            ops[i].kind == CR_BATCH_DELETE &&
            ops[i].expect == CR_VERSION_ANY) {
            cr_store_err_clear(err);
            rc = CR_STORE_OK;
        }
        if (rc != CR_STORE_OK) {
            ops[i].rc = rc;
            goto done;
        }
        cr_store_batch_condition(&ops[i], cur[i]);
    }
    if ((rc = cr_store_batch_refused(ops, n, err)) != CR_STORE_OK)
        goto done;
    for (size_t i = 0; i < n && rc == CR_STORE_OK; i++)
        rc = batch_write(s, &ops[i], cur[i], labels[i], stamp, err);
    if (rc != CR_STORE_OK)
        goto done;
    if ((src = step_done(s->stmt[ST_COMMIT])) != SQLITE_OK)
        rc = sq_fail(s, err, src, "committing a batch");
done:
    if (rc != CR_STORE_OK) {
        rollback(s);
        for (size_t i = 0; i < n; i++) {
            ops[i].version = 0;
            ops[i].updated_at[0] = '\0';
        }
        cr_log(rc == CR_STORE_IO || rc == CR_STORE_NOMEM ? CR_LOG_WARN
                                                         : CR_LOG_DEBUG,
               "store", "batch of %zu refused: %s", n,
               err ? err->msg : cr_store_rc_name(rc));
    } else {
        for (size_t i = 0; i < n; i++)
            ops[i].applied = true;
        cr_log_debug("store", "batch of %zu written", n);
    }
    pthread_mutex_unlock(&s->mu);
out:
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    free(cur);
    return rc;
}

/* Reads every row of a prepared SELECT ENTRY_COLS into `out`. Caller holds
 * the mutex and resets the statement. */
/* Appends the current row of `st` to `out`, checked (row_to_entry). */
static cr_store_rc read_row(sq_store *s, sqlite3_stmt *st, cr_entry_list *out,
                            cr_store_err *err)
{
    cr_entry *e = cr_entry_list_push(out);
    if (!e)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    cr_store_rc rc = row_to_entry(s, st, e, err);
    if (rc != CR_STORE_OK)
        out->len--;
    return rc;
}

static cr_store_rc read_rows(sq_store *s, sqlite3_stmt *st, cr_entry_list *out,
                             cr_store_err *err)
{
    cr_store_rc rc = CR_STORE_OK;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = read_row(s, st, out, err)) != CR_STORE_OK)
            return rc;
    if (src != SQLITE_DONE)
        rc = sq_fail(s, err, src, "reading entries");
    return rc;
}

/* Compares a stored tenant id (n bytes, anything) with a valid one as
 * SQLite's BINARY collation does: bytes first, then length. */
static int cmp_row_id(const unsigned char *r, size_t n, const char *id)
{
    const unsigned char *u = (const unsigned char *)id;
    size_t k = 0;
    for (; k < n && u[k]; k++)
        if (r[k] != u[k])
            return r[k] < u[k] ? -1 : 1;
    if (k < n)
        return 1;
    return u[k] ? -1 : 0;
}

static int cmp_id_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The asked ids (sorted, unique, valid) against the primary key, in one
 * ordered walk: every row from the first asked id to the last is either
 * the next asked one (decoded and checked) or skipped after comparing its
 * id; an asked id the walk passes is absent. Rows nobody asked for are not
 * decoded, as with the lookup. For a dense request (one resource's
 * tenants, the common case) this costs a third of a lookup per id: no
 * temporary index of the ids, no b-tree descent per id.
 *
 * A sparse request would walk many rows per asked id, so the walk gives
 * up once it has skipped more than twice the rows it used (a skipped row
 * costs about half of what a lookup adds per id; re-seeking the walk
 * instead costs a statement reset, more than a lookup): *done is then the
 * first id not dealt with, for get_many_lookup. Only for a map whose
 * schema is ours (entries_ours): a foreign schema could order its key
 * differently (another collation), which would make the walk miss rows.
 * Caller holds the mutex. */
static cr_store_rc get_many_walk(sq_store *s, const char *const *want,
                                 size_t m, cr_entry_list *out, size_t *done,
                                 cr_store_err *err)
{
    sqlite3_stmt *st = s->stmt[ST_GET_SPAN];
    sqlite3_bind_text(st, 1, want[0], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, want[m - 1], -1, SQLITE_STATIC);
    cr_store_rc rc = CR_STORE_OK;
    size_t j = 0, used = 0, skipped = 0;
    int src = SQLITE_DONE;
    while (j < m && (src = sqlite3_step(st)) == SQLITE_ROW) {
        /* STRICT TEXT NOT NULL: always text; anything else cannot be an
         * asked id. */
        if (sqlite3_column_type(st, 0) != SQLITE_TEXT)
            continue;
        const unsigned char *r = sqlite3_column_text(st, 0);
        size_t rn = (size_t)sqlite3_column_bytes(st, 0);
        if (!r) {
            rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
            break;
        }
        int c = cmp_row_id(r, rn, want[j]);
        while (c > 0 && ++j < m)        /* asked ids the walk passed */
            c = cmp_row_id(r, rn, want[j]);
        if (j == m)
            break;
        if (c < 0) {
            if (++skipped > 2 * used + 64)
                break;                  /* sparse: look the rest up */
            continue;
        }
        if ((rc = read_row(s, st, out, err)) != CR_STORE_OK)
            break;
        j++;
        used++;
    }
    if (rc == CR_STORE_OK && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = sq_fail(s, err, src, "reading entries");
    if (src == SQLITE_DONE)
        j = m;                          /* nothing after: the rest absent */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    *done = j;
    return rc;
}

/* The same for any schema: each id looked up on the primary key, the ids
 * travelling as one JSON array. Caller holds the mutex. */
static cr_store_rc get_many_lookup(sq_store *s, const char *const *want,
                                   size_t m, cr_entry_list *out,
                                   cr_store_err *err)
{
    /* Valid ids need no JSON escaping. */
    size_t len = 3;
    for (size_t i = 0; i < m; i++)
        len += strlen(want[i]) + 3;
    char *json = malloc(len);
    if (!json)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    char *w = json;
    *w++ = '[';
    for (size_t i = 0; i < m; i++) {
        if (i)
            *w++ = ',';
        *w++ = '"';
        size_t k = strlen(want[i]);
        memcpy(w, want[i], k);
        w += k;
        *w++ = '"';
    }
    *w++ = ']';
    sqlite3_stmt *st = s->stmt[ST_GET_MANY];
    cr_store_rc rc;
    if ((size_t)(w - json) > (size_t)INT32_MAX) {
        rc = cr_store_err_set(err, CR_STORE_INVALID,
                              "too many tenants in one read");
    } else {
        sqlite3_bind_text(st, 1, json, (int)(w - json), SQLITE_STATIC);
        rc = read_rows(s, st, out, err);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    free(json);
    return rc;
}

static cr_store_rc sq_get_many(cr_store *base, const char *const *ids,
                               size_t n, cr_entry_list *out,
                               cr_store_err *err)
{
    sq_store *s = (sq_store *)base;

    /* Ids that break the map's rules cannot be in it (every row read back
     * is checked): they are dropped here. The rest are sorted and unique
     * (a resource's map keys already are: checked in one pass). */
    const char **want = malloc((n ? n : 1) * sizeof *want);
    if (!want)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    size_t m = 0;
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        if (cr_tenant_id_check(ids[i]))
            continue;
        if (m && sorted && strcmp(want[m - 1], ids[i]) >= 0)
            sorted = false;
        want[m++] = ids[i];
    }
    if (!sorted) {
        qsort(want, m, sizeof *want, cmp_id_ptr);
        size_t k = 0;
        for (size_t i = 0; i < m; i++)
            if (!k || strcmp(want[k - 1], want[i]) != 0)
                want[k++] = want[i];
        m = k;
    }
    cr_store_rc rc = CR_STORE_OK;
    if (m) {
        pthread_mutex_lock(&s->mu);
        size_t done = 0;
        if (s->entries_ours)
            rc = get_many_walk(s, want, m, out, &done, err);
        if (rc == CR_STORE_OK && done < m)
            rc = get_many_lookup(s, want + done, m - done, out, err);
        pthread_mutex_unlock(&s->mu);
    }
    free(want);
    if (rc != CR_STORE_OK)
        cr_entry_list_free(out);
    return rc;
}

/* ---- cells ----------------------------------------------------------------
 *
 * A cell's definition in `cells`, its serving record in `cell_states`, the
 * last version of a deleted definition in `retired_cell_versions`. Every
 * write is one BEGIN IMMEDIATE transaction, as for tenants: a definition
 * write never touches the serving record (nor a serving-record write the
 * definition), and a delete checks the tenants that name the cell, removes
 * the definition and drops the record in the same transaction, so no
 * tenant can start naming the cell in between.
 */

/* Moves what labels_from_json decoded into an entry onto the cell. */
static const char *cell_labels_from_json(const char *text, size_t len,
                                         cr_cell *c, bool *nomem)
{
    cr_entry tmp;
    memset(&tmp, 0, sizeof tmp);
    const char *bad = labels_from_json(text, len, &tmp, nomem);
    cr_cell_take_labels(c, &tmp);
    return bad;
}

static char *cell_labels_to_json(const cr_cell *c)
{
    cr_entry view = cr_cell_labels_view(c);
    return labels_to_json(&view);
}

/* The serving record in columns 6.. of a CELL_SELECT row: all NULL when
 * the cell has none. */
static const char *row_to_state(sqlite3_stmt *st, cr_cell_state *r,
                                const char **col, bool *nomem)
{
    const char *bad, *v;
    size_t n;
    memset(r, 0, sizeof *r);
    if (sqlite3_column_type(st, 6) == SQLITE_NULL &&
        sqlite3_column_type(st, 11) == SQLITE_NULL)
        return NULL;                        /* no record: serving */
    *col = "state";
    if ((bad = col_view(st, 6, false, &v, &n, nomem)))
        return bad;
    if (cr_cell_serving_parse(v, &r->state) != 0)
        return "is neither serving nor failed";
    *col = "reason";
    if ((bad = col_text(st, 7, false, &r->reason, nomem)))
        return bad;
    if ((bad = cr_cell_reason_check(r->reason)))
        return bad;
    *col = "changed_at";
    if ((bad = col_text(st, 8, false, &r->changed_at, nomem)))
        return bad;
    if (!cr_store_time_ok(r->changed_at))
        return "is not an RFC 3339 time";
    *col = "changed_by";
    if ((bad = col_text(st, 9, false, &r->changed_by, nomem)))
        return bad;
    if ((bad = cr_cell_changed_by_check(r->changed_by)))
        return bad;
    *col = "pinned";
    if (sqlite3_column_type(st, 10) != SQLITE_INTEGER ||
        (sqlite3_column_int64(st, 10) != 0 &&
         sqlite3_column_int64(st, 10) != 1))
        return "is not 0 or 1";
    r->pinned = sqlite3_column_int64(st, 10) == 1;
    *col = "version";
    if (sqlite3_column_type(st, 11) != SQLITE_INTEGER ||
        (r->version = sqlite3_column_int64(st, 11)) < 1)
        return "is not a positive integer";
    *col = "probe";
    if ((bad = col_text(st, 12, true, &r->probe, nomem)))
        return bad;
    if (r->probe) {
        json_error_t jerr;
        json_t *p = json_loads(r->probe, JSON_REJECT_DUPLICATES, &jerr);
        bool ok = json_is_object(p);
        json_decref(p);
        if (!ok)
            return "is not a JSON object";
    }
    *col = NULL;
    return NULL;
}

/* A damaged cell row: INVALID naming the cell by its raw id; c cleared. */
static cr_store_rc cell_damaged(sq_store *s, sqlite3_stmt *st, cr_cell *c,
                                const char *what, cr_store_err *err)
{
    const unsigned char *raw = sqlite3_column_type(st, 0) == SQLITE_TEXT
                                   ? sqlite3_column_text(st, 0) : NULL;
    char where[300];
    snprintf(where, sizeof where, "routing map %s", s->path);
    cr_store_err_cell_damaged(err, where, (const char *)raw, what);
    cr_cell_clear(c);
    return CR_STORE_INVALID;
}

/* Decodes the current row of a CELL_SELECT into *c (zeroed here). */
static cr_store_rc row_to_cell(sq_store *s, sqlite3_stmt *st, cr_cell *c,
                               cr_store_err *err)
{
    bool nomem = false;
    const char *bad = NULL, *col = NULL, *labels = NULL, *field = NULL;
    const char *prefix = "";
    size_t labels_len = 0;
    char what[300];
    memset(c, 0, sizeof *c);

    if ((bad = col_text(st, 0, false, &c->cell_id, &nomem))) { col = "cell_id"; goto fail; }
    if ((bad = col_text(st, 1, false, &c->endpoint, &nomem))) { col = "endpoint"; goto fail; }
    if ((bad = col_text(st, 2, true, &c->health_url, &nomem))) { col = "health_url"; goto fail; }
    if ((bad = col_view(st, 3, true, &labels, &labels_len, &nomem))) { col = "labels"; goto fail; }
    if (labels && (bad = cell_labels_from_json(labels, labels_len, c, &nomem))) { col = NULL; goto fail; }
    col = "version";
    if (sqlite3_column_type(st, 4) != SQLITE_INTEGER) { bad = "is not an integer"; goto fail; }
    if ((c->version = sqlite3_column_int64(st, 4)) < 1) { bad = "is not a positive integer"; goto fail; }
    col = "updated_at";
    if ((bad = col_text(st, 5, false, &c->updated_at, &nomem))) goto fail;
    if (!cr_store_time_ok(c->updated_at)) { bad = "is not an RFC 3339 time"; goto fail; }
    col = NULL;
    if ((bad = cr_cell_check(c, &field)))
        goto fail;
    prefix = "serving state: ";
    if ((bad = row_to_state(st, &c->serving, &col, &nomem)))
        goto fail;
    return CR_STORE_OK;
fail:
    if (nomem) {
        cr_cell_clear(c);
        return cr_store_err_set(err, CR_STORE_NOMEM,
                                "out of memory reading the routing map");
    }
    snprintf(what, sizeof what, "%s%s%s%s", prefix, col ? col : "",
             col ? " " : "", bad);
    return cell_damaged(s, st, c, what, err);
}

/* Runs a CELL_SELECT (bound) and decodes its one row into a new cell;
 * *out NULL when there is none. Caller holds the mutex. */
static cr_store_rc cell_read(sq_store *s, const char *cell_id, cr_cell **out,
                             cr_store_err *err)
{
    cr_cell *c = cr_cell_new();
    *out = NULL;
    if (!c)
        return cr_store_err_nomem(err);
    sqlite3_stmt *st = s->stmt[ST_CELL_GET];
    sqlite3_bind_text(st, 1, cell_id, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    cr_store_rc rc = CR_STORE_OK;
    if (src == SQLITE_ROW)
        rc = row_to_cell(s, st, c, err);
    else if (src != SQLITE_DONE)
        rc = sq_fail(s, err, src, "reading a cell");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == CR_STORE_OK && src == SQLITE_ROW)
        *out = c;
    else
        cr_cell_free(c);
    return rc;
}

static cr_store_rc sq_cell_get(cr_store *base, const char *cell_id,
                               cr_cell **out, cr_store_err *err)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->mu);
    cr_store_rc rc = cell_read(s, cell_id, out, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static cr_store_rc sq_cell_list(cr_store *base, cr_cell_list *out,
                                cr_store_err *err)
{
    sq_store *s = (sq_store *)base;
    cr_store_rc rc = CR_STORE_OK;
    int src;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->stmt[ST_CELL_LIST];
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        cr_cell *c = cr_cell_list_push(out);
        if (!c) {
            rc = cr_store_err_nomem(err);
            break;
        }
        if ((rc = row_to_cell(s, st, c, err)) != CR_STORE_OK) {
            out->len--;
            break;
        }
    }
    if (rc == CR_STORE_OK && src != SQLITE_DONE)
        rc = sq_fail(s, err, src, "listing cells");
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Commits, or rolls back after a failure; logs refusals as the tenant
 * writes do. Caller holds the mutex. */
static cr_store_rc cell_finish(sq_store *s, cr_store_rc rc, const char *what,
                               const char *cell_id, cr_store_err *err)
{
    if (rc == CR_STORE_OK) {
        int src = step_done(s->stmt[ST_COMMIT]);
        if (src != SQLITE_OK)
            rc = sq_fail(s, err, src, "committing a cell write");
    }
    if (rc != CR_STORE_OK) {
        rollback(s);
        cr_log(rc == CR_STORE_IO || rc == CR_STORE_NOMEM ? CR_LOG_WARN
                                                         : CR_LOG_DEBUG,
               "store", "%s of cell %s refused: %s", what, cell_id,
               err ? err->msg : cr_store_rc_name(rc));
    } else {
        cr_log_debug("store", "%s of cell %s written", what, cell_id);
    }
    return rc;
}

static cr_store_rc sq_cell_put(cr_store *base, const cr_cell *in,
                               int64_t expect, cr_cell **written,
                               cr_store_err *err)
{
    sq_store *s = (sq_store *)base;
    char stamp[CR_STORE_TIME_LEN];
    char *labels = cell_labels_to_json(in);
    if (in->has_labels && !labels)
        return cr_store_err_nomem(err);
    cr_store_now(stamp);

    pthread_mutex_lock(&s->mu);
    int64_t cur = 0;
    int src = step_done(s->stmt[ST_BEGIN]);
    cr_store_rc rc = src == SQLITE_OK ? CR_STORE_OK
                     : sq_fail(s, err, src, "starting a write");
    if (rc == CR_STORE_OK)
        rc = current_version(s, in->cell_id, ST_CELL_VERSION, &cur, err);
    if (rc != CR_STORE_OK)
        goto done;
    if (expect == CR_VERSION_ABSENT && cur > 0) {
        rc = cr_store_err_cell_exists(err, in->cell_id, cur);
        goto done;
    }
    if (expect > 0 && cur != expect) {
        rc = cr_store_err_cell_changed(err, in->cell_id, false, expect, cur);
        goto done;
    }
    if (cur == 0 &&
        (rc = retired_version(s, ST_CELL_RETIRED_GET, in->cell_id, &cur,
                              err)) != CR_STORE_OK)
        goto done;
    if (cur == INT64_MAX) {
        rc = cr_store_err_cell_exhausted(err, in->cell_id, false);
        goto done;
    }
    sqlite3_stmt *up = s->stmt[ST_CELL_UPSERT];
    bind_text(up, 1, in->cell_id);
    bind_text(up, 2, in->endpoint);
    bind_text(up, 3, in->health_url);
    bind_text(up, 4, labels);
    sqlite3_bind_int64(up, 5, cur + 1);
    bind_text(up, 6, stamp);
    sqlite3_stmt *rd = s->stmt[ST_CELL_RETIRED_DEL];
    if ((src = step_done(up)) != SQLITE_OK ||
        (sqlite3_bind_text(rd, 1, in->cell_id, -1, SQLITE_STATIC),
         (src = step_done(rd)) != SQLITE_OK)) {
        rc = sq_fail(s, err, src, "writing a cell");
        goto done;
    }
    /* Read back inside the transaction: the definition as stored, with
     * the serving record it keeps. */
    if (written)
        rc = cell_read(s, in->cell_id, written, err);
done:
    rc = cell_finish(s, rc, "definition", in->cell_id, err);
    pthread_mutex_unlock(&s->mu);
    if (rc != CR_STORE_OK && written) {
        cr_cell_free(*written);
        *written = NULL;
    }
    free(labels);
    return rc;
}

/* The tenants that name the cell: their number, and the first few ids
 * (copied into names, for the message). Caller holds the mutex. */
static cr_store_rc cell_tenants(sq_store *s, const char *cell_id, size_t *n,
                                char names[3][CR_STORE_PRINTABLE],
                                size_t *nnames, cr_store_err *err)
{
    sqlite3_stmt *st = s->stmt[ST_CELL_TENANTS];
    sqlite3_bind_text(st, 1, cell_id, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    *n = src == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    *nnames = 0;
    if (src != SQLITE_ROW)
        return sq_fail(s, err, src, "counting a cell's tenants");
    if (*n == 0)
        return CR_STORE_OK;
    st = s->stmt[ST_CELL_TENANTS_SOME];
    sqlite3_bind_text(st, 1, cell_id, -1, SQLITE_STATIC);
    while (*nnames < 3 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        cr_store_printable(t ? (const char *)t : "?", names[(*nnames)++]);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return CR_STORE_OK;
}

static cr_store_rc sq_cell_del(cr_store *base, const char *cell_id,
                               int64_t expect, size_t *tenants,
                               cr_store_err *err)
{
    sq_store *s = (sq_store *)base;
    char names[3][CR_STORE_PRINTABLE];
    const char *some[3] = {names[0], names[1], names[2]};
    size_t nnames = 0;
    int64_t cur = 0;

    pthread_mutex_lock(&s->mu);
    int src;
    cr_store_rc rc = begin_delete(s, cell_id, true, expect, &cur, err);
    if (rc != CR_STORE_OK)
        goto done;
    if ((rc = cell_tenants(s, cell_id, tenants, names, &nnames, err)))
        goto done;
    if (*tenants > 0) {
        rc = cr_store_err_cell_in_use(err, cell_id, *tenants, some, nnames);
        goto done;
    }
    sqlite3_stmt *del = s->stmt[ST_CELL_DELETE];
    sqlite3_stmt *ret = s->stmt[ST_CELL_RETIRED_PUT];
    sqlite3_stmt *sdel = s->stmt[ST_STATE_DELETE];
    sqlite3_bind_text(del, 1, cell_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(ret, 1, cell_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ret, 2, cur > 0 ? cur : 1);
    sqlite3_bind_text(sdel, 1, cell_id, -1, SQLITE_STATIC);
    if ((src = step_done(del)) != SQLITE_OK ||
        (src = step_done(ret)) != SQLITE_OK ||
        (src = step_done(sdel)) != SQLITE_OK)
        rc = sq_fail(s, err, src, "deleting a cell");
done:
    rc = cell_finish(s, rc, "delete", cell_id, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static cr_store_rc sq_cell_set_state(cr_store *base, const char *cell_id,
                                     const cr_cell_state *in, int64_t expect,
                                     cr_cell **written, cr_store_err *err)
{
    sq_store *s = (sq_store *)base;
    char stamp[CR_STORE_TIME_LEN];
    int64_t def = 0, cur = 0;
    cr_store_now(stamp);

    pthread_mutex_lock(&s->mu);
    int src = step_done(s->stmt[ST_BEGIN]);
    cr_store_rc rc = src == SQLITE_OK ? CR_STORE_OK
                     : sq_fail(s, err, src, "starting a write");
    if (rc == CR_STORE_OK)
        rc = current_version(s, cell_id, ST_CELL_VERSION, &def, err);
    if (rc == CR_STORE_OK)
        rc = current_version(s, cell_id, ST_STATE_VERSION, &cur, err);
    if (rc != CR_STORE_OK)
        goto done;
    if (def == 0) {
        rc = cr_store_err_no_cell(err, cell_id);
        goto done;
    }
    if (expect != CR_VERSION_ANY && cur != expect) {
        rc = cr_store_err_cell_changed(err, cell_id, true, expect, cur);
        goto done;
    }
    if (cur == INT64_MAX) {
        rc = cr_store_err_cell_exhausted(err, cell_id, true);
        goto done;
    }
    sqlite3_stmt *up = s->stmt[ST_STATE_UPSERT];
    bind_text(up, 1, cell_id);
    bind_text(up, 2, cr_cell_serving_name(in->state));
    bind_text(up, 3, in->reason ? in->reason : "");
    bind_text(up, 4, stamp);
    bind_text(up, 5, in->changed_by);
    sqlite3_bind_int64(up, 6, in->pinned ? 1 : 0);
    sqlite3_bind_int64(up, 7, cur + 1);
    if ((src = step_done(up)) != SQLITE_OK) {
        rc = sq_fail(s, err, src, "writing a cell's serving state");
        goto done;
    }
    if (written)
        rc = cell_read(s, cell_id, written, err);
done:
    rc = cell_finish(s, rc, "serving state", cell_id, err);
    pthread_mutex_unlock(&s->mu);
    if (rc != CR_STORE_OK && written) {
        cr_cell_free(*written);
        *written = NULL;
    }
    return rc;
}

static const cr_store_cell_ops SQ_CELL_OPS = {
    .get = sq_cell_get,
    .list = sq_cell_list,
    .put = sq_cell_put,
    .del = sq_cell_del,
    .set_state = sq_cell_set_state,
};

static void sq_close(cr_store *base)
{
    sq_store *s = (sq_store *)base;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static const cr_store_ops SQ_OPS = {
    .name = "sqlite",
    .get = sq_get,
    .put = sq_put,
    .del = sq_del,
    .list = sq_list,
    .list_page = sq_list_page,
    .close = sq_close,
    .batch = sq_batch,
    .get_many = sq_get_many,
    .cells = &SQ_CELL_OPS,
};

/* ---- opening ----------------------------------------------------------- */

/* Runs one statement that returns at most one row; copies column 0 as text
 * into buf (if given) or as an integer into *ival (if given). */
static int exec_one(sqlite3 *db, const char *sql, char *buf, size_t bufsz,
                    int64_t *ival)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (buf) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(buf, bufsz, "%s", t ? (const char *)t : "");
        }
        if (ival)
            *ival = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Switching a new file to WAL needs an exclusive lock taken while holding
 * a shared one; two connections doing it at once would deadlock, so SQLite
 * fails one of them at once with SQLITE_BUSY instead of calling the busy
 * handler. Retrying (the other one will have switched the file by then)
 * for up to the busy timeout makes concurrent first opens safe. */
static int set_wal(sqlite3 *db, char *mode, size_t modesz)
{
    const struct timespec pause = {0, 10 * 1000 * 1000};
    for (int waited_ms = 0;; waited_ms += 10) {
        int rc = exec_one(db, "PRAGMA journal_mode=WAL", mode, modesz, NULL);
        if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= CR_SQLITE_BUSY_MS)
            return rc;
        nanosleep(&pause, NULL);
    }
}

/* Creates the schema in a new file, or checks that an existing file is a
 * routing map this code understands. Later schema versions add a case
 * here: each migration runs in the same IMMEDIATE transaction. */
static cr_store_rc migrate(sq_store *s, cr_store_err *err)
{
    int64_t uv = 0, nobj = 0;
    /* The common case, a map already at this schema, needs no write lock:
     * opening for a read never waits for (or blocks) a writer. */
    int rc = exec_one(s->db, "PRAGMA user_version", NULL, 0, &uv);
    if (rc != SQLITE_OK)
        return sq_fail(s, err, rc, "reading the schema version");
    if (uv == CR_SQLITE_SCHEMA_VERSION)
        return CR_STORE_OK;
    rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(s, err, rc, "starting to check the schema");
    if ((rc = exec_one(s->db, "PRAGMA user_version", NULL, 0, &uv)) ||
        (rc = exec_one(s->db, "SELECT count(*) FROM sqlite_schema", NULL, 0,
                       &nobj))) {
        sq_fail(s, err, rc, "reading the schema");
        goto fail;
    }
    if (uv == 0) {
        if (nobj != 0) {
            cr_store_err_set(err, CR_STORE_INVALID,
                "%s is a SQLite database but not a cellrouter routing map "
                "(it has tables and no routing-map schema version)", s->path);
            goto fail;
        }
        if ((rc = sqlite3_exec(s->db, SCHEMA_V1, NULL, NULL, NULL)) ||
            (rc = sqlite3_exec(s->db, SCHEMA_V2, NULL, NULL, NULL))) {
            sq_fail(s, err, rc, "creating the schema");
            goto fail;
        }
    } else if (uv == 1) {
        /* Schema 1 (before cells): the cell tables are added, nothing
         * else changes; an older cellrouter then refuses the file with
         * "upgrade cellrouter" rather than ignoring the cells. */
        if ((rc = sqlite3_exec(s->db, SCHEMA_V2, NULL, NULL, NULL))) {
            sq_fail(s, err, rc, "upgrading the schema from version 1 to 2");
            goto fail;
        }
        cr_log_info("store", "routing map %s: schema upgraded from version "
                    "1 to 2 (cells)", s->path);
    } else if (uv > CR_SQLITE_SCHEMA_VERSION || uv < 0) {
        cr_store_err_set(err, CR_STORE_INVALID,
            "routing map %s has schema version %lld; this cellrouter "
            "understands up to %d (upgrade cellrouter)", s->path,
            (long long)uv, CR_SQLITE_SCHEMA_VERSION);
        goto fail;
    }
    if ((rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL))) {
        sq_fail(s, err, rc, "creating the schema");
        goto fail;
    }
    return CR_STORE_OK;
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return err ? err->rc : CR_STORE_INVALID;
}

const char *cr_store_sqlite_default_path(void)
{
    const char *p = getenv("CELLROUTER_DB");
    return (p && *p) ? p : "cellrouter.db";
}

cr_store_rc cr_store_sqlite_open(const char *path, cr_store **out,
                                 cr_store_err *err)
{
    cr_store_err_clear(err);
    *out = NULL;
    if (!path || !*path)
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "the routing map path must not be empty");
    if (strlen(path) > 4096)
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "the routing map path is too long");
    /* This SQLite is built with URI filenames on: a path such as
     * "file:x?mode=memory" would be read as options, and ":memory:" names
     * no file at all. "./" keeps every path a plain file name. */
    bool uri_like = strncasecmp(path, "file:", 5) == 0 || path[0] == ':';
    size_t plen = strlen(path) + (uri_like ? 2 : 0);
    sq_store *s = calloc(1, sizeof(*s) + plen + 1);
    if (!s)
        return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
    snprintf(s->path, plen + 1, "%s%s", uri_like ? "./" : "", path);
    s->base.ops = &SQ_OPS;
    pthread_mutex_init(&s->mu, NULL);

    cr_store_rc rc;
    char ebuf[260];
    int src = sqlite3_open_v2(s->path, &s->db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                              SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        if (!s->db)
            rc = cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
        else
            rc = cr_store_err_set(err, CR_STORE_IO,
                                  "cannot open routing map %s: %s", s->path,
                                  db_errmsg(s->db, ebuf));
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, CR_SQLITE_BUSY_MS);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);

    char mode[16] = "";
    if ((src = set_wal(s->db, mode, sizeof mode)) != SQLITE_OK) {
        rc = sq_fail(s, err, src, "switching to write-ahead logging");
        goto fail;
    }
    if (strcasecmp(mode, "wal") != 0) {
        rc = cr_store_err_set(err, CR_STORE_IO,
            "routing map %s cannot use write-ahead logging (journal mode "
            "stays \"%s\"); put it on a local file system", s->path, mode);
        goto fail;
    }
    if ((src = sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL,
                            NULL)) != SQLITE_OK) {
        rc = sq_fail(s, err, src, "opening");
        goto fail;
    }
    if ((rc = migrate(s, err)) != CR_STORE_OK)
        goto fail;
    /* The ordered walk of get_many relies on the key being ordered as
     * this code created it (BINARY collation on UTF-8 text); a map made
     * or altered by something else is read with one lookup per id. */
    char sql[sizeof ENTRIES_V1 + 1] = "", enc[16] = "";
    s->entries_ours =
        exec_one(s->db, "SELECT sql FROM sqlite_schema WHERE type = 'table' "
                 "AND name = 'entries'", sql, sizeof sql, NULL) == SQLITE_OK &&
        strcmp(sql, ENTRIES_V1) == 0 &&
        exec_one(s->db, "PRAGMA encoding", enc, sizeof enc, NULL) ==
            SQLITE_OK &&
        strcmp(enc, "UTF-8") == 0;
    for (int i = 0; i < ST_COUNT; i++) {
        src = sqlite3_prepare_v3(s->db, STMT_SQL[i], -1,
                                 SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
        if (src != SQLITE_OK) {
            rc = cr_store_err_set(err, CR_STORE_INVALID,
                "%s is not a usable cellrouter routing map: %s", s->path,
                db_errmsg(s->db, ebuf));
            goto fail;
        }
    }
    cr_log_debug("store", "opened routing map %s (SQLite %s, WAL, "
                 "synchronous=FULL, schema %d)", s->path, sqlite3_libversion(),
                 CR_SQLITE_SCHEMA_VERSION);
    *out = &s->base;
    return CR_STORE_OK;
fail:
    cr_log_warn("store", "cannot open routing map %s: %s", s->path,
                err ? err->msg : cr_store_rc_name(rc));
    sq_close(&s->base);
    return rc;
}
