/*
 * common/diag.c — diagnostics and attribute paths (see diag.h).
 *
 * This file owns the memory rules of cr_diags and cr_path: a diagnostic owns
 * its strings and its copy of the path; a path owns its step names. Adding a
 * diagnostic never fails from the caller's point of view: when memory runs
 * out we fall back to a static "out of memory" diagnostic, because a caller
 * that is already reporting an error has no better recovery to offer.
 */
#include "common/diag.h"
#include "common/tbuf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- paths ---------------------------------------------------------------- */

static int path_reserve(cr_path *p)
{
    if (p->len < p->cap)
        return 0;
    size_t cap = p->cap ? p->cap * 2 : 4;
    cr_path_step *s = realloc(p->steps, cap * sizeof *s);
    if (!s)
        return -1;
    p->steps = s;
    p->cap = cap;
    return 0;
}

static int path_push_named(cr_path *p, cr_path_step_kind kind, const char *name)
{
    if (path_reserve(p) < 0)
        return -1;
    char *copy = strdup(name ? name : "");
    if (!copy)
        return -1;
    p->steps[p->len++] = (cr_path_step){ .kind = kind, .name = copy };
    return 0;
}

int cr_path_push_attr(cr_path *p, const char *name)
{
    return path_push_named(p, CR_STEP_ATTR, name);
}

int cr_path_push_key(cr_path *p, const char *key)
{
    return path_push_named(p, CR_STEP_KEY, key);
}

int cr_path_push_index(cr_path *p, int64_t index)
{
    if (path_reserve(p) < 0)
        return -1;
    p->steps[p->len++] = (cr_path_step){ .kind = CR_STEP_INDEX, .index = index };
    return 0;
}

void cr_path_pop(cr_path *p)
{
    if (!p->len)
        return;
    p->len--;
    free(p->steps[p->len].name);
    p->steps[p->len].name = NULL;
}

int cr_path_copy(cr_path *dst, const cr_path *src)
{
    *dst = (cr_path){0};
    if (!src || !src->len)
        return 0;
    dst->steps = calloc(src->len, sizeof *dst->steps);
    if (!dst->steps)
        return -1;
    dst->cap = src->len;
    for (size_t i = 0; i < src->len; i++) {
        dst->steps[i] = src->steps[i];
        if (src->steps[i].name) {
            dst->steps[i].name = strdup(src->steps[i].name);
            if (!dst->steps[i].name) {
                dst->len = i;
                cr_path_free(dst);
                return -1;
            }
        }
        dst->len = i + 1;
    }
    return 0;
}

void cr_path_free(cr_path *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->len; i++)
        free(p->steps[i].name);
    free(p->steps);
    *p = (cr_path){0};
}

/* Map keys are rendered as HCL string literals so a key containing quotes,
 * backslashes or control bytes cannot make the rendering ambiguous. */
static void sb_put_quoted(cr_tbuf *b, const char *s)
{
    cr_tbuf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"':  cr_tbuf_puts(b, "\\\""); break;
        case '\\': cr_tbuf_puts(b, "\\\\"); break;
        case '\n': cr_tbuf_puts(b, "\\n"); break;
        case '\r': cr_tbuf_puts(b, "\\r"); break;
        case '\t': cr_tbuf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                cr_tbuf_puts(b, esc);
            } else {
                cr_tbuf_put(b, (const char *)p, 1);
            }
        }
    }
    cr_tbuf_put(b, "\"", 1);
}

