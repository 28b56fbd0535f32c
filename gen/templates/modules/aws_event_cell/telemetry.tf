# The observability pipeline (var.observability): every log group of the
# cell streams through a subscription filter into a Firehose delivery stream
# whose HTTP endpoint destination is the one platform all cells report to;
# the intake key stays in Secrets Manager and Firehose reads it there. Every
# delivery carries system, cell and cloud (Firehose common attributes). One
# cell per region (var.observability.metric_stream) also streams the
# region's metrics: a CloudWatch metric stream selects by namespace, not by
# resource, so one per cell would send every metric once per cell; those
# records carry system, cloud and region, and the cell is in each metric's
# resource names and tags.
locals {
  telemetry     = var.observability != null
  metric_stream = local.telemetry ? var.observability.metric_stream : false
  site          = local.telemetry ? (var.observability.site == null ? "" : var.observability.site) : ""
  # Each destination's documented Firehose intakes; an OTLP destination is a
  # gateway whose Firehose receiver takes both.
  firehose_urls = local.telemetry ? {
    otlp     = { logs = var.observability.firehose_endpoint, metrics = var.observability.firehose_endpoint }
    datadog  = { logs = "https://aws-kinesis-http-intake.logs.${local.site}/v1/input", metrics = "https://awsmetrics-intake.${local.site}/v1/input" }
    newrelic = local.site == "eu" ? { logs = "https://aws-api.eu.newrelic.com/firehose/v1", metrics = "https://aws-api.eu01.nr-data.net/cloudwatch-metrics/v1" } : { logs = "https://aws-api.newrelic.com/firehose/v1", metrics = "https://aws-api.newrelic.com/cloudwatch-metrics/v1" }
    elastic  = { logs = var.observability.endpoint, metrics = var.observability.endpoint }
  }[var.observability.destination] : null
  metric_format = local.telemetry ? (var.observability.destination == "newrelic" ? "opentelemetry0.7" : "opentelemetry1.0") : null
  # The Firehose streams and the attributes their records carry: a log
  # record comes from one cell, a metric from the region's cells.
  streams = local.telemetry ? merge(
    { logs = tomap({ system = var.system, cell = var.cell_id, cloud = "aws" }) },
    local.metric_stream ? { metrics = tomap({ system = var.system, cloud = "aws", region = var.location }) } : {},
  ) : {}
  log_groups = merge(
    { ingest = aws_cloudwatch_log_group.ingest.name, forwarder = aws_cloudwatch_log_group.forwarder.name },
    { for name, g in aws_cloudwatch_log_group.consumer : "consumer-${name}" => g.name },
    { for name, g in aws_cloudwatch_log_group.worker : "worker-${name}" => g.name },
  )
}

# Records the destination refused, kept for replay.
resource "aws_s3_bucket" "telemetry" {
  count = local.telemetry ? 1 : 0

  bucket = "${local.prefix}-telemetry"
  tags   = local.tags
}

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "firehose" {
  count = local.telemetry ? 1 : 0

  statement {
    sid       = "KeepFailedDeliveries"
    actions   = ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:PutObject"]
    resources = [aws_s3_bucket.telemetry[0].arn, "${aws_s3_bucket.telemetry[0].arn}/*"]
  }

  statement {
    sid       = "ReadIntakeKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.observability.key_secret_arn]
  }
}

