# Each resource below breaks one argument rule of the provider schema.

resource "aws_sqs_queue" "typo" {
  name               = "orders"
  visibility_timeout = 30
}

resource "aws_lambda_function" "no_role" {
  function_name = "ingest"
  handler       = "main.handler"
  runtime       = "python3.12"
  filename      = "ingest.zip"

  environment {
    vars = {
      A = "b"
    }
  }
}

resource "aws_sqs_queues" "plural" {
  name = "x"
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type = "Service"
    }
  }
}

data "aws_region" "current" {
  nme = "x"
}

resource "azurerm_servicebus_topic" "t" {
  name = "events"
}

resource "cellrouter_tenant" "not_checked" {
  anything = "goes"
}

resource "aws_sqs_queue" "computed" {
  arn = "arn:aws:sqs:us-east-1:123456789012:x"
}
