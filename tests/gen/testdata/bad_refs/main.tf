# References that name nothing, or the wrong thing.

variable "names" {
  type    = set(string)
  default = []
}

resource "aws_sqs_queue" "dlq" {
  name = "dlq"
}

resource "aws_sqs_queue" "many" {
  for_each = var.names

  name = each.key
}

resource "aws_sqs_queue" "counted" {
  count = 2

  name = "q${count.index}"
}

resource "azurerm_linux_function_app" "f" {
  name                = "func"
  location            = "eastus"
  resource_group_name = "rg"
  service_plan_id     = "plan"

  site_config {}
}

data "aws_region" "current" {}

locals {
  good_keyed   = aws_sqs_queue.many["a"].arn
  good_splat   = aws_sqs_queue.counted[*].url
  good_nested  = azurerm_linux_function_app.f.site_credential[0].password
  good_data    = data.aws_region.current.name
  good_map     = aws_sqs_queue.dlq.tags_all.Name
  bad_attr     = aws_sqs_queue.dlq.arnn
  bad_resource = aws_sqs_queue.missing.arn
  bad_data     = data.aws_region.other.name
  bad_data_at  = data.aws_region.current.nam
  bad_var      = var.nope
  bad_local    = local.nope
  needs_key    = aws_sqs_queue.many.arn
  no_count     = aws_sqs_queue.dlq[0].arn
  bad_after_ix = aws_sqs_queue.many[each.key].urll
  bad_splat    = aws_sqs_queue.counted[*].uri
  bad_nested   = azurerm_linux_function_app.f.site_credential[0].nme
  bad_root     = sqs.queue
  bad_in_call  = upper(aws_sqs_queue.dlq.nam)
  iter_ok      = [for q in aws_sqs_queue.many : q.arn]
}
