#!/usr/bin/env bash
# bench/query.sh — `terraform query` over a large routing map (make
# bench-query, part of make bench): how much memory the provider needs to
# stream a map of N entries through ListResource, against N.
#
# For each size (BENCH_QUERY_SIZES, default "1000 10000 100000") a map is
# written by build/tests/seedmap, then tfcore (emulating Terraform 1.15)
# runs `query` with one list block reading every entry, without and with
# include_resource; TFCORE_STATS records the peak RSS (VmHWM) and CPU of
# each provider process and of tfcore. For contrast, the data source
# cellrouter_routing_map reads the same map as one value in one message
# (`plan`), the way the provider answers where it cannot stream. The
# provider's memory streaming must not grow with N (one store page, 500
# entries, and one event at a time); the data source's does.
#
# Figures go to $BUILD/bench/query.txt and are printed. A benchmark, not a
# test: nothing here is timed against a limit.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
TFCORE=$B/tfcore
SEEDMAP=$B/tests/seedmap
export TFCORE_PROVIDER=$B/terraform-provider-cellrouter TFCORE_EMULATE=1.15
OUT=$B/bench
mkdir -p "$OUT"
unset TF_LOG TF_LOG_PROVIDER CELLROUTER_DB TF_REATTACH_PROVIDERS

stat() { grep -o "$2=[0-9.]*" "$1" | tail -n 1 | cut -d= -f2; }
# peak FILE: the highest provider peak RSS recorded; cpu FILE: the sum of
# the providers' CPU seconds.
peak() { grep -o "provider_peak_rss_kb=[0-9]*" "$1" | cut -d= -f2 | sort -n | tail -n 1; }
cpu() { grep -o "provider_cpu_s=[0-9.]*" "$1" | cut -d= -f2 | awk '{ s += $1 } END { printf "%.2f", s }'; }

row() {   # row N WHAT STATS
  printf '%-8s %-30s %9s %16s %14s %16s\n' "$1" "$2" "$(stat "$3" tfcore_elapsed_s)" \
    "$(peak "$3")" "$(cpu "$3")" "$(stat "$3" tfcore_peak_rss_kb)" >>"$OUT/query.txt"
}

run() {   # run DIR STATS CMD...: tfcore CMD in DIR, failing the benchmark on error
  local dir=$1 stats=$2
  shift 2
  rm -f "$stats"
  if ! TFCORE_STATS=$stats "$TFCORE" -chdir="$dir" "$@" >"$dir/out" 2>"$dir/err"; then
    echo "bench: tfcore $* failed, see $dir/err" >&2
    tail -n 20 "$dir/err" >&2
    exit 1
  fi
}

{
  echo "# terraform query over the routing map: tfcore emulating 1.15, SQLite ($(date -u +%FT%TZ), $(nproc) CPUs)"
  printf '%-8s %-30s %9s %16s %14s %16s\n' entries step wall_s provider_peak_kb provider_cpu_s tfcore_peak_kb
} >"$OUT/query.txt"

for n in ${BENCH_QUERY_SIZES:-1000 10000 100000}; do
  W=$OUT/query-$n
  rm -rf "$W"
  mkdir -p "$W/cfg"
  "$SEEDMAP" "$W/map.db" "$n"
  printf 'provider "cellrouter" {\n  path = "%s"\n}\n' "$W/map.db" >"$W/cfg/main.tf"
  # The provider alone: a process that answered the schema and validated.
  run "$W/cfg" "$W/idle.stats" validate
  row "$n" "provider, schema only" "$W/idle.stats"
  for include in false true; do
    printf 'list "cellrouter_tenant" "all" {\n  provider         = cellrouter\n  limit            = %d\n  include_resource = %s\n}\n' \
      "$n" "$include" >"$W/cfg/all.tfquery.hcl"
    run "$W/cfg" "$W/query.stats" query
    got=$(grep -c '^list\.cellrouter_tenant\.all ' "$W/cfg/out" || true)
    [ "$got" = "$n" ] || { echo "bench: query listed $got of $n entries" >&2; exit 1; }
    row "$n" "query, include_resource=$include" "$W/query.stats"
  done
  rm -f "$W/cfg/all.tfquery.hcl"
  # The same map as one value (the data source): one message of all of it.
  printf 'data "cellrouter_routing_map" "all" {}\n' >>"$W/cfg/main.tf"
  run "$W/cfg" "$W/ds.stats" plan
  row "$n" "data source, one message" "$W/ds.stats"
  rm -rf "$W"
done
{
  echo "(provider_peak_kb: the highest VmHWM of the provider processes of the step; provider_cpu_s: their CPU"
  echo " time; query = validate walk + ListResource stream in one provider process, events of 500 entries read"
  echo " per store page; the data source row is a plan reading cellrouter_routing_map of the whole map)"
} >>"$OUT/query.txt"
cat "$OUT/query.txt"
