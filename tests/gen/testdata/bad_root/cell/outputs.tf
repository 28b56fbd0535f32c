output "ingest_url" {
  value = "https://${var.cell_id}.example.com"
}
