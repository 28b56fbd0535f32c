variable "cell_id" {
  type = string

  validation {
    condition     = length(var.cell_id) < 20
    error_message = "cell_id is too long."
  }
}

variable "retries" {
  type    = number
  default = 4
}

variable "only_in_a" {
  type = string
}

output "ingest_url" {
  description = "AWS API Gateway URL."
  value       = "a"
}

output "queue_ids" {
  value = {}
}
