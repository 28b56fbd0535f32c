locals {
  prefix = "${var.system}-${var.cell_id}"
  tags = merge(var.tags, {
    "cellrouter:system"   = var.system
    "cellrouter:cell"     = var.cell_id
    "cellrouter:location" = var.location
  })
  lambda_runtime = var.runtime.language == "python" ? "python${var.runtime.version}" : "nodejs${var.runtime.version}.x"
  package_bucket = regex("^s3://([^/]+)/(.+)$", var.package_uri)[0]
  package_key    = regex("^s3://([^/]+)/(.+)$", var.package_uri)[1]

  # The consumers run as Lambda functions, or as Fargate services when
  # var.workers is set (workers.tf); the queues are the same either way.
  container        = var.workers != null
  lambda_consumers = local.container ? {} : var.consumers
}

# The region comes from the provider the caller passes; var.location says
# which one the caller meant, and a mismatch stops the plan (see events).
data "aws_region" "current" {}

# Events land in a DynamoDB table; its stream feeds the forwarder.
resource "aws_dynamodb_table" "events" {
  name             = "${local.prefix}-${var.table_name}"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = var.partition_key
  range_key        = "id"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"
  tags             = local.tags

  attribute {
    name = var.partition_key
    type = "S"
  }

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  lifecycle {
    precondition {
      condition     = data.aws_region.current.name == var.location
      error_message = "The AWS provider passed to this cell is configured for another region than var.location."
    }
  }
}

resource "aws_sns_topic" "events" {
  name              = "${local.prefix}-${var.topic_name}"
  kms_master_key_id = "alias/aws/sns"
  tags              = local.tags
}

# Every function assumes its own role, and writes to a log group created here
# before it first runs (so no role needs logs:CreateLogGroup).
data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# Ingest: the HTTP API's function may only put items into the table.
data "aws_iam_policy_document" "ingest" {
  statement {
    sid       = "PutEvents"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.events.arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.ingest.arn}:*"]
  }
}

resource "aws_cloudwatch_log_group" "ingest" {
  name              = "/aws/lambda/${local.prefix}-ingest"
  retention_in_days = 30
  tags              = local.tags
}

resource "aws_iam_role" "ingest" {
  name               = "${local.prefix}-ingest"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "ingest" {
  name   = "least-privilege"
  role   = aws_iam_role.ingest.id
  policy = data.aws_iam_policy_document.ingest.json
}

resource "aws_lambda_function" "ingest" {
  function_name = "${local.prefix}-ingest"
  role          = aws_iam_role.ingest.arn
  runtime       = local.lambda_runtime
  handler       = var.ingest_handler
  memory_size   = var.runtime.memory_mb
  timeout       = 10
  s3_bucket     = local.package_bucket
  s3_key        = local.package_key
  tags          = local.tags

  environment {
    variables = {
      CELL_ID       = var.cell_id
      EVENTS_TABLE  = aws_dynamodb_table.events.name
      PARTITION_KEY = var.partition_key
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.ingest.name
  }
}

resource "aws_apigatewayv2_api" "ingest" {
  name          = "${local.prefix}-ingest"
  protocol_type = "HTTP"
  tags          = local.tags
}

resource "aws_apigatewayv2_integration" "ingest" {
  api_id                 = aws_apigatewayv2_api.ingest.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.ingest.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "ingest" {
  api_id    = aws_apigatewayv2_api.ingest.id
  route_key = "POST /events"
  target    = "integrations/${aws_apigatewayv2_integration.ingest.id}"
}

# The cell's health check (the edge router's prober reads health_url): GET
# /healthz goes to the ingest function too, which answers 200 while it can
# take events.
resource "aws_apigatewayv2_route" "health" {
  api_id    = aws_apigatewayv2_api.ingest.id
  route_key = "GET /healthz"
  target    = "integrations/${aws_apigatewayv2_integration.ingest.id}"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.ingest.id
  name        = "$default"
  auto_deploy = true
  tags        = local.tags
}

resource "aws_lambda_permission" "ingest_api" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.ingest.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.ingest.execution_arn}/*/*/events"
}

resource "aws_lambda_permission" "health_api" {
  statement_id  = "AllowHttpApiHealth"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.ingest.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.ingest.execution_arn}/*/*/healthz"
}

# Forwarder: reads the table's stream, publishes to the topic.
data "aws_iam_policy_document" "forwarder" {
  statement {
    sid       = "ReadStream"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
    resources = [aws_dynamodb_table.events.stream_arn]
  }

  # ListStreams takes no resource narrower than "*" (it only lists stream ARNs).
  statement {
    sid       = "ListStreams"
    actions   = ["dynamodb:ListStreams"]
    resources = ["*"]
  }

  statement {
    sid       = "Publish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.events.arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.forwarder.arn}:*"]
  }
}

