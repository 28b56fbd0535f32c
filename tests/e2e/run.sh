#!/usr/bin/env bash
# tests/e2e/run.sh — end-to-end tests: the real provider, launched and driven
# by Terraform, on a real SQLite routing map, with cellctl changing the map
# out of band.
#
#   BUILD=build bash tests/e2e/run.sh [TEST...]     (make test-e2e runs all)
#   TF_DRIVER=terraform BUILD=build bash tests/e2e/run.sh [TEST...]
#                                                   (make test-e2e-terraform)
#
# Two drivers, the same tests and assertions:
#   tfcore     (default) tests/tfcore, the stand-in for Terraform core
#   terraform  the real Terraform CLI ($TERRAFORM, else `terraform` on
#              PATH) through dev_overrides (tests/lib/terraform.sh): no
#              network, no `terraform init`
# Where the two word something differently, a test accepts the real
# Terraform's wording (see `either`). A test that needs what only tfcore
# has (its check-* commands, its fake provider, its before-apply hook)
# is skipped under the real one with the reason printed.
#
# Each test runs in its own directory under $BUILD/e2e/run.*/<test>/ with its own
# map and state; its full transcript is in <test>/log and is printed when
# the test fails. Any sanitizer report in the provider's stderr fails the
# test that produced it. One scenario runs the provider under valgrind (on the
# plain build; TFCORE_VALGRIND=0 skips it). The last line is "e2e: N passed, N failed".
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
TFCORE=$B/tfcore
PROVIDER=$B/terraform-provider-cellrouter
CELLCTL=$B/cellctl
SEEDMAP=$B/tests/seedmap
BROKEN=$B/broken
DRIVER=${TF_DRIVER:-tfcore}
LABEL=e2e
. "$ROOT/tests/lib/terraform.sh"
case $DRIVER in
  tfcore) ;;
  terraform)
    LABEL="e2e (terraform)"
    cr_tf_find || { echo "e2e: TF_DRIVER=terraform but no terraform on PATH (or \$TERRAFORM)"; exit 1; } ;;
  *) echo "e2e: TF_DRIVER must be tfcore or terraform, not '$DRIVER'"; exit 1 ;;
esac
# A directory per run: several runs (make test, make test-asan) may share
# a build tree. Removed when everything passed, kept for inspection if not.
mkdir -p "$B/e2e"
WORK=$(mktemp -d "$B/e2e/run.XXXXXX")
# The suite's own helpers (tests/e2e/e2e.mk): the map seeder and the
# providers broken on purpose.
BROKEN_KINDS="identity no-alpn tls11"
for f in "$TFCORE" "$PROVIDER" "$CELLCTL" "$SEEDMAP" \
         $(for k in $BROKEN_KINDS; do echo "$BROKEN/$k/terraform-provider-cellrouter"; done); do
  [ -x "$f" ] || { echo "e2e: $f is missing (make test-e2e builds it)"; exit 1; }
done
# Snapshot the binaries: others may relink them in the shared build tree
# while this run is going on.
mkdir -p "$WORK/bin"
cp "$TFCORE" "$PROVIDER" "$CELLCTL" "$SEEDMAP" "$WORK/bin/" || { echo "e2e: cannot copy the binaries"; exit 1; }
for k in $BROKEN_KINDS; do
  mkdir -p "$WORK/broken/$k"
  cp "$BROKEN/$k/terraform-provider-cellrouter" "$WORK/broken/$k/" || { echo "e2e: cannot copy the binaries"; exit 1; }
done
TFCORE=$WORK/bin/tfcore
PROVIDER=$WORK/bin/terraform-provider-cellrouter
CELLCTL=$WORK/bin/cellctl
SEEDMAP=$WORK/bin/seedmap
BROKEN=$WORK/broken
export TFCORE_PROVIDER=$PROVIDER
if [ "$DRIVER" = terraform ]; then
  cr_tf_setup "$WORK" "$WORK/bin"
  echo "e2e: driving $("$TERRAFORM" version | head -n 1) ($TERRAFORM)"
fi
# Under ASan: report leaks with whole stacks (the fast unwinder stops in
# libcrypto and libgrpc, built without frame pointers, which leaves
# reports that cannot be acted on). No suppressions.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
unset TF_REATTACH_PROVIDERS CELLROUTER_DB TF_LOG TF_LOG_PROVIDER

# ---- assertion helpers (used inside a test's subshell) --------------------

fail() { echo "ASSERTION FAILED: $*"; exit 1; }

# run CMD...: stdout in $T/out, stderr in $T/err, status in RC; all logged.
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
out_matches() { grep -qE -- "$1" "$T/out" || fail "stdout does not match: $1"; }
err_matches() { grep -qE -- "$1" "$T/err" || fail "stderr does not match: $1"; }
eq()         { [ "$1" = "$2" ] || fail "${3:-value}: got '$1', want '$2'"; }

# tf CMD ARGS...: Terraform's CMD on this test's cfg/ and state, through
# the driver. The real Terraform gets -no-color (it colours even a pipe)
# and the configuration's required_providers (cfg/versions.tf); validate
# takes no -state.
tf() { tf_argv "$@"; run "${TF_ARGV[@]}"; }
# tf_argv CMD ARGS...: the command line tf runs, in the array TF_ARGV (for
# runs in the background).
tf_argv() {
  local c=$1; shift
  if [ "$DRIVER" = terraform ]; then
    cr_tf_versions "$T/cfg"
    if [ "$c" = validate ]; then
      TF_ARGV=("$TERRAFORM" -chdir="$T/cfg" validate -no-color "$@")
    else
      TF_ARGV=("$TERRAFORM" -chdir="$T/cfg" "$c" -no-color -state="$T/terraform.tfstate" "$@")
    fi
  else
    TF_ARGV=("$TFCORE" -chdir="$T/cfg" "$c" -state="$T/terraform.tfstate" "$@")
  fi
}
# either TFCORE_TEXT REAL_TEXT: the text to expect, by driver, where tfcore
# still words something differently from the real Terraform (each one is
# listed in tests/tfcore/README.md for tfcore to follow).
either() { if [ "$DRIVER" = terraform ]; then printf '%s' "$2"; else printf '%s' "$1"; fi; }
# out_has_real REAL TFCORE / err_has_real / expect_rc_real: the real
# Terraform's text (exit status) under the real driver; under tfcore the
# real one or tfcore's own, so these pass before and after tfcore follows.
out_has_real() {
  if [ "$DRIVER" = terraform ] || grep -qF -- "$1" "$T/out"; then out_has "$1"; else out_has "$2"; fi
}
err_has_real() {
  if [ "$DRIVER" = terraform ] || grep -qF -- "$1" "$T/err"; then err_has "$1"; else err_has "$2"; fi
}
# err_attr ATTR: a diagnostic names the attribute it is about. tfcore
# prints "attribute path: ATTR"; the real Terraform shows the attribute's
# line of the configuration under "on main.tf line N", or, for an
# attribute the configuration does not set, the block's first line, so
# then only the diagnostic's summary can name it.
err_attr() {
  local real="^ *[0-9]+: +$1|^Error: .*$1"
  if [ "$DRIVER" = terraform ] || ! grep -qF -- "attribute path: $1" "$T/err"; then
    err_matches "$real"
  else
    err_has "attribute path: $1"
  fi
}
expect_rc_real() {
  if [ "$DRIVER" = terraform ] || [ "$RC" -eq "$1" ]; then expect_rc "$1"; else expect_rc "$2"; fi
}
# drift_shown ADDR VERB PATTERN...: the plan reports a change made outside
# of Terraform ("ADDR has VERB", then each PATTERN). The real Terraform
# (1.2 and later) only reports drift that is relevant to the plan: changed
# attributes that another planned change refers to. A plan that merely
# puts the object back does not show it, so under the real driver the
# note must be absent; tfcore still shows all drift, and may stop.
drift_shown() {
  local addr=$1 verb=$2
  shift 2
  if [ "$DRIVER" = terraform ]; then
    out_lacks "Note: Objects have changed outside of Terraform"
    out_lacks "$addr has $verb"
  elif grep -qF "Note: Objects have changed outside of Terraform" "$T/out"; then
    out_has "$addr has $verb"
    local p
    for p in "$@"; do out_matches "$p"; done
  fi
}
# schema_json: the provider's schema as `terraform providers schema -json`
# prints it, in $T/out.
schema_json() {
  if [ "$DRIVER" = terraform ]; then
    mkdir -p "$T/schema"
    cr_tf_versions "$T/schema"
    run "$TERRAFORM" -chdir="$T/schema" providers schema -json
  else
    run "$TFCORE" schema
  fi
}
# tfcore_only REASON: ends the test as skipped under the real Terraform.
tfcore_only() {
  [ "$DRIVER" = terraform ] || return 0
  echo "SKIP: $*"
  exit "$CR_SKIP"
}
cellctl() { run "$CELLCTL" --db "$T/map.db" "$@"; }
# field TENANT JQ: one field of a map entry (cellctl get --json).
field() { "$CELLCTL" --db "$T/map.db" get "$1" --json | jq -r "$2"; }
count_map() { "$CELLCTL" --db "$T/map.db" list --json | jq length; }
count_state() { jq '[.resources[].instances[]] | length' "$T/terraform.tfstate"; }

# config BODY: writes cfg/main.tf with a provider block on this test's map.
config() {
  mkdir -p "$T/cfg"
  { printf 'provider "cellrouter" {\n  path = "%s"\n}\n\n' "$T/map.db"; cat; } >"$T/cfg/main.tf"
  echo "--- main.tf"; sed 's/^/  : /' "$T/cfg/main.tf"
}