char *cr_path_format(const cr_path *p)
{
    cr_tbuf b = {0};
    cr_tbuf_put(&b, "", 0);
    for (size_t i = 0; p && i < p->len; i++) {
        const cr_path_step *s = &p->steps[i];
        char num[32];
        switch (s->kind) {
        case CR_STEP_ATTR:
            if (i)
                cr_tbuf_put(&b, ".", 1);
            cr_tbuf_puts(&b, s->name ? s->name : "");
            break;
        case CR_STEP_KEY:
            cr_tbuf_put(&b, "[", 1);
            sb_put_quoted(&b, s->name ? s->name : "");
            cr_tbuf_put(&b, "]", 1);
            break;
        case CR_STEP_INDEX:
            snprintf(num, sizeof num, "[%" PRId64 "]", s->index);
            cr_tbuf_puts(&b, num);
            break;
        }
    }
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* ---- diagnostics ------------------------------------------------------------ */

static cr_diag oom_diag(void)
{
    /* Static text would break the "diagnostic owns its strings" rule, so the
     * fallback still tries a tiny allocation; if even that fails the
     * diagnostic keeps a NULL summary, which every consumer tolerates by
     * checking severity first. */
    return (cr_diag){ .severity = CR_DIAG_ERROR,
                      .summary = strdup("Out of memory"),
                      .detail = NULL };
}

static void diags_push(cr_diags *d, cr_diag g)
{
    if (d->len == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        cr_diag *n = realloc(d->items, cap * sizeof *n);
        if (!n) {
            /* Nowhere to store it: overwrite the last slot with an
             * out-of-memory error so an error is never silently lost. */
            free(g.summary);
            free(g.detail);
            cr_path_free(&g.path);
            if (d->len) {
                cr_diag *last = &d->items[d->len - 1];
                free(last->summary);
                free(last->detail);
                cr_path_free(&last->path);
                *last = oom_diag();
            }
            return;
        }
        d->items = n;
        d->cap = cap;
    }
    d->items[d->len++] = g;
}

static void diags_vadd(cr_diags *d, cr_diag_severity sev, const cr_path *path,
                       const char *summary, const char *fmt, va_list ap)
{
    cr_diag g = { .severity = sev };
    g.summary = strdup(summary ? summary : "");
    if (fmt && *fmt) {
        va_list aq;
        va_copy(aq, ap);
        int n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n >= 0) {
            g.detail = malloc((size_t)n + 1);
            if (g.detail)
                vsnprintf(g.detail, (size_t)n + 1, fmt, ap);
        }
        if (!g.detail)
            goto oom;
    }
    if (!g.summary || cr_path_copy(&g.path, path) < 0)
        goto oom;
    diags_push(d, g);
    return;
oom:
    free(g.summary);
    free(g.detail);
    diags_push(d, oom_diag());
}

void cr_diags_add(cr_diags *d, cr_diag_severity sev, const cr_path *path,
                  const char *summary, const char *detail_fmt, ...)
{
    va_list ap;
    va_start(ap, detail_fmt);
    diags_vadd(d, sev, path, summary, detail_fmt, ap);
    va_end(ap);
}

void cr_diags_attr_error(cr_diags *d, const char *attr, const char *summary,
                         const char *detail_fmt, ...)
{
    cr_path p = {0};
    va_list ap;
    va_start(ap, detail_fmt);
    if (attr && cr_path_push_attr(&p, attr) < 0) {
        diags_push(d, oom_diag());
    } else {
        diags_vadd(d, CR_DIAG_ERROR, &p, summary, detail_fmt, ap);
    }
    va_end(ap);
    cr_path_free(&p);
}

bool cr_diags_has_error(const cr_diags *d)
{
    for (size_t i = 0; d && i < d->len; i++)
        if (d->items[i].severity == CR_DIAG_ERROR)
            return true;
    return false;
}

void cr_diags_move(cr_diags *dst, cr_diags *src)
{
    if (!src || src == dst)
        return;
    for (size_t i = 0; i < src->len; i++)
        diags_push(dst, src->items[i]);
    free(src->items);
    *src = (cr_diags)CR_DIAGS_INIT;
}

void cr_diags_free(cr_diags *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->len; i++) {
        free(d->items[i].summary);
        free(d->items[i].detail);
        cr_path_free(&d->items[i].path);
    }
    free(d->items);
    *d = (cr_diags)CR_DIAGS_INIT;
}
