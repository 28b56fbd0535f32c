variable "cell_id" {
  description = "Identifier of the cell, used in every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.cell_id))
    error_message = "cell_id must be 2-21 lowercase letters, digits or dashes."
  }
}

variable "consumers" {
  description = "Consumers of the topic, by name."
  type = map(object({
    handler     = string
    batch_size  = number
    timeout_s   = number
    max_retries = number
    retention_s = number
  }))
  default = {}
}

variable "tags" {
  description = "Tags for every resource of the cell."
  type        = map(string)
  default     = {}
}