# Three tenants through for_each and one on its own, labels and standby.
base_config() {
  local acme_cell=${1:-cell-1} acme_ep=${2:-https://cell-1.example.com} single_tid=${3:-initech}
  config <<EOF
variable "tenants" {
  type = map(object({ cell = string, endpoint = string }))
  default = {
    acme   = { cell = "$acme_cell", endpoint = "$acme_ep" }
    globex = { cell = "cell-2", endpoint = "https://cell-2.example.com" }
    hooli  = { cell = "cell-2", endpoint = "https://cell-2.example.com" }
  }
}

locals {
  labels = { tier = "gold", team = "core" }
}

resource "cellrouter_tenant" "t" {
  for_each  = var.tenants
  tenant_id = each.key
  cell_id   = each.value.cell
  endpoint  = each.value.endpoint
  labels    = local.labels
}

resource "cellrouter_tenant" "single" {
  tenant_id        = "$single_tid"
  cell_id          = "cell-3"
  endpoint         = "http://cell-3.example.com/ingest"
  standby_cell_id  = "cell-4"
  standby_endpoint = "https://cell-4.example.com"
}
EOF
}

applied_base() {
  base_config "$@"
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 4 added, 0 changed, 0 destroyed."
}

# ---- issue 2: launch, handshake, TLS, concurrency, shutdown --------------

t_launch_schema() {
  schema_json
  expect_rc 0
  local r='.provider_schemas["registry.terraform.io/cellrouter/cellrouter"]'
  local a="$r.resource_schemas.cellrouter_tenant.block.attributes"
  eq "$(jq -r '.format_version' "$T/out")" "1.0" format_version
  eq "$(jq -r "$a.tenant_id.required" "$T/out")" "true" tenant_id.required
  eq "$(jq -r "$a.cell_id.required" "$T/out")" "true" cell_id.required
  eq "$(jq -r "$a.endpoint.required" "$T/out")" "true" endpoint.required
  eq "$(jq -r "$a.standby_cell_id.optional" "$T/out")" "true" standby_cell_id.optional
  eq "$(jq -r "$a.standby_endpoint.optional" "$T/out")" "true" standby_endpoint.optional
  eq "$(jq -c "$a.labels.type" "$T/out")" '["map","string"]' labels.type
  eq "$(jq -r "$a.id.computed" "$T/out")" "true" id.computed
  eq "$(jq -r "$a.version.type" "$T/out")" "number" version.type
  eq "$(jq -r "$a.updated_at.computed" "$T/out")" "true" updated_at.computed
  eq "$(jq -r "$a.tenant_id.description_kind" "$T/out")" "markdown" description_kind
  eq "$(jq -r "$r.provider.block.attributes.path.optional" "$T/out")" "true" provider.path.optional
  [ -n "$(jq -r "$a.tenant_id.description" "$T/out")" ] || fail "tenant_id has no description"
}

t_mtls() {
  tfcore_only "tfcore's own protocol check (check-mtls); the real Terraform has no such command"
  run "$TFCORE" check-mtls
  expect_rc 0
  out_has "client with a different client certificate is refused"
  out_has "client with no client certificate is refused"
  out_lacks "FAIL:"
}

t_cookie() {
  run env -u TF_PLUGIN_MAGIC_COOKIE PLUGIN_PROTOCOL_VERSIONS=6 "$PROVIDER"
  expect_rc 1
  [ ! -s "$T/out" ] || fail "the provider wrote to stdout without a cookie"
  err_has "This binary is a plugin"
  run env TF_PLUGIN_MAGIC_COOKIE=wrong PLUGIN_PROTOCOL_VERSIONS=6 "$PROVIDER"
  expect_rc 1
  [ ! -s "$T/out" ] || fail "the provider wrote to stdout with a wrong cookie"
  err_has "This binary is a plugin"
}

t_concurrent() {
  tfcore_only "tfcore's own protocol check (check-concurrent)"
  run "$TFCORE" check-concurrent -n 10
  expect_rc 0
  out_has "10 of 10 concurrent GetProviderSchema calls served"
}

t_shutdown() {
  tfcore_only "tfcore's own protocol check (check-shutdown); t_lifecycle covers the shutdown under both drivers"
  run "$TFCORE" check-shutdown
  expect_rc 0
  out_lacks "FAIL:"
  out_has "[GRPCController/Shutdown] socket file"
  out_has "[GRPCController/Shutdown] provider process"
}

t_reattach() {
  "$PROVIDER" -debug >"$T/debug.out" 2>"$T/debug.err" &
  local pid=$! line=""
  for _ in $(seq 1 600); do   # hang guard: the line normally comes at once
    line=$(grep -o "TF_REATTACH_PROVIDERS='.*'" "$T/debug.out" || true)
    [ -n "$line" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$line" ] || { kill $pid 2>/dev/null; cat "$T/debug.out" "$T/debug.err"; fail "no TF_REATTACH_PROVIDERS line from -debug"; }
  local value=${line#TF_REATTACH_PROVIDERS=\'}
  value=${value%\'}
  TF_REATTACH_PROVIDERS=$value schema_json
  expect_rc 0
  out_has '"cellrouter_tenant"'
  kill -0 $pid 2>/dev/null || fail "reattached provider exited although Test is true"
  kill -INT $pid
  wait $pid
  local st=$?
  # SIGINT ends debug mode; exit 0 or 130 are both a clean end.
  [ $st -eq 0 ] || [ $st -eq 130 ] || fail "debug provider exit status $st"
}

# ---- issue 3: the resource through plan and apply -------------------------

t_create_and_noop() {
  applied_base
  eq "$(count_map)" 4 "entries in the map"
  eq "$(count_state)" 4 "instances in state"
  eq "$(field acme .cell_id)" cell-1 acme.cell_id
  eq "$(field initech .standby_cell_id)" cell-4 initech.standby_cell_id
  eq "$(jq -r '.resources[] | select(.name=="t") | .instances[0].index_key' "$T/terraform.tfstate")" acme index_key
  eq "$(jq -r '.version' "$T/terraform.tfstate")" 4 "state format version"
  tf plan -detailed-exitcode
  expect_rc 0
  out_has "No changes. Your infrastructure matches the configuration."
}

t_drift_set() {
  applied_base
  local v0; v0=$(field acme .version)
  cellctl set acme --cell cell-7 --endpoint https://cell-7.example.com --label tier=gold --label team=core
  expect_rc 0
  tf plan -detailed-exitcode
  expect_rc 2
  drift_shown 'cellrouter_tenant.t["acme"]' changed 'cell_id += "cell-1" -> "cell-7"'
  out_has 'cellrouter_tenant.t["acme"] will be updated in-place'
  out_matches 'cell_id += "cell-7" -> "cell-1"'
  out_has "Plan: 0 to add, 1 to change, 0 to destroy."
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
  eq "$(field acme .cell_id)" cell-1 "acme.cell_id restored"
  eq "$(field acme .endpoint)" https://cell-1.example.com "acme.endpoint restored"
  [ "$(field acme .version)" -gt "$v0" ] || fail "version did not increase"
  tf plan -detailed-exitcode
  expect_rc 0
  # A label changed by hand is drift too, shown element by element.
  cellctl set acme --cell cell-1 --endpoint https://cell-1.example.com --label tier=silver --label team=core
  expect_rc 0
  tf plan -detailed-exitcode
  expect_rc 2
  out_matches '~ "tier" = "silver" -> "gold"'
  tf apply -auto-approve
  expect_rc 0
  eq "$(field acme .labels.tier)" gold "label restored"
}

t_drift_delete() {
  applied_base
  cellctl delete globex
  expect_rc 0
  tf plan -detailed-exitcode
  expect_rc 2
  drift_shown 'cellrouter_tenant.t["globex"]' "been deleted"
  out_has 'cellrouter_tenant.t["globex"] will be created'
  out_has "Plan: 1 to add, 0 to change, 0 to destroy."
  tf apply -auto-approve
  expect_rc 0
  eq "$(field globex .cell_id)" cell-2 "globex re-created"
  tf plan -detailed-exitcode
  expect_rc 0
}

t_update_in_place() {
  applied_base
  local v0; v0=$(field acme .version)
  base_config cell-5 https://cell-5.example.com/v2
  tf plan -detailed-exitcode
  expect_rc 2
  out_has 'cellrouter_tenant.t["acme"] will be updated in-place'
  out_matches '~ cell_id += "cell-1" -> "cell-5"'
  out_matches '~ endpoint += "https://cell-1.example.com" -> "https://cell-5.example.com/v2"'
  out_matches '~ version += [0-9]+ -> \(known after apply\)'
  out_has "Plan: 0 to add, 1 to change, 0 to destroy."
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
  eq "$(field acme .cell_id)" cell-5 acme.cell_id
  eq "$(field acme .endpoint)" https://cell-5.example.com/v2 acme.endpoint
  [ "$(field acme .version)" -gt "$v0" ] || fail "version did not increase"
  eq "$(jq -r '.resources[] | select(.name=="t") | .instances[] | select(.index_key=="acme") | .attributes.cell_id' "$T/terraform.tfstate")" cell-5 "state cell_id"
  tf plan -detailed-exitcode
  expect_rc 0
}

t_failover() {
  applied_base
  # Swap primary and standby: an in-place update, not a replacement.
  config <<EOF
resource "cellrouter_tenant" "single" {
  tenant_id        = "initech"
  cell_id          = "cell-4"
  endpoint         = "https://cell-4.example.com"
  standby_cell_id  = "cell-3"
  standby_endpoint = "http://cell-3.example.com/ingest"
}
EOF
  # The for_each tenants left the configuration: they are destroyed.
  tf plan -detailed-exitcode
  expect_rc 2
  out_has "cellrouter_tenant.single will be updated in-place"
  out_has 'cellrouter_tenant.t["acme"] will be destroyed'
  out_has "Plan: 0 to add, 1 to change, 3 to destroy."
  tf apply -auto-approve
  expect_rc 0
  eq "$(field initech .cell_id)" cell-4 "initech failed over"
  eq "$(field initech .standby_cell_id)" cell-3 "initech standby"
  eq "$(count_map)" 1 "entries left"
}

t_replace() {
  applied_base
  base_config cell-1 https://cell-1.example.com initech-eu
  tf plan -detailed-exitcode
  expect_rc 2
  out_has "cellrouter_tenant.single must be replaced"
  out_has "-/+ resource \"cellrouter_tenant\" \"single\""
  out_matches 'tenant_id += "initech" -> "initech-eu" # forces replacement'
  out_has "Plan: 1 to add, 0 to change, 1 to destroy."
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 1 added, 0 changed, 1 destroyed."
  run "$CELLCTL" --db "$T/map.db" get initech
  [ "$RC" -ne 0 ] || fail "old tenant initech still in the map"
  eq "$(field initech-eu .cell_id)" cell-3 "initech-eu created"
  tf plan -detailed-exitcode
  expect_rc 0
}

t_import() {
  cellctl set umbrella --cell cell-8 --endpoint https://cell-8.example.com --label tier=silver
  expect_rc 0
  config <<'EOF'
resource "cellrouter_tenant" "u" {
  tenant_id = "umbrella"
  cell_id   = "cell-8"
  endpoint  = "https://cell-8.example.com"
  labels    = { tier = "silver" }
}
EOF
  tf import cellrouter_tenant.u umbrella
  expect_rc 0
  out_has "Import successful!"
  eq "$(jq -r '.resources[0].instances[0].attributes.cell_id' "$T/terraform.tfstate")" cell-8 "imported cell_id"
  tf plan -detailed-exitcode
  expect_rc 0
  out_has "No changes."
  # Importing a tenant that is not in the map is refused.
  config <<'EOF'
resource "cellrouter_tenant" "u" {
  tenant_id = "umbrella"
  cell_id   = "cell-8"
  endpoint  = "https://cell-8.example.com"
  labels    = { tier = "silver" }
}
resource "cellrouter_tenant" "ghost" {
  tenant_id = "ghost"
  cell_id   = "cell-8"
  endpoint  = "https://cell-8.example.com"
}
EOF
  tf import cellrouter_tenant.ghost ghost
  expect_rc 1
  err_matches "Cannot import non-existent remote object|ghost"
  # And importing over a managed address is refused by core.
  tf import cellrouter_tenant.u umbrella
  expect_rc 1
  err_has "Resource already managed by Terraform"
}

t_destroy() {
  applied_base
  tf destroy -auto-approve
  expect_rc 0
  out_has "Plan: 0 to add, 0 to change, 4 to destroy."
  out_has "Destroy complete! Resources: 4 destroyed."
  eq "$(count_map)" 0 "entries left in the map"
  eq "$(count_state)" 0 "instances left in state"
}

t_create_over_existing() {
  cellctl set initech --cell cell-9 --endpoint https://cell-9.example.com
  expect_rc 0
  base_config
  tf apply -auto-approve
  expect_rc 1
  err_has "Tenant initech is already in the routing map"
  err_has "terraform import"
  eq "$(field initech .cell_id)" cell-9 "existing entry untouched"
  eq "$(jq '[.resources[] | select(.name=="single")] | length' "$T/terraform.tfstate")" 0 "initech not in state"
  eq "$(field acme .cell_id)" cell-1 "the other tenants were created"
}

t_conflict() {
  tfcore_only "needs tfcore's TFCORE_HOOK_BEFORE_APPLY (a write between the plan and the apply of one run); t_saved_plan makes the same conflict with a saved plan"
  applied_base
  base_config cell-5 https://cell-5.example.com
  # Between the plan (refresh) and the apply, someone writes the entry.
  TFCORE_HOOK_BEFORE_APPLY="'$CELLCTL' --db '$T/map.db' set acme --cell cell-6 --endpoint https://cell-6.example.com" \
    tf apply -auto-approve
  expect_rc 1
  err_has "Routing map entry changed"
  err_matches "version [0-9]+"
  eq "$(field acme .cell_id)" cell-6 "the out-of-band write is kept"
  tf plan -detailed-exitcode
  expect_rc 2
  out_has 'cellrouter_tenant.t["acme"] has changed'
}

t_saved_plan() {
  applied_base
  base_config cell-5 https://cell-5.example.com
  tf plan -out="$T/change.plan"
  expect_rc 0
  out_has "Saved the plan to:"
  [ -s "$T/change.plan" ] || fail "no plan file written"
  # Applying the saved plan neither refreshes nor re-plans the set of changes.
  tf apply "$T/change.plan"
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
  eq "$(field acme .cell_id)" cell-5 acme.cell_id
  # The same plan again is stale: the state moved on.
  tf apply "$T/change.plan"
  expect_rc 1
  err_has "Saved plan is stale"
  # Terraform's own case for the conflict check: plan, someone writes the
  # entry, the saved plan is applied with the version read at plan time.
  base_config cell-6 https://cell-6.example.com
  tf plan -out="$T/conflict.plan"
  expect_rc 0
  cellctl set acme --cell cell-7 --endpoint https://cell-7.example.com
  expect_rc 0
  tf apply "$T/conflict.plan"
  expect_rc 1
  err_has "Routing map entry changed"
  eq "$(field acme .cell_id)" cell-7 "the out-of-band write is kept"
}

t_references() {
  # mirror refers to primary: planned after it, with primary's computed
  # version unknown at plan time, and applied after it with the real value.
  config <<'EOF'
variable "cell" { default = "cell-1" }

resource "cellrouter_tenant" "mirror" {
  tenant_id = "${cellrouter_tenant.primary.tenant_id}-mirror"
  cell_id   = cellrouter_tenant.primary.cell_id
  endpoint  = cellrouter_tenant.primary.endpoint
  labels    = { source_version = tostring(cellrouter_tenant.primary.version) }
}

resource "cellrouter_tenant" "primary" {
  tenant_id = "acme"
  cell_id   = var.cell
  endpoint  = "https://${var.cell}.example.com"
}
EOF
  tf plan -detailed-exitcode
  expect_rc 2
  out_has 'tenant_id  = "acme-mirror"'
  out_has '"source_version" = (known after apply)'
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
  eq "$(field acme-mirror .labels.source_version)" "$(field acme .version)" "mirror sees primary's version"
  tf plan -detailed-exitcode
  expect_rc 0
  # A change to primary flows into mirror at apply time.
  tf apply -auto-approve -var cell=cell-2
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 2 changed, 0 destroyed."
  eq "$(field acme-mirror .cell_id)" cell-2 "mirror followed primary"
  eq "$(field acme-mirror .labels.source_version)" "$(field acme .version)" "mirror sees primary's new version"
  tf plan -detailed-exitcode -var cell=cell-2
  expect_rc 0
  # A cycle is refused.
  config <<'EOF'
resource "cellrouter_tenant" "a" {
  tenant_id = "a"
  cell_id   = cellrouter_tenant.b.cell_id
  endpoint  = "https://a.example.com"
}
resource "cellrouter_tenant" "b" {
  tenant_id = "b"
  cell_id   = cellrouter_tenant.a.cell_id
  endpoint  = "https://b.example.com"
}
EOF
  tf plan
  expect_rc 1
  err_has "Error: Cycle"
}

t_tenants_batch() {
  # cellrouter_tenants: a map nested attribute (computed version and
  # updated_at inside each element) through ProposedNew, the nested plan
  # checks and the element-wise rendering.
  batch() {
    config <<EOF
resource "cellrouter_tenants" "batch" {
  name    = "batch1"
  tenants = {
    acme   = { cell_id = "cell-1", endpoint = "https://cell-1.example.com" }
    globex = { cell_id = "cell-2", endpoint = "https://cell-2.example.com", labels = { tier = "gold" } }
    $1
  }
}
EOF
  }
  batch ""
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
  eq "$(count_map)" 2 "entries in the map"
  tf plan -detailed-exitcode
  expect_rc 0
  cellctl set acme --cell cell-9 --endpoint https://cell-9.example.com
  expect_rc 0
  tf plan -detailed-exitcode
  expect_rc 2
  drift_shown cellrouter_tenants.batch changed
  out_matches '~ cell_id += "cell-9" -> "cell-1"'
  out_has "# (1 unchanged element hidden)"
  tf apply -auto-approve
  expect_rc 0
  eq "$(field acme .cell_id)" cell-1 "acme restored"
  batch 'hooli = { cell_id = "cell-3", endpoint = "https://cell-3.example.com" }'
  tf plan -detailed-exitcode
  expect_rc 2
  out_matches '\+ "hooli" += \{'
  tf apply -auto-approve
  expect_rc 0
  eq "$(count_map)" 3 "entries after adding hooli"
  eq "$(jq -r '.resources[0].instances[0].attributes.tenants.hooli.version' "$T/terraform.tfstate")" "$(field hooli .version)" "state version of hooli"
  batch ""
  tf apply -auto-approve
  expect_rc 0
  eq "$(count_map)" 2 "entries after removing hooli"
  tf destroy -auto-approve
  expect_rc 0
  eq "$(count_map)" 0 "entries after destroy"
}

# tj_config DOC [NAME]: cfg/main.tf with one cellrouter_tenants whose
# tenants_json is the file DOC, inlined as a heredoc (tfcore has no file()).
tj_config() {
  local name=${2:-fleet}
  config <<EOF
resource "cellrouter_tenants" "fleet" {
  name         = "$name"
  tenants_json = <<-JSON
$(sed 's/^/    /' "$1")
    JSON
}
EOF
}

# tj_state_doc: the tenants_json document in the state, as jq reads it.
tj_state_doc() { jq -r '.resources[0].instances[0].attributes.tenants_json' "$T/terraform.tfstate"; }

# tj_refresh: the state refreshed and written, by either driver.
tj_refresh() {
  if [ "$DRIVER" = terraform ]; then tf apply -refresh-only -auto-approve; else tf refresh; fi
}

t_tenants_json() {
  # cellrouter_tenants with its fleet as one JSON document: create, no
  # change for a reformatted document, drift on 3 of 5 tenants shown alone,
  # bad documents refused at plan with the tenant and field named, import,
  # destroy. Versions live in the private state, never in an attribute.
  cat >"$T/doc.json" <<'EOF'
{
  "acme":    {"cell_id": "cell-1", "endpoint": "https://cell-1.example.com/in", "standby_cell_id": "cell-2", "standby_endpoint": "https://cell-2.example.com/in"},
  "globex":  {"cell_id": "cell-2", "endpoint": "https://cell-2.example.com/in", "labels": {"tier": "gold"}},
  "hooli":   {"cell_id": "cell-2", "endpoint": "https://cell-2.example.com/in", "standby_cell_id": "cell-1", "standby_endpoint": "https://cell-1.example.com/in"},
  "initech": {"cell_id": "cell-3", "endpoint": "https://cell-3.example.com/in"},
  "umbrella": {"cell_id": "cell-3", "endpoint": "https://cell-3.example.com/in", "labels": {"team": "core"}}
}
EOF
  tj_config "$T/doc.json"
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
  eq "$(count_map)" 5 "entries in the map"
  eq "$(field globex .labels.tier)" gold "globex's label"
  eq "$(tj_state_doc | jq -c 'keys')" '["acme","globex","hooli","initech","umbrella"]' "tenants in the state's document"
  eq "$(jq -r '.resources[0].instances[0].attributes.tenants' "$T/terraform.tfstate")" null "the map form in state"
  # The versions are in the private state, not in the document.
  [ -n "$(jq -r '.resources[0].instances[0].private // empty' "$T/terraform.tfstate")" ] || fail "no private state"
  tj_state_doc | grep -q version && fail "versions in the state's document"
  tf plan -detailed-exitcode
  expect_rc 0
  out_has "No changes."

  # The same entries, compact, reordered, with defaults written out: no
  # change, and the state keeps the text it had.
  local before
  before=$(tj_state_doc)
  jq -c --sort-keys '.acme.labels = {} | .initech.standby_cell_id = null | .initech.labels = null' "$T/doc.json" >"$T/doc2.json"
  tj_config "$T/doc2.json"
  tf plan -detailed-exitcode
  expect_rc 0
  out_has "No changes."
  tf apply -auto-approve
  expect_rc 0
  eq "$(tj_state_doc)" "$before" "the state's text after a reformatted apply"

  # Drift on 3 of the 5 tenants: a move, a failover, a deletion. The
  # refreshed document differs from the prior in those 3 alone; the real
  # Terraform renders the plan tenant by tenant, the other 2 hidden.
  tj_config "$T/doc.json"
  cellctl set acme --cell cell-9 --endpoint https://cell-9.example.com/in
  expect_rc 0
  cellctl failover hooli
  expect_rc 0
  cellctl delete umbrella
  expect_rc 0
  tf plan -detailed-exitcode
  expect_rc 2
  out_has "Plan: 0 to add, 1 to change, 0 to destroy."
  if [ "$DRIVER" = terraform ]; then
    out_has "tenants_json = jsonencode("
    out_matches '~ acme += \{'
    out_matches '~ hooli += \{'
    out_matches '\+ umbrella += \{'
    out_matches '~ cell_id += "cell-9" -> "cell-1"'
    out_has "# (2 unchanged attributes hidden)"
    out_lacks 'globex'
  fi
  tj_refresh
  expect_rc 0
  tj_state_doc >"$T/refreshed.json"
  eq "$(jq -rn --slurpfile a "$T/doc.json" --slurpfile b "$T/refreshed.json" \
        '[$a[0] | to_entries[] | select(.value != $b[0][.key]) | .key] | join(",")')" \
     "acme,hooli,umbrella" "tenants changed in the refreshed document"
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
  eq "$(field acme .cell_id)" cell-1 "acme restored"
  eq "$(field hooli .cell_id)" cell-2 "hooli restored"
  eq "$(field umbrella .labels.team)" core "umbrella re-created"
  tf plan -detailed-exitcode
  expect_rc 0

  # Bad documents: refused at plan naming the tenant and field, nothing
  # written.
  local v
  v=$(field globex .version)
  jq '.globex.endpoint = "ftp://cell-2.example.com/in"' "$T/doc.json" >"$T/bad.json"
  tj_config "$T/bad.json"
  tf plan
  expect_rc 1
  err_has 'tenants_json: tenant "globex": endpoint must be an absolute URL'
  err_attr tenants_json
  printf '{"acme": {"cell_id": "cell-1", "endpoint": "https://cell-1.example.com/in"},\n "acme": {"cell_id": "cell-2", "endpoint": "https://cell-2.example.com/in"}}\n' >"$T/bad.json"
  tj_config "$T/bad.json"
  tf apply -auto-approve
  expect_rc 1
  err_has 'tenants_json: tenant "acme" is given twice'
  printf '["acme"]\n' >"$T/bad.json"
  tj_config "$T/bad.json"
  tf plan
  expect_rc 1
  err_has 'tenants_json: the document must be a JSON object keyed by tenant id'
  eq "$(field globex .version)" "$v" "globex untouched by the refused plans"
  eq "$(count_map)" 5 "entries after the refused plans"

  # Import into the document form: the next plan finds no change.
  tj_config "$T/doc.json"
  rm -f "$T/terraform.tfstate"
  tf import cellrouter_tenants.fleet 'tenants_json/fleet/prefix:'
  expect_rc 0
  out_has "Import successful!"
  eq "$(tj_state_doc | jq -c 'keys')" '["acme","globex","hooli","initech","umbrella"]' "imported tenants"
  tf plan -detailed-exitcode
  expect_rc 0
  out_has "No changes."

  # What cellctl export prints is a valid configuration of the same fleet.
  "$CELLCTL" --db "$T/map.db" export --owner fleet >"$T/export.json" || fail "cellctl export"
  tj_config "$T/export.json"
  tf plan -detailed-exitcode
  expect_rc 0

  tf destroy -auto-approve
  expect_rc 0
  out_has "Destroy complete! Resources: 1 destroyed."
  eq "$(count_map)" 0 "entries after destroy"
}

t_data_sources() {
  cellctl set umbrella --cell cell-8 --endpoint https://cell-8.example.com --label tier=silver
  expect_rc 0
  config <<'EOF'
data "cellrouter_tenant" "existing" {
  tenant_id = "umbrella"
}

resource "cellrouter_tenant" "neighbour" {
  tenant_id = "umbrella-2"
  cell_id   = data.cellrouter_tenant.existing.cell_id
  endpoint  = data.cellrouter_tenant.existing.endpoint
}

data "cellrouter_tenant" "after" {
  tenant_id = cellrouter_tenant.neighbour.id
}

data "cellrouter_routing_map" "cell8" {
  cell_id = "cell-8"
}

output "neighbour_version" { value = data.cellrouter_tenant.after.version }
output "cell8" { value = sort(keys(data.cellrouter_routing_map.cell8.tenants)) }
EOF
  tf apply -auto-approve
  expect_rc 0
  # Read at plan: the data source with known configuration; read at apply:
  # the one that depends on a resource with changes pending.
  out_has "data.cellrouter_tenant.after will be read during apply"
  out_has "(depends on a resource or a module with changes pending)"
  out_has "data.cellrouter_tenant.after: Read complete"
  out_has "neighbour_version = 1"
  eq "$(field umbrella-2 .cell_id)" cell-8 "neighbour placed from the data source"
  # cell8 was read at plan, before umbrella-2 existed: its output in the
  # state is stale. The real Terraform counts an output-only change as a
  # change (-detailed-exitcode 2, "Changes to Outputs"); tfcore says 0.
  tf plan -detailed-exitcode
  expect_rc_real 2 0
  [ "$RC" -eq 0 ] || out_has "Changes to Outputs:"
  tf apply -auto-approve
  expect_rc 0
  out_matches 'cell8 += \['
  out_has '"umbrella-2",'
  # The data source follows the map: a change there moves the neighbour.
  cellctl set umbrella --cell cell-9 --endpoint https://cell-9.example.com
  expect_rc 0
  tf plan -detailed-exitcode
  expect_rc 2
  out_matches '~ cell_id += "cell-8" -> "cell-9"'
  # A tenant the map does not hold: the provider's diagnostic, with its path.
  config <<'EOF'
data "cellrouter_tenant" "missing" {
  tenant_id = "nobody"
}
EOF
  tf plan
  expect_rc 1
  err_has "with data.cellrouter_tenant.missing,"
  err_attr tenant_id
}

t_thousand() {
  local n=1000
  mkdir -p "$T/cfg"
  {
    printf 'provider "cellrouter" {\n  path = "%s"\n}\n\nlocals {\n  tenants = {\n' "$T/map.db"
    for i in $(seq 1 $n); do
      printf '    "tenant-%04d" = "cell-%d"\n' "$i" $((i % 16))
    done
    printf '  }\n}\n\nresource "cellrouter_tenant" "t" {\n  for_each  = local.tenants\n'
    printf '  tenant_id = each.key\n  cell_id   = each.value\n'
    printf '  endpoint  = "https://${each.value}.example.com"\n}\n'
  } >"$T/cfg/main.tf"
  tf apply -auto-approve -parallelism=10
  expect_rc 0
  out_has "Apply complete! Resources: $n added, 0 changed, 0 destroyed."
  eq "$(count_map)" $n "entries in the map"
  eq "$(count_state)" $n "instances in state"
  eq "$(field tenant-0017 .endpoint)" https://cell-1.example.com "tenant-0017 endpoint"
  tf plan -detailed-exitcode -parallelism=10
  expect_rc 0
  out_has "No changes."
}

t_interrupt() {
  # SIGINT in the middle of an apply: Terraform asks the provider to stop
  # (StopProvider), starts nothing new, and the state it writes matches the
  # map exactly; a second apply finishes the job. The real Terraform costs
  # far more per resource instance (the graph of 2,000 instances alone
  # takes minutes): 300 there.
  local n=2000
  [ "$DRIVER" = terraform ] && n=300
  mkdir -p "$T/cfg"
  {
    printf 'provider "cellrouter" {\n  path = "%s"\n}\n\nresource "cellrouter_tenant" "t" {\n  for_each  = toset([\n' "$T/map.db"
    for i in $(seq 1 $n); do printf '    "tenant-%05d",\n' "$i"; done
    printf '  ])\n  tenant_id = each.key\n  cell_id   = "cell-1"\n  endpoint  = "https://cell-1.example.com"\n}\n'
  } >"$T/cfg/main.tf"
  tf_argv apply -auto-approve -parallelism=4
  "${TF_ARGV[@]}" >"$T/apply.out" 2>"$T/apply.err" &
  local pid=$!
  for _ in $(seq 1 1200); do  # hang guard: creations start within moments
    grep -q "Creation complete" "$T/apply.out" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  kill -INT $pid 2>/dev/null
  wait $pid
  local st=$?
  echo "apply exit status $st"; tail -n 5 "$T/apply.out"; cat "$T/apply.err"
  # The real Terraform says "Interrupt received." on stdout and "Error:
  # execution halted" for each operation it did not start; tfcore says
  # both on stderr, the second as "Operation cancelled".
  if grep -q "Interrupt received" "$T/apply.out" "$T/apply.err"; then
    [ $st -eq 1 ] || fail "interrupted apply exit status $st, want 1"
    if [ "$DRIVER" = terraform ]; then
      grep -q "Interrupt received" "$T/apply.out" || fail "no 'Interrupt received' on stdout"
      grep -q "Error: execution halted" "$T/apply.err" || fail "no 'execution halted' diagnostic"
    else
      grep -qE "Operation cancelled|Error: execution halted" "$T/apply.err" || fail "no 'execution halted' diagnostic"
    fi
  else
    [ $st -eq 0 ] || fail "apply failed without an interrupt (exit $st)"
    echo "(the apply finished before the interrupt arrived)"
  fi
  # Whatever was done is in both the map and the state, nothing else.
  "$CELLCTL" --db "$T/map.db" list --json | jq -r '.[].tenant_id' | sort >"$T/map.ids"
  jq -r '.resources[].instances[].index_key' "$T/terraform.tfstate" | sort >"$T/state.ids"
  cmp -s "$T/map.ids" "$T/state.ids" || fail "state and map differ after the interrupt: $(diff "$T/map.ids" "$T/state.ids" | head -5)"
  echo "$(wc -l <"$T/map.ids") of $n tenants written before the interrupt"
  tf apply -auto-approve -parallelism=10
  expect_rc 0
  eq "$(count_map)" $n "entries after the second apply"
  tf plan -detailed-exitcode
  expect_rc 0
}

# ---- issue 11: the provider's lifecycle under Terraform ---------------------
# After every command each provider process has exited cleanly; when
# Terraform dies the provider does not linger, and the routing map holds
# whole batches only. Each test gives the provider its own TMPDIR (where
# it puts its socket) so that what it leaves behind can be seen.

lc_tmpdir() { export TMPDIR=$T/tmp; mkdir -p "$TMPDIR"; }

# lc_fleet N REV: one cellrouter_tenants resource of N tenants t000000...
# whose endpoints end in /REV, written out in the configuration (tfcore
# has no file() or jsondecode()). No labels: a map of objects costs the
# real Terraform more the more fields its elements have.
lc_fleet() {
  mkdir -p "$T/cfg"
  {
    printf 'provider "cellrouter" {\n  path = "%s"\n}\n\n' "$T/map.db"
    printf 'resource "cellrouter_tenants" "fleet" {\n  name    = "fleet"\n  tenants = {\n'
    awk -v n="$1" -v rev="$2" 'BEGIN { for (i = 0; i < n; i++) { c = i % 3
      printf "    t%06d = { cell_id = \"cell-%d\", endpoint = \"https://cell-%d.example.com/%s\" }\n", i, c, c, rev } }'
    printf '  }\n}\n'
  } >"$T/cfg/main.tf"
}

# written REV: entries of the map whose endpoint ends in /REV.
written() { sqlite3 "$T/map.db" "SELECT count(*) FROM entries WHERE endpoint LIKE '%/$1'"; }

# no_leftovers: no provider left the routing map open (SQLite removes the
# -wal file when the last connection closes cleanly; a killed provider
# leaves it) or its socket file behind. Call it before anything else opens
# the map: the last reader to close would remove the file as well.
no_leftovers() {
  [ ! -e "$T/map.db-wal" ] || fail "map.db-wal left behind: a provider did not close the routing map"
  local socks; socks=$(find "$TMPDIR" -type s)
  [ -z "$socks" ] || fail "socket files left behind: $socks"
}

# gone PID...: every PID has exited (a zombie counts: its parent is gone).
gone() {
  local p
  for p in "$@"; do
    [ -d "/proc/$p" ] && [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" != Z ] && return 1
  done
  return 0
}

t_lifecycle() {
  lc_tmpdir
  applied_base
  no_leftovers
  tf plan -detailed-exitcode
  expect_rc 0
  no_leftovers
  cellctl set acme --cell cell-7 --endpoint https://cell-7.example.com
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
  no_leftovers
  tf destroy -auto-approve
  expect_rc 0
  no_leftovers
  eq "$(count_map)" 0 "entries after destroy"
}

# killed_mid_apply [PIDFILE]: an apply of 3,000 changes (3 batches of
# 1,000, each one SQLite transaction) made slow by a trigger (each row
# costs a cross join of 300 x 300 rows: about a second a batch); once the
# first batch is committed, Terraform is killed with SIGKILL. The provider
# must see that Terraform is gone, stop between two batches, let the one
# in flight commit, close the map and exit: the map then holds whole
# batches only, not all of them, nothing is left behind, and the next
# apply converges. PIDFILE names the file holding the provider's pid when
# a wrapper stands between Terraform and it.
killed_mid_apply() {
  local pidfile=${1:-} n=3000
  lc_fleet $n one
  tf apply -auto-approve
  expect_rc 0
  eq "$(written one)" $n "entries written by the first apply"
  sqlite3 "$T/map.db" "CREATE TABLE slow_rows (x INTEGER);
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300)
      INSERT INTO slow_rows SELECT x FROM c;
    CREATE TRIGGER slow BEFORE INSERT ON entries
      BEGIN SELECT count(*) FROM slow_rows a, slow_rows b; END;" || fail "cannot install the trigger"
  lc_fleet $n two
  tf_argv apply -auto-approve
  "${TF_ARGV[@]}" >"$T/apply.out" 2>"$T/apply.err" &
  local tfpid=$! pids=""
  for _ in $(seq 1 2400); do      # hang guard: the first batch takes seconds
    [ -z "$pidfile" ] && pids=$(pgrep -P $tfpid -f terraform-provider-cellrouter | tr '\n' ' ')
    [ "$(written two)" -ge 1000 ] && break
    kill -0 $tfpid 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$pidfile" ] && pids=$(tail -n 1 "$pidfile")
  kill -KILL $tfpid 2>/dev/null
  wait $tfpid 2>/dev/null
  echo "killed Terraform ($tfpid) after $(written two) rewritten entries; provider: $pids"
  [ -n "$pids" ] || { cat "$T/apply.out" "$T/apply.err"; fail "no provider process found under Terraform"; }
  for _ in $(seq 1 1200); do      # hang guard, not a measurement
    gone $pids && break
    sleep 0.05
  done
  gone $pids || fail "provider $pids still running 60 s after Terraform was killed"
  no_leftovers
  local done
  done=$(written two)
  echo "$done of $n entries rewritten when the provider stopped"
  [ $((done % 1000)) -eq 0 ] || fail "$done entries rewritten: a batch was written in part"
  [ "$done" -lt $n ] || fail "every batch was written: the provider did not stop when Terraform died"
  eq "$(sqlite3 "$T/map.db" 'PRAGMA integrity_check')" ok "integrity of the map"
  sqlite3 "$T/map.db" "DROP TRIGGER slow; DROP TABLE slow_rows" || fail "cannot drop the trigger"
  # Terraform died before it recorded the apply: the next one reads the
  # map, finds what was written and writes the rest.
  tf apply -auto-approve
  expect_rc 0
  eq "$(written two)" $n "entries after the next apply"
  tf plan -detailed-exitcode
  expect_rc 0
  no_leftovers
}

t_terraform_killed() {
  lc_tmpdir
  killed_mid_apply
}

t_connection_closed() {
  # A wrapper between Terraform and the provider stays alive when
  # Terraform is killed: the provider's parent lives on, and only the
  # closed connection tells it that Terraform is gone.
  lc_tmpdir
  mkdir -p "$T/wrap"
  cat >"$T/wrap/terraform-provider-cellrouter" <<EOF
#!/bin/sh
# Not exec: this shell stays the provider's parent.
"$PROVIDER" "\$@" &
echo \$! >>"$T/provider.pid"
wait
EOF
  chmod +x "$T/wrap/terraform-provider-cellrouter"
  if [ "$DRIVER" = terraform ]; then
    cr_tf_setup "$T" "$T/wrap"
  else
    export TFCORE_PROVIDER=$T/wrap/terraform-provider-cellrouter
  fi
  killed_mid_apply "$T/provider.pid"
}

# bad_input NAME BODY ATTR PATTERN: validate fails naming ATTR.
bad_input() {
  echo "=== bad input: $1"
  config <<<"$2"
  tf validate
  expect_rc 1
  case $3 in
    "attribute path: "*) err_attr "${3#attribute path: }" ;;
    *) err_has "$3" ;;
  esac
  err_matches "$4"
}

