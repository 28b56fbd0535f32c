#!/usr/bin/env bash
# bench/fleet.sh — fleet benchmarks (make bench-fleet, part of make bench).
# Figures are printed and written to $BUILD/bench/fleet.txt. Three parts,
# BENCH_FLEET_PARTS chooses (default "terraform exit tfcore"):
#
# terraform — the real Terraform CLI ($TERRAFORM, else `terraform` on PATH;
#   skipped with a note when there is none), through dev_overrides
#   (tests/lib/terraform.sh). One tenants.json document per size, the shape
#   of tests/e2e/fleet.sh (cell, endpoint, standby cell and endpoint), fed
#   to each variant side by side in the same run:
#     baseline  terraform_data { input = file("tenants.json") }: what
#               Terraform itself costs to carry the document as one string
#     map       cellrouter_tenants { tenants = jsondecode(file(...)) }: the
#               nested map; its cost grows with the square of the fleet in
#               Terraform core (go-cty type unification), so it is measured
#               at 2,500 / 5,000 / 10,000, not 100,000 (about 16 min)
#     json      cellrouter_tenants { tenants_json = file(...) }: the fleet as
#               one document, what a fleet of any size should use; at
#               10,000 and 100,000, side by side with the baseline
#     shards    the fleet split by tenant-id prefix into BENCH_FLEET_SHARDS
#               (100) files, one cellrouter_tenants per file with for_each
#               over fileset(): how a fleet beyond one resource (1,000,000
#               tenants) is managed
#   Steps per variant and size: apply (create everything), plan (no
#   change, exit 0), plan1 (one tenant changed, exit 2; lines of plan
#   output). Each: wall seconds, CPU seconds of Terraform and its provider
#   processes together (GNU time: a process's CPU includes the children it
#   reaped, and go-plugin reaps every provider), peak resident memory of
#   the largest of them. A summary then compares json with the baseline at
#   the same size (the ratios issue 11 sets: no-change plan at most 1.5x,
#   create-apply at most 2x, 10,000 -> 100,000 at most 11x).
#   Sizes: BENCH_FLEET_TF_SIZES_<variant> (baseline: "10000 100000"; map:
#   "2500 5000 10000"; json: "10000 100000"; shards: "1000000");
#   BENCH_FLEET_TF_VARIANTS (default "baseline map json shards").
#   A variant is one function, variant_<name> DIR, writing DIR/main.tf
#   around DIR/tenants.json (and, optionally, layout_<name> DIR, called
#   whenever DIR/tenants.json is written, for files made from it); adding
#   one is that function, its sizes and its name in the list.
#
# exit — go-plugin gives a provider 2 s to exit after GRPCController/
#   Shutdown before "plugin failed to exit gracefully" and a SIGKILL. Under
#   the real Terraform (tfcore when there is none), BENCH_FLEET_EXIT_RUNS
#   (20) plans and as many applies (each changing one tenant) of a
#   BENCH_FLEET_EXIT_N (2,000) tenant cellrouter_tenants with TF_LOG=debug;
#   counts the "failed to exit gracefully" lines and, for every provider
#   process, the time from its "shutting down" log line to Terraform's
#   "plugin process exited" (p50, p95, max), and checks no -wal file was
#   left behind. With BENCH_FLEET_EXIT_LOAD=1 (the default) the runs are
#   made under load, as the issue saw them: two CPU spinners and a writer
#   doing fsync'd 64 MB writes, stopped at the end of the step.
#
# tfcore — through tests/tfcore, which reports the provider's CPU apart from
#   its own: one cellrouter_tenants resource of N tenants against N
#   cellrouter_tenant resources (for_each), on SQLite and, when the edge
#   fixture is installed, on the local Cloudflare KV API (workerd); apply,
#   no-change plan and a 1% change. Sizes: BENCH_FLEET_SIZES (default
#   "10000 100000"), BENCH_FLEET_SINGLES ("10000"), BENCH_FLEET_KV_SIZES
#   ("10000"; "" skips). 100,000 single resources are not measured: tfcore
#   holds one instance per tenant with its own RPCs (100,000 Plan and Apply
#   calls, parallelism 10), and real Terraform is far slower still at that
#   count (issue 6: 113 s to apply 1,000 instances): that is what the
#   plural resource is for.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
PARTS=${BENCH_FLEET_PARTS-terraform exit tfcore}
SIZES=${BENCH_FLEET_SIZES-10000 100000}
SINGLES=${BENCH_FLEET_SINGLES-10000}
KV_SIZES=${BENCH_FLEET_KV_SIZES-10000}
TF_VARIANTS=${BENCH_FLEET_TF_VARIANTS-baseline map json shards}
BENCH_FLEET_TF_SIZES_baseline=${BENCH_FLEET_TF_SIZES_baseline-10000 100000}
BENCH_FLEET_TF_SIZES_map=${BENCH_FLEET_TF_SIZES_map-2500 5000 10000}
BENCH_FLEET_TF_SIZES_json=${BENCH_FLEET_TF_SIZES_json-10000 100000}
BENCH_FLEET_TF_SIZES_shards=${BENCH_FLEET_TF_SIZES_shards-1000000}
SHARDS=${BENCH_FLEET_SHARDS:-100}
EXIT_RUNS=${BENCH_FLEET_EXIT_RUNS:-20}
EXIT_N=${BENCH_FLEET_EXIT_N:-2000}
EXIT_LOAD=${BENCH_FLEET_EXIT_LOAD:-1}
OUT=$B/bench
mkdir -p "$OUT"
for f in "$B/tfcore" "$B/terraform-provider-cellrouter"; do
  [ -x "$f" ] || { echo "bench-fleet: $f is missing"; exit 1; }
