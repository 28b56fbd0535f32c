// tests/edge/harness.mjs — the edge, on this machine: Cloudflare's runtime
// (workerd, through miniflare) running the generated router and the KV
// REST API fixture on one shared KV namespace, plus plain HTTP servers on
// 127.0.0.1 standing in for the cells.
//
//   node harness.mjs --router PATH/worker.js --cells cell-a,cell-b,... \
//        --ready FILE [--account ID --namespace ID --token TOKEN]
//        [--vars JSON] [--baseline PATH/worker.js] [--watch-pid PID]
//
// --vars: the router's plain-text bindings, as a JSON object of strings
// (what edge.tf's plain_text_binding blocks and wrangler.toml's [vars]
// give the deployed Worker: FAILOVER_FAILURES, ...).
//
// --baseline: a second router (another version, for a before/after
// benchmark) on the same namespace and bindings; its URL is "baseline".
//
// When everything listens, FILE receives one JSON object:
//   {"router": URL, "api_url": URL (.../client/v4), "fixture": URL,
//    "control": URL, "cells": {"cell-a": URL, ...}, "account_id",
//    "namespace_id"}
// and the harness runs until SIGTERM or SIGINT (or, with --watch-pid, until
// that process is gone), then stops workerd and the servers. Every address
// is on 127.0.0.1.
//
// A cell server answers every request with JSON saying which cell got it
// and what arrived (method, path, query, the headers that matter, body),
// so a test can check that the router forwarded the request unchanged;
// GET /healthz is its health check (200 {"cell": ..., "healthy": true}).
//
// The control server (no auth; 127.0.0.1 only) plays the outside world:
//   POST /cells/NAME/stop     the cell's server stops listening and drops
//                             its connections (an outage: refused)
//   POST /cells/NAME/start    it listens again, on the same port
//   POST /cells/NAME/health   {"status": 503} what /healthz answers from now
//   POST /scheduled           one run of the router's scheduled handler (a
//                             cron trigger firing): {"outcome": "ok", ...}

import { Miniflare } from "miniflare";
import { createServer } from "node:http";
import { writeFileSync, renameSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));

function args() {
  const a = { cells: "", account: "0123456789abcdef0123456789abcdef",
              namespace: "fedcba9876543210fedcba9876543210",
              token: process.env.EDGE_TEST_TOKEN || "", vars: "{}" };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, "");
    if (!(k in a) && !["router", "ready", "watch-pid", "baseline"].includes(k))
      throw new Error(`unknown option ${argv[i]}`);
    a[k] = argv[++i];
  }
  if (!a.router || !a.ready) throw new Error("--router and --ready are required");
  if (!a.token) throw new Error("set EDGE_TEST_TOKEN (or --token)");
  a.vars = JSON.parse(a.vars);
  for (const [k, v] of Object.entries(a.vars))
    if (typeof v !== "string") throw new Error(`--vars: ${k} must be a string`);
  return a;
}

// A cell: its HTTP server, its port (kept across stop/start) and what its
// health check answers.
function cellServer(name) {
  const cell = { name, health: 200, port: 0, server: null };
  cell.server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/healthz") {
      req.resume();
      res.writeHead(cell.health, { "content-type": "application/json" });
      res.end(JSON.stringify({ cell: name, healthy: cell.health < 300 }) + "\n");
      return;
    }
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const u = new URL(req.url, "http://cell");
      const body = JSON.stringify({
        cell: name, method: req.method, path: u.pathname, query: u.search,
        tenant: req.headers["x-tenant-id"] ?? null,
        routed_cell: req.headers["x-cellrouter-cell"] ?? null,
        failover: req.headers["x-cellrouter-failover"] ?? null,
        test_header: req.headers["x-test"] ?? null,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(200, { "content-type": "application/json",
                           "x-served-by": name });
      res.end(body + "\n");
    });
  });
  return listen(cell);
}

function listen(cell) {
  return new Promise((ok, ko) => {
    cell.server.once("error", ko);
    cell.server.listen(cell.port, "127.0.0.1", () => {
      cell.server.off("error", ko);
      cell.port = cell.server.address().port;
      ok(cell);
    });
  });
}

