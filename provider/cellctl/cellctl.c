/*
 * cellctl/cellctl.c — the operator's command for the routing map.
 *
 * What an on-call engineer runs to look at the map, to move a tenant to its
 * standby cell by hand, and what drift tests run to change the map behind
 * Terraform's back. It works through the same store interface as the
 * provider (store/store.h), so it sees and writes exactly what the provider
 * does, with the same validation and the same conditional-write rules.
 *
 * Output is for people (aligned tables) except --json, which prints every
 * field as JSON for scripts, and export, which prints the tenants document
 * (store/store.h): the `tenants_json` of a cellrouter_tenants resource, so
 * `cellctl export > tenants.json` starts a configuration. `cellctl cell ...`
 * works on the cells' serving state (the "cells" section below).
 * Exit status: 0 ok, 1 error,
 * 2 usage or invalid input, 3 conflict (the entry exists or changed since
 * the expected version), 4 no such entry.
 */
#include <errno.h>
#include <stddef.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/store.h"

enum {
    EXIT_OK = 0,
    EXIT_ERR = 1,
    EXIT_USAGE = 2,
    EXIT_CONFLICT = 3,
    EXIT_NOTFOUND = 4,
};

static const char USAGE[] =
"usage: cellctl [--db PATH | --backend NAME] COMMAND [ARGS]\n"
"\n"
"Reads and changes the cellrouter routing map (tenant -> cell).\n"
"\n"
"commands:\n"
"  list [--prefix P] [--cell C] [--json]\n"
"        entries whose tenant id starts with P and (with --cell) whose\n"
"        primary or standby cell is C, as a table or a JSON array\n"
"  get TENANT [--json]\n"
"  set TENANT --cell C --endpoint URL\n"
"        [--standby-cell C --standby-endpoint URL]\n"
"        [--label KEY=VALUE ...] [--empty-labels] [--expect-version N]\n"
"        writes the whole entry (fields not given are removed); without\n"
"        --label or --empty-labels the entry has no labels (null)\n"
"  delete TENANT [--expect-version N]\n"
"  failover TENANT [--expect-version N]\n"
"        swaps the primary and standby cell and endpoint in one\n"
"        conditional write (Terraform will report it as drift)\n"
"  export [--prefix P] [--owner NAME] [--format object|array]\n"
"        the entries as the tenants document: one JSON object keyed by\n"
"        tenant id with the fields a configuration sets, what\n"
"        cellrouter_tenants takes in tenants_json (export > tenants.json);\n"
"        --owner: only the entries of the cellrouter_tenants resource NAME;\n"
"        --format array: every field of every entry as a JSON array (what\n"
"        export printed before tenants_json, the same as list --json)\n"
"\n"
"  cell list [--json]     every cell: definition and serving state\n"
"  cell get CELL [--json]\n"
"  cell fail CELL --reason R [--by NAME] [--json]\n"
"        marks the cell failed: the edge router sends its tenants to their\n"
"        standby cells\n"
"  cell restore CELL [--reason R] [--by NAME] [--json]\n"
"        marks the cell serving again\n"
"  cell pin CELL [--reason R] [--by NAME] [--json]\n"
"  cell unpin CELL [--by NAME] [--json]\n"
"        a pinned cell's serving state is left alone by the edge's health\n"
"        prober; operators may still fail or restore it\n"
"        (Terraform never changes a serving state: a cell fail is not\n"
"        drift, and no apply reverts it)\n"
"\n"
"options:\n"
"  --db PATH             the routing map (default: $CELLROUTER_DB, else\n"
"                        cellrouter.db); only set creates it\n"
"  --backend NAME        sqlite (default) or another store backend, which\n"
"                        then takes its settings from the environment\n"
"                        (cloudflare_kv: CLOUDFLARE_ACCOUNT_ID,\n"
"                        CLOUDFLARE_KV_NAMESPACE_ID, CLOUDFLARE_API_TOKEN)\n"
"  --expect-version N    write only if the entry's version is N\n"
"                        (0: only if there is no entry)\n"
"  --by NAME             who changes a cell's serving state, recorded as\n"
"                        operator:NAME (default: $USER)\n"
"  --version             print cellctl's version and exit\n"
"\n"
"exit status: 0 ok, 1 error, 2 usage or invalid input, 3 conflict\n"
"(entry exists or changed), 4 no such entry (or cell)\n";

typedef struct opts {
    const char *db;
    const char *backend;
    const char *cmd;
    const char *tenant;
    const char *prefix;
    const char *cell;
    const char *endpoint;
    const char *standby_cell;
    const char *standby_endpoint;
    const char *format;
    const char *owner;
    const char *sub;        /* cell: list, get, fail, restore, pin, unpin */
    const char *target;     /* cell: the CELL argument */
    const char *reason;     /* cell: --reason */
    const char *by;         /* cell: --by */
    bool json;
    bool empty_labels;
    bool has_expect;
    int64_t expect;
    cr_entry labels;        /* only its labels are used */
} opts;

