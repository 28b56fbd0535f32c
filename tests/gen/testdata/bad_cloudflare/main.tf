terraform {
  required_providers {
    cloudflare = {
      source  = "hashicorp/cloudflare"
      version = "~> 5.0"
    }
  }
}

provider "cloudflare" {
  api_tokn = "x"
}

variable "account_id" {
  type = string
}

resource "cloudflare_workers_kv_namespace" "map" {
  account_id = var.account_id
}

resource "cloudflare_worker_script" "router" {
  account_id = var.account_id
  name       = "router"
  content    = "export default {}"
  module     = "yes please"

  kv_namespace_binding = {
    name         = "MAP"
    namespace_id = cloudflare_workers_kv_namespace.map.id
  }
}

resource "cloudflare_worker_route" "route" {
  zone_id     = "z"
  pattern     = "example.com/*"
  script_name = cloudflare_worker_script.router.nmae
}

resource "cloudflare_worker_cron" "nightly" {
  script_name = cloudflare_worker_script.router.name
}
