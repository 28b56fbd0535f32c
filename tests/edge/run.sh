#!/usr/bin/env bash
# tests/edge/run.sh — the edge end to end, on this machine: the provider
# (driven by tfcore exactly as Terraform would) writes the routing map into
# Workers KV through the REST API, and the generated edge router, running
# in Cloudflare's runtime (workerd, via miniflare), reads the same namespace
# and forwards requests to stand-in cell servers on 127.0.0.1.
#
#   BUILD=build bash tests/edge/run.sh [TEST...]      (make test-edge)
#
# The cells' tests (states, failover, the prober: t_cell_*) are in
# tests/edge/failover.sh, sourced below.
#
# Each test starts its own harness (tests/edge/harness.mjs: workerd with the
# router and the KV API fixture on one namespace, plus the cell servers) and
# works in $BUILD/edge/run.*/<test>/; the transcript is <test>/log, printed
# when the test fails. Without Node.js the whole suite is skipped with a
# message. EDGE_ROUTER overrides the router under test (default: its
# template gen/templates/root/edge/worker.js, which cellgen copies under a
# header into every root configuration; make check-generated proves the
# copies current). The last line is "edge: N passed, N failed".
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/edge
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
TFCORE=$B/tfcore
PROVIDER=$B/terraform-provider-cellrouter
CELLCTL=$B/cellctl
ROUTER=${EDGE_ROUTER:-$ROOT/gen/templates/root/edge/worker.js}

if ! command -v node >/dev/null 2>&1; then
  echo "edge: skipped: Node.js is not installed (scripts/deps.sh installs it; the edge tests need it to run workerd)"
  exit 0
fi
# The pinned miniflare (its undici) needs the Node.js that package.json's
# "engines" names; Debian 12's own nodejs is 18. Say so here rather than
# fail inside workerd.
if ! node -e '
  const need = require(process.argv[1]).engines.node.replace(/^>=/, "").split(".").map(Number);
  const have = process.versions.node.split(".").map(Number);
  const d = have.map((v, i) => v - need[i]).find(v => v !== 0);
  process.exit(d === undefined || d > 0 ? 0 : 1);' "$HERE/package.json"; then
  echo "edge: Node.js $(node --version) is older than tests/edge/package.json needs" \
       "($(node -p 'require(process.argv[1]).engines.node' "$HERE/package.json")): cannot run the edge tests"
  exit 1
fi
if [ ! -d "$HERE/node_modules/miniflare" ]; then
  echo "edge: installing the pinned npm packages (npm ci in tests/edge)"
  (cd "$HERE" && npm ci --silent --no-audit --no-fund) || {
    echo "edge: npm ci in tests/edge failed: cannot run the edge tests"; exit 1; }
fi
for f in "$TFCORE" "$PROVIDER" "$CELLCTL" "$ROUTER"; do
  [ -e "$f" ] || { echo "edge: $f is missing (build first; the router is gen/templates/root/edge/worker.js)"; exit 1; }
done

mkdir -p "$B/edge"
WORK=$(mktemp -d "$B/edge/run.XXXXXX")
export TFCORE_PROVIDER=$PROVIDER
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$HERE/lsan.supp:print_suppressions=0}
unset TF_REATTACH_PROVIDERS CELLROUTER_DB TF_LOG TF_LOG_PROVIDER
unset CLOUDFLARE_API_TOKEN CLOUDFLARE_ACCOUNT_ID CLOUDFLARE_KV_NAMESPACE_ID CLOUDFLARE_API_URL
# A recognisable secret: no output, log or diagnostic may ever contain it.
TOKEN="edge-test-token-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

# ---- helpers (used inside a test's subshell) ------------------------------

fail() { echo "ASSERTION FAILED: $*"; exit 1; }

run() {
  "$@" >"$T/out" 2>"$T/err"
  RC=$?
  echo "\$ $* -> exit $RC"
  sed 's/^/  | /' "$T/out"
  sed 's/^/  ! /' "$T/err"
}
expect_rc()  { [ "$RC" -eq "$1" ] || fail "exit status $RC, want $1"; }
out_has()    { grep -qF -- "$1" "$T/out" || fail "stdout lacks: $1"; }
out_lacks()  { ! grep -qF -- "$1" "$T/out" || fail "stdout has: $1"; }
err_has()    { grep -qF -- "$1" "$T/err" || fail "stderr lacks: $1"; }
err_lacks()  { ! grep -qF -- "$1" "$T/err" || fail "stderr has: $1"; }
out_matches() { grep -qE -- "$1" "$T/out" || fail "stdout does not match: $1"; }
eq()         { [ "$1" = "$2" ] || fail "${3:-value}: got '$1', want '$2'"; }

