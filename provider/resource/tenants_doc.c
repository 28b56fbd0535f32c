/*
 * resource/tenants_doc.c — reading the tenants document, and the
 * per-tenant versions of the private state (tenants_doc.h).
 *
 * The document arrives as one string of up to tens of megabytes, so it is
 * read by yajl's streaming parser (its callbacks build the entries as the
 * tokens come) into memory that lives with the document: tenant ids and
 * label arrays in a bump arena, field values interned (a fleet has a few
 * distinct cells and endpoints; each is stored once, and two entries on
 * the same values compare by pointer). Entries are then sorted (skipped
 * when the document already is, as jsonencode and cellctl export write
 * it) and checked against the routing map's rules (store.c), the costly
 * URL checks once per distinct combination of cell and endpoint values.
 *
 * The document's shape is strict: unknown fields, keys given twice, a
 * value of the wrong JSON type, bad UTF-8 and lone surrogate escapes are
 * errors naming the tenant and the field (the first problem of the shape
 * stops the parse; problems of values are all counted). Nothing is ever
 * guessed: a document that is not valid is never written.
 *
 * The versions codec uses msgpack-c (packer and unpacker).
 *
 * May include: resource/, store/store.h, common/, yajl, msgpack-c.
 */
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "common/utf8.h"
#include "resource/tenants_doc.h"

/* ---- memory that lives with a document ------------------------------------ */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
} chunk;

typedef struct islot {
    uint64_t hash;
    size_t len;
    char *s;
} islot;

struct cr_tdoc_mem {
    chunk *chunks;
    islot *slots;           /* the interner: open addressing */
    size_t nslots, nused;
};