t_bad_inputs() {
  local ok='tenant_id = "acme"
  cell_id   = "cell-1"
  endpoint  = "https://cell-1.example.com"'
  bad_input "invalid URL" 'resource "cellrouter_tenant" "a" {
  tenant_id = "acme"
  cell_id   = "cell-1"
  endpoint  = "ftp://cell-1.example.com"
}' 'attribute path: endpoint' 'endpoint +=.*ftp://'
  bad_input "bad tenant id" 'resource "cellrouter_tenant" "a" {
  tenant_id = "bad tenant/id"
  cell_id   = "cell-1"
  endpoint  = "https://cell-1.example.com"
}' 'attribute path: tenant_id' 'tenant_id += "bad tenant/id"'
  bad_input "empty tenant id" 'resource "cellrouter_tenant" "a" {
  tenant_id = ""
  cell_id   = "cell-1"
  endpoint  = "https://cell-1.example.com"
}' 'attribute path: tenant_id' 'Error:'
  bad_input "missing required" 'resource "cellrouter_tenant" "a" {
  tenant_id = "acme"
  cell_id   = "cell-1"
}' 'Missing required argument' 'argument "endpoint" is required'
  bad_input "wrong type (list for string)" 'resource "cellrouter_tenant" "a" {
  tenant_id = "acme"
  cell_id   = ["cell-1"]
  endpoint  = "https://cell-1.example.com"
}' 'Incorrect attribute value type' 'cell_id += \["cell-1"\]'
  bad_input "wrong type (string for map)" "resource \"cellrouter_tenant\" \"a\" {
  $ok
  labels    = \"gold\"
}" 'Incorrect attribute value type' 'labels += "gold"'
  bad_input "standby without its endpoint" "resource \"cellrouter_tenant\" \"a\" {
  $ok
  standby_cell_id = \"cell-2\"
}" 'attribute path: standby' 'Error:'
  # A value for a computed-only attribute: Terraform core accepts it (in
  # validate and plan alike) and leaves the refusal to the provider, which
  # refuses it in ValidateResourceConfig as terraform-plugin-framework does.
  bad_input "computed attribute set" "resource \"cellrouter_tenant\" \"a\" {
  $ok
  version = 3
}" 'Invalid Configuration for Read-Only Attribute' 'version += 3'
  bad_input "unknown argument" "resource \"cellrouter_tenant\" \"a\" {
  $ok
  colour = \"blue\"
}" 'Unsupported argument' 'colour'
  bad_input "bad label key" "resource \"cellrouter_tenant\" \"a\" {
  $ok
  labels = { \"\" = \"x\" }
}" 'attribute path: labels' 'Error:'
  # In a for_each block the values are unknown to the validate walk; the
  # provider sees them, and rejects them, when each instance is planned.
  echo "=== bad input: for_each value"
  config <<'EOF'
