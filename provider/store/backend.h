/*
 * store/backend.h — the store toolkit: what every routing-map backend needs
 * and would otherwise write again (not for callers of the store: they use
 * store/store.h only). Implemented in store/backend.c, except
 * cr_store_err_set/clear, cr_store_text_ok, cr_store_labels_check and the
 * batch helpers, which live with the error type, the entry rules and
 * cr_store_batch in store/store.c (so that store.c never calls into
 * backend.c).
 *
 *   errors     cr_store_err_set and the words for the outcomes every backend
 *              reports the same way (exists, changed, deleted, no entry,
 *              damaged entry), so a conflict reads alike on every backend
 *   arguments  the checks of a tenant id and an expected version that each
 *              operation starts with
 *   text       a printable, bounded copy of an untrusted string for messages
 *   time       the RFC 3339 stamp a write records, and its check on read
 *   labels     labels to and from a JSON object (jansson)
 *   lists      appending to and sorting an entry list
 */
#ifndef CR_STORE_BACKEND_H
#define CR_STORE_BACKEND_H

#include "store/store.h"

#include <jansson.h>

/* ---- errors --------------------------------------------------------------- */

/* Fills *err (may be NULL) and returns rc, so a backend can write
 * `return cr_store_err_set(err, CR_STORE_IO, "...", ...);`. */
