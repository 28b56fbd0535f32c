/*
 * gen/spec.c — reading a cell spec from its YAML tree and checking it.
 *
 * The reader walks the tree with small typed accessors (spec_read.h:
 * cg_rd_str, cg_rd_int, ...), each of which reports a wrong type or a value out of range at the
 * node's own line and column and carries on, so one run lists every
 * problem. The keys and rules here are the ones documented in
 * schemas/cellspec.schema.json; change both together.
 */
#include "spec.h"
#include "naming.h"
#include "spec_read.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void cg_rd_err(cg_reader *r, const cg_ynode *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cg_diag_vadd(r->d, at ? at->line : 0, at ? at->col : 0, fmt, ap);
    va_end(ap);
    r->errors++;
}

/* The keys each section accepts; schemas/cellspec.schema.json documents the
 * same sets (tests/gen/unit/test_cellgen_schema.c keeps them in step). */
static const char *const KEYS_CONSUMER[] = { "name", "handler", "batch_size", "timeout_seconds", "max_retries",
                                          "retention_seconds", NULL };
static const char *const KEYS_PIPELINE[] = { "table", "partition_key", "topic", "consumers", NULL };
static const char *const KEYS_RUNTIME[] = { "language", "version", "memory_mb", "ingest_handler",
                                         "forwarder_handler", "packages", "kind", "container", NULL };
static const char *const KEYS_PACKAGES[] = { "aws", "azure", NULL };
static const char *const KEYS_CELL[] = { "id", "cloud", "region", "location", "tags", "network", NULL };
static const char *const KEYS_TENANT[] = { "id", "cell", "standby", "labels", NULL };
static const char *const KEYS_SPEC[] = { "version", "system", "tags", "pipeline", "runtime", "cells",
                                      "tenants", "ci", "observability", "failover", NULL };

const char *const *cg_spec_keys(const char *section)
{
    static const struct { const char *name; const char *const *keys; } t[] = {
        { "spec", KEYS_SPEC }, { "pipeline", KEYS_PIPELINE }, { "consumer", KEYS_CONSUMER },
        { "runtime", KEYS_RUNTIME }, { "packages", KEYS_PACKAGES }, { "cell", KEYS_CELL },
        { "tenant", KEYS_TENANT },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].name, section)) return t[i].keys;
    return cg_ops_keys(section);
}

/* ---- typo hints ------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return SIZE_MAX;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

/* Reports every key of map not in allowed (NULL-terminated), suggesting
 * the nearest allowed key for likely typos. */
void cg_rd_keys(cg_reader *r, const cg_ynode *map, const char *where, const char *const *allowed)
{
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->keys[i]->str;
        const char *best = NULL;
        size_t bestd = SIZE_MAX;
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++) ok = !strcmp(*a, k);
        if (ok) continue;
        for (const char *const *a = allowed; *a; a++) {
            size_t dist = edit_distance(*a, k);
            if (dist < bestd) { bestd = dist; best = *a; }
        }
        if (best && bestd <= 2)
            cg_rd_err(r, map->keys[i], "unknown key \"%s\" in %s; did you mean \"%s\"?", k, where, best);
        else
            cg_rd_err(r, map->keys[i], "unknown key \"%s\" in %s", k, where);
    }
}

/* ---- typed accessors --------------------------------------------------- */

const cg_ynode *cg_rd_need(cg_reader *r, const cg_ynode *map, const char *key, const char *where)
{
    const cg_ynode *v = cg_ymap_get(map, key);
    if (!v) cg_rd_err(r, map, "%s: missing required key \"%s\"", where, key);
    return v;
}

bool cg_rd_map(cg_reader *r, const cg_ynode *n, const char *what)
{
    if (n && n->kind == CG_YMAP) return true;
    if (n) cg_rd_err(r, n, "%s must be a mapping, not %s", what, cg_ynode_describe(n));
    return false;
}

bool cg_rd_list(cg_reader *r, const cg_ynode *n, const char *what)
{
    if (n && n->kind == CG_YSEQ) return true;
    if (n) cg_rd_err(r, n, "%s must be a list, not %s", what, cg_ynode_describe(n));
    return false;
}

