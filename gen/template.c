/*
 * gen/template.c — named values and the rendering of an embedded template
 * with them (the rule is in template.h and gen/templates/README.md).
 *
 * A template is split into lines once per rendering; `for`/`end` comment
 * lines are paired up front, so an unmatched one is reported before
 * anything is written. Names are looked up from the innermost item
 * outwards; the sets are small (a dozen values), so a linear search is
 * cheaper than hashing even for 100,000 tenants.
 */
#include "template.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct value {
    const char *name;           /* borrowed: a string literal of the caller */
    size_t name_len;
    char *text;                 /* NULL for a list */
    cg_tpl_vars **items;
    size_t nitems, cap;
} value;

struct cg_tpl_vars {
    value *vals;
    size_t len, cap;
};

cg_tpl_vars *cg_tpl_vars_new(void)
{
    return cg_xcalloc(1, sizeof(cg_tpl_vars));
}

void cg_tpl_vars_free(cg_tpl_vars *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->len; i++) {
        free(v->vals[i].text);
        for (size_t j = 0; j < v->vals[i].nitems; j++) cg_tpl_vars_free(v->vals[i].items[j]);
        free(v->vals[i].items);
    }
    free(v->vals);
    free(v);
}

static value *find_own(const cg_tpl_vars *v, const char *name, size_t n)
{
    for (size_t i = 0; i < v->len; i++)
        if (v->vals[i].name_len == n && !memcmp(v->vals[i].name, name, n)) return &v->vals[i];
    return NULL;
}

static value *add(cg_tpl_vars *v, const char *name)
{
    if (find_own(v, name, strlen(name))) {
        /* A programming error in the C that fills templates, never input. */
        fprintf(stderr, "cellgen: template value %s set twice\n", name);
        abort();
    }
    if (v->len == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 4;
        v->vals = cg_xrealloc(v->vals, v->cap * sizeof *v->vals);
    }
    value *x = &v->vals[v->len++];
    *x = (value){ .name = name, .name_len = strlen(name) };
    return x;
}

void cg_tpl_set_owned(cg_tpl_vars *v, const char *name, char *text)
{
    add(v, name)->text = text;
}

void cg_tpl_set(cg_tpl_vars *v, const char *name, const char *text)
{
    cg_tpl_set_owned(v, name, cg_xstrdup(text));
}

void cg_tpl_setf(cg_tpl_vars *v, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = cg_xvasprintf(fmt, ap);
    va_end(ap);
    cg_tpl_set_owned(v, name, text);
}

void cg_tpl_list(cg_tpl_vars *v, const char *name)
{
    add(v, name);
}

cg_tpl_vars *cg_tpl_item(cg_tpl_vars *v, const char *name)
{
    value *x = find_own(v, name, strlen(name));
    if (!x) x = add(v, name);
    if (x->text) {
        fprintf(stderr, "cellgen: template value %s is a text, not a list\n", name);
        abort();
    }
    if (x->nitems == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 8;
        x->items = cg_xrealloc(x->items, x->cap * sizeof *x->items);
    }
    return x->items[x->nitems++] = cg_tpl_vars_new();
}

void cg_tpl_when(cg_tpl_vars *v, const char *name, bool cond)
{
    cg_tpl_list(v, name);
    if (cond) cg_tpl_item(v, name);
}

/* ---- rendering ------------------------------------------------------------ */

/* The chain of sets a name is looked up in, innermost first. */
typedef struct scope {
    const cg_tpl_vars *vars;
    const struct scope *outer;
} scope;

static const value *lookup(const scope *sc, const char *name, size_t n)
{
    for (; sc; sc = sc->outer) {
        const value *x = find_own(sc->vars, name, n);
        if (x) return x;
    }
    return NULL;
}

enum { LINE_TEXT, LINE_FOR, LINE_END };

typedef struct tline {
    const char *p;          /* without its newline */
    size_t len;
    bool newline;           /* the line ended with '\n' */
    int kind;
    const char *name;       /* LINE_FOR/LINE_END: the list's name */
    size_t name_len;
    size_t match;           /* LINE_FOR: index of its LINE_END */
} tline;

typedef struct render {
    const cg_tpl *t;
    tline *lines;
    size_t nlines;
    cg_buf *out;
    char *err;
} render;

static bool word_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Whether w[0..n) is a hole: `__name__` with name lowercase letters and
 * digits in words joined by single underscores. Sets *name, *name_len. */