cr_store_rc cr_store_err_set(cr_store_err *err, cr_store_rc rc,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cr_store_err_clear(cr_store_err *err);
cr_store_rc cr_store_err_nomem(cr_store_err *err);

/* The outcomes of a conditional write, in the same words on every backend;
 * each sets err->actual_version where store.h says so. */
cr_store_rc cr_store_err_exists(cr_store_err *err, const char *tenant_id,
                                int64_t cur);
/* expect >= 1 and the entry is at `cur` (0: deleted). */
cr_store_rc cr_store_err_changed(cr_store_err *err, const char *tenant_id,
                                 int64_t expect, int64_t cur);
cr_store_rc cr_store_err_no_entry(cr_store_err *err, const char *tenant_id);
/* A stored entry that is not a valid entry: `where` names the map (a file,
 * a namespace), `what` the field and what is wrong with it. */
cr_store_rc cr_store_err_damaged(cr_store_err *err, const char *where,
                                 const char *tenant_id, const char *what);

/* The same words for cells (store.h, "cells"). `record`: the serving
 * record rather than the definition. */
cr_store_rc cr_store_err_cell_exists(cr_store_err *err, const char *cell_id,
                                     int64_t cur);
cr_store_rc cr_store_err_cell_changed(cr_store_err *err, const char *cell_id,
                                      bool record, int64_t expect,
                                      int64_t cur);
cr_store_rc cr_store_err_no_cell(cr_store_err *err, const char *cell_id);
cr_store_rc cr_store_err_cell_damaged(cr_store_err *err, const char *where,
                                      const char *cell_id, const char *what);
/* INVALID: the definition (or, `record`, the serving record) is at
 * INT64_MAX and cannot be written again. */
cr_store_rc cr_store_err_cell_exhausted(cr_store_err *err, const char *cell_id,
                                        bool record);
/* Tenants still name the cell: `n` of them, `some` (up to 3, may be
 * fewer or NULL) named. */
cr_store_rc cr_store_err_cell_in_use(cr_store_err *err, const char *cell_id,
                                     size_t n, const char *const *some,
                                     size_t nsome);

/* ---- arguments ------------------------------------------------------------ */

/* A tenant id argument of get/del: INVALID when empty or longer than a
 * tenant id may be (the id rules themselves are the backend's call: a
 * damaged entry must stay readable and deletable by its id). */
cr_store_rc cr_store_check_tenant_arg(const char *tenant_id,
                                      cr_store_err *err);
/* An expected version for put (>= CR_VERSION_ANY) or delete (ANY or >= 1). */
cr_store_rc cr_store_check_expect(int64_t expect, bool for_delete,
                                  cr_store_err *err);

/* ---- text ----------------------------------------------------------------- */

/* At most `max` bytes of an untrusted string for a message, every byte
 * outside printable ASCII replaced by '?', "..." when cut; "(null)" for
 * NULL. buf holds max + 4 bytes. */
const char *cr_store_printable_n(const char *s, char *buf, size_t max);
/* The usual bound: 64 bytes, in a CR_STORE_PRINTABLE buffer. */
#define CR_STORE_PRINTABLE 68
static inline const char *cr_store_printable(const char *s,
                                             char buf[CR_STORE_PRINTABLE])
{ return cr_store_printable_n(s, buf, 64); }

/* Strict UTF-8 without control characters (C0, C1, DEL): what labels and
 * a cell's reason may hold (store/store.c). */
bool cr_store_text_ok(const char *s);
/* The labels of `e` (or of a cell's view, below): each by cr_label_check,
 * sorted by key with unique keys. NULL, or a static message
 * (store/store.c, with cr_entry_check). */
const char *cr_store_labels_check(const cr_entry *e);

/* ---- time ----------------------------------------------------------------- */

/* The time a write records: RFC 3339 in UTC with microseconds,
 * "2026-11-26T06:00:00.000000Z" (27 bytes). */
#define CR_STORE_TIME_LEN 40
void cr_store_now(char out[CR_STORE_TIME_LEN]);
/* An RFC 3339 date-time, YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), up
 * to 9 fraction digits, every field within its range (the day within its
 * month, a leap second allowed): anything such is accepted (written
 * elsewhere), anything else is damage. */
bool cr_store_time_ok(const char *t);

/* ---- labels --------------------------------------------------------------- */

/* The entry's labels as a new JSON object; NULL when they are null or on
 * ENOMEM (*nomem). */
json_t *cr_store_labels_to_json(const cr_entry *e, bool *nomem);
/* Sets the entry's labels from a JSON object of strings (has_labels true).
 * NULL when done, else what is wrong ("... is not a string"); *nomem on
 * ENOMEM. */
const char *cr_store_labels_from_json(json_t *o, cr_entry *e, bool *nomem);

/* A cell's labels are an entry's (store/cell.c): the helpers above work on
 * this view of them, an entry whose only fields are the cell's label
 * fields (borrowed), and cr_cell_take_labels moves what a helper decoded
 * into a view (or any entry) onto the cell, which must have none. */
static inline cr_entry cr_cell_labels_view(const cr_cell *c)
{
    cr_entry v = {0};
    v.labels = c->labels;
    v.nlabels = c->nlabels;
    v.has_labels = c->has_labels;
    return v;
}
static inline void cr_cell_take_labels(cr_cell *c, cr_entry *from)
{
    c->labels = from->labels;
    c->nlabels = from->nlabels;
    c->has_labels = from->has_labels;
    from->labels = NULL;
    from->nlabels = 0;
    from->has_labels = false;
}

/* ---- lists ---------------------------------------------------------------- */

/* Appends a zeroed entry to the list; NULL on allocation failure. */
cr_entry *cr_entry_list_push(cr_entry_list *l);
/* Sorts by tenant id (byte order); returns the first tenant id that occurs
 * twice, or NULL. */
const char *cr_entry_list_sort(cr_entry_list *l);

/* The same for cells: a zeroed cell appended (NULL on allocation failure);
 * sorting by cell id, returning a cell id that occurs twice, or NULL. */
cr_cell *cr_cell_list_push(cr_cell_list *l);
const char *cr_cell_list_sort(cr_cell_list *l);

/* ---- batches (store/store.c) ---------------------------------------------- */

/* For backends implementing cr_store_ops.batch: marks `op` refused if the
 * entry's current version `cur` (0: absent) does not meet its condition and
 * returns its rc; then cr_store_batch_refused gives the batch's result (OK
 * when nothing was refused), with a message. */
cr_store_rc cr_store_batch_condition(cr_batch_op *op, int64_t cur);
cr_store_rc cr_store_batch_refused(const cr_batch_op *ops, size_t n,
                                   cr_store_err *err);

#endif
