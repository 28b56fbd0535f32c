data "cellrouter_tenant" "acme" {
  tenant_id = "acme"
}

output "acme_cell" {
  value = data.cellrouter_tenant.acme.cell_id
}