resource "aws_cloudwatch_log_group" "forwarder" {
  name              = "/aws/lambda/${local.prefix}-forwarder"
  retention_in_days = 30
  tags              = local.tags
}

resource "aws_iam_role" "forwarder" {
  name               = "${local.prefix}-forwarder"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "forwarder" {
  name   = "least-privilege"
  role   = aws_iam_role.forwarder.id
  policy = data.aws_iam_policy_document.forwarder.json
}

resource "aws_lambda_function" "forwarder" {
  function_name = "${local.prefix}-forwarder"
  role          = aws_iam_role.forwarder.arn
  runtime       = local.lambda_runtime
  handler       = var.forwarder_handler
  memory_size   = var.runtime.memory_mb
  timeout       = 60
  s3_bucket     = local.package_bucket
  s3_key        = local.package_key
  tags          = local.tags

  environment {
    variables = {
      CELL_ID   = var.cell_id
      TOPIC_ARN = aws_sns_topic.events.arn
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.forwarder.name
  }
}

resource "aws_lambda_event_source_mapping" "forwarder" {
  event_source_arn               = aws_dynamodb_table.events.stream_arn
  function_name                  = aws_lambda_function.forwarder.arn
  starting_position              = "TRIM_HORIZON"
  batch_size                     = 100
  maximum_retry_attempts         = 10
  bisect_batch_on_function_error = true
}

# Consumers: one queue (with its dead-letter queue) each, read by a function
# (below) or by a container worker (workers.tf).
resource "aws_sqs_queue" "dead_letter" {
  for_each = var.consumers

  name                      = "${local.prefix}-${each.key}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}

resource "aws_sqs_queue" "consumer" {
  for_each = var.consumers

  name                       = "${local.prefix}-${each.key}"
  visibility_timeout_seconds = each.value.timeout_seconds
  message_retention_seconds  = each.value.retention_seconds
  sqs_managed_sse_enabled    = true
  tags                       = local.tags
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter[each.key].arn
    maxReceiveCount     = each.value.max_retries + 1
  })
}

# Only this cell's topic may send to a consumer queue.
data "aws_iam_policy_document" "queue" {
  for_each = var.consumers

  statement {
    sid       = "FromTopic"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.consumer[each.key].arn]

    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.events.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "consumer" {
  for_each = var.consumers

  queue_url = aws_sqs_queue.consumer[each.key].id
  policy    = data.aws_iam_policy_document.queue[each.key].json
}

resource "aws_sns_topic_subscription" "consumer" {
  for_each = var.consumers

  topic_arn            = aws_sns_topic.events.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.consumer[each.key].arn
  raw_message_delivery = true
}

# A function per consumer, unless the consumers run as containers.
data "aws_iam_policy_document" "consumer" {
  for_each = local.lambda_consumers

  statement {
    sid       = "ReadOwnQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.consumer[each.key].arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.consumer[each.key].arn}:*"]
  }
}

resource "aws_cloudwatch_log_group" "consumer" {
  for_each = local.lambda_consumers

  name              = "/aws/lambda/${local.prefix}-${each.key}"
  retention_in_days = 30
  tags              = local.tags
}

resource "aws_iam_role" "consumer" {
  for_each = local.lambda_consumers

  name               = "${local.prefix}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "consumer" {
  for_each = local.lambda_consumers

  name   = "least-privilege"
  role   = aws_iam_role.consumer[each.key].id
  policy = data.aws_iam_policy_document.consumer[each.key].json
}

resource "aws_lambda_function" "consumer" {
  for_each = local.lambda_consumers

  function_name = "${local.prefix}-${each.key}"
  role          = aws_iam_role.consumer[each.key].arn
  runtime       = local.lambda_runtime
  handler       = each.value.handler
  memory_size   = var.runtime.memory_mb
  timeout       = each.value.timeout_seconds
  s3_bucket     = local.package_bucket
  s3_key        = local.package_key
  tags          = local.tags

  environment {
    variables = {
      CELL_ID  = var.cell_id
      CONSUMER = each.key
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.consumer[each.key].name
  }
}

resource "aws_lambda_event_source_mapping" "consumer" {
  for_each = local.lambda_consumers

  event_source_arn        = aws_sqs_queue.consumer[each.key].arn
  function_name           = aws_lambda_function.consumer[each.key].arn
  batch_size              = each.value.batch_size
  function_response_types = ["ReportBatchItemFailures"]
}

# Every resource of the cell, found by its tags, as one group (the console's
# view of a cell; the Azure module's resource group).
resource "aws_resourcegroups_group" "cell" {
  name = "cell-${local.prefix}"
  tags = local.tags

  resource_query {
    query = jsonencode({
      ResourceTypeFilters = ["AWS::AllSupported"]
      TagFilters = [
        { Key = "cellrouter:system", Values = [var.system] },
        { Key = "cellrouter:cell", Values = [var.cell_id] },
      ]
    })
  }
}
