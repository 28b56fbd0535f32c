/*
 * gen/yamltree.c — libyaml events to a positioned node tree, with the
 * hostile-input limits described in yamltree.h.
 */
#include "yamltree.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static cg_ynode *node_new(cg_ykind kind, const yaml_mark_t *m)
{
    cg_ynode *n = cg_xcalloc(1, sizeof *n);
    n->kind = kind;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

static void node_push(cg_ynode *parent, cg_ynode *key, cg_ynode *child)
{
    if (parent->n == parent->cap) {
        parent->cap = parent->cap ? parent->cap * 2 : 4;
        parent->items = cg_xrealloc(parent->items, parent->cap * sizeof *parent->items);
        if (parent->kind == CG_YMAP)
            parent->keys = cg_xrealloc(parent->keys, parent->cap * sizeof *parent->keys);
    }
    if (parent->kind == CG_YMAP) parent->keys[parent->n] = key;
    parent->items[parent->n++] = child;
}

void cg_ynode_free(cg_ynode *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys) cg_ynode_free(n->keys[i]);
        cg_ynode_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->str);
    free(n);
}

const cg_ynode *cg_ymap_get(const cg_ynode *map, const char *key)
{
    if (!map || map->kind != CG_YMAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->str, key) == 0) return map->items[i];
    return NULL;
}

/* Key index of a large mapping: key -> position, open addressing. Small
 * mappings are searched linearly; a hostile spec with a million keys in one
 * mapping must not turn duplicate detection quadratic. */
typedef struct keyindex {
    const cg_ynode **keys;
    size_t *pos;
    size_t cap, len;
} keyindex;

#define KEYINDEX_FROM 16

static size_t key_hash(const cg_ynode *k)
{
    size_t h = (size_t)1469598103934665603ULL;
    for (size_t i = 0; i < k->len; i++) h = (h ^ (unsigned char)k->str[i]) * 1099511628211ULL;
    return h;
}

static bool key_eq(const cg_ynode *a, const cg_ynode *b)
{
    return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
}

/* Position of an equal key, or -1 after inserting k at position pos. */
static long keyindex_put(keyindex *ix, const cg_ynode *k, size_t pos)
{
    if ((ix->len + 1) * 2 > ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 64;
        const cg_ynode **keys = cg_xcalloc(cap, sizeof *keys);
        size_t *p = cg_xcalloc(cap, sizeof *p);
        for (size_t i = 0; i < ix->cap; i++) {
            if (!ix->keys[i]) continue;
            size_t j = key_hash(ix->keys[i]) & (cap - 1);
            while (keys[j]) j = (j + 1) & (cap - 1);
            keys[j] = ix->keys[i];
            p[j] = ix->pos[i];
        }
        free(ix->keys);
        free(ix->pos);
        ix->keys = keys;
        ix->pos = p;
        ix->cap = cap;
    }
    size_t j = key_hash(k) & (ix->cap - 1);
    for (; ix->keys[j]; j = (j + 1) & (ix->cap - 1))
        if (key_eq(ix->keys[j], k)) return (long)ix->pos[j];
    ix->keys[j] = k;
    ix->pos[j] = pos;
    ix->len++;
    return -1;
}

static void keyindex_free(keyindex *ix)
{
    free(ix->keys);
    free(ix->pos);
    memset(ix, 0, sizeof *ix);
}

/* One open collection while the tree is being built. For a mapping,
 * pending_key holds a key whose value has not arrived yet. */
typedef struct frame {
    cg_ynode *node;
    cg_ynode *pending_key;
    keyindex index;         /* mappings with KEYINDEX_FROM keys or more */
} frame;

typedef struct builder {
    frame stack[CG_YAML_MAX_DEPTH + 1];
    int depth;
    cg_ynode *root;
    cg_diags *d;
    int errors;
    size_t nodes;
} builder;

static bool key_is_duplicate(builder *b, frame *f, const cg_ynode *key)
{
    const cg_ynode *map = f->node;
    long first = -1;
    if (map->n + 1 >= KEYINDEX_FROM) {
        if (!f->index.cap)
            for (size_t i = 0; i < map->n; i++) keyindex_put(&f->index, map->keys[i], i);
        first = keyindex_put(&f->index, key, map->n);
    } else {
        for (size_t i = 0; i < map->n && first < 0; i++)
            if (key_eq(map->keys[i], key)) first = (long)i;
    }
    if (first < 0) return false;
    cg_diag_add(b->d, key->line, key->col, "duplicate key \"%s\" (first given at line %d, column %d)",
                key->str, map->keys[first]->line, map->keys[first]->col);
    b->errors++;
    return true;
}

