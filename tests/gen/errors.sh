#!/usr/bin/env bash
# tests/gen/errors.sh — one golden test per spec error: every NAME.yaml in
# the folder is a spec with one kind of problem, and NAME.want the exact
# diagnostics cellgen must print for it (file:line:col: message, then the
# summary line). Each must exit 1 and write nothing.
#
#   bash tests/gen/errors.sh build/cellgen tests/gen/golden/errors
#
# After a deliberate change to a message, rewrite the wants with
#   CELLGEN_ERRORS_UPDATE=1 bash tests/gen/errors.sh build/cellgen tests/gen/golden/errors
set -euo pipefail
CELLGEN=$(realpath "$1")
DIR=$(realpath "$2")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fails=0
cd "$DIR"
for spec in *.yaml; do
  name=${spec%.yaml}
  set +e
  "$CELLGEN" -o "$TMP/out" --modules-dir "$TMP/modules" --ci-dir "$TMP/ci" "$spec" >"$TMP/stdout" 2>"$TMP/stderr"
  rc=$?
  set -e
  if [ "${CELLGEN_ERRORS_UPDATE:-}" = 1 ]; then cp "$TMP/stderr" "$name.want"; fi
  if [ $rc -ne 1 ]; then
    echo "FAIL - $name: exit $rc, want 1"; fails=$((fails + 1))
  elif [ ! -f "$name.want" ]; then
    echo "FAIL - $name: no $name.want"; fails=$((fails + 1))
  elif ! diff -u "$name.want" "$TMP/stderr" >"$TMP/diff"; then
    echo "FAIL - $name: diagnostics differ from $name.want:"; cat "$TMP/diff"; fails=$((fails + 1))
  elif [ -e "$TMP/out" ] || [ -e "$TMP/modules" ] || [ -e "$TMP/ci" ] || [ -s "$TMP/stdout" ]; then
    echo "FAIL - $name: wrote output for a bad spec"; fails=$((fails + 1))
  else
    pass=$((pass + 1))
  fi
done
echo "cellgen spec errors: $pass passed, $fails failed"
[ $fails -eq 0 ]
