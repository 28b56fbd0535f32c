# tests/edge/failover.sh — cells, their serving states and the prober, end
# to end: the router and its scheduled handler (the template
# gen/templates/root/edge/worker.js) in workerd, the tenants written by the
# provider, the cells' definitions written as cellrouter_cell writes them
# and their states changed by cellctl (tests/edge/cells.sh), and cell
# servers on 127.0.0.1 that the harness stops, starts and makes unhealthy
# (its control server).
# A scheduled run is a cron trigger firing (POST /scheduled on the
# harness's control server), so a test runs as many as it needs at once.
#
# Sourced by tests/edge/run.sh, whose helpers these tests use; the names
# are in CELL_TESTS.

CELL_TESTS="cell_outage cell_flapping cell_pin cell_fail_static cell_standby_guard cell_unavailable"

. "$HERE/cells.sh"
. "$ROOT/tests/lib/terraform.sh"

# The prober's settings in these tests (what the spec's failover section
# gives the deployed Worker): fail after 3, restore after 5; the router
# keeps the states for 1 s.
CELL_VARS='{"FAILOVER_FAILURES":"3","FAILOVER_SUCCESSES":"5","FAILOVER_PROBE_TIMEOUT_SECONDS":"2","FAILOVER_MAX_DOWN_PERCENT":"50","CELL_STATES_CACHE_SECONDS":"1"}'

# cells_edge CELL...: the harness with these cells, each defined in the
# routing map with its server's /healthz as the health URL.
cells_edge() {
  EDGE_VARS=${EDGE_VARS:-$CELL_VARS} start_edge "$@"
  export CR_KV_NS CR_KV_TOKEN=$TOKEN
  CR_KV_NS=$(kv_ns)
  local c url
  for c in "$@"; do
    url=$(jq -r --arg c "$c" '.cells[$c]' "$T/edge.json")
    cr_cell_define "$c" "$url/ingest" "$url/healthz" "{\"cloud\":\"test\"}" || fail "cannot define cell $c"
  done
}

# tick: one scheduled run of the prober; it must end "ok".
RUNS=0
tick() {
  local out
  out=$(curl -sS -X POST "$CONTROL/scheduled") || fail "the control server did not answer"
  [ "$(jq -r .outcome <<<"$out")" = ok ] || fail "scheduled run: $out"
  RUNS=$((RUNS + 1))
  echo "scheduled run $RUNS: $out"
}
ticks() { local i; for i in $(seq 1 "$1"); do tick; done; }
cell_server() { curl -sS -X POST "$CONTROL/cells/$1/$2" ${3:+-d "$3"} >/dev/null || fail "cell $1 $2"; }
cell_health() { cell_server "$1" health "{\"status\":$2}"; }
states() { cr_cell_states; }
state_of() { states | jq -r --arg c "$1" '.cells[$c].state // "absent"'; }
record() { states | jq -c --arg c "$1" '.cells[$c]'; }
# The router re-reads the states after CELL_STATES_CACHE_SECONDS.
settle() { sleep 1.2; }
# failover_of TENANT: the x-cellrouter-failover the cell received ("null": none).
failover_of() { route "$1" "$ROUTER_URL/probe" >/dev/null; body_field .failover; }
prober_logged() { grep -c -F -- "$1" "$T/harness.log" || true; }

# Three cells: acme on cell-a with standby cell-b, globex the other way,
# initech on cell-c without a standby. $1: the Terraform driver function.
cells_tenants_config() {
  config <<EOF
resource "cellrouter_tenants" "fleet" {
  name = "cells"
  tenants = {
    acme    = { cell_id = "cell-a", endpoint = "$CELL_cell_a/ingest", standby_cell_id = "cell-b", standby_endpoint = "$CELL_cell_b/ingest" }
    globex  = { cell_id = "cell-b", endpoint = "$CELL_cell_b/ingest", standby_cell_id = "cell-a", standby_endpoint = "$CELL_cell_a/ingest" }
    initech = { cell_id = "cell-c", endpoint = "$CELL_cell_c/ingest" }
  }
}
EOF
}

cells_tenants_applied() {
  cells_tenants_config
  tf apply -auto-approve
  expect_rc 0
}

