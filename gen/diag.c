/*
 * gen/diag.c — collecting and printing cellgen's diagnostics.
 */
#include "diag.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>

void cg_diag_vadd(cg_diags *d, int line, int col, const char *fmt, va_list ap)
{
    if (d->len == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->items = cg_xrealloc(d->items, d->cap * sizeof *d->items);
    }
    d->items[d->len] = (cg_diag){ line, col, d->len, cg_xvasprintf(fmt, ap) };
    d->len++;
}

void cg_diag_add(cg_diags *d, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cg_diag_vadd(d, line, col, fmt, ap);
    va_end(ap);
}

/* Sorted by position; the sequence number keeps problems found at the same
 * place in the order they were found (qsort is not stable by itself). */
static int cmp_diag(const void *a, const void *b)
{
    const cg_diag *x = a, *y = b;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    if (x->col != y->col) return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void sort_by_position(cg_diags *d)
{
    if (d->len > 1) qsort(d->items, d->len, sizeof *d->items, cmp_diag);
}

/* Messages quote the spec's own text, which may hold terminal escape
 * sequences or a megabyte-long key: control bytes are shown as \xNN and a
 * message is cut at CG_DIAG_MAX_MSG bytes. */
#define CG_DIAG_MAX_MSG 1024

static void put_safe(FILE *out, const char *s)
{
    size_t n = 0;
    for (; *s && n < CG_DIAG_MAX_MSG; s++, n++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) fprintf(out, "\\x%02x", c);
        else fputc(c, out);
    }
    if (*s) fputs("...", out);
}

void cg_diags_print(cg_diags *d, const char *file, FILE *out)
{
    sort_by_position(d);
    for (size_t i = 0; i < d->len; i++) {
        const cg_diag *g = &d->items[i];
        put_safe(out, file);
        if (g->line > 0) fprintf(out, ":%d:%d", g->line, g->col);
        fputs(": ", out);
        put_safe(out, g->msg);
        fputc('\n', out);
    }
}

void cg_diags_free(cg_diags *d)
{
    for (size_t i = 0; i < d->len; i++) free(d->items[i].msg);
    free(d->items);
    d->items = NULL;
    d->len = d->cap = 0;
}