/* A string-typed scalar. A plain scalar that YAML reads as a number is
 * refused rather than converted: `version: 3.10` is the float 3.1, and
 * silently deploying Python 3.1 is the kind of surprise a spec exists to
 * prevent. */
const char *cg_rd_str(cg_reader *r, const cg_ynode *n, const char *what)
{
    if (!n) return NULL;
    if (n->kind != CG_YSCALAR) {
        cg_rd_err(r, n, "%s must be a string, not %s", what, cg_ynode_describe(n));
        return NULL;
    }
    cg_yscalar_type t = cg_yscalar_type_of(n);
    if (t == CG_YT_INT || t == CG_YT_FLOAT) {
        cg_rd_err(r, n, "%s must be a string, not %s; quote it (\"%s\") so YAML does not read it as a number",
            what, cg_ynode_describe(n), n->str);
        return NULL;
    }
    if (t != CG_YT_STRING) {
        cg_rd_err(r, n, "%s must be a string, not %s", what, cg_ynode_describe(n));
        return NULL;
    }
    return n->str;
}

bool cg_rd_int(cg_reader *r, const cg_ynode *n, const char *what, long min, long max, long *out)
{
    if (n->kind != CG_YSCALAR || cg_yscalar_type_of(n) != CG_YT_INT) {
        cg_rd_err(r, n, "%s must be an integer, not %s", what, cg_ynode_describe(n));
        return false;
    }
    /* YAML 1.2: decimal unless 0x / 0o; a leading zero is not octal. */
    errno = 0;
    char *end;
    long v;
    if (!strncmp(n->str, "0x", 2)) v = strtol(n->str + 2, &end, 16);
    else if (!strncmp(n->str, "0o", 2)) v = strtol(n->str + 2, &end, 8);
    else v = strtol(n->str, &end, 10);
    if (errno || *end || v < min || v > max) {
        cg_rd_err(r, n, "%s must be between %ld and %ld, not %s", what, min, max, n->str);
        return false;
    }
    *out = v;
    return true;
}

bool cg_rd_bool(cg_reader *r, const cg_ynode *n, const char *what, bool *out)
{
    if (n->kind != CG_YSCALAR || cg_yscalar_type_of(n) != CG_YT_BOOL) {
        cg_rd_err(r, n, "%s must be true or false, not %s", what, cg_ynode_describe(n));
        return false;
    }
    *out = !strcmp(n->str, "true") || !strcmp(n->str, "True") || !strcmp(n->str, "TRUE");
    return true;
}

static bool match_ident(const char *s, size_t min, size_t max, bool lower, bool hyphen, bool underscore)
{
    size_t n = strlen(s);
    if (n < min || n > max) return false;
    if (!(lower ? islower((unsigned char)s[0]) : isalpha((unsigned char)s[0]))) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isdigit(c) || islower(c) || (!lower && isupper(c))) continue;
        if (hyphen && c == '-') continue;
        if (underscore && c == '_') continue;
        return false;
    }
    return s[n - 1] != '-';
}

/* Lowercase name: letter first, letters/digits/hyphens, not ending in '-'. */
const char *cg_rd_name(cg_reader *r, const cg_ynode *n, const char *what, size_t max)
{
    const char *s = cg_rd_str(r, n, what);
    if (!s) return NULL;
    if (!match_ident(s, 2, max, true, true, false)) {
        cg_rd_err(r, n, "%s \"%s\" must be 2-%zu characters: a lowercase letter, then lowercase letters, digits "
            "or '-', not ending in '-'", what, s, max);
        return NULL;
    }
    return s;
}

bool cg_rd_printable(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x20 || *p == 0x7f) return false;
        if (*p < 0x80) { p++; continue; }
        int len = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
        if (!len || (len == 2 && *p < 0xc2) || *p > 0xf4) return false;
        unsigned cp = *p & (0x7f >> len);
        for (int i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
            return false;
        p += len;
    }
    return true;
}

/* ---- key/value maps (tags, labels) -------------------------------------- */

typedef enum kv_kind { KV_TAGS, KV_LABELS } kv_kind;