static int usage_error(const char *fmt, const char *arg)
{
    fputs("cellctl: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(run cellctl --help for usage)\n", stderr);
    return EXIT_USAGE;
}

static void progress(void *ctx, const char *message)
{
    (void)ctx;
    fprintf(stderr, "cellctl: %s\n", message);
}

static int store_error(const cr_store_err *err)
{
    fprintf(stderr, "cellctl: %s\n", err->msg[0] ? err->msg
                                                : cr_store_rc_name(err->rc));
    switch (err->rc) {
    case CR_STORE_OK:        return EXIT_OK;
    case CR_STORE_NOT_FOUND: return EXIT_NOTFOUND;
    case CR_STORE_EXISTS:
    case CR_STORE_CONFLICT:  return EXIT_CONFLICT;
    default:                 return EXIT_ERR;
    }
}

/* ---- argument parsing --------------------------------------------------- */

static bool parse_version(const char *s, int64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0)
        return false;
    *out = v;
    return true;
}

/* Matches "--name VALUE" and "--name=VALUE"; advances *i past the value. */
static int take_value(int argc, char **argv, int *i, const char *name,
                      const char **out)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *out = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

static int parse(int argc, char **argv, opts *o)
{
    const char *positional[3] = {NULL, NULL, NULL};
    int npos = 0;
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (only_positional || a[0] != '-' || a[1] == '\0') {
            /* "cell SUB CELL" takes three; every other command two. */
            if (npos == 3 || (npos == 2 && strcmp(positional[0], "cell")))
                return usage_error("unexpected argument \"%s\"", a);
            positional[npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return EXIT_OK;
        }
        if (strcmp(a, "--version") == 0) {   /* CR_RELEASE_VERSION: the VERSION file */
            printf("cellctl %s\n", CR_RELEASE_VERSION);
            return EXIT_OK;
        }
        if (strcmp(a, "--json") == 0) { o->json = true; continue; }
        if (strcmp(a, "--empty-labels") == 0) { o->empty_labels = true; continue; }

        static const struct { const char *name; size_t off; } valued[] = {
            {"--db", offsetof(opts, db)},
            {"--backend", offsetof(opts, backend)},
            {"--prefix", offsetof(opts, prefix)},
            {"--cell", offsetof(opts, cell)},
            {"--endpoint", offsetof(opts, endpoint)},
            {"--standby-cell", offsetof(opts, standby_cell)},
            {"--standby-endpoint", offsetof(opts, standby_endpoint)},
            {"--format", offsetof(opts, format)},
            {"--owner", offsetof(opts, owner)},
            {"--reason", offsetof(opts, reason)},
            {"--by", offsetof(opts, by)},
        };
        int r = 0;
        for (size_t k = 0; k < sizeof valued / sizeof *valued && !r; k++) {
            r = take_value(argc, argv, &i, valued[k].name, &v);
            if (r > 0)
                *(const char **)((char *)o + valued[k].off) = v;
        }
        if (r < 0)
            return usage_error("%s needs a value", a);
        if (r > 0)
            continue;
        if ((r = take_value(argc, argv, &i, "--expect-version", &v))) {
            if (r < 0)
                return usage_error("%s needs a value", a);
            if (!parse_version(v, &o->expect))
                return usage_error("--expect-version wants a version number "
                                   "(0 or more), not \"%s\"", v);
            o->has_expect = true;
            continue;
        }
        if ((r = take_value(argc, argv, &i, "--label", &v))) {
            if (r < 0)
                return usage_error("%s needs KEY=VALUE", a);
            const char *eq = strchr(v, '=');
            if (!eq || eq == v)
                return usage_error("--label wants KEY=VALUE, not \"%s\"", v);
            char *key = strndup(v, (size_t)(eq - v));
            if (!key)
                return usage_error("%s", "out of memory");
            int rc = 0;
            if (cr_entry_label(&o->labels, key))
                rc = usage_error("label \"%s\" given twice", key);
            else if (cr_entry_set_label(&o->labels, key, eq + 1) != 0)
                rc = usage_error("%s", "out of memory");
            free(key);
            if (rc)
                return rc;
            continue;
        }
        return usage_error("unknown option \"%s\"", a);
    }
    if (npos == 0)
        return usage_error("%s", "no command given");
    o->cmd = positional[0];
    if (strcmp(o->cmd, "cell") == 0) {
        o->sub = positional[1];
        o->target = positional[2];
    } else {
        o->tenant = positional[1];
    }
    return -1;
}

/* ---- output ------------------------------------------------------------- */

/* Display width of UTF-8 text: one column per code point (labels may hold
 * non-ASCII text; everything else is ASCII by validation). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

/* Labels (an entry's or a cell's) as text: "-" when null, "{}" when
 * empty, else k=v joined by sep. NULL when out of memory. */