resource "cellrouter_tenant" "t" {
  for_each  = { good = "https://cell-1.example.com", bad = "mailto:ops@example.com" }
  tenant_id = each.key
  cell_id   = "cell-1"
  endpoint  = each.value
}
EOF
  tf validate
  expect_rc 0
  tf plan
  expect_rc 1
  err_has 'with cellrouter_tenant.t["bad"],'
  err_attr endpoint
  run grep -c 'with cellrouter_tenant.t\["good"\]' "$T/err"
  eq "$(cat "$T/out")" 0 "diagnostics about the good instance"
}

t_hostile_files() {
  # Terraform's own inputs are files too: a damaged state or plan file is
  # a clear error, never a crash or a silent empty state.
  base_config
  printf '{"version": 4, "resources": [' >"$T/terraform.tfstate"
  tf plan
  expect_rc 1
  err_has_real "Unsupported state file format" "Failed to load state"
  rm -f "$T/terraform.tfstate"
  printf 'not a plan' >"$T/bad.plan"
  tf apply "$T/bad.plan"
  expect_rc 1
  err_has_real "as a plan file" "Failed to load plan file"
  printf 'resource "cellrouter_tenant" "a" {\n  tenant_id = "a"\n  cell_id = "c\n' >"$T/cfg/main.tf"
  tf validate
  expect_rc 1
  err_matches "on main.tf line [0-9]+"
  # The rest is tfcore's own state and plan readers: the real Terraform
  # upgrades a version 3 state and has its own plan file format.
  [ "$DRIVER" = terraform ] && return 0
  base_config
  printf '{"version": 3}' >"$T/terraform.tfstate"
  tf plan
  expect_rc 1
  err_has "unsupported state format version 3"
  printf '{"version": 4, "resources": [{"mode": "managed", "type": "cellrouter_tenant", "name": "x", "instances": [{"schema_version": 0, "attributes": {"tenant_id": {"a": 1}}}]}]}' >"$T/terraform.tfstate"
  tf plan
  expect_rc 1
  err_matches "Error: "
  rm -f "$T/terraform.tfstate"
  printf '{"format": "tfcore-plan/1", "changes": [{"addr": "x", "type": "cellrouter_tenant", "action": 99}]}' >"$T/bad.plan"
  tf apply "$T/bad.plan"
  expect_rc 1
  err_has "invalid action 99"
}

