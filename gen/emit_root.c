/*
 * gen/emit_root.c — the root configuration (default examples/multicloud/):
 * providers, one module instance per cell, and one cellrouter_tenant per
 * placed tenant whose endpoint is its cell's ingest_url. The cellrouter
 * provider writes into the Workers KV namespace of the edge (emit_edge.c).
 *
 * Tenants are data, not code: they go into one local map and a single
 * for_each resource, so a spec with 100,000 tenants yields a map of that
 * many entries rather than 100,000 resource blocks, and moving a tenant is
 * a one-line diff in review.
 */
#include "emit.h"

#include <stdlib.h>
#include <string.h>

/* "aws-alpha" -> "aws_alpha": cell ids are [a-z][a-z0-9-]* (spec.c), so the
 * mapping is injective and the result an HCL identifier. */
static char *ident(const char *s)
{
    char *r = cg_xstrdup(s);
    for (char *p = r; *p; p++)
        if (*p == '-') *p = '_';
    return r;
}

static void add(cg_fileset *out, const cg_gen_opts *o, const char *name, char *content)
{
    cg_fileset_add(out, cg_xasprintf("%s/%s", o->out_dir, name), content);
}

static void kv_object(cg_hcl *h, const char *key, const cg_kvlist *kv)
{
    if (!kv->len) {
        cg_hcl_attr(h, key, "{}");
        return;
    }
    cg_hcl_open(h, "%s =", key);
    for (size_t i = 0; i < kv->len; i++) {
        /* Free-form keys are always quoted (see cg_hcl_key). */
        char *k = cg_hcl_quote(kv->items[i].key);
        cg_hcl_attr_str(h, k, kv->items[i].value);
        free(k);
    }
    cg_hcl_close(h, "}");
}

static bool uses(const cg_spec *s, cg_cloud c)
{
    for (size_t i = 0; i < s->ncells; i++)
        if (s->cells[i].cloud == c) return true;
    return false;
}

/* Only the clouds the spec uses, so `terraform init` fetches no provider
 * the configuration does not need. */
static char *versions(const cg_spec *s, const cg_gen_opts *o)
{
    cg_hcl h = {0};
    cg_emit_header(&h, o, false);
    cg_emit_requirements_open(&h);
    if (uses(s, CG_AWS))
        cg_emit_required_provider(&h, CG_AWS);
    if (uses(s, CG_AZURE))
        cg_emit_required_provider(&h, CG_AZURE);
    cg_emit_provider_requirement(&h, "cellrouter", "cellrouter/cellrouter", NULL);
    cg_emit_provider_requirement(&h, "cloudflare", "cloudflare/cloudflare", "~> 4.0");
    cg_hcl_close(&h, "}");
    cg_hcl_close(&h, "}");
    return cg_hcl_finish(&h);
}

static char *providers(const cg_spec *s, const cg_gen_opts *o)
{
    cg_hcl h = {0};
    cg_emit_header(&h, o, false);
    cg_hcl_comment(&h, "One AWS provider per region in use; each AWS cell's module gets its region's.");
    cg_strset seen = {0};
    for (size_t i = 0; i < s->ncells; i++) {
        const cg_cell *c = &s->cells[i];
        if (c->cloud != CG_AWS || !cg_strset_add(&seen, c->region)) continue;
        char *alias = ident(c->region);
        cg_hcl_open(&h, "provider \"aws\"");
        cg_hcl_attr_str(&h, "alias", alias);
        cg_hcl_attr_str(&h, "region", c->region);
        cg_hcl_end(&h);
        free(alias);
    }
    cg_strset_free(&seen);
    if (uses(s, CG_AZURE)) {
        cg_hcl_comment(&h, "Azure cells take their location as a module input.");
        cg_hcl_open(&h, "provider \"azurerm\"");
        cg_hcl_empty_block(&h, "features");
        cg_hcl_end(&h);
    }
    cg_hcl_comment(&h, "The edge (edge.tf). The token comes from CLOUDFLARE_API_TOKEN.");
    cg_hcl_empty_block(&h, "provider \"cloudflare\"");
    cg_hcl_blank(&h);
    cg_hcl_comment(&h, "The routing map lives in the Workers KV namespace the edge router reads.\n"
                       "The token (\"Workers KV Storage:Edit\") comes from CLOUDFLARE_API_TOKEN.");
    cg_hcl_open(&h, "provider \"cellrouter\"");
    cg_hcl_open(&h, "cloudflare_kv");
    cg_hcl_attr(&h, "account_id", "var.cloudflare_account_id");
    cg_hcl_attr(&h, "namespace_id", "cloudflare_workers_kv_namespace.routing_map.id");
    cg_hcl_close(&h, "}");
    cg_hcl_close(&h, "}");
    return cg_hcl_finish(&h);
}