# The real Terraform drives this test where there is one (dev_overrides, no
# init), tfcore where not: tfd COMMAND ARGS...
tfd_setup() {
  if cr_tf_find; then
    mkdir -p "$T/bin"
    cp "$PROVIDER" "$T/bin/"
    cr_tf_setup "$T/tfrc" "$T/bin"
    cr_tf_versions "$T/cfg"
    echo "--- driver: $TERRAFORM ($("$TERRAFORM" version | head -n 1))"
  else
    echo "--- driver: tfcore (no terraform on PATH)"
  fi
}
tfd() {
  local c=$1; shift
  if [ -n "${TERRAFORM:-}" ]; then
    CLOUDFLARE_API_TOKEN=$TOKEN run "$TERRAFORM" -chdir="$T/cfg" "$c" -no-color -input=false \
      -state="$T/terraform.tfstate" "$@"
  else
    tf "$c" "$@"
  fi
}

# The document as the contract defines it: schema 1, updated_at, and per
# cell the fields with their types.
check_document() {
  states | jq -e '
    def rfc3339: type == "string" and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$");
    .schema == 1 and (.updated_at | rfc3339) and (.cells | type == "object") and
    all(.cells[]; (.state == "serving" or .state == "failed") and (.reason | type == "string") and
        (.changed_at | rfc3339) and (.changed_by | test("^(automation|operator:.+)$")) and
        (.pinned | type == "boolean") and (.version | type == "number" and . >= 1) and
        (if has("probe") then (.probe.failures | type == "number") and (.probe.successes | type == "number")
           and (.probe.checked_at | rfc3339) and (.probe.last_error | type == "string") else true end))' \
    >/dev/null || { states; fail "the states document does not have the contract's format"; }
}

# Kill a cell's server: after FAILOVER_FAILURES scheduled runs its tenants
# are served by their standby (and nobody else's routing changes); a plan
# right after shows no changes; the server back: traffic returns after
# FAILOVER_SUCCESSES runs. Prints the figures the issue asks for (FIGURE
# lines): runs and seconds from the outage to the failover, and the
# requests that failed meanwhile; the runs are 1 s apart, standing in for
# the cron trigger's minute.
t_cell_outage() {
  cells_edge cell-a cell-b cell-c
  tfd_setup
  cells_tenants_config
  tfd apply -auto-approve
  expect_rc 0
  eq "$(served_by acme)" cell-a "acme before"
  eq "$(served_by globex)" cell-b "globex before"
  tick
  eq "$(states | jq -c '.cells // {}')" '{}' "healthy cells leave the document alone"

  cell_server cell-a stop
  local t0 runs=0 failed_requests=0 i served
  t0=$(date +%s.%N)
  while :; do
    tick
    runs=$((runs + 1))
    for i in $(seq 1 10); do
      served=$(served_by acme)
      [ "$served" = cell-b ] || failed_requests=$((failed_requests + 1))
    done
    # One write of the document per run at most: the record's version
    # goes up by one per run (the probe counters, then the state).
    eq "$(record cell-a | jq .version)" "$runs" "cell-a's version after $runs runs"
    [ "$served" = cell-b ] && break
    [ "$runs" -lt 3 ] || fail "acme is not on its standby after $runs runs"
    eq "$(state_of cell-a)" serving "cell-a after $runs failed probes"
    sleep 1
  done
  local secs; secs=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}")
  eq "$runs" 3 "scheduled runs to the failover"
  echo "FIGURE outage->failover: $runs scheduled runs, $secs s (runs 1 s apart), $failed_requests of $((runs * 10)) requests failed"
  eq "$(failover_of acme)" "cell-a->cell-b" "x-cellrouter-failover reaches the standby"
  route acme "$ROUTER_URL/orders/1"
  eq "$(status)" 200 "acme through the standby"
  grep -qi '^x-cellrouter-failover' <(curl -sS -D - -o /dev/null -H "X-Tenant-ID: acme" "$ROUTER_URL/x") ||
    fail "the answer lacks x-cellrouter-failover"
  eq "$(served_by globex)" cell-b "globex untouched"
  eq "$(failover_of globex)" null "globex is not failed over"
  eq "$(state_of cell-a)" failed "cell-a's state"
  eq "$(record cell-a | jq -r .changed_by)" automation "changed_by"
  record cell-a | jq -r .reason | grep -q "^3 consecutive health checks failed: unreachable$" ||
    fail "reason: $(record cell-a | jq -r .reason)"
  check_document

  # Terraform never plans the serving state away: no changes.
  tfd plan -detailed-exitcode
  expect_rc 0
  out_has "No changes."

  # More runs while it is down change nothing (counters are capped).
  local v; v=$(record cell-a | jq .version)
  ticks 2
  eq "$(record cell-a | jq .version)" "$v" "no write while nothing changes"

  cell_server cell-a start
  for i in 1 2 3 4; do
    tick
    eq "$(served_by acme)" cell-b "acme after $i good probes"
  done
  tick
  eq "$(served_by acme)" cell-a "acme back after 5 good probes"
  eq "$(failover_of acme)" null "no failover header"
  eq "$(state_of cell-a)" serving "cell-a restored"
  record cell-a | jq -r .reason | grep -q "^5 consecutive health checks passed$" || fail "restore reason"
  check_document
  tfd plan -detailed-exitcode
  expect_rc 0
}

