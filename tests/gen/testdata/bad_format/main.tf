resource "aws_sqs_queue" "q" {
  name = "orders"
  delay_seconds = 0
}

resource "aws_sqs_queue" "r" {
    name = "returns"
}
