#!/usr/bin/env bash
# bench/startup.sh — start-up, memory and schema latency of the provider
# three ways, launched as Terraform launches it (tfcore bench-schema: the
# magic cookie, protocol 6, AutoMTLS with a fresh client certificate):
#
#   dynamic   build/terraform-provider-cellrouter (Debian's shared libraries)
#   static    build/static/terraform-provider-cellrouter (the release build)
#   go        build/bench/terraform-provider-gominimal (go-plugin + grpc-go,
#             the same schema, stripped like a released Go provider)
#
# Per provider: exec → handshake line (median and fastest of the launches),
# resident and private memory after the first GetProviderSchema, and
# GetProviderSchema round trips p50/p99 on one connection. ROUNDS rounds
# (default 3) of STARTS launches (10) and CALLS calls (1000) each, the
# three providers taking turns so that the load of a shared machine falls
# on all of them alike; each figure is the median of its rounds. Then the
# static build against the issue's targets. Figures in
# $BUILD/bench/startup.txt.
#
# Private memory is given two ways, from /proc/PID/smaps_rollup, and both
# are compared with the targets:
#   dirty_kb  Private_Dirty: what the process wrote (heap, stacks, data) —
#             memory only it uses and the kernel can only swap out;
#   uss_kb    Private_Clean + Private_Dirty (the USS): adds the pages of
#             files only this process maps, i.e. its own executable's code
#             and read-only data. Those are page cache, shared by every
#             instance of the same executable and dropped without writing
#             anything when memory is short, and how many of them a process
#             has mapped is largely the kernel's doing: a fault on code maps
#             up to 16 pages around it already in the page cache (fault-
#             around), so the count follows code layout and cache state
#             more than the code run (callgrind: the static provider runs
#             954 distinct 4 KB pages of code from exec to its exit after a
#             GetProviderSchema; it has ~1,900 mapped after that call).
# To compare like with like, each executable's page cache is emptied first
# (after sync), so the three are mapped from the same state: read from the
# file by the first launch (a freshly linked file would be all in cache,
# written, and the static provider would count its whole 10 MB of code).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
TFCORE=$B/tfcore
OUT=$B/bench
mkdir -p "$OUT"
unset TF_LOG TF_LOG_PROVIDER CELLROUTER_DB TF_REATTACH_PROVIDERS
ROUNDS=${ROUNDS:-3}
STARTS=${STARTS:-10}
CALLS=${CALLS:-1000}

# BIN_DYNAMIC, BIN_STATIC, BIN_GO: other executables in their place (an
# earlier build, to compare before and after in the same conditions).
declare -A BIN=(
  [dynamic]=${BIN_DYNAMIC:-$B/terraform-provider-cellrouter}
  [static]=${BIN_STATIC:-$B/static/terraform-provider-cellrouter}
  [go]=${BIN_GO:-$B/bench/terraform-provider-gominimal}
)
ORDER="dynamic static go"
# Freshly written executables have dirty page-cache pages, which smaps
# would count as the process's dirty memory; then their cached pages go
# (dd's nocache with no count: drop the whole file), see above.
sync "${BIN[@]}"
for k in $ORDER; do dd if="${BIN[$k]}" iflag=nocache count=0 status=none; done

# The three serve the same schema (tfcore's `providers schema -json` form).
for k in $ORDER; do
  TFCORE_PROVIDER=${BIN[$k]} "$TFCORE" schema >"$OUT/startup-schema-$k.json"
done
cmp -s "$OUT/startup-schema-dynamic.json" "$OUT/startup-schema-go.json" &&
cmp -s "$OUT/startup-schema-dynamic.json" "$OUT/startup-schema-static.json" ||
  { echo "bench-startup: the providers do not serve the same schema" >&2; exit 1; }

# field FILE REGEX: the number after REGEX in FILE.
field() { grep -oE "$2[0-9.]+" "$1" | head -n 1 | grep -oE '[0-9.]+$'; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A HS HSMIN RSS PRIV CLEAN DIRTY P50 P99
for r in $(seq 1 "$ROUNDS"); do
  for k in $ORDER; do
    f=$OUT/startup-$k.$r.raw
    TFCORE_PROVIDER=${BIN[$k]} "$TFCORE" bench-schema -n "$CALLS" -starts "$STARTS" >"$f"
    HS[$k]+=" $(field "$f" 'startup_exec_to_handshake_ms +p50=')"
    HSMIN[$k]+=" $(field "$f" 'startup_exec_to_handshake_ms +p50=[0-9.]+ min=')"
    RSS[$k]+=" $(field "$f" 'after_GetProviderSchema=')"
    PRIV[$k]+=" $(field "$f" 'private_kb +after_GetProviderSchema=')"
    CLEAN[$k]+=" $(field "$f" ' clean=')"
    DIRTY[$k]+=" $(field "$f" ' dirty=')"
    P50[$k]+=" $(field "$f" 'GetProviderSchema_roundtrip_us +p50=')"
    P99[$k]+=" $(field "$f" ' p99=')"
  done
done
for k in $ORDER; do
  for v in HS HSMIN RSS PRIV CLEAN DIRTY P50 P99; do
    eval "$v[\$k]=\$(echo \"\${$v[\$k]}\" | median)"
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t) ? "met" : "NOT met" }'; }
{
  echo "# provider start-up, AutoMTLS on ($(date -u +%FT%TZ), $(nproc) CPUs;" \
       "median of $ROUNDS rounds of $STARTS launches and $CALLS GetProviderSchema calls)"
  printf '%-8s %13s %9s %8s %8s %9s %9s %14s %14s %8s\n' build handshake_ms fastest_ms rss_kb uss_kb \
    clean_kb dirty_kb schema_p50_us schema_p99_us size_kb
  for k in $ORDER; do
    printf '%-8s %13s %9s %8s %8s %9s %9s %14s %14s %8s\n' "$k" "${HS[$k]}" "${HSMIN[$k]}" "${RSS[$k]}" \
      "${PRIV[$k]}" "${CLEAN[$k]}" "${DIRTY[$k]}" "${P50[$k]}" "${P99[$k]}" \
      "$(( $(stat -c %s "${BIN[$k]}") / 1024 ))"
  done
  echo
  h=$(ratio "${HS[static]}" "${HS[go]}")
  hm=$(ratio "${HSMIN[static]}" "${HSMIN[go]}")
  pd=$(ratio "${DIRTY[static]}" "${DIRTY[go]}")
  pa=$(ratio "${PRIV[static]}" "${PRIV[go]}")
  s50=$(ratio "${P50[static]}" "${P50[go]}")
  s99=$(ratio "${P99[static]}" "${P99[go]}")
  echo "static / go: handshake $h, fastest $hm (target <= 0.20: $(verdict "$h" 0.20) / $(verdict "$hm" 0.20));" \
       "private dirty $pd, USS $pa (target <= 0.33: $(verdict "$pd" 0.334) / $(verdict "$pa" 0.334));" \
       "schema p50 $s50, p99 $s99 (target <= 1: $(verdict "$s50" 1) / $(verdict "$s99" 1))"
  echo "static / dynamic: handshake $(ratio "${HS[static]}" "${HS[dynamic]}")," \
       "private dirty $(ratio "${DIRTY[static]}" "${DIRTY[dynamic]}"), USS $(ratio "${PRIV[static]}" "${PRIV[dynamic]}")"
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/startup.txt"
