/*
 * gen/diag.h — compiler-style diagnostics for cellgen: every problem found
 * in a spec is collected with its line and column, then printed together as
 * `file:line:col: message`, sorted by position.
 */
#ifndef CG_DIAG_H
#define CG_DIAG_H

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>

typedef struct cg_diag {
    int line, col;      /* 1-based; 0 = no position (whole file) */
    size_t seq;         /* order of discovery, for a stable sort */
    char *msg;          /* owned */
} cg_diag;

typedef struct cg_diags {
    cg_diag *items;
    size_t len, cap;
} cg_diags;

void cg_diag_add(cg_diags *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cg_diag_vadd(cg_diags *d, int line, int col, const char *fmt, va_list ap);
/* Sorts by position (stable) and prints one line per diagnostic. */
void cg_diags_print(cg_diags *d, const char *file, FILE *out);
void cg_diags_free(cg_diags *d);

#endif