static bool tag_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 128) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        if (!isalnum(c) && !strchr(" _.:=+@-", c)) return false;
    }
    return strncmp(k, "aws:", 4) != 0;
}

static bool label_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 63) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        if (!isalnum(c) && !strchr("_.:/-", c)) return false;
    }
    return true;
}

static void read_kv(cg_reader *r, const cg_ynode *n, const char *what, kv_kind kind, cg_kvlist *out)
{
    if (!cg_rd_map(r, n, what)) return;
    size_t limit = kind == KV_TAGS ? 45 : 64;
    if (n->n > limit) {
        cg_rd_err(r, n, "%s has %zu entries; at most %zu are allowed", what, n->n, limit);
        return;
    }
    out->items = cg_xcalloc(n->n, sizeof *out->items);
    for (size_t i = 0; i < n->n; i++) {
        const cg_ynode *k = n->keys[i], *v = n->items[i];
        bool ok = true;
        if (kind == KV_TAGS && !tag_key_ok(k->str)) {
            cg_rd_err(r, k, "tag key \"%s\" must be 1-128 characters of letters, digits and ' _.:=+@-' "
                "(the rules both AWS and Azure accept), not starting with \"aws:\"", k->str);
            ok = false;
        }
        if (kind == KV_LABELS && !label_key_ok(k->str)) {
            cg_rd_err(r, k, "label key \"%s\" must be 1-63 characters of letters, digits and '_.:/-'", k->str);
            ok = false;
        }
        const char *val = cg_rd_str(r, v, kind == KV_TAGS ? "a tag value" : "a label value");
        if (val && (strlen(val) > 256 || !cg_rd_printable(val))) {
            cg_rd_err(r, v, "%s value must be at most 256 bytes of UTF-8 text without control characters",
                kind == KV_TAGS ? "tag" : "label");
            ok = false;
        }
        if (val && ok) {
            out->items[out->len].key = cg_xstrdup(k->str);
            out->items[out->len].value = cg_xstrdup(val);
            out->len++;
        }
    }
}

static void kv_free(cg_kvlist *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->len = 0;
}

/* Spec-wide tags overlaid with the cell's own, in first-seen order. */
static void kv_merge(cg_kvlist *dst, const cg_kvlist *base, const cg_kvlist *over)
{
    dst->items = cg_xcalloc(base->len + over->len, sizeof *dst->items);
    dst->len = 0;
    const cg_kvlist *srcs[2] = { base, over };
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < srcs[s]->len; i++) {
            const cg_kv *kv = &srcs[s]->items[i];
            size_t j;
            for (j = 0; j < dst->len; j++)
                if (!strcmp(dst->items[j].key, kv->key)) break;
            if (j == dst->len) {
                dst->items[j].key = cg_xstrdup(kv->key);
                dst->len++;
            } else {
                free(dst->items[j].value);
            }
            dst->items[j].value = cg_xstrdup(kv->value);
        }
    }
}

/* ---- sections ----------------------------------------------------------- */

static char *dup_or_null(const char *s) { return s ? cg_xstrdup(s) : NULL; }

static bool handler_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128) return false;
    if (!isalpha((unsigned char)s[0]) && s[0] != '_') return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.') return false;
    return strchr(s, '.') && s[n - 1] != '.';
}

static char *get_handler(cg_reader *r, const cg_ynode *n, const char *what)
{
    const char *s = cg_rd_str(r, n, what);
    if (!s) return NULL;
    if (!handler_ok(s)) {
        cg_rd_err(r, n, "%s \"%s\" must look like module.function (letters, digits, '_' and '.', at most "
            "128 characters)", what, s);
        return NULL;
    }
    return cg_xstrdup(s);
}

