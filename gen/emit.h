/*
 * gen/emit.h — turning a checked spec into the set of generated files.
 *
 * cg_generate renders every file in memory (modules/aws_event_cell,
 * modules/azure_event_cell and the root configuration); main.c then either
 * writes them or, for --check, compares them with what is on disk. The
 * emitters are split by concern: emit_module.c owns the interface both
 * modules share (variables, outputs, README), emit_aws.c and emit_azure.c
 * the resources, emit_root.c the root configuration, emit_edge.c the edge
 * router and its Cloudflare deployment.
 */
#ifndef CG_EMIT_H
#define CG_EMIT_H

#include "hcl.h"
#include "spec.h"

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
} cg_gen_opts;

/* Renders every file. Returns 0, or -1 with a message in *err (malloc'd)
 * when the directories cannot be related (see cg_relpath). */
int cg_generate(const cg_spec *s, const cg_gen_opts *o, cg_fileset *out, char **err);

/* Lexical relative path from directory `from` to `to` (each absolute or
 * relative to the working directory; "." and ".." resolved lexically).
 * malloc'd, or NULL when a path climbs above "/" or is too deep. */
char *cg_relpath(const char *from, const char *to);

/* ---- shared by the emitters -------------------------------------------- */

/* The two lines every generated file starts with (in a comment): the
 * modules' name no spec, since they are the same for every spec; the root
 * configuration's name the spec. No header carries a hash of the spec, so a
 * change to one cell rewrites only the files that show that cell. malloc'd,
 * "line\nline" without a final newline. */
char *cg_emit_header_text(const cg_gen_opts *o, bool module);
/* The header as HCL comments and a blank line, for a .tf file of the root
 * configuration or (module) of a module. */
void cg_emit_header(cg_hcl *h, const cg_gen_opts *o, bool module);
/* The same text as a Markdown comment for README.md. */
void cg_emit_md_header(cg_buf *b, const cg_gen_opts *o, bool module);

/* variables.tf and outputs.tf: identical for both clouds by construction
 * (one table drives both; only the output values differ). */
char *cg_emit_variables(const cg_gen_opts *o);
char *cg_emit_outputs(const cg_gen_opts *o, cg_cloud cloud);
char *cg_emit_module_readme(const cg_gen_opts *o, cg_cloud cloud);
char *cg_emit_versions(const cg_gen_opts *o, cg_cloud cloud);

/* The pieces both modules' main.tf files write alike (emit_module.c). */

/* Opens main.tf's `locals` block with the locals every cell defines: prefix
 * ("system-cell", the start of every resource name) and tags (the caller's
 * plus the cellrouter:* tags). The caller adds its cloud's locals, then
 * closes the block. */
void cg_emit_cell_locals_open(cg_hcl *h);
/* `for_each = var.consumers` and a blank line: opens a per consumer
 * resource (each.key is the consumer's name, each.value its settings). */
void cg_emit_for_each_consumer(cg_hcl *h);
/* Opens `terraform {` with the Terraform version every generated
 * configuration requires, and its `required_providers {`: the caller writes
 * the entries and closes both blocks. */
void cg_emit_requirements_open(cg_hcl *h);
/* The cloud's entry in required_providers (`aws = { ... }`), with the one
 * version constraint the modules and the root configuration share. */
void cg_emit_required_provider(cg_hcl *h, cg_cloud cloud);
/* Any entry in required_providers; version NULL writes none. */
void cg_emit_provider_requirement(cg_hcl *h, const char *name, const char *source,
                                  const char *version);

char *cg_emit_aws_main(const cg_gen_opts *o);
char *cg_emit_azure_main(const cg_gen_opts *o);

/* The root configuration: README.md, versions.tf, providers.tf, main.tf,
 * tenants.tf, outputs.tf under o->out_dir. */
void cg_emit_root(const cg_spec *s, const cg_gen_opts *o, const char *module_rel, cg_fileset *out);
/* The edge (emit_edge.c): edge.tf, edge/worker.js and edge/wrangler.toml
 * under o->out_dir. */
void cg_emit_edge(const cg_spec *s, const cg_gen_opts *o, cg_fileset *out);

#endif