function stop(cell) {
  return new Promise((ok) => {
    if (!cell.server.listening) return ok();
    cell.server.close(() => ok());
    cell.server.closeAllConnections();
  });
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : {};
}

function controlServer(cells, mf) {
  const server = createServer(async (req, res) => {
    const reply = (status, obj) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(obj) + "\n");
    };
    try {
      const m = /^\/cells\/([^/]+)\/(stop|start|health)$/.exec(req.url);
      if (req.method === "POST" && m) {
        const cell = cells.get(decodeURIComponent(m[1]));
        if (!cell) return reply(404, { error: `no cell ${m[1]}` });
        if (m[2] === "stop") await stop(cell);
        if (m[2] === "start" && !cell.server.listening) await listen(cell);
        if (m[2] === "health") cell.health = (await body(req)).status ?? 200;
        return reply(200, { cell: cell.name, listening: cell.server.listening, health: cell.health });
      }
      if (req.method === "POST" && req.url === "/scheduled") {
        const worker = await mf.getWorker("router");
        const t0 = Date.now();
        const r = await worker.scheduled({ cron: "* * * * *", scheduledTime: new Date() });
        return reply(200, { outcome: r.outcome, no_retry: r.noRetry, ms: Date.now() - t0 });
      }
      reply(404, { error: "no such control" });
    } catch (e) {
      reply(500, { error: String(e && e.stack || e) });
    }
  });
  return new Promise((ok, ko) => {
    server.once("error", ko);
    server.listen(0, "127.0.0.1", () => ok(server));
  });
}

async function main() {
  const a = args();
  const byName = new Map();
  const cells = {};
  for (const name of a.cells.split(",").filter(Boolean)) {
    const c = await cellServer(name);
    byName.set(name, c);
    cells[name] = `http://127.0.0.1:${c.port}`;
  }
  // One namespace id for both bindings: both Workers see the same storage.
  const NS = "routing-map";
  const routerWorker = (name, path) => ({
    name,
    modules: true,
    scriptPath: resolve(path),
    modulesRoot: dirname(resolve(path)),
    compatibilityDate: "2024-09-23",
    kvNamespaces: { ROUTING_MAP: NS },
    bindings: a.vars,
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  });
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    workers: [
      routerWorker("router", a.router),
      ...(a.baseline ? [routerWorker("baseline", a.baseline)] : []),
      {
        name: "kvapi",
        modules: true,
        scriptPath: join(here, "kv-api.js"),
        modulesRoot: here,
        compatibilityDate: "2024-09-23",
        kvNamespaces: { KV: NS },
        bindings: { API_TOKEN: a.token, ACCOUNT_ID: a.account,
                    NAMESPACE_ID: a.namespace },
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      },
    ],
  });
  await mf.ready;
  const router = (await mf.unsafeGetDirectURL("router")).toString().replace(/\/$/, "");
  const fixture = (await mf.unsafeGetDirectURL("kvapi")).toString().replace(/\/$/, "");
  const control = await controlServer(byName, mf);
  const baseline = a.baseline ? (await mf.unsafeGetDirectURL("baseline")).toString().replace(/\/$/, "") : undefined;
  const info = { router, fixture, api_url: `${fixture}/client/v4`, cells,
                 control: `http://127.0.0.1:${control.address().port}`, baseline,
                 account_id: a.account, namespace_id: a.namespace };
  writeFileSync(a.ready + ".tmp", JSON.stringify(info) + "\n");
  renameSync(a.ready + ".tmp", a.ready);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    control.close();
    for (const c of byName.values()) await stop(c);
    await mf.dispose();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  const watched = Number(a["watch-pid"] || 0);
  if (watched > 0) {
    // A test killed hard leaves no one to send SIGTERM: do not outlive it.
    setInterval(() => {
      try {
        process.kill(watched, 0);
      } catch {
        stop();
      }
    }, 500).unref();
  }
}

main().catch((e) => {
  console.error("edge harness: " + (e && e.stack || e));
  process.exit(1);
});
