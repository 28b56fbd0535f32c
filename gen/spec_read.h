/*
 * gen/spec_read.h — the spec reader's typed accessors, shared by the files
 * that read one part of the spec (spec.c: the pipeline, runtime, cells and
 * tenants; spec_ops.c: ci, observability, container workers, networks and
 * data residency). Internal to the spec reader: the emitters read cg_spec.
 *
 * Every accessor reports a wrong type or an out-of-range value at the
 * node's own line and column and returns "nothing" (NULL / false), so a
 * reader carries on and one run lists every problem.
 */
#ifndef CG_SPEC_READ_H
#define CG_SPEC_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "spec.h"

typedef struct cg_reader {
    cg_diags *d;
    size_t errors;
} cg_reader;

void cg_rd_err(cg_reader *r, const cg_ynode *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reports every key of map not in allowed (NULL-terminated), with a hint
 * for likely typos. */
void cg_rd_keys(cg_reader *r, const cg_ynode *map, const char *where, const char *const *allowed);
/* map[key], or NULL after reporting it missing. */
const cg_ynode *cg_rd_need(cg_reader *r, const cg_ynode *map, const char *key, const char *where);
bool cg_rd_map(cg_reader *r, const cg_ynode *n, const char *what);
bool cg_rd_list(cg_reader *r, const cg_ynode *n, const char *what);
/* A string scalar (a plain scalar YAML reads as a number, a boolean or
 * null is refused). Borrowed from the tree. */
const char *cg_rd_str(cg_reader *r, const cg_ynode *n, const char *what);
bool cg_rd_int(cg_reader *r, const cg_ynode *n, const char *what, long min, long max, long *out);
/* A lowercase name: letter first, letters/digits/'-', not ending in '-'. */
const char *cg_rd_name(cg_reader *r, const cg_ynode *n, const char *what, size_t max);
/* Strict UTF-8 without control characters. */
bool cg_rd_printable(const char *s);

/* A boolean (true/false); false and a diagnostic when it is not one. */
bool cg_rd_bool(cg_reader *r, const cg_ynode *n, const char *what, bool *out);

/* spec_ops.c: the sections that make the cells operable. Each reads its
 * part of root into s and checks it against what is already read (the
 * cells' clouds, the runtime). */
void cg_rd_container(cg_reader *r, const cg_ynode *n, cg_spec *s);
void cg_rd_network(cg_reader *r, const cg_ynode *n, const cg_spec *s, cg_cell *c);
void cg_rd_networks_apart(cg_reader *r, const cg_ynode *cells, const cg_spec *s);
void cg_rd_ci(cg_reader *r, const cg_ynode *n, cg_spec *s);
void cg_rd_observability(cg_reader *r, const cg_ynode *n, cg_spec *s);
/* n NULL: no failover section (the defaults, automatic off). */
void cg_rd_failover(cg_reader *r, const cg_ynode *n, cg_spec *s);
void cg_rd_residency(cg_reader *r, const cg_ynode *tenant, const cg_spec *s, const cg_tenant *t);
void cg_ops_free(cg_spec *s);
/* The keys of the sections spec_ops.c reads (see cg_spec_keys). */
const char *const *cg_ops_keys(const char *section);

#endif
