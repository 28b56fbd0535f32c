/*
 * gen/emit_edge.c — the edge router and its deployment, in the root
 * configuration: edge/worker.js (a Cloudflare Worker that forwards each
 * request to its tenant's cell), edge/wrangler.toml (the same Worker for
 * `wrangler dev` and `wrangler deploy`) and edge.tf (the Workers KV
 * namespace that holds the routing map and the Worker bound to it, with
 * the Cloudflare provider v4), plus the cellrouter provider block that
 * writes the routing map into that namespace (providers.tf).
 *
 * The router reads what the cellrouter provider's cloudflare_kv backend
 * writes (provider/store/cloudflare_kv.c): key = tenant id, value =
 * endpoint URL, metadata = {cell_id, standby_*, version, updated_at,
 * labels}. Its source is fixed (the spec does not change how requests are
 * routed, only which tenants exist), so it lives here as text and gets the
 * generated-file header like every other output.
 */
#include "emit.h"

#include <stdlib.h>
#include <string.h>

/* Workers runtime features the router relies on are all older than this. */
#define CG_EDGE_COMPAT_DATE "2024-09-23"

static const char *const ROUTER_JS[] = {
    "// The edge router: sends each request to the cell that serves its tenant.",
    "//",
    "// The tenant comes from the X-Tenant-ID header; its routing-map entry is",
    "// the KV pair the cellrouter provider writes into the ROUTING_MAP",
    "// namespace: the value is the endpoint URL of the tenant's cell, the",
    "// metadata holds cell_id, the standby cell, version and labels. The request",
    "// goes on unchanged (method, path below the endpoint's path, query,",
    "// headers, body) and the cell's answer comes back as it is.",
    "//",
    "//   no X-Tenant-ID header, or not a tenant id  -> 400",
    "//   tenant not in the routing map             -> 404",
    "//   cell endpoint unreachable or unusable     -> 502 naming the cell",
    "//",
    "// Errors are JSON ({\"error\": \"...\"}) and never echo the tenant's entry",
    "// (endpoint, labels): only the cell id, which operators need to act.",
    "// KV reads are eventually consistent: a change of the routing map reaches",
    "// every Cloudflare location within about 60 seconds.",
    "",
    "// The routing map's tenant id rule (cellrouter's store/store.c): it also",
    "// keeps the router away from keys that are not tenants.",
    "const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,511}$/;",
    "",
    "// Seconds a location may serve a cached routing-map entry (KV's minimum).",
    "const CACHE_TTL = 60;",
    "",
    "function problem(status, error, cell) {",
    "  const body = cell === undefined ? { error } : { error, cell };",
    "  const headers = { \"content-type\": \"application/json\" };",
    "  if (cell !== undefined) headers[\"x-cellrouter-cell\"] = cell;",
    "  return new Response(JSON.stringify(body) + \"\\n\", { status, headers });",
    "}",
    "",
    "function joinPath(base, path) {",
    "  if (base.endsWith(\"/\")) base = base.slice(0, -1);",
    "  return base + path;",
    "}",
    "",
    "export default {",
    "  async fetch(request, env) {",
    "    const tenant = request.headers.get(\"x-tenant-id\");",
    "    if (tenant === null || tenant === \"\")",
    "      return problem(400, \"missing X-Tenant-ID header\");",
    "    if (!TENANT_ID.test(tenant))",
    "      return problem(400, \"X-Tenant-ID is not a valid tenant id\");",
    "",
    "    const { value, metadata } = await env.ROUTING_MAP.getWithMetadata(",
    "      tenant, { type: \"text\", cacheTtl: CACHE_TTL });",
    "    if (value === null)",
    "      return problem(404, \"unknown tenant\");",
    "    const cell = metadata && typeof metadata.cell_id === \"string\"",
    "      ? metadata.cell_id : \"unknown\";",
    "",
    "    let target;",
    "    try {",
    "      target = new URL(value);",
    "    } catch {",
    "      return problem(502, `cell ${cell} has no usable endpoint`, cell);",
    "    }",
    "    if (target.protocol !== \"http:\" && target.protocol !== \"https:\")",
    "      return problem(502, `cell ${cell} has no usable endpoint`, cell);",
    "    const incoming = new URL(request.url);",
    "    target.pathname = joinPath(target.pathname, incoming.pathname);",
    "    target.search = incoming.search;",
    "",
    "    const headers = new Headers(request.headers);",
    "    headers.set(\"x-cellrouter-cell\", cell);",
    "    const hasBody = request.method !== \"GET\" && request.method !== \"HEAD\";",
    "    let answer;",
    "    try {",
    "      answer = await fetch(target.toString(), {",
    "        method: request.method,",
    "        headers,",
    "        body: hasBody ? request.body : undefined,",
    "        redirect: \"manual\",",
    "      });",
    "    } catch {",
    "      return problem(502, `cell ${cell} is unreachable`, cell);",
    "    }",
    "    const out = new Response(answer.body, answer);",
    "    out.headers.set(\"x-cellrouter-cell\", cell);",
    "    return out;",
    "  },",
    "};",
};

static void add(cg_fileset *out, const cg_gen_opts *o, const char *name, char *content)
{
    cg_fileset_add(out, cg_xasprintf("%s/%s", o->out_dir, name), content);
}

