output "ingest_url" {
  description = "HTTPS URL that accepts events for this cell (POST); the routing-map endpoint of tenants placed here."
  value       = "${aws_apigatewayv2_api.ingest.api_endpoint}/events"
}

output "health_url" {
  description = "HTTPS URL of the cell's health check (GET; 200 while the cell takes events): the routing map's health_url, which the edge router's prober probes."
  value       = "${aws_apigatewayv2_api.ingest.api_endpoint}/healthz"
}

output "cell_id" {
  description = "Identifier of the cell, as given."
  value       = var.cell_id
}

output "table_name" {
  description = "Name of the event table (DynamoDB table / Cosmos DB container)."
  value       = aws_dynamodb_table.events.name
}

output "topic_name" {
  description = "Name of the topic new events are published to (SNS topic / Service Bus topic)."
  value       = aws_sns_topic.events.name
}

output "consumer_queues" {
  description = "Queue each consumer reads, by consumer name (SQS queue / Service Bus subscription)."
  value       = { for name, q in aws_sqs_queue.consumer : name => q.name }
}

output "dead_letter_queues" {
  description = "Where each consumer's failed messages go, by consumer name (SQS dead-letter queue / the subscription's $DeadLetterQueue)."
  value       = { for name, q in aws_sqs_queue.dead_letter : name => q.name }
}

output "consumer_workers" {
  description = "What runs each consumer, by consumer name: its Lambda function or ECS service (cluster/service) on AWS, the Function App or its Container App on Azure."
  value       = local.container ? { for name, s in aws_ecs_service.worker : name => "${aws_ecs_cluster.workers[0].name}/${s.name}" } : { for name, f in aws_lambda_function.consumer : name => f.function_name }
}

output "resource_group" {
  description = "The group of every resource of the cell: an AWS Resource Groups group (by the cell's tags) / the Azure resource group."
  value       = aws_resourcegroups_group.cell.arn
}

output "telemetry_stream" {
  description = "Where the cell's logs leave for the observability destination: the Firehose delivery stream (AWS) / the Event Hub its diagnostic settings write to (Azure); null without var.observability."
  value       = local.telemetry ? aws_kinesis_firehose_delivery_stream.telemetry["logs"].arn : null
}