static char *labels_text(bool has, const cr_label *labels, size_t nlabels,
                         const char *sep)
{
    if (!has)
        return strdup("-");
    if (nlabels == 0)
        return strdup("{}");
    size_t n = 1;
    for (size_t i = 0; i < nlabels; i++)
        n += strlen(labels[i].key) + strlen(labels[i].value) + 1 +
             strlen(sep);
    char *s = malloc(n), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < nlabels; i++)
        p += sprintf(p, "%s%s=%s", i ? sep : "", labels[i].key,
                     labels[i].value);
    *p = '\0';
    return s;
}

/* Labels as a JSON object, or JSON null when they are null. */
static json_t *labels_json(bool has, const cr_label *labels, size_t nlabels)
{
    if (!has)
        return json_null();
    json_t *o = json_object();
    for (size_t i = 0; o && i < nlabels; i++)
        json_object_set_new(o, labels[i].key, json_string(labels[i].value));
    return o;
}

static json_t *entry_json(const cr_entry *e)
{
    json_t *labels = labels_json(e->has_labels, e->labels, e->nlabels);
#define OPT_STR(s) ((s) ? json_string(s) : json_null())
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o*, s:I, s:s}",
                     "tenant_id", e->tenant_id,
                     "cell_id", e->cell_id,
                     "endpoint", e->endpoint,
                     "standby_cell_id", OPT_STR(e->standby_cell_id),
                     "standby_endpoint", OPT_STR(e->standby_endpoint),
                     "labels", labels,
                     "version", (json_int_t)e->version,
                     "updated_at", e->updated_at);
#undef OPT_STR
}

static int print_json(json_t *j)
{
    if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) != 0) {
        json_decref(j);
        fputs("cellctl: cannot write JSON\n", stderr);
        return EXIT_ERR;
    }
    json_decref(j);
    fputc('\n', stdout);
    return EXIT_OK;
}