# start_edge CELL...: starts the harness with these cell servers and sets
# ROUTER_URL, API_URL, FIXTURE, CONTROL, ACCOUNT, NAMESPACE and CELL_<name>
# (dashes become underscores). EDGE_VARS (a JSON object) holds the router's
# plain-text bindings. Stopped when the test's subshell exits.
start_edge() {
  local cells; cells=$(IFS=,; echo "$*")
  EDGE_TEST_TOKEN=$TOKEN node "$HERE/harness.mjs" --router "$ROUTER" \
    --cells "$cells" --ready "$T/edge.json" --watch-pid "$BASHPID" --vars "${EDGE_VARS:-{\}}" \
    </dev/null >"$T/harness.log" 2>&1 &
  HARNESS_PID=$!
  trap 'kill $HARNESS_PID 2>/dev/null; wait $HARNESS_PID 2>/dev/null' EXIT
  for _ in $(seq 1 600); do      # hang guard: workerd starts in ~1 s
    [ -s "$T/edge.json" ] && break
    kill -0 $HARNESS_PID 2>/dev/null || break
    sleep 0.05
  done
  [ -s "$T/edge.json" ] || { cat "$T/harness.log"; fail "the edge harness did not start"; }
  ROUTER_URL=$(jq -r .router "$T/edge.json")
  API_URL=$(jq -r .api_url "$T/edge.json")
  FIXTURE=$(jq -r .fixture "$T/edge.json")
  CONTROL=$(jq -r .control "$T/edge.json")
  ACCOUNT=$(jq -r .account_id "$T/edge.json")
  NAMESPACE=$(jq -r .namespace_id "$T/edge.json")
  for c in "$@"; do
    eval "CELL_${c//-/_}=\$(jq -r --arg c \"\$c\" '.cells[\$c]' \"\$T/edge.json\")"
  done
  echo "--- edge: router $ROUTER_URL, api $API_URL"
}

# provider_block [EXTRA]: the cellrouter provider on this test's namespace.
provider_block() {
  printf 'provider "cellrouter" {\n  cloudflare_kv {\n'
  printf '    account_id   = "%s"\n    namespace_id = "%s"\n' "$ACCOUNT" "$NAMESPACE"
  printf '    api_url      = "%s"\n%s  }\n}\n\n' "$API_URL" "${1:-}"
}

# config [EXTRA]: cfg/main.tf = the provider block + stdin.
config() {
  mkdir -p "$T/cfg"
  { provider_block "${1:-}"; cat; } >"$T/cfg/main.tf"
  echo "--- main.tf"; sed 's/^/  : /' "$T/cfg/main.tf"
}

# The token goes in through the environment, so the transcript (which
# echoes command lines) never holds it.
tf() {
  local c=$1; shift
  CLOUDFLARE_API_TOKEN=$TOKEN run "$TFCORE" -chdir="$T/cfg" "$c" -state="$T/terraform.tfstate" "$@"
}
# cellctl on the same namespace: --backend cloudflare_kv takes its settings
# from the environment.
cf_env() {
  export CLOUDFLARE_ACCOUNT_ID=$ACCOUNT CLOUDFLARE_KV_NAMESPACE_ID=$NAMESPACE CLOUDFLARE_API_URL=$API_URL
}
cellctl() {
  cf_env
  CLOUDFLARE_API_TOKEN=$TOKEN run "$CELLCTL" --backend cloudflare_kv "$@"
}

# route TENANT [CURL ARGS...]: one request through the router; the status
# goes to $T/status, the body to $T/body.
route() {
  local tenant=$1; shift
  local hdr=()
  [ -n "$tenant" ] && hdr=(-H "X-Tenant-ID: $tenant")
  curl -sS -o "$T/body" -w '%{http_code}' "${hdr[@]}" "$@" >"$T/status" 2>>"$T/curl.err"
  echo "route ${tenant:-<none>} $* -> $(cat "$T/status") $(head -c 300 "$T/body")"
}
status() { cat "$T/status"; }
body_field() { jq -r "$1" "$T/body"; }
# served_by TENANT: the cell that answered a GET for TENANT.
served_by() { route "$1" "$ROUTER_URL/probe" >/dev/null; [ "$(status)" = 200 ] && body_field .cell || echo "HTTP $(status)"; }

kv_ns() { echo "$API_URL/accounts/$ACCOUNT/storage/kv/namespaces/$NAMESPACE"; }
# kv_put KEY VALUE METADATA_JSON: a write through the API, out of band.
kv_put() {
  curl -sS -X PUT -H "Authorization: Bearer $TOKEN" -F "value=$2" -F "metadata=$3" \
    "$(kv_ns)/values/$1" | jq -e .success >/dev/null || fail "kv_put $1 failed"
}
kv_metadata() { curl -sS -H "Authorization: Bearer $TOKEN" "$(kv_ns)/metadata/$1"; }
kv_value() { curl -sS -H "Authorization: Bearer $TOKEN" "$(kv_ns)/values/$1"; }
fault() { curl -sS -X POST -d "$1" "$FIXTURE/__fixture/faults" >/dev/null; }
stats() { curl -sS "$FIXTURE/__fixture/stats" | jq -r ".$1"; }
# fixture CONTROL JSON: a test control of the KV API stand-in (kv-api.js).
fixture() { curl -sS -X POST -d "$2" "$FIXTURE/__fixture/$1" >/dev/null; }
reset_stats() { fixture stats/reset '{}'; }
no_token_anywhere() {
  # cfg/ may hold it on purpose (api_token in the configuration).
  if grep -rlF --exclude-dir=cfg -- "$TOKEN" "$T" 2>/dev/null | grep -v '/log$'; then
    fail "the API token appears in the files above"
  fi
}

# Three cells with tenants, standby for acme, labels. $1: extra lines for
# the cloudflare_kv block.
base_config() {
  config "${1:-}" <<EOF
locals {
  tenants = {
    acme    = { cell = "cell-a", endpoint = "$CELL_cell_a/ingest" }
    globex  = { cell = "cell-b", endpoint = "$CELL_cell_b" }
    initech = { cell = "cell-c", endpoint = "$CELL_cell_c/v2/" }
  }
}

resource "cellrouter_tenant" "t" {
  for_each         = local.tenants
  tenant_id        = each.key
  cell_id          = each.value.cell
  endpoint         = each.value.endpoint
  standby_cell_id  = each.key == "acme" ? "cell-b" : null
  standby_endpoint = each.key == "acme" ? "$CELL_cell_b/ingest" : null
  labels           = { tier = "gold" }
}
EOF
}