# ---- issue 14: resource identity, `terraform query`, the newest protocol ----
# Identity and import by identity need Terraform 1.12, `query` 1.14: under
# tfcore (emulating 1.15 unless TFCORE_EMULATE says otherwise) they run;
# under an older Terraform (the real 1.11.4 here) they are skipped, saying
# so. t_emulate_old drives the same provider as Terraform 1.4 and 1.11;
# t_broken_tls and t_broken_identity show the harness's checks failing on
# providers broken on purpose (tests/e2e/e2e.mk, build/broken/).

# tf_version: the Terraform the driver is (tfcore: the one it emulates).
tf_version() {
  if [ "$DRIVER" = terraform ]; then
    "$TERRAFORM" version -json | jq -r .terraform_version
  else
    echo "${TFCORE_EMULATE:-1.15}"
  fi
}
# needs_tf MAJOR.MINOR WHAT: ends the test as skipped before that release.
needs_tf() {
  local have; have=$(tf_version)
  if [ "$(printf '%s\n%s\n' "$1" "$have" | sort -V | head -n 1)" != "$1" ]; then
    echo "SKIP: $2 needs Terraform $1 or later; the driver is Terraform $have"
    exit "$CR_SKIP"
  fi
}
# q_config: writes cfg/query.tfquery.hcl from stdin.
q_config() {
  mkdir -p "$T/cfg"
  cat >"$T/cfg/query.tfquery.hcl"
  echo "--- query.tfquery.hcl"; sed 's/^/  : /' "$T/cfg/query.tfquery.hcl"
}
# map_count JQ: entries of the map (cellctl's view) for which JQ holds.
map_count() { "$CELLCTL" --db "$T/map.db" list --json | jq "[.[] | select($1)] | length"; }
# listed NAME: result lines of list block NAME in the last query's output.
listed() { grep -c "^list\.cellrouter_tenant\.$1 " "$T/out"; }
# identity_of SELECT: the identity's tenant_id of the first instance of
# the resource the jq filter SELECT picks in the state.
identity_of() {
  jq -r "[.resources[] | $1 | .instances[0].identity.tenant_id] | .[0]" "$T/terraform.tfstate"
}

