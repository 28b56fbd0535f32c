// The edge router: sends each request to the cell that serves its tenant.
//
// The tenant comes from the X-Tenant-ID header; its routing-map entry is
// the KV pair the cellrouter provider writes into the ROUTING_MAP
// namespace: the value is the endpoint URL of the tenant's cell, the
// metadata holds cell_id, the standby cell, version and labels. The request
// goes on unchanged (method, path below the endpoint's path, query,
// headers, body) and the cell's answer comes back as it is.
//
//   no X-Tenant-ID header, or not a tenant id  -> 400
//   tenant not in the routing map             -> 404
//   cell endpoint unreachable or unusable     -> 502 naming the cell
//
// Errors are JSON ({"error": "..."}) and never echo the tenant's entry
// (endpoint, labels): only the cell id, which operators need to act.
// KV reads are eventually consistent: a change of the routing map reaches
// every Cloudflare location within about 60 seconds.

// The routing map's tenant id rule (cellrouter's store/store.c): it also
// keeps the router away from keys that are not tenants.
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,511}$/;

// Seconds a location may serve a cached routing-map entry (KV's minimum).
const CACHE_TTL = 60;

function problem(status, error, cell) {
  const body = cell === undefined ? { error } : { error, cell };
  const headers = { "content-type": "application/json" };
  if (cell !== undefined) headers["x-cellrouter-cell"] = cell;
  return new Response(JSON.stringify(body) + "\n", { status, headers });
}

function joinPath(base, path) {
  if (base.endsWith("/")) base = base.slice(0, -1);
  return base + path;
}

export default {
  async fetch(request, env) {
    const tenant = request.headers.get("x-tenant-id");
    if (tenant === null || tenant === "")
      return problem(400, "missing X-Tenant-ID header");
    if (!TENANT_ID.test(tenant))
      return problem(400, "X-Tenant-ID is not a valid tenant id");

    const { value, metadata } = await env.ROUTING_MAP.getWithMetadata(
      tenant, { type: "text", cacheTtl: CACHE_TTL });
    if (value === null)
      return problem(404, "unknown tenant");
    const cell = metadata && typeof metadata.cell_id === "string"
      ? metadata.cell_id : "unknown";

    let target;
    try {
      target = new URL(value);
    } catch {
      return problem(502, `cell ${cell} has no usable endpoint`, cell);
    }
    if (target.protocol !== "http:" && target.protocol !== "https:")
      return problem(502, `cell ${cell} has no usable endpoint`, cell);
    const incoming = new URL(request.url);
    target.pathname = joinPath(target.pathname, incoming.pathname);
    target.search = incoming.search;

    const headers = new Headers(request.headers);
    headers.set("x-cellrouter-cell", cell);
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    let answer;
    try {
      answer = await fetch(target.toString(), {
        method: request.method,
        headers,
        body: hasBody ? request.body : undefined,
        redirect: "manual",
      });
    } catch {
      return problem(502, `cell ${cell} is unreachable`, cell);
    }
    const out = new Response(answer.body, answer);
    out.headers.set("x-cellrouter-cell", cell);
    return out;
  },
};
