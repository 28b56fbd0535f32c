/*
 * common/tbuf.c — the growable text buffer (tbuf.h).
 *
 * Calls nothing else in the provider. May include: common/tbuf.h.
 */
#include <stdlib.h>
#include <string.h>

#include "common/tbuf.h"

void cr_tbuf_put(cr_tbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->failed = true;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void cr_tbuf_puts(cr_tbuf *b, const char *s)
{
    cr_tbuf_put(b, s, strlen(s));
}
