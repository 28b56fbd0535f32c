data "aws_region" "current" {}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_dynamodb_table" "events" {
  name             = "${var.cell_id}-events"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "tenant"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "tenant"
    type = "S"
  }

  tags = var.tags
}

resource "aws_iam_role" "lambda" {
  name               = "${var.cell_id}-lambda"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_lambda_function" "ingest" {
  function_name = "${var.cell_id}-ingest"
  role          = aws_iam_role.lambda.arn
  handler       = "ingest.handler"
  runtime       = "python3.12"
  filename      = "ingest.zip"

  environment {
    variables = {
      TABLE = aws_dynamodb_table.events.name
    }
  }
}

resource "aws_sqs_queue" "dlq" {
  for_each = var.consumers

  name                      = "${var.cell_id}-${each.key}-dlq"
  message_retention_seconds = each.value.retention_s
}

resource "aws_sqs_queue" "consumer" {
  for_each = var.consumers

  name                       = "${var.cell_id}-${each.key}"
  visibility_timeout_seconds = each.value.timeout_s
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = each.value.max_retries
  })
}

resource "aws_lambda_event_source_mapping" "consumer" {
  count = length(var.consumers) > 0 ? 1 : 0

  function_name     = aws_lambda_function.ingest.arn
  event_source_arn  = aws_dynamodb_table.events.stream_arn
  starting_position = "LATEST"

  dynamic "filter_criteria" {
    for_each = var.consumers
    content {
      filter {
        pattern = jsonencode({ consumer = [filter_criteria.key] })
      }
    }
  }
}

resource "aws_apigatewayv2_api" "http" {
  name          = "${var.cell_id}-ingest"
  protocol_type = "HTTP"
}

locals {
  queue_arns    = [for q in aws_sqs_queue.consumer : q.arn]
  mapping_uuids = aws_lambda_event_source_mapping.consumer[*].uuid
  dlq_arns      = [for k in keys(var.consumers) : aws_sqs_queue.dlq[k].arn]
}
