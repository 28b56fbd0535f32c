/*
 * tests/unit/test_datasource.c — the data sources cellrouter_tenant,
 * cellrouter_routing_map and cellrouter_cells, through the tfplugin6 handlers
 * (ValidateDataResourceConfig, ReadDataSource) as Terraform calls them,
 * against a real SQLite routing map written the way cellctl writes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "resource/entry_value.h"
#include "rpc/internal.h"
#include "support/support.h"

/* ---- fixture ------------------------------------------------------------- */

/* A provider and a temporary directory for its map (tests/unit/support). */
typedef cr_test_pfx fixture;

static void put_entry(cr_store *s, const char *tid, const char *cell,
                      const char *sb_cell, const char *label_team,
                      const char *owner)
{
    cr_entry *e = cr_entry_new();
    cr_store_err err;
    assert_non_null(e);
    e->tenant_id = strdup(tid);
    e->cell_id = strdup(cell);
    e->endpoint = strdup("https://ingest.example.com/x");
    if (sb_cell) {
        e->standby_cell_id = strdup(sb_cell);
        e->standby_endpoint = strdup("https://standby.example.com/x");
    }
    if (label_team)
        assert_int_equal(cr_entry_set_label(e, "team", label_team), 0);
    if (owner)
        assert_int_equal(cr_entry_set_label(e, CR_OWNER_LABEL, owner), 0);
    assert_int_equal(cr_store_put(s, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_OK);
    cr_entry_free(e);
}

static int setup(void **state)
{
    fixture *fx = cr_test_pfx_new("ds");
    cr_store_err err;
    assert_int_equal(cr_store_sqlite_open(fx->tmp.db, &fx->p->state.store, &err),
                     CR_STORE_OK);
    cr_store *s = fx->p->state.store;
    put_entry(s, "acme", "aws-alpha", "azure-beta", "payments", "fleet");
    put_entry(s, "eu-globex", "aws-alpha", "azure-beta", NULL, NULL);
    put_entry(s, "eu-initech", "azure-beta", "aws-alpha", NULL, NULL);
    put_entry(s, "umbrella", "aws-gamma", NULL, NULL, NULL);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    cr_test_pfx_free(*state);
    return 0;
}

/* ---- calling the handlers ------------------------------------------------ */

static const cr_type *ds_type(const char *name)
{
    const cr_data_source_type *ds = cr_data_source_find(name);
    assert_non_null(ds);
    return cr_test_type(ds->schema);
}

/* A config of data source `name`: every attribute null but those given as
 * name/value pairs (a value "?" is unknown). */
static cr_value *ds_config(const char *name, ...)
{
    const cr_type *t = ds_type(name);
    cr_value *o = cr_value_object(t);
    va_list ap;
    assert_non_null(o);
    va_start(ap, name);
    for (const char *k; (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        cr_value *x = strcmp(v, "?") == 0 ? cr_value_unknown(&cr_type_string)
                                          : cr_value_string(v);
        assert_int_equal(cr_value_object_set(o, k, x), 0);
    }
    va_end(ap);
    return o;
}

typedef struct result {
    cr_value *state;        /* NULL when the response has none */
    Tfplugin6__ReadDataSource__Response *resp;
} result;

static result read_ds(fixture *fx, const char *name, const cr_value *config)
{
    Tfplugin6__ReadDataSource__Request req =
        TFPLUGIN6__READ_DATA_SOURCE__REQUEST__INIT;
    req.type_name = (char *)name;
    req.config = cr_test_dv(config);
    result r = { NULL, cr_test_invoke(fx->p, "ReadDataSource", &req.base) };
    cr_test_dv_free(req.config);
    if (r.resp->state) {
        r.state = cr_test_undv(r.resp->state, ds_type(name));
        assert_non_null(r.state);
    }
    return r;
}

static void result_free(result *r)
{
    cr_value_free(r->state);
    protobuf_c_message_free_unpacked(&r->resp->base, NULL);
}

static Tfplugin6__ValidateDataResourceConfig__Response *
validate_ds(fixture *fx, const char *name, const cr_value *config)
{
    Tfplugin6__ValidateDataResourceConfig__Request req =
        TFPLUGIN6__VALIDATE_DATA_RESOURCE_CONFIG__REQUEST__INIT;
    req.type_name = (char *)name;
    req.config = cr_test_dv(config);
    Tfplugin6__ValidateDataResourceConfig__Response *r =
        cr_test_invoke(fx->p, "ValidateDataResourceConfig", &req.base);
    cr_test_dv_free(req.config);
    return r;
}

/* The diagnostic's attribute path is exactly one attribute `name`. */
static void assert_diag_at(const Tfplugin6__Diagnostic *g, const char *name)
{
    assert_non_null(g->attribute);
    assert_int_equal(g->attribute->n_steps, 1);
    assert_string_equal(g->attribute->steps[0]->attribute_name, name);
}

/* ---- cellrouter_tenant --------------------------------------------------- */

static void test_tenant(void **state)
{
    fixture *fx = *state;
    cr_value *c = ds_config("cellrouter_tenant", "tenant_id", "acme", NULL);
    result r = read_ds(fx, "cellrouter_tenant", c);
    assert_int_equal(r.resp->n_diagnostics, 0);
    assert_string_equal(cr_value_get_str(r.state, "id"), "acme");
    assert_string_equal(cr_value_get_str(r.state, "cell_id"), "aws-alpha");
    assert_string_equal(cr_value_get_str(r.state, "standby_cell_id"),
                        "azure-beta");
    const cr_value *labels = cr_value_get(r.state, "labels");
    assert_int_equal(labels->kind, CR_MAP);
    assert_int_equal(labels->u.coll.len, 1);        /* owner tag hidden */
    assert_string_equal(cr_value_get_str(labels, "team"), "payments");
    assert_int_equal(cr_value_get(r.state, "version")->u.num.i, 1);
    result_free(&r);
    cr_value_free(c);

    /* No labels: an empty map, never null. */
    c = ds_config("cellrouter_tenant", "tenant_id", "umbrella", NULL);
    r = read_ds(fx, "cellrouter_tenant", c);
    labels = cr_value_get(r.state, "labels");
    assert_int_equal(labels->kind, CR_MAP);
    assert_int_equal(labels->u.coll.len, 0);
    assert_true(cr_value_is_null(cr_value_get(r.state, "standby_cell_id")));
    result_free(&r);
    cr_value_free(c);

    /* Missing: an error at tenant_id, no state. */
    c = ds_config("cellrouter_tenant", "tenant_id", "nobody", NULL);
    r = read_ds(fx, "cellrouter_tenant", c);
    assert_int_equal(r.resp->n_diagnostics, 1);
    assert_string_equal(r.resp->diagnostics[0]->summary, "Tenant not found");
    assert_diag_at(r.resp->diagnostics[0], "tenant_id");
    assert_null(r.state);
    result_free(&r);
    cr_value_free(c);

    /* Invalid id: refused by validation and by read alike. */
    c = ds_config("cellrouter_tenant", "tenant_id", "../etc", NULL);
    Tfplugin6__ValidateDataResourceConfig__Response *v =
        validate_ds(fx, "cellrouter_tenant", c);
    assert_int_equal(v->n_diagnostics, 1);
    assert_diag_at(v->diagnostics[0], "tenant_id");
    protobuf_c_message_free_unpacked(&v->base, NULL);
    r = read_ds(fx, "cellrouter_tenant", c);
    assert_int_equal(r.resp->n_diagnostics, 1);
    assert_null(r.state);
    result_free(&r);
    cr_value_free(c);
}

/* ---- cellrouter_routing_map ---------------------------------------------- */

static size_t ntenants(const cr_value *st)
{
    const cr_value *m = cr_value_get(st, "tenants");
    assert_int_equal(m->kind, CR_MAP);
    return m->u.coll.len;
}

static void test_routing_map_filters(void **state)
{
    fixture *fx = *state;
    cr_value *c = ds_config("cellrouter_routing_map", NULL);
    result r = read_ds(fx, "cellrouter_routing_map", c);
    assert_int_equal(r.resp->n_diagnostics, 0);
    assert_int_equal(ntenants(r.state), 4);
    assert_string_equal(cr_value_get_str(r.state, "id"), "*");
    const cr_value *t = cr_value_get(cr_value_get(r.state, "tenants"),
                                     "eu-initech");
    assert_string_equal(cr_value_get_str(t, "cell_id"), "azure-beta");
    assert_string_equal(cr_value_get_str(t, "standby_cell_id"), "aws-alpha");
    assert_int_equal(cr_value_get(t, "labels")->kind, CR_MAP);
    result_free(&r);
    cr_value_free(c);

    /* The tenants on a failed cell: primary cell only. */
    c = ds_config("cellrouter_routing_map", "cell_id", "aws-alpha", NULL);
    r = read_ds(fx, "cellrouter_routing_map", c);
    assert_int_equal(ntenants(r.state), 2);
    const cr_value *m = cr_value_get(r.state, "tenants");
    assert_non_null(cr_value_get(m, "acme"));
    assert_non_null(cr_value_get(m, "eu-globex"));
    assert_string_equal(cr_value_get_str(r.state, "cell_id"), "aws-alpha");
    assert_string_equal(cr_value_get_str(r.state, "id"), "cell_id=aws-alpha");
    result_free(&r);
    cr_value_free(c);

    c = ds_config("cellrouter_routing_map", "cell_id", "aws-alpha",
                  "tenant_id_prefix", "eu-", NULL);
    r = read_ds(fx, "cellrouter_routing_map", c);
    assert_int_equal(ntenants(r.state), 1);
    assert_non_null(cr_value_get(cr_value_get(r.state, "tenants"),
                                 "eu-globex"));
    result_free(&r);
    cr_value_free(c);

    c = ds_config("cellrouter_routing_map", "tenant_id_prefix", "eu-", NULL);
    r = read_ds(fx, "cellrouter_routing_map", c);
    assert_int_equal(ntenants(r.state), 2);
    result_free(&r);
    cr_value_free(c);

    /* Nothing matches: an empty map. */
    c = ds_config("cellrouter_routing_map", "cell_id", "nowhere", NULL);
    r = read_ds(fx, "cellrouter_routing_map", c);
    assert_int_equal(r.resp->n_diagnostics, 0);
    assert_int_equal(ntenants(r.state), 0);
    result_free(&r);
    cr_value_free(c);
}

static void test_routing_map_validation_and_unknowns(void **state)
{
    fixture *fx = *state;
    cr_value *c = ds_config("cellrouter_routing_map", "cell_id", "Bad_Cell",
                            "tenant_id_prefix", "-x", NULL);
    Tfplugin6__ValidateDataResourceConfig__Response *v =
        validate_ds(fx, "cellrouter_routing_map", c);
    assert_int_equal(v->n_diagnostics, 2);
    assert_diag_at(v->diagnostics[0], "cell_id");
    assert_diag_at(v->diagnostics[1], "tenant_id_prefix");
    protobuf_c_message_free_unpacked(&v->base, NULL);
    cr_value_free(c);

    /* A config not yet known: no error, the computed parts unknown. */
    c = ds_config("cellrouter_routing_map", "cell_id", "?", NULL);
    v = validate_ds(fx, "cellrouter_routing_map", c);
    assert_int_equal(v->n_diagnostics, 0);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    result r = read_ds(fx, "cellrouter_routing_map", c);
    assert_int_equal(r.resp->n_diagnostics, 0);
    assert_true(cr_value_is_unknown(cr_value_get(r.state, "tenants")));
    assert_true(cr_value_is_unknown(cr_value_get(r.state, "id")));
    assert_true(cr_value_is_null(cr_value_get(r.state, "tenant_id_prefix")));
    result_free(&r);
    cr_value_free(c);

    /* An unknown data source type. */
    c = ds_config("cellrouter_routing_map", NULL);
    r = read_ds(fx, "cellrouter_nope", c);
    assert_int_equal(r.resp->n_diagnostics, 1);
    assert_string_equal(r.resp->diagnostics[0]->summary,
                        "Unknown data source type");
    assert_null(r.resp->state);
    protobuf_c_message_free_unpacked(&r.resp->base, NULL);
    cr_value_free(c);
}

/* Without a store (provider configured with unknowns): a clear error. */
static void test_not_configured(void **state)
{
    fixture *fx = *state;
    cr_store *s = fx->p->state.store;
    fx->p->state.store = NULL;
    cr_value *c = ds_config("cellrouter_routing_map", NULL);
    result r = read_ds(fx, "cellrouter_routing_map", c);
    assert_int_equal(r.resp->n_diagnostics, 1);
    assert_string_equal(r.resp->diagnostics[0]->summary,
                        "Provider not configured");
    assert_null(r.state);
    result_free(&r);
    cr_value_free(c);
    fx->p->state.store = s;
}

/* ---- cellrouter_cells ------------------------------------------------------ */

static void put_cell(cr_store *s, const char *id, const char *cloud)
{
    cr_cell c = {0};
    cr_store_err err;
    c.cell_id = (char *)id;
    c.endpoint = (char *)"https://cell.example.com/ingest";
    if (cloud)
        assert_int_equal(cr_cell_set_label(&c, "cloud", cloud), 0);
    assert_int_equal(cr_store_cell_put(s, &c, CR_VERSION_ABSENT, NULL, &err),
                     CR_STORE_OK);
    c.cell_id = c.endpoint = NULL;
    cr_cell_clear(&c);
}

/* A map of the labels given as key/value pairs (NULL-terminated). */
static cr_value *labels_map(const char *k, ...)
{
    cr_value *m = cr_value_collection(&cr_ev_map_of_string);
    va_list ap;
    va_start(ap, k);
    for (; k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        assert_int_equal(cr_value_map_put(m, k, strcmp(v, "?") == 0
                                          ? cr_value_unknown(&cr_type_string)
                                          : cr_value_string(v)), 0);
    }
    va_end(ap);
    return m;
}

static void test_cells(void **state)
{
    fixture *fx = *state;
    cr_store *s = fx->p->state.store;
    cr_store_err err;
    put_cell(s, "aws-alpha", "aws");
    put_cell(s, "aws-gamma", "aws");
    put_cell(s, "azure-beta", NULL);
    cr_cell_state failed = { .state = CR_CELL_FAILED, .pinned = true,
                             .reason = (char *)"HTTP 503",
                             .changed_by = (char *)"automation" };
    assert_int_equal(cr_store_cell_set_state(s, "aws-gamma", &failed, 0, NULL,
                                             &err), CR_STORE_OK);

    /* Every cell, with its serving state; labels always a map. */
    cr_value *c = ds_config("cellrouter_cells", NULL);
    result r = read_ds(fx, "cellrouter_cells", c);
    assert_int_equal(r.resp->n_diagnostics, 0);
    assert_string_equal(cr_value_get_str(r.state, "id"), "*");
    const cr_value *cells = cr_value_get(r.state, "cells");
    assert_int_equal(cells->u.coll.len, 3);
    const cr_value *b = cr_value_get(cells, "azure-beta");
    assert_string_equal(cr_value_get_str(b, "serving_state"), "serving");
    assert_int_equal(cr_value_get(b, "labels")->kind, CR_MAP);
    assert_int_equal(cr_value_get(b, "labels")->u.coll.len, 0);
    assert_true(cr_value_is_null(cr_value_get(b, "state_changed_by")));
    const cr_value *g = cr_value_get(cells, "aws-gamma");
    assert_string_equal(cr_value_get_str(g, "serving_state"), "failed");
    assert_string_equal(cr_value_get_str(g, "state_reason"), "HTTP 503");
    assert_string_equal(cr_value_get_str(g, "state_changed_by"),
                        "automation");
    assert_true(cr_value_get(g, "pinned")->u.b);
    assert_int_equal(cr_value_get(g, "version")->u.num.i, 1);
    result_free(&r);

    /* Only the cells with every label of the filter. */
    cr_value_object_set(c, "labels", labels_map("cloud", "aws", NULL));
    r = read_ds(fx, "cellrouter_cells", c);
    assert_int_equal(r.resp->n_diagnostics, 0);
    assert_string_equal(cr_value_get_str(r.state, "id"), "cloud=aws");
    cells = cr_value_get(r.state, "cells");
    assert_int_equal(cells->u.coll.len, 2);
    assert_non_null(cr_value_get(cells, "aws-alpha"));
    assert_null(cr_value_get(cells, "azure-beta"));
    result_free(&r);
    cr_value_object_set(c, "labels", labels_map("cloud", "aws", "tier",
                                                "gold", NULL));
    r = read_ds(fx, "cellrouter_cells", c);
    assert_int_equal(cr_value_get(r.state, "cells")->u.coll.len, 0);
    result_free(&r);

    /* A bad filter label: refused by validation, at its path; an unknown
     * value is no error. */
    cr_value_object_set(c, "labels", labels_map("cloud", "a\nb", NULL));
    Tfplugin6__ValidateDataResourceConfig__Response *v =
        validate_ds(fx, "cellrouter_cells", c);
    assert_int_equal(v->n_diagnostics, 1);
    assert_string_equal(v->diagnostics[0]->summary, "Invalid label");
    protobuf_c_message_free_unpacked(&v->base, NULL);
    cr_value_object_set(c, "labels", labels_map("cloud", "?", NULL));
    v = validate_ds(fx, "cellrouter_cells", c);
    assert_int_equal(v->n_diagnostics, 0);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    cr_value_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routing_map_filters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_routing_map_validation_and_unknowns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_configured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cells, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
