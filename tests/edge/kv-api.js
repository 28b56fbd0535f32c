// tests/edge/kv-api.js — a stand-in for the part of Cloudflare's v4 REST API
// that cellrouter uses, as a Worker running in workerd, on the very KV
// namespace binding the edge router reads: the provider's real HTTP calls
// (libcurl) land in the storage that env.ROUTING_MAP.getWithMetadata sees.
//
// It enforces Cloudflare's published rules, so that a client that breaks
// one fails here as it would against Cloudflare. Each rule names its
// source; where Cloudflare publishes nothing, the comment says so and what
// the stand-in does instead. Sources:
//   [limits]  developers.cloudflare.com/fundamentals/api/reference/limits/
//   [kvlim]   developers.cloudflare.com/kv/platform/limits/
//   [kvput]   developers.cloudflare.com/kv/api/write-key-value-pairs/
//   [ref]     Cloudflare's API reference for kv/namespaces
//             (developers.cloudflare.com/api/resources/kv/), the same
//             OpenAPI spec that generates cloudflare-typescript's
//             src/resources/kv/namespaces/{namespaces,keys,values,metadata}.ts
//   [schema]  cloudflare/api-schemas openapi.json: the 4XX answer of every KV
//             operation is workers-kv_api-response-common-failure
//             ({success:false, errors:[{code, message}], messages, result})
//   [observed] answers seen from api.cloudflare.com in public reports, not
//             in the published schema
//
// Endpoints (under /client/v4/accounts/A/storage/kv/namespaces/N):
//   GET    (the namespace)      {id, title, supports_url_encoding}      [ref]
//   GET    /keys                ?prefix&cursor&limit=10..1000           [ref]
//   POST   /bulk/get            {keys: 1..100, type, withMetadata}      [ref]
//   PUT    /bulk                [{key, value, metadata, ...}] <= 10,000 [ref]
//   POST   /bulk/delete         [key, ...] <= 10,000                    [ref]
//   GET|PUT|DELETE /values/KEY, GET /metadata/KEY (single keys)          [ref]
// The legacy bulk delete (DELETE /bulk with a body) is refused: neither the
// API reference nor the SDK names it any more, and whether Cloudflare still
// serves it is not published.
//
// Authentication: `Authorization: Bearer <env.API_TOKEN>` may read and
// write; `<env.API_TOKEN>-read` stands for a token with only "Workers KV
// Storage Read" (reads pass, writes get 403) [ref: x-api-token-group].
//
// Test controls (no auth; a stand-in only, never deployed):
//   POST   /__fixture/faults {"status":503,"count":3,"retry_after":"1",
//          "method":"PUT"}  the next `count` API requests (of that method)
//          are answered with that status instead of being served
//   DELETE /__fixture/faults          drops pending faults
//   POST   /__fixture/page-size {"max":2}   list pages hold at most that
//          many keys (the API may return fewer than `limit`)
//   POST   /__fixture/rate-limit {"limit":1200,"window_s":300,"lockout_s":300}
//          the rate limit (these are Cloudflare's values and the default;
//          tests shrink them); resets the counters
//   POST   /__fixture/namespace {"supports_url_encoding": false}
//   POST   /__fixture/fail-keys {"keys":["acme"],"count":1}  bulk writes and
//          deletes report these keys in unsuccessful_keys (not written), the
//          next `count` times each
//   GET    /__fixture/stats   request counts; POST /__fixture/stats/reset

const PREFIX = "/client/v4/accounts/";
const METADATA_MAX = 1024;          // [kvlim] "Key metadata 1024 bytes"
const KEY_MAX = 512;                // [kvlim] "Key size 512 bytes"
const BULK_MAX = 10000;             // [ref] bulk update/delete: up to 10,000
const BULK_BODY_MAX = 100e6;        // [ref] "100 megabytes or less"
const BULK_GET_MAX = 100;           // [ref] bulk get: "maximum of 100"
const ID = /^[0-9a-f]{32}$/;        // [ref] identifiers: 32 hex characters

