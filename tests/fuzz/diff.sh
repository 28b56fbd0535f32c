#!/usr/bin/env bash
# tests/fuzz/diff.sh — compare the value codecs with go-cty on a corpus.
#
#   tests/fuzz/diff.sh [corpus-dir]     (default build/fuzz/corpus, filled
#                                        by tests/fuzz/run.sh)
#
# Builds tests/fuzz/ctyref against Debian's go-cty (GOPATH mode, no
# network) and tests/fuzz/ctydiff.c against the value module, checks 20,000
# random well-formed values go-cty generates (SEED=n picks another set),
# then the fuzz corpus, printing every disagreement. Exit status 1 only for real mismatches (both accept,
# different values or bytes); one-sided acceptance is listed for review.
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus=${1:-build/fuzz/corpus}
out=${FUZZ_OUT:-build/fuzz}
mkdir -p "$out"
case $out in /*) abs=$out ;; *) abs=$PWD/$out ;; esac
# CTY_GOPATH puts another go-cty first (e.g. a newer release unpacked by
# hand, to check refinements, which Debian's 1.12 predates).
(cd tests/fuzz/ctyref && GOPATH=${CTY_GOPATH:+$CTY_GOPATH:}/usr/share/gocode \
    GO111MODULE=off go build -o "$abs/ctyref" .)
cc -std=c17 -D_GNU_SOURCE -O1 -g -Iprovider $(pkg-config --cflags msgpack jansson yajl) \
    -o "$out/ctydiff" tests/fuzz/ctydiff.c provider/value/*.c provider/common/diag.c provider/common/utf8.c \
    provider/common/tbuf.c \
    $(pkg-config --libs msgpack jansson yajl) -lm
# 1. Random well-formed values from go-cty: all must agree.
"$out/ctyref" gen 20000 "${SEED:-1}" > "$out/gen-req.txt"
"$out/ctyref" < "$out/gen-req.txt" > "$out/gen-resp.txt"
echo "== generated values"
"$out/ctydiff" check "$out/gen-req.txt" "$out/gen-resp.txt" > "$out/gen-diff.txt" \
    || { cat "$out/gen-diff.txt"; exit 1; }
tail -1 "$out/gen-diff.txt"
# 2. The fuzz corpus (mostly hostile bytes), if there is one.
if [ -d "$corpus" ]; then
    echo "== fuzz corpus $corpus"
    find "$corpus" -type f -print0 | xargs -0 "$out/ctydiff" emit > "$out/diff-req.txt"
    "$out/ctyref" < "$out/diff-req.txt" > "$out/diff-resp.txt"
    "$out/ctydiff" check "$out/diff-req.txt" "$out/diff-resp.txt"
fi
