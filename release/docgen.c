/*
 * release/docgen.c — the provider's registry documentation, from the
 * provider itself.
 *
 *   docgen -provider NAME -examples DIR -o OUTDIR [-schema FILE]
 *   docgen -dump-schema FILE [-dump-identities FILE]
 *
 * Asks the provider for its schema exactly as Terraform does (the
 * GetProviderSchema and GetResourceIdentitySchemas handlers of rpc/, run
 * in process; or, with -schema, a
 * GetProviderSchema.Response in protobuf's binary form, which is how
 * tests/release/docs.sh feeds it broken schemas; no identities then) and
 * writes one
 * Markdown page per provider, resource, data source, ephemeral resource,
 * list resource and function, in the layout the Terraform Registry renders
 * (docs/index.md, docs/resources/<type>.md, docs/data-sources/<type>.md,
 * ..., <type> without the "NAME_" prefix) and in the shape of HashiCorp's
 * tfplugindocs: front matter, the schema's own description, an example,
 * the attributes grouped Required / Optional / Read-Only with a section per
 * nested attribute or block, and the import syntax. The descriptions in the
 * C schema are the single source: nothing here knows any resource by name.
 *
 * From DIR, in the conventional layout, per page:
 *   provider/provider.tf                               (required)
 *   resources/<type>/resource.tf                       (required)
 *   resources/<type>/import.sh, import.tf              (optional)
 *   resources/<type>/import-by-identity.tf             (optional; only for a
 *       resource with an identity, whose identity schema is then listed,
 *       as tfplugindocs does)
 *   data-sources/<type>/data-source.tf                 (required)
 *   ephemeral-resources/<type>/ephemeral-resource.tf   (required)
 *   list-resources/<type>/list-resource.tfquery.hcl    (required)
 *   functions/<name>/function.tf                       (required)
 *   <any of those folders>/notes.md                    (optional: prose the
 *       schema cannot hold — limits, failure behaviour — placed after the
 *       description)
 * A new resource type therefore needs its example files and nothing else.
 *
 * Exit status 1, listing every problem, when an attribute, block, type or
 * function parameter has no description, a required example is missing or
 * an example folder names a type the provider does not have; nothing is
 * written then. 2 for usage and I/O errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>

#include <grpc/status.h>
#include <jansson.h>

#include "plugin/server.h"
#include "rpc/rpc.h"
#include "tfplugin6.pb-c.h"

/* ---- problems, collected so every one is reported at once ---------------- */

static int nproblems;

static void report(const char *fmt, va_list ap)
{
    fputs("docgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(fmt, ap);
    va_end(ap);
    nproblems++;
}

/* For what stops docgen at once: usage, I/O, memory (exit status 2). */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(fmt, ap);
    va_end(ap);
    exit(2);
}

/* ---- files ---------------------------------------------------------------- */

/* The whole file, NUL-terminated, or NULL when it does not exist. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return NULL;
        die("%s: %s", path, strerror(errno));
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    if (!buf)
        die("out of memory");
    if (ferror(f))
        die("%s: read error", path);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static void mkdirs(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        die("%s: path too long", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            die("%s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        die("%s: %s", tmp, strerror(errno));
}

static char *path_join(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + 1 + strlen(b) + (c ? 1 + strlen(c) : 0) + 1;
    char *s = malloc(n);
    if (!s)
        die("out of memory");
    snprintf(s, n, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "");
    return s;
}

/* ---- the kinds of page ------------------------------------------------------ */

typedef struct kind {
    const char *dir;        /* under docs/ and examples/ */
    const char *title;      /* "Resource" */
    const char *example;    /* the example file each type must have */
    const char *lang;       /* its code fence language */
    bool importable;
} kind;

static const kind K_RESOURCE  = {"resources", "Resource", "resource.tf", "terraform", true};
static const kind K_DATA      = {"data-sources", "Data Source", "data-source.tf", "terraform", false};
static const kind K_EPHEMERAL = {"ephemeral-resources", "Ephemeral Resource",
                                 "ephemeral-resource.tf", "terraform", false};
static const kind K_LIST      = {"list-resources", "List Resource",
                                 "list-resource.tfquery.hcl", "terraform", false};

/* One schema of a map of the response (every *SchemasEntry has this shape). */
typedef struct named_schema {
    const char *name;
    const Tfplugin6__Schema *schema;
} named_schema;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const named_schema *)a)->name, ((const named_schema *)b)->name);
}

/* ---- types --------------------------------------------------------------- */

/* A cty type (its JSON form) as tfplugindocs words it: "String",
 * "List of Number", "Map of String", "Object", ... */
