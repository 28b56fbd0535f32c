#!/usr/bin/env bash
# tests/e2e/fleet.sh — end-to-end tests at fleet scale: one cellrouter_tenants
# resource holding FLEET_N tenants (2,000 by default), driven by tfcore as
# Terraform would, on a real SQLite routing map, with cellctl and sqlite3
# changing the map out of band.
#
#   BUILD=build bash tests/e2e/fleet.sh [TEST...]     (make test-fleet runs all)
#   FLEET_N=100000 BUILD=build bash tests/e2e/fleet.sh fleet
#                                       (the scale run: make bench-fleet)
#
# Tests:
#   fleet      apply of FLEET_N tenants, a no-change plan, drift on 3 keys
#              that shows exactly those 3, a failover of every tenant of
#              one cell (a third of them) as one apply written with a for
#              expression over a variable, a data source reading the cell
#              afterwards, import by prefix and by list, destroy
#   conflict   an out-of-band write between plan and apply in the 4th of 5
#              batches: the apply names the key, batches 1-3 stay written,
#              the state says exactly that, the next plan shows the rest
#   partial    a store failure (an SQLite trigger refusing one key) in the
#              4th batch of a create: same guarantees, then a clean retry
#   fleet_json the same fleet in tenants_json (one JSON document): apply, a
#              no-change plan, a reformatted document that plans no change,
#              drift on 3 keys that changes those 3 alone in the refreshed
#              document, a failover of a third of the fleet as a new
#              document, import by prefix, destroy
#   fleet_json_terraform
#              the same through the real Terraform (file("tenants.json"),
#              dev_overrides; the plan must show the 3 drifted tenants and
#              hide the rest); skipped when there is no terraform
#
# FLEET_N sets the size of `fleet` (default 2000, what make test and make
# test-asan run; the 100,000-tenant run takes minutes and is part of make
# bench-fleet, not of CI); FLEET_SMALL the size of the batch tests
# (default 5000, 5 batches of 1,000). Each test runs in $BUILD/e2e/fleet.*/<test>/ with its
# transcript in <test>/log (printed on failure); plans of 100,000 keys are
# kept out of the log (only their summary lines), the files stay in
# <test>/out. Any sanitizer report in the provider's stderr fails the test.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
N=${FLEET_N:-2000}
SMALL=${FLEET_SMALL:-5000}
mkdir -p "$B/e2e"
WORK=$(mktemp -d "$B/e2e/fleet.XXXXXX")
for f in "$B/tfcore" "$B/terraform-provider-cellrouter" "$B/cellctl"; do
  [ -x "$f" ] || { echo "fleet: $f is missing (make $BUILD/tfcore and the provider first)"; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "fleet: sqlite3 is missing (scripts/deps.sh)"; exit 1; }
# Snapshot the binaries: others may relink them in the shared build tree.
mkdir -p "$WORK/bin"
cp "$B/tfcore" "$B/terraform-provider-cellrouter" "$B/cellctl" "$WORK/bin/" ||
  { echo "fleet: cannot copy the binaries"; exit 1; }
TFCORE=$WORK/bin/tfcore
CELLCTL=$WORK/bin/cellctl
export TFCORE_PROVIDER=$WORK/bin/terraform-provider-cellrouter
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
unset TF_REATTACH_PROVIDERS CELLROUTER_DB TF_LOG TF_LOG_PROVIDER

# ---- assertion helpers (used inside a test's subshell) --------------------

fail() { echo "ASSERTION FAILED: $*"; exit 1; }

