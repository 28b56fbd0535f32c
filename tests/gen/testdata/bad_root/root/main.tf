module "alpha" {
  source = "../cell"

  tag = {}
}

module "beta" {
  source = "../cell"
  count  = 2

  cell_id = "beta-${count.index}"
}

module "gone" {
  source = "../nowhere"
}

resource "cellrouter_tenant" "acme" {
  tenant_id = "acme"
  endpoint  = module.alpha.ingest_ur
  standby   = module.beta.ingest_url
  other     = module.gamma.ingest_url
  fine      = module.beta[0].ingest_url
}
