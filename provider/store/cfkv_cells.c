/*
 * store/cfkv_cells.c — the cells of the routing map in Workers KV (store.h,
 * "cells"), in the layout the edge router and its health prober read and
 * write (README, "Cells"; agreed in CELLS-CONTRACT.md):
 *
 *   _cellrouter.cell.<id>          one pair per cell, Terraform's: value =
 *                                  the ingest endpoint, metadata = the
 *                                  definition {"schema":1,"cell_id",
 *                                  "endpoint","health_url","labels",
 *                                  "version","updated_at"}
 *   _cellrouter.cells              one pair for all cells: value = the
 *                                  serving-state document {"schema":1,
 *                                  "updated_at","cells":{<id>:{"state",
 *                                  "reason","changed_at","changed_by",
 *                                  "pinned","version","probe"?}}}
 *   _cellrouter.cell-retired.<id>  a deleted definition's last version
 *                                  (value "retired", metadata {"cell_id",
 *                                  "version"}), outside the definitions'
 *                                  prefix so the prober never lists it
 *
 * Every key starts with `_cellrouter.`, which no tenant id can (they start
 * with a letter or a digit): tenant listings skip them (cloudflare_kv.c).
 *
 * Requests (Cloudflare rations them, 1,200 per 5 minutes):
 *   every cell, or one cell         one listing page per 1,000 cells + one
 *                                   document read; reads within
 *                                   CELLS_FRESH_MS share it, so a refresh
 *                                   of N cellrouter_cell resources costs 2
 *   a definition's create/update    1 bulk read (definition, its tombstone,
 *                                   the document) + 1 bulk write
 *   a serving-state write           1 bulk read (definition, document) + 1
 *                                   bulk write of the document
 *   a definition's delete           1 bulk read + a listing of the whole
 *                                   namespace (the tenants that name the
 *                                   cell; 1 page per 1,000 keys) + 1 bulk
 *                                   write (tombstone, document without the
 *                                   cell's record) + 1 bulk delete
 *
 * The document. Several writers share one value: operators (cellctl, here)
 * and the prober. Workers KV has no compare-and-swap, so a serving-state
 * write reads the document right before it writes it, checks that the
 * record it changes is still at the version the caller expects, changes
 * only that record's own fields, and keeps everything else as read: other
 * cells' records, the record's `probe` and any key a newer writer added.
 * Between that read and the write another writer can slip in (the window
 * of one round trip, plus KV's own propagation); the last write wins, as
 * for tenants. A document that cannot be read as one is reported and never
 * overwritten.
 */
#include "store/cfkv.h"

#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG              "store"
#define CELL_PREFIX      CFKV_RESERVED_PREFIX "cell."
#define CELL_TOMB_PREFIX CFKV_RESERVED_PREFIX "cell-retired."
#define STATES_KEY       CFKV_RESERVED_PREFIX "cells"
#define CELL_SCHEMA      1
#define STATES_SCHEMA    1
/* [kvlim] "Value size: 25 MiB" (about 300 bytes a cell: far from it). */
#define STATES_MAX       (25u << 20)
/* How long a read of every cell answers further reads. Workers KV's own
 * reads may lag a write made elsewhere by up to a minute, so a few seconds
 * more change nothing a reader can rely on; writes through this handle
 * drop it at once. */
#define CELLS_FRESH_MS   5000L

static void cell_key(const char *prefix, const char *id, char out[CFKV_KEYBUF])
{
    snprintf(out, CFKV_KEYBUF, "%s%s", prefix, id);
}

static const char *ns_where(const cfkv *s, char *buf, size_t cap)
{
    snprintf(buf, cap, "Workers KV namespace %s", s->namespace_id);
    return buf;
}

/* ---- definitions ----------------------------------------------------------- */

