/*
 * resource/cell_value.h — cells (store.h, "cells") <-> resource values,
 * shared by the cellrouter_cell resource (cell.c) and the cellrouter_cells
 * data source (ds_cells.c), so both show a cell, and its serving state,
 * in exactly the same attributes.
 *
 * A "cell object" is any object value with some of the attributes id,
 * cell_id, endpoint, health_url, labels, version, updated_at and the
 * serving-state attributes below: the conversions fill in the attributes
 * the object's type has and leave the others alone.
 */
#ifndef CR_RESOURCE_CELL_VALUE_H
#define CR_RESOURCE_CELL_VALUE_H

#include "resource/entry_value.h"
#include "resource/resource.h"

/* The serving state, read-only everywhere (operators and automation own
 * it): initialisers of cr_attr_schema, `f` their flags: CR_ATTR_COMPUTED, for
 * the resource with CR_ATTR_USE_STATE. */
#define CR_CV_SERVING_ATTRS(f)                                            \
    { .name = "serving_state", .type = &cr_type_string, .flags = (f),     \
      .description =                                                          \
          "Whether the cell takes traffic: `serving` or `failed`. Set by "    \
          "operators (`cellctl cell fail` / `restore`) and by the edge's "    \
          "health prober, never by Terraform: a change made there shows up "  \
          "here on refresh and is never planned away or reverted. A cell "    \
          "nobody has changed is `serving`." },                               \
    { .name = "state_reason", .type = &cr_type_string, .flags = (f),      \
      .description = "Why the serving state was last changed (empty when "    \
                     "no reason was given)." },                               \
    { .name = "state_changed_at", .type = &cr_type_string,                    \
      .flags = (f),                                                       \
      .description = "When the serving state or the pin was last changed, "   \
                     "in RFC 3339 (UTC); null when never." },                 \
    { .name = "state_changed_by", .type = &cr_type_string,                    \
      .flags = (f),                                                       \
      .description = "Who changed it last: `automation` (the health "         \
                     "prober) or `operator:<name>`; null when never." },      \
    { .name = "pinned", .type = &cr_type_bool, .flags = (f),              \
      .description = "An operator's pin (`cellctl cell pin`): while true, "   \
                     "the health prober leaves the serving state alone." }

/* Sets every attribute of `obj` that its type has from `c` (id and
 * cell_id get the cell id; labels are null or a map, as stored). 0, or -1
 * on allocation failure. */
int cr_cv_fill(cr_value *obj, const cr_cell *c);
/* Only the serving-state attributes. */
int cr_cv_fill_serving(cr_value *obj, const cr_cell_state *st);

/* The definition a cell object asks for (cell_id, endpoint, health_url,
 * labels), all known. 0, or -1 with a diagnostic (c cleared). */
int cr_cv_to_cell(const cr_value *obj, cr_cell *c, cr_diags *d);

/* Validates the user attributes of a configured cell object (unknowns
 * allowed, never an error): the store's rules, with attribute paths. */
void cr_cv_validate(const cr_value *obj, cr_diags *d);

#endif
