# The demo provider's schema comes from schema.json (Terraform's
# `providers schema -json` format), the way cellrouter's comes from tfcore.

provider "demo" {
  path = "x.db"
  port = 1
}

resource "demo_thing" "ok" {
  name = "a"

  rule {
    action = "allow"
  }
}

resource "demo_thing" "bad" {
  size    = "big"
  version = 3

  rule {
    action = "allow"
  }
  rule {
    action = "deny"
  }
  rule {
    verb = "deny"
  }
}

resource "demo_gadget" "g" {}

output "v" {
  value = demo_thing.ok.versoin
}

output "fine" {
  value = [demo_thing.ok.version, demo_thing.ok.rule[0].action, demo_thing.ok.labels.k]
}
