variable "cell_id" {
  type = string

  validation {
    condition     = length(var.cell_id) < 24
    error_message = "cell_id is too long."
  }
}

variable "retries" {
  type    = string
  default = 5
}

output "ingest_url" {
  description = "Azure Function URL."
  value       = "b"
}

output "queue_ids" {
  value     = {}
  sensitive = true
}

output "only_in_b" {
  value = 1
}
