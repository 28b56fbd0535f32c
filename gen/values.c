/*
 * gen/values.c — what the spec decides, as the values the root
 * configuration's templates (gen/templates/root/) are filled with.
 *
 * The templates hold all of the Terraform, Markdown and TOML; this file
 * only names values: the pipeline settings, one item per consumer, cell,
 * AWS region and tenant, and the few literals only C can write safely (the
 * free-form tags and labels, the packages of the clouds in use). Strings
 * that fill a hole inside HCL quotes are escaped with cg_hcl_escape even
 * where spec.c already restricts them to plain characters, so a looser
 * rule there can never open a template sequence here.
 *
 * Tenants are data, not code: they go into tenants.json, one tenant per
 * line (a move is a one-line diff in review), which tenants.tf hands to one
 * cellrouter_tenants resource as the fleet's JSON document, so a spec with
 * 100,000 tenants yields one resource and one string in Terraform rather
 * than 100,000 resource blocks. C writes that JSON, escaping every string.
 */
#include "generate.h"
#include "hcl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* "aws-alpha" -> "aws_alpha": cell ids and regions are [a-z][a-z0-9-]*
 * (spec.c), so the mapping is injective and the result an HCL identifier. */
static char *ident(const char *s)
{
    char *r = cg_xstrdup(s);
    for (char *p = r; *p; p++)
        if (*p == '-') *p = '_';
    return r;
}

static void set_str(cg_tpl_vars *v, const char *name, const char *s)
{
    cg_tpl_set_owned(v, name, cg_hcl_escape(s));
}

/* A whole HCL expression: the quoted string, or null. */
static void set_quoted_or_null(cg_tpl_vars *v, const char *name, const char *s)
{
    cg_tpl_set_owned(v, name, s ? cg_hcl_quote(s) : cg_xstrdup("null"));
}

/* ["a", "b"] */
static char *quoted_list(char *const *items, size_t n)
{
    cg_buf b = {0};
    cg_buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++) {
        char *q = cg_hcl_quote(items[i]);
        cg_buf_printf(&b, "%s%s", i ? ", " : "", q);
        free(q);
    }
    cg_buf_putc(&b, ']');
    return cg_buf_steal(&b);
}

static bool uses(const cg_spec *s, cg_cloud c)
{
    for (size_t i = 0; i < s->ncells; i++)
        if (s->cells[i].cloud == c) return true;
    return false;
}

static void pipeline(cg_tpl_vars *v, const cg_spec *s)
{
    set_str(v, "system", s->system);
    set_str(v, "table_name", s->table);
    set_str(v, "partition_key", s->partition_key);
    set_str(v, "topic_name", s->topic);
    set_str(v, "ingest_handler", s->ingest_handler);
    set_str(v, "forwarder_handler", s->forwarder_handler);
    set_str(v, "language", s->language);
    set_str(v, "runtime_version", s->runtime_version);
    cg_tpl_setf(v, "memory_mb", "%ld", s->memory_mb);
    cg_tpl_list(v, "consumers");
    for (size_t i = 0; i < s->nconsumers; i++) {
        const cg_consumer *c = &s->consumers[i];
        cg_tpl_vars *it = cg_tpl_item(v, "consumers");
        cg_tpl_set_owned(it, "name", cg_hcl_key(c->name));
        set_str(it, "handler", c->handler);
        cg_tpl_setf(it, "batch_size", "%ld", c->batch_size);
        cg_tpl_setf(it, "timeout_seconds", "%ld", c->timeout_seconds);
        cg_tpl_setf(it, "max_retries", "%ld", c->max_retries);
        cg_tpl_setf(it, "retention_seconds", "%ld", c->retention_seconds);
    }
    /* Only the clouds in use have a package. */
    cg_kv pk[2];
    cg_kvlist packages = { pk, 0 };
    if (s->package_aws) pk[packages.len++] = (cg_kv){ "aws", s->package_aws };
    if (s->package_azure) pk[packages.len++] = (cg_kv){ "azure", s->package_azure };
    cg_tpl_set_owned(v, "packages", cg_hcl_object(&packages, false));
}

