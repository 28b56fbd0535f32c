/*
 * common/tbuf.h — a growable NUL-terminated text buffer, for code that
 * writes text piece by piece (attribute paths, JSON).
 *
 * After a failed allocation every put is a no-op and `failed` stays set, so
 * a writer checks once at the end. Zero-initialise; the text (s, malloc'd,
 * NULL until the first put) is the caller's to free.
 */
#ifndef CR_COMMON_TBUF_H
#define CR_COMMON_TBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cr_tbuf {
    char *s;
    size_t len, cap;
    bool failed;
} cr_tbuf;

void cr_tbuf_put(cr_tbuf *b, const char *s, size_t n);
void cr_tbuf_puts(cr_tbuf *b, const char *s);

#endif
