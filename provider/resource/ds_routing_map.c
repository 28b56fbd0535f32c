/*
 * resource/ds_routing_map.c — the `cellrouter_routing_map` data source:
 * every entry of the routing map, optionally filtered by the cell that
 * serves it and by a tenant-id prefix.
 *
 * `tenants` is a map keyed by tenant id, the same shape as the `tenants`
 * of a cellrouter_tenants resource, so `for` expressions read naturally:
 *
 *   data "cellrouter_routing_map" "failed" { cell_id = "aws-alpha" }
 *   { for id, t in data.cellrouter_routing_map.failed.tenants :
 *     id => t.standby_cell_id }
 *
 * (A resource fed from it should not manage the entries it reads: after
 * the apply the data source reads them moved. README shows the stable
 * failover, written from the configuration.)
 *
 * The cell filter matches the primary cell (`cell_id`) only: the tenants a
 * failed cell was serving. Labels are always a map (empty when none).
 *
 * `tenants_json` is the same entries as the tenants document (store.h),
 * what a cellrouter_tenants resource takes in `tenants_json` and `cellctl
 * export` prints: the data source, the resource and the tool speak one
 * document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource/entry_value.h"

static const cr_attr_schema rm_entry_attrs[] = {
    CR_EV_DS_ENTRY_ATTRS,
};

static const cr_schema rm_entry_schema = {
    .version = 0,
    .description = "One routing-map entry.",
    .nattrs = sizeof rm_entry_attrs / sizeof rm_entry_attrs[0],
    .attrs = rm_entry_attrs,
};

static const cr_attr_schema rm_attrs[] = {
    { .name = "id", .type = &cr_type_string, .flags = CR_ATTR_COMPUTED,
      .description = "The filters, as text (`*` when none)." },
    { .name = "cell_id", .type = &cr_type_string, .flags = CR_ATTR_OPTIONAL,
      .description = "Only tenants whose primary cell is this one." },
    { .name = "tenant_id_prefix", .type = &cr_type_string,
      .flags = CR_ATTR_OPTIONAL,
      .description = "Only tenants whose id starts with this prefix." },
    { .name = "tenants", .nested = &rm_entry_schema,
      .nested_mode = CR_NEST_MAP, .flags = CR_ATTR_COMPUTED,
      .description = "The matching entries, keyed by tenant id." },
    { .name = "tenants_json", .type = &cr_type_string,
      .flags = CR_ATTR_COMPUTED,
      .description = "The matching entries as one JSON document: an object "
                     "keyed by tenant id with the fields a configuration "
                     "sets (`cell_id`, `endpoint`, `standby_cell_id`, "
                     "`standby_endpoint`, `labels`), the form "
                     "`cellrouter_tenants.tenants_json` takes and `cellctl "
                     "export` prints." },
};

static const cr_schema rm_schema = {
    .version = 0,
    .description =
        "Reads the routing map: every entry, or those on one cell and/or "
        "with a tenant-id prefix, keyed by tenant id.",
    .nattrs = sizeof rm_attrs / sizeof rm_attrs[0],
    .attrs = rm_attrs,
};

static void rm_read(cr_provider_state *p, const cr_value *config,
                    cr_value **state, cr_diags *d)
{
    const cr_value *cv = cr_res_attr(config, "cell_id");
    const cr_value *pv = cr_res_attr(config, "tenant_id_prefix");
    const char *cell = cr_res_cstr(cv), *prefix = cr_res_cstr(pv);
    cr_entry_list all = {0};
    cr_store_err err = {0};

    /* Validated by the framework: no NUL in either filter. */
    *state = NULL;
    cr_store_rc rc = cr_store_list(p->store, prefix ? prefix : "", &all,
                                   &err);
    if (rc != CR_STORE_OK) {
        cr_res_store_error(d, rc, &err, "Could not read the routing map",
                           NULL);
        return;
    }

    const cr_type *t = cr_schema_type(&rm_schema);
    const cr_type *et = cr_schema_type(&rm_entry_schema);
    long ti = cr_type_attr_index(t, "tenants");
    cr_value *empty = cr_value_collection(&cr_ev_map_of_string);
    cr_value *m = ti >= 0 && empty ? cr_value_collection(t->attrs[ti].type)
                                   : NULL;
    cr_doc_writer *w = cr_doc_writer_new();
    if (!w) {
        cr_value_free(m);
        m = NULL;
    }
    /* The list is sorted by tenant id, so every put appends. */
    for (size_t i = 0; m && i < all.len; i++) {
        const cr_entry *e = &all.items[i];
        if (cell && strcmp(e->cell_id, cell) != 0)
            continue;
        cr_value *v = cr_value_object(et);
        if (!v || cr_ev_fill(v, e, empty) != 0 ||
            cr_doc_writer_add(w, e, 0) != 0) {
            cr_value_free(v);
            cr_value_free(m);
            m = NULL;
        } else if (cr_value_map_put(m, e->tenant_id, v) != 0) {
            cr_value_free(m);
            m = NULL;
        }
    }
    cr_entry_list_free(&all);
    cr_value_free(empty);
    size_t doc_len = 0;
    char *doc = m ? cr_doc_writer_finish(w, &doc_len) : NULL;
    if (!m)
        cr_doc_writer_free(w);
    cr_value *docv = doc ? cr_value_stringn(doc, doc_len) : NULL;
    free(doc);
    if (!docv) {
        cr_value_free(m);
        m = NULL;
    }

    char id[256];
    snprintf(id, sizeof id, "%s%.63s%s%.150s",
             cell ? "cell_id=" : "", cell ? cell : "",
             prefix && *prefix ? (cell ? ";tenant_id_prefix=" : "tenant_id_prefix=")
                               : "",
             prefix && *prefix ? prefix : "");
    cr_value *v = m ? cr_value_copy(config) : NULL;
    /* Each set adopts its value, even when it fails. */
    bool bad = !v;
    if (!bad) {
        bad = cr_res_set(v, "tenants", m) != 0;
        m = NULL;
    }
    if (!bad) {
        bad = cr_res_set(v, "tenants_json", docv) != 0;
        docv = NULL;
    }
    if (bad || cr_res_set_str(v, "id", id[0] ? id : "*")) {
        cr_value_free(m);
        cr_value_free(docv);
        cr_value_free(v);
        v = NULL;
        cr_diags_error(d, NULL, "Out of memory", "%s",
                       "The provider ran out of memory reading the routing "
                       "map.");
    }
    *state = v;
}

const cr_data_source_type cr_routing_map_data_source = {
    .type_name = "cellrouter_routing_map",
    .schema = &rm_schema,
    .validate_config = cr_ev_validate_filters,
    .read = rm_read,
};