static void type_words(FILE *o, const json_t *t)
{
    if (json_is_string(t)) {
        const char *s = json_string_value(t);
        if (!strcmp(s, "string")) fputs("String", o);
        else if (!strcmp(s, "number")) fputs("Number", o);
        else if (!strcmp(s, "bool")) fputs("Boolean", o);
        else if (!strcmp(s, "dynamic")) fputs("Dynamic", o);
        else fputs(s, o);
        return;
    }
    const char *k = json_string_value(json_array_get(t, 0));
    if (k && (!strcmp(k, "list") || !strcmp(k, "set") || !strcmp(k, "map"))) {
        fprintf(o, "%c%s of ", k[0] - 'a' + 'A', k + 1);
        type_words(o, json_array_get(t, 1));
    } else if (k && !strcmp(k, "object")) {
        fputs("Object", o);
    } else if (k && !strcmp(k, "tuple")) {
        fputs("Tuple", o);
    } else {
        fputs("Unknown", o);
    }
}

static json_t *parse_type(ProtobufCBinaryData b, const char *where)
{
    json_error_t err;
    json_t *t = json_loadb((const char *)b.data, b.len, JSON_DECODE_ANY, &err);
    if (!t)
        die("%s: the schema's type is not JSON: %s", where, err.text);
    return t;
}

/* ---- schema sections -------------------------------------------------------- */

/* A nested section still to be written: a nested attribute type, a block,
 * or the attributes of an object type. */
typedef struct pending {
    char *anchor;           /* "nestedatt--tenants" */
    char *title;            /* "tenants" (dotted path) */
    const Tfplugin6__Schema__Block *block;
    const Tfplugin6__Schema__Object *object;
    json_t *object_type;    /* ["object", {...}] (owned) */
} pending;

typedef struct pendings {
    pending *v;
    size_t n, cap;
} pendings;

static void push(pendings *p, pending x)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->v = realloc(p->v, p->cap * sizeof *p->v);
        if (!p->v)
            die("out of memory");
    }
    p->v[p->n++] = x;
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        die("out of memory");
    va_end(ap);
    return s;
}

/* The description as one Markdown paragraph run: trailing blank space cut,
 * so the list item it ends stays one item. */
static void put_description(FILE *o, const char *d)
{
    size_t n = strlen(d);
    while (n > 0 && (d[n - 1] == '\n' || d[n - 1] == ' '))
        n--;
    fwrite(d, 1, n, o);
}

typedef enum group { G_REQUIRED, G_OPTIONAL, G_READONLY } group;
static const char *const group_title[] = {"Required", "Optional", "Read-Only"};

static group attr_group(const Tfplugin6__Schema__Attribute *a)
{
    if (a->required)
        return G_REQUIRED;
    if (a->optional)
        return G_OPTIONAL;
    return G_READONLY;
}

static int attr_by_name(const void *a, const void *b)
{
    const Tfplugin6__Schema__Attribute *x = *(Tfplugin6__Schema__Attribute *const *)a;
    const Tfplugin6__Schema__Attribute *y = *(Tfplugin6__Schema__Attribute *const *)b;
    return strcmp(x->name, y->name);
}

static int block_by_name(const void *a, const void *b)
{
    const Tfplugin6__Schema__NestedBlock *x = *(Tfplugin6__Schema__NestedBlock *const *)a;
    const Tfplugin6__Schema__NestedBlock *y = *(Tfplugin6__Schema__NestedBlock *const *)b;
    return strcmp(x->type_name, y->type_name);
}

static const char *const object_nesting[] = {
    [TFPLUGIN6__SCHEMA__OBJECT__NESTING_MODE__SINGLE] = "Attributes",
    [TFPLUGIN6__SCHEMA__OBJECT__NESTING_MODE__LIST] = "Attributes List",
    [TFPLUGIN6__SCHEMA__OBJECT__NESTING_MODE__SET] = "Attributes Set",
    [TFPLUGIN6__SCHEMA__OBJECT__NESTING_MODE__MAP] = "Attributes Map",
};

static const char *const block_nesting[] = {
    [TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__SINGLE] = "Block",
    [TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__LIST] = "Block List",
    [TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__SET] = "Block Set",
    [TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__MAP] = "Block Map",
    [TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__GROUP] = "Block",
};

