#!/usr/bin/env bash
# scripts/demo.sh — the whole cellrouter story, step by step, for a newcomer.
# `make demo` builds everything and runs this.
#
#  1. cellgen turns one YAML cell spec into matched AWS and Azure cell
#     modules, and proves the checked-in copy is current (what CI does).
#  2. Terraform applies the routing map: tenant -> cell. Where a Terraform
#     CLI is on PATH (or $TERRAFORM), the real one, through dev_overrides
#     (no init, no network); elsewhere tfcore, the stand-in, which launches
#     the provider exactly as Terraform does.
#  3. cellctl, the on-call tool, shows the map.
#  4. A tenant fails over to its standby cell: a plan, then an apply.
#  5. Someone changes the map by hand: plan shows the drift, apply repairs it.
#  6. The edge: the generated router in Cloudflare's runtime sends requests
#     to the cell the map names, and when a cell goes down its prober fails
#     it over to the tenants' standby cells and back (when Node.js is
#     present; scripts/demo-edge.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
B=$ROOT/$BUILD
cd "$ROOT"

unset TF_LOG TF_LOG_PROVIDER TF_REATTACH_PROVIDERS CELLROUTER_DB
export TFCORE_PROVIDER=$B/terraform-provider-cellrouter

W=$B/demo
rm -rf "$W" && mkdir -p "$W"
cp examples/routing-map/main.tf "$W/"

# The real Terraform where there is one (tests/lib/terraform.sh: a CLI
# configuration with dev_overrides for the provider built here).
. "$ROOT/tests/lib/terraform.sh"
if cr_tf_find; then
  cr_tf_setup "$W/cli" "$B"
  TF_ARGS=()
  [ -t 1 ] || TF_ARGS=(-no-color)
  DRIVER="$TERRAFORM ($("$TERRAFORM" version | head -n 1))"
else
  TERRAFORM=""
  DRIVER="tfcore, the stand-in for Terraform core (no terraform on PATH)"
fi
export TERRAFORM

bold=$'\033[1m'; dim=$'\033[2m'; off=$'\033[0m'
[ -t 1 ] || { bold=""; dim=""; off=""; }
step=0
say() { step=$((step + 1)); printf '\n%s== %d. %s%s\n' "$bold" "$step" "$*" "$off"; }
run() { printf '%s$ %s%s\n' "$dim" "$*" "$off"; "$@"; }
tf() {
  if [ -n "$TERRAFORM" ]; then
    local c=$1; shift
    run "$TERRAFORM" -chdir="$W" "$c" "${TF_ARGS[@]}" "$@"
  else
    run "$B/tfcore" -chdir="$W" "$@"
  fi
}
ctl() { run "$B/cellctl" --db "$W/routing.db" "$@"; }

say "Generate the AWS and Azure cell modules from examples/cellspec.yaml"
echo "One spec describes the event pipeline and the cells; cellgen writes"
echo "modules/aws_event_cell, modules/azure_event_cell and examples/multicloud."
run "$B/cellgen" -o "$W/multicloud" --modules-dir "$W/modules" examples/cellspec.yaml
(cd "$W" && find modules multicloud -name '*.tf' | sort | sed 's/^/  wrote /')
echo "CI runs the same generator with --check: it fails with a diff when the"
echo "checked-in output is stale. Here it is current:"
run "$B/cellgen" --check -o examples/multicloud --modules-dir modules examples/cellspec.yaml
echo "  up to date."

say "Plan the routing map (examples/routing-map/main.tf: four tenants on three cells)"
echo "Terraform here: $DRIVER"
tf plan

say "Apply it: the provider writes each tenant's entry into the routing map"
tf apply -auto-approve

say "The routing map, as the on-call engineer sees it with cellctl"
ctl list

say "Nothing changed since: a second plan is empty"
tf plan -detailed-exitcode

say "Disaster recovery: fail tenant 'acme' over to its standby cell (plan)"
echo "The standby becomes the primary and the old primary the standby: an"
echo "in-place update of one entry, nothing replaced."
tf plan -var failed_over=acme

say "... and apply it"
tf apply -auto-approve -var failed_over=acme
ctl get acme

say "Someone edits the map by hand, outside Terraform"
ctl set globex --cell aws-alpha --endpoint https://rogue.example.net/ingest
echo "Terraform's plan shows the drift and proposes to put it back"
echo "(-detailed-exitcode: 2 means changes are pending):"
set +e
tf plan -var failed_over=acme -detailed-exitcode
rc=$?
set -e
echo "plan exit status: $rc"
[ "$rc" -eq 2 ] || { echo "demo: expected the plan to show drift"; exit 1; }

say "Apply repairs the drift"
tf apply -auto-approve -var failed_over=acme
ctl list

say "Fail back: acme returns to its primary cell"
tf apply -auto-approve
ctl get acme

if [ -x scripts/demo-edge.sh ] || [ -f scripts/demo-edge.sh ]; then
  say "The edge: Cloudflare's runtime routes requests with the map, and fails a cell over when it goes down"
  BUILD=$BUILD bash scripts/demo-edge.sh
fi

printf '\n%sDone.%s Work files are in %s (routing.db is the map, terraform.tfstate the state).\n' "$bold" "$off" "$W"