static void cells(cg_tpl_vars *v, const cg_spec *s)
{
    size_t *primary = cg_xcalloc(s->ncells, sizeof *primary);
    size_t *standby = cg_xcalloc(s->ncells, sizeof *standby);
    for (size_t i = 0; i < s->ntenants; i++) {
        primary[s->tenants[i].cell]++;
        if (s->tenants[i].standby >= 0) standby[s->tenants[i].standby]++;
    }
    cg_tpl_list(v, "cells");
    cg_tpl_list(v, "aws_regions");
    cg_strset seen = {0};
    for (size_t i = 0; i < s->ncells; i++) {
        const cg_cell *c = &s->cells[i];
        cg_tpl_vars *it = cg_tpl_item(v, "cells");
        set_str(it, "id", c->id);
        cg_tpl_set_owned(it, "ident", ident(c->id));
        set_str(it, "region", c->region);
        cg_tpl_set(it, "cloud", cg_cloud_name(c->cloud));
        cg_tpl_set(it, "cloud_title", c->cloud == CG_AWS ? "AWS" : "Azure");
        cg_tpl_set(it, "module", cg_module_name(c->cloud));
        cg_tpl_set_owned(it, "tags", cg_hcl_object(&c->tags, true));
        cg_tpl_setf(it, "primary_tenants", "%zu", primary[i]);
        cg_tpl_setf(it, "standby_tenants", "%zu", standby[i]);
        /* An AWS cell's module gets the provider of its region, which
         * providers.tf declares once per region in use. */
        cg_tpl_list(it, "aws");
        cg_tpl_when(it, "azure", c->cloud == CG_AZURE);
        bool first_in_region = false;
        if (c->cloud == CG_AWS) {
            cg_tpl_set_owned(cg_tpl_item(it, "aws"), "region_alias", ident(c->region));
            if (cg_strset_add(&seen, c->region)) {
                first_in_region = true;
                cg_tpl_vars *r = cg_tpl_item(v, "aws_regions");
                cg_tpl_set_owned(r, "alias", ident(c->region));
                set_str(r, "region", c->region);
            }
        }
        /* A metric stream selects by namespace, so one cell per region
         * carries the region's (modules/aws_event_cell/telemetry.tf). */
        cg_tpl_set(it, "metric_stream", first_in_region ? "true" : "false");
        cg_tpl_list(it, "network");
        if (c->network.id) {
            cg_tpl_vars *n = cg_tpl_item(it, "network");
            set_str(n, "network_id", c->network.id);
            cg_tpl_set_owned(n, "subnet_ids", quoted_list(c->network.subnets, c->network.nsubnets));
        }
    }
    cg_strset_free(&seen);
    free(primary);
    free(standby);
}

/* A JSON string (RFC 8259): '"', '\\' and control characters escaped; the
 * spec's strings are UTF-8 already (spec.c checks them). */
static void json_str(cg_buf *b, const char *s)
{
    cg_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') cg_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20) cg_buf_printf(b, "\\u%04x", *p);
        else cg_buf_putc(b, (char)*p);
    }
    cg_buf_putc(b, '"');
}

/* tenants.json: {"id": {"cell_id": ..., "standby_cell_id": ... or null,
 * "labels": {...}}, ...}, one tenant per line in spec order. */
