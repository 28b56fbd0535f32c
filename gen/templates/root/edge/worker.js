// The edge router: sends each request to the cell that serves its tenant,
// or to the tenant's standby cell while its own cell is failed; and, on a
// schedule, the prober that fails cells over and back on their health.
//
// The tenant comes from the X-Tenant-ID header; its routing-map entry is
// the KV pair the cellrouter provider writes into the ROUTING_MAP
// namespace: the value is the endpoint URL of the tenant's cell, the
// metadata holds cell_id, the standby cell and its endpoint, version and
// labels. The request goes on unchanged (method, path below the endpoint's
// path, query, headers, body) and the cell's answer comes back as it is.
//
// Whether a cell serves is in one document for all cells, the cell states
// (key `_cellrouter.cells`, written by this Worker's prober and by
// operators with `cellctl cell fail|restore|pin`, never by Terraform). The
// router reads it with the tenant's entry, and keeps it in the isolate for
// CELL_STATES_CACHE_SECONDS, so a request costs one KV read as before (the
// document is read at most once per isolate in that time). A cell absent
// from the document serves.
//
//   no X-Tenant-ID header, or not a tenant id  -> 400
//   tenant not in the routing map             -> 404
//   tenant's cell failed, standby serving     -> the standby's endpoint, with
//                                                x-cellrouter-failover: <cell>-><standby>
//   tenant's cell failed, no standby or the
//   standby failed too                        -> 503 naming the cells
//   cell endpoint unreachable or unusable     -> 502 naming the cell
//
// Errors are JSON ({"error": "...", "cell": ..., "cells": [...]}) and never
// echo the tenant's entry (endpoint, labels): only cell ids, which
// operators need to act. KV reads are eventually consistent: a change of
// the routing map or of a cell's state reaches every Cloudflare location
// within about 60 seconds.
//
// The prober (the scheduled handler, on the Worker's cron trigger) probes
// every cell's health URL (the cell definitions `_cellrouter.cell.<id>`
// that Terraform writes with cellrouter_cell) and keeps, per cell, how many
// probes in a row failed or passed. FAILOVER_FAILURES failures in a row
// fail a serving cell; FAILOVER_SUCCESSES successes in a row restore a
// cell the prober failed. Its guardrails:
//   - a pinned cell is never changed (not even its counters);
//   - fail-static: when more than FAILOVER_MAX_DOWN_PERCENT of the probed
//     cells look down at once, the prober's own network is the likelier
//     fault: it changes nothing and logs why;
//   - a cell is not failed while a standby cell of one of its tenants is
//     failed or failing too (those tenants would have nowhere to go); the
//     tenants are listed only then, not on every run;
//   - a cell a person failed (changed_by operator:...) is restored by a
//     person: the prober restores only its own failovers;
//   - the document is written at most once per run, so no cell's record
//     changes twice in a run; each changed record's version goes up by one,
//     and a record someone else changed meanwhile is left as they wrote it.
// Its log lines are JSON in hclog's shape (@level, @message, @module,
// @timestamp).

// The routing map's tenant id rule (cellrouter's store/store.c): it also
// keeps the router away from keys that are not tenants.
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,511}$/;

// Seconds a location may serve a cached routing-map entry (KV's default).
const CACHE_TTL = 60;

// The cells in the routing map: Terraform writes their definitions
// (cellrouter_cell), this Worker's prober and cellctl their states.
const STATES_KEY = "_cellrouter.cells";
const CELL_PREFIX = "_cellrouter.cell.";
// Seconds a location may serve the cached states document: KV's minimum,
// so a failover reaches the router as soon as KV allows.
const STATES_CACHE_TTL = 30;

// The settings, from the Worker's bindings (edge.tf, wrangler.toml [vars]).
// A missing or malformed value takes its default, and says so once.
const SETTINGS = {
  failures: ["FAILOVER_FAILURES", 3, 1, 100],
  successes: ["FAILOVER_SUCCESSES", 5, 1, 100],
  timeoutSeconds: ["FAILOVER_PROBE_TIMEOUT_SECONDS", 5, 1, 30],
  maxDownPercent: ["FAILOVER_MAX_DOWN_PERCENT", 50, 0, 100],
  statesCacheSeconds: ["CELL_STATES_CACHE_SECONDS", 5, 0, 300],
};
const warnedSettings = new Set();

function settings(env) {
  const out = {};
  for (const [name, [binding, dflt, min, max]] of Object.entries(SETTINGS)) {
    const raw = env[binding];
    const n = typeof raw === "string" && /^[0-9]{1,6}$/.test(raw) ? Number(raw) : NaN;
    if (n >= min && n <= max) {
      out[name] = n;
      continue;
    }
    out[name] = dflt;
    if (raw !== undefined && !warnedSettings.has(binding)) {
      warnedSettings.add(binding);
      log("warn", `${binding} must be a whole number from ${min} to ${max}; using ${dflt}`);
    }
  }
  out.automatic = env.FAILOVER_AUTOMATIC !== "false";
  return out;
}

