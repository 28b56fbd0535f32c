#!/usr/bin/env bash
# bench/provider.sh — provider benchmarks through tfcore (make bench).
#
#   schema.txt   exec → handshake line time, resident memory after
#                GetProviderSchema, GetProviderSchema round trips p50/p99
#                over 1000 calls (one AutoMTLS connection)
#   tenants.txt  for 1,000 and 10,000 tenants: apply (create all) and a
#                no-change plan: wall time, tfcore's peak RSS and the
#                provider's peak RSS (VmHWM of each provider process)
#
# Figures go to $BUILD/bench/*.txt and are printed. BENCH_SIZES overrides
# the tenant counts ("1000 10000").
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
TFCORE=$B/tfcore
export TFCORE_PROVIDER=$B/terraform-provider-cellrouter
OUT=$B/bench
mkdir -p "$OUT"
unset TF_LOG TF_LOG_PROVIDER CELLROUTER_DB TF_REATTACH_PROVIDERS

{
  echo "# provider startup and GetProviderSchema ($(date -u +%FT%TZ), $(nproc) CPUs)"
  "$TFCORE" bench-schema -n 1000 -starts 20
} >"$OUT/schema.txt"
cat "$OUT/schema.txt"

# stat FILE KEY: the value of KEY=... from the last line having it.
stat() { grep -o "$2=[0-9.]*" "$1" | tail -n 1 | cut -d= -f2; }
# peak FILE: the highest provider peak RSS recorded.
peak() { grep -o "provider_peak_rss_kb=[0-9]*" "$1" | cut -d= -f2 | sort -n | tail -n 1; }

{
  echo "# tenants: apply (create all) and no-change plan, parallelism 10 ($(date -u +%FT%TZ))"
  printf '%-8s %-16s %10s %18s %20s\n' tenants step wall_s tfcore_peak_kb provider_peak_kb
} >"$OUT/tenants.txt"

for n in ${BENCH_SIZES:-1000 10000}; do
  W=$OUT/work-$n
  rm -rf "$W"
  mkdir -p "$W/cfg"
  {
    printf 'provider "cellrouter" {\n  path = "%s"\n}\n\nlocals {\n  tenants = {\n' "$W/map.db"
    awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "    \"tenant-%06d\" = \"cell-%d\"\n", i, i % 32 }'
    printf '  }\n}\n\nresource "cellrouter_tenant" "t" {\n  for_each  = local.tenants\n'
    printf '  tenant_id = each.key\n  cell_id   = each.value\n'
    printf '  endpoint  = "https://${each.value}.example.com"\n  labels    = { tier = "gold" }\n}\n'
  } >"$W/cfg/main.tf"
  for step in apply plan; do
    S=$W/$step.stats
    rm -f "$S"
    args="-detailed-exitcode"
    [ $step = apply ] && args="-auto-approve"
    set +e
    TFCORE_STATS=$S "$TFCORE" -chdir="$W/cfg" $step -state="$W/terraform.tfstate" -parallelism=10 $args \
      >"$W/$step.out" 2>"$W/$step.err"
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
      echo "bench: $step of $n tenants failed (exit $rc), see $W/$step.err" >&2
      tail -n 20 "$W/$step.err" >&2
      exit 1
    fi
    grep -q "No changes\|Apply complete! Resources: $n added" "$W/$step.out" || {
      echo "bench: unexpected $step result for $n tenants, see $W/$step.out" >&2; exit 1; }
    printf '%-8s %-16s %10s %18s %20s\n' "$n" "$step" "$(stat "$S" tfcore_elapsed_s)" \
      "$(stat "$S" tfcore_peak_rss_kb)" "$(peak "$S")" >>"$OUT/tenants.txt"
  done
  rm -rf "$W"   # the map and state of 10,000 tenants are not worth keeping
done
echo "(apply = refresh + plan in one provider process, then a fresh provider for the final plan and apply of every tenant)" >>"$OUT/tenants.txt"
cat "$OUT/tenants.txt"
