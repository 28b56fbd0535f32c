/*
 * resource/ds_cells.c — the `cellrouter_cells` data source: every cell of
 * the routing map with its definition and its serving state, optionally
 * only those carrying given labels.
 *
 * `cells` is a map keyed by cell id, like the `tenants` of
 * cellrouter_routing_map, so that expressions read naturally:
 *
 *   data "cellrouter_cells" "aws" { labels = { cloud = "aws" } }
 *   [for id, c in data.cellrouter_cells.aws.cells : id
 *    if c.serving_state == "failed"]
 *
 * One store read answers it (on Workers KV: one listing page per 1,000
 * cells and one read of the serving-state document). Labels are always a
 * map here (empty when none).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource/cell_value.h"

static const cr_attr_schema cells_elem_attrs[] = {
    { .name = "endpoint", .type = &cr_type_string, .flags = CR_ATTR_COMPUTED,
      .description = "The cell's ingest URL." },
    { .name = "health_url", .type = &cr_type_string,
      .flags = CR_ATTR_COMPUTED,
      .description = "The URL its health is probed at, or null." },
    { .name = "labels", .type = &cr_ev_map_of_string,
      .flags = CR_ATTR_COMPUTED,
      .description = "The cell's labels (an empty map when none)." },
    { .name = "version", .type = &cr_type_number, .flags = CR_ATTR_COMPUTED,
      .description = "The definition's generation number." },
    { .name = "updated_at", .type = &cr_type_string,
      .flags = CR_ATTR_COMPUTED,
      .description = "When the definition was last written (RFC 3339, "
                     "UTC)." },
    CR_CV_SERVING_ATTRS(CR_ATTR_COMPUTED),
};

static const cr_schema cells_elem_schema = {
    .version = 0,
    .description = "One cell.",
    .nattrs = sizeof cells_elem_attrs / sizeof cells_elem_attrs[0],
    .attrs = cells_elem_attrs,
};

static const cr_attr_schema cells_attrs[] = {
    { .name = "id", .type = &cr_type_string, .flags = CR_ATTR_COMPUTED,
      .description = "The filter, as text (`*` when none)." },
    { .name = "labels", .type = &cr_ev_map_of_string,
      .flags = CR_ATTR_OPTIONAL,
      .description = "Only cells that carry every one of these labels with "
                     "this value." },
    { .name = "cells", .nested = &cells_elem_schema,
      .nested_mode = CR_NEST_MAP, .flags = CR_ATTR_COMPUTED,
      .description = "The matching cells, keyed by cell id, each with its "
                     "serving state." },
};

static const cr_schema cells_schema = {
    .version = 0,
    .description =
        "Reads the cells of the routing map: each one's definition (what "
        "`cellrouter_cell` manages) and its serving state (what operators "
        "and the edge's health prober set), optionally only the cells "
        "carrying given labels.",
    .nattrs = sizeof cells_attrs / sizeof cells_attrs[0],
    .attrs = cells_attrs,
};

static void cells_validate(const cr_value *config, cr_diags *d)
{
    cr_ev_validate_labels(cr_res_attr(config, "labels"), NULL, false, d);
}

/* Whether the cell carries every label of the filter (NULL: no filter). */
static bool matches(const cr_cell *c, const cr_value *filter)
{
    for (size_t i = 0; filter && i < filter->u.coll.len; i++) {
        const char *have = cr_cell_label(c, filter->u.coll.keys[i]);
        if (!have || strcmp(have, cr_res_cstr(filter->u.coll.items[i])) != 0)
            return false;
    }
    return true;
}

/* The filter as the data source's id: "*", or "cloud=aws,tier=gold"
 * (keys in order, cut at 200 bytes). */
static void filter_id(const cr_value *filter, char *buf, size_t cap)
{
    size_t used = 0;
    snprintf(buf, cap, "*");
    for (size_t i = 0; filter && i < filter->u.coll.len; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s=%s", i ? "," : "",
                         filter->u.coll.keys[i],
                         cr_res_cstr(filter->u.coll.items[i]));
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
    }
}

static void cells_read(cr_provider_state *p, const cr_value *config,
                       cr_value **state, cr_diags *d)
{
    const cr_value *filter = cr_res_attr(config, "labels");
    cr_cell_list all = {0};
    cr_store_err err = {0};

    *state = NULL;
    if (cr_res_is_null(filter))
        filter = NULL;
    cr_store_rc rc = cr_store_cell_list(p->store, &all, &err);
    if (rc != CR_STORE_OK) {
        cr_res_store_error(d, rc, &err, "Could not read the cells", NULL);
        return;
    }
    const cr_type *t = cr_schema_type(&cells_schema);
    const cr_type *et = cr_schema_type(&cells_elem_schema);
    long ci = cr_type_attr_index(t, "cells");
    cr_value *m = ci >= 0 ? cr_value_collection(t->attrs[ci].type) : NULL;
    /* The list is sorted by cell id, so every put appends. */
    for (size_t i = 0; m && i < all.len; i++) {
        const cr_cell *c = &all.items[i];
        if (!matches(c, filter))
            continue;
        cr_value *v = cr_value_object(et);
        bool ok = v && cr_cv_fill(v, c) == 0;
        if (ok && cr_value_is_null(cr_value_get(v, "labels")))
            ok = cr_res_set(v, "labels",
                            cr_value_collection(&cr_ev_map_of_string)) == 0;
        if (!ok) {
            cr_value_free(v);
            v = NULL;
        }
        /* The map owns v from here, even when the put fails. */
        if (!v || cr_value_map_put(m, c->cell_id, v) != 0) {
            cr_value_free(m);
            m = NULL;
        }
    }
    cr_cell_list_free(&all);

    char id[256];
    filter_id(filter, id, sizeof id);
    cr_value *v = m ? cr_value_copy(config) : NULL;
    if (!v || cr_res_set(v, "cells", m) || cr_res_set_str(v, "id", id)) {
        if (!v)
            cr_value_free(m);
        cr_value_free(v);
        v = NULL;
        cr_diags_error(d, NULL, "Out of memory", "%s",
                       "The provider ran out of memory reading the cells.");
    }
    *state = v;
}

const cr_data_source_type cr_cells_data_source = {
    .type_name = "cellrouter_cells",
    .schema = &cells_schema,
    .validate_config = cells_validate,
    .read = cells_read,
};
