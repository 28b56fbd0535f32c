output "ingest_url" {
  description = "URL events are posted to; the routing map's endpoint for this cell."
  value       = aws_apigatewayv2_api.http.api_endpoint
}

output "queue_ids" {
  description = "Queue of each consumer."
  value       = { for k, q in aws_sqs_queue.consumer : k => q.url }
}

output "region" {
  description = "Region of the cell."
  value       = data.aws_region.current.name
}