t_identity() {
  needs_tf 1.12 "resource identity"
  config <<'EOF'
resource "cellrouter_tenant" "t" {
  for_each  = toset(["acme", "globex"])
  tenant_id = each.key
  cell_id   = "cell-1"
  endpoint  = "https://cell-1.example.com"
}

resource "cellrouter_tenant" "single" {
  tenant_id = "initech"
  cell_id   = "cell-3"
  endpoint  = "https://cell-3.example.com"
}

resource "cellrouter_tenants" "fleet" {
  name    = "fleet"
  tenants = {
    hooli = { cell_id = "cell-2", endpoint = "https://cell-2.example.com" }
  }
}
EOF
  tf apply -auto-approve
  expect_rc 0
  local q='.resources[] | select(.type=="cellrouter_tenant") | .instances[]'
  eq "$(jq -r "[$q | .identity.tenant_id] | sort | join(\",\")" "$T/terraform.tfstate")" \
     "acme,globex,initech" "identities in state"
  eq "$(jq -r "[$q | .identity_schema_version] | unique | join(\",\")" "$T/terraform.tfstate")" 0 \
     "identity_schema_version"
  eq "$(jq -r "[$q | select(.identity.tenant_id != .attributes.tenant_id)] | length" "$T/terraform.tfstate")" 0 \
     "identity = tenant_id"
  # cellrouter_tenants has no identity schema: none is stored.
  eq "$(identity_of 'select(.type=="cellrouter_tenants")')" null "fleet identity"
  tf plan -detailed-exitcode
  expect_rc 0
  # Drift, an update and a refresh keep the identity (tfcore fails an
  # existing object whose identity changes).
  cellctl set acme --cell cell-7 --endpoint https://cell-7.example.com
  expect_rc 0
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
  eq "$(jq -r "[$q | select(.attributes.tenant_id==\"acme\") | .identity.tenant_id] | .[0]" "$T/terraform.tfstate")" \
     acme "acme's identity after the update"
  tf refresh
  expect_rc 0
  # A replacement has the new object's identity.
  sed -i 's/"initech"/"initech-eu"/' "$T/cfg/main.tf"
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 1 added, 0 changed, 1 destroyed."
  eq "$(identity_of 'select(.name=="single")')" initech-eu "replaced identity"
  # `terraform import` by ID records the identity too.
  cellctl set umbrella --cell cell-8 --endpoint https://cell-8.example.com
  cat >>"$T/cfg/main.tf" <<'EOF'

resource "cellrouter_tenant" "u" {
  tenant_id = "umbrella"
  cell_id   = "cell-8"
  endpoint  = "https://cell-8.example.com"
}
EOF
  tf import cellrouter_tenant.u umbrella
  expect_rc 0
  eq "$(identity_of 'select(.name=="u")')" umbrella "imported identity"
  tf plan -detailed-exitcode
  expect_rc 0
}

t_import_identity() {
  needs_tf 1.12 "import blocks by identity"
  cellctl set umbrella --cell cell-8 --endpoint https://cell-8.example.com --label tier=silver
  expect_rc 0
  cellctl set wayne --cell cell-9 --endpoint https://cell-9.example.com
  expect_rc 0
  config <<'EOF'
import {
  to       = cellrouter_tenant.u
  identity = { tenant_id = "umbrella" }
}

import {
  to = cellrouter_tenant.w
  id = "wayne"
}

resource "cellrouter_tenant" "u" {
  tenant_id = "umbrella"
  cell_id   = "cell-8"
  endpoint  = "https://cell-8.example.com"
  labels    = { tier = "silver" }
}

resource "cellrouter_tenant" "w" {
  tenant_id = "wayne"
  cell_id   = "cell-9"
  endpoint  = "https://cell-9.example.com"
}
EOF
  tf plan
  expect_rc 0
  out_has "cellrouter_tenant.u: Preparing import... [identity=tenant_id=umbrella]"
  out_has "cellrouter_tenant.u will be imported"
  out_has "Plan: 2 to import, 0 to add, 0 to change, 0 to destroy."
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 2 imported, 0 added, 0 changed, 0 destroyed."
  eq "$(identity_of 'select(.name=="u")')" umbrella "identity of u"
  eq "$(identity_of 'select(.name=="w")')" wayne "identity of w (imported by ID)"
  tf plan -detailed-exitcode
  expect_rc 0
  # What cannot be imported: an entry that is not in the map, an identity
  # that is no tenant id.
  local bad
  for bad in "ghost:Cannot import non-existent remote object" \
             "-bad:Invalid import identity"; do
    rm -f "$T/terraform.tfstate"
    config <<EOF
import {
  to       = cellrouter_tenant.g
  identity = { tenant_id = "${bad%%:*}" }
}

resource "cellrouter_tenant" "g" {
  tenant_id = "ghost"
  cell_id   = "cell-8"
  endpoint  = "https://cell-8.example.com"
}
EOF
    tf plan
    expect_rc 1
    err_has "${bad#*:}"
  done

  # A cell by its identity { cell_id }: one Terraform made it, then forgot
  # it (its state gone); an import block by identity adopts it again.
  rm -f "$T/terraform.tfstate"
  config <<'EOF'
resource "cellrouter_cell" "c" {
  cell_id  = "cell-8"
  endpoint = "https://cell-8.example.com"
}
EOF
  tf apply -auto-approve
  expect_rc 0
  eq "$(jq -r '.resources[0].instances[0].identity.cell_id' "$T/terraform.tfstate")" cell-8 "cell identity on create"
  rm -f "$T/terraform.tfstate"
  config <<'EOF'
import {
  to       = cellrouter_cell.c
  identity = { cell_id = "cell-8" }
}

resource "cellrouter_cell" "c" {
  cell_id  = "cell-8"
  endpoint = "https://cell-8.example.com"
}
EOF
  tf plan
  expect_rc 0
  out_has "cellrouter_cell.c: Preparing import... [identity=cell_id=cell-8]"
  out_has "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."
  tf apply -auto-approve
  expect_rc 0
  eq "$(jq -r '.resources[0].instances[0].identity.cell_id' "$T/terraform.tfstate")" cell-8 "cell identity after import"
  tf plan -detailed-exitcode
  expect_rc 0
}

t_query_filters() {
  needs_tf 1.14 "terraform query"
  run "$SEEDMAP" "$T/map.db" 1000
  expect_rc 0
  # Entries a cellrouter_tenants resource owns are in Terraform already:
  # the list leaves them out.
  config <<'EOF'
resource "cellrouter_tenants" "fleet" {
  name    = "fleet"
  tenants = {
    f-1 = { cell_id = "cell-3", endpoint = "https://cell-3.example.com/ingest" }
    f-2 = { cell_id = "cell-9", endpoint = "https://cell-9.example.com/ingest",
            labels = { tier = "gold" } }
  }
}
EOF
  tf apply -auto-approve
  expect_rc 0
  q_config <<'EOF'
list "cellrouter_tenant" "all" {
  provider = cellrouter
  limit    = 5000
}

list "cellrouter_tenant" "cell3" {
  provider = cellrouter
  limit    = 5000
  config {
    cell_id = "cell-3"
  }
}

list "cellrouter_tenant" "cell9" {
  provider = cellrouter
  limit    = 5000
  config {
    cell_id = "cell-9"
  }
}

list "cellrouter_tenant" "prefix" {
  provider = cellrouter
  limit    = 5000
  config {
    tenant_id_prefix = "t0005"
  }
}

list "cellrouter_tenant" "gold" {
  provider = cellrouter
  limit    = 5000
  config {
    labels = { tier = "gold" }
  }
}

list "cellrouter_tenant" "mixed" {
  provider         = cellrouter
  limit            = 5000
  include_resource = true
  config {
    cell_id          = "cell-9"
    tenant_id_prefix = "t0001"
    labels           = { tier = "gold", team = "core" }
  }
}

list "cellrouter_tenant" "first" {
  provider = cellrouter
}

list "cellrouter_tenant" "none" {
  provider = cellrouter
  config {
    cell_id = "cell-77"
  }
}
EOF
  tf query
  expect_rc 0
  local ours='(.tenant_id | startswith("t"))'
  eq "$(listed all)" 1000 "all"
  eq "$(listed cell3)" "$(map_count "$ours and (.cell_id == \"cell-3\" or .standby_cell_id == \"cell-3\")")" "cell3"
  eq "$(listed cell9)" "$(map_count "$ours and (.cell_id == \"cell-9\" or .standby_cell_id == \"cell-9\")")" "cell9"
  eq "$(listed prefix)" 100 "prefix"
  eq "$(listed gold)" "$(map_count "$ours and .labels.tier == \"gold\"")" "gold"
  eq "$(listed mixed)" "$(map_count "$ours and .standby_cell_id == \"cell-9\" and (.tenant_id | startswith(\"t0001\")) and .labels.tier == \"gold\" and .labels.team == \"core\"")" "mixed"
  eq "$(listed first)" 100 "Terraform's default limit"
  eq "$(listed none)" 0 "none"
  out_has "list.cellrouter_tenant.all   tenant_id=t000000   t000000 (cell-0, standby cell-9)"
  out_has "list.cellrouter_tenant.all   tenant_id=t000998   t000998 (cell-6)"
  out_has "list.cellrouter_tenant.all   tenant_id=t000999   t000999 (cell-7, standby cell-9)"
  out_has "Warning: list block(s) [list.cellrouter_tenant.none] returned 0 results."
  out_lacks "tenant_id=f-"
  # Filters are checked before anything is listed.
  q_config <<'EOF'
