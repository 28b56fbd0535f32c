/*
 * gen/diff.c — Myers line diff and unified output (see diff.h).
 */
#include "diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct line {
    const char *p;
    size_t len;         /* including the '\n' when present */
    uint64_t hash;
} line;

typedef struct lines {
    line *v;
    size_t n;
} lines;

static lines split(const char *s, size_t len)
{
    lines l = {0};
    size_t cap = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - s) + 1 : len;
        if (l.n == cap) {
            cap = cap ? cap * 2 : 64;
            l.v = cg_xrealloc(l.v, cap * sizeof *l.v);
        }
        uint64_t h = 1469598103934665603ULL;
        for (size_t k = i; k < end; k++) {
            h ^= (unsigned char)s[k];
            h *= 1099511628211ULL;
        }
        l.v[l.n++] = (line){ s + i, end - i, h };
        i = end;
    }
    return l;
}

static bool same(const line *x, const line *y)
{
    return x->hash == y->hash && x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

typedef enum op { OP_EQ, OP_DEL, OP_INS } op;

typedef struct script {
    op *v;
    size_t n, cap;
} script;

static void push(script *s, op o)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = cg_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = o;
}

/* Myers on a[0..n) and b[0..m); appends the edit script (in order) to s.
 * Returns false when the edit distance exceeds the bound. */
static bool myers(const line *a, long n, const line *b, long m, script *s)
{
    long max = n + m;
    if (max > CG_DIFF_MAX_EDIT) max = CG_DIFF_MAX_EDIT;
    long off = max + 1;
    long width = 2 * max + 3;
    long *v = cg_xcalloc((size_t)width, sizeof *v);
    /* trace[d] holds the V array (indices -d..d) after step d. */
    long **trace = cg_xcalloc((size_t)max + 1, sizeof *trace);
    long dfound = -1;
    for (long d = 0; d <= max && dfound < 0; d++) {
        for (long k = -d; k <= d; k += 2) {
            long x;
            if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) x = v[off + k + 1];
            else x = v[off + k - 1] + 1;
            long y = x - k;
            while (x < n && y < m && same(&a[x], &b[y])) { x++; y++; }
            v[off + k] = x;
            if (x >= n && y >= m) { dfound = d; break; }
        }
        trace[d] = cg_xmalloc((size_t)(2 * d + 1) * sizeof(long));
        memcpy(trace[d], v + off - d, (size_t)(2 * d + 1) * sizeof(long));
    }
    bool ok = dfound >= 0;
    if (ok) {
        /* Walk back from (n, m), collecting ops in reverse: at each step,
         * the diagonal snake, then the one insertion or deletion that led
         * onto it from step d-1. */
        script rev = {0};
        long x = n, y = m;
        for (long d = dfound; d > 0; d--) {
            const long *pv = trace[d - 1] + (d - 1);   /* pv[k], k in -(d-1)..(d-1) */
            long k = x - y;
            bool down = k == -d || (k != d && pv[k - 1] < pv[k + 1]);
            long prevk = down ? k + 1 : k - 1;
            long px = pv[prevk], py = px - prevk;
            long mx = down ? px : px + 1, my = down ? py + 1 : py;
            while (x > mx && y > my) { push(&rev, OP_EQ); x--; y--; }
            push(&rev, down ? OP_INS : OP_DEL);
            x = px;
            y = py;
        }
        while (x > 0 && y > 0) { push(&rev, OP_EQ); x--; y--; }
        for (size_t i = rev.n; i > 0; i--) push(s, rev.v[i - 1]);
        free(rev.v);
    }
    for (long d = 0; d <= max; d++) free(trace[d]);
    free(trace);
    free(v);
    return ok;
}

static void range(cg_buf *out, char sign, size_t start, size_t count)
{
    /* GNU diff: a one-line range omits the count; an empty one names the
     * line before it. */
    if (count == 1) cg_buf_printf(out, "%c%zu", sign, start + 1);
    else cg_buf_printf(out, "%c%zu,%zu", sign, count ? start + 1 : start, count);
}

static void emit_line(cg_buf *out, char sign, const line *l)
{
    cg_buf_putc(out, sign);
    cg_buf_put(out, l->p, l->len);
    if (!l->len || l->p[l->len - 1] != '\n') cg_buf_puts(out, "\n\\ No newline at end of file\n");
}

size_t cg_diff_unified(const char *a, size_t alen, const char *b, size_t blen,
                       const char *label_a, const char *label_b, cg_buf *out)
{
    lines la = split(a, alen), lb = split(b, blen);
    size_t pre = 0, suf = 0;
    while (pre < la.n && pre < lb.n && same(&la.v[pre], &lb.v[pre])) pre++;
    while (suf < la.n - pre && suf < lb.n - pre && same(&la.v[la.n - 1 - suf], &lb.v[lb.n - 1 - suf])) suf++;

    script s = {0};
    for (size_t i = 0; i < pre; i++) push(&s, OP_EQ);
    long n = (long)(la.n - pre - suf), m = (long)(lb.n - pre - suf);
    if (!myers(la.v + pre, n, lb.v + pre, m, &s)) {
        for (long i = 0; i < n; i++) push(&s, OP_DEL);
        for (long i = 0; i < m; i++) push(&s, OP_INS);
    }
    for (size_t i = 0; i < suf; i++) push(&s, OP_EQ);

    size_t changed = 0;
    for (size_t i = 0; i < s.n; i++) changed += s.v[i] != OP_EQ;
    if (changed) {
        cg_buf_printf(out, "--- %s\n+++ %s\n", label_a, label_b);
        /* ai/bi: line positions before op i. */
        size_t *ai = cg_xmalloc((s.n + 1) * sizeof *ai), *bi = cg_xmalloc((s.n + 1) * sizeof *bi);
        ai[0] = bi[0] = 0;
        for (size_t i = 0; i < s.n; i++) {
            ai[i + 1] = ai[i] + (s.v[i] != OP_INS);
            bi[i + 1] = bi[i] + (s.v[i] != OP_DEL);
        }
        size_t i = 0;
        while (i < s.n) {
            while (i < s.n && s.v[i] == OP_EQ) i++;
            if (i == s.n) break;
            size_t start = i >= CG_DIFF_CONTEXT ? i - CG_DIFF_CONTEXT : 0;
            /* Extend the hunk while the next change is within 2*context. */
            size_t end = i;
            for (;;) {
                while (end < s.n && s.v[end] != OP_EQ) end++;
                size_t eq = end;
                while (eq < s.n && s.v[eq] == OP_EQ) eq++;
                if (eq < s.n && eq - end <= 2 * CG_DIFF_CONTEXT) { end = eq; continue; }
                end = end + CG_DIFF_CONTEXT < s.n ? end + CG_DIFF_CONTEXT : s.n;
                if (eq < s.n && end > eq) end = eq;
                break;
            }
            cg_buf_puts(out, "@@ ");
            range(out, '-', ai[start], ai[end] - ai[start]);
            cg_buf_putc(out, ' ');
            range(out, '+', bi[start], bi[end] - bi[start]);
            cg_buf_puts(out, " @@\n");
            for (size_t k = start; k < end; k++) {
                if (s.v[k] == OP_EQ) emit_line(out, ' ', &la.v[ai[k]]);
                else if (s.v[k] == OP_DEL) emit_line(out, '-', &la.v[ai[k]]);
                else emit_line(out, '+', &lb.v[bi[k]]);
            }
            i = end;
        }
        free(ai);
        free(bi);
    }
    free(s.v);
    free(la.v);
    free(lb.v);
    return changed;
}