static void read_consumer(cg_reader *r, const cg_ynode *n, cg_consumer *c)
{
    c->batch_size = 10;
    c->timeout_seconds = 30;
    c->max_retries = 3;
    c->retention_seconds = 345600;
    if (!cg_rd_map(r, n, "a consumer")) return;
    cg_rd_keys(r, n, "a consumer", KEYS_CONSUMER);
    const cg_ynode *v;
    if ((v = cg_rd_need(r, n, "name", "consumer"))) {
        const char *s = cg_rd_name(r, v, "consumer name", 32);
        if (s && (!strcmp(s, "ingest") || !strcmp(s, "forwarder")))
            cg_rd_err(r, v, "consumer name \"%s\" is reserved for the pipeline's own function", s);
        else
            c->name = dup_or_null(s);
    }
    if ((v = cg_rd_need(r, n, "handler", "consumer"))) c->handler = get_handler(r, v, "consumer handler");
    /* Ranges are where both clouds agree: an SQS event source mapping takes
     * at most 10 messages without a batching window, a Service Bus lock
     * lasts at most 5 minutes, SQS keeps messages 60 s to 14 days. */
    if ((v = cg_ymap_get(n, "batch_size"))) cg_rd_int(r, v, "batch_size", 1, 10, &c->batch_size);
    if ((v = cg_ymap_get(n, "timeout_seconds"))) cg_rd_int(r, v, "timeout_seconds", 1, 300, &c->timeout_seconds);
    if ((v = cg_ymap_get(n, "max_retries"))) cg_rd_int(r, v, "max_retries", 0, 99, &c->max_retries);
    if ((v = cg_ymap_get(n, "retention_seconds")))
        cg_rd_int(r, v, "retention_seconds", 60, 1209600, &c->retention_seconds);
}

static void read_pipeline(cg_reader *r, const cg_ynode *n, cg_spec *s)
{
    if (!cg_rd_map(r, n, "pipeline")) return;
    cg_rd_keys(r, n, "pipeline", KEYS_PIPELINE);
    const cg_ynode *v;
    if ((v = cg_rd_need(r, n, "table", "pipeline"))) s->table = dup_or_null(cg_rd_name(r, v, "pipeline.table", 40));
    if ((v = cg_rd_need(r, n, "topic", "pipeline"))) s->topic = dup_or_null(cg_rd_name(r, v, "pipeline.topic", 40));
    if ((v = cg_rd_need(r, n, "partition_key", "pipeline"))) {
        const char *k = cg_rd_str(r, v, "pipeline.partition_key");
        if (k && !match_ident(k, 1, 255, false, false, true) && !(k[0] == '_' && match_ident(k + 1, 1, 254, false, false, true)))
            cg_rd_err(r, v, "pipeline.partition_key \"%s\" must be 1-255 letters, digits or '_', not starting "
                "with a digit (a DynamoDB attribute and a Cosmos DB path segment)", k);
        else
            s->partition_key = dup_or_null(k);
    }
    if ((v = cg_rd_need(r, n, "consumers", "pipeline")) && cg_rd_list(r, v, "pipeline.consumers")) {
        if (v->n == 0) cg_rd_err(r, v, "pipeline.consumers must list at least one consumer");
        if (v->n > 50) {
            /* Not read further: the duplicate check below is quadratic. */
            cg_rd_err(r, v, "pipeline.consumers lists %zu consumers; at most 50 are allowed", v->n);
            return;
        }
        s->consumers = cg_xcalloc(v->n, sizeof *s->consumers);
        s->nconsumers = v->n;
        for (size_t i = 0; i < v->n; i++) {
            read_consumer(r, v->items[i], &s->consumers[i]);
            for (size_t j = 0; j < i && s->consumers[i].name; j++) {
                if (s->consumers[j].name && !strcmp(s->consumers[i].name, s->consumers[j].name)) {
                    const cg_ynode *at = cg_ymap_get(v->items[i], "name");
                    cg_rd_err(r, at, "duplicate consumer name \"%s\" (first at line %d)", s->consumers[i].name,
                        cg_ymap_get(v->items[j], "name")->line);
                }
            }
        }
    }
}