# run CMD...: stdout in $T/out, stderr in $T/err, status in RC. Short
# outputs are logged whole; long ones (a 100,000-key plan) by their first
# and summary lines.
run() {
  local t0=$SECONDS
  "$@" >"$T/out" 2>"$T/err"
  RC=$?
  echo "\$ $* -> exit $RC ($((SECONDS - t0)) s)"
  if [ "$(wc -l <"$T/out")" -le 200 ]; then
    sed 's/^/  | /' "$T/out"
  else
    head -n 40 "$T/out" | sed 's/^/  | /'
    echo "  | ... ($(wc -l <"$T/out") lines)"
    grep -E '^(Plan:|Apply complete|Destroy complete|No changes|Note:)|unchanged elements hidden' "$T/out" | sed 's/^/  | /'
  fi
  head -c 20000 "$T/err" | sed 's/^/  ! /'
}
expect_rc()  { [ "$RC" -eq "$1" ] || fail "exit status $RC, want $1"; }
out_has()    { grep -qF -- "$1" "$T/out" || fail "stdout lacks: $1"; }
err_has()    { grep -qF -- "$1" "$T/err" || fail "stderr lacks: $1"; }
out_matches() { grep -qE -- "$1" "$T/out" || fail "stdout does not match: $1"; }
eq()         { [ "$1" = "$2" ] || fail "${3:-value}: got '$1', want '$2'"; }

tf()      { local c=$1; shift; run "$TFCORE" -chdir="$T/cfg" "$c" -state="$T/terraform.tfstate" "$@"; }
cellctl() { run "$CELLCTL" --db "$T/map.db" "$@"; }
field()   { "$CELLCTL" --db "$T/map.db" get "$1" --json | jq -r "$2"; }
count_map() { sqlite3 "$T/map.db" 'SELECT count(*) FROM entries'; }
# count_cell C: entries whose primary cell is C.
count_cell() { sqlite3 "$T/map.db" "SELECT count(*) FROM entries WHERE cell_id = '$1'"; }
# state_count [FILE]: tenants the cellrouter_tenants instance holds in state.
state_count() { jq '[.resources[] | select(.type == "cellrouter_tenants") | .instances[].attributes.tenants | length] | add // 0' "${1:-$T/terraform.tfstate}"; }
# changed_keys: the distinct tenant keys rendered with ~, + or - in $T/out.
changed_keys() { grep -oE '^ +[-+~] "t[0-9]{6}"' "$T/out" | grep -oE 't[0-9]{6}' | sort -u | tr '\n' ' '; }

# fleet_config N [EXTRA]: cfg/fleet.tf with a local map of N tenants
# t000000..., spread over cell-0, cell-1 and cell-2 (primary cell i mod 3,
# standby the next cell), and cfg/main.tf with the provider, a variable
# `failed_cells` and the resource, whose map moves every tenant of a failed
# cell to its standby (a for expression with a conditional). EXTRA is
# appended to main.tf.
fleet_config() {
  mkdir -p "$T/cfg"
  awk -v n="$1" 'BEGIN {
    print "locals {"; print "  fleet = {"
    for (i = 0; i < n; i++) {
      c = i % 3; s = (i + 1) % 3
      printf "    t%06d = { cell_id = \"cell-%d\", endpoint = \"https://cell-%d.example.com/ingest\", standby_cell_id = \"cell-%d\", standby_endpoint = \"https://cell-%d.example.com/ingest\" }\n", i, c, c, s, s
    }
    print "  }"; print "}"
  }' >"$T/cfg/fleet.tf"
  cat >"$T/cfg/main.tf" <<EOF
provider "cellrouter" {
  path = "$T/map.db"
}

variable "failed_cells" {
  type    = list(string)
  default = []
}

resource "cellrouter_tenants" "fleet" {
  name = "fleet"
  tenants = { for id, t in local.fleet : id =>
    contains(var.failed_cells, t.cell_id)
    ? merge(t, { cell_id = t.standby_cell_id, endpoint = t.standby_endpoint,
                 standby_cell_id = t.cell_id, standby_endpoint = t.endpoint })
    : t }
}
${2:-}
EOF
  echo "--- main.tf"; sed 's/^/  : /' "$T/cfg/main.tf"
  echo "--- fleet.tf: $(wc -l <"$T/cfg/fleet.tf") lines, $(wc -c <"$T/cfg/fleet.tf") bytes"
}