list "cellrouter_tenant" "bad" {
  provider = cellrouter
  config {
    cell_id = "Cell_3"
  }
}
EOF
  tf query
  expect_rc 1
  err_has "Invalid cell_id"
}

t_query_generate() {
  needs_tf 1.14 "terraform query -generate-config-out"
  run "$SEEDMAP" "$T/map.db" 1000
  expect_rc 0
  config </dev/null
  q_config <<'EOF'
list "cellrouter_tenant" "map" {
  provider = cellrouter
  limit    = 1000
}
EOF
  tf query -generate-config-out="$T/cfg/tenants.tf"
  expect_rc 0
  eq "$(grep -c '^resource "cellrouter_tenant"' "$T/cfg/tenants.tf")" 1000 "resource blocks"
  eq "$(grep -c '^import {' "$T/cfg/tenants.tf")" 1000 "import blocks"
  head -n 30 "$T/cfg/tenants.tf" | sed 's/^/  : /'
  # The next plan imports every entry and changes nothing.
  tf plan
  expect_rc 0
  out_has "Plan: 1000 to import, 0 to add, 0 to change, 0 to destroy."
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 1000 imported, 0 added, 0 changed, 0 destroyed."
  eq "$(count_state)" 1000 "instances in state"
  tf plan -detailed-exitcode
  expect_rc 0
  # Terraform writes generated configuration into a new file only.
  tf query -generate-config-out="$T/cfg/tenants.tf"
  expect_rc 1
  err_has "Target generated file already exists"
}

t_emulate_old() {
  tfcore_only "the whole suite runs under the real Terraform there"
  local v
  for v in 1.4 1.11; do
    echo "=== Terraform $v"
    rm -rf "$T/map.db"* "$T/terraform.tfstate"
    export TFCORE_EMULATE=$v
    applied_base
    eq "$(jq '[.resources[].instances[] | select(has("identity"))] | length' "$T/terraform.tfstate")" 0 \
       "identities written by Terraform $v"
    eq "$(jq -r .terraform_version "$T/terraform.tfstate" | cut -d. -f1,2)" "$v" "terraform_version"
    tf plan -detailed-exitcode
    expect_rc 0
    cellctl set acme --cell cell-7 --endpoint https://cell-7.example.com --label tier=gold --label team=core
    tf apply -auto-approve
    expect_rc 0
    out_has "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
    tf plan -detailed-exitcode
    expect_rc 0
  done
  # The state Terraform 1.11 wrote carries on under 1.15: its first
  # refresh records the identities, and nothing changes.
  export TFCORE_EMULATE=1.15
  tf refresh
  expect_rc 0
  eq "$(jq -r '[.resources[] | select(.type=="cellrouter_tenant") | .instances[].identity.tenant_id] | sort | join(",")' "$T/terraform.tfstate")" \
     "acme,globex,hooli,initech" "identities after a 1.15 refresh"
  tf plan -detailed-exitcode
  expect_rc 0
}

t_broken_tls() {
  base_config
  if [ "$DRIVER" = terraform ]; then
    # The real Terraform refuses both, as tfcore does.
    local k
    for k in no-alpn tls11; do
      cr_tf_setup "$T/tf-$k" "$BROKEN/$k"
      tf validate
      expect_rc 1
      err_has "Failed to load plugin schemas"
    done
    return
  fi
  # The real provider passes the TLS checks; each broken one fails its own
  # (the newest Terraform's, whatever release the suite emulates).
  export TFCORE_EMULATE=1.15
  run "$TFCORE" check-tls
  expect_rc 0
  out_has 'ok: ALPN selected "h2"'
  out_lacks "FAIL:"
  TFCORE_PROVIDER=$BROKEN/no-alpn/terraform-provider-cellrouter run "$TFCORE" check-tls
  expect_rc 1
  out_has 'FAIL: ALPN selected "" (want "h2"'
  TFCORE_PROVIDER=$BROKEN/no-alpn/terraform-provider-cellrouter tf validate
  expect_rc 1
  err_has "Failed to load plugin schemas"
  err_has 'did not select ALPN "h2"'
  TFCORE_PROVIDER=$BROKEN/tls11/terraform-provider-cellrouter run "$TFCORE" check-tls
  expect_rc 1
  out_has "FAIL: a client offering at most TLS 1.1 is refused"
  TFCORE_PROVIDER=$BROKEN/tls11/terraform-provider-cellrouter tf validate
  expect_rc 1
  err_has "authentication handshake failed"
  TFCORE_PROVIDER=$BROKEN/tls11/terraform-provider-cellrouter TFCORE_EMULATE=1.4 tf validate
  expect_rc 1
  err_has "authentication handshake failed"
}

t_broken_identity() {
  tfcore_only "identity checks are Terraform 1.12's; the real Terraform here predates identities"
  # The newest Terraform's checks, whatever release the suite emulates.
  export TFCORE_PROVIDER=$BROKEN/identity/terraform-provider-cellrouter TFCORE_EMULATE=1.15
  base_config
  # Without a fault the test build is the provider.
  tf apply -auto-approve
  expect_rc 0
  tf plan -detailed-exitcode
  expect_rc 0
  # An error diagnostic from GetResourceIdentitySchemas fails every
  # command of Terraform 1.12 and later, none of 1.11's.
  CR_TEST_BREAK_IDENTITY=schema-error tf plan
  expect_rc 1
  err_has "Failed to load plugin schemas"
  err_has "Broken on purpose"
  CR_TEST_BREAK_IDENTITY=schema-error TFCORE_EMULATE=1.11 tf plan -detailed-exitcode
  expect_rc 0
  # An existing object's identity must not change (a read answering
  # another tenant's).
  CR_TEST_BREAK_IDENTITY=changed tf plan
  expect_rc 1
  err_has "Provider produced different identity"
  # An apply must answer a known identity.
  base_config cell-5 https://cell-5.example.com
  CR_TEST_BREAK_IDENTITY=unknown tf apply -auto-approve
  expect_rc 1
  err_has "Provider produced invalid identity"
  # Import by identity needs an identity back.
  rm -f "$T/terraform.tfstate"
  cellctl set umbrella --cell cell-8 --endpoint https://cell-8.example.com
  config <<'EOF'
import {
  to       = cellrouter_tenant.u
  identity = { tenant_id = "umbrella" }
}

resource "cellrouter_tenant" "u" {
  tenant_id = "umbrella"
  cell_id   = "cell-8"
  endpoint  = "https://cell-8.example.com"
}
EOF
  CR_TEST_BREAK_IDENTITY=no-import tf plan
  expect_rc 1
  err_has "import of cellrouter_tenant.u didn't return an identity"
  # Every listed object needs an identity.
  q_config <<'EOF'
list "cellrouter_tenant" "all" {
  provider = cellrouter
}
EOF
  CR_TEST_BREAK_IDENTITY=list-none tf query
  expect_rc 1
  err_has "missing identity data in ListResource event for cellrouter_tenant"
  tf query
  expect_rc 0
  out_has "tenant_id=umbrella"
}

# ---- the harness's own checks fire ------------------------------------------
# tfcore fake-provider misbehaves on purpose (TFCORE_FAKE_FAULT); each fault
# must be reported with Terraform's wording, or the checks that pass on the
# real provider would prove nothing.

fake_run() { # fake_run FAULT CMD...: run tfcore against the faulty provider
  local fault=$1; shift
  echo "=== fault: $fault"
  rm -f "$T/terraform.tfstate"
  TFCORE_PROVIDER=$T/fake TFCORE_FAKE_FAULT=$fault tf "$@"
}

t_harness_checks() {
  tfcore_only "tfcore's fake provider checks tfcore itself"
  printf '#!/bin/sh\nexec "%s" fake-provider\n' "$TFCORE" >"$T/fake"
  chmod +x "$T/fake"
  config <<'EOF'
resource "cellrouter_fake" "f" {
  name  = "one"
  value = "v1"
}
EOF
  fake_run none apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
  fake_run bad-schema validate
  expect_rc 1
  err_has "Invalid provider schema"
  err_has "cannot set both Computed and Required"
  fake_run bad-type validate
  expect_rc 1
  err_has "Failed to load plugin schemas"
  err_has "is not a valid cty type"
  fake_run invalid-plan plan
  expect_rc 1
  err_has "Provider produced invalid plan"
  err_has '.value: planned value cty.StringVal("changed-by-provider") does not match config value cty.StringVal("v1")'
  fake_run inconsistent-final apply -auto-approve
  expect_rc 1
  err_has "Provider produced inconsistent final plan"
  err_matches '\.id: was cty\.StringVal\("[0-9a-f]+"\), but now cty\.StringVal\("[0-9a-f]+"\)'
  fake_run inconsistent-apply apply -auto-approve
  expect_rc 1
  err_has "Provider produced inconsistent result after apply"
  err_has '.value: was cty.StringVal("v1"), but now cty.StringVal("not-what-was-planned")'
  fake_run unknown-after-apply apply -auto-approve
  expect_rc 1
  err_has "Provider returned invalid result object after apply"
  # A read that returns unknowns: needs an object in state first.
  fake_run none apply -auto-approve
  expect_rc 0
  TFCORE_PROVIDER=$T/fake TFCORE_FAKE_FAULT=invalid-read tf plan
  expect_rc 1
  err_has "Provider produced invalid object"
}

# ---- valgrind -------------------------------------------------------------