applied_base() {
  start_edge cell-a cell-b cell-c
  base_config
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 3 added, 0 changed, 0 destroyed."
}

# ---- tests -------------------------------------------------------------------

t_route() {
  applied_base
  eq "$(served_by acme)" cell-a acme
  eq "$(served_by globex)" cell-b globex
  eq "$(served_by initech)" cell-c initech
  # Method, path below the endpoint's path, query, headers and body go on.
  route acme -X POST -H "X-Test: forwarded" --data-binary 'order=42' "$ROUTER_URL/orders/7?expand=items&x=1"
  eq "$(status)" 200 status
  eq "$(body_field .method)" POST method
  eq "$(body_field .path)" /ingest/orders/7 path
  eq "$(body_field .query)" '?expand=items&x=1' query
  eq "$(body_field .test_header)" forwarded header
  eq "$(body_field .body)" order=42 body
  eq "$(body_field .tenant)" acme "X-Tenant-ID forwarded"
  eq "$(body_field .routed_cell)" cell-a "X-Cellrouter-Cell"
  route initech -X PUT --data-binary 'x' "$ROUTER_URL/a/b"
  eq "$(body_field .path)" /v2/a/b "path under an endpoint ending in /"
  # What the router read is what the provider wrote: value and metadata.
  eq "$(kv_value acme)" "$CELL_cell_a/ingest" "KV value"
  eq "$(kv_metadata acme | jq -r .result.cell_id)" cell-a "KV metadata cell_id"
  eq "$(kv_metadata acme | jq -r .result.standby_cell_id)" cell-b "KV metadata standby"
  eq "$(kv_metadata acme | jq -r .result.labels.tier)" gold "KV metadata labels"
  [ "$(kv_metadata acme | jq -r '.result | tostring | length')" -le 1024 ] || fail "metadata over 1024 bytes"
  tf plan -detailed-exitcode
  expect_rc 0
  out_has "No changes."
  cellctl list --json
  expect_rc 0
  eq "$(jq length "$T/out")" 3 "cellctl list"
  eq "$(jq -r '.[0].tenant_id' "$T/out")" acme "cellctl list order"
  # The same through KV's cursor paging: pages of two keys.
  curl -sS -X POST -d '{"max":2}' "$FIXTURE/__fixture/page-size" >/dev/null
  local lists; lists=$(stats lists)
  cellctl list --json
  expect_rc 0
  eq "$(jq -r 'map(.tenant_id) | join(",")' "$T/out")" acme,globex,initech "paged list"
  [ $(( $(stats lists) - lists )) -ge 2 ] || fail "the listing did not page"
  no_token_anywhere
}

t_failover() {
  applied_base
  eq "$(served_by acme)" cell-a "before failover"
  # Swap primary and standby: an in-place update.
  sed -i -e "s|acme    = { cell = \"cell-a\", endpoint = \"$CELL_cell_a/ingest\" }|acme    = { cell = \"cell-b\", endpoint = \"$CELL_cell_b/ingest\" }|" \
         -e "s|each.key == \"acme\" ? \"cell-b\" : null|each.key == \"acme\" ? \"cell-a\" : null|" \
         -e "s|each.key == \"acme\" ? \"$CELL_cell_b/ingest\" : null|each.key == \"acme\" ? \"$CELL_cell_a/ingest\" : null|" "$T/cfg/main.tf"
  tf plan -detailed-exitcode
  expect_rc 2
  out_has 'cellrouter_tenant.t["acme"] will be updated in-place'
  out_has "Plan: 0 to add, 1 to change, 0 to destroy."
  tf apply -auto-approve
  expect_rc 0
  eq "$(served_by acme)" cell-b "after failover"
  eq "$(served_by globex)" cell-b "globex untouched"
  eq "$(kv_metadata acme | jq -r .result.standby_cell_id)" cell-a "standby is now cell-a"
  eq "$(kv_metadata acme | jq -r .result.version)" 2 "version"
}

t_drift() {
  applied_base
  local v; v=$(kv_metadata globex | jq -r .result.version)
  # Out of band, through the API: globex moved to cell-c.
  kv_put globex "$CELL_cell_c" "{\"cell_id\":\"cell-c\",\"labels\":{\"tier\":\"gold\"},\"schema\":1,\"updated_at\":\"2026-01-01T00:00:00.000000Z\",\"version\":$((v + 1))}"
  eq "$(served_by globex)" cell-c "the router follows the out-of-band write"
  tf plan -detailed-exitcode
  expect_rc 2
  out_has "Note: Objects have changed outside of Terraform"
  out_has 'cellrouter_tenant.t["globex"] has changed'
  out_matches 'cell_id += "cell-b" -> "cell-c"'
  out_has 'cellrouter_tenant.t["globex"] will be updated in-place'
  tf apply -auto-approve
  expect_rc 0
  eq "$(served_by globex)" cell-b "restored by apply"
  # Deleted out of band: plan re-creates it.
  curl -sS -X DELETE -H "Authorization: Bearer $TOKEN" "$(kv_ns)/values/initech" >/dev/null
  eq "$(served_by initech)" "HTTP 404" "deleted tenant"
  tf plan -detailed-exitcode
  expect_rc 2
  out_has 'cellrouter_tenant.t["initech"] has been deleted'
  out_has 'cellrouter_tenant.t["initech"] will be created'
  tf apply -auto-approve
  expect_rc 0
  eq "$(served_by initech)" cell-c "re-created"
  tf plan -detailed-exitcode
  expect_rc 0
}