static void read_runtime(cg_reader *r, const cg_ynode *n, cg_spec *s, const cg_ynode **pkgs)
{
    s->memory_mb = 256;
    if (!cg_rd_map(r, n, "runtime")) return;
    cg_rd_keys(r, n, "runtime", KEYS_RUNTIME);
    const cg_ynode *v, *lang = NULL;
    if ((v = cg_rd_need(r, n, "language", "runtime"))) {
        const char *l = cg_rd_str(r, v, "runtime.language");
        if (l && strcmp(l, "python") && strcmp(l, "node"))
            cg_rd_err(r, v, "runtime.language must be \"python\" or \"node\", not \"%s\"", l);
        else if (l) { s->language = cg_xstrdup(l); lang = v; }
    }
    if ((v = cg_rd_need(r, n, "version", "runtime"))) {
        const char *ver = cg_rd_str(r, v, "runtime.version");
        /* Versions both Lambda and Azure Functions (Linux) run. */
        static const char *const py[] = { "3.9", "3.10", "3.11", "3.12", NULL };
        static const char *const js[] = { "18", "20", NULL };
        if (ver && lang) {
            const char *const *ok = !strcmp(s->language, "python") ? py : js;
            bool found = false;
            for (; *ok; ok++) found |= !strcmp(*ok, ver);
            if (!found)
                cg_rd_err(r, v, "runtime.version \"%s\" is not one that both AWS Lambda and Azure Functions run "
                    "for %s (%s)", ver, s->language,
                    !strcmp(s->language, "python") ? "3.9, 3.10, 3.11, 3.12" : "18, 20");
            else
                s->runtime_version = cg_xstrdup(ver);
        }
    }
    if ((v = cg_ymap_get(n, "memory_mb"))) cg_rd_int(r, v, "runtime.memory_mb", 128, 10240, &s->memory_mb);
    if ((v = cg_rd_need(r, n, "ingest_handler", "runtime")))
        s->ingest_handler = get_handler(r, v, "runtime.ingest_handler");
    if ((v = cg_rd_need(r, n, "forwarder_handler", "runtime")))
        s->forwarder_handler = get_handler(r, v, "runtime.forwarder_handler");
    if ((v = cg_rd_need(r, n, "packages", "runtime")) && cg_rd_map(r, v, "runtime.packages")) {
        cg_rd_keys(r, v, "runtime.packages", KEYS_PACKAGES);
        *pkgs = v;
        const cg_ynode *p;
        if ((p = cg_ymap_get(v, "aws"))) {
            const char *u = cg_rd_str(r, p, "runtime.packages.aws");
            const char *slash = u && !strncmp(u, "s3://", 5) ? strchr(u + 5, '/') : NULL;
            if (u && (!slash || slash == u + 5 || !slash[1] || strlen(u) > 1024 || !cg_rd_printable(u)))
                cg_rd_err(r, p, "runtime.packages.aws must be s3://bucket/key, not \"%s\"", u);
            else if (u && strpbrk(u, "\"\\$%"))
                cg_rd_err(r, p, "runtime.packages.aws may not contain '\"', '\\', '$' or '%%'");
            else
                s->package_aws = dup_or_null(u);
        }
        if ((p = cg_ymap_get(v, "azure"))) {
            const char *u = cg_rd_str(r, p, "runtime.packages.azure");
            if (u && (strncmp(u, "https://", 8) || strlen(u) < 9 || strlen(u) > 2048 || strpbrk(u, " \"\\$%")
                      || !cg_rd_printable(u)))
                cg_rd_err(r, p, "runtime.packages.azure must be an https:// URL of the package zip (no spaces, "
                    "quotes, '\\', '$' or '%%'), not \"%s\"", u);
            else
                s->package_azure = dup_or_null(u);
        }
    }
    cg_rd_container(r, n, s);
}

static bool aws_region_ok(const char *s)
{
    /* us-east-1, eu-central-2, us-gov-west-1, ap-southeast-4 */
    const char *p = s;
    int parts = 0;
    while (*p) {
        const char *start = p;
        while (islower((unsigned char)*p)) p++;
        if (p == start) break;
        parts++;
        if (*p != '-') return false;
        p++;
        if (isdigit((unsigned char)*p)) {
            while (isdigit((unsigned char)*p)) p++;
            return *p == '\0' && parts >= 2 && strlen(s) <= 32;
        }
    }
    return false;
}

static bool azure_location_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 32) return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i])) return false;
    return true;
}

