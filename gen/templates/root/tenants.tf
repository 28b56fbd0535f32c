# Tenant placement from the spec: primary cell, optional standby, labels.
locals {
  tenants = {
    # for __tenants__
    "__id__" = {
      cell_id         = "__cell_id__"
      standby_cell_id = __standby_cell_id__
      labels          = __labels__
    }
    # end __tenants__
  }
}

# One routing-map entry per tenant. Failing a tenant over is a spec change
# (swap cell and standby) and an in-place update here.
resource "cellrouter_tenant" "this" {
  for_each = local.tenants

  tenant_id        = each.key
  cell_id          = each.value.cell_id
  endpoint         = local.cell_endpoints[each.value.cell_id]
  standby_cell_id  = each.value.standby_cell_id
  standby_endpoint = each.value.standby_cell_id == null ? null : local.cell_endpoints[each.value.standby_cell_id]
  labels           = each.value.labels
}
