#!/usr/bin/env bash
# scripts/demo-edge.sh — the edge step of the demo: the generated router
# (examples/multicloud/edge/worker.js) running in workerd with the settings
# cellgen wrote for it (edge/wrangler.toml's [vars]), the provider writing
# the routing map through the Workers KV API (a local stand-in on the same
# namespace), and a cell outage told end to end: a cell's server stops, the
# router's prober (its cron trigger, fired here by hand) fails the cell over
# within the configured number of probes, its tenants are answered by their
# standby cell, Terraform plans no change, the server comes back and so does
# the traffic. Everything runs on 127.0.0.1 and stops at the end.
#
#   BUILD=build bash scripts/demo-edge.sh     (scripts/demo.sh calls it)
#
# Terraform is the real one where there is one (dev_overrides), tfcore
# elsewhere. The cells' definitions are written by tests/edge/cells.sh, the
# one place that writes them for the tests and this demo.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
EDGE=$ROOT/tests/edge
ROUTER=$ROOT/examples/multicloud/edge/worker.js
WRANGLER=$ROOT/examples/multicloud/edge/wrangler.toml

if ! command -v node >/dev/null 2>&1; then
  echo "demo-edge: skipped: Node.js is not installed"
  exit 0
fi
[ -d "$EDGE/node_modules/miniflare" ] || (cd "$EDGE" && npm ci --silent --no-audit --no-fund)
for f in "$B/tfcore" "$B/terraform-provider-cellrouter" "$B/cellctl"; do
  [ -x "$f" ] || { echo "demo-edge: $f is missing: run make first"; exit 1; }
done
unset TF_LOG TF_LOG_PROVIDER TF_REATTACH_PROVIDERS CELLROUTER_DB
export TFCORE_PROVIDER=$B/terraform-provider-cellrouter
export CLOUDFLARE_API_TOKEN="demo-token-$$"
W=$(mktemp -d "${TMPDIR:-/tmp}/cellrouter-demo-edge.XXXXXX")
HP=""
trap '[ -n "$HP" ] && kill $HP 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT

. "$ROOT/tests/lib/terraform.sh"
TF_ARGS=()
if cr_tf_find; then
  cr_tf_setup "$W/cli" "$B"
  cr_tf_versions "$W/cfg"
  TF_ARGS=(-no-color)
else
  TERRAFORM=""
fi

# Bold headings on a terminal only: piped or logged output stays plain text.
bold=$'\033[1m'; off=$'\033[0m'
[ -t 1 ] || { bold=""; off=""; }
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }

# The router's settings as cellgen wrote them for wrangler dev ([vars] of
# edge/wrangler.toml), given to workerd the same way.
VARS=$(awk '/^\[/ { on = ($0 == "[vars]") } on && /^[A-Z_]+ = "[^"]*"$/ {
             sub(/ = /, "\t"); print }' "$WRANGLER" |
       jq -Rn '[inputs | split("\t") | {(.[0]): (.[1] | fromjson)}] | add')
setting() { jq -r --arg k "$1" '.[$k]' <<<"$VARS"; }
FAILURES=$(setting FAILOVER_FAILURES)
SUCCESSES=$(setting FAILOVER_SUCCESSES)

say "Cloudflare's runtime (workerd) with the generated router and a local Workers KV API; cells on 127.0.0.1"
EDGE_TEST_TOKEN=$CLOUDFLARE_API_TOKEN node "$EDGE/harness.mjs" --router "$ROUTER" \
  --cells aws-us-east-1,azure-westeurope --vars "$VARS" --ready "$W/edge.json" --watch-pid $$ \
  </dev/null >"$W/harness.log" 2>&1 &
HP=$!
for _ in $(seq 1 600); do
  [ -s "$W/edge.json" ] && break
  kill -0 $HP 2>/dev/null || break
  sleep 0.05
done
[ -s "$W/edge.json" ] || { cat "$W/harness.log"; echo "demo-edge: the edge did not start"; exit 1; }
J=$W/edge.json
ROUTER_URL=$(jq -r .router "$J")
CONTROL=$(jq -r .control "$J")
AWS=$(jq -r '.cells["aws-us-east-1"]' "$J")
AZ=$(jq -r '.cells["azure-westeurope"]' "$J")
echo "router: $ROUTER_URL   KV API: $(jq -r .api_url "$J")"
echo "failover settings (examples/multicloud/edge/wrangler.toml): $(jq -c . <<<"$VARS")"

export CR_KV_TOKEN=$CLOUDFLARE_API_TOKEN
CR_KV_NS="$(jq -r .api_url "$J")/accounts/$(jq -r .account_id "$J")/storage/kv/namespaces/$(jq -r .namespace_id "$J")"
export CR_KV_NS
. "$EDGE/cells.sh"

mkdir -p "$W/cfg"
cat >"$W/cfg/main.tf" <<EOF
provider "cellrouter" {
  cloudflare_kv {
    account_id   = "$(jq -r .account_id "$J")"
    namespace_id = "$(jq -r .namespace_id "$J")"
    api_url      = "$(jq -r .api_url "$J")"
  }
}