# Health that flaps (down, up, down, ...) never reaches a threshold: the
# cell keeps its state both ways.
t_cell_flapping() {
  cells_edge cell-a cell-b cell-c
  cells_tenants_applied
  local i
  for i in $(seq 1 8); do
    cell_health cell-a $([ $((i % 3)) = 0 ] && echo 200 || echo 503)
    tick
    eq "$(state_of cell-a)" serving "flapping serving cell after run $i"
  done
  eq "$(served_by acme)" cell-a "acme stays"
  # Failed (3 in a row), then flapping: never restored.
  cell_health cell-a 200
  tick
  cell_health cell-a 503
  ticks 2
  eq "$(state_of cell-a)" serving "two in a row"
  tick
  eq "$(state_of cell-a)" failed "three in a row fail it"
  record cell-a | jq -r .reason | grep -q "HTTP 503$" || fail "reason names the answer"
  for i in $(seq 1 10); do
    cell_health cell-a $([ $((i % 4)) = 0 ] && echo 503 || echo 200)
    tick
    eq "$(state_of cell-a)" failed "flapping failed cell after run $i"
  done
  eq "$(served_by acme)" cell-b "acme stays on its standby"
  check_document
}

# A pinned cell is never changed by the prober, whatever its health; an
# operator's failover is not undone by the prober.
t_cell_pin() {
  cells_edge cell-a cell-b cell-c
  cells_tenants_applied
  cr_cell_set cell-a - pin alice
  local before; before=$(record cell-a)
  cell_server cell-a stop
  ticks 6
  eq "$(record cell-a)" "$before" "a pinned cell's record"
  eq "$(state_of cell-a)" serving "pinned and down: still serving"
  # Pinned failed by hand, then healthy: stays failed.
  cell_server cell-a start
  cr_cell_set cell-a failed "" alice
  settle
  eq "$(served_by acme)" cell-b "operator's failover"
  before=$(record cell-a)
  ticks 7
  eq "$(record cell-a)" "$before" "pinned failed cell untouched"
  # Unpinned, an operator's failover is still the operator's to undo.
  cr_cell_set cell-a - unpin alice
  ticks 7
  eq "$(state_of cell-a)" failed "the prober leaves an operator's failover"
  eq "$(record cell-a | jq -r .changed_by)" operator:alice "changed_by"
  cr_cell_set cell-a serving "" alice
  settle
  eq "$(served_by acme)" cell-a "restored by the operator"
  check_document
}

# More than FAILOVER_MAX_DOWN_PERCENT of the cells down at once: nothing
# changes, and the log says why. One cell down of three: it fails over.
t_cell_fail_static() {
  cells_edge cell-a cell-b cell-c
  cells_tenants_applied
  cell_server cell-a stop
  cell_server cell-b stop
  ticks 6
  eq "$(states | jq -c '.cells // {}')" '{}' "nothing written during a mass outage"
  [ "$(prober_logged "fail-static: 2 of 3 cells look down at once, more than 50%")" -ge 6 ] ||
    fail "the prober did not log why it changed nothing"
  cell_server cell-b start
  ticks 3
  eq "$(state_of cell-a)" failed "one of three down fails over"
  eq "$(state_of cell-b)" absent "cell-b never recorded"
  eq "$(served_by acme)" cell-b "acme on its standby"
}