done
unset TF_LOG TF_LOG_PROVIDER CELLROUTER_DB TF_REATTACH_PROVIDERS TFCORE_HOOK_BEFORE_APPLY
. "$ROOT/tests/lib/terraform.sh"
W=$(mktemp -d "$OUT/fleet.XXXXXX")
HP=
LOADPIDS=
cleanup() {
  [ -n "$HP" ] && { kill "$HP" 2>/dev/null; wait "$HP" 2>/dev/null || true; }
  load_stop
  rm -rf "$W"
}
trap cleanup EXIT
# Snapshot the binaries: others may relink them in the shared build tree.
mkdir -p "$W/bin"
cp "$B/tfcore" "$B/terraform-provider-cellrouter" "$W/bin/"
TFCORE=$W/bin/tfcore
export TFCORE_PROVIDER=$W/bin/terraform-provider-cellrouter
TXT=$OUT/fleet.txt
: >"$TXT"
say() { printf '%s\n' "$*" | tee -a "$TXT"; }

# sum FILE KEY / max FILE KEY over every KEY=value in the stats file.
sum() { grep -o "$2=[0-9.]*" "$1" | cut -d= -f2 | awk '{s += $1} END {printf "%.2f", s}'; }
max() { grep -o "$2=[0-9.]*" "$1" | cut -d= -f2 | sort -n | tail -n 1; }

# tenants_json N FILE [I CELL]: the fleet document: N tenants t000000...,
# primary cell i mod 3, standby the next one; tenant I on CELL instead.
tenants_json() {
  awk -v n="$1" -v mi="${3:--1}" -v mc="${4:-}" 'BEGIN { printf "{"
    for (i = 0; i < n; i++) {
      c = "cell-" (i % 3); s = "cell-" ((i + 1) % 3)
      if (i == mi) c = mc
      printf "%s\n  \"t%06d\": {\"cell_id\": \"%s\", \"endpoint\": \"https://%s.example.com/ingest\", \"standby_cell_id\": \"%s\", \"standby_endpoint\": \"https://%s.example.com/ingest\"}", (i ? "," : ""), i, c, c, s, s
    }
    print "\n}" }' >"$2"
}

# tenants_hcl N FILE [I CELL]: the same fleet as one cellrouter_tenants
# resource with the map written out (tfcore has no file() or jsondecode()),
# on the map DIR/map.db of FILE's folder.
tenants_hcl() {
  {
    printf 'provider "cellrouter" {\n  path = "%s"\n}\n\n' "$(dirname "$2")/map.db"
    printf 'resource "cellrouter_tenants" "fleet" {\n  name    = "fleet"\n  tenants = {\n'
    awk -v n="$1" -v mi="${3:--1}" -v mc="${4:-}" 'BEGIN {
      for (i = 0; i < n; i++) {
        c = "cell-" (i % 3); s = "cell-" ((i + 1) % 3)
        if (i == mi) c = mc
        printf "    t%06d = { cell_id = \"%s\", endpoint = \"https://%s.example.com/ingest\", standby_cell_id = \"%s\", standby_endpoint = \"https://%s.example.com/ingest\" }\n", i, c, c, s, s
      } }'
    printf '  }\n}\n'
  } >"$2"
}

