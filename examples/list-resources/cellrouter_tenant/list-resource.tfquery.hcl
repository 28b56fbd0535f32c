# Every tenant on cell aws-alpha (as primary or standby) whose id starts
# with "eu-" and that carries tier = "gold":
#   terraform query                                   lists them
#   terraform query -generate-config-out=tenants.tf   writes a resource and
#                                                     an import block for each
list "cellrouter_tenant" "gold_on_alpha" {
  provider = cellrouter
  limit    = 1000

  config {
    cell_id          = "aws-alpha"
    tenant_id_prefix = "eu-"
    labels           = { tier = "gold" }
  }
}