static void read_cell(cg_reader *r, const cg_ynode *n, cg_cell *c, const cg_kvlist *tags, const cg_spec *s)
{
    if (!cg_rd_map(r, n, "a cell")) return;
    cg_rd_keys(r, n, "a cell", KEYS_CELL);
    c->line = n->line;
    c->col = n->col;
    const cg_ynode *v;
    if ((v = cg_rd_need(r, n, "id", "cell"))) {
        c->id = dup_or_null(cg_rd_name(r, v, "cell id", 40));
        c->line = v->line;
        c->col = v->col;
    }
    const cg_ynode *cloud = cg_rd_need(r, n, "cloud", "cell");
    const char *cl = cloud ? cg_rd_str(r, cloud, "cloud") : NULL;
    if (cl) {
        if (!strcmp(cl, "aws")) c->cloud = CG_AWS;
        else if (!strcmp(cl, "azure")) c->cloud = CG_AZURE;
        else cg_rd_err(r, cloud, "unknown cloud \"%s\"; cellgen supports \"aws\" and \"azure\"", cl);
    }
    const cg_ynode *region = cg_ymap_get(n, "region"), *location = cg_ymap_get(n, "location");
    if (c->cloud == CG_AWS) {
        if (location) cg_rd_err(r, location, "AWS cells take \"region\", not \"location\"");
        if (!region && !location) cg_rd_err(r, n, "cell: missing required key \"region\" (an AWS region such as us-east-1)");
        const char *s = region ? cg_rd_str(r, region, "region") : NULL;
        if (s && !aws_region_ok(s))
            cg_rd_err(r, region, "region \"%s\" is not an AWS region name such as us-east-1", s);
        else
            c->region = dup_or_null(s);
    } else if (c->cloud == CG_AZURE) {
        if (region) cg_rd_err(r, region, "Azure cells take \"location\", not \"region\"");
        if (!region && !location) cg_rd_err(r, n, "cell: missing required key \"location\" (an Azure location such as eastus)");
        const char *s = location ? cg_rd_str(r, location, "location") : NULL;
        if (s && !azure_location_ok(s))
            cg_rd_err(r, location, "location \"%s\" is not an Azure location name; use the short form such as "
                "eastus or northeurope", s);
        else
            c->region = dup_or_null(s);
    }
    cg_kvlist own = {0};
    if ((v = cg_ymap_get(n, "tags"))) read_kv(r, v, "cell tags", KV_TAGS, &own);
    kv_merge(&c->tags, tags, &own);
    kv_free(&own);
    if ((v = cg_ymap_get(n, "network")) && c->cloud) cg_rd_network(r, v, s, c);
}

static bool tenant_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 512 || !isalnum((unsigned char)s[0])) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._:@-", s[i])) return false;
    return true;
}

static void read_tenant(cg_reader *r, const cg_ynode *n, cg_tenant *t, cg_strset *seen, const cg_spec *s,
                        long (*lookup)(void *, const char *), void *lk)
{
    t->cell = SIZE_MAX;
    t->standby = -1;
    if (!cg_rd_map(r, n, "a tenant")) return;
    cg_rd_keys(r, n, "a tenant", KEYS_TENANT);
    const cg_ynode *v;
    if ((v = cg_rd_need(r, n, "id", "tenant"))) {
        const char *id = cg_rd_str(r, v, "tenant id");
        if (id && !tenant_id_ok(id))
            cg_rd_err(r, v, "tenant id \"%s\" must be 1-512 characters of letters, digits and '._:@-', starting "
                "with a letter or digit", id);
        else if (id) {
            t->id = cg_xstrdup(id);
            if (!cg_strset_add(seen, t->id)) cg_rd_err(r, v, "duplicate tenant id \"%s\"", id);
        }
    }
    const cg_ynode *cell = cg_rd_need(r, n, "cell", "tenant");
    const char *cid = cell ? cg_rd_str(r, cell, "tenant cell") : NULL;
    if (cid) {
        long i = lookup(lk, cid);
        if (i < 0) cg_rd_err(r, cell, "tenant placed on cell \"%s\", which the spec does not define", cid);
        else t->cell = (size_t)i;
    }
    if ((v = cg_ymap_get(n, "standby")) && !(v->kind == CG_YSCALAR && cg_yscalar_type_of(v) == CG_YT_NULL)) {
        const char *sid = cg_rd_str(r, v, "tenant standby");
        if (sid) {
            long i = lookup(lk, sid);
            if (i < 0) cg_rd_err(r, v, "standby cell \"%s\" is not defined in the spec", sid);
            else if (cid && !strcmp(sid, cid))
                cg_rd_err(r, v, "standby cell \"%s\" is the tenant's primary cell; a standby must be another cell", sid);
            else t->standby = i;
        }
    }
    if ((v = cg_ymap_get(n, "labels"))) read_kv(r, v, "tenant labels", KV_LABELS, &t->labels);
    cg_rd_residency(r, n, s, t);
}

