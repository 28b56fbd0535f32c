#!/usr/bin/env bash
# tests/fuzz/diff.sh — compare the value codecs with go-cty on a corpus.
#
#   tests/fuzz/diff.sh [corpus-dir]     (default build/fuzz/corpus, filled
#                                        by tests/fuzz/run.sh)
#
# Builds tests/fuzz/ctyref against Debian's go-cty (GOPATH mode, no
# network) and tests/fuzz/ctydiff.c against the value module, then prints
# every disagreement. Exit status 1 only for real mismatches (both accept,
# different values or bytes); one-sided acceptance is listed for review.
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus=${1:-build/fuzz/corpus}
out=build/fuzz
mkdir -p "$out"
(cd tests/fuzz/ctyref && GOPATH=/usr/share/gocode GO111MODULE=off \
    go build -o "../../../$out/ctyref" .)
cc -std=c17 -D_GNU_SOURCE -O1 -g -Iprovider $(pkg-config --cflags msgpack jansson) \
    -o "$out/ctydiff" tests/fuzz/ctydiff.c provider/value/*.c provider/common/diag.c \
    $(pkg-config --libs msgpack jansson)
find "$corpus" -type f -print0 | xargs -0 "$out/ctydiff" emit > "$out/diff-req.txt"
"$out/ctyref" < "$out/diff-req.txt" > "$out/diff-resp.txt"
"$out/ctydiff" check "$out/diff-req.txt" "$out/diff-resp.txt"