# drift3: out of band, tenant 7 moves to cell-9, tenant N/2 fails over,
# the last tenant is deleted; k1, k2, k3 (the caller's locals) name them.
drift3() {
  k1=$(printf 't%06d' 7); k2=$(printf 't%06d' $((N / 2))); k3=$(printf 't%06d' $((N - 1)))
  cellctl set "$k1" --cell cell-9 --endpoint https://cell-9.example.com/ingest
  expect_rc 0
  cellctl failover "$k2"
  expect_rc 0
  cellctl delete "$k3"
  expect_rc 0
}

# ---- tests ------------------------------------------------------------------

t_fleet() {
  local third=$(((N + 2) / 3))   # tenants with i mod 3 = 0: cell-0
  fleet_config "$N" '
data "cellrouter_routing_map" "cell0" {
  cell_id = "cell-0"
}

output "on_cell0" { value = length(data.cellrouter_routing_map.cell0.tenants) }'
  # The data source does not depend on the resource, so it is read at plan,
  # before each apply: its output shows the map as the apply found it.

  tf apply -auto-approve
  expect_rc 0
  out_has "Plan: 1 to add, 0 to change, 0 to destroy."
  out_has "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
  eq "$(count_map)" "$N" "entries in the map"
  eq "$(state_count)" "$N" "tenants in the state"
  eq "$(count_cell cell-0)" "$third" "entries on cell-0"

  # A no-change plan: nothing to do, exit 0.
  tf plan -detailed-exitcode
  expect_rc 0
  out_has "No changes."

  # Drift on exactly 3 keys (two edits, one deletion): the plan shows those
  # 3 keys, and only those, both as drift and as the change that undoes it.
  local k1 k2 k3
  drift3
  tf plan -detailed-exitcode
  expect_rc 2
  out_has "cellrouter_tenants.fleet has changed"
  eq "$(changed_keys)" "$k1 $k2 $k3 " "keys shown in the plan"
  eq "$(grep -c "# ($((N - 3)) unchanged elements hidden)" "$T/out")" 2 "the other keys hidden in drift and plan"
  out_matches "~ cell_id += \"cell-9\" -> \"cell-1\""
  out_has "Plan: 0 to add, 1 to change, 0 to destroy."
  tf apply -auto-approve
  expect_rc 0
  eq "$(field "$k1" .cell_id)" cell-1 "$k1 restored"
  eq "$(count_map)" "$N" "entries after restoring the drift"

  # The data source (read at plan) finds a third of the fleet on cell-0.
  tf apply -auto-approve
  expect_rc 0
  out_has "on_cell0 = $third"

  # Failover of cell-0 as one apply: a third of the tenants move.
  local on_cell1
  on_cell1=$(count_cell cell-1)
  tf plan -detailed-exitcode -var 'failed_cells=["cell-0"]'
  expect_rc 2
  out_has "# ($((N - third)) unchanged elements hidden)"
  eq "$(grep -cE '^ +~ "t[0-9]{6}" = \{' "$T/out")" "$third" "tenants planned to move"
  tf apply -auto-approve -var 'failed_cells=["cell-0"]'
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
  eq "$(count_cell cell-0)" 0 "entries left on cell-0"
  eq "$(count_cell cell-1)" "$((on_cell1 + third))" "entries on cell-1 (its own and cell-0's)"
  eq "$(field t000000 .standby_cell_id)" cell-0 "t000000's standby after failover"
  tf plan -detailed-exitcode -var 'failed_cells=["cell-0"]'
  expect_rc 0
  tf apply -auto-approve -var 'failed_cells=["cell-0"]'
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 0 changed, 0 destroyed."
  out_has "on_cell0 = 0"

  # Import by prefix and by list into fresh states.
  local imp=$T/import.tfstate
  rm -f "$imp"
  run "$TFCORE" -chdir="$T/cfg" import -state="$imp" cellrouter_tenants.fleet 'fleet/prefix:t0001'
  expect_rc 0
  eq "$(state_count "$imp")" 100 "tenants imported by prefix t0001"
  eq "$(jq -r '.resources[0].instances[0].attributes.tenants.t000100.version' "$imp")" "$(field t000100 .version)" "imported version"
  rm -f "$imp"
  run "$TFCORE" -chdir="$T/cfg" import -state="$imp" cellrouter_tenants.fleet "fleet/t000001,t000002,$k3"
  expect_rc 0
  eq "$(jq -r '.resources[0].instances[0].attributes.tenants | keys | join(",")' "$imp")" "t000001,t000002,$k3" "tenants imported by list"

  tf destroy -auto-approve -var 'failed_cells=["cell-0"]'
  expect_rc 0
  out_has "Destroy complete! Resources: 1 destroyed."
  eq "$(count_map)" 0 "entries after destroy"
}

