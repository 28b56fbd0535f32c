# Literals Terraform cannot convert to the argument's type; the ones marked
# "fine" convert and must not be reported.

resource "aws_sqs_queue" "q" {
  name                       = ["orders"]
  delay_seconds              = "ten"
  fifo_queue                 = "yes"
  message_retention_seconds  = true
  visibility_timeout_seconds = "30" # fine
  max_message_size           = null # fine
  tags                       = ["a"]
}

resource "aws_lambda_function" "f" {
  function_name = 12 # fine
  role          = "arn:aws:iam::123456789012:role/x"
  architectures = "x86_64"
  publish       = "true"   # fine
  memory_size   = "${256}" # fine: not a literal
}
