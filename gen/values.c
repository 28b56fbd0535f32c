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
 * Tenants are data, not code: main.tf's templates put them into one local
 * map and a single for_each resource, so a spec with 100,000 tenants yields
 * a map of that many entries rather than 100,000 resource blocks, and
 * moving a tenant is a one-line diff in review.
 */
#include "generate.h"
#include "hcl.h"

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
        if (c->cloud == CG_AWS) {
            cg_tpl_set_owned(cg_tpl_item(it, "aws"), "region_alias", ident(c->region));
            if (cg_strset_add(&seen, c->region)) {
                cg_tpl_vars *r = cg_tpl_item(v, "aws_regions");
                cg_tpl_set_owned(r, "alias", ident(c->region));
                set_str(r, "region", c->region);
            }
        }
    }
    cg_strset_free(&seen);
    free(primary);
    free(standby);
}

static void tenants(cg_tpl_vars *v, const cg_spec *s)
{
    cg_tpl_list(v, "tenants");
    for (size_t i = 0; i < s->ntenants; i++) {
        const cg_tenant *t = &s->tenants[i];
        cg_tpl_vars *it = cg_tpl_item(v, "tenants");
        set_str(it, "id", t->id);
        set_str(it, "cell_id", s->cells[t->cell].id);
        cg_tpl_set_owned(it, "standby_cell_id",
                         t->standby >= 0 ? cg_hcl_quote(s->cells[t->standby].id) : cg_xstrdup("null"));
        cg_tpl_set_owned(it, "labels", cg_hcl_object(&t->labels, true));
    }
    cg_tpl_setf(v, "tenant_total", "%zu tenant%s", s->ntenants, s->ntenants == 1 ? "" : "s");
}

cg_tpl_vars *cg_root_values(const cg_spec *s, const cg_gen_opts *o, const char *modules_rel)
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
    return v;
}
