# tests/edge/cells.sh — the cells in the routing map, as the edge tests and
# the demo set them up: the one place that writes cell definitions and
# cell states for them. Source it.
#
# What it writes is the format of the contract between the provider and
# the edge (docs: README "Cells and automatic failover"): a definition per
# cell under `_cellrouter.cell.<id>` (value: the endpoint; metadata: the
# definition), one states document under `_cellrouter.cells`. Until the
# provider's cellrouter_cell and `cellctl cell ...` are in this tree, the
# functions write those pairs through the Workers KV REST API (the local
# stand-in, tests/edge/kv-api.js), as the provider and cellctl would;
# afterwards they become a cellrouter_cell in the configuration and
# `cellctl cell fail|restore|pin`, and the callers stay as they are.
#
# Needs: CR_KV_NS (the namespace's API URL, .../storage/kv/namespaces/ID)
# and CR_KV_TOKEN (an API token that may write), curl and jq.
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

# Read, change one record, write back: the operator's side of the
# contract (unknown keys kept, the record's version up by one; a change of
# state drops the prober's counters, which then start afresh).
cr_cell_set() {
  local id=$1 state=$2 pin=${3:-} by=${4:-demo} doc t
  doc=$(cr_cell_states) || return 1
  t=$(cr_cell__now)
  jq -c --arg id "$id" --arg s "$state" --arg pin "$pin" --arg by "operator:$by" --arg t "$t" '
    (.cells[$id] // {state: "serving", reason: "", pinned: false, version: 0}) as $old
    | ($old + {changed_at: $t, changed_by: $by, version: (($old.version // 0) + 1)}
       + (if $s == "-" then {} else {state: $s, reason: ("set by " + $by)} end)
       | (if $s == "-" then . else del(.probe) end)
       + (if $pin == "pin" then {pinned: true} elif $pin == "unpin" then {pinned: false} else {} end)) as $new
    | .schema = (.schema // 1) | .updated_at = $t | .cells = ((.cells // {}) + {($id): $new})' <<<"$doc" |
    cr_cell__kv PUT "values/_cellrouter.cells" --data-binary @- | jq -e .success >/dev/null ||
    { echo "cr_cell_set $id: the write failed" >&2; return 1; }
}