# ---- real Terraform -----------------------------------------------------

# Variants: variant_NAME DIR writes DIR/main.tf around DIR/tenants.json.
variant_baseline() {
  cat >"$1/main.tf" <<'EOF'
resource "terraform_data" "fleet" {
  input = file("${path.module}/tenants.json")
}
EOF
}

# fleet_main DIR ARGUMENT: DIR/main.tf with one cellrouter_tenants holding
# DIR/tenants.json through ARGUMENT, on the map DIR/map.db.
fleet_main() {
  cr_tf_versions "$1"
  cat >"$1/main.tf" <<EOF
provider "cellrouter" {
  path = "$1/map.db"
}

resource "cellrouter_tenants" "fleet" {
  name = "fleet"
  $2
}
EOF
}

variant_map() { fleet_main "$1" 'tenants = jsondecode(file("${path.module}/tenants.json"))'; }

variant_json() { fleet_main "$1" 'tenants_json = file("${path.module}/tenants.json")'; }

# Sharding: one resource per shard file, the shard named by its file.
# Tenant ids t000000... are split by their first digits into $SHARDS files
# (shards/t00.json ... shards/t99.json for 100), so that a tenant's shard
# never changes and each resource stays well under the document limits.
variant_shards() {
  cr_tf_versions "$1"
  cat >"$1/main.tf" <<EOF
provider "cellrouter" {
  path = "$1/map.db"
}

locals {
  shards = { for f in fileset(path.module, "shards/*.json") :
             trimsuffix(basename(f), ".json") => f }
}

resource "cellrouter_tenants" "shard" {
  for_each     = local.shards
  name         = "fleet-\${each.key}"
  tenants_json = file("\${path.module}/\${each.value}")
}
EOF
}