static char *main_tf(const cg_spec *s, const cg_gen_opts *o, const char *module_rel)
{
    cg_hcl h = {0};
    cg_emit_header(&h, o, false);
    cg_hcl_comment(&h, "The pipeline every cell runs, from the spec.");
    cg_hcl_open(&h, "locals");
    cg_hcl_attr_str(&h, "system", s->system);
    cg_hcl_attr_str(&h, "table_name", s->table);
    cg_hcl_attr_str(&h, "partition_key", s->partition_key);
    cg_hcl_attr_str(&h, "topic_name", s->topic);
    cg_hcl_attr_str(&h, "ingest_handler", s->ingest_handler);
    cg_hcl_attr_str(&h, "forwarder_handler", s->forwarder_handler);
    cg_hcl_open(&h, "consumers =");
    for (size_t i = 0; i < s->nconsumers; i++) {
        const cg_consumer *c = &s->consumers[i];
        char *k = cg_hcl_key(c->name);
        cg_hcl_open(&h, "%s =", k);
        free(k);
        cg_hcl_attr_str(&h, "handler", c->handler);
        cg_hcl_attr(&h, "batch_size", "%ld", c->batch_size);
        cg_hcl_attr(&h, "timeout_seconds", "%ld", c->timeout_seconds);
        cg_hcl_attr(&h, "max_retries", "%ld", c->max_retries);
        cg_hcl_attr(&h, "retention_seconds", "%ld", c->retention_seconds);
        cg_hcl_close(&h, "}");
    }
    cg_hcl_close(&h, "}");
    cg_hcl_open(&h, "runtime =");
    cg_hcl_attr_str(&h, "language", s->language);
    cg_hcl_attr_str(&h, "version", s->runtime_version);
    cg_hcl_attr(&h, "memory_mb", "%ld", s->memory_mb);
    cg_hcl_close(&h, "}");
    cg_hcl_open(&h, "packages =");
    if (s->package_aws) cg_hcl_attr_str(&h, "aws", s->package_aws);
    if (s->package_azure) cg_hcl_attr_str(&h, "azure", s->package_azure);
    cg_hcl_close(&h, "}");
    cg_hcl_close(&h, "}");

    for (size_t i = 0; i < s->ncells; i++) {
        const cg_cell *c = &s->cells[i];
        char *name = ident(c->id);
        cg_hcl_blank(&h);
        cg_hcl_open(&h, "module \"%s\"", name);
        cg_hcl_attr(&h, "source", "\"%s/%s\"", module_rel,
                    c->cloud == CG_AWS ? "aws_event_cell" : "azure_event_cell");
        if (c->cloud == CG_AWS) {
            char *alias = ident(c->region);
            cg_hcl_open(&h, "providers =");
            cg_hcl_attr(&h, "aws", "aws.%s", alias);
            cg_hcl_close(&h, "}");
            free(alias);
        }
        cg_hcl_blank(&h);
        cg_hcl_attr(&h, "system", "local.system");
        cg_hcl_attr_str(&h, "cell_id", c->id);
        cg_hcl_attr_str(&h, "location", c->region);
        cg_hcl_attr(&h, "table_name", "local.table_name");
        cg_hcl_attr(&h, "partition_key", "local.partition_key");
        cg_hcl_attr(&h, "topic_name", "local.topic_name");
        cg_hcl_attr(&h, "consumers", "local.consumers");
        cg_hcl_attr(&h, "runtime", "local.runtime");
        cg_hcl_attr(&h, "ingest_handler", "local.ingest_handler");
        cg_hcl_attr(&h, "forwarder_handler", "local.forwarder_handler");
        cg_hcl_attr(&h, "package_uri", "local.packages.%s", cg_cloud_name(c->cloud));
        kv_object(&h, "tags", &c->tags);
        cg_hcl_close(&h, "}");
        free(name);
    }

    cg_hcl_blank(&h);
    cg_hcl_comment(&h, "Where each cell accepts events: the routing map's endpoints.");
    cg_hcl_open(&h, "locals");
    cg_hcl_open(&h, "cell_endpoints =");
    for (size_t i = 0; i < s->ncells; i++) {
        char *k = cg_hcl_quote(s->cells[i].id);
        char *name = ident(s->cells[i].id);
        cg_hcl_attr(&h, k, "module.%s.ingest_url", name);
        free(k);
        free(name);
    }
    cg_hcl_close(&h, "}");
    cg_hcl_close(&h, "}");
    return cg_hcl_finish(&h);
}

