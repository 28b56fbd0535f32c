import {
  to       = cellrouter_cell.alpha
  identity = { cell_id = "aws-alpha" }
}