/* Cell lookup for tenants: a hash from id to index, since a spec may place
 * 100,000 tenants on 1,000 cells. */
typedef struct cell_map {
    const char **keys;
    size_t *vals;
    size_t cap;
} cell_map;

static size_t hstr(const char *s)
{
    size_t h = 5381;
    while (*s) h = h * 33 + (unsigned char)*s++;
    return h;
}

static long cell_map_lookup(void *p, const char *id)
{
    cell_map *m = p;
    if (!m->cap) return -1;
    for (size_t j = hstr(id) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1))
        if (!strcmp(m->keys[j], id)) return (long)m->vals[j];
    return -1;
}

static void cell_map_build(cell_map *m, const cg_spec *s)
{
    m->cap = 16;
    while (m->cap < s->ncells * 2 + 2) m->cap *= 2;
    m->keys = cg_xcalloc(m->cap, sizeof *m->keys);
    m->vals = cg_xcalloc(m->cap, sizeof *m->vals);
    for (size_t i = 0; i < s->ncells; i++) {
        const char *id = s->cells[i].id;
        if (!id || cell_map_lookup(m, id) >= 0) continue;
        size_t j = hstr(id) & (m->cap - 1);
        while (m->keys[j]) j = (j + 1) & (m->cap - 1);
        m->keys[j] = id;
        m->vals[j] = i;
    }
}

