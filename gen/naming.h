/*
 * gen/naming.h — the names the modules give to cloud resources, and the
 * clouds' rules for them.
 *
 * The modules compute every resource name from a few inputs (system, cell
 * id, table, topic, consumer); the formulas live in the generated HCL. The
 * same formulas are repeated here so that cellgen can reject, at generation
 * time and with a line and column, a spec whose names a cloud would refuse
 * only at apply time (an Azure storage account name of 25 characters, a
 * Lambda function name of 65). Keep the two in step: the module templates
 * (gen/templates/modules/{aws,azure}_event_cell/main.tf) write the HCL side,
 * and the golden tests pin both.
 */
#ifndef CG_NAMING_H
#define CG_NAMING_H

#include "spec.h"

/* Checks every derived name of one cell; adds one diagnostic per broken
 * rule at (line, col). */
void cg_naming_check_cell(const cg_spec *s, const cg_cell *c, int line, int col, cg_diags *d);

/* The same for the names the container workers and the observability
 * pipeline add (when the spec asks for them). */
void cg_naming_check_ops(const cg_spec *s, const cg_cell *c, int line, int col, cg_diags *d);

/* Storage accounts cannot contain hyphens: "orders-eu-1" -> "orderseu1".
 * malloc'd. */
char *cg_naming_compact(const char *system, const char *cell_id);

#endif