t_router_errors() {
  start_edge cell-a
  config <<EOF
resource "cellrouter_tenant" "down" {
  tenant_id = "umbrella"
  cell_id   = "cell-dead"
  endpoint  = "http://127.0.0.1:9/secret-path"
  labels    = { contract = "confidential-42" }
}
EOF
  tf apply -auto-approve
  expect_rc 0
  route "" "$ROUTER_URL/x"
  eq "$(status)" 400 "no header"
  grep -q "X-Tenant-ID" "$T/body" || fail "400 does not name the header"
  route "../etc" "$ROUTER_URL/x"
  eq "$(status)" 400 "invalid tenant id"
  route ghost "$ROUTER_URL/x"
  eq "$(status)" 404 "unknown tenant"
  route umbrella "$ROUTER_URL/x"
  eq "$(status)" 502 "unreachable cell"
  eq "$(body_field .cell)" cell-dead "502 names the cell"
  for secret in umbrella secret-path confidential-42 127.0.0.1:9; do
    ! grep -qF "$secret" "$T/body" || fail "502 body leaks $secret"
  done
}

t_retry() {
  applied_base
  # The next three writes are rate limited (Retry-After: 1), then two 503s.
  fault '{"status":429,"count":3,"retry_after":"1","method":"PUT"}'
  fault '{"status":503,"count":2,"method":"PUT"}'
  sed -i "s|globex  = { cell = \"cell-b\", endpoint = \"$CELL_cell_b\" }|globex  = { cell = \"cell-c\", endpoint = \"$CELL_cell_c\" }|" "$T/cfg/main.tf"
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
  eq "$(stats faulted)" 5 "faults served (the provider retried through all)"
  eq "$(served_by globex)" cell-c "written after the retries"
  # A GET that fails once is retried too (refresh).
  fault '{"status":502,"count":1,"method":"GET"}'
  tf plan -detailed-exitcode
  expect_rc 0
}

t_give_up() {
  applied_base
  # Only 503s from now on: with a 2 s budget the apply gives up quickly and
  # the entry keeps its old value, whole.
  base_config '    max_retry_seconds = 2
'
  sed -i "s|globex  = { cell = \"cell-b\", endpoint = \"$CELL_cell_b\" }|globex  = { cell = \"cell-c\", endpoint = \"$CELL_cell_c\" }|" "$T/cfg/main.tf"
  local before; before=$(kv_metadata globex)
  fault '{"status":503,"count":100000,"method":"PUT"}'
  tf apply -auto-approve
  expect_rc 1
  err_has "Could not update tenant"
  err_has "gave up after"
  err_has "retry budget 2 s"
  err_has "HTTP 503"
  eq "$(kv_metadata globex)" "$before" "metadata untouched"
  eq "$(served_by globex)" cell-b "still routed to its old cell"
  eq "$(jq -r '.resources[0].instances[] | select(.index_key=="globex") | .attributes.cell_id' "$T/terraform.tfstate")" cell-b "state keeps the old cell"
  # Creates that give up leave nothing behind either.
  cat >>"$T/cfg/main.tf" <<EOF

resource "cellrouter_tenant" "new" {
  tenant_id = "hooli"
  cell_id   = "cell-a"
  endpoint  = "$CELL_cell_a"
}
EOF
  tf apply -auto-approve
  expect_rc 1
  eq "$(served_by hooli)" "HTTP 404" "no half-written tenant"
  eq "$(jq '[.resources[] | select(.name=="new")] | length' "$T/terraform.tfstate")" 0 "hooli not in state"
  curl -sS -X DELETE "$FIXTURE/__fixture/faults" >/dev/null
  tf apply -auto-approve
  expect_rc 0
  eq "$(served_by globex)" cell-c "written once the API recovers"
  eq "$(served_by hooli)" cell-a "created once the API recovers"
}

t_auth() {
  start_edge cell-a
  config <<EOF
resource "cellrouter_tenant" "a" {
  tenant_id = "acme"
  cell_id   = "cell-a"
  endpoint  = "$CELL_cell_a"
}
EOF
  # A wrong token, with the provider logging everything it does.
  CLOUDFLARE_API_TOKEN=wrong-$TOKEN TF_LOG_PROVIDER=TRACE run "$TFCORE" -chdir="$T/cfg" plan -state="$T/terraform.tfstate"
  expect_rc 1
  err_has "Cloudflare refused the API token"
  err_has "Workers KV Storage:Edit"
  err_has "$ACCOUNT"
  # No token at all.
  run "$TFCORE" -chdir="$T/cfg" plan -state="$T/terraform.tfstate"
  expect_rc 1
  err_has "Missing Cloudflare API token"
  err_has "CLOUDFLARE_API_TOKEN"
  # A namespace that does not exist.
  sed -i "s|namespace_id = \"$NAMESPACE\"|namespace_id = \"0000000000000000000000000000dead\"|" "$T/cfg/main.tf"
  tf plan
  expect_rc 1
  err_has "check that namespace_id 0000000000000000000000000000dead"
  # The token in the configuration (sensitive) and over plain http to a
  # host that is not this machine: refused before any request.
  sed -i "s|api_url      = \"$API_URL\"|api_url = \"http://api.example.com/client/v4\"\n    api_token = \"$TOKEN\"|" "$T/cfg/main.tf"
  tf validate
  expect_rc 1
  err_has "must use https://"
  no_token_anywhere
  [ -s "$T/provider.stderr" ] || fail "no provider log captured"
  grep -q "workers kv" "$T/provider.stderr" || fail "trace log has no Workers KV lines"
}

