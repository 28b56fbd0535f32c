# The global routing map as Terraform manages it: one cellrouter_tenant per
# tenant, placed on a primary cell with a standby cell for disaster recovery.
#
# Failing a tenant over is an ordinary plan and apply:
#
#   terraform apply -var failed_over=acme
#
# moves "acme" to its standby cell in place (its primary becomes the standby),
# and `terraform apply` without the variable moves it back.

terraform {
  required_providers {
    cellrouter = {
      source = "cellrouter/cellrouter"
    }
  }
}

provider "cellrouter" {
  path = var.routing_map_path
}

variable "routing_map_path" {
  description = "The SQLite file that holds the routing map."
  type        = string
  default     = "routing.db"
}

variable "failed_over" {
  description = "Tenant id to serve from its standby cell (empty: none)."
  type        = string
  default     = ""
}

locals {
  # Ingest endpoint of every cell (in a real deployment: the cells' module
  # outputs, see examples/multicloud).
  cell_endpoints = {
    "aws-alpha"   = "https://alpha.cells.example.com/ingest"
    "azure-beta"  = "https://beta.cells.example.com/api/ingest"
    "azure-gamma" = "https://gamma.cells.example.com/api/ingest"
  }

  tenants = {
    acme = {
      cell    = "aws-alpha"
      standby = "azure-beta"
      tier    = "gold"
    }
    globex = {
      cell    = "azure-beta"
      standby = "azure-gamma"
      tier    = "silver"
    }
    initech = {
      cell    = "azure-gamma"
      standby = "aws-alpha"
      tier    = "gold"
    }
    umbrella = {
      cell    = "aws-alpha"
      standby = "azure-gamma"
      tier    = "bronze"
    }
  }
}

resource "cellrouter_tenant" "this" {
  for_each = local.tenants

  tenant_id = each.key
  cell_id   = each.key == var.failed_over ? each.value.standby : each.value.cell
  endpoint  = local.cell_endpoints[each.key == var.failed_over ? each.value.standby : each.value.cell]

  standby_cell_id  = each.key == var.failed_over ? each.value.cell : each.value.standby
  standby_endpoint = local.cell_endpoints[each.key == var.failed_over ? each.value.cell : each.value.standby]

  labels = {
    tier = each.value.tier
  }
}