let faults = [];
let pageMax = 1000;
let failKeys = new Map();           // key -> times left
const namespace = { supports_url_encoding: true };
// [limits] "1200 requests per five minutes per user ... If you exceed this
// limit, all API calls for the next five minutes will be blocked, receiving
// a HTTP 429 response"; retry-after: "the number of seconds, rounded up,
// until more capacity is available ... only returned when the request has
// exceeded the rate limit". How Cloudflare counts the window (sliding or
// fixed) is not published: this one slides, and a blocked call does not
// count.
const rate = { limit: 1200, window_ms: 300e3, lockout_ms: 300e3,
               seen: new Map(), blocked: new Map() };
let stats;
function resetStats() {
  stats = { requests: 0, rate_limited: 0, faulted: 0, namespace: 0,
            lists: 0, bulk_gets: 0, bulk_writes: 0, bulk_deletes: 0,
            single: 0, writes: 0, reads: 0, deletes: 0 };
}
resetStats();

function envelope(status, result, errors = [], extra = {}) {
  return new Response(JSON.stringify({ success: errors.length === 0, errors,
                                       messages: [], result, ...extra }),
                      { status, headers: { "content-type": "application/json" } });
}

// [schema] the failure shape of every KV operation.
function fail(status, code, message, headers = {}, chain) {
  const e = { code, message };
  if (chain) e.error_chain = chain;
  const r = envelope(status, null, [e]);
  for (const [k, v] of Object.entries(headers)) r.headers.set(k, v);
  return r;
}

const utf8 = (s) => new TextEncoder().encode(s).length;

// [kvput] "A key cannot be empty or be exactly equal to . or .. All other
// keys are valid. Keys have a maximum length of 512 bytes."
function keyProblem(k) {
  if (typeof k !== "string") return "a key must be a string";
  if (k === "" || k === "." || k === "..") return `illegal key name "${k}"`;
  if (utf8(k) > KEY_MAX) return `key is longer than ${KEY_MAX} bytes`;
  return null;
}

// [kvput] "The maximum size of the serialized JSON representation of the
// metadata object is 1024 bytes"; measured as Cloudflare's runtime does
// (JSON.stringify, UTF-8 bytes; miniflare's validator.worker.ts likewise).
function metadataProblem(md) {
  if (md === undefined) return null;
  const n = utf8(JSON.stringify(md));
  return n > METADATA_MAX ? `metadata length of ${n} exceeds limit of ${METADATA_MAX}` : null;
}

async function control(request, url) {
  const body = request.method === "POST" ? await request.json().catch(() => ({})) : {};
  switch (`${request.method} ${url.pathname}`) {
    case "POST /__fixture/faults":
      faults.push({ status: body.status, count: body.count ?? 1,
                    retry_after: body.retry_after, method: body.method });
      return Response.json({ ok: true, pending: faults });
    case "DELETE /__fixture/faults":
      faults = [];
      return Response.json({ ok: true });
    case "POST /__fixture/page-size":
      pageMax = body.max || 1000;
      return Response.json({ ok: true, pageMax });
    case "POST /__fixture/rate-limit":
      rate.limit = body.limit ?? 1200;
      rate.window_ms = (body.window_s ?? 300) * 1000;
      rate.lockout_ms = (body.lockout_s ?? 300) * 1000;
      rate.seen = new Map();
      rate.blocked = new Map();
      return Response.json({ ok: true });
    case "POST /__fixture/namespace":
      if (typeof body.supports_url_encoding === "boolean")
        namespace.supports_url_encoding = body.supports_url_encoding;
      return Response.json({ ok: true, namespace });
    case "POST /__fixture/fail-keys":
      for (const k of body.keys || []) failKeys.set(k, body.count ?? 1);
      return Response.json({ ok: true });
    case "GET /__fixture/stats":
      return Response.json(stats);
    case "POST /__fixture/stats/reset":
      resetStats();
      return Response.json({ ok: true });
  }
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
    return fail(429, 10000, "Rate limited. Please wait and consider throttling your request speed", headers);
  return fail(f.status, 10001, "service temporarily unavailable", headers);
}

