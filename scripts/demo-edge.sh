#!/usr/bin/env bash
# scripts/demo-edge.sh — the edge step of the demo: the generated router
# (examples/multicloud/edge/worker.js) running in workerd, the provider
# writing the routing map through the Workers KV API (a local stand-in on
# the same namespace), and a few requests showing where they went, before
# and after a failover. Everything runs on 127.0.0.1 and stops at the end.
#
#   BUILD=build bash scripts/demo-edge.sh     (scripts/demo.sh calls it)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
EDGE=$ROOT/tests/edge
ROUTER=$ROOT/examples/multicloud/edge/worker.js

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

# Bold headings on a terminal only: piped or logged output stays plain text.
bold=$'\033[1m'; off=$'\033[0m'
[ -t 1 ] || { bold=""; off=""; }
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }

say "Cloudflare's runtime (workerd) with the generated router and a local Workers KV API; cells on 127.0.0.1"
EDGE_TEST_TOKEN=$CLOUDFLARE_API_TOKEN node "$EDGE/harness.mjs" --router "$ROUTER" \
  --cells aws-us-east-1,azure-westeurope --ready "$W/edge.json" --watch-pid $$ \
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
AWS=$(jq -r '.cells["aws-us-east-1"]' "$J")
AZ=$(jq -r '.cells["azure-westeurope"]' "$J")
echo "router: $ROUTER_URL   KV API: $(jq -r .api_url "$J")"

write_config() {   # $1: acme's cell, $2: its standby
  local ep_aws="$AWS/ingest" ep_az="$AZ/ingest"
  local acme_ep=$ep_aws sb_ep=$ep_az
  [ "$1" = azure-westeurope ] && { acme_ep=$ep_az; sb_ep=$ep_aws; }
  mkdir -p "$W/cfg"
  cat >"$W/cfg/main.tf" <<EOF
provider "cellrouter" {
  cloudflare_kv {
    account_id   = "$(jq -r .account_id "$J")"
    namespace_id = "$(jq -r .namespace_id "$J")"
    api_url      = "$(jq -r .api_url "$J")"
  }
}

resource "cellrouter_tenant" "acme" {
  tenant_id        = "acme"
  cell_id          = "$1"
  endpoint         = "$acme_ep"
  standby_cell_id  = "$2"
  standby_endpoint = "$sb_ep"
  labels           = { tier = "gold" }
}

resource "cellrouter_tenant" "globex" {
  tenant_id = "globex"
  cell_id   = "azure-westeurope"
  endpoint  = "$ep_az"
}
EOF
}
tf() { "$B/tfcore" -chdir="$W/cfg" "$@" -state="$W/terraform.tfstate"; }
requests() {
  for t in acme globex initech ""; do
    local out code
    out=$(curl -sS -w '\n%{http_code}' ${t:+-H "X-Tenant-ID: $t"} -X POST -d '{"order":1}' "$ROUTER_URL/orders?src=demo")
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    if [ "$code" = 200 ]; then
      printf '  %-10s -> %s  %s %s%s\n' "${t:-(none)}" "$code" "$(jq -r .cell <<<"$out")" \
        "$(jq -r .path <<<"$out")" "$(jq -r .query <<<"$out")"
    else
      printf '  %-10s -> %s  %s\n' "${t:-(none)}" "$code" "$(jq -c . <<<"$out")"
    fi
  done
}

say "terraform apply: acme on aws-us-east-1 (standby azure-westeurope), globex on azure-westeurope"
write_config aws-us-east-1 azure-westeurope
tf apply -auto-approve | tail -n 1

say "requests through the edge router (X-Tenant-ID -> Workers KV -> cell)"
requests

say "failover: acme swaps primary and standby, an in-place update"
write_config azure-westeurope aws-us-east-1
tf apply -auto-approve | grep -E "will be updated|Apply complete"

say "the same requests after the failover"
requests

say "the routing map in KV, through cellctl"
CLOUDFLARE_ACCOUNT_ID=$(jq -r .account_id "$J") CLOUDFLARE_KV_NAMESPACE_ID=$(jq -r .namespace_id "$J") \
  CLOUDFLARE_API_URL=$(jq -r .api_url "$J") "$B/cellctl" --backend cloudflare_kv list
