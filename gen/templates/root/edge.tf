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

# The router (edge/worker.js): X-Tenant-ID -> routing-map entry -> the cell's endpoint.
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
}

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
