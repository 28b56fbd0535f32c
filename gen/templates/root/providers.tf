# One AWS provider per region in use; each AWS cell's module gets its region's.
# for __aws_regions__
provider "aws" {
  alias  = "__alias__"
  region = "__region__"
}

# end __aws_regions__
# for __azure__
# Azure cells take their location as a module input.
provider "azurerm" {
  features {}
}

# end __azure__
# The edge (edge.tf). The token comes from CLOUDFLARE_API_TOKEN.
provider "cloudflare" {}

# The routing map lives in the Workers KV namespace the edge router reads.
# The token ("Workers KV Storage:Edit") comes from CLOUDFLARE_API_TOKEN.
provider "cellrouter" {
  cloudflare_kv {
    account_id   = var.cloudflare_account_id
    namespace_id = cloudflare_workers_kv_namespace.routing_map.id
  }
}
