#!/usr/bin/env bash
# tests/release/docs.sh — the registry docs and their examples.
#
#   BUILD=build bash tests/release/docs.sh [TEST...]      (make test-docs)
#
# - every example under examples/{provider,resources,data-sources} is a
#   valid configuration, checked through the end-to-end harness (tfcore
#   validate) and, when a real Terraform is on the machine
#   (/usr/local/bin/terraform or TERRAFORM=...), by `terraform validate`;
#   (an import-by-identity.tf, Terraform 1.12 syntax, is left out for a
#   real Terraform before 1.12);
# - every command of an import.sh works, and every import-by-identity.tf
#   imports (tfcore plan), run against a routing map holding the tenants
#   the examples name; every list-resource example lists them (tfcore
#   query);
# - release/docgen.c refuses an undocumented attribute, block or type, a
#   missing example and an example folder for a type that does not exist,
#   and writes pages for every kind of type the protocol has (ephemeral and
#   list resources, functions), fed schemas through its -schema option
#   (protoc --encode of a text-form GetProviderSchema.Response);
# - make check-docs fails, with a diff, on stale docs.
# The last line is "docs: N passed, N failed".
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/release/lib.sh"
TFCORE=$B/tfcore
PROVIDER=$B/terraform-provider-cellrouter
CELLCTL=$B/cellctl
DOCGEN=$B/docgen
for f in "$TFCORE" "$PROVIDER" "$CELLCTL" "$DOCGEN"; do
  [ -x "$f" ] || { echo "docs: $f is missing (make $BUILD/tfcore $BUILD/docgen and the provider first)"; exit 1; }
done
mkdir -p "$B/release-tests"
WORK=$(mktemp -d "$B/release-tests/docs.XXXXXX")
export TFCORE_PROVIDER=$PROVIDER CHECKPOINT_DISABLE=1
unset TF_REATTACH_PROVIDERS CELLROUTER_DB TF_LOG TF_LOG_PROVIDER TF_CLI_CONFIG_FILE
# Real Terraform finds the provider under test through dev_overrides.
cat >"$WORK/dev.tfrc" <<EOF
provider_installation {
  dev_overrides {
    "registry.terraform.io/cellrouter/cellrouter" = "$B"
  }
  direct {}
}
EOF

tf_real() { TF_CLI_CONFIG_FILE=$WORK/dev.tfrc run "$TERRAFORM" -chdir="$1" "${@:2}"; }

# real_before_1_12: the real Terraform predates import by identity, so an
# import-by-identity.tf is left out of what it is given.
real_before_1_12() {
  local v; v=$("$TERRAFORM" version -json | jq -r .terraform_version)
  [ "$(printf '1.12\n%s\n' "$v" | sort -V | head -n 1)" != 1.12 ]
}
for_real() { if real_before_1_12; then rm -f "$1/import-by-identity.tf"; fi; }

# example_dir FOLDER: a configuration of the example in FOLDER with the
# provider example's terraform and provider blocks, in $T/cfg.
example_dir() {
  rm -rf "$T/cfg"
  mkdir -p "$T/cfg"
  cp "$ROOT/examples/provider/provider.tf" "$T/cfg/provider.tf"
  [ "$1" = "$ROOT/examples/provider" ] || cp "$1"/*.tf "$T/cfg/"
}

example_folders() {
  echo "$ROOT/examples/provider"
  ls -d "$ROOT"/examples/resources/*/ "$ROOT"/examples/data-sources/*/ \
        "$ROOT"/examples/ephemeral-resources/*/ 2>/dev/null | sed 's:/$::'
}

# ---- the examples ---------------------------------------------------------

t_examples_validate() {
  local d n=0
  for d in $(example_folders); do
    example_dir "$d"
    run "$TFCORE" -chdir="$T/cfg" validate
    expect_rc 0
    if have_terraform; then
      for_real "$T/cfg"
      tf_real "$T/cfg" validate -no-color
      expect_rc 0
      out_has "The configuration is valid"
    fi
    n=$((n + 1))
  done
  [ $n -ge 5 ] || fail "only $n example folders"
  have_terraform || echo "(no terraform at $TERRAFORM: validated with tfcore only)"
}

# The tenants and cells the import examples name, in the example's routing
# map (cells through the provider: cellctl only changes their serving state).
seed_map() {
  local id
  for id in acme globex eu-1 eu-2; do
    "$CELLCTL" --db "$T/cfg/routing.db" set "$id" --cell aws-alpha \
      --endpoint https://alpha.cells.example.com/ingest --label tier=gold \
      >/dev/null || fail "cellctl set $id"
  done
  rm -rf "$T/seed"
  mkdir -p "$T/seed"
  printf 'provider "cellrouter" {\n  path = "%s"\n}\n\nresource "cellrouter_cell" "alpha" {\n  cell_id  = "aws-alpha"\n  endpoint = "https://alpha.cells.example.com/ingest"\n}\n' \
    "$T/cfg/routing.db" >"$T/seed/main.tf"
  "$TFCORE" -chdir="$T/seed" apply -auto-approve -state="$T/seed/tfstate" >/dev/null || fail "seeding cell aws-alpha"
}

