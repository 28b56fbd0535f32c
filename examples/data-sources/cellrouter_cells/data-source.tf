# The AWS cells, and which of them are failed right now.
data "cellrouter_cells" "aws" {
  labels = { cloud = "aws" }
}

output "failed_aws_cells" {
  value = [for id, c in data.cellrouter_cells.aws.cells : id if c.serving_state == "failed"]
}