static json_t *cell_metadata(const cr_cell *c)
{
    bool nomem = false;
    cr_entry view = cr_cell_labels_view(c);
    json_t *labels = cr_store_labels_to_json(&view, &nomem);
    json_t *o = json_object();
    int bad = !o || nomem ||
              json_object_set_new(o, "schema", json_integer(CELL_SCHEMA)) ||
              json_object_set_new(o, "cell_id", json_string(c->cell_id)) ||
              json_object_set_new(o, "endpoint", json_string(c->endpoint)) ||
              (c->health_url &&
               json_object_set_new(o, "health_url",
                                   json_string(c->health_url))) ||
              (labels && json_object_set(o, "labels", labels)) ||
              json_object_set_new(o, "version", json_integer(c->version)) ||
              json_object_set_new(o, "updated_at",
                                  json_string(c->updated_at));
    json_decref(labels);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *cf_cell_fits(cr_store *base, const cr_cell *c, char *buf,
                                size_t cap)
{
    (void)base;
    cr_cell w = *c;
    w.version = INT64_MAX;                              /* 19 digits */
    w.updated_at = (char *)"0000-00-00T00:00:00.000000Z";
    json_t *md = cell_metadata(&w);
    const char *msg = cfkv_md_fits(md, "cell", "cell_id, endpoint, "
                                   "health_url, labels, version and "
                                   "updated_at", "Use fewer or shorter "
                                   "labels, or shorter URLs", buf, cap);
    json_decref(md);
    return msg;
}

/* Decodes a definition pair (`value` NULL when only the metadata is at
 * hand: a listing) into *c (zeroed here). */
static cr_store_rc cell_decode(cfkv *s, const char *key, json_t *md,
                               const char *value, size_t vlen, cr_cell *c,
                               cr_store_err *err)
{
    const char *id = key + sizeof CELL_PREFIX - 1, *bad = NULL, *field = NULL;
    char where[160], what[300], *cid = NULL;
    bool nomem = false;
    memset(c, 0, sizeof *c);
    if (!json_is_object(md)) {
        field = "metadata";
        bad = "is missing (not written by cellrouter)";
        goto invalid;
    }
    json_t *sv = json_object_get(md, "schema");
    if (!json_is_integer(sv) || json_integer_value(sv) != CELL_SCHEMA) {
        field = "metadata schema";
        bad = json_is_integer(sv) ? "is a version this cellrouter does not "
              "know (upgrade cellrouter)" : "is missing (not written by "
              "cellrouter)";
        goto invalid;
    }
    field = "cell_id";
    if ((bad = cfkv_md_str(md, "cell_id", false, &cid)))
        goto invalid;
    if (strcmp(cid, id) != 0) {
        bad = "differs from the cell its key names";
        goto invalid;
    }
    c->cell_id = cid;
    cid = NULL;
    field = "endpoint";
    if ((bad = cfkv_md_str(md, "endpoint", false, &c->endpoint)))
        goto invalid;
    if (value && (vlen != strlen(c->endpoint) ||
                  memcmp(value, c->endpoint, vlen) != 0)) {
        field = "value";
        bad = "differs from the endpoint in its metadata";
        goto invalid;
    }
    field = "health_url";
    if ((bad = cfkv_md_str(md, "health_url", true, &c->health_url)))
        goto invalid;
    field = "updated_at";
    if ((bad = cfkv_md_str(md, "updated_at", false, &c->updated_at)))
        goto invalid;
    if (!cr_store_time_ok(c->updated_at)) {
        bad = "is not an RFC 3339 time";
        goto invalid;
    }
    field = "version";
    if ((c->version = cfkv_md_version(md)) < 1) {
        bad = "is not a positive integer";
        goto invalid;
    }
    json_t *labels = json_object_get(md, "labels");
    if (labels && !json_is_null(labels)) {
        cr_entry tmp = {0};
        field = NULL;
        bad = cr_store_labels_from_json(labels, &tmp, &nomem);
        cr_cell_take_labels(c, &tmp);
        if (nomem)
            goto nomem;
        if (bad)
            goto invalid;
    }
    if ((bad = cr_cell_check(c, &field)))
        goto invalid;
    return CR_STORE_OK;
invalid:
    free(cid);
    if (bad && strstr(bad, "could not be copied"))
        goto nomem;
    snprintf(what, sizeof what, "%s%s%s", field ? field : "",
             field ? " " : "", bad);
    cr_cell_clear(c);
    return cr_store_err_cell_damaged(err, ns_where(s, where, sizeof where),
                                     id, what);
nomem:
    cr_cell_clear(c);
    return cr_store_err_nomem(err);
}

/* ---- the serving-state document -------------------------------------------- */

/* The document a value holds (NULL: the key is absent, an empty document);
 * *root owns it, *cells is its "cells" object. */
static cr_store_rc doc_parse(cfkv *s, const char *value, size_t vlen,
                             json_t **root, json_t **cells, cr_store_err *err)
{
    char where[160];
    const char *bad = NULL;
    json_error_t jerr;
    *cells = NULL;
    *root = value ? json_loadb(value, vlen, JSON_REJECT_DUPLICATES, &jerr)
                  : json_pack("{s:i,s:{}}", "schema", STATES_SCHEMA, "cells");
    if (!*root)
        bad = value ? "is not JSON" : NULL;
    else if (!json_is_object(*root))
        bad = "is not a JSON object";
    if (!*root && !bad)
        return cr_store_err_nomem(err);
    if (!bad) {
        json_t *sv = json_object_get(*root, "schema");
        if (!json_is_integer(sv))
            bad = "has no schema";
        else if (json_integer_value(sv) != STATES_SCHEMA)
            bad = "is of a schema this cellrouter does not know (upgrade "
                  "cellrouter)";
    }
    if (!bad) {
        *cells = json_object_get(*root, "cells");
        if (!*cells) {
            *cells = json_object();
            if (!*cells || json_object_set_new(*root, "cells", *cells)) {
                json_decref(*root);
                *root = NULL;
                return cr_store_err_nomem(err);
            }
        } else if (!json_is_object(*cells)) {
            bad = "has \"cells\" that are not a JSON object";
        }
    }
    if (!bad)
        return CR_STORE_OK;
    json_decref(*root);
    *root = *cells = NULL;
    return cr_store_err_set(err, CR_STORE_INVALID,
        "%s holds a serving-state document (key %s) that %s; it is never "
        "overwritten while so: repair or remove the key", ns_where(s, where,
        sizeof where), STATES_KEY, bad);
}

static const char *rec_str(json_t *rec, const char *k, bool optional,
                           char **out, bool *nomem)
{
    const char *bad = cfkv_md_str(rec, k, optional, out);
    if (bad && strstr(bad, "could not be copied"))
        *nomem = true;
    return bad;
}

/* One cell's record (NULL: none, a cell serving since ever) into *st. */
static const char *rec_decode(json_t *rec, cr_cell_state *st,
                              const char **field, bool *nomem)
{
    const char *bad;
    char *name = NULL;
    memset(st, 0, sizeof *st);
    *field = NULL;
    if (!rec || json_is_null(rec))
        return NULL;
    if (!json_is_object(rec))
        return "is not a JSON object";
    *field = "state";
    if ((bad = rec_str(rec, "state", false, &name, nomem)))
        return bad;
    int rc = cr_cell_serving_parse(name, &st->state);
    free(name);
    if (rc != 0)
        return "is neither serving nor failed";
    *field = "reason";
    if ((bad = rec_str(rec, "reason", true, &st->reason, nomem)))
        return bad;
    if (!st->reason && !(st->reason = strdup(""))) {
        *nomem = true;
        return "could not be copied";
    }
    if ((bad = cr_cell_reason_check(st->reason)))
        return bad;
    *field = "changed_at";
    if ((bad = rec_str(rec, "changed_at", true, &st->changed_at, nomem)))
        return bad;
    if (st->changed_at && !cr_store_time_ok(st->changed_at))
        return "is not an RFC 3339 time";
    *field = "changed_by";
    if ((bad = rec_str(rec, "changed_by", true, &st->changed_by, nomem)))
        return bad;
    if (st->changed_by && (bad = cr_cell_changed_by_check(st->changed_by)))
        return bad;
    *field = "pinned";
    json_t *pin = json_object_get(rec, "pinned");
    if (pin && !json_is_boolean(pin))
        return "is not true or false";
    st->pinned = json_is_true(pin);
    *field = "version";
    if ((st->version = cfkv_md_version(rec)) < 1)
        return "is not a positive integer";
    *field = "probe";
    json_t *probe = json_object_get(rec, "probe");
    if (probe && !json_is_null(probe)) {
        if (!json_is_object(probe))
            return "is not a JSON object";
        if (!(st->probe = json_dumps(probe, JSON_COMPACT))) {
            *nomem = true;
            return "could not be copied";
        }
    }
    *field = NULL;
    return NULL;
}

/* The serving record of `id` in the document's cells. */
static cr_store_rc doc_state(cfkv *s, json_t *cells, const char *id,
                             cr_cell_state *st, cr_store_err *err)
{
    const char *field, *bad;
    bool nomem = false;
    char where[160], what[300];
    if (!(bad = rec_decode(json_object_get(cells, id), st, &field, &nomem)))
        return CR_STORE_OK;
    cr_cell_state_clear(st);
    if (nomem)
        return cr_store_err_nomem(err);
    snprintf(what, sizeof what, "serving state (key %s): %s%s%s", STATES_KEY,
             field ? field : "", field ? " " : "", bad);
    return cr_store_err_cell_damaged(err, ns_where(s, where, sizeof where),
                                     id, what);
}

/* Sets a record's own fields, keeping the rest of it (probe, and whatever
 * a newer writer keeps there). */
static int rec_write(json_t *cells, const char *id, const cr_cell_state *in,
                     const char *stamp, int64_t version)
{
    json_t *rec = json_object_get(cells, id);
    if (!json_is_object(rec)) {
        rec = json_object();
        if (!rec || json_object_set_new(cells, id, rec))
            return -1;
    }
    /* A change of state drops the prober's counters (absent reads as
     * zero): they counted towards the state the cell had, so a cell an
     * operator restores while its failures are at the threshold is not
     * failed again by the very next failed probe. A pin keeps them. */
    const char *was = json_string_value(json_object_get(rec, "state"));
    if (was && strcmp(was, cr_cell_serving_name(in->state)) != 0)
        json_object_del(rec, "probe");
    return json_object_set_new(rec, "state",
                               json_string(cr_cell_serving_name(in->state))) ||
           json_object_set_new(rec, "reason",
                               json_string(in->reason ? in->reason : "")) ||
           json_object_set_new(rec, "changed_at", json_string(stamp)) ||
           json_object_set_new(rec, "changed_by",
                               json_string(in->changed_by)) ||
           json_object_set_new(rec, "pinned", json_boolean(in->pinned)) ||
           json_object_set_new(rec, "version", json_integer(version));
}

/* The document as a pair for a bulk write (no metadata: the router reads
 * the value as JSON), with its updated_at now. */
static cr_store_rc doc_pair(cfkv *s, json_t *root, const char *stamp,
                            json_t *pairs, cr_store_err *err)
{
    char where[160];
    if (json_object_set_new(root, "updated_at", json_string(stamp)))
        return cr_store_err_nomem(err);
    char *text = json_dumps(root, JSON_COMPACT);
    if (!text)
        return cr_store_err_nomem(err);
    size_t n = strlen(text);
    json_t *p = n <= STATES_MAX ? json_pack("{s:s,s:s}", "key", STATES_KEY,
                                            "value", text) : NULL;
    free(text);
    if (n > STATES_MAX)
        return cr_store_err_set(err, CR_STORE_INVALID, "the serving-state "
                                "document of %s would take %zu bytes, more "
                                "than Workers KV's 25 MiB per value",
                                ns_where(s, where, sizeof where), n);
    if (!p || json_array_append_new(pairs, p))
        return cr_store_err_nomem(err);
    return CR_STORE_OK;
}

/* ---- reading ---------------------------------------------------------------- */

/* One bulk read of `keys`: *values maps each to null or {value, metadata}. */
static cr_store_rc read_keys(cfkv *s, const char *const *keys, size_t n,
                             const char *what, json_t **values,
                             cr_store_err *err)
{
    cr_store_rc rc = cfkv_can_fit(s, 1, what, err);
    return rc != CR_STORE_OK ? rc
                             : cfkv_bulk_get(s, keys, n, what, values, err);
}

static const char *val_text(json_t *values, const char *key, size_t *len)
{
    json_t *v = json_object_get(json_object_get(values, key), "value");
    *len = json_string_length(v);
    return json_string_value(v);
}

static json_t *val_md(json_t *values, const char *key)
{
    return json_object_get(json_object_get(values, key), "metadata");
}

/* What the namespace holds for cells, as read: every definition's
 * metadata by key (one listing page per 1,000 cells) and the serving-state
 * document (one read), kept in s->cells_* unless what is there is fresh.
 * Kept raw: a get decodes only its own cell, so one damaged definition
 * does not hide the others (a list reports it). Caller holds cells_mu. */
static cr_store_rc cells_load(cfkv *s, cr_store_err *err)
{
    long now = cr_pacer_now(s->pacer);
    if (s->cells_defs && now - s->cells_read_at < CELLS_FRESH_MS)
        return CR_STORE_OK;
    json_decref(s->cells_defs);
    json_decref(s->cells_doc);
    s->cells_defs = s->cells_doc = NULL;

    unsigned long before = cr_pacer_total(s->pacer);
    const char *what = "reading the cells";
    cfkv_lister l = { .prefix = CELL_PREFIX };
    json_t *keys, *k, *values = NULL, *defs = json_object(), *cells;
    cr_store_rc rc = defs ? CR_STORE_OK : cr_store_err_nomem(err);
    while (rc == CR_STORE_OK &&
           (rc = cfkv_list_next(s, &l, what, &keys, err)) == CR_STORE_OK &&
           keys) {
        size_t i;
        json_array_foreach(keys, i, k) {
            const char *key = json_string_value(json_object_get(k, "name"));
            json_t *md = json_object_get(k, "metadata");
            if (strncmp(key, CELL_PREFIX, sizeof CELL_PREFIX - 1) == 0 &&
                json_object_set(defs, key, md ? md : json_null()) != 0) {
                rc = cr_store_err_nomem(err);
                break;
            }
        }
    }
    cfkv_lister_free(&l);
    const char *doc_key = STATES_KEY;
    if (rc == CR_STORE_OK)
        rc = read_keys(s, &doc_key, 1, what, &values, err);
    if (rc == CR_STORE_OK) {
        size_t vlen = 0;
        const char *text = val_text(values, STATES_KEY, &vlen);
        /* A damaged document is kept as its error: every cell's state
         * then reads as that error. */
        if (doc_parse(s, text, vlen, &s->cells_doc, &cells,
                      &s->cells_doc_err) == CR_STORE_NOMEM)
            rc = cr_store_err_nomem(err);
    }
    json_decref(values);
    if (rc != CR_STORE_OK) {
        json_decref(defs);
        json_decref(s->cells_doc);
        s->cells_doc = NULL;
        return rc;
    }
    s->cells_defs = defs;
    s->cells_read_at = now;
    cr_log_debug(LOG, "workers kv: %s (%zu): %lu requests", what,
                 json_object_size(defs), cr_pacer_total(s->pacer) - before);
    return CR_STORE_OK;
}

/* Drops what cells_load read: a write through this handle changed it. */
static void cells_forget(cfkv *s)
{
    pthread_mutex_lock(&s->cells_mu);
    json_decref(s->cells_defs);
    json_decref(s->cells_doc);
    s->cells_defs = s->cells_doc = NULL;
    pthread_mutex_unlock(&s->cells_mu);
}

/* One cell of what cells_load read, decoded with its serving record.
 * Caller holds cells_mu. */
static cr_store_rc cell_from_load(cfkv *s, const char *key, json_t *md,
                                  cr_cell *c, cr_store_err *err)
{
    cr_store_rc rc = cell_decode(s, key, md, NULL, 0, c, err);
    if (rc != CR_STORE_OK)
        return rc;
    if (!s->cells_doc) {
        if (err)
            *err = s->cells_doc_err;
        rc = s->cells_doc_err.rc;
    } else {
        rc = doc_state(s, json_object_get(s->cells_doc, "cells"),
                       c->cell_id, &c->serving, err);
    }
    if (rc != CR_STORE_OK)
        cr_cell_clear(c);
    return rc;
}

static cr_store_rc cf_cell_get(cr_store *base, const char *cell_id,
                               cr_cell **out, cr_store_err *err)
{
    cfkv *s = (cfkv *)base;
    char key[CFKV_KEYBUF];
    cell_key(CELL_PREFIX, cell_id, key);
    pthread_mutex_lock(&s->cells_mu);
    cr_store_rc rc = cells_load(s, err);
    json_t *md = rc == CR_STORE_OK ? json_object_get(s->cells_defs, key)
                                   : NULL;
    if (md) {
        cr_cell *c = cr_cell_new();
        rc = c ? cell_from_load(s, key, md, c, err) : cr_store_err_nomem(err);
        if (rc == CR_STORE_OK)
            *out = c;
        else
            free(c);
    }
    pthread_mutex_unlock(&s->cells_mu);
    return rc;
}

static cr_store_rc cf_cell_list(cr_store *base, cr_cell_list *out,
                                cr_store_err *err)
{
    cfkv *s = (cfkv *)base;
    const char *key;
    json_t *md;
    pthread_mutex_lock(&s->cells_mu);
    cr_store_rc rc = cells_load(s, err);
    if (rc == CR_STORE_OK) {
        json_object_foreach(s->cells_defs, key, md) {
            cr_cell *c = cr_cell_list_push(out);
            if (!c) {
                rc = cr_store_err_nomem(err);
                break;
            }
            if ((rc = cell_from_load(s, key, md, c, err)) != CR_STORE_OK) {
                out->len--;
                break;
            }
        }
    }
    pthread_mutex_unlock(&s->cells_mu);
    if (rc == CR_STORE_OK)
        cr_cell_list_sort(out);
    return rc;
}

/* ---- writing ---------------------------------------------------------------- */

/* One bulk write of `pairs`; IO when Cloudflare reports any key not
 * written. */
static cr_store_rc write_pairs(cfkv *s, json_t *pairs, const char *what,
                               cr_store_err *err)
{
    json_t *failed = json_object();
    cr_store_rc rc = failed ? cfkv_can_fit(s, 1, what, err)
                            : cr_store_err_nomem(err);
    if (rc == CR_STORE_OK)
        rc = cfkv_bulk_write(s, pairs, what, failed, err);
    if (rc == CR_STORE_OK && json_object_size(failed) > 0) {
        const char *key = json_object_iter_key(json_object_iter(failed));
        rc = cfkv_fail(s, err, CR_STORE_IO, "Workers KV could not write key "
                       "%s while %s; run again to retry", key, what);
    }
    json_decref(failed);
    return rc;
}

/* A bulk read of a definition, its tombstone and the document, as every
 * definition write starts: *cur the definition's version (0: absent; -1:
 * present without a version), *retired the tombstone's, the document
 * parsed (*root owns it; NULL with *doc_err set when damaged). */
typedef struct cell_read {
    json_t *values;
    int64_t cur, retired;
    json_t *root, *cells;
    cr_store_err doc_err;
} cell_read;

static cr_store_rc read_cell_keys(cfkv *s, const char *id, bool tomb,
                                  const char *what, cell_read *r,
                                  cr_store_err *err)
{
    char def[CFKV_KEYBUF], tk[CFKV_KEYBUF];
    const char *keys[3] = { def, STATES_KEY, tk };
    cell_key(CELL_PREFIX, id, def);
    cell_key(CELL_TOMB_PREFIX, id, tk);
    cr_store_rc rc = read_keys(s, keys, tomb ? 3 : 2, what, &r->values, err);
    if (rc != CR_STORE_OK)
        return rc;
    if (!json_is_null(json_object_get(r->values, def)) &&
        (r->cur = cfkv_md_version(val_md(r->values, def))) == 0)
        r->cur = -1;
    if (tomb)
        r->retired = cfkv_md_version(val_md(r->values, tk));
    size_t vlen;
    const char *text = val_text(r->values, STATES_KEY, &vlen);
    cr_store_err_clear(&r->doc_err);
    if (doc_parse(s, text, vlen, &r->root, &r->cells, &r->doc_err) ==
        CR_STORE_NOMEM)
        return cr_store_err_nomem(err);
    return CR_STORE_OK;
}

static void cell_read_free(cell_read *r)
{
    json_decref(r->values);
    json_decref(r->root);
}

static cr_store_rc versionless(cfkv *s, const char *id, cr_store_err *err)
{
    char where[160];
    return cr_store_err_cell_damaged(err, ns_where(s, where, sizeof where),
                                     id, "its metadata has no cellrouter "
                                     "version");
}

static cr_store_rc cf_cell_put(cr_store *base, const cr_cell *in,
                               int64_t expect, cr_cell **written,
                               cr_store_err *err)
{
    cfkv *s = (cfkv *)base;
    char what[120], buf[600], stamp[CR_STORE_TIME_LEN], key[CFKV_KEYBUF];
    const char *msg;
    cell_read r;
    json_t *pairs = NULL;
    cr_cell *w = NULL;

    if ((msg = cf_cell_fits(base, in, buf, sizeof buf)))
        return cr_store_err_set(err, CR_STORE_INVALID, "cell %s: %s",
                                in->cell_id, msg);
    snprintf(what, sizeof what, "writing cell %s", in->cell_id);
    memset(&r, 0, sizeof r);
    cr_store_rc rc = read_cell_keys(s, in->cell_id, true, what, &r, err);
    if (rc != CR_STORE_OK)
        goto out;
    if (r.cur < 0 && expect != CR_VERSION_ANY) {
        rc = versionless(s, in->cell_id, err);
        goto out;
    }
    if (expect == CR_VERSION_ABSENT && r.cur > 0) {
        rc = cr_store_err_cell_exists(err, in->cell_id, r.cur);
        goto out;
    }
    if (expect > 0 && r.cur != expect) {
        rc = cr_store_err_cell_changed(err, in->cell_id, false, expect,
                                       r.cur > 0 ? r.cur : 0);
        goto out;
    }
    int64_t from = r.cur > 0 ? r.cur : r.retired;
    if (from == INT64_MAX) {
        rc = cr_store_err_cell_exhausted(err, in->cell_id, false);
        goto out;
    }
    cr_store_now(stamp);
    if (!(w = cr_cell_new()) || cr_cell_copy(w, in) != 0) {
        free(w);
        w = NULL;
        rc = cr_store_err_nomem(err);
        goto out;
    }
    cr_cell_state_clear(&w->serving);
    free(w->updated_at);
    w->version = from + 1;
    cell_key(CELL_PREFIX, in->cell_id, key);
    pairs = json_array();
    if (!pairs || !(w->updated_at = strdup(stamp)) ||
        cfkv_add_pair(pairs, key, in->endpoint, cell_metadata(w))) {
        rc = cr_store_err_nomem(err);
        goto out;
    }
    if ((rc = write_pairs(s, pairs, what, err)) != CR_STORE_OK)
        goto out;
    /* The serving record the definition keeps, as just read; a damaged
     * document does not stop a definition's write (the next read says
     * what is wrong with it). */
    if (r.root)
        rc = doc_state(s, r.cells, in->cell_id, &w->serving, err);
    if (rc != CR_STORE_OK) {
        cr_log_warn(LOG, "workers kv: cell %s written; %s", in->cell_id,
                    err ? err->msg : "");
        cr_store_err_clear(err);
        rc = CR_STORE_OK;
    }
out:
    cells_forget(s);
    cell_read_free(&r);
    json_decref(pairs);
    if (rc == CR_STORE_OK && written)
        *written = w;
    else
        cr_cell_free(w);
    return rc;
}

/* The tenants that name `id` as primary or standby cell: one listing of
 * the whole namespace (a tenant's metadata holds both, in either schema). */
static cr_store_rc count_tenants(cfkv *s, const char *id, size_t *n,
                                 char names[3][CR_STORE_PRINTABLE],
                                 size_t *nnames, cr_store_err *err)
{
    cfkv_lister l = { .prefix = "" };
    json_t *keys, *k;
    cr_store_rc rc;
    *n = *nnames = 0;
    while ((rc = cfkv_list_next(s, &l, "finding the tenants of a cell", &keys,
                                err)) == CR_STORE_OK && keys) {
        size_t i;
        json_array_foreach(keys, i, k) {
            const char *key = json_string_value(json_object_get(k, "name"));
            if (cfkv_key_kind_of(s, key) != CFKV_KEY_TENANT)
                continue;
            json_t *md = json_object_get(k, "metadata");
            const char *c = json_string_value(json_object_get(md, "cell_id"));
            const char *sb = json_string_value(json_object_get(
                                 md, "standby_cell_id"));
            if (!(c && strcmp(c, id) == 0) && !(sb && strcmp(sb, id) == 0))
                continue;
            if (*nnames < 3)
                cr_store_printable(key, names[(*nnames)++]);
            (*n)++;
        }
    }
    cfkv_lister_free(&l);
    return rc;
}

static cr_store_rc cf_cell_del(cr_store *base, const char *cell_id,
                               int64_t expect, size_t *tenants,
                               cr_store_err *err)
{
    cfkv *s = (cfkv *)base;
    char what[120], key[CFKV_KEYBUF], tk[CFKV_KEYBUF], stamp[CR_STORE_TIME_LEN];
    char names[3][CR_STORE_PRINTABLE];
    const char *some[3] = {names[0], names[1], names[2]};
    size_t nnames = 0;
    unsigned long before = cr_pacer_total(s->pacer);
    json_t *pairs = json_array(), *dels = json_array(), *failed = json_object();
    cell_read r;

    snprintf(what, sizeof what, "deleting cell %s", cell_id);
    memset(&r, 0, sizeof r);
    cr_store_rc rc = pairs && dels && failed
                         ? read_cell_keys(s, cell_id, true, what, &r, err)
                         : cr_store_err_nomem(err);
    if (rc != CR_STORE_OK)
        goto out;
    if (r.cur < 0 && expect != CR_VERSION_ANY) {
        rc = versionless(s, cell_id, err);
        goto out;
    }
    /* As for tenants: a definition that reads as absent while Terraform
     * holds a version may be a stale read; it is deleted all the same,
     * and its tombstone records that version. */
    if (r.cur == 0 && expect <= 0) {
        rc = cr_store_err_no_cell(err, cell_id);
        goto out;
    }
    if (expect > 0 && r.cur > 0 && r.cur != expect) {
        rc = cr_store_err_cell_changed(err, cell_id, false, expect, r.cur);
        goto out;
    }
    if ((rc = count_tenants(s, cell_id, tenants, names, &nnames, err)))
        goto out;
    if (*tenants > 0) {
        rc = cr_store_err_cell_in_use(err, cell_id, *tenants, some, nnames);
        goto out;
    }
    /* The tombstone, and the document without the cell's record (a
     * damaged document is left alone: it is not ours to rewrite). */
    int64_t last = r.cur > expect ? r.cur : expect;
    cell_key(CELL_TOMB_PREFIX, cell_id, tk);
    if (cfkv_add_pair(pairs, tk, "retired",
                      json_pack("{s:s,s:I}", "cell_id", cell_id, "version",
                                (json_int_t)(last > 0 ? last : 1)))) {
        rc = cr_store_err_nomem(err);
        goto out;
    }
    cr_store_now(stamp);
    if (r.root && json_object_get(r.cells, cell_id) &&
        (json_object_del(r.cells, cell_id) ||
         (rc = doc_pair(s, r.root, stamp, pairs, err)) != CR_STORE_OK)) {
        if (rc == CR_STORE_OK)
            rc = cr_store_err_nomem(err);
        goto out;
    }
    if ((rc = write_pairs(s, pairs, what, err)) != CR_STORE_OK)
        goto out;
    cell_key(CELL_PREFIX, cell_id, key);
    if (json_array_append_new(dels, json_string(key))) {
        rc = cr_store_err_nomem(err);
        goto out;
    }
    if ((rc = cfkv_can_fit(s, 1, what, err)) == CR_STORE_OK)
        rc = cfkv_bulk_delete(s, dels, what, failed, err);
    if (rc == CR_STORE_OK && json_object_size(failed) > 0)
        rc = cfkv_fail(s, err, CR_STORE_IO, "Workers KV could not delete key "
                       "%s; run again to retry", key);
out:
    cells_forget(s);
    cell_read_free(&r);
    json_decref(pairs);
    json_decref(dels);
    json_decref(failed);
    cr_log_debug(LOG, "workers kv: %s: %s, %lu requests", what,
                 cr_store_rc_name(rc), cr_pacer_total(s->pacer) - before);
    return rc;
}

static cr_store_rc cf_cell_set_state(cr_store *base, const char *cell_id,
                                     const cr_cell_state *in, int64_t expect,
                                     cr_cell **written, cr_store_err *err)
{
    cfkv *s = (cfkv *)base;
    char what[120], key[CFKV_KEYBUF], stamp[CR_STORE_TIME_LEN];
    cell_read r;
    cr_cell_state cur = {0};
    cr_cell *w = cr_cell_new();
    json_t *pairs = json_array();

    snprintf(what, sizeof what, "writing the serving state of cell %s",
             cell_id);
    memset(&r, 0, sizeof r);
    cr_store_rc rc = w && pairs
                         ? read_cell_keys(s, cell_id, false, what, &r, err)
                         : cr_store_err_nomem(err);
    if (rc != CR_STORE_OK)
        goto out;
    cell_key(CELL_PREFIX, cell_id, key);
    json_t *def = json_object_get(r.values, key);
    if (json_is_null(def)) {
        rc = cr_store_err_no_cell(err, cell_id);
        goto out;
    }
    size_t vlen;
    const char *value = val_text(r.values, key, &vlen);
    if ((rc = cell_decode(s, key, val_md(r.values, key), value, vlen, w,
                          err)) != CR_STORE_OK)
        goto out;
    if (!r.root) {
        rc = r.doc_err.rc;
        if (err)
            *err = r.doc_err;
        goto out;
    }
    if ((rc = doc_state(s, r.cells, cell_id, &cur, err)) != CR_STORE_OK)
        goto out;
    if (expect != CR_VERSION_ANY && cur.version != expect) {
        rc = cr_store_err_cell_changed(err, cell_id, true, expect,
                                       cur.version);
        goto out;
    }
    if (cur.version == INT64_MAX) {
        rc = cr_store_err_cell_exhausted(err, cell_id, true);
        goto out;
    }
    cr_store_now(stamp);
    if (rec_write(r.cells, cell_id, in, stamp, cur.version + 1)) {
        rc = cr_store_err_nomem(err);
        goto out;
    }
    if ((rc = doc_pair(s, r.root, stamp, pairs, err)) != CR_STORE_OK ||
        (rc = write_pairs(s, pairs, what, err)) != CR_STORE_OK)
        goto out;
    rc = doc_state(s, r.cells, cell_id, &w->serving, err);
out:
    cells_forget(s);
    cell_read_free(&r);
    cr_cell_state_clear(&cur);
    json_decref(pairs);
    if (rc == CR_STORE_OK && written)
        *written = w;
    else
        cr_cell_free(w);
    return rc;
}

/* ---- the table ---------------------------------------------------------------- */

const cr_store_cell_ops cfkv_cell_ops = {
    .get = cf_cell_get,
    .list = cf_cell_list,
    .put = cf_cell_put,
    .del = cf_cell_del,
    .set_state = cf_cell_set_state,
    .fits = cf_cell_fits,
};

void cfkv_cells_init(cfkv *s)
{
    pthread_mutex_init(&s->cells_mu, NULL);
}

void cfkv_cells_free(cfkv *s)
{
    json_decref(s->cells_defs);
    json_decref(s->cells_doc);
    pthread_mutex_destroy(&s->cells_mu);
}

/* For the fuzz target and tests (cfkv.h): the decoding steps of
 * cells_load and cell_from_load, on answers given rather than fetched. */
cr_store_rc cfkv_cells_decode(cfkv *s, const char *doc, size_t doclen,
                              const char *key, json_t *md, const char *value,
                              size_t vlen, cr_cell *c, cr_store_err *err)
{
    json_t *root, *cells, *rec;
    const char *id;
    cr_store_rc rc = doc_parse(s, doc, doclen, &root, &cells, err);
    if (rc != CR_STORE_OK)
        return rc;
    json_object_foreach(cells, id, rec) {
        cr_cell_state st;
        if ((rc = doc_state(s, cells, id, &st, err)) != CR_STORE_OK)
            break;
        cr_cell_state_clear(&st);
    }
    if (rc == CR_STORE_OK && md &&
        (rc = cell_decode(s, key, md, value, vlen, c, err)) == CR_STORE_OK &&
        (rc = doc_state(s, cells, c->cell_id, &c->serving, err)) !=
            CR_STORE_OK)
        cr_cell_clear(c);
    json_decref(root);
    return rc;
}
