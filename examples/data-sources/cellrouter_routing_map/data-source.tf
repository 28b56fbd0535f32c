variable "failed_cell" {
  type    = string
  default = "aws-alpha"
}

# Every tenant the failed cell serves as its primary.
data "cellrouter_routing_map" "on_failed" {
  cell_id = var.failed_cell
}

output "tenants_to_move" {
  value = { for id, t in data.cellrouter_routing_map.on_failed.tenants : id => t.standby_cell_id }
}
