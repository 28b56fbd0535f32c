/*
 * store/backend.h — helpers shared by the store backends (not for callers
 * of the store: they use store/store.h only).
 */
#ifndef CR_STORE_BACKEND_H
#define CR_STORE_BACKEND_H

#include "store/store.h"

/* Fills *err (may be NULL) and returns rc, so a backend can write
 * `return cr_store_err_set(err, CR_STORE_IO, "...", ...);`. */
cr_store_rc cr_store_err_set(cr_store_err *err, cr_store_rc rc,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cr_store_err_clear(cr_store_err *err);

/* Appends a zeroed entry to the list; NULL on allocation failure. */
cr_entry *cr_entry_list_push(cr_entry_list *l);

/* For backends implementing cr_store_ops.batch (store/store.c): marks `op`
 * refused if the entry's current version `cur` (0: absent) does not meet
 * its condition and returns its rc; then cr_store_batch_refused gives the
 * batch's result (OK when nothing was refused), with a message. */
cr_store_rc cr_store_batch_condition(cr_batch_op *op, int64_t cur);
cr_store_rc cr_store_batch_refused(const cr_batch_op *ops, size_t n,
                                   cr_store_err *err);

#endif
