#!/usr/bin/env bash
# tests/gen/cli.sh — cellgen as CI uses it: --check passes on current output,
# fails with a diff (that `patch` applies) when a file was edited or removed
# or the spec changed, bad specs print file:line:col and write nothing,
# output is deterministic, and a change to one cell rewrites only the files
# that show that cell.
#
#   bash tests/gen/cli.sh build/cellgen tests/gen/golden modules
#
# The golden folder and the modules folder are given relative to the
# repository's top, and copied to the same places in a scratch directory:
# the root configuration names the modules by that relative path.
set -euo pipefail
CELLGEN=$(realpath "$1")
R=$2/root
M=$3
TOP=$(pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
ok()   { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }

cd "$TMP"
# The spec too: a ci section's pipeline repeats the paths cellgen was given.
S=$2/spec.yaml
mkdir -p "$R" "$M"
cp "$TOP/$S" "$S"
cp -r "$TOP/$R/." "$R/"
cp -r "$TOP/$M/." "$M/"
gen() { "$CELLGEN" -o "$R" --modules-dir "$M" "$@" "$S"; }

# 1. the checked-in golden output is current
if gen --check >out.txt 2>err.txt; then ok "golden output is current"; else fail "golden --check: $(cat err.txt)"; fi

# The two modules share their interface byte for byte.
cmp -s $M/aws_event_cell/variables.tf $M/azure_event_cell/variables.tf \
  && ok "aws and azure variables.tf are identical" || fail "variables.tf differ between clouds"

# 2. an edited file: exit 1, a unified diff naming it, and the diff repairs it
sed -i 's/batch_size/batch_sizes/' $M/aws_event_cell/main.tf
rm $R/outputs.tf
set +e; gen --check >diff.txt 2>err.txt; rc=$?; set -e
[ $rc -eq 1 ] && ok "--check exits 1 on drift" || fail "--check exit $rc on drift"
grep -q "^--- a/$M/aws_event_cell/main.tf$" diff.txt && grep -q '^-.*batch_sizes' diff.txt \
  && grep -q '^+.*batch_size ' diff.txt && ok "diff names the edited file and line" || fail "diff of edited file: $(head -20 diff.txt)"
grep -q '^--- /dev/null$' diff.txt && grep -q "^+++ b/$R/outputs.tf$" diff.txt \
  && ok "diff shows the missing file" || fail "missing file not in diff"
grep -q 'out of date' err.txt && ok "stderr says how to regenerate" || fail "no regenerate hint: $(cat err.txt)"
patch -s -p1 <diff.txt
if gen --check >/dev/null 2>&1; then ok "the --check diff applies with patch -p1 and repairs the tree"; else fail "patched tree still differs"; fi

# 3. --check writes nothing
rm $R/versions.tf
gen --check >/dev/null 2>&1 || true
[ ! -e $R/versions.tf ] && ok "--check writes nothing" || fail "--check wrote a file"

# 4. generation is deterministic and idempotent
gen 2>/dev/null
sum1=$(find "$R" "$M" -type f | sort | xargs sha256sum | sha256sum)
gen 2>err.txt
sum2=$(find "$R" "$M" -type f | sort | xargs sha256sum | sha256sum)
[ "$sum1" = "$sum2" ] && grep -q '0 files written' err.txt && ok "second run is byte-identical and writes nothing" \
  || fail "regeneration changed files: $(cat err.txt)"

# 5. a change to one cell: --check sees it, and regenerating rewrites only
# the files that show that cell (no header carries a hash of the whole spec)
cp "$S" spec.orig
sed -i 's/owner: "team west"/owner: "team far west"/' "$S"
set +e; gen --check >diff.txt 2>err.txt; rc=$?; set -e
[ $rc -eq 1 ] && grep -q '^+.*"team far west"' diff.txt && ok "--check detects a stale output after a spec change" \
  || fail "--check after a spec change: exit $rc, $(head -20 diff.txt)"
changed=$(grep '^+++ ' diff.txt | sed 's|^+++ b/||' | sort | tr '\n' ' ')
[ "$changed" = "$R/main.tf " ] && ok "one cell's tags change main.tf and nothing else" \
  || fail "a one-cell change touches: $changed"
gen 2>/dev/null
find "$R" "$M" -type f | sort | xargs sha256sum >before.txt
sed -i 's/^  - id: west$/  - id: north/; s/cell: west$/cell: north/' "$S"
gen 2>/dev/null
changed=$(find "$R" "$M" -type f | sort | xargs sha256sum | { diff - before.txt || true; } | sed -n 's|^> [0-9a-f]*  ||p' | tr '\n' ' ')
[ "$changed" = "$R/README.md $R/cells.tf $R/main.tf $R/tenants.json " ] \
  && ok "renaming a cell rewrites the files that name it, no module and no other file" \
  || fail "renaming a cell rewrote: $changed"
cp spec.orig "$S"
gen 2>/dev/null

# 6. a bad spec: every problem as file:line:col, exit 1, nothing written
cat >bad.yaml <<'YAML'
version: 1
system: shop
pipelin: {}
runtime:
  language: cobol
cells:
  - id: east
    cloud: aws
    region: us-east-1
tenants:
  - id: a
    cell: nowhere
YAML
set +e; "$CELLGEN" -o newroot --modules-dir newmods bad.yaml >out.txt 2>err.txt; rc=$?; set -e
[ $rc -eq 1 ] && ok "bad spec exits 1" || fail "bad spec exit $rc"
grep -q '^bad.yaml:3:1: unknown key "pipelin" in the spec; did you mean "pipeline"?$' err.txt \
  && grep -q '^bad.yaml:5:13: runtime.language must be "python" or "node", not "cobol"$' err.txt \
  && grep -q '^bad.yaml:12:11: tenant placed on cell "nowhere"' err.txt \
  && ok "every problem reported with line and column" || fail "diagnostics: $(cat err.txt)"
[ ! -e newroot ] && [ ! -e newmods ] && ok "nothing written for a bad spec" || fail "bad spec wrote output"

# 7. usage errors exit 2
set +e; "$CELLGEN" >/dev/null 2>&1; rc1=$?; "$CELLGEN" --bogus x >/dev/null 2>&1; rc2=$?
"$CELLGEN" /nonexistent.yaml >/dev/null 2>&1; rc3=$?; set -e
[ $rc1 -eq 2 ] && [ $rc2 -eq 2 ] && [ $rc3 -eq 2 ] && ok "usage and I/O errors exit 2" || fail "usage exits $rc1 $rc2 $rc3"

[ $fails -eq 0 ] && echo "cellgen cli: all passed" || { echo "cellgen cli: $fails failed"; exit 1; }
