/*
 * gen/generate.c — the list of generated files and where they go.
 */
#include "emit.h"

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

int cg_generate(const cg_spec *s, const cg_gen_opts *o, cg_fileset *out, char **err)
{
    char *rel = cg_relpath(o->out_dir, o->modules_dir);
    if (!rel) {
        *err = cg_xasprintf("cannot express the modules directory %s relative to %s", o->modules_dir,
                            o->out_dir);
        return -1;
    }
    static const struct { const char *dir; cg_cloud cloud; } mods[] = {
        { "aws_event_cell", CG_AWS }, { "azure_event_cell", CG_AZURE },
    };
    for (size_t i = 0; i < 2; i++) {
        const char *d = mods[i].dir;
        cg_cloud c = mods[i].cloud;
        cg_fileset_add(out, cg_xasprintf("%s/%s/versions.tf", o->modules_dir, d), cg_emit_versions(o, c));
        cg_fileset_add(out, cg_xasprintf("%s/%s/variables.tf", o->modules_dir, d), cg_emit_variables(o));
        cg_fileset_add(out, cg_xasprintf("%s/%s/main.tf", o->modules_dir, d),
                       c == CG_AWS ? cg_emit_aws_main(o) : cg_emit_azure_main(o));
        cg_fileset_add(out, cg_xasprintf("%s/%s/outputs.tf", o->modules_dir, d), cg_emit_outputs(o, c));
        cg_fileset_add(out, cg_xasprintf("%s/%s/README.md", o->modules_dir, d), cg_emit_module_readme(o, c));
    }
    cg_emit_root(s, o, rel, out);
    cg_emit_edge(s, o, out);
    free(rel);
    return 0;
}
