variable "system" {
  description = "Name of the system the cell belongs to; the first part of every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,14}[a-z0-9]$", var.system))
    error_message = "system must be 2-16 characters: a lowercase letter, then lowercase letters, digits or '-', not ending in '-'."
  }
}

variable "cell_id" {
  description = "Identifier of the cell, unique across clouds; the routing map's cell_id."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.cell_id))
    error_message = "cell_id must be 2-40 characters: a lowercase letter, then lowercase letters, digits or '-', not ending in '-'."
  }
}

variable "location" {
  description = "AWS region or Azure location of the cell (us-east-1, eastus). On AWS the region comes from the provider configuration and must equal this value."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]{2,32}$", var.location))
    error_message = "location must be a region or location name such as us-east-1 or eastus."
  }
}

variable "table_name" {
  description = "Logical name of the event table (DynamoDB table suffix, Cosmos DB container name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.table_name))
    error_message = "table_name must be 2-40 characters: a lowercase letter, then lowercase letters, digits or '-', not ending in '-'."
  }
}

variable "partition_key" {
  description = "Attribute the events are partitioned by (DynamoDB hash key, Cosmos DB partition key path)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]{0,254}$", var.partition_key)) && var.partition_key != "id"
    error_message = "partition_key must be 1-255 letters, digits or '_', not starting with a digit, and not \"id\" (the item id)."
  }
}

variable "topic_name" {
  description = "Logical name of the topic the forwarder publishes to (SNS topic suffix, Service Bus topic name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.topic_name))
    error_message = "topic_name must be 2-40 characters: a lowercase letter, then lowercase letters, digits or '-', not ending in '-'."
  }
}

variable "consumers" {
  description = "Consumers of the topic by name: each gets its own queue (SQS queue / Service Bus subscription) with a dead-letter queue, and a function."
  type = map(object({
    handler           = string
    batch_size        = number
    timeout_seconds   = number
    max_retries       = number
    retention_seconds = number
  }))

  validation {
    condition     = length(var.consumers) >= 1 && length(var.consumers) <= 50 && alltrue([for name in keys(var.consumers) : can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", name)) && !contains(["ingest", "forwarder"], name)])
    error_message = "consumers must have 1-50 entries named like 'billing' (2-32 characters: lowercase letters, digits, '-'); 'ingest' and 'forwarder' are reserved."
  }

  validation {
    condition     = alltrue([for c in values(var.consumers) : c.batch_size >= 1 && c.batch_size <= 10 && floor(c.batch_size) == c.batch_size])
    error_message = "consumers[*].batch_size must be a whole number from 1 to 10."
  }

  validation {
    condition     = alltrue([for c in values(var.consumers) : c.timeout_seconds >= 1 && c.timeout_seconds <= 300 && floor(c.timeout_seconds) == c.timeout_seconds])
    error_message = "consumers[*].timeout_seconds must be a whole number from 1 to 300 (a Service Bus lock lasts at most 5 minutes)."
  }

  validation {
    condition     = alltrue([for c in values(var.consumers) : c.max_retries >= 0 && c.max_retries <= 99 && floor(c.max_retries) == c.max_retries])
    error_message = "consumers[*].max_retries must be a whole number from 0 to 99."
  }

  validation {
    condition     = alltrue([for c in values(var.consumers) : c.retention_seconds >= 60 && c.retention_seconds <= 1209600 && floor(c.retention_seconds) == c.retention_seconds])
    error_message = "consumers[*].retention_seconds must be a whole number from 60 to 1209600 (14 days, the SQS maximum)."
  }

  validation {
    condition     = alltrue([for c in values(var.consumers) : can(regex("^[A-Za-z_][A-Za-z0-9_.]{0,127}$", c.handler))])
    error_message = "consumers[*].handler must look like module.function (at most 128 characters)."
  }
}

variable "runtime" {
  description = "Function runtime: language (python or node), its version, and memory per function in MB."
  type = object({
    language  = string
    version   = string
    memory_mb = number
  })

  validation {
    condition     = (var.runtime.language == "python" && contains(["3.9", "3.10", "3.11", "3.12"], var.runtime.version)) || (var.runtime.language == "node" && contains(["18", "20"], var.runtime.version))
    error_message = "runtime must be python 3.9-3.12 or node 18/20, the versions both AWS Lambda and Azure Functions run."
  }

  validation {
    condition     = var.runtime.memory_mb >= 128 && var.runtime.memory_mb <= 10240 && floor(var.runtime.memory_mb) == var.runtime.memory_mb
    error_message = "runtime.memory_mb must be a whole number from 128 to 10240."
  }
}

variable "ingest_handler" {
  description = "Handler of the HTTP ingest function (module.function)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_.]{0,127}$", var.ingest_handler))
    error_message = "ingest_handler must look like module.function (at most 128 characters)."
  }
}

