/*
 * gen/generate.h — turning a checked spec into the set of generated files.
 *
 * cg_generate renders every file in memory; main.c then either writes them
 * or, for --check, compares them with what is on disk. The files are the
 * embedded templates (template.h), placed by their folder:
 *   modules/<name>/F   ->  MODULES_DIR/<name>/F   (one module per folder)
 *   modules/F          ->  MODULES_DIR/<name>/F   for every module (what
 *                          the matched modules share: variables.tf, README)
 *   root/F             ->  OUT_DIR/F              (the root configuration)
 *   ci/F               ->  CI_DIR/F               (the pipeline of a ci section;
 *                          CI_DIR defaults to OUT_DIR)
 * A template that renders to nothing is not written: the files a spec does
 * not ask for (no ci section, the other CI system) are wrapped whole in a
 * condition.
 * The modules do not depend on the spec; the root configuration's values
 * come from values.c. Every file starts with a header in its language's
 * comment syntax, and every .tf file is aligned as `terraform fmt` does
 * (cg_hcl_align).
 */
#ifndef CG_GENERATE_H
#define CG_GENERATE_H

#include "spec.h"
#include "template.h"

typedef struct cg_file {
    char *path;         /* relative to the current directory */
    char *content;
    size_t len;
} cg_file;

typedef struct cg_fileset {
    cg_file *items;
    size_t len, cap;
} cg_fileset;

/* Takes ownership of path and content. */
void cg_fileset_add(cg_fileset *fs, char *path, char *content);
void cg_fileset_free(cg_fileset *fs);

typedef struct cg_gen_opts {
    const char *spec_name;      /* shown in the root configuration's headers */
    const char *out_dir;        /* root configuration, e.g. examples/multicloud */
    const char *modules_dir;    /* e.g. modules */
    const char *spec_path;      /* the spec as given, for the pipeline's commands (NULL: spec_name) */
    const char *ci_dir;         /* where the pipeline goes (NULL: out_dir) */
} cg_gen_opts;

/* Renders every file, sorted by path. Returns 0, or -1 with a message in
 * *err (malloc'd) when the directories cannot be related (see cg_relpath)
 * or a template and the values disagree (a defect the tests catch). */
int cg_generate(const cg_spec *s, const cg_gen_opts *o, cg_fileset *out, char **err);

/* Lexical relative path from directory `from` to `to` (each absolute or
 * relative to the working directory; "." and ".." resolved lexically).
 * malloc'd, or NULL when a path climbs above "/" or is too deep. */
char *cg_relpath(const char *from, const char *to);

/* The module folder that deploys a cell on cloud c ("aws_event_cell"). */
const char *cg_module_name(cg_cloud c);

/* The values of the root configuration's and the pipeline's templates
 * (values.c): what the spec decides. modules_rel is the modules directory
 * relative to OUT_DIR. The caller frees the result with cg_tpl_vars_free.
 * NULL with a message in *err when the pipeline's paths cannot be written
 * (a directory outside the working directory). */
cg_tpl_vars *cg_root_values(const cg_spec *s, const cg_gen_opts *o, const char *modules_rel, char **err);

#endif
