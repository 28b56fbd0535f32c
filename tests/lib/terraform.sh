# tests/lib/terraform.sh — running the provider under the real Terraform
# CLI, for the end-to-end suite (tests/e2e/run.sh with TF_DRIVER=terraform)
# and the fleet benchmark (bench/fleet.sh). Source it.
#
# No network and no `terraform init`: a CLI configuration with
# dev_overrides points registry.terraform.io/cellrouter/cellrouter at a
# directory holding terraform-provider-cellrouter, which Terraform then
# runs without a lock file entry or a registry lookup: when every provider
# a configuration needs is overridden, Terraform allows `plan` and `apply`
# without `init` (the README says which versions).
#
#   cr_tf_find             sets TERRAFORM to the binary ($TERRAFORM, else
#                          `terraform` on PATH); status 1 when there is none
#   cr_tf_setup DIR PDIR   writes DIR/terraformrc overriding the provider
#                          to PDIR and exports what every run needs
#   cr_tf_versions CFGDIR  writes CFGDIR/versions.tf (required_providers:
#                          without it Terraform looks for hashicorp/cellrouter)

CR_TF_SOURCE="cellrouter/cellrouter"

cr_tf_find() {
  if [ -n "${TERRAFORM:-}" ]; then
    [ -x "$TERRAFORM" ] || return 1
  else
    TERRAFORM=$(command -v terraform 2>/dev/null) || return 1
  fi
  return 0
}

cr_tf_setup() {
  local dir=$1 pdir=$2
  mkdir -p "$dir"
  cat >"$dir/terraformrc" <<EOF
provider_installation {
  dev_overrides {
    "registry.terraform.io/$CR_TF_SOURCE" = "$pdir"
  }
  direct {}
}
EOF
  export TF_CLI_CONFIG_FILE=$dir/terraformrc
  # No checkpoint (version check) calls, no prompts, no plugin cache.
  export CHECKPOINT_DISABLE=1 TF_INPUT=0
  unset TF_PLUGIN_CACHE_DIR TF_DATA_DIR TF_WORKSPACE TF_CLI_ARGS \
        TF_CLI_ARGS_plan TF_CLI_ARGS_apply TF_CLI_ARGS_destroy TF_LOG_PATH
}

cr_tf_versions() {
  [ -f "$1/versions.tf" ] && return 0
  mkdir -p "$1"
  cat >"$1/versions.tf" <<EOF
terraform {
  required_providers {
    cellrouter = {
      source = "$CR_TF_SOURCE"
    }
  }
}
EOF
}
