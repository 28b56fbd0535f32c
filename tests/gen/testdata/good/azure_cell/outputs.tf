output "ingest_url" {
  description = "URL events are posted to; the routing map's endpoint for this cell."
  value       = "https://${azurerm_linux_function_app.ingest.default_hostname}/api/ingest"
}

output "queue_ids" {
  description = "Subscription of each consumer."
  value       = { for k, s in azurerm_servicebus_subscription.consumer : k => s.id }
}

output "region" {
  description = "Location of the cell."
  value       = azurerm_resource_group.cell.location
}