static void *mem_alloc(cr_tdoc_mem *m, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    chunk *c = m->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 256 * 1024 ? n : 256 * 1024;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = m->chunks;
        c->used = 0;
        c->cap = cap;
        m->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static char *mem_strndup(cr_tdoc_mem *m, const char *s, size_t n)
{
    char *d = mem_alloc(m, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* The one copy of s[0..n) in m; NULL on ENOMEM. */
static char *mem_intern(cr_tdoc_mem *m, const char *s, size_t n)
{
    if (m->nused * 2 >= m->nslots) {
        size_t ns = m->nslots ? m->nslots * 2 : 256;
        islot *t = calloc(ns, sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; i < m->nslots; i++) {
            if (!m->slots[i].s)
                continue;
            size_t j = m->slots[i].hash & (ns - 1);
            while (t[j].s)
                j = (j + 1) & (ns - 1);
            t[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = t;
        m->nslots = ns;
    }
    uint64_t h = fnv1a(s, n);
    size_t j = h & (m->nslots - 1);
    for (; m->slots[j].s; j = (j + 1) & (m->nslots - 1))
        if (m->slots[j].hash == h && m->slots[j].len == n &&
            memcmp(m->slots[j].s, s, n) == 0)
            return m->slots[j].s;
    char *d = mem_strndup(m, s, n);
    if (d) {
        m->slots[j] = (islot){ h, n, d };
        m->nused++;
    }
    return d;
}

static void mem_free(cr_tdoc_mem *m)
{
    if (!m)
        return;
    for (chunk *c = m->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(m->slots);
    free(m);
}

void cr_tdoc_free(cr_tdoc *doc)
{
    if (!doc)
        return;
    free(doc->items);
    free(doc->style);
    mem_free(doc->mem);
    memset(doc, 0, sizeof *doc);
}

void *cr_tdoc_alloc(cr_tdoc *doc, size_t n)
{
    if (!doc->mem && !(doc->mem = calloc(1, sizeof *doc->mem)))
        return NULL;
    return mem_alloc(doc->mem, n ? n : 1);
}

cr_entry *cr_tdoc_push(cr_tdoc *doc, unsigned style)
{
    if (!doc->mem && !(doc->mem = calloc(1, sizeof *doc->mem)))
        return NULL;
    if (doc->len == doc->cap) {
        size_t cap = doc->cap ? doc->cap * 2 : 64;
        cr_entry *items = realloc(doc->items, cap * sizeof *items);
        if (!items)
            return NULL;
        doc->items = items;
        unsigned char *st = realloc(doc->style, cap);
        if (!st)
            return NULL;
        doc->style = st;
        doc->cap = cap;
    }
    cr_entry *e = &doc->items[doc->len];
    memset(e, 0, sizeof *e);
    doc->style[doc->len++] = (unsigned char)style;
    return e;
}

const cr_entry *cr_tdoc_find(const cr_tdoc *doc, const char *tenant_id)
{
    size_t lo = 0, hi = doc->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(doc->items[mid].tenant_id, tenant_id);
        if (c == 0)
            return &doc->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- equality --------------------------------------------------------------- */

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The next label at or after *i that is not the owner tag, or NULL. */
static const cr_label *user_label(const cr_entry *e, size_t *i)
{
    for (; *i < e->nlabels; (*i)++)
        if (strcmp(e->labels[*i].key, CR_OWNER_LABEL) != 0)
            return &e->labels[(*i)++];
    return NULL;
}

bool cr_tdoc_same_entry(const cr_entry *a, const cr_entry *b)
{
    if (!same_str(a->cell_id, b->cell_id) ||
        !same_str(a->endpoint, b->endpoint) ||
        !same_str(a->standby_cell_id, b->standby_cell_id) ||
        !same_str(a->standby_endpoint, b->standby_endpoint))
        return false;
    /* Both label lists are sorted by key, each key once. */
    size_t i = 0, j = 0;
    for (;;) {
        const cr_label *la = user_label(a, &i), *lb = user_label(b, &j);
        if (!la || !lb)
            return !la && !lb;
        if (!same_str(la->key, lb->key) || !same_str(la->value, lb->value))
            return false;
    }
}

bool cr_tdoc_same(const cr_tdoc *a, const cr_tdoc *b)
{
    if (a->len != b->len)
        return false;
    for (size_t i = 0; i < a->len; i++)
        if (strcmp(a->items[i].tenant_id, b->items[i].tenant_id) != 0 ||
            !cr_tdoc_same_entry(&a->items[i], &b->items[i]))
            return false;
    return true;
}

/* ---- parsing ----------------------------------------------------------------- */

enum { F_CELL, F_ENDPOINT, F_SB_CELL, F_SB_ENDPOINT, F_LABELS, NFIELDS };
static const char *const field_names[NFIELDS] = {
    "cell_id", "endpoint", "standby_cell_id", "standby_endpoint", "labels",
};

typedef struct tparse {
    cr_tdoc *doc;
    const char *attr;
    yajl_handle h;
    int depth;              /* 0 outside, 1 in the document, 2 in a tenant,
                               3 in its labels */
    int field;              /* depth 2: the field whose value comes next */
    unsigned seen;          /* fields given for this tenant */
    cr_label *lab;          /* this tenant's labels while read (malloc'd) */
    size_t nlab, caplab;
    const char *lab_key;    /* depth 3: the key whose value comes next */
    bool stopped;           /* a problem of shape: the parse stops */
    bool nomem;
    char *problems[CR_TDOC_MAX_ERRORS];
    size_t nproblems;
} tparse;

/* The current tenant (the last one pushed). */
static cr_entry *cur(tparse *p)
{
    return &p->doc->items[p->doc->len - 1];
}

/* A printable form of untrusted text for a message: at most 80 bytes,
 * control characters as '?'. */
static const char *shown(const char *s, char buf[84])
{
    size_t n = 0;
    for (; s && s[n] && n < 80; n++)
        buf[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
    if (s && s[n])
        buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
    buf[n] = '\0';
    return buf;
}

/* Records a problem ("<attr>: " is added when reported); a problem of
 * shape also stops the parse. Returns 0 when the parse must stop (for a
 * callback's return). */
static int problem(tparse *p, bool stop, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int problem(tparse *p, bool stop, const char *fmt, ...)
{
    if (p->nproblems < CR_TDOC_MAX_ERRORS) {
        char buf[700];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        p->problems[p->nproblems] = strdup(buf);
        if (!p->problems[p->nproblems])
            p->nomem = true;
    }
    p->nproblems++;
    if (stop)
        p->stopped = true;
    return !stop;
}

static int oom(tparse *p)
{
    p->nomem = p->stopped = true;
    return 0;
}

/* "tenant "acme": " for messages about the current tenant. */
#define TENANT_FMT "tenant \"%s\": "
#define TENANT_ARG(p, b) shown(cur(p)->tenant_id, b)

/* A value of the wrong JSON type where `got` came. */
static int wrong_type(tparse *p, const char *got)
{
    char b[84];
    switch (p->depth) {
    case 0:
        return problem(p, true, "the document must be a JSON object keyed by "
                       "tenant id, not %s", got);
    case 1:
        return problem(p, true, TENANT_FMT "must be an object with cell_id "
                       "and endpoint, not %s", TENANT_ARG(p, b), got);
    case 2:
        return problem(p, true, TENANT_FMT "%s must be %s, not %s",
                       TENANT_ARG(p, b), field_names[p->field],
                       p->field == F_LABELS ? "an object of strings"
                                            : "a string", got);
    default: {
        char k[84];
        return problem(p, true, TENANT_FMT "label \"%s\" must be a string, "
                       "not %s", TENANT_ARG(p, b), shown(p->lab_key, k), got);
    }
    }
}

static int on_null(void *ctx)
{
    tparse *p = ctx;
    if (p->depth != 2)
        return wrong_type(p, "null");
    /* A field given as null is a field not given; how it was written is
     * kept to write it back the same way. */
    static const unsigned char style[NFIELDS] = {
        [F_SB_CELL] = CR_DOC_NULL_STANDBY_CELL,
        [F_SB_ENDPOINT] = CR_DOC_NULL_STANDBY_ENDPOINT,
        [F_LABELS] = CR_DOC_NULL_LABELS,
    };
    p->doc->style[p->doc->len - 1] |= style[p->field];
    return 1;
}

static int on_boolean(void *ctx, int b)
{
    return wrong_type(ctx, b ? "true" : "false");
}

static int on_number(void *ctx, const char *s, size_t n)
{
    (void)s;
    (void)n;
    return wrong_type(ctx, "a number");
}

static int on_start_array(void *ctx)
{
    return wrong_type(ctx, "an array");
}

static int on_end_array(void *ctx)
{
    return wrong_type(ctx, "an array");
}

static int on_string(void *ctx, const unsigned char *u, size_t n)
{
    tparse *p = ctx;
    const char *s = (const char *)u;
    char b[84];

    if (p->depth == 2 && p->field != F_LABELS) {
        char *v = mem_intern(p->doc->mem, s, n);
        if (!v)
            return oom(p);
        cr_entry *e = cur(p);
        char **slot[] = { &e->cell_id, &e->endpoint, &e->standby_cell_id,
                          &e->standby_endpoint };
        *slot[p->field] = v;
        return 1;
    }
    if (p->depth != 3)
        return wrong_type(p, "a string");
    if (p->nlab == p->caplab) {
        size_t cap = p->caplab ? p->caplab * 2 : 8;
        cr_label *l = realloc(p->lab, cap * sizeof *l);
        if (!l)
            return oom(p);
        p->lab = l;
        p->caplab = cap;
    }
    char *v = mem_intern(p->doc->mem, s, n);
    if (!v)
        return oom(p);
    if (strcmp(p->lab_key, CR_OWNER_LABEL) == 0)
        problem(p, false, TENANT_FMT "label \"" CR_OWNER_LABEL "\" is "
                "reserved: the provider records there which "
                "cellrouter_tenants resource manages the entry",
                TENANT_ARG(p, b));
    p->lab[p->nlab++] = (cr_label){ (char *)p->lab_key, v };
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *u, size_t n)
{
    tparse *p = ctx;
    const char *s = (const char *)u;
    char b[84], k[84];

    switch (p->depth) {
    case 1: {
        if (p->doc->len >= CR_TDOC_MAX_TENANTS)
            return problem(p, true, "the document holds more than %d "
                           "tenants, the most one resource takes: shard the "
                           "fleet over several cellrouter_tenants resources",
                           CR_TDOC_MAX_TENANTS);
        cr_entry *e = cr_tdoc_push(p->doc, 0);
        if (!e || !(e->tenant_id = mem_strndup(p->doc->mem, s, n)))
            return oom(p);
        return 1;
    }
    case 2:
        for (int f = 0; f < NFIELDS; f++) {
            if (strlen(field_names[f]) != n || memcmp(field_names[f], s, n))
                continue;
            if (p->seen & (1u << f))
                return problem(p, true, TENANT_FMT "%s is given twice",
                               TENANT_ARG(p, b), field_names[f]);
            p->seen |= 1u << f;
            p->field = f;
            return 1;
        }
        {
            char *f = mem_strndup(p->doc->mem, s, n);
            return f ? problem(p, true, TENANT_FMT "unknown field \"%s\" "
                               "(a tenant has cell_id, endpoint, "
                               "standby_cell_id, standby_endpoint and "
                               "labels)", TENANT_ARG(p, b), shown(f, k))
                     : oom(p);
        }
    case 3:
        if (!(p->lab_key = mem_intern(p->doc->mem, s, n)))
            return oom(p);
        return 1;
    default:
        return 0;                   /* yajl reports no key elsewhere */
    }
}

static int on_start_map(void *ctx)
{
    tparse *p = ctx;
    if (p->depth == 2 && p->field != F_LABELS)
        return wrong_type(p, "an object");
    if (p->depth == 3)
        return wrong_type(p, "an object");
    if (p->depth == 1) {
        p->seen = 0;
    } else if (p->depth == 2) {
        p->nlab = 0;
        cur(p)->has_labels = true;
    }
    p->depth++;
    return 1;
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(((const cr_label *)a)->key, ((const cr_label *)b)->key);
}

static int on_end_map(void *ctx)
{
    tparse *p = ctx;
    char b[84], k[84];

    if (p->depth == 3) {
        cr_entry *e = cur(p);
        if (p->nlab > 1)
            qsort(p->lab, p->nlab, sizeof *p->lab, cmp_label);
        for (size_t i = 1; i < p->nlab; i++)
            if (strcmp(p->lab[i - 1].key, p->lab[i].key) == 0)
                return problem(p, true, TENANT_FMT "label \"%s\" is given "
                               "twice", TENANT_ARG(p, b),
                               shown(p->lab[i].key, k));
        if (p->nlab) {
            e->labels = mem_alloc(p->doc->mem, p->nlab * sizeof *e->labels);
            if (!e->labels)
                return oom(p);
            memcpy(e->labels, p->lab, p->nlab * sizeof *e->labels);
        } else {
            p->doc->style[p->doc->len - 1] |= CR_DOC_EMPTY_LABELS;
        }
        e->nlabels = p->nlab;
    }
    p->depth--;
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null, on_boolean, NULL, NULL, on_number, on_string,
    on_start_map, on_map_key, on_end_map, on_start_array, on_end_array,
};

/* The line and column (in characters) of byte offset `off`. */
static void line_col(const char *s, size_t len, size_t off, size_t *line,
                     size_t *col)
{
    *line = *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)s[i] & 0xc0) != 0x80) {
            (*col)++;
        }
    }
}

/* Sorts entries (and their styles) by tenant id, when they are not yet. */
static int cmp_index(const void *a, const void *b, void *base)
{
    const cr_entry *items = base;
    return strcmp(items[*(const size_t *)a].tenant_id,
                  items[*(const size_t *)b].tenant_id);
}

static int sort_doc(cr_tdoc *doc)
{
    size_t n = doc->len, i;
    for (i = 1; i < n; i++)
        if (strcmp(doc->items[i - 1].tenant_id, doc->items[i].tenant_id) > 0)
            break;
    if (i >= n)
        return 0;
    size_t *ix = malloc(n * sizeof *ix);
    cr_entry *items = malloc(n * sizeof *items);
    unsigned char *style = malloc(n);
    if (!ix || !items || !style) {
        free(ix);
        free(items);
        free(style);
        return -1;
    }
    for (i = 0; i < n; i++)
        ix[i] = i;
    qsort_r(ix, n, sizeof *ix, cmp_index, doc->items);
    for (i = 0; i < n; i++) {
        items[i] = doc->items[ix[i]];
        style[i] = doc->style[ix[i]];
    }
    free(doc->items);
    free(doc->style);
    free(ix);
    doc->items = items;
    doc->style = style;
    doc->cap = n;
    return 0;
}

/* ---- checks against the routing map's rules ------------------------------ */

/* Combinations of (cell, endpoint, standby cell, standby endpoint) found
 * valid, by interned pointer: a fleet repeats a few of them. */
#define COMBOS 64
typedef struct combo {
    const char *v[4];
} combo;

static bool combo_ok(combo *cache, const cr_entry *e, const char **field,
                     const char **msg)
{
    const char *v[4] = { e->cell_id, e->endpoint, e->standby_cell_id,
                         e->standby_endpoint };
    uintptr_t h = 0;
    for (int k = 0; k < 4; k++)
        h = h * 31 + ((uintptr_t)v[k] >> 4);
    combo *c = &cache[h % COMBOS];
    if (memcmp(c->v, v, sizeof v) == 0 && v[0])
        return true;
    /* The whole-entry rules with a stand-in tenant id and no labels
     * (each checked on its own): the one place they live is store.c. */
    cr_entry probe = *e;
    probe.tenant_id = (char *)"probe";
    probe.labels = NULL;
    probe.nlabels = 0;
    probe.has_labels = false;
    *msg = cr_entry_check(&probe, field);
    if (*msg)
        return false;
    memcpy(c->v, v, sizeof v);
    return true;
}

static void check_entry(tparse *p, const cr_entry *e, combo *cache)
{
    char b[84], k[84];
    const char *id = shown(e->tenant_id, b);
    const char *msg, *field = NULL;

    if ((msg = cr_tenant_id_check(e->tenant_id))) {
        problem(p, false, "tenant \"%s\": %s", id, msg);
        return;
    }
    for (size_t i = 0; i < e->nlabels; i++) {
        if ((msg = cr_label_check(e->labels[i].key, e->labels[i].value))) {
            problem(p, false, "tenant \"%s\": labels[\"%s\"]: %s", id,
                    shown(e->labels[i].key, k), msg);
            return;
        }
    }
    if (!combo_ok(cache, e, &field, &msg)) {
        /* "endpoint must ...": the field is already named. */
        size_t fl = field ? strlen(field) : 0;
        if (field && strncmp(msg, field, fl) == 0 && msg[fl] == ' ')
            problem(p, false, "tenant \"%s\": %s", id, msg);
        else
            problem(p, false, "tenant \"%s\": %s: %s", id,
                    field ? field : "entry", msg);
    }
}

static void report(tparse *p, const cr_path *at, cr_diags *d)
{
    size_t shown_n = p->nproblems < CR_TDOC_MAX_ERRORS ? p->nproblems
                                                       : CR_TDOC_MAX_ERRORS;
    for (size_t i = 0; i < shown_n; i++)
        cr_diags_error(d, at, "Invalid tenants document", "%s: %s", p->attr,
                       p->problems[i] ? p->problems[i] : "out of memory");
    if (p->nproblems > shown_n)
        cr_diags_error(d, at, "Invalid tenants document",
                       "%s: %zu more problems in the document.", p->attr,
                       p->nproblems - shown_n);
}

int cr_tdoc_parse(const char *text, size_t len, const char *attr,
                  const cr_path *at, cr_tdoc *doc, cr_diags *d)
{
    tparse p;
    size_t off;

    memset(doc, 0, sizeof *doc);
    memset(&p, 0, sizeof p);
    p.doc = doc;
    p.attr = attr;
    if (len > CR_TDOC_MAX_BYTES) {
        cr_diags_error(d, at, "Invalid tenants document",
                       "%s: the document is %zu bytes, more than the %u MiB "
                       "one resource takes (the plan request carries it up "
                       "to three times): shard the fleet over several "
                       "cellrouter_tenants resources.", attr, len,
                       CR_TDOC_MAX_BYTES >> 20);
        return -1;
    }
    if (!cr_utf8_valid(text, len)) {
        cr_diags_error(d, at, "Invalid tenants document",
                       "%s: the document is not valid UTF-8.", attr);
        return -1;
    }
    if ((off = cr_json_bad_escape(text, len, true)) < len) {
        size_t line, col;
        line_col(text, len, off, &line, &col);
        cr_diags_error(d, at, "Invalid tenants document",
                       "%s: line %zu, column %zu: a \\u escape of NUL or of "
                       "half a UTF-16 surrogate pair, which no text can "
                       "hold.", attr, line, col);
        return -1;
    }
    if (!(doc->mem = calloc(1, sizeof *doc->mem)) ||
        !(p.h = yajl_alloc(&callbacks, NULL, &p))) {
        cr_tdoc_free(doc);
        cr_diags_error(d, at, "Out of memory", "%s",
                       "The provider ran out of memory reading the "
                       "tenants document.");
        return -1;
    }
    yajl_status st = yajl_parse(p.h, (const unsigned char *)text, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(p.h);
    size_t lead = 0;
    while (lead < len && (text[lead] == ' ' || text[lead] == '\t' ||
                          text[lead] == '\r' || text[lead] == '\n'))
        lead++;
    if (lead == len) {
        problem(&p, true, "the document is empty: write {} for no tenants");
    } else if (st == yajl_status_error && !p.stopped) {
        unsigned char *m = yajl_get_error(p.h, 0, NULL, 0);
        size_t line, col;
        off = yajl_get_bytes_consumed(p.h);
        line_col(text, len, off, &line, &col);
        /* yajl's words ("parse error: premature EOF"), without its
         * prefix. */
        const char *w = m ? (const char *)m : "invalid JSON";
        if (strncmp(w, "parse error: ", 13) == 0)
            w += 13;
        problem(&p, true, "line %zu, column %zu: not valid JSON: %.200s",
                line, col, w);
        if (m)
            yajl_free_error(p.h, m);
    }
    yajl_free(p.h);
    free(p.lab);

    if (!p.stopped && !p.nomem && sort_doc(doc) != 0)
        p.nomem = true;
    if (!p.stopped && !p.nomem) {
        combo *cache = calloc(COMBOS, sizeof *cache);
        if (!cache)
            p.nomem = true;
        for (size_t i = 0; cache && i < doc->len; i++) {
            cr_entry *e = &doc->items[i];
            if (i + 1 < doc->len &&
                strcmp(e->tenant_id, doc->items[i + 1].tenant_id) == 0) {
                char b[84];
                problem(&p, false, "tenant \"%s\" is given twice",
                        shown(e->tenant_id, b));
                while (i + 1 < doc->len &&
                       strcmp(e->tenant_id, doc->items[i + 1].tenant_id) == 0)
                    i++;
                continue;
            }
            check_entry(&p, e, cache);
        }
        free(cache);
    }
    bool failed = p.nproblems || p.nomem;
    if (p.nomem && !p.nproblems)
        cr_diags_error(d, at, "Out of memory", "%s",
                       "The provider ran out of memory reading the tenants "
                       "document.");
    report(&p, at, d);
    for (size_t i = 0; i < p.nproblems && i < CR_TDOC_MAX_ERRORS; i++)
        free(p.problems[i]);
    if (failed) {
        cr_tdoc_free(doc);
        return -1;
    }
    return 0;
}

/* ---- versions in the private state ---------------------------------------- */

void cr_tversions_free(cr_tversions *v)
{
    if (v)
        free(v->mem);
    if (v)
        memset(v, 0, sizeof *v);
}

int64_t cr_tversions_find(const cr_tversions *v, const char *tenant_id,
                          const char **at)
{
    size_t lo = 0, hi = v->len;
    if (at)
        *at = NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v->ids[mid], tenant_id);
        if (c == 0) {
            if (at)
                *at = v->at[mid];
            return v->version[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return CR_VERSION_ANY;
}

static int pack_key(msgpack_packer *pk, const char *k)
{
    size_t n = strlen(k);
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, k, n);
}

int cr_tversions_encode(size_t n, const char *const *ids,
                        const int64_t *version, const char *const *at,
                        unsigned char **out, size_t *out_len)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    /* Distinct stamps by open addressing: stamp -> index in `times`. */
    size_t ns = 64;
    while (ns < n * 2)
        ns *= 2;
    size_t *slot = malloc(ns * sizeof *slot);        /* index + 1; 0 free */
    const char **times = malloc((n ? n : 1) * sizeof *times);
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx);
    size_t ntimes = 0;
    int rc = -1;

    *out = NULL;
    *out_len = 0;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (!slot || !times || !idx)
        goto out;
    memset(slot, 0, ns * sizeof *slot);
    for (size_t i = 0; i < n; i++) {
        const char *t = at[i] ? at[i] : "";
        size_t h = fnv1a(t, strlen(t)) & (ns - 1);
        while (slot[h] && strcmp(times[slot[h] - 1], t) != 0)
            h = (h + 1) & (ns - 1);
        if (!slot[h]) {
            times[ntimes++] = t;
            slot[h] = ntimes;
        }
        idx[i] = (uint32_t)(slot[h] - 1);
    }
    if (msgpack_pack_map(&pk, 5) || pack_key(&pk, "v") ||
        msgpack_pack_int(&pk, 1) || pack_key(&pk, "ids") ||
        msgpack_pack_array(&pk, n))
        goto out;
    for (size_t i = 0; i < n; i++)
        if (pack_key(&pk, ids[i]))
            goto out;
    if (pack_key(&pk, "ver") || msgpack_pack_array(&pk, n))
        goto out;
    for (size_t i = 0; i < n; i++)
        if (msgpack_pack_int64(&pk, version[i]))
            goto out;
    if (pack_key(&pk, "times") || msgpack_pack_array(&pk, ntimes))
        goto out;
    for (size_t i = 0; i < ntimes; i++)
        if (pack_key(&pk, times[i]))
            goto out;
    if (pack_key(&pk, "at") || msgpack_pack_array(&pk, n))
        goto out;
    for (size_t i = 0; i < n; i++)
        if (msgpack_pack_uint32(&pk, idx[i]))
            goto out;
    *out_len = sb.size;
    *out = (unsigned char *)msgpack_sbuffer_release(&sb);
    rc = *out ? 0 : -1;
out:
    msgpack_sbuffer_destroy(&sb);
    free(slot);
    free(times);
    free(idx);
    return rc;
}

/* The array member `name` of map o, or NULL. */
static const msgpack_object_array *member(const msgpack_object *o,
                                          const char *name)
{
    size_t n = strlen(name);
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == n &&
            memcmp(kv->key.via.str.ptr, name, n) == 0)
            return kv->val.type == MSGPACK_OBJECT_ARRAY ? &kv->val.via.array
                                                        : NULL;
    }
    return NULL;
}

/* Every element a string without NUL; the bytes they need with NULs. */
static bool strings(const msgpack_object_array *a, size_t *bytes)
{
    for (uint32_t i = 0; i < a->size; i++) {
        const msgpack_object *e = &a->ptr[i];
        if (e->type != MSGPACK_OBJECT_STR ||
            memchr(e->via.str.ptr, '\0', e->via.str.size))
            return false;
        *bytes += e->via.str.size + 1;
    }
    return true;
}

static char *copy_str(char **at, const msgpack_object *o)
{
    char *s = *at;
    memcpy(s, o->via.str.ptr, o->via.str.size);
    s[o->via.str.size] = '\0';
    *at += o->via.str.size + 1;
    return s;
}

int cr_tversions_decode(const unsigned char *data, size_t len,
                        cr_tversions *out)
{
    msgpack_unpacked u;
    size_t off = 0;
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (!data || !len)
        return 0;
    /* msgpack-c allocates from the counts the bytes claim: check them
     * first (ids, versions, stamps and indexes: four values a tenant). */
    if (!cr_msgpack_bounded(data, len, 4 * (size_t)CR_TDOC_MAX_TENANTS + 16))
        return -1;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, (const char *)data, len, &off) !=
            MSGPACK_UNPACK_SUCCESS || off != len ||
        u.data.type != MSGPACK_OBJECT_MAP)
        goto out;
    const msgpack_object_array *ids = member(&u.data, "ids");
    const msgpack_object_array *ver = member(&u.data, "ver");
    const msgpack_object_array *times = member(&u.data, "times");
    const msgpack_object_array *at = member(&u.data, "at");
    size_t bytes = 0;
    if (!ids || !ver || !times || !at || ver->size != ids->size ||
        at->size != ids->size || !strings(ids, &bytes) ||
        !strings(times, &bytes))
        goto out;
    size_t n = ids->size;
    /* One block: ids, versions, stamps per tenant, stamps, then text. */
    size_t head = n * (2 * sizeof(char *) + sizeof(int64_t)) +
                  times->size * sizeof(char *);
    char *mem = malloc(head + bytes + 1);
    if (!mem)
        goto out;
    out->mem = mem;
    out->ids = (char **)mem;
    out->version = (int64_t *)(out->ids + n);
    out->at = (char **)(out->version + n);
    char **tv = out->at + n, *text = mem + head;
    for (uint32_t i = 0; i < times->size; i++)
        tv[i] = copy_str(&text, &times->ptr[i]);
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *v = &ver->ptr[i], *a = &at->ptr[i];
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
            v->via.u64 < 1 || v->via.u64 > INT64_MAX ||
            a->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
            a->via.u64 >= times->size)
            goto bad;
        out->ids[i] = copy_str(&text, &ids->ptr[i]);
        /* Sorted and unique, or binary search would miss. */
        if (i && strcmp(out->ids[i - 1], out->ids[i]) >= 0)
            goto bad;
        out->version[i] = (int64_t)v->via.u64;
        out->at[i] = *tv[a->via.u64] ? tv[a->via.u64] : NULL;
    }
    out->len = n;
    rc = 0;
    goto out;
bad:
    cr_tversions_free(out);
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}