t_metadata_limit() {
  start_edge cell-a
  local big; big=$(printf 'x%.0s' $(seq 1 250))
  config <<EOF
resource "cellrouter_tenant" "a" {
  tenant_id = "acme"
  cell_id   = "cell-a"
  endpoint  = "$CELL_cell_a"
  labels    = { a = "$big", b = "$big", c = "$big", d = "$big", e = "$big" }
}
EOF
  tf plan
  expect_rc 1
  err_has "Entry too large for the routing map"
  err_has "at most 1024"
  eq "$(stats writes)" 0 "nothing written"
}

t_conflict_import_destroy() {
  applied_base
  sed -i "s|globex  = { cell = \"cell-b\", endpoint = \"$CELL_cell_b\" }|globex  = { cell = \"cell-c\", endpoint = \"$CELL_cell_c\" }|" "$T/cfg/main.tf"
  # Between plan and apply, an operator writes the entry (no CAS in KV:
  # the version read before the write catches it).
  cf_env
  TFCORE_HOOK_BEFORE_APPLY="CLOUDFLARE_API_TOKEN='$TOKEN' '$CELLCTL' --backend cloudflare_kv set globex --cell cell-a --endpoint $CELL_cell_a" \
    tf apply -auto-approve
  expect_rc 1
  err_has "Routing map entry changed"
  eq "$(served_by globex)" cell-a "the operator's write is kept"
  # Import an entry made with cellctl.
  cellctl set umbrella --cell cell-c --endpoint "$CELL_cell_c" --label tier=silver
  expect_rc 0
  cat >>"$T/cfg/main.tf" <<EOF

resource "cellrouter_tenant" "u" {
  tenant_id = "umbrella"
  cell_id   = "cell-c"
  endpoint  = "$CELL_cell_c"
  labels    = { tier = "silver" }
}
EOF
  tf import cellrouter_tenant.u umbrella
  expect_rc 0
  out_has "Import successful!"
  eq "$(served_by umbrella)" cell-c umbrella
  # Destroy everything: the router stops knowing the tenants.
  tf destroy -auto-approve
  expect_rc 0
  out_has "Destroy complete! Resources: 4 destroyed."
  eq "$(served_by acme)" "HTTP 404" "acme after destroy"
  eq "$(served_by umbrella)" "HTTP 404" "umbrella after destroy"
  cellctl list --json
  eq "$(jq length "$T/out")" 0 "nothing left in the map"
  # Re-created later, versions go on from the deleted entry's.
  cellctl set acme --cell cell-a --endpoint "$CELL_cell_a" --expect-version 0
  expect_rc 0
  cellctl get acme --json
  [ "$(jq -r .version "$T/out")" -gt 1 ] || fail "version restarted after delete"
}

# The provider under valgrind through create, drift, a rate-limited retry
# and destroy on the Workers KV backend (TFCORE_VALGRIND=1).
t_valgrind() {
  command -v valgrind >/dev/null || fail "valgrind is not installed"
  cat >"$T/provider-vg" <<EOF
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \\
  --show-leak-kinds=definite --track-fds=no --log-file="$T/vg.%p.log" "$PROVIDER" "\$@"
EOF
  chmod +x "$T/provider-vg"
  export TFCORE_PROVIDER=$T/provider-vg TFCORE_SHUTDOWN_GRACE=60
  applied_base
  kv_put globex "$CELL_cell_c" '{"cell_id":"cell-c","schema":1,"updated_at":"2026-01-01T00:00:00Z","version":9}'
  fault '{"status":429,"count":1,"retry_after":"1","method":"PUT"}'
  tf apply -auto-approve
  expect_rc 0
  eq "$(served_by globex)" cell-b "drift repaired"
  tf destroy -auto-approve
  expect_rc 0
  local logs; logs=$(ls "$T"/vg.*.log 2>/dev/null | wc -l)
  [ "$logs" -ge 3 ] || fail "expected a valgrind log per provider process, found $logs"
  for f in "$T"/vg.*.log; do
    echo "--- $f"; cat "$f"
    grep -q "ERROR SUMMARY: 0 errors" "$f" || fail "valgrind reports errors (or no summary) in $f"
  done
}