/* "PREFIX--a--b" for the path "a.b": tfplugindocs' anchors. */
static char *anchor_for(const char *prefix, const char *path)
{
    size_t dots = 0;
    for (const char *p = path; *p; p++)
        dots += *p == '.';
    char *a = malloc(strlen(prefix) + 2 + strlen(path) + dots + 1);
    if (!a)
        die("out of memory");
    char *o = a + sprintf(a, "%s--", prefix);
    for (const char *p = path; *p; p++) {
        if (*p == '.') {
            *o++ = '-';
            *o++ = '-';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return a;
}

/* The object type inside t (t itself, or the element type of a
 * collection of objects), or NULL. */
static json_t *object_of(json_t *t)
{
    const char *k = json_string_value(json_array_get(t, 0));
    if (k && !strcmp(k, "object"))
        return t;
    if (k && (!strcmp(k, "list") || !strcmp(k, "set") || !strcmp(k, "map"))) {
        json_t *e = json_array_get(t, 1);
        const char *ek = json_string_value(json_array_get(e, 0));
        if (ek && !strcmp(ek, "object"))
            return e;
    }
    return NULL;
}

/* One attribute's list item; nested types and object types queue their
 * own section. `where` names the page for problems. */
static void put_attr(FILE *o, const Tfplugin6__Schema__Attribute *a,
                     const char *path, const char *where, pendings *todo)
{
    char *sub = path[0] ? dup_printf("%s.%s", path, a->name) : dup_printf("%s", a->name);
    fprintf(o, "- `%s` (", a->name);
    json_t *t = NULL;
    if (a->nested_type) {
        unsigned m = a->nested_type->nesting;
        fputs(m < sizeof object_nesting / sizeof *object_nesting && object_nesting[m]
              ? object_nesting[m] : "Attributes", o);
    } else {
        t = parse_type(a->type, where);
        type_words(o, t);
    }
    if (a->sensitive)
        fputs(", Sensitive", o);
    if (a->write_only)
        fputs(", Write-only", o);
    if (a->deprecated)
        fputs(", Deprecated", o);
    fputs(")", o);
    if (a->description[0]) {
        fputc(' ', o);
        put_description(o, a->description);
    } else {
        problem("%s: attribute %s has no description", where, sub);
    }
    if (a->deprecated && a->deprecation_message[0])
        fprintf(o, " Deprecated: %s", a->deprecation_message);

    json_t *obj = t ? object_of(t) : NULL;
    if (a->nested_type || obj) {
        pending p = {0};
        p.anchor = anchor_for("nestedatt", sub);
        p.title = sub;
        sub = NULL;
        p.object = a->nested_type;
        p.object_type = obj ? json_incref(obj) : NULL;
        fprintf(o, " (see [below for nested schema](#%s))", p.anchor);
        push(todo, p);
    }
    fputc('\n', o);
    json_decref(t);
    free(sub);
}

static void put_block_item(FILE *o, const Tfplugin6__Schema__NestedBlock *b,
                           const char *path, const char *where, pendings *todo)
{
    char *sub = path[0] ? dup_printf("%s.%s", path, b->type_name)
                        : dup_printf("%s", b->type_name);
    char *anchor = anchor_for("nestedblock", sub);
    unsigned m = b->nesting;
    fprintf(o, "- `%s` (%s", b->type_name,
            m < sizeof block_nesting / sizeof *block_nesting && block_nesting[m]
            ? block_nesting[m] : "Block");
    if (b->min_items > 0)
        fprintf(o, ", Min: %lld", (long long)b->min_items);
    if (b->max_items > 0)
        fprintf(o, ", Max: %lld", (long long)b->max_items);
    if (b->block && b->block->deprecated)
        fputs(", Deprecated", o);
    fputs(")", o);
    if (b->block && b->block->description[0]) {
        fputc(' ', o);
        put_description(o, b->block->description);
    } else {
        problem("%s: block %s has no description", where, sub);
    }
    fprintf(o, " (see [below for nested schema](#%s))\n", anchor);
    pending p = {0};
    p.anchor = anchor;
    p.title = sub;
    p.block = b->block;
    push(todo, p);
}

/* The attributes (and blocks) of one block or nested object, grouped. At
 * the top level the groups are headings ("### Required"); in a nested
 * section they are labels ("Required:"), as tfplugindocs writes them. */
static void put_groups(FILE *o, Tfplugin6__Schema__Attribute **attrs, size_t nattrs,
                       Tfplugin6__Schema__NestedBlock **blocks, size_t nblocks,
                       const char *path, const char *where, bool top, pendings *todo)
{
    Tfplugin6__Schema__Attribute **as = NULL;
    Tfplugin6__Schema__NestedBlock **bs = NULL;
    if (nattrs) {
        as = malloc(nattrs * sizeof *as);
        if (!as)
            die("out of memory");
        memcpy(as, attrs, nattrs * sizeof *as);
        qsort(as, nattrs, sizeof *as, attr_by_name);
    }
    if (nblocks) {
        bs = malloc(nblocks * sizeof *bs);
        if (!bs)
            die("out of memory");
        memcpy(bs, blocks, nblocks * sizeof *bs);
        qsort(bs, nblocks, sizeof *bs, block_by_name);
    }
    for (int g = G_REQUIRED; g <= G_READONLY; g++) {
        bool any = false;
        for (size_t i = 0; i < nattrs; i++)
            any |= attr_group(as[i]) == (group)g;
        for (size_t i = 0; i < nblocks; i++)
            any |= (bs[i]->min_items > 0 ? G_REQUIRED : G_OPTIONAL) == (group)g;
        if (!any)
            continue;
        if (top)
            fprintf(o, "### %s\n\n", group_title[g]);
        else
            fprintf(o, "%s:\n\n", group_title[g]);
        for (size_t i = 0; i < nattrs; i++)
            if (attr_group(as[i]) == (group)g)
                put_attr(o, as[i], path, where, todo);
        for (size_t i = 0; i < nblocks; i++)
            if ((bs[i]->min_items > 0 ? G_REQUIRED : G_OPTIONAL) == (group)g)
                put_block_item(o, bs[i], path, where, todo);
        fputc('\n', o);
    }
    free(as);
    free(bs);
}

/* The attributes of an object type (the protocol has no descriptions for
 * them, so none are asked for). */
static void put_object_type(FILE *o, json_t *obj)
{
    json_t *fields = json_array_get(obj, 1);
    const char **names = malloc((json_object_size(fields) + 1) * sizeof *names);
    if (!names)
        die("out of memory");
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(fields, k, v)
        names[n++] = k;
    for (size_t i = 1; i < n; i++)   /* few fields: insertion sort */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *x = names[j]; names[j] = names[j - 1]; names[j - 1] = x;
        }
    fputs("Read-Only:\n\n", o);
    for (size_t i = 0; i < n; i++) {
        fprintf(o, "- `%s` (", names[i]);
        type_words(o, json_object_get(fields, names[i]));
        fputs(")\n", o);
    }
    fputc('\n', o);
    free(names);
}

static void put_schema(FILE *o, const Tfplugin6__Schema__Block *b, const char *where)
{
    pendings todo = {0};
    fputs("<!-- schema generated by release/docgen.c from the provider's GetProviderSchema -->\n"
          "## Schema\n\n", o);
    put_groups(o, b->attributes, b->n_attributes, b->block_types, b->n_block_types,
               "", where, true, &todo);
    /* Nested sections, breadth first, each may queue more. */
    for (size_t i = 0; i < todo.n; i++) {
        pending *p = &todo.v[i];
        fprintf(o, "<a id=\"%s\"></a>\n### Nested Schema for `%s`\n\n", p->anchor, p->title);
        if (p->block)
            put_groups(o, p->block->attributes, p->block->n_attributes,
                       p->block->block_types, p->block->n_block_types,
                       p->title, where, false, &todo);
        else if (p->object)
            put_groups(o, p->object->attributes, p->object->n_attributes, NULL, 0,
                       p->title, where, false, &todo);
        else
            put_object_type(o, p->object_type);
        p = &todo.v[i];     /* todo.v may have moved */
        free(p->anchor);
        free(p->title);
        json_decref(p->object_type);
    }
    free(todo.v);
}

/* ---- pages ------------------------------------------------------------------ */

/* The front matter's description: the schema's description as a YAML block
 * scalar (tfplugindocs' shape). */
static void put_front_matter(FILE *o, const char *title, const char *subcategory,
                             const char *description)
{
    fprintf(o, "---\npage_title: \"%s\"\nsubcategory: \"%s\"\ndescription: |-\n",
            title, subcategory);
    const char *d = description;
    size_t n = strlen(d);
    while (n > 0 && (d[n - 1] == '\n' || d[n - 1] == ' '))
        n--;
    fputs("  ", o);
    for (size_t i = 0; i < n; i++) {
        fputc(d[i], o);
        if (d[i] == '\n' && i + 1 < n && d[i + 1] != '\n')
            fputs("  ", o);
    }
    fputs("\n---\n\n", o);
}

static void put_code(FILE *o, const char *lang, const char *text)
{
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        n--;
    fprintf(o, "```%s\n%.*s\n```\n\n", lang, (int)n, text);
}

/* Appends a hand-written notes.md, if the example folder has one. */
static void put_notes(FILE *o, const char *folder)
{
    char *path = path_join(folder, "notes.md", NULL);
    char *notes = read_file(path);
    if (notes) {
        size_t n = strlen(notes);
        while (n > 0 && notes[n - 1] == '\n')
            n--;
        fprintf(o, "%.*s\n\n", (int)n, notes);
    }
    free(notes);
    free(path);
}

typedef struct output {
    char *path;             /* relative to the docs directory */
    char *text;
    size_t len;
} output;

typedef struct outputs {
    output *v;
    size_t n, cap;
} outputs;

static void add_output(outputs *outs, char *path, char *text, size_t len)
{
    if (outs->n == outs->cap) {
        outs->cap = outs->cap ? outs->cap * 2 : 16;
        outs->v = realloc(outs->v, outs->cap * sizeof *outs->v);
        if (!outs->v)
            die("out of memory");
    }
    outs->v[outs->n++] = (output){path, text, len};
}

/* One page being written: its example folder, the name problems are
 * reported under, and the Markdown so far. */
typedef struct page {
    char *folder;
    char *where;
    char *text;
    size_t len;
    FILE *o;
} page;

/* Starts a page: front matter, heading, the description, the folder's
 * notes.md and its example (EXAMPLE, required, in code fence LANG).
 * DESCRIPTION "" is a problem; the page is still written to the end so
 * every problem of it is reported. Takes ownership of folder and where. */
static void page_begin(page *pg, char *folder, char *where, const char *example,
                       const char *lang, const char *title, const char *heading,
                       const char *description)
{
    pg->folder = folder;
    pg->where = where;
    pg->text = NULL;
    pg->len = 0;
    pg->o = open_memstream(&pg->text, &pg->len);
    if (!pg->o)
        die("out of memory");
    if (!description[0])
        problem("%s: the schema has no description", where);
    char *expath = path_join(folder, example, NULL);
    char *ex = read_file(expath);
    if (!ex)
        problem("%s: no example: write %s", where, expath);
    put_front_matter(pg->o, title, "", description);
    fprintf(pg->o, "# %s\n\n", heading);
    if (description[0]) {
        put_description(pg->o, description);
        fputs("\n\n", pg->o);
    }
    put_notes(pg->o, folder);
    if (ex) {
        fputs("## Example Usage\n\n", pg->o);
        put_code(pg->o, lang, ex);
    }
    free(ex);
    free(expath);
}

/* Ends the page with one newline and hands it to OUTS as PATH (owned). */
static void page_end(page *pg, outputs *outs, char *path)
{
    if (fclose(pg->o) != 0)
        die("out of memory");
    while (pg->len > 1 && pg->text[pg->len - 1] == '\n' && pg->text[pg->len - 2] == '\n')
        pg->text[--pg->len] = '\0';
    add_output(outs, path, pg->text, pg->len);
    free(pg->folder);
    free(pg->where);
}

/* GetResourceIdentitySchemas' answer (NULL: none asked for). */
static const Tfplugin6__GetResourceIdentitySchemas__Response *identities;

static const Tfplugin6__ResourceIdentitySchema *identity_of(const char *type)
{
    for (size_t i = 0; identities && i < identities->n_identity_schemas; i++)
        if (!strcmp(identities->identity_schemas[i]->key, type))
            return identities->identity_schemas[i]->value;
    return NULL;
}

/* tfplugindocs' "Identity Schema" (internal/schemamd RenderIdentitySchema):
 * the attributes required for import, then the optional ones, by name. */
static void put_identity(FILE *o, const Tfplugin6__ResourceIdentitySchema *is,
                         const char *where)
{
    fputs("### Identity Schema\n\n", o);
    for (int pass = 0; pass < 2; pass++) {
        const Tfplugin6__ResourceIdentitySchema__IdentityAttribute **v =
            calloc(is->n_identity_attributes + 1, sizeof *v);
        size_t n = 0;
        if (!v)
            die("out of memory");
        for (size_t i = 0; i < is->n_identity_attributes; i++) {
            const Tfplugin6__ResourceIdentitySchema__IdentityAttribute *a =
                is->identity_attributes[i];
            if (pass == 0 ? a->required_for_import : !a->required_for_import)
                v[n++] = a;
        }
        for (size_t i = 1; i < n; i++)      /* by name; a handful at most */
            for (size_t j = i; j > 0 && strcmp(v[j - 1]->name, v[j]->name) > 0; j--) {
                const void *t = v[j];
                v[j] = v[j - 1];
                v[j - 1] = t;
            }
        if (n)
            fprintf(o, "#### %s\n\n", pass == 0 ? "Required" : "Optional");
        for (size_t i = 0; i < n; i++) {
            json_t *t = parse_type(v[i]->type, where);
            fprintf(o, "- `%s` (", v[i]->name);
            type_words(o, t);
            fputc(')', o);
            json_decref(t);
            if (v[i]->description[0]) {
                fputc(' ', o);
                put_description(o, v[i]->description);
            } else {
                problem("%s: identity attribute %s has no description", where,
                        v[i]->name);
            }
            fputc('\n', o);
        }
        if (n)
            fputc('\n', o);
        free(v);
    }
}

static void page_type(outputs *outs, const char *provider, const char *examples,
                      const kind *k, const named_schema *ns)
{
    const char *name = ns->name;
    size_t plen = strlen(provider);
    const char *shortname = strncmp(name, provider, plen) == 0 && name[plen] == '_'
                            ? name + plen + 1 : name;
    const Tfplugin6__Schema__Block *b = ns->schema ? ns->schema->block : NULL;
    if (!b) {
        problem("%s %s: no schema block", name, k->title);
        return;
    }
    char *title = dup_printf("%s %s - %s", name, k->title, provider);
    char *heading = dup_printf("%s (%s)", name, k->title);
    page pg;
    page_begin(&pg, path_join(examples, k->dir, name), dup_printf("%s %s", name, k->title),
               k->example, k->lang, title, heading, b->description);
    put_schema(pg.o, b, pg.where);
    if (k->importable) {
        char *sh_path = path_join(pg.folder, "import.sh", NULL);
        char *tf_path = path_join(pg.folder, "import.tf", NULL);
        char *id_path = path_join(pg.folder, "import-by-identity.tf", NULL);
        char *sh = read_file(sh_path), *tf = read_file(tf_path);
        char *idf = read_file(id_path);
        const Tfplugin6__ResourceIdentitySchema *is = identity_of(name);
        if (sh || tf || idf)
            fputs("## Import\n\n", pg.o);
        if (idf && !is) {
            problem("%s: import-by-identity.tf, but the resource has no "
                    "identity", pg.where);
        } else if (idf) {
            fputs("In Terraform v1.12.0 and later, an `import` block can name "
                  "the resource by its identity:\n\n", pg.o);
            put_code(pg.o, "terraform", idf);
            put_identity(pg.o, is, pg.where);
        }
        if (tf) {
            fputs("In Terraform v1.5.0 and later, use an `import` block:\n\n", pg.o);
            put_code(pg.o, "terraform", tf);
        }
        if (sh) {
            fputs(tf ? "The `terraform import` command works too:\n\n"
                     : "Import is supported using the following syntax:\n\n", pg.o);
            put_code(pg.o, "shell", sh);
        }
        free(sh); free(tf); free(idf); free(sh_path); free(tf_path);
        free(id_path);
    }
    page_end(&pg, outs, dup_printf("%s/%s.md", k->dir, shortname));
    free(title);
    free(heading);
}

static void page_provider(outputs *outs, const char *provider, const char *examples,
                          const Tfplugin6__Schema *s)
{
    const Tfplugin6__Schema__Block *b = s ? s->block : NULL;
    if (!b)
        die("the provider has no schema block");
    char *title = dup_printf("%s Provider", provider);
    page pg;
    page_begin(&pg, path_join(examples, "provider", NULL), dup_printf("%s provider", provider),
               "provider.tf", "terraform", title, title, b->description);
    put_schema(pg.o, b, pg.where);
    page_end(&pg, outs, dup_printf("index.md"));
    free(title);
}

static void page_function(outputs *outs, const char *provider, const char *examples,
                          const char *name, const Tfplugin6__Function *f)
{
    char *title = dup_printf("%s function - %s", name, provider);
    char *heading = dup_printf("function: %s", name);
    page pg;
    page_begin(&pg, path_join(examples, "functions", name), dup_printf("function %s", name),
               "function.tf", "terraform", title, heading,
               f->description[0] ? f->description : f->summary);
    FILE *o = pg.o;
    fputs("## Signature\n\n```text\n", o);
    fprintf(o, "%s(", name);
    for (size_t i = 0; i < f->n_parameters; i++) {
        json_t *t = parse_type(f->parameters[i]->type, pg.where);
        fprintf(o, "%s%s ", i ? ", " : "", f->parameters[i]->name);
        type_words(o, t);
        json_decref(t);
    }
    if (f->variadic_parameter)
        fprintf(o, "%s%s ...", f->n_parameters ? ", " : "", f->variadic_parameter->name);
    fputs(")", o);
    if (f->return_) {
        json_t *t = parse_type(f->return_->type, pg.where);
        fputs(" ", o);
        type_words(o, t);
        json_decref(t);
    }
    fputs("\n```\n\n## Arguments\n\n", o);
    for (size_t i = 0; i <= f->n_parameters; i++) {
        const Tfplugin6__Function__Parameter *p =
            i < f->n_parameters ? f->parameters[i] : f->variadic_parameter;
        if (!p)
            continue;
        json_t *t = parse_type(p->type, pg.where);
        fprintf(o, "%zu. `%s` (", i + 1, p->name);
        type_words(o, t);
        json_decref(t);
        fprintf(o, "%s) ", p == f->variadic_parameter ? ", Variadic" : "");
        if (p->description[0])
            put_description(o, p->description);
        else
            problem("%s: parameter %s has no description", pg.where, p->name);
        fputc('\n', o);
    }
    page_end(&pg, outs, dup_printf("functions/%s.md", name));
    free(title);
    free(heading);
}

/* Every example folder must name something the provider serves: a folder
 * left behind by a renamed or removed type is stale documentation. */
static void check_example_folders(const char *examples, const char *dir,
                                  const named_schema *v, size_t n,
                                  const Tfplugin6__GetProviderSchema__Response *r,
                                  bool functions)
{
    char *path = path_join(examples, dir, NULL);
    DIR *d = opendir(path);
    if (!d) {
        free(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = !strcmp(v[i].name, e->d_name);
        for (size_t i = 0; functions && i < r->n_functions && !found; i++)
            found = !strcmp(r->functions[i]->key, e->d_name);
        if (!found)
            problem("%s/%s: the provider has no %s named %s", path, e->d_name,
                    dir, e->d_name);
    }
    closedir(d);
    free(path);
}

/* ---- the schema, from the provider -------------------------------------------- */

/* Copies a response map (KEY, SCHEMA entries) into a sorted array. */
#define COLLECT(resp, field, out, n)                                           \
    do {                                                                       \
        (n) = (resp)->n_##field;                                               \
        (out) = calloc((n) + 1, sizeof *(out));                                \
        if (!(out))                                                            \
            die("out of memory");                                              \
        for (size_t i_ = 0; i_ < (n); i_++)                                    \
            (out)[i_] = (named_schema){(resp)->field[i_]->key,                 \
                                       (resp)->field[i_]->value};              \
        qsort((out), (n), sizeof *(out), by_name);                             \
    } while (0)

static void write_outputs(const char *outdir, outputs *outs)
{
    for (size_t i = 0; i < outs->n; i++) {
        char *full = path_join(outdir, outs->v[i].path, NULL);
        size_t dirlen = (size_t)(strrchr(full, '/') - full);
        char *dir = dup_printf("%.*s", (int)dirlen, full);
        mkdirs(dir);
        free(dir);
        FILE *f = fopen(full, "wb");
        if (!f || fwrite(outs->v[i].text, 1, outs->v[i].len, f) != outs->v[i].len ||
            fclose(f) != 0)
            die("%s: %s", full, strerror(errno));
        free(full);
    }
}

static int usage(FILE *f, int status)
{
    fputs("usage: docgen -provider NAME -examples DIR -o OUTDIR [-schema FILE]\n"
          "       docgen -dump-schema FILE [-dump-identities FILE]\n"
          "                  (the GetProviderSchema and GetResourceIdentitySchemas\n"
          "                  responses, protobuf binary)\n", f);
    return status;
}

/* A GetProviderSchema.Response from a file (protobuf binary). */
static Tfplugin6__GetProviderSchema__Response *schema_from_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0, n;
    uint8_t *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0)
        if ((len += n) == cap && !(buf = realloc(buf, cap *= 2)))
            break;
    if (!buf)
        die("out of memory");
    fclose(f);
    Tfplugin6__GetProviderSchema__Response *r =
        (Tfplugin6__GetProviderSchema__Response *)protobuf_c_message_unpack(
            &tfplugin6__get_provider_schema__response__descriptor, NULL, len, buf);
    free(buf);
    if (!r)
        die("%s: not a GetProviderSchema.Response", path);
    return r;
}

