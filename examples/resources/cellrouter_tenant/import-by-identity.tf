import {
  to       = cellrouter_tenant.acme
  identity = { tenant_id = "acme" }
}
