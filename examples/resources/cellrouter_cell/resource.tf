resource "cellrouter_cell" "alpha" {
  cell_id    = "aws-alpha"
  endpoint   = "https://alpha.cells.example.com/ingest"
  health_url = "https://alpha.cells.example.com/healthz"
  labels = {
    cloud  = "aws"
    region = "eu-west-1"
  }
}

# Tenants name cells by id. Referring to the cell orders the writes: the
# cell is created first, and destroyed last.
resource "cellrouter_tenant" "acme" {
  tenant_id        = "acme"
  cell_id          = cellrouter_cell.alpha.cell_id
  endpoint         = cellrouter_cell.alpha.endpoint
  standby_cell_id  = "azure-beta"
  standby_endpoint = "https://beta.cells.example.com/api/ingest"
}