# layout_shards DIR: DIR/shards/*.json from DIR/tenants.json (one tenant a
# line, as tenants_json writes it), by the first digits of the tenant id
# (two for 100 shards).
layout_shards() {
  local digits=$((${#SHARDS} - 1))
  rm -rf "$1/shards"
  mkdir -p "$1/shards"
  awk -v dir="$1/shards" -v d="$digits" '
    /^ *"t[0-9]/ {
      line = $0; sub(/,$/, "", line)
      match(line, /"t[0-9]+"/); k = substr(line, RSTART + 1, 1 + d)
      f = dir "/" k ".json"
      printf "%s\n%s", (f in seen ? "," : "{"), line > f
      seen[f] = 1
    }
    END { for (f in seen) { print "\n}" > f; close(f) } }' "$1/tenants.json"
}

# tf_step ROW LABEL WANT_RC ARGS...: one Terraform run in $D, measured with
# GNU time; a table row.
tf_step() {
  local row=$1 label=$2 want=$3 rc=0
  shift 3
  /usr/bin/time -f '%e %U %S %M' -o "$D/time" \
    "$TERRAFORM" -chdir="$D" "$@" -no-color >"$D/out" 2>"$D/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "bench-fleet: $row $label: exit $rc, want $want" >&2
    tail -n 30 "$D/err" >&2
    exit 1
  fi
  local wall user sys rss
  # The last line: GNU time starts with "Command exited with non-zero
  # status N" when the status is not 0.
  read -r wall user sys rss < <(tail -n 1 "$D/time")
  printf '%-24s %-6s %8s %9.2f %10s %11s\n' "$row" "$label" "$wall" \
    "$(echo "$user + $sys" | bc)" "$rss" "$(wc -l <"$D/out")" | tee -a "$TXT"
}

measure_tf() {
  local v=$1 n=$2
  D=$W/tf-$v-$n
  rm -rf "$D"
  mkdir -p "$D"
  cp "$W/tenants-$n.json" "$D/tenants.json"
  "variant_$v" "$D"
  if declare -F "layout_$v" >/dev/null; then "layout_$v" "$D"; fi
  local row="$v $n"
  tf_step "$row" apply 0 apply -auto-approve -input=false
  tf_step "$row" plan 0 plan -detailed-exitcode -input=false
  tenants_json "$n" "$D/tenants.json" 7 cell-9
  if declare -F "layout_$v" >/dev/null; then "layout_$v" "$D"; fi
  tf_step "$row" plan1 2 plan -detailed-exitcode -input=false
  rm -rf "$D"
}

part_terraform() {
  say ""
  if ! cr_tf_find; then
    say "# real Terraform: skipped (no terraform on PATH; set TERRAFORM=/path/to/terraform)"
    return 0
  fi
  [ -x /usr/bin/time ] || { say "# real Terraform: skipped (GNU time missing: scripts/deps.sh installs it)"; return 0; }
  cr_tf_setup "$W" "$W/bin"
  say "# fleet through $("$TERRAFORM" version | head -n 1) ($(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
  say "# cpu_s: user+system seconds of Terraform and its provider processes together;"
  say "# peak_kb: peak resident memory of the largest of them; lines: of the command's output"
  say "$(printf '%-24s %-6s %8s %9s %10s %11s' variant step wall_s cpu_s peak_kb lines)"
  local v n
  for v in $TF_VARIANTS; do
    declare -F "variant_$v" >/dev/null || { echo "bench-fleet: no variant_$v" >&2; exit 1; }
    eval "sizes=\${BENCH_FLEET_TF_SIZES_$v-}"
    for n in $sizes; do
      [ -f "$W/tenants-$n.json" ] || tenants_json "$n" "$W/tenants-$n.json"
      measure_tf "$v" "$n"
    done
  done
  tf_summary
}
# cpu ROW STEP: the cpu_s of a row of this run's table ("" when absent).
cpu() { awk -v r="$1" -v s="$2" 'substr($0, 1, 24) ~ "^" r " *$" && $(NF - 4) == s { print $(NF - 2) }' "$TXT" | tail -n 1; }

# The targets of issue 11, from the table just measured.
tf_summary() {
  local b p a j10 j100 r n step
  say ""
  say "# tenants_json against the baseline (terraform_data holding the same file), CPU s:"
  for n in $BENCH_FLEET_TF_SIZES_json; do
    b=$(cpu "baseline $n" plan); p=$(cpu "json $n" plan)
    [ -n "$b" ] && [ -n "$p" ] && say "$(printf '  %-7s no-change plan %7s vs %7s: %5.2fx (target <= 1.5x)' "$n" "$p" "$b" "$(echo "$p / $b" | bc -l)")"
    b=$(cpu "baseline $n" apply); a=$(cpu "json $n" apply)
    [ -n "$b" ] && [ -n "$a" ] && say "$(printf '  %-7s create-apply   %7s vs %7s: %5.2fx (target <= 2x)' "$n" "$a" "$b" "$(echo "$a / $b" | bc -l)")"
  done
  for step in apply plan plan1; do
    j10=$(cpu "json 10000" $step); j100=$(cpu "json 100000" $step)
    [ -n "$j10" ] && [ -n "$j100" ] && say "$(printf '  json 10,000 -> 100,000 %-6s %7s -> %7s: %5.2fx (target <= 11x)' "$step" "$j10" "$j100" "$(echo "$j100 / $j10" | bc -l)")"
  done
  r=$(awk 'substr($0, 1, 24) ~ /^json 100000 *$/ && $(NF - 4) == "plan1" { print $NF }' "$TXT")
  [ -n "$r" ] && say "  json 100000 plan1 (one tenant changed) printed $r lines of plan"
  return 0
}


# ---- exit after Shutdown --------------------------------------------------

load_start() {
  local i
  for i in 1 2; do (while :; do :; done) & LOADPIDS="$LOADPIDS $!"; done
  (while :; do dd if=/dev/zero of="$W/load.bin" bs=1M count=64 conv=fsync status=none; done) &
  LOADPIDS="$LOADPIDS $!"
}
load_stop() {
  [ -n "$LOADPIDS" ] || return 0
  kill $LOADPIDS 2>/dev/null
  wait $LOADPIDS 2>/dev/null || true
  LOADPIDS=
  rm -f "$W/load.bin"
}

# exit_times LOG...: milliseconds from each provider's "shutting down" line
# to the driver's "plugin process exited", one a line. Timestamps are the
# driver's (the first field); providers of one run follow one another.
exit_times() {
  awk 'function t(s,  a) { split(substr(s, 12, 12), a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
    /terraform-provider-cellrouter: shutting down/ { t0 = t($1) }
    /plugin process exited/ { if (t0 != "") { d = t($1) - t0; if (d < 0) d += 86400; printf "%.0f\n", d * 1000 }; t0 = "" }' "$@"
}

part_exit() {
  say ""
  local driver=tfcore
  cr_tf_find && driver=terraform
  D=$W/exit
  rm -rf "$D"
  mkdir -p "$D/logs"
  if [ $driver = terraform ]; then
    cr_tf_setup "$W" "$W/bin"
    variant_map "$D"
    tenants_json "$EXIT_N" "$D/tenants.json"
  else
    tenants_hcl "$EXIT_N" "$D/main.tf"
  fi
  local how=""
  [ "$EXIT_LOAD" = 1 ] && { load_start; how=" under load (2 CPU spinners, fsync'd writes)"; }
  say "# exit after Shutdown: $EXIT_RUNS plans and $EXIT_RUNS applies of $EXIT_N tenants through $driver, TF_LOG=debug$how ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
  local i rc wal=0
  for i in $(seq 1 "$EXIT_RUNS"); do
    for step in plan apply; do
      if [ $step = apply ]; then
        # One tenant moves each time: every apply writes.
        if [ $driver = terraform ]; then
          tenants_json "$EXIT_N" "$D/tenants.json" 1 "cell-$((i % 7 + 3))"
        else
          tenants_hcl "$EXIT_N" "$D/main.tf" 1 "cell-$((i % 7 + 3))"
        fi
        set -- apply -auto-approve
      else
        set -- plan
      fi
      rc=0
      if [ $driver = terraform ]; then
        TF_LOG=debug "$TERRAFORM" -chdir="$D" "$@" -no-color -input=false >"$D/out" 2>"$D/logs/$step.$i" || rc=$?
      else
        TF_LOG=debug "$TFCORE" -chdir="$D" "$@" -state="$D/terraform.tfstate" >"$D/out" 2>"$D/logs/$step.$i" || rc=$?
      fi
      [ $rc = 0 ] || { load_stop; echo "bench-fleet: exit run $step $i: exit $rc" >&2; tail -n 20 "$D/logs/$step.$i" >&2; exit 1; }
      [ -e "$D/map.db-wal" ] && wal=$((wal + 1))
    done
  done
  load_stop
  local failed runs times
  failed=$(cat "$D"/logs/* | grep -c "failed to exit gracefully" || true)
  runs=$(cat "$D"/logs/* | grep -c "plugin process exited" || true)
  times=$(exit_times "$D"/logs/* | sort -n)
  say "$(printf '%-34s %s' "provider processes" "$runs")"
  say "$(printf '%-34s %s' "'failed to exit gracefully' lines" "$failed")"
  say "$(printf '%-34s %s' "runs that left map.db-wal behind" "$wal")"
  say "$(printf '%-34s p50 %s ms, p95 %s ms, max %s ms (%s measured)' "exit after Shutdown" \
    "$(echo "$times" | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')" \
    "$(echo "$times" | awk '{a[NR] = $1} END {i = int(NR * 0.95 + 0.5); if (i < 1) i = 1; print a[i]}')" \
    "$(echo "$times" | tail -n 1)" "$(echo "$times" | grep -c .)")"
  rm -rf "$D"
}

# ---- tfcore ---------------------------------------------------------------

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

part_tfcore() {
  say ""
  {
    echo "# fleet through tfcore ($(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
    echo "# wall_s: tfcore run; cpu_s: user+system CPU seconds of tfcore / of the provider processes;"
    echo "# peak_kb: peak resident memory of tfcore / of the largest provider process"
    printf '%-28s %-9s %8s %9s %11s %12s %14s\n' configuration step wall_s tfcore_cpu provider_cpu tfcore_peak provider_peak
  } | tee -a "$TXT"

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
}

for part in $PARTS; do
  case $part in
    terraform|exit|tfcore) "part_$part" ;;
    *) echo "bench-fleet: unknown part $part (terraform, exit, tfcore)" >&2; exit 1 ;;
  esac
done