t_import_examples() {
  local f line n=0
  for f in "$ROOT"/examples/resources/*/import.sh; do
    while IFS= read -r line; do
      case $line in "terraform import "*) ;; *) continue ;; esac
      eval "set -- ${line#terraform import }"
      example_dir "$(dirname "$f")"
      seed_map
      run "$TFCORE" -chdir="$T/cfg" import -state="$T/cfg/tfcore.tfstate" "$@"
      expect_rc 0
      if have_terraform; then
        for_real "$T/cfg"
        tf_real "$T/cfg" import -no-color "$@"
        expect_rc 0
        out_has "Import successful!"
      fi
      n=$((n + 1))
    done <"$f"
  done
  [ $n -ge 4 ] || fail "only $n import commands"
  # Import blocks by identity (Terraform 1.12+): the plan imports.
  for f in "$ROOT"/examples/resources/*/import-by-identity.tf; do
    example_dir "$(dirname "$f")"
    seed_map
    run "$TFCORE" -chdir="$T/cfg" plan -state="$T/cfg/tfcore.tfstate"
    expect_rc 0
    out_has "1 to import"
    n=$((n + 1))
  done
  # List resources (Terraform 1.14+): the query finds the tenants.
  for f in "$ROOT"/examples/list-resources/*/list-resource.tfquery.hcl; do
    example_dir "$ROOT/examples/provider"
    cp "$f" "$T/cfg/"
    seed_map
    run "$TFCORE" -chdir="$T/cfg" query
    expect_rc 0
    out_matches '^list\.[a-z_]+\.[a-z_]+ +tenant_id='
    n=$((n + 1))
  done
}

# ---- docgen's refusals ------------------------------------------------------

# schema NAME TEXT: a GetProviderSchema.Response from text form into $T/NAME.pb
schema() {
  printf '%s\n' "$2" | protoc --proto_path="$ROOT/schemas" --proto_path=/usr/include \
    --encode=tfplugin6.GetProviderSchema.Response "$ROOT/schemas/tfplugin6.proto" >"$T/$1.pb" ||
    fail "protoc --encode"
}

PROVIDER_TEXT='provider { block { description: "A test provider." attributes { name: "path" type: "\"string\"" optional: true description: "Where." } } }'

# fixture_examples NAME...: an examples tree with provider.tf and the given
# relative files.
fixture_examples() {
  rm -rf "$T/ex"
  mkdir -p "$T/ex/provider"
  echo 'provider "x" {}' >"$T/ex/provider/provider.tf"
  local f
  for f in "$@"; do
    mkdir -p "$T/ex/$(dirname "$f")"
    echo '# example' >"$T/ex/$f"
  done
}

t_docgen_undocumented() {
  schema s "$PROVIDER_TEXT
resource_schemas { key: \"x_thing\" value { block {
  description: \"A thing.\"
  attributes { name: \"id\" type: \"\\\"string\\\"\" computed: true description: \"Its id.\" }
  attributes { name: \"bare\" type: \"\\\"string\\\"\" optional: true }
  block_types { type_name: \"settings\" nesting: SINGLE block {
    attributes { name: \"depth\" type: \"\\\"number\\\"\" optional: true } } }
  attributes { name: \"items\" optional: true nested_type { nesting: MAP
    attributes { name: \"size\" type: \"\\\"number\\\"\" required: true } } description: \"The items.\" }
} } }
data_source_schemas { key: \"x_other\" value { block {
  attributes { name: \"id\" type: \"\\\"string\\\"\" computed: true description: \"Its id.\" } } } }"
  fixture_examples resources/x_thing/resource.tf data-sources/x_other/data-source.tf
  run "$DOCGEN" -provider x -examples "$T/ex" -o "$T/out-docs" -schema "$T/s.pb"
  expect_rc 1
  err_has "x_thing Resource: attribute bare has no description"
  err_has "x_thing Resource: block settings has no description"
  err_has "x_thing Resource: attribute settings.depth has no description"
  err_has "x_thing Resource: attribute items.size has no description"
  err_has "x_other Data Source: the schema has no description"
  err_has "5 problems: nothing written"
  [ ! -e "$T/out-docs" ] || fail "docgen wrote docs despite the problems"
}

t_docgen_examples() {
  schema s "$PROVIDER_TEXT
resource_schemas { key: \"x_thing\" value { block { description: \"A thing.\"
  attributes { name: \"id\" type: \"\\\"string\\\"\" computed: true description: \"Its id.\" } } } }"
  fixture_examples data-sources/x_gone/data-source.tf
  run "$DOCGEN" -provider x -examples "$T/ex" -o "$T/out-docs" -schema "$T/s.pb"
  expect_rc 1
  err_has "x_thing Resource: no example: write $T/ex/resources/x_thing/resource.tf"
  err_has "data-sources/x_gone: the provider has no data-sources named x_gone"
  # An identity import example for a resource without an identity (as
  # tfplugindocs refuses one).
  fixture_examples resources/x_thing/resource.tf resources/x_thing/import-by-identity.tf
  run "$DOCGEN" -provider x -examples "$T/ex" -o "$T/out-docs" -schema "$T/s.pb"
  expect_rc 1
  err_has "x_thing Resource: import-by-identity.tf, but the resource has no identity"
}

# Types added later (ephemeral and list resources, functions, more of
# everything) need example files and nothing else.
t_docgen_every_kind() {
  schema s "$PROVIDER_TEXT
resource_schemas { key: \"x_cell\" value { block { description: \"A cell.\"
  attributes { name: \"name\" type: \"\\\"string\\\"\" required: true description: \"Its name.\" }
  attributes { name: \"tags\" type: \"[\\\"list\\\",[\\\"object\\\",{\\\"k\\\":\\\"string\\\",\\\"n\\\":\\\"number\\\"}]]\" optional: true description: \"Tags.\" }
  block_types { type_name: \"limits\" nesting: LIST max_items: 2 block { description: \"Limits.\"
    attributes { name: \"rps\" type: \"\\\"number\\\"\" required: true sensitive: true description: \"Requests per second.\" } } } } } }
data_source_schemas { key: \"x_cells\" value { block { description: \"All cells.\"
  attributes { name: \"names\" type: \"[\\\"set\\\",\\\"string\\\"]\" computed: true description: \"Their names.\" } } } }
ephemeral_resource_schemas { key: \"x_token\" value { block { description: \"A token.\"
  attributes { name: \"value\" type: \"\\\"string\\\"\" computed: true sensitive: true description: \"The token.\" } } } }
list_resource_schemas { key: \"x_cell\" value { block { description: \"Lists cells.\"
  attributes { name: \"prefix\" type: \"\\\"string\\\"\" optional: true description: \"Name prefix.\" } } } }
functions { key: \"cell_of\" value { summary: \"The cell of a tenant.\" description: \"Looks a tenant up.\"
  parameters { name: \"tenant\" type: \"\\\"string\\\"\" description: \"The tenant id.\" }
  return { type: \"\\\"string\\\"\" } } }"
  fixture_examples resources/x_cell/resource.tf resources/x_cell/import.sh \
    data-sources/x_cells/data-source.tf ephemeral-resources/x_token/ephemeral-resource.tf \
    list-resources/x_cell/list-resource.tfquery.hcl functions/cell_of/function.tf
  run "$DOCGEN" -provider x -examples "$T/ex" -o "$T/out-docs" -schema "$T/s.pb"
  expect_rc 0
  local f
  for f in index.md resources/cell.md data-sources/cells.md ephemeral-resources/token.md \
           list-resources/cell.md functions/cell_of.md; do
    [ -f "$T/out-docs/$f" ] || fail "no $f"
  done
  grep -qF -- '- `tags` (List of Object) Tags. (see [below for nested schema](#nestedatt--tags))' "$T/out-docs/resources/cell.md" || fail "tags"
  grep -qF -- '- `limits` (Block List, Max: 2) Limits.' "$T/out-docs/resources/cell.md" || fail "limits"
  grep -qF -- '- `rps` (Number, Sensitive) Requests per second.' "$T/out-docs/resources/cell.md" || fail "rps"
  grep -qF -- '- `n` (Number)' "$T/out-docs/resources/cell.md" || fail "object type attributes"
  grep -qF -- '## Import' "$T/out-docs/resources/cell.md" || fail "import section"
  grep -qF -- 'cell_of(tenant String) String' "$T/out-docs/functions/cell_of.md" || fail "signature"
  grep -qF -- '- `names` (Set of String) Their names.' "$T/out-docs/data-sources/cells.md" || fail "names"
}

# ---- check-docs -------------------------------------------------------------

t_check_docs_stale() {
  cp -r "$ROOT/docs" "$T/docs"
  sed -i 's/Same as `tenant_id`./Same as the tenant id./' "$T/docs/resources/tenant.md"
  run ${MAKE:-make} --no-print-directory -C "$ROOT" BUILD="$BUILD" DOCS="$T/docs" check-docs
  [ "$RC" -ne 0 ] || fail "check-docs passed on stale docs"
  out_has "-- \`id\` (String) Same as the tenant id."
  out_has "+- \`id\` (String) Same as \`tenant_id\`."
  err_has "docs/ is stale: run make docs"
  rm "$T/docs/data-sources/tenant.md"
  run ${MAKE:-make} --no-print-directory -C "$ROOT" BUILD="$BUILD" DOCS="$T/docs" check-docs
  [ "$RC" -ne 0 ] || fail "check-docs passed with a page missing"
  out_has "docs-check/data-sources: tenant.md"
}

TESTS=${*:-examples_validate import_examples docgen_undocumented docgen_examples docgen_every_kind check_docs_stale}
. "$ROOT/tests/lib/runner.sh"
cr_run_tests docs
