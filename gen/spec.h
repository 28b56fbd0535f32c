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

/* The network a cell's container workers run in (cells[].network): an AWS
 * VPC and its subnets, or an Azure virtual network and the subnet of the
 * Container Apps environment. id NULL: none given. */
typedef struct cg_network {
    char *id;
    char **subnets;
    size_t nsubnets;
} cg_network;

/* The label/tag that names where a tenant's or a cell's data must stay. */
#define CG_RESIDENCY_KEY "data-residency"

typedef struct cg_cell {
    char *id;
    cg_cloud cloud;
    char *region;       /* AWS region or Azure location */
    cg_kvlist tags;     /* spec-wide tags merged with the cell's own */
    cg_network network;
    int line, col;      /* of the cell's id */
} cg_cell;

typedef struct cg_tenant {
    char *id;
    size_t cell;        /* index into cells */
    long standby;       /* index into cells, -1 = none */
    cg_kvlist labels;
} cg_tenant;

typedef enum cg_runtime_kind { CG_RT_FUNCTION = 0, CG_RT_CONTAINER } cg_runtime_kind;

/* runtime.container: the consumers as containers, one image for both
 * clouds (ECS Fargate services / Container Apps). */
typedef struct cg_container {
    char *image;
    char *cpu;                  /* vCPUs as written: "0.25", "0.5", "1", "2" or "4" */
    long min_workers, max_workers;
    long messages_per_worker;   /* queue depth one worker is scaled for */
} cg_container;

typedef enum cg_ci_provider { CG_CI_NONE = 0, CG_CI_GITHUB, CG_CI_GITLAB } cg_ci_provider;

/* ci: the pipeline that deploys the cells, and its OIDC identities. */
typedef struct cg_ci {
    cg_ci_provider provider;
    char *repository;           /* owner/repo (GitHub), group/project path (GitLab) */
    char *issuer;               /* the CI's OIDC issuer URL */
    bool plan_pull_requests;    /* GitHub: pull requests may plan */
    char **plan_branches;
    size_t nplan_branches;
    char *apply_branch;
    char *apply_environment;    /* NULL: none */
    char *cellgen;              /* the command that runs cellgen in the pipeline */
    char *terraform_version;
} cg_ci;

typedef enum cg_obs_dest { CG_OBS_NONE = 0, CG_OBS_OTLP, CG_OBS_DATADOG, CG_OBS_NEWRELIC, CG_OBS_ELASTIC } cg_obs_dest;

/* observability: the one destination of every cell's logs and metrics,
 * and the reference to its key in each cloud's secret store. */
typedef struct cg_observability {
    cg_obs_dest destination;
    char *endpoint;             /* otlp: OTLP/HTTP base URL; elastic: Elasticsearch URL */
    char *firehose_endpoint;    /* otlp: the gateway's Firehose (HTTP endpoint) receiver */
    char *site;                 /* datadog: its site; newrelic: us or eu */
    char *key_aws;              /* Secrets Manager secret ARN */
    char *key_azure;            /* Key Vault secret id (versionless URL) */
    char *key_vault_id;         /* the Key Vault's resource id */
} cg_observability;

/* failover: the edge router's prober (its cron trigger and settings). With
 * no failover section, automatic is false and the rest are the defaults:
 * the router still follows the cell states operators set with cellctl. */
typedef struct cg_failover {
    bool automatic;             /* the prober runs (a cron trigger) */
    char *schedule;             /* the cron expression (UTC), 5 fields */
    long failures;              /* failed probes in a row that fail a serving cell */
    long successes;             /* passed probes in a row that restore it */
    long probe_timeout_seconds;
    long max_down_percent;      /* fail-static: more cells than this share down, no change */
    long states_cache_seconds;  /* how long a router isolate keeps the cell states */
} cg_failover;

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
    cg_runtime_kind runtime_kind;
    cg_container container; /* runtime.kind: container */
    cg_cell *cells;
    size_t ncells;
    cg_tenant *tenants;
    size_t ntenants;
    cg_ci ci;               /* provider CG_CI_NONE: no ci section */
    cg_observability obs;   /* destination CG_OBS_NONE: no observability section */
    cg_failover failover;
} cg_spec;

/* Checks root and fills *out. Returns 0, or -1 with diagnostics in d (then
 * *out is left empty). */
int  cg_spec_parse(const cg_ynode *root, cg_spec *out, cg_diags *d);
/* Reads, loads and parses a spec held in memory. */
int  cg_spec_load(const char *text, size_t len, cg_spec *out, cg_diags *d);
void cg_spec_free(cg_spec *s);

const char *cg_cloud_name(cg_cloud c);
/* The residency a cell's tags give it (CG_RESIDENCY_KEY), or NULL. */
const char *cg_cell_residency(const cg_cell *c);
const char *cg_obs_dest_name(cg_obs_dest d);

/* The keys a section accepts ("spec", "pipeline", "consumer", "runtime",
 * "packages", "container", "cell", "network", "tenant", "ci", "ci.plan",
 * "ci.apply", "observability", "observability.key", "failover"), NULL-terminated;
 * NULL for others. */
const char *const *cg_spec_keys(const char *section);

#endif
