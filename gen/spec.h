/*
 * gen/spec.h — the cell spec: what a team writes in YAML, checked and turned
 * into a model the emitters read.
 *
 * cg_spec_parse reads a YAML tree (yamltree.h) against the spec's schema
 * (the same one schemas/cellspec.schema.json documents) and checks every
 * rule it can: unknown keys, wrong types, ranges, duplicate ids, unknown
 * clouds, placement on cells that do not exist, standby equal to primary,
 * and the naming rules of the resources the modules will create (naming.h).
 * It reports all problems at once; a spec with any problem yields no model.
 */
#ifndef CG_SPEC_H
#define CG_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "yamltree.h"

typedef enum cg_cloud { CG_AWS = 1, CG_AZURE } cg_cloud;

/* key = value pairs in spec order (tags, labels). */
typedef struct cg_kv {
    char *key, *value;
} cg_kv;

typedef struct cg_kvlist {
    cg_kv *items;
    size_t len;
} cg_kvlist;

typedef struct cg_consumer {
    char *name;
    char *handler;
    long batch_size;
    long timeout_seconds;
    long max_retries;
    long retention_seconds;
} cg_consumer;

typedef struct cg_cell {
    char *id;
    cg_cloud cloud;
    char *region;       /* AWS region or Azure location */
    cg_kvlist tags;     /* spec-wide tags merged with the cell's own */
    int line, col;      /* of the cell's id */
} cg_cell;

typedef struct cg_tenant {
    char *id;
    size_t cell;        /* index into cells */
    long standby;       /* index into cells, -1 = none */
    cg_kvlist labels;
} cg_tenant;

typedef struct cg_spec {
    char *system;
    char *table;            /* logical table/container name */
    char *partition_key;
    char *topic;
    cg_consumer *consumers;
    size_t nconsumers;
    char *language;         /* "python" or "node" */
    char *runtime_version;
    long memory_mb;
    char *ingest_handler;
    char *forwarder_handler;
    char *package_aws;      /* s3://bucket/key; NULL when no AWS cell */
    char *package_azure;    /* https URL; NULL when no Azure cell */
    cg_cell *cells;
    size_t ncells;
    cg_tenant *tenants;
    size_t ntenants;
} cg_spec;

/* Checks root and fills *out. Returns 0, or -1 with diagnostics in d (then
 * *out is left empty). */
int  cg_spec_parse(const cg_ynode *root, cg_spec *out, cg_diags *d);
/* Reads, loads and parses a spec held in memory. */
int  cg_spec_load(const char *text, size_t len, cg_spec *out, cg_diags *d);
void cg_spec_free(cg_spec *s);

const char *cg_cloud_name(cg_cloud c);

/* The keys a section accepts ("spec", "pipeline", "consumer", "runtime",
 * "packages", "cell", "tenant"), NULL-terminated; NULL for others. */
const char *const *cg_spec_keys(const char *section);

#endif
