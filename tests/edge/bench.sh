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
#           5,000) from BENCH_EDGE_CONCURRENCY clients (default 16), twice:
#           with both cells serving (their states document in KV, which
#           the router reads once per isolate every few seconds), and with
#           cell-0 failed (half of the requests go to their standby,
#           cell-1). EDGE_ROUTER=PATH measures another router.
#           BENCH_EDGE_BASELINE=PATH (or git:REV, the template at that
#           revision) runs a second router beside it on the same namespace,
#           and both take turns in BENCH_EDGE_ROUNDS rounds (default 10), so
#           a before/after figure is measured under the same machine load
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
ROUNDS=${BENCH_EDGE_ROUNDS:-10}
BASELINE=${BENCH_EDGE_BASELINE:-}
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

BASE_ARGS=()
case $BASELINE in
  "") ;;
  git:*) if git -C "$ROOT" show "${BASELINE#git:}:gen/templates/root/edge/worker.js" >"$W/baseline.js" 2>/dev/null; then
           BASE_ARGS=(--baseline "$W/baseline.js")
         else
           echo "bench-edge: no router at ${BASELINE#git:} in this clone: measuring without a baseline"
           BASELINE=""
         fi ;;
  *) BASE_ARGS=(--baseline "$BASELINE") ;;
esac
EDGE_TEST_TOKEN=$TOKEN node "$HERE/harness.mjs" --router "$ROUTER" "${BASE_ARGS[@]}" --cells cell-0,cell-1 \
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
    printf '    "tenant-%04d" = %d\n' "$i" $((i % 2))
  done
  printf '  }\n  endpoints = {\n    "cell-0" = "%s"\n    "cell-1" = "%s"\n  }\n}\n\n' \
    "$(jq -r '.cells["cell-0"]' "$J")" "$(jq -r '.cells["cell-1"]' "$J")"
  printf 'resource "cellrouter_tenants" "t" {\n  name    = "bench"\n'
  printf '  tenants = { for id, c in local.tenants : id => {\n'
  printf '    cell_id = "cell-${c}", endpoint = local.endpoints["cell-${c}"],\n'
  printf '    standby_cell_id = "cell-${1 - c}", standby_endpoint = local.endpoints["cell-${1 - c}"] } }\n}\n'
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

# The cells: definitions as cellrouter_cell writes them, states by cellctl.
. "$HERE/cells.sh"
export CR_KV_TOKEN=$TOKEN CELLCTL=$B/cellctl
CR_KV_NS="$(jq -r .api_url "$J")/accounts/$(jq -r .account_id "$J")/storage/kv/namespaces/$(jq -r .namespace_id "$J")"
for c in cell-0 cell-1; do
  url=$(jq -r --arg c "$c" '.cells[$c]' "$J")
  cr_cell_define "$c" "$url" "$url/healthz"
done
cr_cell_set cell-1 serving "" bench

# rps: the request load, in ROUNDS rounds taking turns with the baseline
# router when there is one; prints "total ok bad seconds rps" for the
# router, then for the baseline.
rps() {
  node --input-type=module - "$(jq -r .router "$J")" "$(jq -r '.baseline // ""' "$J")" "$N" "$REQS" "$CONC" "$ROUNDS" <<'EOF'
const [router, baseline, n, total, conc, rounds] = process.argv.slice(2).map((x, i) => i > 1 ? Number(x) : x);
const targets = [router, baseline].filter(Boolean).map((url) => ({ url, ok: 0, bad: 0, ms: 0, sent: 0 }));
async function burst(t, count) {
  let sent = 0;
  async function client() {
    while (sent < count) {
      const i = t.sent + sent++;
      const tenant = `tenant-${String((i % n) + 1).padStart(4, "0")}`;
      const r = await fetch(`${t.url}/bench/${i}`, { headers: { "x-tenant-id": tenant } });
      await r.arrayBuffer();
      if (r.status === 200) t.ok++; else t.bad++;
    }
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, () => client()));
  t.ms += performance.now() - t0;
  t.sent += count;
}
const per = Math.ceil(total / rounds);
for (let r = 0; r < rounds; r++)
  for (const t of r % 2 ? [...targets].reverse() : targets) await burst(t, per);
for (const t of targets)
  console.log(`${t.sent} ${t.ok} ${t.bad} ${(t.ms / 1000).toFixed(3)} ${(t.sent / (t.ms / 1000)).toFixed(0)}`);
EOF
}
rps >"$W/rps.txt"
cr_cell_set cell-0 failed "" bench
# The router re-reads the states every CELL_STATES_CACHE_SECONDS (5 s by
# default): the failover figure is one only once a tenant of cell-0
# (tenant-0002) is answered by its standby, cell-1.
for i in $(seq 1 60); do
  [ "$(curl -sS -H "x-tenant-id: tenant-0002" "$(jq -r .router "$J")/probe" | jq -r .cell)" = cell-1 ] && break
  [ "$i" -lt 60 ] || { echo "bench-edge: the router did not send tenant-0002 to its standby in 30 s"; exit 1; }
  sleep 0.5
done
rps >"$W/rps-failover.txt"
line() {   # line LABEL FILE ROW
  local total ok bad secs r
  read -r total ok bad secs r < <(sed -n "$3p" "$2")
  printf '%s: %d requests, %d concurrent clients: %s s, %s requests/s (%d ok, %d not 200)\n' \
    "$1" "$total" "$CONC" "$secs" "$r" "$ok" "$bad"
}
{
  echo "# edge: cloudflare_kv backend against the local KV API, router in workerd ($(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "# router: $ROUTER${BASELINE:+; baseline: $BASELINE (the two take turns in $ROUNDS rounds)}"
  printf 'apply %d tenants (create, one cellrouter_tenants): %.2f s, %d API requests\n' "$N" "$(awk "BEGIN{print $t1 - $t0}")" "$r1"
  printf 'plan  %d tenants (no changes, refresh all): %.2f s, %d API requests\n' "$N" "$(awk "BEGIN{print $t2 - $t1}")" "$r2"
  line "router, cells serving" "$W/rps.txt" 1
  [ -n "$BASELINE" ] && line "baseline, cells serving" "$W/rps.txt" 2
  line "router, cell-0 failed (half of the requests through failover)" "$W/rps-failover.txt" 1
  [ -n "$BASELINE" ] && line "baseline, cell-0 failed (it routes by the tenant's entry alone)" "$W/rps-failover.txt" 2
  true
} | tee "$OUT/edge.txt"
bad=$(( $(grep -o '[0-9]* not 200' "$OUT/edge.txt" | awk '{s += $1} END {print s + 0}') ))
[ "$bad" -eq 0 ] || { echo "bench-edge: $bad requests did not reach their cell"; exit 1; }
