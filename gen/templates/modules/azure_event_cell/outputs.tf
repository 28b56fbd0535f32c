output "ingest_url" {
  description = "HTTPS URL that accepts events for this cell (POST); the routing-map endpoint of tenants placed here."
  value       = "https://${azurerm_linux_function_app.cell.default_hostname}/api/events"
}

output "health_url" {
  description = "HTTPS URL of the cell's health check (GET; 200 while the cell takes events): the routing map's health_url, which the edge router's prober probes."
  value       = "https://${azurerm_linux_function_app.cell.default_hostname}/api/healthz"
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

output "consumer_workers" {
  description = "What runs each consumer, by consumer name: its Lambda function or ECS service (cluster/service) on AWS, the Function App or its Container App on Azure."
  value       = local.container ? { for name, a in azurerm_container_app.worker : name => a.name } : { for name, c in var.consumers : name => azurerm_linux_function_app.cell.name }
}

output "resource_group" {
  description = "The group of every resource of the cell: an AWS Resource Groups group (by the cell's tags) / the Azure resource group."
  value       = azurerm_resource_group.cell.id
}

output "telemetry_stream" {
  description = "Where the cell's logs leave for the observability destination: the Firehose delivery stream (AWS) / the Event Hub its diagnostic settings write to (Azure); null without var.observability."
  value       = local.telemetry ? azurerm_eventhub.telemetry[0].id : null
}