static int dump_schema(const char *path, const ProtobufCMessage *r);
static int write_docs(const char *provider, const char *examples, const char *outdir,
                      const Tfplugin6__GetProviderSchema__Response *r);

int main(int argc, char **argv)
{
    const char *provider = NULL, *examples = NULL, *outdir = NULL, *schema = NULL;
    const char *dump = NULL, *dump_ids = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "-dump-schema"))
            dump = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "-dump-identities"))
            dump_ids = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "-schema"))
            schema = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "-provider"))
            provider = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "-examples"))
            examples = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "-o"))
            outdir = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return usage(stdout, 0);
        else
            return usage(stderr, 2);
    }
    if (!dump && (!provider || !examples || !outdir))
        return usage(stderr, 2);
    if (dump_ids && (!dump || schema))
        return usage(stderr, 2);

    /* GetProviderSchema, as the server would run it (or from the file). */
    cr_rpc_provider *p = NULL;
    cr_call *call = NULL;
    Tfplugin6__GetProviderSchema__Response *from_file = NULL;
    const Tfplugin6__GetProviderSchema__Response *r;
    if (schema) {
        r = from_file = schema_from_file(schema);
    } else {
        p = cr_rpc_provider_new();
        const cr_method *m = cr_rpc_method("GetProviderSchema");
        call = p ? cr_call_new_detached(p) : NULL;
        if (!p || !m || !call)
            die("cannot start the provider in process");
        Tfplugin6__GetProviderSchema__Request req =
            TFPLUGIN6__GET_PROVIDER_SCHEMA__REQUEST__INIT;
        ProtobufCMessage *out = NULL;
        const char *msg = NULL;
        if (m->handler(call, &req.base, &out, &msg) != GRPC_STATUS_OK || !out)
            die("GetProviderSchema failed: %s", msg ? msg : "(no message)");
        r = (const Tfplugin6__GetProviderSchema__Response *)out;
        /* Identities, as Terraform >= 1.12 asks for them right after. */
        const cr_method *im = cr_rpc_method("GetResourceIdentitySchemas");
        Tfplugin6__GetResourceIdentitySchemas__Request ireq =
            TFPLUGIN6__GET_RESOURCE_IDENTITY_SCHEMAS__REQUEST__INIT;
        ProtobufCMessage *iout = NULL;
        if (!im || im->handler(call, &ireq.base, &iout, &msg) != GRPC_STATUS_OK ||
            !iout)
            die("GetResourceIdentitySchemas failed: %s", msg ? msg : "(no message)");
        identities = (const Tfplugin6__GetResourceIdentitySchemas__Response *)iout;
        for (size_t i = 0; i < identities->n_diagnostics; i++)
            if (identities->diagnostics[i]->severity ==
                TFPLUGIN6__DIAGNOSTIC__SEVERITY__ERROR)
                die("GetResourceIdentitySchemas: %s: %s",
                    identities->diagnostics[i]->summary,
                    identities->diagnostics[i]->detail);
    }
    for (size_t i = 0; i < r->n_diagnostics; i++)
        if (r->diagnostics[i]->severity == TFPLUGIN6__DIAGNOSTIC__SEVERITY__ERROR)
            die("GetProviderSchema: %s: %s", r->diagnostics[i]->summary,
                r->diagnostics[i]->detail);
    int status = dump ? dump_schema(dump, &r->base) : write_docs(provider, examples, outdir, r);
    if (status == 0 && dump_ids)
        status = dump_schema(dump_ids, &identities->base);
    if (call)
        cr_call_free_detached(call);
    cr_rpc_provider_free(p);
    if (from_file)
        protobuf_c_message_free_unpacked(&from_file->base, NULL);
    return status;
}