# What a fleet costs in requests (the stand-in counts them): a listing
# page answers the refresh of up to 1,000 tenants, a bulk write creates up
# to 10,000. (make bench measures the same at 100,000.)
t_request_counts() {
  start_edge cell-a
  config <<EOF
locals {
  fleet = { for i in range(1000) : format("t%05d", i) => { cell_id = "cell-a", endpoint = "$CELL_cell_a" } }
  more  = { for i in range(500) : format("t%05d", i + 1000) => { cell_id = "cell-a", endpoint = "$CELL_cell_a" } }
}
resource "cellrouter_tenants" "fleet" {
  name    = "fleet"
  tenants = merge(local.fleet, local.more)
}
EOF
  reset_stats
  tf apply -auto-approve
  expect_rc 0
  local n; n=$(stats requests)
  echo "create 1500: $n requests"
  [ "$n" -le 8 ] || fail "create of 1,500 tenants took $n requests"
  eq "$(stats bulk_writes)" 1 "bulk writes"
  eq "$(served_by t01499)" cell-a "the last tenant is routed"
  reset_stats
  tf plan -detailed-exitcode
  expect_rc 0
  n=$(stats requests)
  echo "refresh 1500: $n requests"
  [ "$n" -le 4 ] || fail "refresh of 1,500 tenants took $n requests"
  eq "$(stats bulk_gets)" 0 "no bulk reads on refresh"
  sed -i 's|format("t%05d", i) => { cell_id = "cell-a"|format("t%05d", i) => { cell_id = i == 7 ? "cell-b" : "cell-a"|' "$T/cfg/main.tf"
  reset_stats
  TFCORE_HOOK_BEFORE_APPLY="curl -sS '$FIXTURE/__fixture/stats' >'$T/mid.json'" tf apply -auto-approve
  expect_rc 0
  out_has "0 added, 1 changed, 0 destroyed"
  n=$(( $(stats requests) - $(jq -r .requests "$T/mid.json") ))
  echo "change 1 of 1500 (apply): $n requests"
  [ "$n" -le 5 ] || fail "the apply of a one-tenant change took $n requests"
  reset_stats
  cellctl list --json
  expect_rc 0
  eq "$(jq length "$T/out")" 1500 "cellctl list"
  [ "$(stats requests)" -le 3 ] || fail "cellctl list took $(stats requests) requests"
  # The legacy bulk delete is not Cloudflare's current API: refused, and
  # never used.
  eq "$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" \
        --data '["t00001"]' "$(kv_ns)/bulk")" 404 "DELETE .../bulk"
  eq "$(served_by t00001)" cell-a "t00001 still routed"
}

# Cloudflare's rate limit (1,200 per 5 minutes, then a lockout answered with
# 429 and retry-after), shrunk by the stand-in's control: the client waits
# the lockout out, and says so while it waits.
t_rate_limit() {
  applied_base
  fixture rate-limit '{"limit":3,"window_s":300,"lockout_s":3}'
  cellctl get acme --json
  expect_rc 0
  cellctl set hooli --cell cell-a --endpoint "$CELL_cell_a"
  expect_rc 0
  err_has "Cloudflare answered 429 (rate limited) and asked to wait 3 s"
  err_has "cellctl: waiting"
  [ "$(stats rate_limited)" -ge 1 ] || fail "no request was rate limited"
  eq "$(served_by hooli)" cell-a "written after the lockout"
  # The provider reports its waits to the log (WARN).
  fixture rate-limit '{"limit":2,"window_s":300,"lockout_s":3}'
  sed -i "s|globex  = { cell = \"cell-b\", endpoint = \"$CELL_cell_b\" }|globex  = { cell = \"cell-c\", endpoint = \"$CELL_cell_c\" }|" "$T/cfg/main.tf"
  TF_LOG_PROVIDER=WARN tf apply -auto-approve
  expect_rc 0
  grep -q "asked to wait" "$T/provider.stderr" || fail "the provider did not log its wait"
  eq "$(served_by globex)" cell-c "applied after the lockout"
  fixture rate-limit '{}'
}

# A namespace that does not decode keys written on the URL: a key written
# through a single PUT stays percent-encoded there (Cloudflare's documented
# behaviour), where the router never looks. cellrouter writes keys only in
# bulk bodies, and removes such strays left by earlier versions.
t_url_encoding() {
  start_edge cell-a
  fixture namespace '{"supports_url_encoding":false}'
  local md='{"cell_id":"cell-a","schema":1,"updated_at":"2026-01-01T00:00:00Z","version":1}'
  kv_put "acme%3Aeu" "$CELL_cell_a" "$md"
  eq "$(served_by acme:eu)" "HTTP 404" "the stray is not routed"
  config <<EOF
resource "cellrouter_tenant" "a" {
  tenant_id = "acme:eu"
  cell_id   = "cell-a"
  endpoint  = "$CELL_cell_a"
}
EOF
  tf apply -auto-approve
  expect_rc 0
  eq "$(served_by acme:eu)" cell-a "written where the router looks"
  cellctl list --json
  expect_rc 0
  eq "$(jq -r 'map(.tenant_id) | join(",")' "$T/out")" "acme:eu" "one entry"
  eq "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(kv_ns)/values/acme%3Aeu")" 404 "the stray was removed"
  # With decoding on (the default), the same single PUT lands on the id.
  fixture namespace '{"supports_url_encoding":true}'
  kv_put "globex%3Aus" "$CELL_cell_a" "$md"
  eq "$(served_by globex:us)" cell-a "decoded key"
}

# Bulk writes are not atomic: Cloudflare names the keys it could not
# write (unsuccessful_keys); the state records exactly what went in.
t_partial_bulk() {
  start_edge cell-a
  config <<EOF
resource "cellrouter_tenants" "fleet" {
  name    = "fleet"
  tenants = {
    a = { cell_id = "cell-a", endpoint = "$CELL_cell_a" }
    b = { cell_id = "cell-a", endpoint = "$CELL_cell_a" }
    c = { cell_id = "cell-a", endpoint = "$CELL_cell_a" }
  }
}
EOF
  fixture fail-keys '{"keys":["b"],"count":1}'
  tf apply -auto-approve
  expect_rc 1
  err_has "could not write 1 of 3 keys"
  eq "$(served_by a)" cell-a a
  eq "$(served_by b)" "HTTP 404" "b not written"
  eq "$(jq -r '.resources[0].instances[0].attributes.tenants | keys | join(",")' "$T/terraform.tfstate")" "a,c" "state"
  tf apply -auto-approve
  expect_rc 0
  eq "$(served_by b)" cell-a "b written on the second apply"
  tf plan -detailed-exitcode
  expect_rc 0
}

