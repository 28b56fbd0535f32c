#!/usr/bin/env bash
# tests/gen/fuzz/fuzz.sh — build and run the cell-spec fuzzer (needs clang).
#
#   tests/gen/fuzz/fuzz.sh [seconds]     fuzz for that long (default 60)
#
# Seeds are the checked-in specs; crashes land in build/fuzz-gen/crash-*.
set -euo pipefail
cd "$(dirname "$0")/../../.."
secs=${1:-60}
out=build/fuzz-gen
mkdir -p "$out/corpus"
src=$(ls gen/*.c | grep -v gen/main.c)
sh gen/embed.sh gen/templates > "$out/templates.c"
clang -std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Igen \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -o "$out/fuzz_spec" tests/gen/fuzz/fuzz_spec.c $src "$out/templates.c" $(pkg-config --libs yaml-0.1)
cp examples/cellspec.yaml "$out/corpus/seed-example"
cp tests/gen/golden/spec.yaml "$out/corpus/seed-golden"
exec "$out/fuzz_spec" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/" "$out/corpus"
