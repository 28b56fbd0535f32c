#!/usr/bin/env bash
# tests/edge/bench.sh — edge benchmarks on this machine (make bench):
#
#   apply   1,000 tenants in one cellrouter_tenants created through tfcore
#           with the cloudflare_kv backend against the local KV REST API
#           (workerd), wall time and API requests; then a no-change plan
#           (the refresh of 1,000). One resource, not 1,000: single
#           resources cost a request each to refresh and to write, and
#           Cloudflare allows 1,200 per 5 minutes (the stand-in enforces it)
#   router  requests per second through the router (its template) in workerd
#           to a local cell server: BENCH_EDGE_REQUESTS requests (default
#           5,000) from BENCH_EDGE_CONCURRENCY clients (default 16)
#
# Figures are printed and saved to $BUILD/bench/edge.txt. Everything runs
# on 127.0.0.1 and stops by itself. Skipped when Node.js is absent.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/edge
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
ROUTER=${EDGE_ROUTER:-$ROOT/gen/templates/root/edge/worker.js}
N=${BENCH_EDGE_TENANTS:-1000}
REQS=${BENCH_EDGE_REQUESTS:-5000}
CONC=${BENCH_EDGE_CONCURRENCY:-16}
OUT=$B/bench
mkdir -p "$OUT"

if ! command -v node >/dev/null 2>&1; then
  echo "bench-edge: skipped: Node.js is not installed" | tee "$OUT/edge.txt"
  exit 0
fi
[ -d "$HERE/node_modules/miniflare" ] || (cd "$HERE" && npm ci --silent --no-audit --no-fund)
unset TF_LOG TF_LOG_PROVIDER TF_REATTACH_PROVIDERS CELLROUTER_DB
export TFCORE_PROVIDER=$B/terraform-provider-cellrouter
TOKEN="bench-token-$$"
W=$(mktemp -d "$OUT/edge.XXXXXX")
trap 'kill $HP 2>/dev/null; wait $HP 2>/dev/null || true; rm -rf "$W"' EXIT

EDGE_TEST_TOKEN=$TOKEN node "$HERE/harness.mjs" --router "$ROUTER" --cells cell-0,cell-1 \
  --ready "$W/edge.json" --watch-pid $$ </dev/null >"$W/harness.log" 2>&1 &
HP=$!
for _ in $(seq 1 600); do
  [ -s "$W/edge.json" ] && break
  kill -0 $HP 2>/dev/null || break
  sleep 0.05
done
[ -s "$W/edge.json" ] || { cat "$W/harness.log"; echo "bench-edge: harness did not start"; exit 1; }
J=$W/edge.json
mkdir -p "$W/cfg"
{
  printf 'provider "cellrouter" {\n  cloudflare_kv {\n'
  printf '    account_id   = "%s"\n    namespace_id = "%s"\n    api_url      = "%s"\n  }\n}\n\n' \
    "$(jq -r .account_id "$J")" "$(jq -r .namespace_id "$J")" "$(jq -r .api_url "$J")"
  printf 'locals {\n  tenants = {\n'
  for i in $(seq 1 "$N"); do
    printf '    "tenant-%04d" = "cell-%d"\n' "$i" $((i % 2))
  done
  printf '  }\n  endpoints = {\n    "cell-0" = "%s"\n    "cell-1" = "%s"\n  }\n}\n\n' \
    "$(jq -r '.cells["cell-0"]' "$J")" "$(jq -r '.cells["cell-1"]' "$J")"
  printf 'resource "cellrouter_tenants" "t" {\n  name    = "bench"\n'
  printf '  tenants = { for id, cell in local.tenants : id => { cell_id = cell, endpoint = local.endpoints[cell] } }\n}\n'
} >"$W/cfg/main.tf"

tf() { CLOUDFLARE_API_TOKEN=$TOKEN "$B/tfcore" -chdir="$W/cfg" "$@" -state="$W/terraform.tfstate" -parallelism=10 >"$W/tf.out" 2>&1; }
requests() { curl -sS "$(jq -r .fixture "$J")/__fixture/stats" | jq -r .requests; }
t0=$(date +%s.%N)
tf apply -auto-approve || { tail -20 "$W/tf.out"; exit 1; }
t1=$(date +%s.%N)
r1=$(requests)
tf plan -detailed-exitcode || { tail -20 "$W/tf.out"; exit 1; }
t2=$(date +%s.%N)
r2=$(( $(requests) - r1 ))

node --input-type=module - "$(jq -r .router "$J")" "$N" "$REQS" "$CONC" >"$W/rps.txt" <<'EOF'
const [router, n, total, conc] = process.argv.slice(2).map((x, i) => i ? Number(x) : x);
let sent = 0, ok = 0, bad = 0;
async function client(c) {
  while (sent < total) {
    const i = sent++;
    const tenant = `tenant-${String((i % n) + 1).padStart(4, "0")}`;
    const r = await fetch(`${router}/bench/${i}`, { headers: { "x-tenant-id": tenant } });
    await r.arrayBuffer();
    if (r.status === 200) ok++; else bad++;
  }
}
const t0 = performance.now();
await Promise.all(Array.from({ length: conc }, (_, c) => client(c)));
const s = (performance.now() - t0) / 1000;
console.log(`${total} ${ok} ${bad} ${s.toFixed(3)} ${(total / s).toFixed(0)}`);
EOF
read -r total ok bad secs rps <"$W/rps.txt"
{
  echo "# edge: cloudflare_kv backend against the local KV API, router in workerd ($(date -u +%FT%TZ), $(nproc) CPUs)"
  printf 'apply %d tenants (create, one cellrouter_tenants): %.2f s, %d API requests\n' "$N" "$(awk "BEGIN{print $t1 - $t0}")" "$r1"
  printf 'plan  %d tenants (no changes, refresh all): %.2f s, %d API requests\n' "$N" "$(awk "BEGIN{print $t2 - $t1}")" "$r2"
  printf 'router: %d requests, %d concurrent clients: %s s, %s requests/s (%d ok, %d not 200)\n' \
    "$total" "$CONC" "$secs" "$rps" "$ok" "$bad"
} | tee "$OUT/edge.txt"
[ "$bad" -eq 0 ] || { echo "bench-edge: $bad requests did not reach their cell"; exit 1; }
