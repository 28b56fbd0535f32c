// tests/edge/kv-api.js — a stand-in for the part of Cloudflare's v4 REST API
// that the cellrouter provider uses, as a Worker running in workerd, on the
// very KV namespace binding the edge router reads. So the provider's real
// HTTP calls (libcurl) land in the storage that env.ROUTING_MAP.get* sees.
//
// Implemented, with Cloudflare's envelope ({success, errors, messages,
// result[, result_info]}) and status codes:
//   PUT    /client/v4/accounts/A/storage/kv/namespaces/N/values/KEY
//          multipart/form-data with `value` and `metadata` (JSON), or a raw
//          body; metadata over 1024 bytes is refused
//   GET    .../values/KEY       the raw value; 404 code 10009 when absent
//   GET    .../metadata/KEY     {result: metadata}; 404 code 10009
//   DELETE .../values/KEY       success, also when absent (as Cloudflare)
//   GET    .../keys?prefix=&limit=&cursor=   limit 10..1000, cursor paging
//   PUT    .../bulk  JSON [{key, value, metadata}], at most 10,000 pairs;
//          result {successful_key_count, unsuccessful_keys: []}
//   DELETE .../bulk  JSON [key, ...], at most 10,000 keys; same result
// Authorization: Bearer TOKEN must be env.API_TOKEN (401 when missing, 403
// when wrong); the account and namespace must be env.ACCOUNT_ID and
// env.NAMESPACE_ID (404 otherwise).
//
// Test controls (no auth; a test stand-in only, never deployed):
//   POST /__fixture/faults {"status":429,"count":3,"retry_after":"1",
//        "method":"PUT"}  the next `count` API requests (of that method, if
//        given) are answered with that status instead of being served
//   DELETE /__fixture/faults  drops the faults still pending
//   POST /__fixture/page-size {"max":2}  list pages hold at most that many
//        keys (the API may return fewer than `limit`), to exercise paging
//   GET  /__fixture/stats    counts of requests served and faults injected

const PREFIX = "/client/v4/accounts/";
const METADATA_MAX = 1024;

let faults = [];                // [{status, count, retry_after, method}]
let pageMax = 1000;             // keys per list page at most
const stats = { requests: 0, faulted: 0, writes: 0, reads: 0, lists: 0,
                deletes: 0 };

function envelope(status, result, errors = [], extra = {}) {
  return new Response(JSON.stringify({ success: errors.length === 0, errors,
                                       messages: [], result, ...extra }),
                      { status, headers: { "content-type": "application/json" } });
}

function fail(status, code, message, headers = {}) {
  const r = envelope(status, null, [{ code, message }]);
  for (const [k, v] of Object.entries(headers)) r.headers.set(k, v);
  return r;
}

async function control(request, url) {
  if (url.pathname === "/__fixture/faults" && request.method === "POST") {
    const f = await request.json();
    faults.push({ status: f.status, count: f.count ?? 1,
                  retry_after: f.retry_after, method: f.method });
    return Response.json({ ok: true, pending: faults });
  }
  if (url.pathname === "/__fixture/faults" && request.method === "DELETE") {
    faults = [];
    return Response.json({ ok: true });
  }
  if (url.pathname === "/__fixture/page-size" && request.method === "POST") {
    pageMax = (await request.json()).max || 1000;
    return Response.json({ ok: true, pageMax });
  }
  if (url.pathname === "/__fixture/stats")
    return Response.json(stats);
  return new Response("no such fixture control\n", { status: 404 });
}

function injectedFault(method) {
  const i = faults.findIndex((f) => !f.method || f.method === method);
  if (i < 0) return null;
  const f = faults[i];
  if (--f.count <= 0) faults.splice(i, 1);
  stats.faulted++;
  const headers = {};
  if (f.retry_after !== undefined) headers["retry-after"] = String(f.retry_after);
  if (f.status === 429)
    return fail(429, 10048, "KV PUT failed: 429 Too Many Requests", headers);
  return fail(f.status, 10001, "service temporarily unavailable", headers);
}

