/*
 * gen/generate.c — the generated files: which templates go where, with
 * which values, under which header (see generate.h).
 */
#include "generate.h"
#include "hcl.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cg_fileset_add(cg_fileset *fs, char *path, char *content)
{
    if (fs->len == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 16;
        fs->items = cg_xrealloc(fs->items, fs->cap * sizeof *fs->items);
    }
    fs->items[fs->len++] = (cg_file){ path, content, strlen(content) };
}

void cg_fileset_free(cg_fileset *fs)
{
    for (size_t i = 0; i < fs->len; i++) {
        free(fs->items[i].path);
        free(fs->items[i].content);
    }
    free(fs->items);
    fs->items = NULL;
    fs->len = fs->cap = 0;
}

/* Splits an absolute or relative path into components with "." removed
 * and ".." applied. Returns the count, or -1 when ".." climbs above the
 * start. parts point into buf (modified). */
static int components(char *buf, char **parts, int max)
{
    int n = 0;
    for (char *tok = strtok(buf, "/"); tok; tok = strtok(NULL, "/")) {
        if (!strcmp(tok, ".")) continue;
        if (!strcmp(tok, "..")) {
            if (n == 0) return -1;
            n--;
            continue;
        }
        if (n == max) return -1;
        parts[n++] = tok;
    }
    return n;
}

char *cg_relpath(const char *from, const char *to)
{
    enum { MAXP = 256 };
    /* Both made absolute against the working directory, so "../x" and
     * "/abs" mix freely; symlinks are not resolved, which keeps the result
     * a function of the arguments alone (deterministic output). */
    char cwd[4096] = "/";
    if ((from[0] != '/' || to[0] != '/') && !getcwd(cwd, sizeof cwd)) return NULL;
    char *a = from[0] == '/' ? cg_xstrdup(from) : cg_xasprintf("%s/%s", cwd, from);
    char *b = to[0] == '/' ? cg_xstrdup(to) : cg_xasprintf("%s/%s", cwd, to);
    char **pa = cg_xmalloc(MAXP * sizeof *pa), **pb = cg_xmalloc(MAXP * sizeof *pb);
    int na = components(a, pa, MAXP), nb = components(b, pb, MAXP);
    char *res = NULL;
    if (na >= 0 && nb >= 0) {
        int common = 0;
        while (common < na && common < nb && !strcmp(pa[common], pb[common])) common++;
        cg_buf r = {0};
        for (int i = common; i < na; i++) cg_buf_puts(&r, r.len ? "/.." : "..");
        for (int i = common; i < nb; i++) {
            if (r.len) cg_buf_putc(&r, '/');
            cg_buf_puts(&r, pb[i]);
        }
        if (!r.len) cg_buf_putc(&r, '.');
        res = cg_buf_steal(&r);
    }
    free(pa);
    free(pb);
    free(a);
    free(b);
    return res;
}

/* ---- the modules ----------------------------------------------------------- */

static const struct { const char *name; cg_cloud cloud; } modules[] = {
    { "aws_event_cell", CG_AWS },
    { "azure_event_cell", CG_AZURE },
};

const char *cg_module_name(cg_cloud c)
{
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
        if (modules[i].cloud == c) return modules[i].name;
    return NULL;
}

/* The values of a module's templates: its name, and which cloud it is for
 * (the shared README says what differs). Nothing from the spec: the
 * modules are generic, the same bytes for every spec. */
static cg_tpl_vars *module_values(const char *name, size_t len, char **err)
{
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++) {
        if (strlen(modules[i].name) != len || memcmp(modules[i].name, name, len)) continue;
        cg_tpl_vars *v = cg_tpl_vars_new();
        cg_tpl_set(v, "module", modules[i].name);
        cg_tpl_when(v, "aws", modules[i].cloud == CG_AWS);
        cg_tpl_when(v, "azure", modules[i].cloud == CG_AZURE);
        return v;
    }
    *err = cg_xasprintf("gen/templates/modules/%.*s: no cloud is known for this module (generate.c)", (int)len,
                        name);
    return NULL;
}

/* ---- headers ------------------------------------------------------------- */

/* How each kind of file says "generated, do not edit": a file type without
 * an entry here cannot be a template until it gets one (JSON, which has no
 * comments, would get an entry whose `first` is NULL: no header). */
static const struct { const char *ext, *first, *next, *last; } comment_styles[] = {
    { ".tf", "# ", "# ", "" },
    { ".toml", "# ", "# ", "" },
    { ".js", "// ", "// ", "" },
    { ".md", "<!-- ", "     ", " -->" },
    { ".yml", "# ", "# ", "" },
    { ".json", NULL, NULL, NULL },  /* JSON has no comments: no header (the README says it is generated) */
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !memcmp(s + n - k, suffix, k);
}

/* The spec's file name as header text: no control characters (a newline
 * would end the comment) and no "-->" (it would end a Markdown comment). */
static char *printable_name(const char *s)
{
    char *r = cg_xstrdup(s);
    for (char *p = r; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
        if (*p == '>' && p - r >= 2 && p[-1] == '-' && p[-2] == '-') *p = '?';
    }
    return r;
}