/* Attaches a finished node to its parent (or makes it the root). Takes
 * ownership of n in every case. */
static void attach(builder *b, cg_ynode *n)
{
    if (b->depth == 0) {
        b->root = n;
        return;
    }
    frame *f = &b->stack[b->depth - 1];
    if (f->node->kind == CG_YSEQ) {
        node_push(f->node, NULL, n);
        return;
    }
    if (!f->pending_key) {
        if (n->kind != CG_YSCALAR) {
            cg_diag_add(b->d, n->line, n->col, "mapping keys must be plain strings, not %s",
                        cg_ynode_describe(n));
            b->errors++;
            /* Keep the parse going with a placeholder key so that every
             * problem is reported in one run. */
            cg_ynode *k = node_new(CG_YSCALAR, &(yaml_mark_t){0, (size_t)n->line - 1, (size_t)n->col - 1});
            k->str = cg_xstrdup("");
            cg_ynode_free(n);
            n = k;
        }
        f->pending_key = n;
        return;
    }
    cg_ynode *key = f->pending_key;
    f->pending_key = NULL;
    if (key_is_duplicate(b, f, key)) {
        cg_ynode_free(key);
        cg_ynode_free(n);
        return;
    }
    node_push(f->node, key, n);
}

static void builder_free(builder *b)
{
    for (int i = 0; i < b->depth; i++) {
        cg_ynode_free(b->stack[i].pending_key);
        /* A frame's node is not attached to its parent until it ends. */
        cg_ynode_free(b->stack[i].node);
        keyindex_free(&b->stack[i].index);
    }
    cg_ynode_free(b->root);
}

static void syntax_error(builder *b, yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->context)
        cg_diag_add(b->d, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
                    "YAML syntax error: %s %s (line %d, column %d)", problem, p->context,
                    (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    else
        cg_diag_add(b->d, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
                    "YAML syntax error: %s", problem);
    b->errors++;
}

static bool tag_is_str(const yaml_char_t *tag)
{
    return tag && strcmp((const char *)tag, YAML_STR_TAG) == 0;
}

int cg_yaml_load(const char *text, size_t len, cg_ynode **root, cg_diags *d)
{
    *root = NULL;
    if (len > CG_YAML_MAX_INPUT) {
        cg_diag_add(d, 0, 0, "spec is %zu bytes; the limit is %u", len, CG_YAML_MAX_INPUT);
        return -1;
    }
    if (memchr(text, '\0', len)) {
        const char *z = memchr(text, '\0', len);
        int line = 1, col = 1;
        for (const char *c = text; c < z; c++) {
            if (*c == '\n') { line++; col = 1; } else col++;
        }
        cg_diag_add(d, line, col, "spec contains a NUL byte; it must be UTF-8 text");
        return -1;
    }

    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        cg_diag_add(d, 0, 0, "cannot initialise the YAML parser (out of memory)");
        return -1;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);

    builder b = { .d = d };
    int documents = 0;
    bool done = false;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            syntax_error(&b, &p);
            break;
        }
        const yaml_mark_t *m = &ev.start_mark;
        if ((ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
             ev.type == YAML_MAPPING_START_EVENT) && ++b.nodes > CG_YAML_MAX_NODES) {
            cg_diag_add(d, (int)m->line + 1, (int)m->column + 1,
                        "the spec has more than %u values; split it or raise CG_YAML_MAX_NODES",
                        CG_YAML_MAX_NODES);
            b.errors++;
            yaml_event_delete(&ev);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) {
                cg_diag_add(d, (int)m->line + 1, (int)m->column + 1,
                            "a spec is one YAML document; found a second one here");
                b.errors++;
                done = true;
            }
            break;
        case YAML_ALIAS_EVENT:
            cg_diag_add(d, (int)m->line + 1, (int)m->column + 1,
                        "YAML aliases (*%s) are not allowed in a cell spec; write the value out",
                        (const char *)ev.data.alias.anchor);
            b.errors++;
            done = true;    /* the tree would be incomplete; stop here */
            break;
        case YAML_SCALAR_EVENT: {
            if (ev.data.scalar.tag && !tag_is_str(ev.data.scalar.tag)) {
                cg_diag_add(d, (int)m->line + 1, (int)m->column + 1,
                            "YAML tag %s is not supported (only !!str)",
                            (const char *)ev.data.scalar.tag);
                b.errors++;
            }
            if (ev.data.scalar.length > CG_YAML_MAX_SCALAR) {
                cg_diag_add(d, (int)m->line + 1, (int)m->column + 1,
                            "value is %zu bytes; the limit is %u",
                            ev.data.scalar.length, CG_YAML_MAX_SCALAR);
                b.errors++;
                done = true;
                break;
            }
            cg_ynode *n = node_new(CG_YSCALAR, m);
            n->len = ev.data.scalar.length;
            n->str = cg_xstrndup((const char *)ev.data.scalar.value, n->len);
            n->has_tag = ev.data.scalar.tag != NULL;
            n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !n->has_tag;
            if (strlen(n->str) != n->len) {
                /* "\0" escapes in double-quoted scalars */
                cg_diag_add(d, n->line, n->col, "value contains a NUL character");
                b.errors++;
            }
            attach(&b, n);
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            if (b.depth >= CG_YAML_MAX_DEPTH) {
                cg_diag_add(d, (int)m->line + 1, (int)m->column + 1,
                            "nesting deeper than %d levels", CG_YAML_MAX_DEPTH);
                b.errors++;
                done = true;
                break;
            }
            const yaml_char_t *tag = ev.type == YAML_SEQUENCE_START_EVENT
                                   ? ev.data.sequence_start.tag : ev.data.mapping_start.tag;
            if (tag) {
                cg_diag_add(d, (int)m->line + 1, (int)m->column + 1,
                            "YAML tag %s is not supported here", (const char *)tag);
                b.errors++;
            }
            cg_ynode *n = node_new(ev.type == YAML_SEQUENCE_START_EVENT ? CG_YSEQ : CG_YMAP, m);
            b.stack[b.depth++] = (frame){ n, NULL, { 0 } };
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            frame f = b.stack[--b.depth];
            cg_ynode_free(f.pending_key);   /* cannot happen with a valid stream */
            keyindex_free(&f.index);
            attach(&b, f.node);
            break;
        }
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);

    if (b.errors) {
        builder_free(&b);
        return -1;
    }
    *root = b.root;
    return 0;
}

