/*
 * gen/util.c — buffers, fatal-on-OOM allocation and the string set used by
 * cellgen (see util.h for why OOM aborts).
 */
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "cellgen: out of memory (allocating %zu bytes)\n", n);
    abort();
}

void *cg_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *cg_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *cg_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *cg_xstrdup(const char *s)
{
    return cg_xstrndup(s, strlen(s));
}

char *cg_xstrndup(const char *s, size_t n)
{
    char *p = cg_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *cg_xvasprintf(const char *fmt, va_list ap)
{
    cg_buf b = {0};
    cg_buf_vprintf(&b, fmt, ap);
    return cg_buf_steal(&b);
}

char *cg_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = cg_xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

static void reserve(cg_buf *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->len) oom(SIZE_MAX);
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    b->p = cg_xrealloc(b->p, cap);
    b->cap = cap;
}

void cg_buf_put(cg_buf *b, const char *s, size_t n)
{
    reserve(b, n);
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void cg_buf_puts(cg_buf *b, const char *s) { cg_buf_put(b, s, strlen(s)); }

void cg_buf_putc(cg_buf *b, char c) { cg_buf_put(b, &c, 1); }

void cg_buf_spaces(cg_buf *b, size_t n)
{
    reserve(b, n);
    memset(b->p + b->len, ' ', n);
    b->len += n;
    b->p[b->len] = '\0';
}

void cg_buf_vprintf(cg_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return;
    reserve(b, (size_t)n);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void cg_buf_printf(cg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cg_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *cg_buf_steal(cg_buf *b)
{
    /* Fitted: a buffer starts at 256 bytes, and the generator keeps one
     * small string per tenant value until it renders them. */
    char *p = b->p ? cg_xrealloc(b->p, b->len + 1) : cg_xstrdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void cg_buf_free(cg_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* FNV-1a: short keys, no adversary that benefits from collisions beyond a
 * slower run, and the table is resized at half load. */
static size_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

static void strset_grow(cg_strset *set)
{
    size_t cap = set->cap ? set->cap * 2 : 64;
    const char **slots = cg_xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < set->cap; i++) {
        const char *s = set->slots[i];
        if (!s) continue;
        size_t j = hash_str(s) & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = s;
    }
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
}

bool cg_strset_has(const cg_strset *set, const char *s)
{
    if (!set->cap) return false;
    size_t j = hash_str(s) & (set->cap - 1);
    while (set->slots[j]) {
        if (strcmp(set->slots[j], s) == 0) return true;
        j = (j + 1) & (set->cap - 1);
    }
    return false;
}

bool cg_strset_add(cg_strset *set, const char *s)
{
    if ((set->len + 1) * 2 > set->cap) strset_grow(set);
    size_t j = hash_str(s) & (set->cap - 1);
    while (set->slots[j]) {
        if (strcmp(set->slots[j], s) == 0) return false;
        j = (j + 1) & (set->cap - 1);
    }
    set->slots[j] = s;
    set->len++;
    return true;
}

void cg_strset_free(cg_strset *set)
{
    free(set->slots);
    set->slots = NULL;
    set->cap = set->len = 0;
}
