/*
 * gen/util.h — the small pieces every part of cellgen leans on: a growable
 * byte buffer (cg_buf), allocation that treats out-of-memory as fatal, and a
 * string set for duplicate detection.
 *
 * Out of memory is the one condition cellgen does not report as a
 * diagnostic: like Redis' zmalloc, cg_xmalloc prints a line and aborts,
 * because a generator that half-renders a module is worse than none.
 */
#ifndef CG_UTIL_H
#define CG_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void *cg_xmalloc(size_t n);
void *cg_xcalloc(size_t n, size_t size);
void *cg_xrealloc(void *p, size_t n);
char *cg_xstrdup(const char *s);
char *cg_xstrndup(const char *s, size_t n);
/* printf into a fresh malloc'd string. */
char *cg_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *cg_xvasprintf(const char *fmt, va_list ap);

/* A growable buffer; p is always NUL-terminated once anything was added. */
typedef struct cg_buf {
    char *p;
    size_t len, cap;
} cg_buf;

void cg_buf_put(cg_buf *b, const char *s, size_t n);
void cg_buf_puts(cg_buf *b, const char *s);
void cg_buf_putc(cg_buf *b, char c);
void cg_buf_printf(cg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cg_buf_vprintf(cg_buf *b, const char *fmt, va_list ap);
void cg_buf_spaces(cg_buf *b, size_t n);
/* Hands the contents to the caller (never NULL) and empties the buffer. */
char *cg_buf_steal(cg_buf *b);
void cg_buf_free(cg_buf *b);

/* An open-addressing set of borrowed strings (the caller keeps them alive). */
typedef struct cg_strset {
    const char **slots;
    size_t cap, len;
} cg_strset;

/* Adds s; returns false when it was already present. */
bool cg_strset_add(cg_strset *set, const char *s);
bool cg_strset_has(const cg_strset *set, const char *s);
void cg_strset_free(cg_strset *set);

#endif