static char *tenants_json(const cg_spec *s)
{
    cg_buf b = {0};
    cg_buf_puts(&b, s->ntenants ? "{\n" : "{}");
    for (size_t i = 0; i < s->ntenants; i++) {
        const cg_tenant *t = &s->tenants[i];
        cg_buf_puts(&b, "  ");
        json_str(&b, t->id);
        cg_buf_puts(&b, ": {\"cell_id\": ");
        json_str(&b, s->cells[t->cell].id);
        cg_buf_puts(&b, ", \"standby_cell_id\": ");
        if (t->standby >= 0) json_str(&b, s->cells[t->standby].id);
        else cg_buf_puts(&b, "null");
        cg_buf_puts(&b, ", \"labels\": {");
        for (size_t k = 0; k < t->labels.len; k++) {
            cg_buf_puts(&b, k ? ", " : "");
            json_str(&b, t->labels.items[k].key);
            cg_buf_puts(&b, ": ");
            json_str(&b, t->labels.items[k].value);
        }
        cg_buf_puts(&b, i + 1 < s->ntenants ? "}},\n" : "}}\n}");
    }
    return cg_buf_steal(&b);
}

static void tenants(cg_tpl_vars *v, const cg_spec *s)
{
    cg_tpl_set_owned(v, "tenants_json", tenants_json(s));
    cg_tpl_setf(v, "tenant_total", "%zu tenant%s", s->ntenants, s->ntenants == 1 ? "" : "s");
}

/* failover: the router's settings, which edge.tf (plain-text bindings)
 * and edge/wrangler.toml ([vars]) both give the Worker, and its cron
 * trigger when the prober runs. */
static void failover(cg_tpl_vars *v, const cg_spec *s)
{
    const cg_failover *f = &s->failover;
    cg_tpl_set(v, "failover_automatic", f->automatic ? "true" : "false");
    cg_tpl_setf(v, "failover_failures", "%ld", f->failures);
    cg_tpl_setf(v, "failover_successes", "%ld", f->successes);
    cg_tpl_setf(v, "failover_probe_timeout_seconds", "%ld", f->probe_timeout_seconds);
    cg_tpl_setf(v, "failover_max_down_percent", "%ld", f->max_down_percent);
    cg_tpl_setf(v, "cell_states_cache_seconds", "%ld", f->states_cache_seconds);
    cg_tpl_list(v, "prober");
    if (f->automatic) set_str(cg_tpl_item(v, "prober"), "schedule", f->schedule);
}

/* runtime.kind: container — the workers' settings. */
static void workers(cg_tpl_vars *v, const cg_spec *s)
{
    cg_tpl_list(v, "container");
    if (s->runtime_kind != CG_RT_CONTAINER) return;
    cg_tpl_vars *it = cg_tpl_item(v, "container");
    set_str(it, "image", s->container.image);
    cg_tpl_set(it, "cpu", s->container.cpu);
    cg_tpl_setf(it, "min_workers", "%ld", s->container.min_workers);
    cg_tpl_setf(it, "max_workers", "%ld", s->container.max_workers);
    cg_tpl_setf(it, "messages_per_worker", "%ld", s->container.messages_per_worker);
}

static void observability(cg_tpl_vars *v, const cg_spec *s)
{
    cg_tpl_list(v, "observability");
    const cg_observability *o = &s->obs;
    if (o->destination == CG_OBS_NONE) return;
    cg_tpl_vars *it = cg_tpl_item(v, "observability");
    cg_tpl_set(it, "destination", cg_obs_dest_name(o->destination));
    set_quoted_or_null(it, "endpoint", o->endpoint);
    set_quoted_or_null(it, "firehose_endpoint", o->firehose_endpoint);
    set_quoted_or_null(it, "site", o->site);
    set_quoted_or_null(it, "key_secret_arn", o->key_aws);
    set_quoted_or_null(it, "key_vault_secret_id", o->key_azure);
    set_quoted_or_null(it, "key_vault_id", o->key_vault_id);
}

/* ---- ci ----------------------------------------------------------------------- */

/* A federated credential's name: 3-120 of [A-Za-z0-9-_], from a kind and
 * a branch or environment, unique in its set (a suffix when two names
 * fold together). */
