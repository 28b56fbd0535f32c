output "ingest_urls" {
  description = "Ingest URL of every cell, by cell id."
  value       = local.cell_endpoints
}

output "tenant_cells" {
  description = "Cell serving each tenant, by tenant id."
  value       = { for id, t in cellrouter_tenant.this : id => t.cell_id }
}
