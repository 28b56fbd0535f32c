#!/usr/bin/env bash
# tests/fuzz/run.sh — build and run the value-codec fuzzer (needs clang).
#
#   tests/fuzz/run.sh [seconds]     fuzz for that long (default 60)
#
# The target links the value module and common/diag.c directly, so it does
# not depend on the rest of the provider building. New crashes land in
# build/fuzz/ as crash-*; the corpus grows in build/fuzz/corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
out=build/fuzz
mkdir -p "$out/corpus"
CFLAGS="-std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Iprovider $(pkg-config --cflags msgpack jansson yajl)"
clang $CFLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -o "$out/fuzz_value" tests/fuzz/fuzz_value.c provider/value/*.c \
    provider/common/diag.c provider/common/utf8.c provider/common/tbuf.c \
    $(pkg-config --libs msgpack jansson yajl)
# Seeds: one per mode, from the protocol sheet's byte examples.
seed() { printf "$2" > "$out/corpus/seed-$1"; }
seed obj  '\x20\x85\xa1a\xa1x\xa1b\x80\xa1c\xa30.1\xa1d\x91\x92\xc4\x08"string"\xa2hi\xa1e\x92\xc3\x91\x01'
seed unk  '\x00\xc7\x07\x0c\x82\x01\xc2\x02\xa2ab'
seed dyn  '\x0c\x92\xc4\x08"string"\xa2hi'
seed json '\x22{"a":"x","b":{"k":"v"},"c":1e+400,"d":[{"value":1,"type":"number"}],"e":[true,[1,2]]}'
seed type '\x03["object",{"a":["list","string"],"b":["tuple",["bool"]]}]'
exec "$out/fuzz_value" -max_total_time="$secs" -max_len=4096 -timeout=10 \
    -artifact_prefix="$out/" "$out/corpus"
