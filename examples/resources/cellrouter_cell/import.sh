# A cell already in the routing map is imported by its cell id.
terraform import cellrouter_cell.alpha aws-alpha