# A cell whose tenants' standby cell is failed or failing too is not
# failed; the tenants are listed only when a cell is about to fail.
t_cell_standby_guard() {
  cells_edge cell-a cell-b cell-c cell-d
  cells_tenants_applied
  ticks 2
  eq "$(prober_logged "listed ")" 0 "no tenant listing while cells are healthy"
  cr_cell_set cell-b failed "" bob       # acme's standby, failed by hand
  cell_server cell-a stop
  ticks 5
  eq "$(state_of cell-a)" serving "cell-a is not failed while its tenants' standby is failed"
  [ "$(prober_logged "not failing cell cell-a: the standby cell of its tenants (cell-b) is failing too")" -ge 3 ] ||
    fail "the prober did not say why it held cell-a"
  eq "$(prober_logged "listed 3 tenants for the standby cells of cell-a")" 3 "a listing per run with cell-a about to fail"
  settle
  route acme "$ROUTER_URL/x"
  eq "$(status)" 502 "acme still goes to its (unreachable) cell"
  # The standby back: cell-a fails over.
  cr_cell_set cell-b serving "" bob
  tick
  eq "$(state_of cell-a)" failed "failed once its tenants have somewhere to go"
  eq "$(served_by acme)" cell-b "acme on cell-b"
  # Two cells down in the same run that stand in for each other (two of
  # four: under the fail-static limit): neither is failed.
  cr_cell_set cell-a serving "" bob
  cell_server cell-a stop
  cell_server cell-b stop
  ticks 4
  eq "$(state_of cell-a)" serving "cell-a with its standby down"
  eq "$(state_of cell-b)" serving "cell-b with its standby down"
  [ "$(prober_logged "not failing cell cell-b: the standby cell of its tenants (cell-a) is failing too")" -ge 1 ] ||
    fail "the prober did not say why it held cell-b"
}

# Both the cell and its standby failed: 503 naming both; a failed cell
# without standby: 503 naming it; an unreadable states document: routing as
# before cells had states.
t_cell_unavailable() {
  cells_edge cell-a cell-b cell-c
  cells_tenants_applied
  cr_cell_set cell-a failed
  cr_cell_set cell-b failed
  cr_cell_set cell-c failed
  settle
  route acme "$ROUTER_URL/x"
  eq "$(status)" 503 "acme with both cells failed"
  eq "$(body_field .cells | jq -c .)" '["cell-a","cell-b"]' "503 names both cells"
  body_field .error | grep -q "cell cell-a is failed and its standby cell cell-b is failed too" || fail "503 message"
  route initech "$ROUTER_URL/x"
  eq "$(status)" 503 "initech without standby"
  eq "$(body_field .cells | jq -c .)" '["cell-c"]' "503 names the cell"
  for secret in "$CELL_cell_a" "$CELL_cell_b" ingest; do
    ! grep -qF "$secret" "$T/body" || fail "503 leaks $secret"
  done
  # Not JSON: the router keeps routing (as if every cell served).
  curl -sS -X PUT -H "Authorization: Bearer $TOKEN" --data-binary 'not json' \
    "$(kv_ns)/values/_cellrouter.cells" >/dev/null
  settle
  eq "$(served_by acme)" cell-a "an unreadable document"
  grep -q "the cell states document is not JSON; routing" "$T/harness.log" || fail "the router did not log the unreadable document"
  # The prober does not write over it: its run fails, saying why.
  local out; out=$(curl -sS -X POST "$CONTROL/scheduled")
  eq "$(jq -r .outcome <<<"$out")" exception "the prober's run"
  eq "$(kv_value _cellrouter.cells)" "not json" "the document is left alone"
  sleep 0.5
  grep -q "the prober does not write over it" "$T/harness.log" || fail "the prober did not say why it stopped"
}
