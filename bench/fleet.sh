#!/usr/bin/env bash
# bench/fleet.sh — fleet benchmarks through tfcore (make bench-fleet, part of
# make bench): one cellrouter_tenants resource of N tenants against N
# cellrouter_tenant resources (for_each), on SQLite and, when the edge
# fixture is installed, on the local Cloudflare KV API (workerd).
#
# Steps per configuration, each a separate tfcore run:
#   apply      create everything (refresh of nothing, plan, apply)
#   plan       a no-change plan (refresh of everything, plan; exit 0)
#   change1%   apply with 1% of the tenants moved to another cell
#
# For each step: wall time of the tfcore run, CPU seconds of tfcore and of
# the provider processes (user+system, summed over the plan and apply
# processes: the provider's own share, measured apart from tfcore's and
# from other load on the machine), and the peak resident memory of tfcore
# and of the largest provider process (VmHWM). Figures are printed as a
# table and written to $BUILD/bench/fleet.txt.
#
# Sizes (environment):
#   BENCH_FLEET_SIZES    tenants in one resource        (default "10000 100000")
#   BENCH_FLEET_SINGLES  numbers of single resources    (default "10000")
#   BENCH_FLEET_KV_SIZES one resource on Cloudflare KV  (default "10000"; "" skips)
# 100,000 single resources are not measured by default: tfcore holds one
# instance per tenant with its own RPCs (100,000 Plan and Apply calls,
# parallelism 10), and real Terraform is far slower still at that count
# (issue 6: 113 s to apply 1,000 instances) — that is what the plural
# resource is for.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
SIZES=${BENCH_FLEET_SIZES-10000 100000}
SINGLES=${BENCH_FLEET_SINGLES-10000}
KV_SIZES=${BENCH_FLEET_KV_SIZES-10000}
OUT=$B/bench
mkdir -p "$OUT"
for f in "$B/tfcore" "$B/terraform-provider-cellrouter"; do
  [ -x "$f" ] || { echo "bench-fleet: $f is missing"; exit 1; }
done
unset TF_LOG TF_LOG_PROVIDER CELLROUTER_DB TF_REATTACH_PROVIDERS TFCORE_HOOK_BEFORE_APPLY
W=$(mktemp -d "$OUT/fleet.XXXXXX")
HP=
cleanup() {
  [ -n "$HP" ] && { kill "$HP" 2>/dev/null; wait "$HP" 2>/dev/null || true; }
  rm -rf "$W"
}
trap cleanup EXIT
# Snapshot the binaries: others may relink them in the shared build tree.
cp "$B/tfcore" "$B/terraform-provider-cellrouter" "$W/"
TFCORE=$W/tfcore
export TFCORE_PROVIDER=$W/terraform-provider-cellrouter
TXT=$OUT/fleet.txt

# sum FILE KEY / max FILE KEY over every KEY=value in the stats file.
sum() { grep -o "$2=[0-9.]*" "$1" | cut -d= -f2 | awk '{s += $1} END {printf "%.2f", s}'; }
max() { grep -o "$2=[0-9.]*" "$1" | cut -d= -f2 | sort -n | tail -n 1; }

# provider_block BACKEND: the provider block for sqlite (a map in $D) or kv.
provider_block() {
  if [ "$1" = kv ]; then
    printf 'provider "cellrouter" {\n  cloudflare_kv {\n'
    printf '    account_id   = "%s"\n    namespace_id = "%s"\n    api_url      = "%s"\n  }\n}\n\n' \
      "$(jq -r .account_id "$W/edge.json")" "$(jq -r .namespace_id "$W/edge.json")" "$(jq -r .api_url "$W/edge.json")"
  else
    printf 'provider "cellrouter" {\n  path = "%s"\n}\n\n' "$D/map.db"
  fi
}

