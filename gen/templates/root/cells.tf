# The cells in the routing map: what each cell is, from its module (its
# ingest endpoint and health URL), one cellrouter_cell each. Whether a cell
# serves is not Terraform's to say: the edge router's prober (edge.tf) and
# operators (`cellctl cell fail|restore|pin`) set it, and a plan never
# shows it as a change or reverts it.
locals {
  cells = {
    # for __cells__
    "__id__" = {
      endpoint   = module.__ident__.ingest_url
      health_url = module.__ident__.health_url
      labels     = { cloud = "__cloud__", region = "__region__" }
    }
    # end __cells__
  }
  # Where each cell accepts events: the routing map's endpoints.
  cell_endpoints = { for id, cell in local.cells : id => cell.endpoint }
}

resource "cellrouter_cell" "this" {
  for_each = local.cells

  cell_id    = each.key
  endpoint   = each.value.endpoint
  health_url = each.value.health_url
  labels     = each.value.labels
}
