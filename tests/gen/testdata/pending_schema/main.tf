# demo_gadget and demo_thing.name_json are pending (pending.json): the live
# schema (schema.json) lacks them, so they are checked as pending.json says,
# and demo_thing may leave out `name`, which pending.json makes optional.

resource "demo_thing" "t" {
  name_json = "{}"
  size      = 2
}

resource "demo_gadget" "g" {
  colour = "red"
  shape  = "round"
}

output "serial" {
  value = [demo_gadget.g.serial, demo_thing.t.version, demo_gadget.g.weight]
}
