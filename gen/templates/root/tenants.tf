# Tenant placement from the spec, in tenants.json: each tenant's cell, its
# standby cell (null: none) and labels, one tenant per line. The routing
# map gets them as one cellrouter_tenants resource in the fleet's JSON form,
# with each cell's endpoint from its module: a fleet of 100,000 tenants is
# one resource and one string for Terraform, where as many
# cellrouter_tenant resources would take it hours. Moving a tenant, or
# failing it over by hand, is a spec change (swap cell and standby); a
# whole cell fails over in the cell states (cells.tf), not here.
locals {
  placement = jsondecode(file("${path.module}/tenants.json"))
}

resource "cellrouter_tenants" "this" {
  name = "__system__"
  tenants_json = jsonencode({
    for id, t in local.placement : id => {
      cell_id          = t.cell_id
      endpoint         = local.cell_endpoints[t.cell_id]
      standby_cell_id  = t.standby_cell_id
      standby_endpoint = t.standby_cell_id == null ? null : local.cell_endpoints[t.standby_cell_id]
      labels           = t.labels
    }
  })

  # A tenant's cells are in the routing map before it, and leave after it.
  depends_on = [cellrouter_cell.this]
}