# Entries and tombstones in the first format (schema 1: the endpoint only
# in the value; tombstones under _cellrouter-retired.<sha256>) are read,
# and rewritten in the current format by the next write.
t_migration() {
  start_edge cell-a cell-b
  kv_put acme "$CELL_cell_a" '{"cell_id":"cell-a","schema":1,"updated_at":"2026-01-01T00:00:00.000000Z","version":4}'
  local sha; sha=$(printf %s globex | sha256sum | cut -c1-64)
  kv_put "_cellrouter-retired.$sha" retired '{"tenant_id":"globex","version":9}'
  config <<EOF
resource "cellrouter_tenant" "a" {
  tenant_id = "acme"
  cell_id   = "cell-a"
  endpoint  = "$CELL_cell_a"
}
resource "cellrouter_tenant" "g" {
  tenant_id = "globex"
  cell_id   = "cell-b"
  endpoint  = "$CELL_cell_b"
}
EOF
  tf import cellrouter_tenant.a acme
  expect_rc 0
  tf plan -detailed-exitcode
  expect_rc 2
  out_has "Plan: 1 to add, 0 to change, 0 to destroy."
  tf apply -auto-approve
  expect_rc 0
  eq "$(kv_metadata globex | jq -r .result.version)" 10 "globex continues after its old tombstone"
  eq "$(kv_metadata globex | jq -r .result.schema)" 2 "written in schema 2"
  eq "$(kv_metadata acme | jq -r .result.schema)" 1 "acme untouched until written"
  sed -i "s|cell_id   = \"cell-a\"|cell_id   = \"cell-b\"|; s|endpoint  = \"$CELL_cell_a\"|endpoint  = \"$CELL_cell_b\"|" "$T/cfg/main.tf"
  tf apply -auto-approve
  expect_rc 0
  eq "$(kv_metadata acme | jq -r .result.schema)" 2 "acme rewritten"
  eq "$(kv_metadata acme | jq -r .result.endpoint)" "$CELL_cell_b" "endpoint in the metadata"
  eq "$(kv_metadata acme | jq -r .result.version)" 5 "acme version"
  eq "$(served_by acme)" cell-b "routed"
  tf destroy -auto-approve
  expect_rc 0
  eq "$(kv_metadata 'globex~retired' | jq -r .result.version)" 10 "new tombstone"
  eq "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(kv_ns)/metadata/_cellrouter-retired.$sha")" 404 "old tombstone replaced"
}

# Cells on Workers KV (issue 13, the provider/cellctl side): the definitions
# and the serving-state document in the contract's layout, written by the
# provider and by cellctl, read back by both; an operator's failover is no
# planned change; the prober's memory and unknown keys survive an
# operator's write; tenant listings skip the cells' keys; a cell a tenant
# names is not destroyed.
cells_kv_config() {
  local with_b=${1:-yes} b='' standby='"cell-b"'
  # The tenant refers to its standby cell when it is configured, so that
  # Terraform destroys the tenant first.
  [ "$with_b" = yes ] && standby=cellrouter_cell.b.cell_id && b="resource \"cellrouter_cell\" \"b\" {
  cell_id  = \"cell-b\"
  endpoint = \"$CELL_cell_b/ingest\"
}"
  config <<EOF2
resource "cellrouter_cell" "a" {
  cell_id    = "cell-a"
  endpoint   = "$CELL_cell_a/ingest"
  health_url = "$CELL_cell_a/healthz"
  labels     = { cloud = "aws" }
}

$b

resource "cellrouter_tenant" "acme" {
  tenant_id        = "acme"
  cell_id          = cellrouter_cell.a.cell_id
  endpoint         = cellrouter_cell.a.endpoint
  standby_cell_id  = $standby
  standby_endpoint = "$CELL_cell_b/ingest"
}
EOF2
}
# doc JQ: a field of the serving-state document as the router reads it.
doc() { kv_value _cellrouter.cells | jq -r "$1"; }

