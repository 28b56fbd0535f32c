# An entry already in the routing map is imported by its tenant id.
terraform import cellrouter_tenant.acme acme