static char *tenants_tf(const cg_spec *s, const cg_gen_opts *o)
{
    cg_hcl h = {0};
    cg_emit_header(&h, o, false);
    cg_hcl_comment(&h, "Tenant placement from the spec: primary cell, optional standby, labels.");
    cg_hcl_open(&h, "locals");
    if (!s->ntenants) {
        cg_hcl_attr(&h, "tenants", "{}");
    } else {
        cg_hcl_open(&h, "tenants =");
        for (size_t i = 0; i < s->ntenants; i++) {
            const cg_tenant *t = &s->tenants[i];
            char *k = cg_hcl_quote(t->id);
            cg_hcl_open(&h, "%s =", k);
            free(k);
            cg_hcl_attr_str(&h, "cell_id", s->cells[t->cell].id);
            if (t->standby >= 0) cg_hcl_attr_str(&h, "standby_cell_id", s->cells[t->standby].id);
            else cg_hcl_attr(&h, "standby_cell_id", "null");
            kv_object(&h, "labels", &t->labels);
            cg_hcl_close(&h, "}");
        }
        cg_hcl_close(&h, "}");
    }
    cg_hcl_end(&h);
    cg_hcl_comment(&h, "One routing-map entry per tenant. Failing a tenant over is a spec change\n"
                       "(swap cell and standby) and an in-place update here.");
    cg_hcl_open(&h, "resource \"cellrouter_tenant\" \"this\"");
    cg_hcl_attr(&h, "for_each", "local.tenants");
    cg_hcl_blank(&h);
    cg_hcl_attr(&h, "tenant_id", "each.key");
    cg_hcl_attr(&h, "cell_id", "each.value.cell_id");
    cg_hcl_attr(&h, "endpoint", "local.cell_endpoints[each.value.cell_id]");
    cg_hcl_attr(&h, "standby_cell_id", "each.value.standby_cell_id");
    cg_hcl_attr(&h, "standby_endpoint",
                "each.value.standby_cell_id == null ? null : local.cell_endpoints[each.value.standby_cell_id]");
    cg_hcl_attr(&h, "labels", "each.value.labels");
    cg_hcl_close(&h, "}");
    return cg_hcl_finish(&h);
}

static char *outputs_tf(const cg_gen_opts *o)
{
    cg_hcl h = {0};
    cg_emit_header(&h, o, false);
    cg_hcl_open(&h, "output \"ingest_urls\"");
    cg_hcl_attr_str(&h, "description", "Ingest URL of every cell, by cell id.");
    cg_hcl_attr(&h, "value", "local.cell_endpoints");
    cg_hcl_end(&h);
    cg_hcl_open(&h, "output \"tenant_cells\"");
    cg_hcl_attr_str(&h, "description", "Cell serving each tenant, by tenant id.");
    cg_hcl_attr(&h, "value", "{ for id, t in cellrouter_tenant.this : id => t.cell_id }");
    cg_hcl_close(&h, "}");
    return cg_hcl_finish(&h);
}