# small_config N LABEL: the resource with N tenants, each labelled rev=LABEL.
small_config() {
  fleet_config "$1"
  sed -i "s|standby_endpoint = \"\(https://cell-[0-9].example.com/ingest\)\" }|standby_endpoint = \"\1\", labels = { rev = \"$2\" } }|" "$T/cfg/fleet.tf"
  grep -q "rev = \"$2\"" "$T/cfg/fleet.tf" || fail "labels not written into fleet.tf"
}

t_conflict() {
  small_config "$SMALL" one
  tf apply -auto-approve
  expect_rc 0
  eq "$(count_map)" "$SMALL" "entries in the map"
  # Every entry changes; between plan and apply someone writes t003500,
  # which is in the 4th batch of 1,000 (keys are written in order).
  small_config "$SMALL" two
  TFCORE_HOOK_BEFORE_APPLY="'$CELLCTL' --db '$T/map.db' set t003500 --cell cell-7 --endpoint https://cell-7.example.com/ingest" \
    tf apply -auto-approve
  expect_rc 1
  err_has "Routing map entries changed"
  err_has "t003500"
  eq "$(field t003500 .cell_id)" cell-7 "the out-of-band write is kept"
  eq "$(sqlite3 "$T/map.db" "SELECT count(*) FROM entries WHERE labels LIKE '%\"two\"%'")" 3000 "entries written (batches 1-3)"
  eq "$(field t002999 .labels.rev)" two "last key of batch 3"
  eq "$(field t003000 .labels.rev)" one "first key of batch 4"
  # The state records exactly what was written: the next plan changes the
  # 2,000 entries left, and shows t003500's drift.
  eq "$(jq -r '.resources[0].instances[0].attributes.tenants.t002999.labels.rev' "$T/terraform.tfstate")" two "state of t002999"
  eq "$(jq -r '.resources[0].instances[0].attributes.tenants.t003000.labels.rev' "$T/terraform.tfstate")" one "state of t003000"
  tf plan -detailed-exitcode
  expect_rc 2
  out_has "cellrouter_tenants.fleet has changed"
  eq "$(grep -cE '^ +~ "t[0-9]{6}" = \{' "$T/out")" 2001 "keys in drift (1) and plan (2,000)"
  out_has "# ($((SMALL - 2000)) unchanged elements hidden)"
  tf apply -auto-approve
  expect_rc 0
  eq "$(sqlite3 "$T/map.db" "SELECT count(*) FROM entries WHERE labels LIKE '%\"two\"%'")" "$SMALL" "entries after the second apply"
  eq "$(field t003500 .cell_id)" cell-2 "t003500 back to its configured cell"
  tf plan -detailed-exitcode
  expect_rc 0
}

t_partial() {
  small_config "$SMALL" one
  # The provider creates the map file on first use; a plan of nothing
  # (no state yet) makes it, then a trigger makes the store refuse one key.
  tf plan
  expect_rc 0
  [ -f "$T/map.db" ] || cellctl list
  sqlite3 "$T/map.db" "CREATE TRIGGER fault BEFORE INSERT ON entries WHEN NEW.tenant_id = 't003500'
    BEGIN SELECT RAISE(ABORT, 'injected fault'); END;" || fail "cannot install the trigger"
  tf apply -auto-approve
  expect_rc 1
  eq "$(count_map)" 3000 "entries written (batches 1-3)"
  eq "$(state_count)" 3000 "tenants recorded in the state"
  eq "$(jq -r '.resources[0].instances[0].attributes.tenants.t002999.version' "$T/terraform.tfstate")" "$(field t002999 .version)" "state version of t002999"
  tf plan -detailed-exitcode
  expect_rc 2
  eq "$(grep -cE '^ +\+ "t[0-9]{6}" = \{' "$T/out")" 2000 "keys left to add"
  out_has "Plan: 0 to add, 1 to change, 0 to destroy."
  sqlite3 "$T/map.db" "DROP TRIGGER fault" || fail "cannot drop the trigger"
  tf apply -auto-approve
  expect_rc 0
  eq "$(count_map)" "$SMALL" "entries after the retry"
  eq "$(state_count)" "$SMALL" "tenants in the state after the retry"
  tf plan -detailed-exitcode
  expect_rc 0
}