static int print_list_json(const cr_entry_list *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < l->len; i++) {
        if (json_array_append_new(arr, entry_json(&l->items[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return print_json(arr);
}

/* The tenants document (store/document.c), the owner tag left out. */
static int print_doc(const cr_entry_list *l)
{
    cr_doc_writer *w = cr_doc_writer_new();
    for (size_t i = 0; w && i < l->len; i++) {
        if (cr_doc_writer_add(w, &l->items[i], 0) != 0) {
            cr_doc_writer_free(w);
            w = NULL;
        }
    }
    size_t len = 0;
    char *text = cr_doc_writer_finish(w, &len);
    if (!text) {
        fputs("cellctl: out of memory\n", stderr);
        return EXIT_ERR;
    }
    fwrite(text, 1, len, stdout);
    free(text);
    return EXIT_OK;
}

#define NCOLS 8
static int print_table(const cr_entry_list *l)
{
    static const char *const head[NCOLS] = {
        "TENANT", "CELL", "ENDPOINT", "STANDBY", "STANDBY ENDPOINT",
        "VERSION", "UPDATED", "LABELS"
    };
    size_t w[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        w[c] = strlen(head[c]);
    char **cells = calloc(l->len * NCOLS + 1, sizeof(char *));
    if (!cells) {
        fputs("cellctl: out of memory\n", stderr);
        return EXIT_ERR;
    }
    int rc = EXIT_OK;
    for (size_t i = 0; i < l->len; i++) {
        const cr_entry *e = &l->items[i];
        char ver[24];
        snprintf(ver, sizeof ver, "%lld", (long long)e->version);
        const char *v[NCOLS - 1] = {
            e->tenant_id, e->cell_id, e->endpoint,
            e->standby_cell_id ? e->standby_cell_id : "-",
            e->standby_endpoint ? e->standby_endpoint : "-",
            ver, e->updated_at,
        };
        char **row = &cells[i * NCOLS];
        for (int c = 0; c < NCOLS - 1; c++)
            row[c] = strdup(v[c]);
        row[NCOLS - 1] = labels_text(e->has_labels, e->labels, e->nlabels,
                                     ",");
        for (int c = 0; c < NCOLS; c++) {
            if (!row[c]) {
                rc = EXIT_ERR;
                goto out;
            }
            size_t cw = width(row[c]);
            if (cw > w[c])
                w[c] = cw;
        }
    }
    for (int c = 0; c < NCOLS - 1; c++)
        printf("%-*s  ", (int)w[c], head[c]);
    printf("%s\n", head[NCOLS - 1]);
    for (size_t i = 0; i < l->len; i++) {
        char **row = &cells[i * NCOLS];
        for (int c = 0; c < NCOLS - 1; c++)
            printf("%s%*s  ", row[c], (int)(w[c] - width(row[c])), "");
        printf("%s\n", row[NCOLS - 1]);
    }
out:
    for (size_t i = 0; i < l->len * NCOLS; i++)
        free(cells[i]);
    free(cells);
    if (rc != EXIT_OK)
        fputs("cellctl: out of memory\n", stderr);
    return rc;
}

static int print_entry(const cr_entry *e)
{
    char *labels = labels_text(e->has_labels, e->labels, e->nlabels, ", ");
    if (!labels) {
        fputs("cellctl: out of memory\n", stderr);
        return EXIT_ERR;
    }
    printf("tenant_id         %s\n", e->tenant_id);
    printf("cell_id           %s\n", e->cell_id);
    printf("endpoint          %s\n", e->endpoint);
    printf("standby_cell_id   %s\n", e->standby_cell_id ? e->standby_cell_id : "-");
    printf("standby_endpoint  %s\n", e->standby_endpoint ? e->standby_endpoint : "-");
    printf("labels            %s\n", labels);
    printf("version           %lld\n", (long long)e->version);
    printf("updated_at        %s\n", e->updated_at);
    free(labels);
    return EXIT_OK;
}

/* ---- commands ----------------------------------------------------------- */

static int need_tenant(const opts *o)
{
    if (!o->tenant)
        return usage_error("%s needs a tenant id", o->cmd);
    const char *bad = cr_tenant_id_check(o->tenant);
    if (bad)
        return usage_error("%s", bad);
    return EXIT_OK;
}

typedef enum { OUT_TABLE, OUT_JSON, OUT_DOC } out_form;

static int cmd_list(cr_store *s, const opts *o, out_form form)
{
    cr_entry_list l;
    cr_store_err err;
    if (cr_store_list(s, o->prefix ? o->prefix : "", &l, &err) != CR_STORE_OK)
        return store_error(&err);
    if (o->cell || o->owner) {
        size_t k = 0;
        for (size_t i = 0; i < l.len; i++) {
            cr_entry *e = &l.items[i];
            const char *tag = cr_entry_label(e, CR_OWNER_LABEL);
            bool keep = (!o->cell || strcmp(e->cell_id, o->cell) == 0 ||
                         (e->standby_cell_id &&
                          strcmp(e->standby_cell_id, o->cell) == 0)) &&
                        (!o->owner || (tag && strcmp(tag, o->owner) == 0));
            if (keep)
                l.items[k++] = *e;
            else
                cr_entry_clear(e);
        }
        l.len = k;
    }
    int rc = form == OUT_DOC ? print_doc(&l)
           : form == OUT_JSON ? print_list_json(&l) : print_table(&l);
    cr_entry_list_free(&l);
    return rc;
}

static int cmd_get(cr_store *s, const opts *o)
{
    cr_entry *e = NULL;
    cr_store_err err;
    if (cr_store_get(s, o->tenant, &e, &err) != CR_STORE_OK)
        return store_error(&err);
    if (!e) {
        fprintf(stderr, "cellctl: tenant \"%s\" has no entry in the routing "
                "map\n", o->tenant);
        return EXIT_NOTFOUND;
    }
    int rc = o->json ? print_json(entry_json(e)) : print_entry(e);
    cr_entry_free(e);
    return rc;
}

static int cmd_set(cr_store *s, opts *o)
{
    if (!o->cell || !o->endpoint)
        return usage_error("%s needs --cell and --endpoint", "set");
    if (o->empty_labels && o->labels.nlabels)
        return usage_error("%s", "--empty-labels and --label exclude each "
                           "other");
    cr_entry e = {0};
    e.tenant_id = (char *)o->tenant;
    e.cell_id = (char *)o->cell;
    e.endpoint = (char *)o->endpoint;
    e.standby_cell_id = (char *)o->standby_cell;
    e.standby_endpoint = (char *)o->standby_endpoint;
    e.labels = o->labels.labels;
    e.nlabels = o->labels.nlabels;
    e.has_labels = o->labels.has_labels || o->empty_labels;
    const char *field = NULL;
    const char *bad = cr_entry_check(&e, &field);
    if (bad) {
        /* Name the flag the operator typed, not the attribute. */
        static const char *const flags[][2] = {
            {"cell_id", "--cell"}, {"endpoint", "--endpoint"},
            {"standby_cell_id", "--standby-cell"},
            {"standby_endpoint", "--standby-endpoint"},
            {"labels", "--label"},
        };
        const char *flag = "TENANT";
        for (size_t i = 0; field && i < sizeof flags / sizeof *flags; i++)
            if (strcmp(flags[i][0], field) == 0)
                flag = flags[i][1];
        fprintf(stderr, "cellctl: set: %s: %s\n", flag, bad);
        return EXIT_USAGE;
    }

    cr_store_err err;
    cr_entry *w = NULL;
    int64_t expect = o->has_expect ? o->expect : CR_VERSION_ANY;
    if (cr_store_put(s, &e, expect, &w, &err) != CR_STORE_OK)
        return store_error(&err);
    printf("%s: %s cell %s, version %lld\n", w->tenant_id,
           w->version == 1 ? "created on" : "written, on", w->cell_id,
           (long long)w->version);
    cr_entry_free(w);
    return EXIT_OK;
}

static int cmd_delete(cr_store *s, const opts *o)
{
    if (o->has_expect && o->expect == 0)
        return usage_error("%s", "delete: --expect-version must be 1 or "
                           "more");
    cr_store_err err;
    int64_t expect = o->has_expect ? o->expect : CR_VERSION_ANY;
    if (cr_store_delete(s, o->tenant, expect, &err) != CR_STORE_OK)
        return store_error(&err);
    printf("%s: deleted\n", o->tenant);
    return EXIT_OK;
}

static int cmd_failover(cr_store *s, const opts *o)
{
    if (o->has_expect && o->expect == 0)
        return usage_error("%s", "failover: --expect-version must be 1 or "
                           "more");
    cr_entry *e = NULL;
    cr_store_err err;
    if (cr_store_get(s, o->tenant, &e, &err) != CR_STORE_OK)
        return store_error(&err);
    if (!e) {
        fprintf(stderr, "cellctl: tenant \"%s\" has no entry in the routing "
                "map\n", o->tenant);
        return EXIT_NOTFOUND;
    }
    if (!e->standby_cell_id) {
        fprintf(stderr, "cellctl: tenant \"%s\" has no standby cell to fail "
                "over to (set one with cellctl set ... --standby-cell)\n",
                o->tenant);
        cr_entry_free(e);
        return EXIT_ERR;
    }
    /* The write is conditional on the version just read (or the one the
     * operator saw), so a concurrent change is a conflict, not lost. */
    int64_t expect = o->has_expect ? o->expect : e->version;
    char *t = e->cell_id;
    e->cell_id = e->standby_cell_id;
    e->standby_cell_id = t;
    t = e->endpoint;
    e->endpoint = e->standby_endpoint;
    e->standby_endpoint = t;
    cr_entry *w = NULL;
    cr_store_rc rc = cr_store_put(s, e, expect, &w, &err);
    cr_entry_free(e);
    if (rc != CR_STORE_OK)
        return store_error(&err);
    printf("%s: failed over to cell %s (%s), version %lld; standby is now "
           "cell %s\n", w->tenant_id, w->cell_id, w->endpoint,
           (long long)w->version, w->standby_cell_id);
    cr_entry_free(w);
    return EXIT_OK;
}

/* ---- cells ----------------------------------------------------------------
 *
 * `cellctl cell ...`: the cells' serving state, which operators own (with
 * the edge's health prober; Terraform owns only the definitions). A write
 * reads the cell, then writes its serving record conditional on the
 * record's version just read, so an operator and the prober (or two
 * operators) never overwrite each other unseen: the loser gets exit 3 and
 * runs the command again. A pin stops the prober only: an operator may
 * still fail or restore a pinned cell, and the pin stays.
 */

typedef enum { CELL_LIST, CELL_GET, CELL_FAIL, CELL_RESTORE, CELL_PIN,
               CELL_UNPIN } cell_command;
static const struct {
    const char *name;
    cell_command cmd;
    bool target;        /* takes CELL */
    bool writes;        /* --by */
    int reason;         /* --reason: 0 no, 1 optional, 2 required */
} CELL_COMMANDS[] = {
    {"list",    CELL_LIST,    false, false, 0},
    {"get",     CELL_GET,     true,  false, 0},
    {"fail",    CELL_FAIL,    true,  true,  2},
    {"restore", CELL_RESTORE, true,  true,  1},
    {"pin",     CELL_PIN,     true,  true,  1},
    {"unpin",   CELL_UNPIN,   true,  true,  0},
};
#define NCELL_COMMANDS (sizeof CELL_COMMANDS / sizeof *CELL_COMMANDS)

/* The arguments of `cell SUB [CELL]`, checked before the store opens; the
 * index of SUB in CELL_COMMANDS in *which. */
static int cell_args(const opts *o, size_t *which)
{
    if (!o->sub)
        return usage_error("%s", "cell needs a command: list, get, fail, "
                           "restore, pin or unpin");
    size_t k = 0;
    while (k < NCELL_COMMANDS && strcmp(CELL_COMMANDS[k].name, o->sub) != 0)
        k++;
    if (k == NCELL_COMMANDS)
        return usage_error("unknown cell command \"%s\" (list, get, fail, "
                           "restore, pin, unpin)", o->sub);
    *which = k;
    if (CELL_COMMANDS[k].target && !o->target)
        return usage_error("cell %s needs a cell id", o->sub);
    if (!CELL_COMMANDS[k].target && o->target)
        return usage_error("unexpected argument \"%s\"", o->target);
    const char *bad;
    if (o->target && (bad = cr_cell_id_check(o->target)))
        return usage_error("%s", bad);
    if (!CELL_COMMANDS[k].writes && o->by)
        return usage_error("--by is not an option of cell %s", o->sub);
    if (CELL_COMMANDS[k].reason == 0 && o->reason)
        return usage_error("--reason is not an option of cell %s", o->sub);
    if (CELL_COMMANDS[k].reason == 2 && (!o->reason || !*o->reason))
        return usage_error("cell %s needs --reason (what is wrong with the "
                           "cell)", o->sub);
    if (o->reason && (bad = cr_cell_reason_check(o->reason)))
        return usage_error("--reason: %s", bad);
    return EXIT_OK;
}

/* "operator:<name>" from --by, else $USER, else $LOGNAME. */
static int operator_of(const opts *o, char *out, size_t cap)
{
    const char *name = o->by;
    if (!name || !*name)
        name = getenv("USER");
    if (!name || !*name)
        name = getenv("LOGNAME");
    if (!name || !*name)
        return usage_error("%s", "who is changing the cell? Give --by NAME "
                           "(USER is not set)");
    snprintf(out, cap, "%s%.*s", CR_CELL_BY_OPERATOR,
             CR_CELL_OPERATOR_MAX + 1, name);
    const char *bad = cr_cell_changed_by_check(out);
    if (bad)
        return usage_error("--by: %s (letters, digits and . _ @ -, up to 64)",
                           bad);
    return EXIT_OK;
}

static json_t *cell_json(const cr_cell *c)
{
    json_t *labels = labels_json(c->has_labels, c->labels, c->nlabels);
    const cr_cell_state *st = &c->serving;
    json_error_t jerr;
    json_t *probe = st->probe ? json_loads(st->probe, 0, &jerr) : NULL;
#define OPT_STR(s) ((s) ? json_string(s) : json_null())
    return json_pack("{s:s, s:s, s:o, s:o, s:I, s:s, s:s, s:s, s:o, s:o, "
                     "s:b, s:I, s:o}",
                     "cell_id", c->cell_id,
                     "endpoint", c->endpoint,
                     "health_url", OPT_STR(c->health_url),
                     "labels", labels,
                     "version", (json_int_t)c->version,
                     "updated_at", c->updated_at,
                     "serving_state", cr_cell_serving_name(st->state),
                     "state_reason", st->reason ? st->reason : "",
                     "state_changed_at", OPT_STR(st->changed_at),
                     "state_changed_by", OPT_STR(st->changed_by),
                     "pinned", st->pinned,
                     "state_version", (json_int_t)st->version,
                     "probe", probe ? probe : json_null());
#undef OPT_STR
}

static int print_cell(const cr_cell *c)
{
    const cr_cell_state *st = &c->serving;
    char *labels = labels_text(c->has_labels, c->labels, c->nlabels, ", ");
    if (!labels) {
        fputs("cellctl: out of memory\n", stderr);
        return EXIT_ERR;
    }
    printf("cell_id           %s\n", c->cell_id);
    printf("endpoint          %s\n", c->endpoint);
    printf("health_url        %s\n", c->health_url ? c->health_url : "-");
    printf("labels            %s\n", labels);
    free(labels);
    printf("version           %lld\n", (long long)c->version);
    printf("updated_at        %s\n", c->updated_at);
    printf("serving_state     %s%s\n", cr_cell_serving_name(st->state),
           st->pinned ? " (pinned)" : "");
    printf("state_reason      %s\n", st->reason && *st->reason ? st->reason
                                                               : "-");
    printf("state_changed_at  %s\n", st->changed_at ? st->changed_at : "-");
    printf("state_changed_by  %s\n", st->changed_by ? st->changed_by : "-");
    printf("state_version     %lld\n", (long long)st->version);
    if (st->probe)
        printf("probe             %s\n", st->probe);
    return EXIT_OK;
}

static const char *state_text(const cr_cell *c, char buf[24])
{
    snprintf(buf, 24, "%s%s", cr_cell_serving_name(c->serving.state),
             c->serving.pinned ? " (pinned)" : "");
    return buf;
}

#define CELL_NCOLS 6
static int print_cell_table(const cr_cell_list *l)
{
    static const char *const head[CELL_NCOLS] = {
        "CELL", "STATE", "CHANGED", "BY", "ENDPOINT", "REASON"
    };
    size_t w[CELL_NCOLS];
    char sb[24];
    for (int k = 0; k < CELL_NCOLS; k++)
        w[k] = strlen(head[k]);
    /* Two passes over the same columns: widths, then the rows. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            for (int k = 0; k < CELL_NCOLS - 1; k++)
                printf("%-*s  ", (int)w[k], head[k]);
            printf("%s\n", head[CELL_NCOLS - 1]);
        }
        for (size_t i = 0; i < l->len; i++) {
            const cr_cell *c = &l->items[i];
            const char *v[CELL_NCOLS] = {
                c->cell_id, state_text(c, sb),
                c->serving.changed_at ? c->serving.changed_at : "-",
                c->serving.changed_by ? c->serving.changed_by : "-",
                c->endpoint,
                c->serving.reason && *c->serving.reason ? c->serving.reason
                                                        : "-",
            };
            for (int k = 0; k < CELL_NCOLS - 1; k++) {
                if (pass == 0 && width(v[k]) > w[k])
                    w[k] = width(v[k]);
                if (pass == 1)
                    printf("%s%*s  ", v[k], (int)(w[k] - width(v[k])), "");
            }
            if (pass == 1)
                printf("%s\n", v[CELL_NCOLS - 1]);
        }
    }
    return EXIT_OK;
}

static int cell_not_found(const char *id)
{
    fprintf(stderr, "cellctl: cell \"%s\" is not defined in the routing map "
            "(cells are defined with Terraform's cellrouter_cell)\n", id);
    return EXIT_NOTFOUND;
}

/* fail, restore, pin, unpin: the cell's serving record as it is, changed
 * as asked, written conditional on the version just read. Nothing is
 * written when nothing would change. */
static int cell_write(cr_store *s, const opts *o, cell_command cmd,
                      const cr_cell *cur)
{
    char by[sizeof CR_CELL_BY_OPERATOR + CR_CELL_OPERATOR_MAX + 2];
    const cr_cell_state *was = &cur->serving;
    cr_cell_state in = *was;
    in.reason = was->reason ? was->reason : (char *)"";
    switch (cmd) {
    case CELL_FAIL:    in.state = CR_CELL_FAILED; break;
    case CELL_RESTORE: in.state = CR_CELL_SERVING; in.reason = (char *)""; break;
    case CELL_PIN:     in.pinned = true; break;
    case CELL_UNPIN:   in.pinned = false; break;
    default:           return EXIT_ERR;
    }
    if (o->reason)
        in.reason = (char *)o->reason;
    bool same = in.state == was->state && in.pinned == was->pinned &&
                strcmp(in.reason, was->reason ? was->reason : "") == 0;
    if (same) {
        if (o->json)
            return print_json(cell_json(cur));
        printf("%s: already %s%s%s%s; nothing written\n", cur->cell_id,
               cr_cell_serving_name(was->state),
               was->pinned ? " (pinned)" : cmd == CELL_UNPIN ? " (not pinned)"
                                                             : "",
               *in.reason ? ", reason: " : "", in.reason);
        return EXIT_OK;
    }
    int rc = operator_of(o, by, sizeof by);
    if (rc != EXIT_OK)
        return rc;
    in.changed_by = by;
    cr_cell *w = NULL;
    cr_store_err err;
    if (cr_store_cell_set_state(s, cur->cell_id, &in, was->version, &w,
                                &err) != CR_STORE_OK) {
        if (err.rc == CR_STORE_CONFLICT)
            fprintf(stderr, "cellctl: the serving state of cell %s changed "
                    "while this command ran (by the health prober or "
                    "another operator); look again with cellctl cell get "
                    "%s\n", cur->cell_id, cur->cell_id);
        return store_error(&err);
    }
    if (o->json) {
        rc = print_json(cell_json(w));
    } else {
        printf("%s: %s%s by %s", w->cell_id,
               cr_cell_serving_name(w->serving.state),
               w->serving.pinned ? " (pinned)" : "", w->serving.changed_by);
        if (w->serving.reason && *w->serving.reason)
            printf(" (reason: %s)", w->serving.reason);
        printf(", serving state version %lld\n",
               (long long)w->serving.version);
    }
    cr_cell_free(w);
    return rc;
}

static int cmd_cell(cr_store *s, const opts *o, size_t which)
{
    cr_store_err err;
    cell_command cmd = CELL_COMMANDS[which].cmd;
    if (cmd == CELL_LIST) {
        cr_cell_list l;
        if (cr_store_cell_list(s, &l, &err) != CR_STORE_OK)
            return store_error(&err);
        int rc;
        if (o->json) {
            json_t *arr = json_array();
            for (size_t i = 0; arr && i < l.len; i++)
                if (json_array_append_new(arr, cell_json(&l.items[i]))) {
                    json_decref(arr);
                    arr = NULL;
                }
            rc = print_json(arr);
        } else {
            rc = print_cell_table(&l);
        }
        cr_cell_list_free(&l);
        return rc;
    }
    cr_cell *c = NULL;
    if (cr_store_cell_get(s, o->target, &c, &err) != CR_STORE_OK)
        return store_error(&err);
    if (!c)
        return cell_not_found(o->target);
    int rc = cmd == CELL_GET ? (o->json ? print_json(cell_json(c))
                                        : print_cell(c))
                             : cell_write(s, o, cmd, c);
    cr_cell_free(c);
    return rc;
}

/* What each command accepts; one row per command keeps the checks in one
 * place so "cellctl get x --cell y" is an error, never silently ignored. */
typedef enum { LIST, GET, SET, DELETE, FAILOVER, EXPORT, CELL } command;
static const struct {
    const char *name;
    command cmd;
    bool tenant;        /* takes a TENANT argument */
    bool cell;          /* --cell */
    bool fields;        /* --endpoint, --standby-*, --label, --empty-labels */
    bool prefix;        /* --prefix */
    bool json;          /* --json */
    bool expect;        /* --expect-version */
    bool creates;       /* may create the routing map file */
    bool doc;           /* --format, --owner */
} COMMANDS[] = {
    {"list",     LIST,     false, true,  false, true,  true,  false, false, false},
    {"get",      GET,      true,  false, false, false, true,  false, false, false},
    {"set",      SET,      true,  true,  true,  false, false, true,  true,  false},
    {"delete",   DELETE,   true,  false, false, false, false, true,  false, false},
    {"failover", FAILOVER, true,  false, false, false, false, true,  false, false},
    {"export",   EXPORT,   false, false, false, true,  true,  false, false, true},
    {"cell",     CELL,     false, false, false, false, true,  false, false, false},
};

int main(int argc, char **argv)
{
    opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        goto out;
    if (strcmp(o.cmd, "help") == 0) {
        fputs(USAGE, stdout);
        rc = EXIT_OK;
        goto out;
    }
    size_t k = 0, ncmd = sizeof COMMANDS / sizeof *COMMANDS;
    while (k < ncmd && strcmp(COMMANDS[k].name, o.cmd) != 0)
        k++;
    if (k == ncmd) {
        rc = usage_error("unknown command \"%s\"", o.cmd);
        goto out;
    }
    const command cmd = COMMANDS[k].cmd;
    size_t cell_which = 0;
    if (!COMMANDS[k].cell && o.cell)
        rc = usage_error("--cell is not an option of %s", o.cmd);
    else if (!COMMANDS[k].fields &&
             (o.endpoint || o.standby_cell || o.standby_endpoint ||
              o.labels.nlabels || o.empty_labels))
        rc = usage_error("%s takes no entry fields", o.cmd);
    else if (!COMMANDS[k].prefix && o.prefix)
        rc = usage_error("--prefix is not an option of %s", o.cmd);
    else if (!COMMANDS[k].json && o.json)
        rc = usage_error("--json is not an option of %s", o.cmd);
    else if (!COMMANDS[k].expect && o.has_expect)
        rc = usage_error("--expect-version is not an option of %s", o.cmd);
    else if (!COMMANDS[k].doc && (o.format || o.owner))
        rc = usage_error(o.format ? "--format is not an option of %s"
                                  : "--owner is not an option of %s", o.cmd);
    else if (o.format && strcmp(o.format, "object") != 0 &&
             strcmp(o.format, "array") != 0)
        rc = usage_error("--format is object or array, not \"%s\"",
                         o.format);
    else if (!COMMANDS[k].tenant && o.tenant)
        rc = usage_error("unexpected argument \"%s\"", o.tenant);
    else if (cmd != CELL && (o.reason || o.by))
        rc = usage_error("%s", "--reason and --by are options of the cell "
                         "commands");
    else if (cmd == CELL)
        rc = cell_args(&o, &cell_which);
    else if (COMMANDS[k].tenant)
        rc = need_tenant(&o);
    else
        rc = EXIT_OK;
    if (rc != EXIT_OK)
        goto out;

    bool sqlite = !o.backend || strcmp(o.backend, "sqlite") == 0;
    if (!sqlite && o.db) {
        rc = usage_error("--db is for the sqlite backend, not %s", o.backend);
        goto out;
    }
    /* Looking must not create: a mistyped path would otherwise show an
     * empty map and leave a stray file behind. */
    const char *path = o.db ? o.db : cr_store_sqlite_default_path();
    struct stat st;
    if (sqlite && !COMMANDS[k].creates && stat(path, &st) != 0) {
        fprintf(stderr, "cellctl: no routing map at %s (%s)\n", path,
                strerror(errno));
        rc = EXIT_ERR;
        goto out;
    }

    cr_store *s = NULL;
    cr_store_err err;
    cr_store_config cfg = {o.backend, sqlite ? path : NULL};
    /* A remote store's long waits (Cloudflare's rate limit) are shown, so
     * nobody watches a silent 5-minute hang. */
    cr_store_open_opts opts = {NULL, progress, NULL};
    if (cr_store_open_with(&cfg, &opts, &s, &err) != CR_STORE_OK) {
        rc = store_error(&err);
        goto out;
    }
    switch (cmd) {
    case LIST:     rc = cmd_list(s, &o, o.json ? OUT_JSON : OUT_TABLE); break;
    case EXPORT:
        rc = cmd_list(s, &o, o.format && strcmp(o.format, "array") == 0
                                 ? OUT_JSON : OUT_DOC);
        break;
    case GET:      rc = cmd_get(s, &o); break;
    case SET:      rc = cmd_set(s, &o); break;
    case DELETE:   rc = cmd_delete(s, &o); break;
    case FAILOVER: rc = cmd_failover(s, &o); break;
    case CELL:     rc = cmd_cell(s, &o, cell_which); break;
    }
    cr_store_close(s);
    if (fflush(stdout) != 0 && rc == EXIT_OK) {
        fprintf(stderr, "cellctl: cannot write output: %s\n",
                strerror(errno));
        rc = EXIT_ERR;
    }
out:
    cr_entry_clear(&o.labels);
    return rc;
}