/* YAML 1.2 core schema resolution of plain scalars, by hand (a spec has
 * hundreds of thousands of scalars; compiling regexes for each is slow). */
static bool all_in(const char *s, const char *set)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!strchr(set, *s)) return false;
    return true;
}

static bool is_int(const char *s)
{
    if (!strncmp(s, "0o", 2)) return all_in(s + 2, "01234567");
    if (!strncmp(s, "0x", 2)) return all_in(s + 2, "0123456789abcdefABCDEF");
    if (*s == '-' || *s == '+') s++;
    return all_in(s, "0123456789");
}

static bool is_float(const char *s)
{
    if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) return true;
    if (*s == '-' || *s == '+') s++;
    if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF")) return true;
    /* (\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
    size_t digits = 0;
    while (*s >= '0' && *s <= '9') { s++; digits++; }
    if (*s == '.') {
        s++;
        size_t frac = 0;
        while (*s >= '0' && *s <= '9') { s++; frac++; }
        if (!digits && !frac) return false;
    } else if (!digits) {
        return false;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+') s++;
        if (!(*s >= '0' && *s <= '9')) return false;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == '\0';
}

cg_yscalar_type cg_yscalar_type_of(const cg_ynode *n)
{
    if (!n->plain) return CG_YT_STRING;
    const char *s = n->str;
    if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return CG_YT_NULL;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") ||
        !strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return CG_YT_BOOL;
    if (is_int(s)) return CG_YT_INT;
    if (is_float(s)) return CG_YT_FLOAT;
    return CG_YT_STRING;
}

const char *cg_ynode_describe(const cg_ynode *n)
{
    if (!n) return "nothing";
    switch (n->kind) {
    case CG_YSEQ: return "a list";
    case CG_YMAP: return "a mapping";
    case CG_YSCALAR:
        switch (cg_yscalar_type_of(n)) {
        case CG_YT_NULL: return "null";
        case CG_YT_BOOL: return "a boolean";
        case CG_YT_INT: return "an integer";
        case CG_YT_FLOAT: return "a number";
        default: return "a string";
        }
    }
    return "a value";
}
