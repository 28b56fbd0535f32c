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

#endif
