output "ingest_url" {
  description = "HTTPS URL that accepts events for this cell (POST); the routing-map endpoint of tenants placed here."
  value       = "https://${azurerm_linux_function_app.cell.default_hostname}/api/events"
}

output "cell_id" {
  description = "Identifier of the cell, as given."
  value       = var.cell_id
}

output "table_name" {
  description = "Name of the event table (DynamoDB table / Cosmos DB container)."
  value       = azurerm_cosmosdb_sql_container.events.name
}

output "topic_name" {
  description = "Name of the topic new events are published to (SNS topic / Service Bus topic)."
  value       = azurerm_servicebus_topic.events.name
}

output "consumer_queues" {
  description = "Queue each consumer reads, by consumer name (SQS queue / Service Bus subscription)."
  value       = { for name, s in azurerm_servicebus_subscription.consumer : name => s.name }
}

output "dead_letter_queues" {
  description = "Where each consumer's failed messages go, by consumer name (SQS dead-letter queue / the subscription's $DeadLetterQueue)."
  value       = { for name, s in azurerm_servicebus_subscription.consumer : name => "${azurerm_servicebus_topic.events.name}/Subscriptions/${s.name}/$DeadLetterQueue" }
}