/* A README for whoever opens the directory: what is here, the cells with
 * their tenant counts (not the tenants themselves: there may be 100,000),
 * and how to apply and regenerate. */
static char *readme(const cg_spec *s, const cg_gen_opts *o, const char *module_rel)
{
    size_t *primary = cg_xcalloc(s->ncells, sizeof *primary);
    size_t *standby = cg_xcalloc(s->ncells, sizeof *standby);
    for (size_t i = 0; i < s->ntenants; i++) {
        primary[s->tenants[i].cell]++;
        if (s->tenants[i].standby >= 0) standby[s->tenants[i].standby]++;
    }
    cg_buf b = {0};
    cg_emit_md_header(&b, o, false);
    cg_buf_printf(&b, "# %s: cells and tenant placement\n\n", s->system);
    cg_buf_printf(&b,
        "The root configuration for the `%s` system, generated from `%s`: one module\n"
        "instance per cell (`%s/aws_event_cell` or `%s/azure_event_cell`) and one\n"
        "`cellrouter_tenant` per tenant, whose endpoint is its cell's `ingest_url`.\n\n",
        s->system, o->spec_name, module_rel, module_rel);
    cg_buf_puts(&b, "| Cell | Cloud | Region / location | Module | Tenants (primary) | Tenants (standby) |\n"
                    "|------|-------|-------------------|--------|------------------:|------------------:|\n");
    for (size_t i = 0; i < s->ncells; i++) {
        const cg_cell *c = &s->cells[i];
        char *name = ident(c->id);
        cg_buf_printf(&b, "| `%s` | %s | %s | `module.%s` | %zu | %zu |\n", c->id,
                      c->cloud == CG_AWS ? "AWS" : "Azure", c->region, name, primary[i], standby[i]);
        free(name);
    }
    cg_buf_printf(&b, "\n%zu tenant%s in `tenants.tf`. ", s->ntenants, s->ntenants == 1 ? "" : "s");
    cg_buf_puts(&b,
        "To move a tenant, or fail it over to its standby, change the spec (swap\n"
        "`cell` and `standby`) and regenerate: the plan shows an in-place update of\n"
        "that tenant's routing-map entry and nothing else.\n\n"
        "```sh\n"
        "cellgen --check ...   # in CI: fails with a diff when this directory is stale\n"
        "cellgen ...           # regenerate after editing the spec\n"
        "terraform init && terraform plan\n"
        "```\n\n"
        "## The edge\n\n"
        "The routing map is kept in a Cloudflare Workers KV namespace (`edge.tf`),\n"
        "which the cellrouter provider writes (`providers.tf`) and the edge router\n"
        "(`edge/worker.js`, deployed by `edge.tf`) reads: a request with\n"
        "`X-Tenant-ID` goes to its tenant's cell (400 without the header, 404 for an\n"
        "unknown tenant, 502 naming the cell when it is unreachable). Set\n"
        "`cloudflare_account_id` (and `edge_route` for a route on your zone) and\n"
        "export `CLOUDFLARE_API_TOKEN` with the Workers Scripts and Workers KV\n"
        "Storage edit permissions. A change reaches every location within about\n"
        "60 seconds (KV is eventually consistent).\n");
    free(primary);
    free(standby);
    return cg_buf_steal(&b);
}

void cg_emit_root(const cg_spec *s, const cg_gen_opts *o, const char *module_rel, cg_fileset *out)
{
    add(out, o, "README.md", readme(s, o, module_rel));
    add(out, o, "versions.tf", versions(s, o));
    add(out, o, "providers.tf", providers(s, o));
    add(out, o, "main.tf", main_tf(s, o, module_rel));
    add(out, o, "tenants.tf", tenants_tf(s, o));
    add(out, o, "outputs.tf", outputs_tf(o));
}