// [limits], see `rate` above. Returns a 429 or null (counted).
function rateLimited(token) {
  const now = Date.now();
  const until = rate.blocked.get(token) || 0;
  if (until > now) {
    stats.rate_limited++;
    return fail(429, 10000, "Rate limited. Please wait and consider throttling your request speed",
                { "retry-after": String(Math.ceil((until - now) / 1000)) });
  }
  if (until) {
    rate.blocked.delete(token);
    rate.seen.set(token, []);
  }
  const seen = (rate.seen.get(token) || []).filter((t) => t > now - rate.window_ms);
  if (seen.length >= rate.limit) {
    rate.blocked.set(token, now + rate.lockout_ms);
    rate.seen.set(token, seen);
    stats.rate_limited++;
    return fail(429, 10000, "Rate limited. Please wait and consider throttling your request speed",
                { "retry-after": String(Math.ceil(rate.lockout_ms / 1000)) });
  }
  seen.push(now);
  rate.seen.set(token, seen);
  return null;
}

// A key written on the URL: decoded only where the namespace says so. [ref]
// Namespace.supports_url_encoding: "True if keys written on the URL will be
// URL-decoded before storing. For example, if set to "true", a key written
// on the URL as "%3F" will be stored as "?"."
function urlKey(raw) {
  if (!namespace.supports_url_encoding) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

function takeFailure(key) {
  const left = failKeys.get(key);
  if (!left) return false;
  if (left <= 1) failKeys.delete(key); else failKeys.set(key, left - 1);
  return true;
}

async function jsonBody(request) {
  // [ref] bulk bodies: "The entire request size must be 100 megabytes or less."
  const text = await request.text();
  if (utf8(text) > BULK_BODY_MAX) return { error: fail(413, 10024, "payload too large") };
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { error: fail(400, 10026, "request body is not valid JSON") };
  }
}

async function bulkGet(request, env) {
  stats.bulk_gets++;
  const { body, error } = await jsonBody(request);
  if (error) return error;
  const keys = body && body.keys;
  // [ref] keys: required, "maximum of 100"; type "text" | "json" (default
  // text); withMetadata (default false). miniflare also refuses an empty list.
  if (!Array.isArray(keys) || keys.length < 1 || keys.length > BULK_GET_MAX)
    return fail(400, 10026, `keys must hold 1 to ${BULK_GET_MAX} keys`);
  const type = body.type ?? "text";
  if (type !== "text" && type !== "json")
    return fail(400, 10026, `"${type}" is not a valid type. Use "json" or "text"`);
  for (const k of keys) {
    const p = keyProblem(k);
    if (p) return fail(400, 10026, p);
  }
  const values = {};
  for (const k of keys) {
    stats.reads++;
    const { value, metadata } = await env.KV.getWithMetadata(k, "text");
    // [schema] workers-kv_bulk-get-result-with-metadata: a key that does
    // not exist pairs with null.
    if (value === null) {
      values[k] = null;
      continue;
    }
    let v = value;
    if (type === "json") {
      try {
        v = JSON.parse(value);
      } catch {
        return fail(400, 10026, "At least one of the requested keys corresponds to a non-json value");
      }
    }
    values[k] = body.withMetadata ? { value: v, metadata: metadata ?? null } : v;
  }
  return envelope(200, { values });
}

