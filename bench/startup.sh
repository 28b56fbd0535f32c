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
# Per provider: exec → handshake line (median of the launches), resident and
# private memory (smaps_rollup: clean = pages of files only it maps, such as
# its own executable's code; dirty = what it wrote) after the first
# GetProviderSchema, and GetProviderSchema round trips p50/p99 on one
# connection. ROUNDS rounds (default 3) of STARTS launches (10) and CALLS
# calls (1000) each, the three providers taking turns so that the load of
# a shared machine falls on all of them alike; each figure is the median of
# its rounds. Then the static build against the issue's targets. Figures in
# $BUILD/bench/startup.txt.
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

declare -A BIN=(
  [dynamic]=$B/terraform-provider-cellrouter
  [static]=$B/static/terraform-provider-cellrouter
  [go]=$B/bench/terraform-provider-gominimal
)
ORDER="dynamic static go"
# Freshly written executables have dirty page-cache pages, which smaps
# would count as the process's dirty memory.
sync "${BIN[@]}"

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

declare -A HS RSS PRIV CLEAN DIRTY P50 P99
for r in $(seq 1 "$ROUNDS"); do
  for k in $ORDER; do
    f=$OUT/startup-$k.$r.raw
    TFCORE_PROVIDER=${BIN[$k]} "$TFCORE" bench-schema -n "$CALLS" -starts "$STARTS" >"$f"
    HS[$k]+=" $(field "$f" 'startup_exec_to_handshake_ms +p50=')"
    RSS[$k]+=" $(field "$f" 'after_GetProviderSchema=')"
    PRIV[$k]+=" $(field "$f" 'private_kb +after_GetProviderSchema=')"
    CLEAN[$k]+=" $(field "$f" ' clean=')"
    DIRTY[$k]+=" $(field "$f" ' dirty=')"
    P50[$k]+=" $(field "$f" 'GetProviderSchema_roundtrip_us +p50=')"
    P99[$k]+=" $(field "$f" ' p99=')"
  done
done
for k in $ORDER; do
  for v in HS RSS PRIV CLEAN DIRTY P50 P99; do
    eval "$v[\$k]=\$(echo \"\${$v[\$k]}\" | median)"
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t) ? "met" : "NOT met" }'; }
{
  echo "# provider start-up, AutoMTLS on ($(date -u +%FT%TZ), $(nproc) CPUs;" \
       "median of $ROUNDS rounds of $STARTS launches and $CALLS GetProviderSchema calls)"
  printf '%-8s %13s %8s %11s %9s %9s %14s %14s %8s\n' build handshake_ms rss_kb private_kb clean_kb \
    dirty_kb schema_p50_us schema_p99_us size_kb
  for k in $ORDER; do
    printf '%-8s %13s %8s %11s %9s %9s %14s %14s %8s\n' "$k" "${HS[$k]}" "${RSS[$k]}" "${PRIV[$k]}" \
      "${CLEAN[$k]}" "${DIRTY[$k]}" "${P50[$k]}" "${P99[$k]}" "$(( $(stat -c %s "${BIN[$k]}") / 1024 ))"
  done
  echo
  h=$(ratio "${HS[static]}" "${HS[go]}")
  pd=$(ratio "${DIRTY[static]}" "${DIRTY[go]}")
  pa=$(ratio "${PRIV[static]}" "${PRIV[go]}")
  s50=$(ratio "${P50[static]}" "${P50[go]}")
  s99=$(ratio "${P99[static]}" "${P99[go]}")
  echo "static / go: handshake $h (target <= 0.20: $(verdict "$h" 0.20));" \
       "private dirty $pd, private all $pa (target <= 0.33: $(verdict "$pd" 0.334) / $(verdict "$pa" 0.334));" \
       "schema p50 $s50, p99 $s99 (target <= 1: $(verdict "$s50" 1) / $(verdict "$s99" 1))"
  echo "static / dynamic: handshake $(ratio "${HS[static]}" "${HS[dynamic]}")," \
       "private dirty $(ratio "${DIRTY[static]}" "${DIRTY[dynamic]}")"
} | tee "$OUT/startup.txt"