t_valgrind() {
  tfcore_only "a provider under valgrind needs more than the real Terraform's 2 s to exit (tfcore: TFCORE_SHUTDOWN_GRACE)"
  command -v valgrind >/dev/null || fail "valgrind is not installed"
  cat >"$T/provider-vg" <<EOF
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \\
  --show-leak-kinds=definite --track-fds=no --log-file="$T/vg.%p.log" "$PROVIDER" "\$@"
EOF
  chmod +x "$T/provider-vg"
  export TFCORE_PROVIDER=$T/provider-vg TFCORE_SHUTDOWN_GRACE=60
  base_config
  tf apply -auto-approve -parallelism=4
  expect_rc 0
  cellctl set acme --cell cell-7 --endpoint https://cell-7.example.com
  tf plan -detailed-exitcode
  expect_rc 2
  tf apply -auto-approve
  expect_rc 0
  tf destroy -auto-approve
  expect_rc 0
  # The newer paths too: a cell, a fleet in tenants_json (its versions in
  # private state), identities (tfcore emulates 1.15 by default), a query
  # streaming the map, then drift on the fleet.
  config <<'EOF'
resource "cellrouter_cell" "a" {
  cell_id  = "cell-1"
  endpoint = "https://cell-1.example.com"
  labels   = { cloud = "aws" }
}

resource "cellrouter_tenants" "fleet" {
  name         = "fleet"
  tenants_json = <<-JSON
    {"f-1": {"cell_id": "cell-1", "endpoint": "https://cell-1.example.com"},
     "f-2": {"cell_id": "cell-2", "endpoint": "https://cell-2.example.com", "labels": {"tier": "gold"}}}
  JSON
  depends_on = [cellrouter_cell.a]
}

resource "cellrouter_tenant" "solo" {
  tenant_id = "solo"
  cell_id   = "cell-2"
  endpoint  = "https://cell-2.example.com"
}
EOF
  tf apply -auto-approve
  expect_rc 0
  q_config <<'EOF'
list "cellrouter_tenant" "all" {
  provider         = cellrouter
  include_resource = true
}
EOF
  tf query
  expect_rc 0
  eq "$(listed all)" 1 "listed (the fleet's entries are Terraform's already)"
  rm -f "$T/cfg/query.tfquery.hcl"
  cellctl set f-2 --cell cell-9 --endpoint https://cell-9.example.com
  expect_rc 0
  tf plan -detailed-exitcode
  expect_rc 2
  tf destroy -auto-approve
  expect_rc 0
  local logs; logs=$(ls "$T"/vg.*.log 2>/dev/null | wc -l)
  [ "$logs" -ge 7 ] || fail "expected a valgrind log per provider process, found $logs"
  for f in "$T"/vg.*.log; do
    echo "--- $f"; cat "$f"
    # A process killed before exiting has no summary: that fails too.
    grep -q "ERROR SUMMARY: 0 errors" "$f" || fail "valgrind reports errors (or no summary) in $f"
    if grep -qE "Invalid (read|write)|uninitialised|definitely lost: [1-9]|Mismatched free|Invalid free" "$f"; then
      fail "valgrind reports errors in $f"
    fi
  done
}

# ---- issue 13: cells, their serving state, and operators' failovers --------

# Two cells and a tenant on them (by reference, so Terraform orders the
# writes). $1: alpha's endpoint; $2: "nobeta" leaves cell beta out (the
# tenant still names it).
cells_config() {
  local alpha_ep=${1:-https://alpha.example.com/ingest} beta
  beta='resource "cellrouter_cell" "beta" {
  cell_id  = "azure-beta"
  endpoint = "https://beta.example.com/ingest"
  labels   = { cloud = "azure" }
}'
  # The tenant refers to its standby cell too, so Terraform destroys it
  # first; without beta in the configuration it can only name it.
  local standby="cellrouter_cell.beta.cell_id"
  [ "${2:-}" = nobeta ] && { beta=''; standby='"azure-beta"'; }
  config <<EOT
resource "cellrouter_cell" "alpha" {
  cell_id    = "aws-alpha"
  endpoint   = "$alpha_ep"
  health_url = "https://alpha.example.com/healthz"
  labels     = { cloud = "aws" }
}

$beta

resource "cellrouter_tenant" "acme" {
  tenant_id        = "acme"
  cell_id          = cellrouter_cell.alpha.cell_id
  endpoint         = cellrouter_cell.alpha.endpoint
  standby_cell_id  = $standby
  standby_endpoint = "https://beta.example.com/ingest"
}
EOT
}
cell_field() { "$CELLCTL" --db "$T/map.db" cell get "$1" --json | jq -r "$2"; }
state_attr() { jq -r ".resources[] | select(.type==\"cellrouter_cell\" and .name==\"$1\") | .instances[0].attributes.$2" "$T/terraform.tfstate"; }

t_cells() {
  cells_config
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 3 added, 0 changed, 0 destroyed."
  eq "$(cell_field aws-alpha .serving_state)" serving "a new cell serves"
  eq "$(cell_field aws-alpha .health_url)" https://alpha.example.com/healthz health_url
  eq "$(state_attr alpha serving_state)" serving "serving_state in state"
  eq "$(state_attr alpha pinned)" false "pinned in state"
  tf plan -detailed-exitcode
  expect_rc 0
  out_has "No changes."

  # An operator fails the cell over: not drift, not reverted by apply.
  cellctl cell fail aws-alpha --reason "ingest answers 503" --by oncall
  expect_rc 0
  out_has "aws-alpha: failed by operator:oncall (reason: ingest answers 503)"
  tf plan -detailed-exitcode
  expect_rc 0
  out_has "No changes."
  out_lacks "will be updated"
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 0 changed, 0 destroyed."
  eq "$(cell_field aws-alpha .serving_state)" failed "still failed after apply"
  eq "$(cell_field aws-alpha .state_changed_by)" operator:oncall "changed_by"
  eq "$(state_attr alpha serving_state)" failed "the refreshed state"
  eq "$(state_attr alpha state_reason)" "ingest answers 503" "state_reason"

  # A change of the definition plans the definition only; the serving
  # state stays as the operator left it.
  cellctl cell pin aws-alpha --by oncall
  expect_rc 0
  cells_config https://alpha-2.example.com/ingest
  tf plan -detailed-exitcode
  expect_rc 2
  out_has "cellrouter_cell.alpha will be updated in-place"
  out_matches 'endpoint += "https://alpha.example.com/ingest" -> "https://alpha-2.example.com/ingest"'
  sed -n '/cellrouter_cell.alpha will be updated/,/^    }/p' "$T/out" >"$T/alpha-plan"
  ! grep -qE 'serving_state|state_reason|state_changed|pinned' "$T/alpha-plan" || { cat "$T/alpha-plan"; fail "the plan shows the serving state"; }
  tf apply -auto-approve
  expect_rc 0
  eq "$(cell_field aws-alpha .endpoint)" https://alpha-2.example.com/ingest "endpoint"
  eq "$(cell_field aws-alpha .serving_state)" failed "failed after the update"
  eq "$(cell_field aws-alpha .pinned)" true "pinned after the update"
  eq "$(cell_field aws-alpha .version)" 2 "definition version"
  tf plan -detailed-exitcode
  expect_rc 0
  cellctl cell restore aws-alpha --by oncall
  expect_rc 0
  tf plan -detailed-exitcode
  expect_rc 0

  # Destroying a cell that a tenant still names (as standby) is refused.
  cells_config https://alpha-2.example.com/ingest nobeta
  tf apply -auto-approve
  expect_rc 1
  err_has "Cell still has tenants"
  err_has "1 tenant still names it"
  err_has '"acme"'
  eq "$(cell_field azure-beta .cell_id)" azure-beta "beta still defined"
  cells_config https://alpha-2.example.com/ingest
  tf plan -detailed-exitcode
  expect_rc 0

  # Import: the same cell under a fresh state.
  mv "$T/terraform.tfstate" "$T/kept.tfstate"
  config <<'EOT'
resource "cellrouter_cell" "a" {
  cell_id    = "aws-alpha"
  endpoint   = "https://alpha-2.example.com/ingest"
  health_url = "https://alpha.example.com/healthz"
  labels     = { cloud = "aws" }
}
EOT
  tf import cellrouter_cell.a aws-alpha
  expect_rc 0
  out_has "Import successful!"
  eq "$(jq -r '.resources[0].instances[0].attributes.serving_state' "$T/terraform.tfstate")" serving "imported serving_state"
  tf plan -detailed-exitcode
  expect_rc 0
  cat >>"$T/cfg/main.tf" <<'EOT'

resource "cellrouter_cell" "b" {
  cell_id  = "nope"
  endpoint = "https://nope.example.com"
}
EOT
  tf import cellrouter_cell.b nope
  expect_rc 1
  err_matches "Cannot import non-existent remote object|nope"
  # The data source: the cells with the label, with their serving state.
  config <<'EOT'
resource "cellrouter_cell" "a" {
  cell_id    = "aws-alpha"
  endpoint   = "https://alpha-2.example.com/ingest"
  health_url = "https://alpha.example.com/healthz"
  labels     = { cloud = "aws" }
}

data "cellrouter_cells" "aws" {
  labels = { cloud = "aws" }
}

output "aws_cells" {
  value = { for id, c in data.cellrouter_cells.aws.cells : id => "${c.serving_state}/${c.pinned}/${c.state_changed_by}" }
}
EOT
  tf apply -auto-approve
  expect_rc 0
  out_matches '"?aws-alpha"? += "serving/true/operator:oncall"'
  out_lacks "azure-beta"
  rm -f "$T/terraform.tfstate"
  mv "$T/kept.tfstate" "$T/terraform.tfstate"

  # Destroy: the tenant first (it refers to the cells), then the cells,
  # whose serving records go with them.
  cells_config https://alpha-2.example.com/ingest
  tf destroy -auto-approve
  expect_rc 0
  out_has "Destroy complete! Resources: 3 destroyed."
  run "$CELLCTL" --db "$T/map.db" cell list --json
  expect_rc 0
  eq "$(jq length "$T/out")" 0 "cells left"
}

# ---- runner -----------------------------------------------------------------

TESTS="launch_schema mtls cookie concurrent shutdown reattach
create_and_noop drift_set drift_delete update_in_place failover replace import
destroy create_over_existing conflict saved_plan references tenants_batch tenants_json data_sources thousand interrupt
lifecycle terraform_killed connection_closed bad_inputs hostile_files harness_checks
identity import_identity query_filters query_generate emulate_old broken_tls broken_identity"
TESTS="$TESTS cells"     # issue 13
# The valgrind scenario runs by default on the plain build (valgrind cannot
# run an ASan binary); TFCORE_VALGRIND=0 leaves it out.
if [ "${SAN:-}" != 1 ] && [ "${TFCORE_VALGRIND:-1}" = 1 ] && command -v valgrind >/dev/null; then
  TESTS="$TESTS valgrind"
fi
[ $# -gt 0 ] && TESTS="$*"

KEEP=${E2E_KEEP:-${KEEP:-0}}
. "$ROOT/tests/lib/runner.sh"
cr_run_tests "$LABEL"