/* The bytes the server would send (bench/startup.mk serves them from a Go
 * provider). */
static int dump_schema(const char *path, const ProtobufCMessage *r)
{
    size_t n = protobuf_c_message_get_packed_size(r);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        die("out of memory");
    protobuf_c_message_pack(r, buf);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0)
        die("%s: cannot write", path);
    free(buf);
    return 0;
}

static int write_docs(const char *provider, const char *examples, const char *outdir,
                      const Tfplugin6__GetProviderSchema__Response *r)
{
    if (r->n_action_schemas || r->n_state_store_schemas)
        die("the provider serves actions or state stores: the Registry's page "
            "layout for them is not written here yet (release/docgen.c)");

    outputs outs = {0};
    page_provider(&outs, provider, examples, r->provider);

    named_schema *res, *ds, *eph, *lst;
    size_t nres, nds, neph, nlst;
    COLLECT(r, resource_schemas, res, nres);
    COLLECT(r, data_source_schemas, ds, nds);
    COLLECT(r, ephemeral_resource_schemas, eph, neph);
    COLLECT(r, list_resource_schemas, lst, nlst);
    for (size_t i = 0; i < nres; i++)
        page_type(&outs, provider, examples, &K_RESOURCE, &res[i]);
    for (size_t i = 0; i < nds; i++)
        page_type(&outs, provider, examples, &K_DATA, &ds[i]);
    for (size_t i = 0; i < neph; i++)
        page_type(&outs, provider, examples, &K_EPHEMERAL, &eph[i]);
    for (size_t i = 0; i < nlst; i++)
        page_type(&outs, provider, examples, &K_LIST, &lst[i]);
    for (size_t i = 0; i < r->n_functions; i++)
        page_function(&outs, provider, examples, r->functions[i]->key,
                      r->functions[i]->value);

    check_example_folders(examples, K_RESOURCE.dir, res, nres, r, false);
    check_example_folders(examples, K_DATA.dir, ds, nds, r, false);
    check_example_folders(examples, K_EPHEMERAL.dir, eph, neph, r, false);
    check_example_folders(examples, K_LIST.dir, lst, nlst, r, false);
    check_example_folders(examples, "functions", NULL, 0, r, true);

    int status = 0;
    if (nproblems > 0) {
        fprintf(stderr, "docgen: %d problem%s: nothing written\n", nproblems,
                nproblems == 1 ? "" : "s");
        status = 1;
    } else {
        write_outputs(outdir, &outs);
    }
    for (size_t i = 0; i < outs.n; i++) {
        free(outs.v[i].path);
        free(outs.v[i].text);
    }
    free(outs.v);
    free(res); free(ds); free(eph); free(lst);
    return status;
}