/* ---- rendering ------------------------------------------------------------ */

typedef struct job {
    cg_fileset *out;
    const char *header[2];
    char **err;
} job;

/* Renders t with v into the file `path` (taken): header, body, and for
 * .tf files hclwrite's alignment. */
static int emit(const job *j, const cg_tpl *t, const cg_tpl_vars *v, char *path)
{
    size_t style = 0, nstyles = sizeof comment_styles / sizeof comment_styles[0];
    while (style < nstyles && !ends_with(t->path, comment_styles[style].ext)) style++;
    if (style == nstyles) {
        *j->err = cg_xasprintf("gen/templates/%s: no comment syntax is known for this kind of file (generate.c)",
                               t->path);
        free(path);
        return -1;
    }
    cg_buf body = {0};
    if (cg_tpl_render(t, v, &body, j->err) != 0) {
        cg_buf_free(&body);
        free(path);
        return -1;
    }
    /* A template that renders to nothing is a file the spec does not ask
     * for (ci.tf without a ci section, the other CI system's pipeline). */
    if (body.len == 0) {
        cg_buf_free(&body);
        free(path);
        return 0;
    }
    cg_buf file = {0};
    if (comment_styles[style].first)
        cg_buf_printf(&file, "%s%s\n%s%s%s\n\n", comment_styles[style].first, j->header[0],
                      comment_styles[style].next, j->header[1], comment_styles[style].last);
    if (ends_with(t->path, ".tf")) cg_hcl_align(body.p ? body.p : "", body.len, &file);
    else cg_buf_put(&file, body.p ? body.p : "", body.len);
    cg_buf_free(&body);
    cg_fileset_add(j->out, path, cg_buf_steal(&file));
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const cg_file *)a)->path, ((const cg_file *)b)->path);
}

/* Every module: its own templates (modules/NAME/F) and the shared ones
 * (modules/F). */
static int emit_modules(const job *j, const cg_gen_opts *o)
{
    job mj = *j;
    mj.header[0] = "Generated by cellgen; the same for every spec.";
    mj.header[1] = "Do not edit: change cellgen's templates (gen/templates/modules) and run cellgen.";
    const char *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < cg_tpl_count; i++) {
        const char *p = cg_tpl_all[i].path;
        if (strncmp(p, "modules/", 8)) continue;
        const char *name = p + 8, *slash = strchr(name, '/');
        if (!slash) continue;
        size_t len = (size_t)(slash - name);
        if (prev && prev_len == len && !memcmp(prev, name, len)) continue;
        prev = name;
        prev_len = len;
        /* a new module: every template for it */
        cg_tpl_vars *v = module_values(name, len, j->err);
        if (!v) return -1;
        int rc = 0;
        for (size_t k = 0; k < cg_tpl_count && rc == 0; k++) {
            const char *q = cg_tpl_all[k].path;
            if (strncmp(q, "modules/", 8)) continue;
            const char *rest = q + 8, *s2 = strchr(rest, '/');
            bool own = s2 && (size_t)(s2 - rest) == len && !memcmp(rest, name, len);
            if (own) rest = s2 + 1;
            else if (s2) continue;
            rc = emit(&mj, &cg_tpl_all[k], v, cg_xasprintf("%s/%.*s/%s", o->modules_dir, (int)len, name, rest));
        }
        cg_tpl_vars_free(v);
        if (rc != 0) return -1;
    }
    return 0;
}

int cg_generate(const cg_spec *s, const cg_gen_opts *o, cg_fileset *out, char **err)
{
    char *rel = cg_relpath(o->out_dir, o->modules_dir);
    if (!rel) {
        *err = cg_xasprintf("cannot express the modules directory %s relative to %s", o->modules_dir,
                            o->out_dir);
        return -1;
    }
    char *spec_name = printable_name(o->spec_name);
    char *from = cg_xasprintf("Generated by cellgen from %s.", spec_name);
    job j = { out, { from, "Do not edit: change the spec and run cellgen." }, err };
    int rc = emit_modules(&j, o);
    cg_tpl_vars *v = rc == 0 ? cg_root_values(s, o, rel, err) : NULL;
    if (!v) rc = -1;
    const char *ci_dir = o->ci_dir ? o->ci_dir : o->out_dir;
    for (size_t i = 0; i < cg_tpl_count && rc == 0; i++) {
        const char *p = cg_tpl_all[i].path;
        if (!strncmp(p, "root/", 5))
            rc = emit(&j, &cg_tpl_all[i], v, cg_xasprintf("%s/%s", o->out_dir, p + 5));
        else if (!strncmp(p, "ci/", 3))
            rc = emit(&j, &cg_tpl_all[i], v, cg_xasprintf("%s/%s", ci_dir, p + 3));
    }
    cg_tpl_vars_free(v);
    free(from);
    free(spec_name);
    free(rel);
    if (rc == 0) qsort(out->items, out->len, sizeof *out->items, by_path);
    return rc;
}
