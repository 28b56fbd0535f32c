#!/usr/bin/env bash
# tests/fuzz/run.sh — build and run a libFuzzer target (needs clang).
#
#   tests/fuzz/run.sh [seconds]           the value codecs (fuzz_value.c)
#   tests/fuzz/run.sh value [seconds]     the same
#   tests/fuzz/run.sh doc [seconds]       the documents (fuzz_doc.c): the
#                                         tenants_json document, the private
#                                         state's versions, Workers KV cells
#
# Default 60 seconds. Each target links the modules it fuzzes and what they
# need directly, so it does not depend on the rest of the provider
# building. New crashes land in build/fuzz/ as crash-*; the corpus grows in
# build/fuzz/corpus (value) or build/fuzz/corpus_doc (doc), which starts
# from the checked-in corpus and the seeds below. One job, one worker: the
# machines this runs on are small and shared. The log is
# build/fuzz/fuzz-0.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=value
case "${1:-}" in value|doc) target=$1; shift ;; esac
secs=${1:-60}
out=build/fuzz
CFLAGS="-std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Iprovider"
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"

if [ "$target" = value ]; then
    mkdir -p "$out/corpus"
    clang $CFLAGS $(pkg-config --cflags msgpack jansson yajl) $SAN \
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
    cd "$out"     # -jobs writes its log (fuzz-0.log) here
    exec nice ./fuzz_value -max_total_time="$secs" -max_len=4096 \
        -timeout=10 -jobs=1 -workers=1 -artifact_prefix=./ corpus
fi

# doc: the parsers and what they call (store, value and common modules; the
# store's HTTP and pacing code is linked but never reached).
PKGS="msgpack jansson yajl libcurl openssl sqlite3"
mkdir -p "$out/corpus_doc"
clang $CFLAGS $(pkg-config --cflags $PKGS) $SAN -o "$out/fuzz_doc" \
    tests/fuzz/fuzz_doc.c provider/resource/tenants_doc.c \
    provider/store/*.c provider/value/*.c provider/common/*.c \
    $(pkg-config --libs $PKGS) -lpthread
cd "$out"
exec nice ./fuzz_doc -max_total_time="$secs" -max_len=8192 -timeout=10 \
    -jobs=1 -workers=1 -artifact_prefix=./ -dict="$root/tests/fuzz/doc.dict" \
    corpus_doc "$root/tests/fuzz/corpus_doc"
