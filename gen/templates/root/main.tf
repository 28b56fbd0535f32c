# The pipeline every cell runs, from the spec.
locals {
  system            = "__system__"
  table_name        = "__table_name__"
  partition_key     = "__partition_key__"
  topic_name        = "__topic_name__"
  ingest_handler    = "__ingest_handler__"
  forwarder_handler = "__forwarder_handler__"
  consumers = {
    # for __consumers__
    __name__ = {
      handler           = "__handler__"
      batch_size        = __batch_size__
      timeout_seconds   = __timeout_seconds__
      max_retries       = __max_retries__
      retention_seconds = __retention_seconds__
    }
    # end __consumers__
  }
  runtime = {
    language  = "__language__"
    version   = "__runtime_version__"
    memory_mb = __memory_mb__
  }
  packages = __packages__
}

# for __cells__
module "__ident__" {
  source = "__modules_dir__/__module__"
  # for __aws__
  providers = {
    aws = aws.__region_alias__
  }
  # end __aws__

  system            = local.system
  cell_id           = "__id__"
  location          = "__region__"
  table_name        = local.table_name
  partition_key     = local.partition_key
  topic_name        = local.topic_name
  consumers         = local.consumers
  runtime           = local.runtime
  ingest_handler    = local.ingest_handler
  forwarder_handler = local.forwarder_handler
  package_uri       = local.packages.__cloud__
  tags              = __tags__
}

# end __cells__
# Where each cell accepts events: the routing map's endpoints.
locals {
  cell_endpoints = {
    # for __cells__
    "__id__" = module.__ident__.ingest_url
    # end __cells__
  }
}
