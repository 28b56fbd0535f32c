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
  # for __container__
  # The consumers run as containers of one image on both clouds.
  workers = {
    image               = "__image__"
    cpu                 = __cpu__
    min_workers         = __min_workers__
    max_workers         = __max_workers__
    messages_per_worker = __messages_per_worker__
  }
  # end __container__
  # for __observability__
  # The one observability platform of every cell; the key is a reference.
  observability = {
    destination         = "__destination__"
    endpoint            = __endpoint__
    firehose_endpoint   = __firehose_endpoint__
    site                = __site__
    key_secret_arn      = __key_secret_arn__
    key_vault_secret_id = __key_vault_secret_id__
    key_vault_id        = __key_vault_id__
  }
  # end __observability__
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
  # for __container__
  workers = local.workers
  # end __container__
  # for __network__
  network = {
    id         = "__network_id__"
    subnet_ids = __subnet_ids__
  }
  # end __network__
  # for __observability__
  observability = merge(local.observability, { metric_stream = __metric_stream__ })
  # end __observability__
}
# end __cells__