t_cells_kv() {
  start_edge cell-a cell-b
  cells_kv_config
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 3 added, 0 changed, 0 destroyed."
  # The definitions where the prober lists them.
  eq "$(kv_value _cellrouter.cell.cell-a)" "$CELL_cell_a/ingest" "definition value"
  local md; md=$(kv_metadata _cellrouter.cell.cell-a)
  eq "$(jq -r .result.schema <<<"$md")" 1 "definition schema"
  eq "$(jq -r .result.cell_id <<<"$md")" cell-a "definition cell_id"
  eq "$(jq -r .result.health_url <<<"$md")" "$CELL_cell_a/healthz" "definition health_url"
  eq "$(jq -r .result.labels.cloud <<<"$md")" aws "definition labels"
  eq "$(jq -r .result.version <<<"$md")" 1 "definition version"
  # Tenant listings skip the cells' keys.
  cellctl list --json
  expect_rc 0
  eq "$(jq -r 'map(.tenant_id) | join(",")' "$T/out")" acme "tenants"
  cellctl cell list --json
  expect_rc 0
  eq "$(jq -r 'map(.cell_id + "=" + .serving_state) | join(",")' "$T/out")" "cell-a=serving,cell-b=serving" "cells"

  # An operator fails cell-a: one document, in the contract's format.
  reset_stats
  cellctl cell fail cell-a --reason "ingest answers 503" --by oncall
  expect_rc 0
  out_has "cell-a: failed by operator:oncall"
  eq "$(stats bulk_writes)" 1 "one write"
  [ "$(stats requests)" -le 5 ] || fail "cell fail took $(stats requests) requests"
  eq "$(doc .schema)" 1 "document schema"
  eq "$(doc '.cells["cell-a"].state')" failed state
  eq "$(doc '.cells["cell-a"].reason')" "ingest answers 503" reason
  eq "$(doc '.cells["cell-a"].changed_by')" operator:oncall changed_by
  eq "$(doc '.cells["cell-a"].pinned')" false pinned
  eq "$(doc '.cells["cell-a"].version')" 1 version
  doc '.cells["cell-a"].changed_at' | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' || fail "changed_at"
  doc .updated_at | grep -qE '^[0-9]{4}-' || fail "document updated_at"
  eq "$(doc '.cells["cell-b"]')" null "cell-b has no record"

  # Not drift, not reverted.
  tf plan -detailed-exitcode
  expect_rc 0
  out_has "No changes."
  tf apply -auto-approve
  expect_rc 0
  eq "$(doc '.cells["cell-a"].state')" failed "still failed after apply"

  # The prober's memory, and keys a newer writer added, survive an
  # operator's write; the record's version goes on from the prober's.
  kv_value _cellrouter.cells | jq -c '.future = {"x": 1}
    | .cells["cell-a"].probe = {"failures": 3, "successes": 0, "last_error": "HTTP 503"}
    | .cells["cell-a"].version = 4
    | .cells["cell-b"] = {"state": "serving", "reason": "", "changed_at": "2026-01-01T00:00:00Z",
                          "changed_by": "automation", "pinned": false, "version": 2,
                          "probe": {"failures": 1, "successes": 0}}' >"$T/doc.json"
  curl -sS -X PUT -H "Authorization: Bearer $TOKEN" --data-binary @"$T/doc.json" \
    "$(kv_ns)/values/_cellrouter.cells" | jq -e .success >/dev/null || fail "writing the document"
  cellctl cell pin cell-a --by oncall
  expect_rc 0
  eq "$(doc '.cells["cell-a"].pinned')" true pinned
  eq "$(doc '.cells["cell-a"].version')" 5 "version after the prober's"
  eq "$(doc '.cells["cell-a"].probe.failures')" 3 "probe kept"
  eq "$(doc '.future.x')" 1 "unknown key kept"
  eq "$(doc '.cells["cell-b"].probe.failures')" 1 "other record kept"
  cellctl cell get cell-a --json
  expect_rc 0
  eq "$(jq -r .probe.last_error "$T/out")" "HTTP 503" "probe shown"
  cellctl cell restore cell-a --by oncall
  expect_rc 0
  eq "$(doc '.cells["cell-a"].state')" serving restored
  eq "$(doc '.cells["cell-a"].pinned')" true "the pin stays"
  # A change of state drops the prober's counters (they counted towards
  # the old state), so the prober starts afresh.
  eq "$(doc '.cells["cell-a"].probe')" null "probe counters dropped by the restore"
  eq "$(doc '.cells["cell-b"].probe.failures')" 1 "other record's counters kept"

  # A cell the tenant still names (as standby) is not destroyed.
  cells_kv_config no
  tf apply -auto-approve
  expect_rc 1
  err_has "Cell still has tenants"
  eq "$(kv_value _cellrouter.cell.cell-b)" "$CELL_cell_b/ingest" "cell-b still defined"
  # Everything destroyed: the tenant first, then the cells, their records
  # dropped from the document.
  cells_kv_config
  tf destroy -auto-approve
  expect_rc 0
  out_has "Destroy complete! Resources: 3 destroyed."
  eq "$(doc '.cells | keys | join(",")')" "" "no records left"
  eq "$(doc '.future.x')" 1 "unknown key kept by the delete"
  eq "$(kv_metadata _cellrouter.cell-retired.cell-a | jq -r .result.version)" 1 "tombstone"
  cellctl cell list --json
  eq "$(jq length "$T/out")" 0 "no cells"
  no_token_anywhere
}

# Cells, their states and the prober (the t_cell_* tests).
. "$HERE/failover.sh"

# ---- runner -------------------------------------------------------------------

TESTS="route failover drift router_errors retry give_up auth metadata_limit conflict_import_destroy request_counts rate_limit url_encoding partial_bulk migration $CELL_TESTS"
TESTS="$TESTS cells_kv"     # issue 13: cells on Workers KV (provider, cellctl)
[ "${TFCORE_VALGRIND:-0}" = 1 ] && TESTS="$TESTS valgrind"
[ $# -gt 0 ] && TESTS="$*"

# The API token must never reach a transcript (logs, diagnostics).
cr_extra_check() {
  if grep -qF -- "$TOKEN" "$1/log"; then
    echo "ASSERTION FAILED: the API token appears in the transcript" >>"$1/log"
    return 1
  fi
}
KEEP=${EDGE_KEEP:-${KEEP:-0}}
. "$ROOT/tests/lib/runner.sh"
cr_run_tests edge
