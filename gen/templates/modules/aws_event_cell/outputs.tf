output "ingest_url" {
  description = "HTTPS URL that accepts events for this cell (POST); the routing-map endpoint of tenants placed here."
  value       = "${aws_apigatewayv2_api.ingest.api_endpoint}/events"
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
