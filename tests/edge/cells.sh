# tests/edge/cells.sh — the cells in the routing map, as the edge tests and
# the demo set them up: the one place that writes cell definitions and
# cell states for them. Source it.
#
# What it writes is the format of the contract between the provider and
# the edge (docs: README "Cells and automatic failover"): a definition per
# cell under `_cellrouter.cell.<id>` (value: the endpoint; metadata: the
# definition), one states document under `_cellrouter.cells`. A cell's
# definition is written through the Workers KV REST API (the local
# stand-in, tests/edge/kv-api.js) as cellrouter_cell writes it, so that a
# test or bench needs no Terraform run per cell; an operator's change to a
# cell's serving state is the real `cellctl cell fail|restore|pin|unpin`.
#
# Needs: CR_KV_NS (the namespace's API URL, .../accounts/ACCOUNT/storage/
# kv/namespaces/ID), CR_KV_TOKEN (an API token that may write), CELLCTL
# (build/cellctl; cr_cell_set only), curl and jq.
#
#   cr_cell_define ID ENDPOINT HEALTH_URL [LABELS_JSON]
#                                 write (or rewrite) a cell's definition
#   cr_cell_states                print the states document ({} when none)
#   cr_cell_set ID STATE|- [pin|unpin] [BY]
#                                 an operator's change to one cell: its state
#                                 (serving, failed; - keeps it) and pin,
#                                 changed_by "operator:BY" (default: demo)

cr_cell__kv() {
  local method=$1 path=$2; shift 2
  curl -sS -X "$method" -H "Authorization: Bearer $CR_KV_TOKEN" "$@" "$CR_KV_NS/$path"
}

cr_cell__now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

cr_cell_define() {
  local id=$1 endpoint=$2 health=$3 labels=${4:-"{}"} version=1 old
  old=$(cr_cell__kv GET "metadata/_cellrouter.cell.$id")
  if jq -e '.success and (.result.version | type == "number")' >/dev/null 2>&1 <<<"$old"; then
    version=$(( $(jq -r .result.version <<<"$old") + 1 ))
  fi
  jq -cn --arg id "$id" --arg ep "$endpoint" --arg h "$health" --argjson l "$labels" \
        --argjson v "$version" --arg t "$(cr_cell__now)" \
    '[{key: ("_cellrouter.cell." + $id), value: $ep,
       metadata: {schema: 1, cell_id: $id, endpoint: $ep, health_url: $h, labels: $l,
                  version: $v, updated_at: $t}}]' |
    cr_cell__kv PUT bulk -H "content-type: application/json" --data-binary @- |
    jq -e '.success and (.result.unsuccessful_keys | length == 0)' >/dev/null ||
    { echo "cr_cell_define $id: the write failed" >&2; return 1; }
}

cr_cell_states() {
  local out code
  out=$(cr_cell__kv GET "values/_cellrouter.cells" -w '\n%{http_code}')
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  if [ "$code" = 404 ]; then echo '{}'; return 0; fi
  [ "$code" = 200 ] || { echo "cr_cell_states: HTTP $code" >&2; return 1; }
  printf '%s\n' "$out"
}

# cellctl on the namespace of CR_KV_NS (its cloudflare_kv backend takes
# its settings from the environment); its output goes to stderr.
cr_cell__cellctl() {
  local api=${CR_KV_NS%%/accounts/*} rest=${CR_KV_NS#*/accounts/}
  CLOUDFLARE_API_URL=$api CLOUDFLARE_ACCOUNT_ID=${rest%%/*} \
    CLOUDFLARE_KV_NAMESPACE_ID=${CR_KV_NS##*/} CLOUDFLARE_API_TOKEN=$CR_KV_TOKEN \
    "$CELLCTL" --backend cloudflare_kv cell "$@" >&2
}

# A change of state records the reason "set by operator:BY" (a restore
# with a reason is written even when the cell already serves, so that the
# document has a record for it).
cr_cell_set() {
  local id=$1 state=$2 pin=${3:-} by=${4:-demo}
  case $state in
    -) ;;
    failed)  cr_cell__cellctl fail "$id" --reason "set by operator:$by" --by "$by" ;;
    serving) cr_cell__cellctl restore "$id" --reason "set by operator:$by" --by "$by" ;;
    *) echo "cr_cell_set $id: no state $state" >&2; false ;;
  esac || { echo "cr_cell_set $id: cellctl cell failed" >&2; return 1; }
  [ -z "$pin" ] || cr_cell__cellctl "$pin" "$id" --by "$by" ||
    { echo "cr_cell_set $id: cellctl cell $pin failed" >&2; return 1; }
}
