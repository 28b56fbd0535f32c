resource "cellrouter_tenant" "acme" {
  tenant_id        = "acme"
  cell_id          = "aws-alpha"
  endpoint         = "https://alpha.cells.example.com/ingest"
  standby_cell_id  = "azure-beta"
  standby_endpoint = "https://beta.cells.example.com/api/ingest"
  labels = {
    tier = "gold"
  }
}
