# Each resource below breaks one block rule of the provider schema.

resource "aws_lambda_function" "forms" {
  function_name = "ingest"
  role          = "arn:aws:iam::123456789012:role/x"

  environment = {
    variables = {}
  }

  tags {
    Name = "x"
  }

  tracing_config {
    mode = "Active"
  }

  tracing_config {
    mode = "PassThrough"
  }

  dynamic "vpc_configs" {
    for_each = []
    content {
      subnet_ids = []
    }
  }

  dynamic "file_system_config" {
    for_each = []
  }

  snap_start "x" {
    apply_on = "PublishedVersions"
  }
}

resource "azurerm_linux_function_app" "no_site_config" {
  name                = "func"
  location            = "eastus"
  resource_group_name = "rg"
  service_plan_id     = "plan"
}

resource "aws_dynamodb_table" "t" {
  name = "t"

  attribute {
    name = "pk"
  }

  lifecycle {
    ignore_changes = [tags]
  }
}
