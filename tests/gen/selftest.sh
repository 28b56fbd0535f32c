#!/usr/bin/env bash
# tests/gen/selftest.sh — proves that each gencheck check can fail, and fails
# precisely: every folder under tests/gen/testdata/ holding a `want` file is a
# case. gencheck runs inside the case folder with the arguments in `args`
# (default: .) and the fixtures in tests/gen/schemas; its stdout must equal
# `want` byte for byte, and its exit status must be `status` (default: 1
# when `want` is non-empty, 0 when it is empty). Prints one line per case and
# a final "N passed, N failed" line; exits 1 when any case failed.
#
# Usage: tests/gen/selftest.sh path/to/gencheck
set -u
gencheck=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
pass=0
fail=0
for want in "$here"/testdata/*/want; do
  dir=$(dirname "$want")
  name=$(basename "$dir")
  args=.
  [ -f "$dir/args" ] && args=$(cat "$dir/args")
  if [ -f "$dir/status" ]; then
    expect=$(cat "$dir/status")
  elif [ -s "$want" ]; then
    expect=1
  else
    expect=0
  fi
  # shellcheck disable=SC2086 # args is a word list on purpose
  got=$(cd "$dir" && "$gencheck" -schemas ../../schemas $args 2>/dev/null; echo "status=$?")
  status=${got##*status=}
  out=${got%status=*}
  if [ "$status" = "$expect" ] && [ "$out" = "$(cat "$want")${out:+$'\n'}" ]; then
    echo "ok   $name"
    pass=$((pass + 1))
  else
    echo "FAIL $name: exit status $status (want $expect); output diff (-want +got):"
    diff <(cat "$want") <(printf '%s' "$out") | sed 's/^/    /'
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