function decodeKey(raw) {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

async function api(request, env, url) {
  const auth = request.headers.get("authorization");
  if (!auth)
    return fail(401, 10000, "Authentication error");
  if (auth !== `Bearer ${env.API_TOKEN}`)
    return fail(403, 10000, "Authentication error");

  const rest = url.pathname.slice(PREFIX.length).split("/");
  // A/storage/kv/namespaces/N/(values|metadata)/KEY  or  A/.../N/keys
  if (rest[0] !== env.ACCOUNT_ID || rest[1] !== "storage" || rest[2] !== "kv" ||
      rest[3] !== "namespaces")
    return fail(404, 7003, "Could not route to " + url.pathname +
                ", perhaps your object identifier is invalid?");
  if (rest[4] !== env.NAMESPACE_ID)
    return fail(404, 10013, "namespace not found");
  const kind = rest[5];
  const injected = injectedFault(request.method);
  if (injected) return injected;

  if (kind === "keys" && rest.length === 6 && request.method === "GET") {
    const limit = Number(url.searchParams.get("limit") ?? 1000);
    if (!Number.isInteger(limit) || limit < 10 || limit > 1000)
      return fail(400, 10004, "limit must be between 10 and 1000");
    const opts = { limit: Math.min(limit, pageMax) };
    if (url.searchParams.get("prefix")) opts.prefix = url.searchParams.get("prefix");
    if (url.searchParams.get("cursor")) opts.cursor = url.searchParams.get("cursor");
    stats.lists++;
    const page = await env.KV.list(opts);
    const result = page.keys.map((k) => {
      const o = { name: k.name };
      if (k.expiration !== undefined) o.expiration = k.expiration;
      if (k.metadata !== undefined) o.metadata = k.metadata;
      return o;
    });
    return envelope(200, result, [], {
      result_info: { count: result.length,
                     cursor: page.list_complete ? "" : page.cursor },
    });
  }
  if (kind === "bulk" && rest.length === 6 &&
      (request.method === "PUT" || request.method === "DELETE")) {
    let items;
    try {
      items = await request.json();
    } catch {
      return fail(400, 10026, "bulk body is not valid JSON");
    }
    if (!Array.isArray(items) || items.length > 10000)
      return fail(400, 10026, "bulk body must be an array of at most 10000");
    const keyOk = (k) => typeof k === "string" && k !== "" && k !== "." &&
      k !== ".." && new TextEncoder().encode(k).length <= 512;
    if (request.method === "DELETE") {
      if (!items.every(keyOk)) return fail(400, 10019, "invalid key name");
      for (const k of items) {
        stats.deletes++;
        await env.KV.delete(k);
      }
    } else {
      for (const p of items) {
        if (!p || !keyOk(p.key) || typeof p.value !== "string")
          return fail(400, 10026, "each pair needs a key and a string value");
        if (p.metadata !== undefined &&
            new TextEncoder().encode(JSON.stringify(p.metadata)).length > METADATA_MAX)
          return fail(413, 10027, `metadata is larger than ${METADATA_MAX} bytes`);
      }
      for (const p of items) {
        stats.writes++;
        await env.KV.put(p.key, p.value,
                         p.metadata === undefined ? {} : { metadata: p.metadata });
      }
    }
    return envelope(200, { successful_key_count: items.length,
                           unsuccessful_keys: [] });
  }
  if ((kind !== "values" && kind !== "metadata") || rest.length !== 7)
    return fail(404, 7000, "No route for that URI");
  const key = decodeKey(rest[6]);
  if (key === null || key === "" || key === "." || key === ".." ||
      new TextEncoder().encode(key).length > 512)
    return fail(400, 10019, "invalid key name");

  if (kind === "metadata" && request.method === "GET") {
    stats.reads++;
    const { value, metadata } = await env.KV.getWithMetadata(key, "stream");
    if (value === null) return fail(404, 10009, "get: 'key not found'");
    await value.cancel();
    return envelope(200, metadata ?? null);
  }
  if (kind !== "values") return fail(405, 10000, "method not allowed");
  if (request.method === "GET") {
    stats.reads++;
    const value = await env.KV.get(key, "arrayBuffer");
    if (value === null) return fail(404, 10009, "get: 'key not found'");
    return new Response(value, { headers: { "content-type": "application/octet-stream" } });
  }
  if (request.method === "DELETE") {
    stats.deletes++;
    await env.KV.delete(key);
    return envelope(200, null);
  }
  if (request.method === "PUT") {
    let value, metadata;
    const type = request.headers.get("content-type") || "";
    if (type.startsWith("multipart/form-data")) {
      let form;
      try {
        form = await request.formData();
      } catch {
        return fail(400, 10026, "could not parse multipart body");
      }
      value = form.get("value");
      if (value === null) return fail(400, 10026, "multipart body has no value part");
      if (typeof value !== "string") value = await value.arrayBuffer();
      const m = form.get("metadata");
      if (m !== null) {
        const text = typeof m === "string" ? m : await m.text();
        if (new TextEncoder().encode(text).length > METADATA_MAX)
          return fail(413, 10027, `metadata is larger than ${METADATA_MAX} bytes`);
        try {
          metadata = JSON.parse(text);
        } catch {
          return fail(400, 10026, "metadata is not valid JSON");
        }
      }
    } else {
      value = await request.arrayBuffer();
    }
    stats.writes++;
    await env.KV.put(key, value, metadata === undefined ? {} : { metadata });
    return envelope(200, {});
  }
  return fail(405, 10000, "method not allowed");
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/__fixture/")) return control(request, url);
    stats.requests++;
    if (!url.pathname.startsWith(PREFIX))
      return fail(404, 7000, "No route for that URI");
    try {
      return await api(request, env, url);
    } catch (e) {
      return fail(500, 10001, "fixture error: " + (e && e.message));
    }
  },
};