function log(level, message, fields = {}) {
  console.log(JSON.stringify({ "@level": level, "@message": message, "@module": "cellrouter.edge",
                               "@timestamp": new Date().toISOString(), ...fields }));
}

// RFC 3339 in UTC to the second, as the rest of the routing map writes it.
function now() {
  return new Date().toISOString().replace(/\.[0-9]{3}Z$/, "Z");
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

// ---- the cell states, as the router sees them --------------------------------

// The isolate's copy of the cells' states: { cells, at }. Requests never
// wait on one another's reads (a promise shared between requests would tie
// one request to another's I/O, which Workers do not allow): while the copy
// is older than the setting, each request that needs it reads it.
let statesCopy = null;

async function cellStates(env, maxAgeMs) {
  const t = Date.now();
  if (statesCopy && t - statesCopy.at < maxAgeMs) return statesCopy.cells;
  let text;
  try {
    text = await env.ROUTING_MAP.get(STATES_KEY, { type: "text", cacheTtl: STATES_CACHE_TTL });
  } catch (e) {
    // KV did not answer: keep routing, with the states last read (none:
    // every cell serves, as before cells had states).
    log("warn", "cannot read the cell states; routing with the last ones read",
        { error: String(e && e.message || e) });
    return statesCopy ? statesCopy.cells : {};
  }
  let doc = null;
  try {
    doc = text === null ? null : JSON.parse(text);
  } catch {
    // A document no writer could have meant: every cell serves, in every
    // isolate alike, until a writer replaces it.
    log("error", "the cell states document is not JSON; routing as if every cell served");
  }
  const cells = isObject(doc) && isObject(doc.cells) ? doc.cells : {};
  statesCopy = { cells, at: Date.now() };
  return cells;
}

function failed(cells, id) {
  const rec = cells[id];
  return isObject(rec) && rec.state === "failed";
}

// ---- the router -----------------------------------------------------------------

function problem(status, error, cell, cells) {
  const body = { error };
  if (cell !== undefined) body.cell = cell;
  if (cells !== undefined) body.cells = cells;
  const headers = { "content-type": "application/json" };
  if (cell !== undefined) headers["x-cellrouter-cell"] = cell;
  return new Response(JSON.stringify(body) + "\n", { status, headers });
}

function joinPath(base, path) {
  if (base.endsWith("/")) base = base.slice(0, -1);
  return base + path;
}

async function route(request, env) {
  const tenant = request.headers.get("x-tenant-id");
  if (tenant === null || tenant === "")
    return problem(400, "missing X-Tenant-ID header");
  if (!TENANT_ID.test(tenant))
    return problem(400, "X-Tenant-ID is not a valid tenant id");

  const cfg = settings(env);
  const [{ value, metadata }, cells] = await Promise.all([
    env.ROUTING_MAP.getWithMetadata(tenant, { type: "text", cacheTtl: CACHE_TTL }),
    cellStates(env, cfg.statesCacheSeconds * 1000),
  ]);
  if (value === null)
    return problem(404, "unknown tenant");
  const md = isObject(metadata) ? metadata : {};
  let cell = typeof md.cell_id === "string" ? md.cell_id : "unknown";

  let endpoint = value, failover = null;
  if (failed(cells, cell)) {
    const standby = typeof md.standby_cell_id === "string" ? md.standby_cell_id : null;
    const standbyEndpoint = typeof md.standby_endpoint === "string" ? md.standby_endpoint : null;
    if (standby === null || standbyEndpoint === null)
      return problem(503, `cell ${cell} is failed and the tenant has no standby cell`, cell, [cell]);
    if (failed(cells, standby))
      return problem(503, `cell ${cell} is failed and its standby cell ${standby} is failed too`, cell,
                     [cell, standby]);
    failover = `${cell}->${standby}`;
    cell = standby;
    endpoint = standbyEndpoint;
  }

  let target;
  try {
    target = new URL(endpoint);
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
  if (failover) headers.set("x-cellrouter-failover", failover);
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
  if (failover) out.headers.set("x-cellrouter-failover", failover);
  return out;
}

// ---- the prober -----------------------------------------------------------------

// Every KV listing page up to the end: [{name, metadata}].
async function listAll(env, prefix) {
  const keys = [];
  let cursor;
  do {
    const page = await env.ROUTING_MAP.list(prefix ? { prefix, cursor } : { cursor });
    keys.push(...page.keys);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return keys;
}

// The cell definitions: [{id, healthUrl}] (healthUrl null: not probed).
async function cellDefinitions(env) {
  const out = [];
  for (const k of await listAll(env, CELL_PREFIX)) {
    const id = k.name.slice(CELL_PREFIX.length);
    const md = isObject(k.metadata) ? k.metadata : {};
    let healthUrl = null;
    if (typeof md.health_url === "string" && md.health_url !== "") {
      try {
        const u = new URL(md.health_url);
        if (u.protocol === "http:" || u.protocol === "https:") healthUrl = u.toString();
      } catch {
        // below
      }
      if (healthUrl === null)
        log("warn", `cell ${id}: health_url is not an http(s) URL; the cell is not probed`, { cell: id });
    }
    out.push({ id, healthUrl });
  }
  return out;
}

// One health check: { ok, error }. 2xx passes; anything else, a timeout or
// no answer fails. The URL is never logged (it may carry a token).
async function probe(url, timeoutSeconds) {
  try {
    const r = await fetch(url, {
      method: "GET",
      redirect: "manual",
      headers: { "user-agent": "cellrouter-prober", "x-cellrouter-probe": "1" },
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
    if (r.body) await r.body.cancel();
    return r.status >= 200 && r.status < 300 ? { ok: true, error: "" } : { ok: false, error: `HTTP ${r.status}` };
  } catch (e) {
    const name = e && e.name;
    if (name === "TimeoutError" || name === "AbortError")
      return { ok: false, error: `no answer within ${timeoutSeconds} s` };
    return { ok: false, error: "unreachable" };
  }
}

// The newest record of each cell this isolate wrote: KV may serve a read
// older than the prober's own last write (eventual consistency), and a
// record with a lower version than one written here is such a read.
const written = new Map();

async function readStates(env) {
  const text = await env.ROUTING_MAP.get(STATES_KEY, { type: "text" });
  if (text === null) return {};
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    // Never written over: it may be an operator's, and nothing can be kept.
    throw new Error("the cell states document is not JSON; the prober does not write over it");
  }
  if (!isObject(doc)) throw new Error("the cell states document is not a JSON object; the prober does not write over it");
  return doc;
}

function cellsOf(doc) {
  const cells = isObject(doc.cells) ? { ...doc.cells } : {};
  for (const [id, rec] of written) {
    const cur = cells[id];
    if (!isObject(cur) || typeof cur.version !== "number" || cur.version < rec.version) cells[id] = rec;
  }
  return cells;
}

// The standby cells of the tenants of each cell in `ids`: Map id -> Set.
// One listing of the routing map's tenants (their metadata names both
// cells), done only when a cell is about to fail.
async function standbysOf(env, ids) {
  const out = new Map(ids.map((id) => [id, new Set()]));
  let tenants = 0;
  for (const k of await listAll(env, null)) {
    if (!TENANT_ID.test(k.name) || !isObject(k.metadata)) continue;
    tenants++;
    const set = out.get(k.metadata.cell_id);
    if (set && typeof k.metadata.standby_cell_id === "string") set.add(k.metadata.standby_cell_id);
  }
  log("info", `listed ${tenants} tenants for the standby cells of ${ids.join(", ")}`,
      { cells: ids, tenants });
  return out;
}

// Hysteresis: a serving cell counts failures in a row (a pass resets
// them), a failed cell passes in a row (a failure resets them); each is
// capped at its threshold, so a cell whose health does not change leaves
// its record, and the document, alone.
function counted(rec, result, cfg) {
  const p = isObject(rec.probe) ? rec.probe : {};
  const f = Number.isInteger(p.failures) ? p.failures : 0;
  const s = Number.isInteger(p.successes) ? p.successes : 0;
  const isFailed = rec.state === "failed";
  return {
    failures: result.ok ? 0 : Math.min(f + 1, cfg.failures),
    successes: result.ok && isFailed ? Math.min(s + 1, cfg.successes) : 0,
    last_error: result.ok ? (typeof p.last_error === "string" ? p.last_error : "") : result.error,
    changed: result.ok ? f !== 0 || (isFailed ? s < cfg.successes : s !== 0) : f < cfg.failures || s !== 0,
  };
}

async function runProber(env, cfg) {
  const stamp = now();
  const defs = await cellDefinitions(env);
  const probed = defs.filter((d) => d.healthUrl !== null);
  const summary = { cells: defs.length, probed: probed.length, down: 0, failed: [], restored: [],
                    held: [], wrote: false };
  if (!cfg.automatic) {
    log("info", "automatic failover is off (FAILOVER_AUTOMATIC=false): not probing", summary);
    return summary;
  }
  const results = await Promise.all(probed.map((d) => probe(d.healthUrl, cfg.timeoutSeconds)));
  const result = new Map(probed.map((d, i) => [d.id, results[i]]));
  const down = probed.filter((d) => !result.get(d.id).ok).map((d) => d.id);
  summary.down = down.length;
  if (down.length * 100 > cfg.maxDownPercent * probed.length) {
    log("warn", `fail-static: ${down.length} of ${probed.length} cells look down at once, more than ` +
        `${cfg.maxDownPercent}%; the prober's own network is the likelier fault, so nothing is changed`,
        { ...summary, down_cells: down });
    summary.static = true;
    return summary;
  }

  const base = await readStates(env);
  const cells = cellsOf(base);
  const changed = new Map();      // id -> the record as it will be written
  const candidates = [], steady = new Set();
  for (const d of probed) {
    const old = isObject(cells[d.id]) ? cells[d.id] : null;
    if (old && old.pinned === true) continue;
    const rec = old || { state: "serving", reason: "", changed_at: stamp, changed_by: "automation",
                         pinned: false, version: 0 };
    const r = result.get(d.id);
    const c = counted(rec, r, cfg);
    const next = { ...rec, probe: { ...(isObject(rec.probe) ? rec.probe : {}), failures: c.failures,
                                   successes: c.successes, checked_at: stamp, last_error: c.last_error } };
    if (rec.state !== "failed" && c.failures >= cfg.failures) {
      candidates.push(d.id);
      if (!c.changed) steady.add(d.id);
    } else if (rec.state === "failed" && c.successes >= cfg.successes && rec.changed_by === "automation") {
      Object.assign(next, { state: "serving", reason: `${cfg.successes} consecutive health checks passed`,
                            changed_at: stamp, changed_by: "automation" });
      next.probe.successes = 0;
      summary.restored.push(d.id);
    } else if (!c.changed) {
      continue;
    }
    changed.set(d.id, next);
  }

  if (candidates.length) {
    // Failing: failed already (and not being restored now), or down in this run.
    const failing = (id) => (failed(cells, id) && !summary.restored.includes(id)) || down.includes(id);
    const standbys = await standbysOf(env, candidates);
    for (const id of candidates) {
      const bad = [...standbys.get(id)].filter(failing).sort();
      const next = changed.get(id);
      if (bad.length) {
        log("warn", `not failing cell ${id}: the standby cell${bad.length > 1 ? "s" : ""} of its tenants ` +
            `(${bad.join(", ")}) ${bad.length > 1 ? "are" : "is"} failing too`, { cell: id, standbys: bad });
        summary.held.push(id);
        if (steady.has(id)) changed.delete(id);   // nothing new to record
        continue;
      }
      Object.assign(next, { state: "failed", changed_at: now(), changed_by: "automation",
                            reason: `${cfg.failures} consecutive health checks failed: ${next.probe.last_error}` });
      summary.failed.push(id);
    }
  }
  if (changed.size === 0) {
    log("info", "cells probed; nothing to change", summary);
    return summary;
  }

  // One write for the run. Read the document again right before writing
  // (KV has no compare-and-swap): a record whose version moved since it
  // was read was changed by someone else, whose change stands.
  const fresh = await readStates(env);
  const freshCells = cellsOf(fresh);
  const out = { ...fresh, schema: typeof fresh.schema === "number" ? fresh.schema : 1,
                updated_at: now(), cells: { ...freshCells } };
  let n = 0;
  for (const [id, next] of changed) {
    const was = isObject(cells[id]) ? cells[id].version : undefined;
    const is = isObject(freshCells[id]) ? freshCells[id].version : undefined;
    if (was !== is) {
      log("warn", `cell ${id} changed while it was probed; keeping that change`, { cell: id });
      for (const list of [summary.failed, summary.restored]) if (list.includes(id)) list.splice(list.indexOf(id), 1);
      continue;
    }
    next.version = (typeof next.version === "number" ? next.version : 0) + 1;
    out.cells[id] = next;
    n++;
  }
  if (n > 0) {
    await env.ROUTING_MAP.put(STATES_KEY, JSON.stringify(out));
    for (const id of changed.keys()) if (out.cells[id] === changed.get(id)) written.set(id, out.cells[id]);
    summary.wrote = true;
    // This isolate routes with what it just wrote.
    statesCopy = { cells: out.cells, at: Date.now() };
  }
  for (const id of summary.failed)
    log("warn", `cell ${id} failed over: ${out.cells[id].reason}`, { cell: id });
  for (const id of summary.restored)
    log("info", `cell ${id} restored: ${out.cells[id].reason}`, { cell: id });
  log("info", "cells probed", summary);
  return summary;
}

export default {
  fetch: route,
  async scheduled(controller, env) {
    try {
      await runProber(env, settings(env));
    } catch (e) {
      // The run fails (Cloudflare's cron events show it) and says why.
      log("error", `the prober's run failed: ${e && e.message || e}`);
      throw e;
    }
  },
};
