# Entries already in the routing map are imported by a list of tenant ids or
# by a prefix, after the resource's name and a slash.
terraform import cellrouter_tenants.fleet 'fleet-eu/acme,globex'
terraform import cellrouter_tenants.fleet 'fleet-eu/prefix:eu-'
# For a resource whose configuration sets tenants_json, put that first: the
# state then holds the document (an empty name takes the entries' tag).
terraform import cellrouter_tenants.fleet 'tenants_json/fleet-eu/prefix:eu-'