# Tenants and where they fail over to.
resource "cellrouter_tenants" "fleet" {
  name = "demo"
  tenants = {
    acme    = { cell_id = "aws-us-east-1", endpoint = "$AWS/ingest", standby_cell_id = "azure-westeurope", standby_endpoint = "$AZ/ingest", labels = { tier = "gold" } }
    umbrella = { cell_id = "aws-us-east-1", endpoint = "$AWS/ingest" }
    globex  = { cell_id = "azure-westeurope", endpoint = "$AZ/ingest", standby_cell_id = "aws-us-east-1", standby_endpoint = "$AWS/ingest" }
  }
}
EOF
tf() {
  if [ -n "$TERRAFORM" ]; then
    local c=$1; shift
    "$TERRAFORM" -chdir="$W/cfg" "$c" "${TF_ARGS[@]}" -input=false -state="$W/terraform.tfstate" "$@"
  else
    "$B/tfcore" -chdir="$W/cfg" "$@" -state="$W/terraform.tfstate"
  fi
}
requests() {
  for t in acme umbrella globex ""; do
    local out code fo
    out=$(curl -sS -D "$W/headers" -w '\n%{http_code}' ${t:+-H "X-Tenant-ID: $t"} -X POST -d '{"order":1}' \
          "$ROUTER_URL/orders?src=demo")
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    fo=$(tr -d '\r' <"$W/headers" | sed -n 's/^x-cellrouter-failover: //Ip')
    if [ "$code" = 200 ]; then
      printf '  %-10s -> %s  %s %s%s%s\n' "${t:-(none)}" "$code" "$(jq -r .cell <<<"$out")" \
        "$(jq -r .path <<<"$out")" "$(jq -r .query <<<"$out")" "${fo:+   x-cellrouter-failover: $fo}"
    else
      printf '  %-10s -> %s  %s\n' "${t:-(none)}" "$code" "$(jq -c . <<<"$out")"
    fi
  done
}
states() {
  cr_cell_states | jq -r '(.cells // {}) | if length == 0 then "  (no records: every cell serves)" else
    to_entries[] | "  \(.key): \(.value.state)\(if .value.reason != "" then " (\(.value.reason))" else "" end), failed probes \(.value.probe.failures // 0), good probes \(.value.probe.successes // 0), version \(.value.version)" end'
}
scheduled() {
  local out
  out=$(curl -sS -X POST "$CONTROL/scheduled")
  [ "$(jq -r .outcome <<<"$out")" = ok ] || { echo "demo-edge: the scheduled run failed: $out"; exit 1; }
}

say "terraform apply ($([ -n "$TERRAFORM" ] && "$TERRAFORM" version | head -n 1 || echo tfcore)): acme and umbrella on aws-us-east-1 (acme stands by on azure-westeurope), globex on azure-westeurope"
tf apply -auto-approve | tail -n 1

say "the cells in the routing map, each with its health URL (what cellrouter_cell writes)"
for c in aws-us-east-1 azure-westeurope; do
  url=$(jq -r --arg c "$c" '.cells[$c]' "$J")
  cr_cell_define "$c" "$url/ingest" "$url/healthz" "{\"cloud\":\"${c%%-*}\"}"
  echo "  $c: health $url/healthz"
done

say "requests through the edge router (X-Tenant-ID -> Workers KV -> cell)"
requests

say "outage: the aws-us-east-1 cell's server stops"
curl -sS -X POST "$CONTROL/cells/aws-us-east-1/stop" >/dev/null
requests

say "the router's cron trigger fires (here: one run per step); it fails the cell after $FAILURES failed probes in a row"
t0=$(date +%s.%N)
for i in $(seq 1 "$FAILURES"); do
  scheduled
  echo "-- run $i:"
  states
done
requests
echo "  ($FAILURES runs, $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}") s here; every minute on Cloudflare by default, so about $FAILURES minutes plus KV's propagation)"

echo "  (umbrella has no standby cell: a 503 naming its cell, until the cell is back)"

say "Terraform owns what a cell is, not whether it serves: the plan has no changes"
tf plan -detailed-exitcode | grep -E "No changes|Plan:"

say "the tenant's entry is unchanged (cellctl): the failover is one record in the cell states"
CLOUDFLARE_ACCOUNT_ID=$(jq -r .account_id "$J") CLOUDFLARE_KV_NAMESPACE_ID=$(jq -r .namespace_id "$J") \
  CLOUDFLARE_API_URL=$(jq -r .api_url "$J") "$B/cellctl" --backend cloudflare_kv get acme

say "the cell's server is back; the prober restores the cell after $SUCCESSES good probes in a row"
curl -sS -X POST "$CONTROL/cells/aws-us-east-1/start" >/dev/null
for i in $(seq 1 "$SUCCESSES"); do
  scheduled
  echo "-- run $i:"
  states
done
requests

say "and Terraform still plans no change"
tf plan -detailed-exitcode | grep -E "No changes|Plan:"

say "what the prober logged (JSON lines in hclog's shape)"
grep -E '"@message":"(cell |fail-static)' "$W/harness.log" | jq -r '"  [\(.["@level"])] \(.["@message"])"'