# ---- the fleet as one JSON document (tenants_json) -----------------------

# fj_doc N FILE [FILTER]: the fleet document of N tenants (the same fleet
# as fleet_config), through the jq FILTER when given.
fj_doc() {
  awk -v n="$1" 'BEGIN { printf "{"
    for (i = 0; i < n; i++) {
      c = i % 3; s = (i + 1) % 3
      printf "%s\n  \"t%06d\": {\"cell_id\": \"cell-%d\", \"endpoint\": \"https://cell-%d.example.com/ingest\", \"standby_cell_id\": \"cell-%d\", \"standby_endpoint\": \"https://cell-%d.example.com/ingest\"}", (i ? "," : ""), i, c, c, s, s
    }
    print "\n}" }' >"$2.tmp"
  if [ -n "${3:-}" ]; then jq "$3" "$2.tmp" >"$2"; else mv "$2.tmp" "$2"; fi
  rm -f "$2.tmp"
}

# fj_config DOC: cfg/ with the resource reading DOC: under the real
# Terraform through file(), as users write it; tfcore has no file(), so
# there the document is inlined as a heredoc.
fj_config() {
  mkdir -p "$T/cfg"
  if [ "$FJ_DRIVER" = terraform ]; then
    cp "$1" "$T/cfg/tenants.json"
    cr_tf_versions "$T/cfg"
    cat >"$T/cfg/main.tf" <<EOF
provider "cellrouter" {
  path = "$T/map.db"
}

resource "cellrouter_tenants" "fleet" {
  name         = "fleet"
  tenants_json = file("\${path.module}/tenants.json")
}
EOF
  else
    { printf 'provider "cellrouter" {\n  path = "%s"\n}\n\n' "$T/map.db"
      printf 'resource "cellrouter_tenants" "fleet" {\n  name         = "fleet"\n  tenants_json = <<-JSON\n'
      sed 's/^/    /' "$1"
      printf '    JSON\n}\n'
    } >"$T/cfg/main.tf"
  fi
}

# tfj CMD ARGS...: Terraform's CMD through the test's driver.
tfj() {
  local c=$1; shift
  if [ "$FJ_DRIVER" = terraform ]; then
    run "$TERRAFORM" -chdir="$T/cfg" "$c" -no-color -input=false -state="$T/terraform.tfstate" "$@"
  else
    run "$TFCORE" -chdir="$T/cfg" "$c" -state="$T/terraform.tfstate" "$@"
  fi
}
fj_state_doc() { jq -r '.resources[0].instances[0].attributes.tenants_json' "${1:-$T/terraform.tfstate}"; }