static char *credential_name(const char *kind, const char *what, cg_strset *used, char ***owned, size_t *nowned)
{
    char *n = what ? cg_xasprintf("%s-%.100s", kind, what) : cg_xstrdup(kind);
    for (char *p = n; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') *p = '-';
    for (int k = 2; cg_strset_has(used, n); k++) {
        char *base = cg_xstrndup(n, strcspn(n, "~"));
        free(n);
        n = cg_xasprintf("%s~%d", base, k);
        free(base);
        for (char *p = n; *p; p++)
            if (*p == '~') *p = '-';
    }
    *owned = cg_xrealloc(*owned, (*nowned + 1) * sizeof **owned);
    (*owned)[(*nowned)++] = n;
    cg_strset_add(used, n);
    return n;
}

/* The token subject a CI run presents for a branch or an environment. */
static char *subject(const cg_ci *ci, const char *branch, const char *environment)
{
    if (environment && ci->provider == CG_CI_GITHUB)
        return cg_xasprintf("repo:%s:environment:%s", ci->repository, environment);
    /* Pull requests: GitHub only (spec_ops.c refuses them for GitLab). */
    if (!branch) return cg_xasprintf("repo:%s:pull_request", ci->repository);
    if (ci->provider == CG_CI_GITLAB)
        return cg_xasprintf("project_path:%s:ref_type:branch:ref:%s", ci->repository, branch);
    return cg_xasprintf("repo:%s:ref:refs/heads/%s", ci->repository, branch);
}

/* A path as the pipeline repeats it: relative to the working directory,
 * which is the repository's top when cellgen runs there as the pipeline
 * does. Restricted to characters a shell line and a YAML plain scalar take
 * as they are. */
static char *pipeline_path(const char *path, char **err)
{
    char *rel = cg_relpath(".", path);
    bool ok = rel != NULL;
    for (const char *p = rel; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || strchr("-_./", *p);
    if (!ok) {
        *err = cg_xasprintf("the pipeline of the spec's ci section repeats cellgen's paths, relative to the "
                            "repository's top: they may hold letters, digits and '-_./' only (%s does not)", path);
        free(rel);
        return NULL;
    }
    return rel;
}

static const char *first_region(const cg_spec *s, cg_cloud c)
{
    for (size_t i = 0; i < s->ncells; i++)
        if (s->cells[i].cloud == c) return s->cells[i].region;
    return NULL;
}

static int ci(cg_tpl_vars *v, const cg_spec *s, const cg_gen_opts *o, char **err)
{
    cg_tpl_list(v, "ci");
    cg_tpl_list(v, "github");
    cg_tpl_list(v, "gitlab");
    const cg_ci *c = &s->ci;
    if (c->provider == CG_CI_NONE) return 0;
    bool gh = c->provider == CG_CI_GITHUB;

    /* ci.tf: the identities. */
    cg_tpl_vars *it = cg_tpl_item(v, "ci");
    cg_tpl_set(it, "ci_title", gh ? "GitHub Actions" : "GitLab CI");
    cg_tpl_set(it, "pipeline_file", gh ? ".github/workflows/cells.yml" : ".gitlab-ci.yml");
    set_str(it, "issuer", c->issuer);
    set_str(it, "issuer_host", c->issuer + strlen("https://"));
    const char *aws_region = first_region(s, CG_AWS), *azure_location = first_region(s, CG_AZURE);
    if (aws_region) {
        cg_tpl_set_owned(it, "ci_alias", ident(aws_region));
        set_str(it, "ci_region", aws_region);
    }
    if (azure_location) set_str(it, "ci_location", azure_location);
    cg_strset used = {0};
    char **names = NULL;
    size_t nnames = 0;
    cg_tpl_list(it, "plan_subjects");
    if (c->plan_pull_requests) {
        cg_tpl_vars *p = cg_tpl_item(it, "plan_subjects");
        set_str(p, "name", credential_name("pull-requests", NULL, &used, &names, &nnames));
        cg_tpl_set_owned(p, "subject", subject(c, NULL, NULL));
    }
    for (size_t i = 0; i < c->nplan_branches; i++) {
        cg_tpl_vars *p = cg_tpl_item(it, "plan_subjects");
        set_str(p, "name", credential_name("branch", c->plan_branches[i], &used, &names, &nnames));
        cg_tpl_set_owned(p, "subject", subject(c, c->plan_branches[i], NULL));
    }
    cg_strset_free(&used);
    cg_strset apply_used = {0};
    bool by_env = gh && c->apply_environment;
    set_str(it, "apply_name", credential_name(by_env ? "environment" : "branch",
                                              by_env ? c->apply_environment : c->apply_branch, &apply_used, &names,
                                              &nnames));
    cg_tpl_set_owned(it, "apply_subject", subject(c, c->apply_branch, by_env ? c->apply_environment : NULL));
    cg_strset_free(&apply_used);
    for (size_t i = 0; i < nnames; i++) free(names[i]);
    free(names);

    /* The pipeline. */
    cg_tpl_vars *p = cg_tpl_item(v, gh ? "github" : "gitlab");
    char *spec = pipeline_path(o->spec_path ? o->spec_path : o->spec_name, err);
    char *out = spec ? pipeline_path(o->out_dir, err) : NULL;
    char *mods = out ? pipeline_path(o->modules_dir, err) : NULL;
    if (!mods) {
        free(spec);
        free(out);
        return -1;
    }
    cg_tpl_set_owned(p, "spec_path", spec);
    cg_tpl_set_owned(p, "out_dir", out);
    cg_tpl_set_owned(p, "modules_dir", mods);
    cg_tpl_set(p, "cellgen", c->cellgen);
    cg_tpl_set(p, "terraform_version", c->terraform_version);
    cg_tpl_set(p, "apply_branch", c->apply_branch);
    if (aws_region) cg_tpl_set(p, "aws_region", aws_region);
    cg_tpl_when(p, "plan_pull_requests", c->plan_pull_requests);
    cg_tpl_list(p, "apply_environment");
    if (c->apply_environment) cg_tpl_set(cg_tpl_item(p, "apply_environment"), "name", c->apply_environment);
    cg_tpl_list(p, "plan_branches");
    cg_tpl_list(p, "push_branches");
    cg_strset push = {0};
    cg_buf json = {0};
    cg_buf_putc(&json, '[');
    for (size_t i = 0; i < c->nplan_branches; i++) {
        cg_tpl_set(cg_tpl_item(p, "plan_branches"), "branch", c->plan_branches[i]);
        cg_buf_printf(&json, "%s\"%s\"", i ? "," : "", c->plan_branches[i]);
        if (cg_strset_add(&push, c->plan_branches[i]))
            cg_tpl_set(cg_tpl_item(p, "push_branches"), "branch", c->plan_branches[i]);
    }
    cg_buf_putc(&json, ']');
    cg_tpl_set_owned(p, "plan_branches_json", cg_buf_steal(&json));
    if (cg_strset_add(&push, c->apply_branch))
        cg_tpl_set(cg_tpl_item(p, "push_branches"), "branch", c->apply_branch);
    cg_strset_free(&push);
    return 0;
}

cg_tpl_vars *cg_root_values(const cg_spec *s, const cg_gen_opts *o, const char *modules_rel, char **err)
{
    cg_tpl_vars *v = cg_tpl_vars_new();
    cg_tpl_set(v, "spec_name", o->spec_name);
    /* In .tf files inside quotes; Markdown shows the same text, which
     * differs from the path only for names with quotes or backslashes. */
    set_str(v, "modules_dir", modules_rel);
    cg_tpl_when(v, "aws", uses(s, CG_AWS));
    cg_tpl_when(v, "azure", uses(s, CG_AZURE));
    pipeline(v, s);
    cells(v, s);
    tenants(v, s);
    failover(v, s);
    workers(v, s);
    observability(v, s);
    if (ci(v, s, o, err) != 0) {
        cg_tpl_vars_free(v);
        return NULL;
    }
    return v;
}