# config KIND N MOVED BACKEND: $D/cfg with N tenants t000000... on cell-0..2
# (i mod 3); with MOVED=1 every 100th tenant is on cell-9 instead. KIND is
# plural (one cellrouter_tenants) or single (cellrouter_tenant for_each).
config() {
  mkdir -p "$D/cfg"
  provider_block "$4" >"$D/cfg/main.tf"
  awk -v n="$2" -v moved="$3" -v kind="$1" 'BEGIN {
    print "locals {"; print "  fleet = {"
    for (i = 0; i < n; i++) {
      c = i % 3; if (moved && i % 100 == 0) c = 9
      if (kind == "plural")
        printf "    t%06d = { cell_id = \"cell-%d\", endpoint = \"https://cell-%d.example.com/ingest\" }\n", i, c, c
      else
        printf "    t%06d = \"cell-%d\"\n", i, c
    }
    print "  }"; print "}"
  }' >>"$D/cfg/main.tf"
  if [ "$1" = plural ]; then
    printf '\nresource "cellrouter_tenants" "fleet" {\n  name    = "fleet"\n  tenants = local.fleet\n}\n' >>"$D/cfg/main.tf"
  else
    printf '\nresource "cellrouter_tenant" "t" {\n  for_each  = local.fleet\n  tenant_id = each.key\n'   >>"$D/cfg/main.tf"
    printf '  cell_id   = each.value\n  endpoint  = "https://${each.value}.example.com/ingest"\n}\n' >>"$D/cfg/main.tf"
  fi
}

# step LABEL WANT_RC CMD...: one tfcore run, measured; a table row.
step() {
  local label=$1 want=$2 rc=0
  shift 2
  rm -f "$D/stats"
  TFCORE_STATS=$D/stats CLOUDFLARE_API_TOKEN=${TOKEN:-} \
    "$TFCORE" -chdir="$D/cfg" "$@" -state="$D/terraform.tfstate" >"$D/out" 2>"$D/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "bench-fleet: $ROW $label: exit $rc, want $want" >&2
    tail -n 30 "$D/err" >&2
    exit 1
  fi
  printf '%-28s %-9s %8s %9s %11s %12s %14s\n' "$ROW" "$label" \
    "$(max "$D/stats" tfcore_elapsed_s)" "$(sum "$D/stats" tfcore_cpu_s)" \
    "$(sum "$D/stats" provider_cpu_s)" "$(max "$D/stats" tfcore_peak_rss_kb)" \
    "$(max "$D/stats" provider_peak_rss_kb)" | tee -a "$TXT"
}

# measure KIND N BACKEND: the three steps on a fresh map and state.
measure() {
  D=$W/$1-$2-$3
  rm -rf "$D"
  mkdir -p "$D"
  [ "$1" = plural ] && ROW="$2 in 1 resource ($3)" || ROW="$2 resources ($3)"
  config "$1" "$2" 0 "$3"
  step apply 0 apply -auto-approve
  step plan 0 plan -detailed-exitcode
  config "$1" "$2" 1 "$3"
  step change1% 0 apply -auto-approve
  grep -qE "Apply complete! Resources: 0 added, [1-9][0-9]* changed" "$D/out" ||
    { echo "bench-fleet: $ROW change1%: nothing changed" >&2; exit 1; }
  rm -rf "$D"
}

{
  echo "# fleet through tfcore ($(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "# wall_s: tfcore run; cpu_s: user+system CPU seconds of tfcore / of the provider processes;"
  echo "# peak_kb: peak resident memory of tfcore / of the largest provider process"
  printf '%-28s %-9s %8s %9s %11s %12s %14s\n' configuration step wall_s tfcore_cpu provider_cpu tfcore_peak provider_peak
} | tee "$TXT"

for n in $SIZES; do measure plural "$n" sqlite; done
for n in $SINGLES; do measure single "$n" sqlite; done

# Cloudflare KV: the local KV REST API of tests/edge (workerd via
# miniflare), when Node.js and the fixture's packages are installed.
if [ -n "$KV_SIZES" ]; then
  if command -v node >/dev/null 2>&1 && [ -d "$ROOT/tests/edge/node_modules/miniflare" ]; then
    TOKEN="bench-token-$$"
    EDGE_TEST_TOKEN=$TOKEN node "$ROOT/tests/edge/harness.mjs" \
      --router "$ROOT/examples/multicloud/edge/worker.js" --cells cell-0,cell-1 \
      --ready "$W/edge.json" --watch-pid $$ </dev/null >"$W/harness.log" 2>&1 &
    HP=$!
    for _ in $(seq 1 600); do
      [ -s "$W/edge.json" ] && break
      kill -0 "$HP" 2>/dev/null || break
      sleep 0.05
    done
    if [ -s "$W/edge.json" ]; then
      for n in $KV_SIZES; do measure plural "$n" kv; done
    else
      echo "# cloudflare kv: skipped, the local KV API did not start ($(tail -n 1 "$W/harness.log"))" | tee -a "$TXT"
    fi
  else
    echo "# cloudflare kv: skipped (Node.js or tests/edge/node_modules missing: make -C tests/edge deps)" | tee -a "$TXT"
  fi
fi
echo "# 100,000 single resources: not measured (see bench/fleet.sh)" | tee -a "$TXT"