fleet_json() {
  local third=$(((N + 2) / 3))
  fj_doc "$N" "$T/doc.json"
  fj_config "$T/doc.json"
  echo "--- tenants.json: $(wc -c <"$T/doc.json") bytes"
  tfj apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
  eq "$(count_map)" "$N" "entries in the map"
  eq "$(fj_state_doc | jq length)" "$N" "tenants in the state's document"
  eq "$(count_cell cell-0)" "$third" "entries on cell-0"

  tfj plan -detailed-exitcode
  expect_rc 0
  out_has "No changes."
  # Reformatted: compact and with its keys sorted, no change.
  jq -c --sort-keys . "$T/doc.json" >"$T/doc2.json"
  fj_config "$T/doc2.json"
  tfj plan -detailed-exitcode
  expect_rc 0
  out_has "No changes."

  # Drift on exactly 3 keys: the refreshed document changes in those 3
  # alone, and the real Terraform shows them alone.
  fj_config "$T/doc.json"
  local k1 k2 k3
  drift3
  tfj plan -detailed-exitcode
  expect_rc 2
  out_has "Plan: 0 to add, 1 to change, 0 to destroy."
  if [ "$FJ_DRIVER" = terraform ]; then
    eq "$(grep -oE '^ +[-+~] t[0-9]{6} += \{' "$T/out" | grep -oE 't[0-9]{6}' | sort -u | tr '\n' ' ')" "$k1 $k2 $k3 " "tenants shown in the plan"
    out_has "# ($((N - 3)) unchanged attributes hidden)"
    [ "$(wc -l <"$T/out")" -lt 100 ] || fail "the plan prints $(wc -l <"$T/out") lines"
    tfj apply -refresh-only -auto-approve
  else
    tfj refresh
  fi
  expect_rc 0
  fj_state_doc >"$T/refreshed.json"
  eq "$(jq -rn --slurpfile a "$T/doc.json" --slurpfile b "$T/refreshed.json" \
        '[$a[0] | to_entries[] | select(.value != $b[0][.key]) | .key] | join(" ")')" \
     "$k1 $k2 $k3" "tenants changed in the refreshed document"
  tfj apply -auto-approve
  expect_rc 0
  eq "$(field "$k1" .cell_id)" cell-1 "$k1 restored"
  eq "$(count_map)" "$N" "entries after restoring the drift"

  # Failover of cell-0 as one new document: a third of the tenants move.
  local on_cell1
  on_cell1=$(count_cell cell-1)
  fj_doc "$N" "$T/failover.json" 'map_values(if .cell_id == "cell-0" then {cell_id: .standby_cell_id, endpoint: .standby_endpoint, standby_cell_id: .cell_id, standby_endpoint: .endpoint} else . end)'
  fj_config "$T/failover.json"
  tfj apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
  eq "$(count_cell cell-0)" 0 "entries left on cell-0"
  eq "$(count_cell cell-1)" "$((on_cell1 + third))" "entries on cell-1 (its own and cell-0's)"
  tfj plan -detailed-exitcode
  expect_rc 0

  # Import by prefix into the document form, in a fresh state.
  local imp=$T/import.tfstate
  rm -f "$imp"
  if [ "$FJ_DRIVER" = terraform ]; then
    run "$TERRAFORM" -chdir="$T/cfg" import -no-color -input=false -state="$imp" cellrouter_tenants.fleet 'tenants_json/fleet/prefix:t0001'
  else
    run "$TFCORE" -chdir="$T/cfg" import -state="$imp" cellrouter_tenants.fleet 'tenants_json/fleet/prefix:t0001'
  fi
  expect_rc 0
  eq "$(fj_state_doc "$imp" | jq length)" 100 "tenants imported by prefix t0001"

  tfj destroy -auto-approve
  expect_rc 0
  out_has "Destroy complete! Resources: 1 destroyed."
  eq "$(count_map)" 0 "entries after destroy"
}

t_fleet_json() { FJ_DRIVER=tfcore fleet_json; }
t_fleet_json_terraform() {
  . "$ROOT/tests/lib/terraform.sh"
  if ! cr_tf_find; then
    echo "SKIP: no terraform on PATH (set TERRAFORM=/path/to/terraform)"
    exit "$CR_SKIP"
  fi
  cr_tf_setup "$T" "$WORK/bin"
  echo "driving $("$TERRAFORM" version | head -n 1)"
  FJ_DRIVER=terraform fleet_json
}

# ---- runner -----------------------------------------------------------------

TESTS="fleet fleet_json fleet_json_terraform conflict partial"
[ $# -gt 0 ] && TESTS="$*"
echo "fleet: FLEET_N=$N FLEET_SMALL=$SMALL"
KEEP=${E2E_KEEP:-${KEEP:-0}}
. "$ROOT/tests/lib/runner.sh"
cr_run_tests fleet
