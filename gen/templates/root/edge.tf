# The edge: a Workers KV namespace holding the routing map (the cellrouter
# provider writes it, see providers.tf) and the router Worker that reads it.
variable "cloudflare_account_id" {
  description = "Cloudflare account for the routing map namespace and the edge router."
  type        = string
}

variable "edge_route" {
  description = "Where the edge router answers: a zone id and a route pattern such as \"api.example.com/*\". Null: only on the Worker's workers.dev address."
  type = object({
    zone_id = string
    pattern = string
  })
  default = null
}

resource "cloudflare_workers_kv_namespace" "routing_map" {
  account_id = var.cloudflare_account_id
  title      = "__system__-routing-map"
}

# The router's settings, from the spec's failover section (edge/wrangler.toml
# gives `wrangler dev` the same): how many failed and passed health checks in
# a row fail a cell over and restore it, a probe's timeout, the share of
# cells down at once beyond which the prober changes nothing (fail-static),
# and how long a router isolate reuses the cell states it read.
locals {
  edge_settings = {
    FAILOVER_AUTOMATIC             = "__failover_automatic__"
    FAILOVER_FAILURES              = "__failover_failures__"
    FAILOVER_SUCCESSES             = "__failover_successes__"
    FAILOVER_PROBE_TIMEOUT_SECONDS = "__failover_probe_timeout_seconds__"
    FAILOVER_MAX_DOWN_PERCENT      = "__failover_max_down_percent__"
    CELL_STATES_CACHE_SECONDS      = "__cell_states_cache_seconds__"
  }
}

# The router (edge/worker.js): X-Tenant-ID -> routing-map entry -> the cell's
# endpoint, or its standby's while the cell is failed (the cell states in
# the same namespace).
resource "cloudflare_worker_script" "edge_router" {
  account_id         = var.cloudflare_account_id
  name               = "__system__-edge-router"
  content            = file("${path.module}/edge/worker.js")
  module             = true
  compatibility_date = "2024-09-23"

  kv_namespace_binding {
    name         = "ROUTING_MAP"
    namespace_id = cloudflare_workers_kv_namespace.routing_map.id
  }

  dynamic "plain_text_binding" {
    for_each = local.edge_settings
    content {
      name = plain_text_binding.key
      text = plain_text_binding.value
    }
  }
}
# for __prober__

# The prober: on this schedule (UTC) the router's scheduled handler probes
# every cell's health URL and fails cells over and back (edge/worker.js).
resource "cloudflare_worker_cron_trigger" "edge_prober" {
  account_id  = var.cloudflare_account_id
  script_name = cloudflare_worker_script.edge_router.name
  schedules   = ["__schedule__"]
}
# end __prober__

resource "cloudflare_worker_route" "edge_router" {
  count = var.edge_route == null ? 0 : 1

  zone_id     = var.edge_route.zone_id
  pattern     = var.edge_route.pattern
  script_name = cloudflare_worker_script.edge_router.name
}

output "routing_map_namespace_id" {
  description = "The Workers KV namespace holding the routing map (cellctl, wrangler)."
  value       = cloudflare_workers_kv_namespace.routing_map.id
}
