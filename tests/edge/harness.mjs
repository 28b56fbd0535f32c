// tests/edge/harness.mjs — the edge, on this machine: Cloudflare's runtime
// (workerd, through miniflare) running the generated router and the KV
// REST API fixture on one shared KV namespace, plus plain HTTP servers on
// 127.0.0.1 standing in for the cells.
//
//   node harness.mjs --router PATH/worker.js --cells cell-a,cell-b,... \
//        --ready FILE [--account ID --namespace ID --token TOKEN]
//        [--watch-pid PID]
//
// When everything listens, FILE receives one JSON object:
//   {"router": URL, "api_url": URL (.../client/v4), "fixture": URL,
//    "cells": {"cell-a": URL, ...}, "account_id", "namespace_id"}
// and the harness runs until SIGTERM or SIGINT (or, with --watch-pid, until
// that process is gone), then stops workerd and the servers. Every address
// is on 127.0.0.1.
//
// A cell server answers every request with JSON saying which cell got it
// and what arrived (method, path, query, the headers that matter, body),
// so a test can check that the router forwarded the request unchanged.

import { Miniflare } from "miniflare";
import { createServer } from "node:http";
import { writeFileSync, renameSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));

function args() {
  const a = { cells: "", account: "0123456789abcdef0123456789abcdef",
              namespace: "fedcba9876543210fedcba9876543210",
              token: process.env.EDGE_TEST_TOKEN || "" };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, "");
    if (!(k in a) && !["router", "ready", "watch-pid"].includes(k))
      throw new Error(`unknown option ${argv[i]}`);
    a[k] = argv[++i];
  }
  if (!a.router || !a.ready) throw new Error("--router and --ready are required");
  if (!a.token) throw new Error("set EDGE_TEST_TOKEN (or --token)");
  return a;
}

function cellServer(name) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const u = new URL(req.url, "http://cell");
      const body = JSON.stringify({
        cell: name, method: req.method, path: u.pathname, query: u.search,
        tenant: req.headers["x-tenant-id"] ?? null,
        routed_cell: req.headers["x-cellrouter-cell"] ?? null,
        test_header: req.headers["x-test"] ?? null,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(200, { "content-type": "application/json",
                           "x-served-by": name });
      res.end(body + "\n");
    });
  });
  return new Promise((ok, ko) => {
    server.once("error", ko);
    server.listen(0, "127.0.0.1", () => ok(server));
  });
}

async function main() {
  const a = args();
  const servers = [];
  const cells = {};
  for (const name of a.cells.split(",").filter(Boolean)) {
    const s = await cellServer(name);
    servers.push(s);
    cells[name] = `http://127.0.0.1:${s.address().port}`;
  }
  // One namespace id for both bindings: both Workers see the same storage.
  const NS = "routing-map";
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    workers: [
      {
        name: "router",
        modules: true,
        scriptPath: resolve(a.router),
        modulesRoot: dirname(resolve(a.router)),
        compatibilityDate: "2024-09-23",
        kvNamespaces: { ROUTING_MAP: NS },
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      },
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
  const info = { router, fixture, api_url: `${fixture}/client/v4`, cells,
                 account_id: a.account, namespace_id: a.namespace };
  writeFileSync(a.ready + ".tmp", JSON.stringify(info) + "\n");
  renameSync(a.ready + ".tmp", a.ready);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const s of servers) s.close();
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