async function bulkWrite(request, env) {
  stats.bulk_writes++;
  const { body, error } = await jsonBody(request);
  if (error) return error;
  if (!Array.isArray(body) || body.length > BULK_MAX)
    return fail(400, 10026, `the body must be an array of at most ${BULK_MAX} pairs`);
  // Whether Cloudflare refuses the whole request or lists the key in
  // unsuccessful_keys when one pair breaks a limit is not published; the
  // stand-in refuses the whole request, the stricter reading.
  for (const p of body) {
    if (!p || typeof p !== "object") return fail(400, 10026, "each pair must be an object");
    const kp = keyProblem(p.key);
    if (kp) return fail(400, 10026, kp);
    // [ref] value: "A UTF-8 encoded string to be stored, up to 25 MiB".
    if (typeof p.value !== "string") return fail(400, 10026, `key "${p.key}": value must be a string`);
    const mp = metadataProblem(p.metadata);
    if (mp) return fail(413, 10024, `key "${p.key}": ${mp}`);
    // [ref] expiration_ttl: "Must be at least 60."
    if (p.expiration_ttl !== undefined && !(p.expiration_ttl >= 60))
      return fail(400, 10026, `key "${p.key}": expiration_ttl must be at least 60`);
  }
  // [ref] unsuccessful_keys: "Name of the keys that failed to be fully
  // updated. They should be retried."
  const unsuccessful = [];
  for (const p of body) {
    if (takeFailure(p.key)) {
      unsuccessful.push(p.key);
      continue;
    }
    stats.writes++;
    await env.KV.put(p.key, p.value, p.metadata === undefined ? {} : { metadata: p.metadata });
  }
  return envelope(200, { successful_key_count: body.length - unsuccessful.length,
                         unsuccessful_keys: unsuccessful });
}

async function bulkDelete(request, env) {
  stats.bulk_deletes++;
  const { body, error } = await jsonBody(request);
  if (error) return error;
  if (!Array.isArray(body) || body.length > BULK_MAX)
    return fail(400, 10026, `the body must be an array of at most ${BULK_MAX} keys`);
  for (const k of body) {
    const p = keyProblem(k);
    if (p) return fail(400, 10026, p);
  }
  const unsuccessful = [];
  for (const k of body) {
    if (takeFailure(k)) {
      unsuccessful.push(k);
      continue;
    }
    stats.deletes++;
    await env.KV.delete(k);
  }
  return envelope(200, { successful_key_count: body.length - unsuccessful.length,
                         unsuccessful_keys: unsuccessful });
}

async function listKeys(url, env) {
  stats.lists++;
  // [ref] limit: minimum 10, maximum 1000 (default 1000).
  const raw = url.searchParams.get("limit");
  const limit = raw === null ? 1000 : Number(raw);
  if (!Number.isInteger(limit) || limit < 10 || limit > 1000)
    return fail(400, 10028, "invalid limit argument");
  const opts = { limit: Math.min(limit, pageMax) };
  const prefix = url.searchParams.get("prefix");
  const cursor = url.searchParams.get("cursor");
  if (prefix) opts.prefix = prefix;
  if (cursor) opts.cursor = cursor;
  const page = await env.KV.list(opts);
  const result = page.keys.map((k) => {
    const o = { name: k.name };
    if (k.expiration !== undefined) o.expiration = k.expiration;
    if (k.metadata !== undefined) o.metadata = k.metadata;
    return o;
  });
  // [ref] result_info {count, cursor}; the SDK's pagination stops at an
  // empty cursor (cloudflare-typescript CursorLimitPagination).
  return envelope(200, result, [], {
    result_info: { count: result.length, cursor: page.list_complete ? "" : page.cursor },
  });
}