resource "aws_iam_role" "firehose" {
  count = local.telemetry ? 1 : 0

  name               = "${local.prefix}_firehose"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "firehose" {
  count = local.telemetry ? 1 : 0

  name   = "least-privilege"
  role   = aws_iam_role.firehose[0].id
  policy = data.aws_iam_policy_document.firehose[0].json
}

# One stream for the logs and, with metric_stream, one for the metrics: the
# same destination, each record tagged with what it comes from.
resource "aws_kinesis_firehose_delivery_stream" "telemetry" {
  for_each = local.streams

  name        = "${local.prefix}_${each.key}"
  destination = "http_endpoint"
  tags        = local.tags

  http_endpoint_configuration {
    name               = var.observability.destination
    url                = local.firehose_urls[each.key]
    role_arn           = aws_iam_role.firehose[0].arn
    s3_backup_mode     = "FailedDataOnly"
    buffering_size     = 1
    buffering_interval = 60
    retry_duration     = 300

    secrets_manager_configuration {
      enabled    = true
      secret_arn = var.observability.key_secret_arn
      role_arn   = aws_iam_role.firehose[0].arn
    }

    s3_configuration {
      role_arn           = aws_iam_role.firehose[0].arn
      bucket_arn         = aws_s3_bucket.telemetry[0].arn
      prefix             = "failed/${each.key}/"
      compression_format = "GZIP"
    }

    request_configuration {
      content_encoding = "GZIP"

      dynamic "common_attributes" {
        for_each = each.value

        content {
          name  = common_attributes.key
          value = common_attributes.value
        }
      }
    }
  }
}

data "aws_iam_policy_document" "cwlogs_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["logs.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "cwlogs" {
  count = local.telemetry ? 1 : 0

  statement {
    sid       = "DeliverLogs"
    actions   = ["firehose:PutRecord", "firehose:PutRecordBatch"]
    resources = [aws_kinesis_firehose_delivery_stream.telemetry["logs"].arn]
  }
}

resource "aws_iam_role" "cwlogs" {
  count = local.telemetry ? 1 : 0

  name               = "${local.prefix}_cwlogs"
  assume_role_policy = data.aws_iam_policy_document.cwlogs_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "cwlogs" {
  count = local.telemetry ? 1 : 0

  name   = "least-privilege"
  role   = aws_iam_role.cwlogs[0].id
  policy = data.aws_iam_policy_document.cwlogs[0].json
}

# Every log group of the cell: the functions', and the workers' when the
# consumers run as containers.
resource "aws_cloudwatch_log_subscription_filter" "telemetry" {
  for_each = local.telemetry ? local.log_groups : {}

  name            = "${local.prefix}-telemetry"
  log_group_name  = each.value
  filter_pattern  = ""
  destination_arn = aws_kinesis_firehose_delivery_stream.telemetry["logs"].arn
  role_arn        = aws_iam_role.cwlogs[0].arn
}

data "aws_iam_policy_document" "metric_stream_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["streams.metrics.cloudwatch.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "metric_stream" {
  count = local.metric_stream ? 1 : 0

  statement {
    sid       = "DeliverMetrics"
    actions   = ["firehose:PutRecord", "firehose:PutRecordBatch"]
    resources = [aws_kinesis_firehose_delivery_stream.telemetry["metrics"].arn]
  }
}

resource "aws_iam_role" "metric_stream" {
  count = local.metric_stream ? 1 : 0

  name               = "${local.prefix}_metric-stream"
  assume_role_policy = data.aws_iam_policy_document.metric_stream_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "metric_stream" {
  count = local.metric_stream ? 1 : 0

  name   = "least-privilege"
  role   = aws_iam_role.metric_stream[0].id
  policy = data.aws_iam_policy_document.metric_stream[0].json
}

# The namespaces of what a cell runs.
resource "aws_cloudwatch_metric_stream" "region" {
  count = local.metric_stream ? 1 : 0

  name          = local.prefix
  role_arn      = aws_iam_role.metric_stream[0].arn
  firehose_arn  = aws_kinesis_firehose_delivery_stream.telemetry["metrics"].arn
  output_format = local.metric_format
  tags          = local.tags

  dynamic "include_filter" {
    for_each = ["AWS/ApiGateway", "AWS/DynamoDB", "AWS/ECS", "AWS/Lambda", "AWS/SNS", "AWS/SQS", "ECS/ContainerInsights"]

    content {
      namespace = include_filter.value
    }
  }
}