variable "forwarder_handler" {
  description = "Handler of the change-feed function that forwards new events to the topic (module.function)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_.]{0,127}$", var.forwarder_handler))
    error_message = "forwarder_handler must look like module.function (at most 128 characters)."
  }
}

variable "package_uri" {
  description = "Where the function package (zip) is: s3://bucket/key on AWS, an https:// URL on Azure (WEBSITE_RUN_FROM_PACKAGE)."
  type        = string

  validation {
    condition     = can(regex("^(s3://[^/]+/.+|https://.+)$", var.package_uri))
    error_message = "package_uri must be s3://bucket/key (AWS) or an https:// URL (Azure)."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 45
    error_message = "tags may have at most 45 entries (both clouds allow 50; the module adds its own)."
  }
}

variable "workers" {
  description = "How the consumers run. null: as functions (Lambda / the Function App), the default. Otherwise as containers of one image on both clouds (ECS Fargate services / Container Apps), each scaled on its queue's depth: cpu in vCPUs (2 GiB of memory each), the fewest and most workers per consumer, and the visible messages one worker is scaled for."
  type = object({
    image               = string
    cpu                 = number
    min_workers         = number
    max_workers         = number
    messages_per_worker = number
  })
  default = null

  validation {
    condition     = var.workers == null || can(regex("^[a-z0-9][a-z0-9._/:@-]{2,511}$", var.workers.image))
    error_message = "workers.image must be an image reference pinned to a tag or digest (registry/name:1.4.0 or registry/name@sha256:...)."
  }

  validation {
    condition     = var.workers == null || contains([0.25, 0.5, 1, 2, 4], var.workers.cpu)
    error_message = "workers.cpu must be 0.25, 0.5, 1, 2 or 4 (vCPUs, with 2 GiB of memory each: the sizes both Fargate and Container Apps run)."
  }

  validation {
    condition     = var.workers == null || (var.workers.min_workers >= 0 && var.workers.max_workers >= 1 && var.workers.max_workers <= 300 && var.workers.min_workers <= var.workers.max_workers && floor(var.workers.min_workers) == var.workers.min_workers && floor(var.workers.max_workers) == var.workers.max_workers)
    error_message = "workers.min_workers and max_workers must be whole numbers with 0 <= min_workers <= max_workers <= 300 and max_workers >= 1."
  }

  validation {
    condition     = var.workers == null || (var.workers.messages_per_worker >= 1 && var.workers.messages_per_worker <= 10000 && floor(var.workers.messages_per_worker) == var.workers.messages_per_worker)
    error_message = "workers.messages_per_worker must be a whole number from 1 to 10000."
  }
}

variable "network" {
  description = "The cell's own network for its container workers: a VPC id and the subnets the tasks run in (AWS, required with var.workers), or a virtual network id and the Container Apps environment's subnet (Azure, optional). null with function workers. A network serves one cell only: shared, one cell's workers could reach another's data stores."
  type = object({
    id         = string
    subnet_ids = list(string)
  })
  default = null

  validation {
    condition     = var.network == null || try(length(var.network.subnet_ids) >= 1, false)
    error_message = "network.subnet_ids must list at least one subnet."
  }
}

variable "observability" {
  description = "The one observability platform every cell reports to, or null for none: destination (otlp, datadog, newrelic or elastic); endpoint (otlp: the OTLP/HTTP base URL; elastic: the Elasticsearch URL); firehose_endpoint (otlp: the gateway's Firehose receiver, where AWS cells deliver); site (datadog: its site; newrelic: us or eu); the intake key as a reference, never a value: key_secret_arn (AWS Secrets Manager), key_vault_secret_id and key_vault_id (Azure Key Vault); metric_stream (AWS: this cell streams its region's metrics)."
  type = object({
    destination         = string
    endpoint            = string
    firehose_endpoint   = string
    site                = string
    key_secret_arn      = string
    key_vault_secret_id = string
    key_vault_id        = string
    metric_stream       = bool
  })
  default = null

  validation {
    condition     = var.observability == null || try(contains(["otlp", "datadog", "newrelic", "elastic"], var.observability.destination), false)
    error_message = "observability.destination must be otlp, datadog, newrelic or elastic."
  }
}