static bool is_hole(const char *w, size_t n, const char **name, size_t *name_len)
{
    if (n < 5 || memcmp(w, "__", 2) || memcmp(w + n - 2, "__", 2)) return false;
    const char *s = w + 2;
    size_t k = n - 4;
    if (!(s[0] >= 'a' && s[0] <= 'z') || s[k - 1] == '_') return false;
    for (size_t i = 0; i < k; i++) {
        char c = s[i];
        if (c == '_' ? s[i + 1] == '_' : !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
    }
    *name = s;
    *name_len = k;
    return true;
}

static const char *skip_blank(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    return p;
}

static const char *trim_end(const char *p, const char *e)
{
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    return e;
}

/* Classifies a line as `for __x__`/`end __x__` inside a line comment of
 * HCL/TOML/YAML (#), JavaScript (//) or Markdown/HTML (<!-- -->). */
static void classify(tline *l)
{
    const char *p = skip_blank(l->p, l->p + l->len), *e = trim_end(p, l->p + l->len);
    l->kind = LINE_TEXT;
    if (e - p >= 1 && *p == '#') {
        p++;
    } else if (e - p >= 2 && !memcmp(p, "//", 2)) {
        p += 2;
    } else if (e - p >= 7 && !memcmp(p, "<!--", 4) && !memcmp(e - 3, "-->", 3)) {
        p += 4;
        e -= 3;
    } else {
        return;
    }
    p = skip_blank(p, e);
    e = trim_end(p, e);
    int kind;
    if (e - p > 4 && !memcmp(p, "for ", 4)) kind = LINE_FOR;
    else if (e - p > 4 && !memcmp(p, "end ", 4)) kind = LINE_END;
    else return;
    p = skip_blank(p + 4, e);
    if (is_hole(p, (size_t)(e - p), &l->name, &l->name_len)) l->kind = kind;
}

static int fail(render *r, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(render *r, size_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = cg_xvasprintf(fmt, ap);
    va_end(ap);
    r->err = cg_xasprintf("gen/templates/%s:%zu: %s", r->t->path, line + 1, msg);
    free(msg);
    return -1;
}

static int split(render *r)
{
    const char *p = r->t->text, *end = p + r->t->len;
    size_t cap = 64;
    r->lines = cg_xmalloc(cap * sizeof *r->lines);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (r->nlines == cap) r->lines = cg_xrealloc(r->lines, (cap *= 2) * sizeof *r->lines);
        tline *l = &r->lines[r->nlines++];
        *l = (tline){ .p = p, .len = (size_t)((nl ? nl : end) - p), .newline = nl != NULL };
        classify(l);
        p = nl ? nl + 1 : end;
    }
    /* Pair every `for` with its `end`. */
    size_t *open = cg_xmalloc((r->nlines + 1) * sizeof *open), nopen = 0;
    int rc = 0;
    for (size_t i = 0; i < r->nlines && rc == 0; i++) {
        tline *l = &r->lines[i];
        if (l->kind == LINE_FOR) {
            open[nopen++] = i;
        } else if (l->kind == LINE_END) {
            const tline *f = nopen ? &r->lines[open[nopen - 1]] : NULL;
            if (!f || f->name_len != l->name_len || memcmp(f->name, l->name, l->name_len))
                rc = fail(r, i, "`end __%.*s__` closes no `for __%.*s__`", (int)l->name_len, l->name,
                          (int)l->name_len, l->name);
            else
                r->lines[open[--nopen]].match = i;
        }
    }
    if (rc == 0 && nopen)
        rc = fail(r, open[nopen - 1], "`for __%.*s__` has no `end __%.*s__`", (int)r->lines[open[nopen - 1]].name_len,
                  r->lines[open[nopen - 1]].name, (int)r->lines[open[nopen - 1]].name_len,
                  r->lines[open[nopen - 1]].name);
    free(open);
    return rc;
}

/* Appends text, indenting every later line of it (not empty ones) by the
 * indentation of the line it lands on. */
static void put_value(cg_buf *out, const char *text, const tline *l)
{
    size_t indent = (size_t)(skip_blank(l->p, l->p + l->len) - l->p);
    for (const char *p = text;;) {
        const char *nl = strchr(p, '\n');
        if (!nl) {
            cg_buf_puts(out, p);
            return;
        }
        cg_buf_put(out, p, (size_t)(nl - p) + 1);
        p = nl + 1;
        if (*p && *p != '\n') cg_buf_put(out, l->p, indent);
    }
}

static int render_line(render *r, size_t i, const scope *sc)
{
    const tline *l = &r->lines[i];
    const char *p = l->p, *end = l->p + l->len;
    while (p < end) {
        /* Copy up to the next word, then the word or its value. */
        const char *w = p;
        while (w < end && !word_byte(*w)) w++;
        cg_buf_put(r->out, p, (size_t)(w - p));
        const char *we = w;
        while (we < end && word_byte(*we)) we++;
        const char *name;
        size_t n;
        if (w < we && is_hole(w, (size_t)(we - w), &name, &n)) {
            const value *x = lookup(sc, name, n);
            if (!x) return fail(r, i, "no value for __%.*s__", (int)n, name);
            if (!x->text)
                return fail(r, i, "__%.*s__ is a list: repeat lines for each item with `for __%.*s__` ... `end __%.*s__`",
                            (int)n, name, (int)n, name, (int)n, name);
            put_value(r->out, x->text, l);
        } else {
            cg_buf_put(r->out, w, (size_t)(we - w));
        }
        p = we;
    }
    if (l->newline) cg_buf_putc(r->out, '\n');
    return 0;
}

static int render_range(render *r, size_t from, size_t to, const scope *sc)
{
    for (size_t i = from; i < to; i++) {
        const tline *l = &r->lines[i];
        if (l->kind == LINE_TEXT) {
            if (render_line(r, i, sc) != 0) return -1;
            continue;
        }
        /* LINE_FOR (every LINE_END is skipped with its block) */
        const value *x = lookup(sc, l->name, l->name_len);
        if (!x) return fail(r, i, "no list __%.*s__", (int)l->name_len, l->name);
        if (x->text) return fail(r, i, "__%.*s__ is a text, not a list", (int)l->name_len, l->name);
        for (size_t k = 0; k < x->nitems; k++) {
            scope inner = { x->items[k], sc };
            if (render_range(r, i + 1, l->match, &inner) != 0) return -1;
        }
        i = l->match;
    }
    return 0;
}

int cg_tpl_render(const cg_tpl *t, const cg_tpl_vars *v, cg_buf *out, char **err)
{
    render r = { .t = t, .out = out };
    scope top = { v, NULL };
    int rc = split(&r);
    if (rc == 0) rc = render_range(&r, 0, r.nlines, &top);
    free(r.lines);
    if (rc != 0) *err = r.err;
    return rc;
}
