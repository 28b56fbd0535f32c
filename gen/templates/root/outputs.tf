output "ingest_urls" {
  description = "Ingest URL of every cell, by cell id."
  value       = local.cell_endpoints
}

output "tenant_cells" {
  description = "Cell serving each tenant, by tenant id (its standby serves it while the cell is failed)."
  value       = { for id, t in local.placement : id => t.cell_id }
}