async function singleKey(request, env, kind, raw, write) {
  stats.single++;
  const key = urlKey(raw);
  const p = key === null ? "could not URL-decode key name" : keyProblem(key);
  if (p) return fail(400, 10026, p);
  const notFound = () => fail(404, 10009, "get: 'key not found'"); // [observed] code; [schema] shape
  if (kind === "metadata" && request.method === "GET") {
    stats.reads++;
    const { value, metadata } = await env.KV.getWithMetadata(key, "stream");
    if (value === null) return notFound();
    await value.cancel();
    return envelope(200, metadata ?? null);
  }
  if (kind !== "values") return fail(405, 10000, "method not allowed");
  if (request.method === "GET") {
    stats.reads++;
    const value = await env.KV.get(key, "arrayBuffer");
    if (value === null) return notFound();
    return new Response(value, { headers: { "content-type": "application/octet-stream" } });
  }
  if (!write) return fail(403, 10000, "Authentication error");
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
        // [kvput], measured on the text as sent (miniflare measures the raw
        // metadata it receives the same way).
        if (utf8(text) > METADATA_MAX)
          return fail(413, 10024, `metadata length of ${utf8(text)} exceeds limit of ${METADATA_MAX}`);
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

async function api(request, env, url) {
  // [observed] no credentials: 400 code 9106; a malformed Authorization
  // header: 400 code 6003 with error_chain code 6111.
  const auth = request.headers.get("authorization");
  if (!auth && !request.headers.get("x-auth-key"))
    return fail(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers");
  const m = /^Bearer ([A-Za-z0-9_-]+)$/.exec(auth || "");
  if (!m)
    return fail(400, 6003, "Invalid request headers", {},
                [{ code: 6111, message: "Invalid format for Authorization header" }]);
  const token = m[1];
  const canWrite = token === env.API_TOKEN;
  // [observed] a token Cloudflare refuses: 403 code 10000 "Authentication
  // error" (also when the account is not one the token may use).
  if (!canWrite && token !== `${env.API_TOKEN}-read`)
    return fail(403, 10000, "Authentication error");

  const limited = rateLimited(token);
  if (limited) return limited;

  const rest = url.pathname.slice(PREFIX.length).split("/");
  // [observed] an identifier that cannot be routed: 404 codes 7003 + 7000.
  if (!ID.test(rest[0]) || rest[1] !== "storage" || rest[2] !== "kv" ||
      rest[3] !== "namespaces" || (rest.length > 4 && !ID.test(rest[4])))
    return envelope(404, null, [
      { code: 7003, message: "Could not route to " + url.pathname + ", perhaps your object identifier is invalid?" },
      { code: 7000, message: "No route for that URI" }]);
  if (rest[0] !== env.ACCOUNT_ID) return fail(403, 10000, "Authentication error");
  if (rest.length === 4) return fail(405, 10000, "method not allowed");
  // [observed] code 10013 for a namespace that does not exist.
  if (rest[4] !== env.NAMESPACE_ID) return fail(404, 10013, "namespace not found");
  const injected = injectedFault(request.method);
  if (injected) return injected;

  const route = `${request.method} ${rest.slice(5).join("/")}`;
  const reading = route === "GET " || route === "GET keys" || route === "POST bulk/get";
  if (route === "GET ") {
    stats.namespace++;
    return envelope(200, { id: env.NAMESPACE_ID, title: "routing-map",
                           supports_url_encoding: namespace.supports_url_encoding });
  }
  if (route === "GET keys") return listKeys(url, env);
  if (route === "POST bulk/get") return bulkGet(request, env);
  if (!reading && !canWrite && rest[5] !== "values" && rest[5] !== "metadata")
    return fail(403, 10000, "Authentication error");
  if (route === "PUT bulk") return bulkWrite(request, env);
  if (route === "POST bulk/delete") return bulkDelete(request, env);
  if ((rest[5] === "values" || rest[5] === "metadata") && rest.length === 7)
    return singleKey(request, env, rest[5], rest[6], canWrite);
  return fail(404, 7000, "No route for that URI");
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/__fixture/")) return control(request, url);
    if (!url.pathname.startsWith(PREFIX))
      return fail(404, 7000, "No route for that URI");
    stats.requests++;
    try {
      return await api(request, env, url);
    } catch (e) {
      return fail(500, 10001, "fixture error: " + (e && e.message));
    }
  },
};
