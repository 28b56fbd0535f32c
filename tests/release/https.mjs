// tests/release/https.mjs — HTTPS and DNS on this machine for the release
// tests, with a throw-away CA (tests/release/lib.sh makes it):
//
//   node https.mjs --cert PEM --key PEM --ready FILE
//        [--proxy URL]            forward every request to URL (the Workers
//                                 KV API stand-in), as a TLS front
//        [--static DIR --log F]   serve DIR's files read-only (a provider
//                                 network mirror); each request path is
//                                 appended to F
//        [--dns ADDR --dns-name N]  a DNS server on ADDR:53 (UDP) answering
//                                 N with 127.0.0.1 (A), nothing for AAAA,
//                                 NXDOMAIN for any other name
//        [--watch-pid PID]        stop when PID is gone
//
// When listening, FILE gets {"port": N} (the HTTPS port on 127.0.0.1).
// Node's own modules only: no npm package.

import { createServer } from "node:https";
import { request } from "node:http";
import { createSocket } from "node:dgram";
import { readFileSync, writeFileSync, renameSync, appendFileSync, createReadStream, statSync } from "node:fs";
import { resolve, join, extname } from "node:path";

const a = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) a[argv[i].replace(/^--/, "")] = argv[i + 1];
if (!a.cert || !a.key || !a.ready) throw new Error("--cert, --key and --ready are required");

const types = { ".json": "application/json", ".zip": "application/zip" };

function serveStatic(req, res) {
  const root = resolve(a.static);
  const path = decodeURIComponent(new URL(req.url, "https://x").pathname);
  if (a.log) appendFileSync(a.log, `${req.method} ${path}\n`);
  const file = resolve(join(root, path));
  let st;
  try { st = statSync(file); } catch { st = null; }
  if (req.method !== "GET" || !file.startsWith(root + "/") || !st || !st.isFile()) {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found\n");
    return;
  }
  res.writeHead(200, { "content-type": types[extname(file)] || "application/octet-stream",
                       "content-length": st.size });
  createReadStream(file).pipe(res);
}

function proxy(req, res) {
  const target = new URL(a.proxy);
  const up = request({ host: target.hostname, port: target.port, method: req.method,
                       path: req.url, headers: { ...req.headers, host: target.host } },
    (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
  up.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
  req.pipe(up);
}

const server = createServer({ cert: readFileSync(a.cert), key: readFileSync(a.key) },
                            a.proxy ? proxy : serveStatic);

// The DNS answer: the query's header and question, then one A record
// pointing at 127.0.0.1 (or none, or NXDOMAIN).
function dnsAnswer(q) {
  if (q.length < 12) return null;
  let off = 12;
  const labels = [];
  while (off < q.length && q[off] !== 0) {
    const n = q[off];
    labels.push(q.subarray(off + 1, off + 1 + n).toString("latin1"));
    off += 1 + n;
  }
  off += 1;
  if (off + 4 > q.length) return null;
  const qtype = q.readUInt16BE(off);
  const question = q.subarray(12, off + 4);
  const name = labels.join(".").toLowerCase();
  const known = name === a["dns-name"];
  const a4 = known && qtype === 1;
  const head = Buffer.alloc(12);
  q.copy(head, 0, 0, 2);                            // id
  head.writeUInt16BE(0x8180 | (known ? 0 : 3), 2);  // response, RD, RA, rcode
  head.writeUInt16BE(1, 4);                         // one question
  head.writeUInt16BE(a4 ? 1 : 0, 6);                // answers
  if (!a4) return Buffer.concat([head, question]);
  const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 127, 0, 0, 1]);
  return Buffer.concat([head, question, rr]);
}

let pending = a.dns ? 2 : 1;
function ready() {
  if (--pending > 0) return;
  writeFileSync(a.ready + ".tmp", JSON.stringify({ port: server.address().port }));
  renameSync(a.ready + ".tmp", a.ready);
}
server.listen(0, "127.0.0.1", ready);
if (a.dns) {
  const dns = createSocket("udp4");
  dns.on("message", (msg, rinfo) => {
    const r = dnsAnswer(msg);
    if (r) dns.send(r, rinfo.port, rinfo.address);
  });
  dns.on("error", (e) => { console.error(`dns: ${e}`); process.exit(3); });
  dns.bind(53, a.dns, ready);
}
if (a["watch-pid"]) {
  setInterval(() => {
    try { process.kill(Number(a["watch-pid"]), 0); } catch { process.exit(0); }
  }, 500).unref();
}
for (const s of ["SIGTERM", "SIGINT"]) process.on(s, () => process.exit(0));