static char *worker_js(const cg_gen_opts *o)
{
    cg_buf b = {0};
    char *text = cg_emit_header_text(o, false);
    char *nl = strchr(text, '\n');
    cg_buf_printf(&b, "// %.*s\n// %s\n\n", (int)(nl - text), text, nl + 1);
    free(text);
    for (size_t i = 0; i < sizeof ROUTER_JS / sizeof ROUTER_JS[0]; i++) {
        cg_buf_puts(&b, ROUTER_JS[i]);
        cg_buf_puts(&b, "\n");
    }
    return cg_buf_steal(&b);
}

static char *wrangler_toml(const cg_spec *s, const cg_gen_opts *o)
{
    cg_buf b = {0};
    char *text = cg_emit_header_text(o, false);
    char *nl = strchr(text, '\n');
    cg_buf_printf(&b, "# %.*s\n# %s\n\n", (int)(nl - text), text, nl + 1);
    free(text);
    cg_buf_puts(&b,
        "# The edge router as a Wrangler project. Terraform (../edge.tf) deploys\n"
        "# it for real; this file is for `wrangler dev` (a local KV namespace) and\n"
        "# for deploying with Wrangler instead: then replace `id` with\n"
        "# `terraform output -raw routing_map_namespace_id`.\n");
    cg_buf_printf(&b, "name = \"%s-edge-router\"\n", s->system);
    cg_buf_puts(&b, "main = \"worker.js\"\n");
    cg_buf_puts(&b, "compatibility_date = \"" CG_EDGE_COMPAT_DATE "\"\n\n");
    cg_buf_puts(&b, "[[kv_namespaces]]\n"
                    "binding = \"ROUTING_MAP\"\n"
                    "id = \"routing-map-local\"\n");
    return cg_buf_steal(&b);
}

static char *edge_tf(const cg_spec *s, const cg_gen_opts *o)
{
    cg_hcl h = {0};
    cg_emit_header(&h, o, false);
    cg_hcl_comment(&h, "The edge: a Workers KV namespace holding the routing map (the cellrouter\n"
                       "provider writes it, see providers.tf) and the router Worker that reads it.");
    cg_hcl_open(&h, "variable \"cloudflare_account_id\"");
    cg_hcl_attr_str(&h, "description", "Cloudflare account for the routing map namespace and the edge router.");
    cg_hcl_attr(&h, "type", "string");
    cg_hcl_end(&h);
    cg_hcl_open(&h, "variable \"edge_route\"");
    cg_hcl_attr_str(&h, "description",
                    "Where the edge router answers: a zone id and a route pattern such as "
                    "\"api.example.com/*\". Null: only on the Worker's workers.dev address.");
    cg_hcl_open_line(&h, "type = object({");
    cg_hcl_attr(&h, "zone_id", "string");
    cg_hcl_attr(&h, "pattern", "string");
    cg_hcl_close(&h, "})");
    cg_hcl_attr(&h, "default", "null");
    cg_hcl_end(&h);
    cg_hcl_open(&h, "resource \"cloudflare_workers_kv_namespace\" \"routing_map\"");
    cg_hcl_attr(&h, "account_id", "var.cloudflare_account_id");
    char *title = cg_xasprintf("%s-routing-map", s->system);
    cg_hcl_attr_str(&h, "title", title);
    free(title);
    cg_hcl_end(&h);
    cg_hcl_comment(&h, "The router (edge/worker.js): X-Tenant-ID -> routing-map entry -> the cell's endpoint.");
    cg_hcl_open(&h, "resource \"cloudflare_worker_script\" \"edge_router\"");
    cg_hcl_attr(&h, "account_id", "var.cloudflare_account_id");
    char *name = cg_xasprintf("%s-edge-router", s->system);
    cg_hcl_attr_str(&h, "name", name);
    free(name);
    cg_hcl_attr(&h, "content", "file(\"${path.module}/edge/worker.js\")");
    cg_hcl_attr(&h, "module", "true");
    cg_hcl_attr_str(&h, "compatibility_date", CG_EDGE_COMPAT_DATE);
    cg_hcl_blank(&h);
    cg_hcl_open(&h, "kv_namespace_binding");
    cg_hcl_attr_str(&h, "name", "ROUTING_MAP");
    cg_hcl_attr(&h, "namespace_id", "cloudflare_workers_kv_namespace.routing_map.id");
    cg_hcl_close(&h, "}");
    cg_hcl_end(&h);
    cg_hcl_open(&h, "resource \"cloudflare_worker_route\" \"edge_router\"");
    cg_hcl_attr(&h, "count", "var.edge_route == null ? 0 : 1");
    cg_hcl_blank(&h);
    cg_hcl_attr(&h, "zone_id", "var.edge_route.zone_id");
    cg_hcl_attr(&h, "pattern", "var.edge_route.pattern");
    cg_hcl_attr(&h, "script_name", "cloudflare_worker_script.edge_router.name");
    cg_hcl_end(&h);
    cg_hcl_open(&h, "output \"routing_map_namespace_id\"");
    cg_hcl_attr_str(&h, "description", "The Workers KV namespace holding the routing map (cellctl, wrangler).");
    cg_hcl_attr(&h, "value", "cloudflare_workers_kv_namespace.routing_map.id");
    cg_hcl_close(&h, "}");
    return cg_hcl_finish(&h);
}

void cg_emit_edge(const cg_spec *s, const cg_gen_opts *o, cg_fileset *out)
{
    add(out, o, "edge.tf", edge_tf(s, o));
    add(out, o, "edge/worker.js", worker_js(o));
    add(out, o, "edge/wrangler.toml", wrangler_toml(s, o));
}