int cg_spec_parse(const cg_ynode *root, cg_spec *s, cg_diags *d)
{
    cg_reader rd = { .d = d }, *r = &rd;
    size_t diags_before = d->len;
    memset(s, 0, sizeof *s);
    if (!root) {
        cg_diag_add(d, 1, 1, "the spec is empty");
        return -1;
    }
    if (!cg_rd_map(r, root, "the spec")) return -1;
    cg_rd_keys(r, root, "the spec", KEYS_SPEC);

    const cg_ynode *v;
    long version;
    if ((v = cg_rd_need(r, root, "version", "spec")) && cg_rd_int(r, v, "version", 0, LONG_MAX, &version) && version != 1)
        cg_rd_err(r, v, "spec version %ld is not supported; this cellgen reads version 1", version);
    if ((v = cg_rd_need(r, root, "system", "spec"))) s->system = dup_or_null(cg_rd_name(r, v, "system", 16));
    cg_kvlist tags = {0};
    if ((v = cg_ymap_get(root, "tags"))) read_kv(r, v, "tags", KV_TAGS, &tags);
    if ((v = cg_rd_need(r, root, "pipeline", "spec"))) read_pipeline(r, v, s);
    const cg_ynode *pkgs = NULL;
    if ((v = cg_rd_need(r, root, "runtime", "spec"))) read_runtime(r, v, s, &pkgs);

    const cg_ynode *cells = cg_rd_need(r, root, "cells", "spec");
    if (cells && cg_rd_list(r, cells, "cells")) {
        if (cells->n == 0) cg_rd_err(r, cells, "cells must list at least one cell");
        s->cells = cg_xcalloc(cells->n, sizeof *s->cells);
        s->ncells = cells->n;
        cg_strset ids = {0};
        bool any_aws = false, any_azure = false;
        for (size_t i = 0; i < cells->n; i++) {
            cg_cell *c = &s->cells[i];
            read_cell(r, cells->items[i], c, &tags, s);
            if (c->id && !cg_strset_add(&ids, c->id)) {
                cg_rd_err(r, cg_ymap_get(cells->items[i], "id"), "duplicate cell id \"%s\"", c->id);
                free(c->id);
                c->id = NULL;
            }
            any_aws |= c->cloud == CG_AWS;
            any_azure |= c->cloud == CG_AZURE;
            if (c->id && c->cloud && s->system && s->table && s->topic) {
                bool consumers_ok = s->nconsumers > 0;
                for (size_t k = 0; k < s->nconsumers; k++) consumers_ok &= s->consumers[k].name != NULL;
                if (consumers_ok) cg_naming_check_cell(s, c, c->line, c->col, d);
            }
        }
        cg_strset_free(&ids);
        cg_rd_networks_apart(r, cells, s);
        if (pkgs) {
            if (any_aws && !cg_ymap_get(pkgs, "aws"))
                cg_rd_err(r, pkgs, "runtime.packages: missing \"aws\" (s3://bucket/key), needed by the AWS cells");
            if (any_azure && !cg_ymap_get(pkgs, "azure"))
                cg_rd_err(r, pkgs, "runtime.packages: missing \"azure\" (https:// URL), needed by the Azure cells");
        }
    }
    kv_free(&tags);

    if ((v = cg_ymap_get(root, "tenants")) && cg_rd_list(r, v, "tenants")) {
        cell_map m = {0};
        cell_map_build(&m, s);
        cg_strset seen = {0};
        s->tenants = cg_xcalloc(v->n, sizeof *s->tenants);
        s->ntenants = v->n;
        for (size_t i = 0; i < v->n; i++)
            read_tenant(r, v->items[i], &s->tenants[i], &seen, s, cell_map_lookup, &m);
        cg_strset_free(&seen);
        free(m.keys);
        free(m.vals);
    }

    /* The sections that make the cells operable read the cells' clouds. */
    if ((v = cg_ymap_get(root, "ci"))) cg_rd_ci(r, v, s);
    if ((v = cg_ymap_get(root, "observability"))) cg_rd_observability(r, v, s);
    cg_rd_failover(r, cg_ymap_get(root, "failover"), s);

    for (size_t i = 0; i < s->ncells && s->system && s->nconsumers; i++) {
        const cg_cell *c = &s->cells[i];
        bool consumers_ok = true;
        for (size_t k = 0; k < s->nconsumers; k++) consumers_ok &= s->consumers[k].name != NULL;
        if (c->id && c->cloud && consumers_ok) cg_naming_check_ops(s, c, c->line, c->col, d);
    }

    /* Diagnostics other modules added (naming) count as errors too. */
    if (r->errors || d->len > diags_before) {
        cg_spec_free(s);
        return -1;
    }
    return 0;
}

int cg_spec_load(const char *text, size_t len, cg_spec *out, cg_diags *d)
{
    cg_ynode *root = NULL;
    memset(out, 0, sizeof *out);
    if (cg_yaml_load(text, len, &root, d) != 0) return -1;
    int rc = cg_spec_parse(root, out, d);
    cg_ynode_free(root);
    return rc;
}

void cg_spec_free(cg_spec *s)
{
    cg_ops_free(s);
    free(s->system);
    free(s->table);
    free(s->partition_key);
    free(s->topic);
    for (size_t i = 0; i < s->nconsumers; i++) {
        free(s->consumers[i].name);
        free(s->consumers[i].handler);
    }
    free(s->consumers);
    free(s->language);
    free(s->runtime_version);
    free(s->ingest_handler);
    free(s->forwarder_handler);
    free(s->package_aws);
    free(s->package_azure);
    for (size_t i = 0; i < s->ncells; i++) {
        free(s->cells[i].id);
        free(s->cells[i].region);
        kv_free(&s->cells[i].tags);
    }
    free(s->cells);
    for (size_t i = 0; i < s->ntenants; i++) {
        free(s->tenants[i].id);
        kv_free(&s->tenants[i].labels);
    }
    free(s->tenants);
    memset(s, 0, sizeof *s);
}

const char *cg_cloud_name(cg_cloud c)
{
    return c == CG_AWS ? "aws" : c == CG_AZURE ? "azure" : "?";
}
