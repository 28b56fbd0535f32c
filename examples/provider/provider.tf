terraform {
  required_providers {
    cellrouter = {
      source  = "cellrouter/cellrouter"
      version = "~> 0.1"
    }
  }
}

# The routing map in a SQLite file (the default store).
provider "cellrouter" {
  path = "routing.db"
}

# Or in the Cloudflare Workers KV namespace the edge router reads, with the
# API token in CLOUDFLARE_API_TOKEN:
#
# provider "cellrouter" {
#   cloudflare_kv {
#     account_id   = var.cloudflare_account_id
#     namespace_id = cloudflare_workers_kv_namespace.routing_map.id
#   }
# }
