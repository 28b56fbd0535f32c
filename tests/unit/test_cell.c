/*
 * tests/unit/test_cell.c — the cellrouter_cell resource against a real
 * SQLite routing map in a temporary directory, playing Terraform's part
 * (tests/unit/support): validation with attribute paths; plans in which the
 * serving state is never unknown and never a change, whatever operators do
 * to it; applies that keep every planned value and never write it; destroy
 * refused while tenants name the cell; conflicts; import.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "resource/resource.h"
#include "support/support.h"

typedef cr_test_rfx fixture;

static const cr_resource_type *R;

static int setup(void **state)
{
    fixture *fx = cr_test_rfx_new("cell", "cellrouter_cell");
    R = fx->type;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    cr_test_rfx_free(*state);
    return 0;
}

#define EP_A   "https://alpha.cells.example.com/ingest"
#define EP_A2  "https://alpha-2.cells.example.com/ingest"
#define HEALTH "https://alpha.cells.example.com/healthz"

static const cr_type *T(void)
{
    return cr_test_type(R->schema);
}

static cr_value *config(const char *id, const char *ep, const char *health)
{
    cr_value *o = cr_value_object(T());
    assert_non_null(o);
    cr_test_set_str(o, "cell_id", id);
    cr_test_set_str(o, "endpoint", ep);
    cr_test_set_str(o, "health_url", health);
    return o;
}

static void set_labels(cr_value *o, const char *k, const char *v)
{
    cr_value *m = cr_value_collection(cr_test_attr_type(T(), "labels"));
    assert_non_null(m);
    if (k)
        assert_int_equal(cr_value_map_put(m, k, v ? cr_value_string(v)
                                          : cr_value_null(&cr_type_string)),
                         0);
    cr_test_set(o, "labels", m);
}

static const char *str(const cr_value *o, const char *name)
{
    return cr_value_get_str(o, name);
}

static bool is_unknown(const cr_value *o, const char *name)
{
    const cr_value *v = cr_value_get(o, name);
    return v && cr_value_is_unknown(v);
}

static bool is_null(const cr_value *o, const char *name)
{
    const cr_value *v = cr_value_get(o, name);
    return v && cr_value_is_null(v);
}

static int64_t num(const cr_value *o, const char *name)
{
    const cr_value *v = cr_value_get(o, name);
    assert_non_null(v);
    assert_int_equal(v->kind, CR_NUMBER);
    return v->u.num.i;
}

static bool pinned(const cr_value *o)
{
    const cr_value *v = cr_value_get(o, "pinned");
    assert_non_null(v);
    assert_int_equal(v->kind, CR_BOOL);
    return v->u.b;
}

/* An operator's write of the serving state, as cellctl makes it. */
static void oob_state(fixture *fx, const char *id, cr_cell_serving st,
                      bool pin, const char *reason)
{
    cr_cell *c = NULL;
    cr_store_err err;
    assert_int_equal(cr_store_cell_get(fx->oob, id, &c, &err), CR_STORE_OK);
    assert_non_null(c);
    cr_cell_state in = { .state = st, .pinned = pin, .reason = (char *)reason,
                         .changed_by = (char *)"operator:alice" };
    assert_int_equal(cr_store_cell_set_state(fx->oob, id, &in,
                                             c->serving.version, NULL, &err),
                     CR_STORE_OK);
    cr_cell_free(c);
}

static cr_value *refresh(fixture *fx, const cr_value *state)
{
    cr_diags d = CR_DIAGS_INIT;
    cr_value *s = NULL;
    cr_test_read(R, &fx->p, state, &s, &d);
    cr_test_print_diags(&d);
    assert_int_equal(cr_test_errors(&d), 0);
    cr_diags_free(&d);
    return s;
}

static void put_tenant(fixture *fx, const char *id, const char *cell,
                       const char *standby)
{
    cr_entry e = {0};
    cr_store_err err;
    e.tenant_id = (char *)id;
    e.cell_id = (char *)cell;
    e.endpoint = (char *)EP_A;
    e.standby_cell_id = (char *)standby;
    e.standby_endpoint = standby ? (char *)EP_A2 : NULL;
    assert_int_equal(cr_store_put(fx->oob, &e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_OK);
}

/* ---- validate -------------------------------------------------------------- */

static void test_validate(void **state)
{
    (void)state;
    cr_diags d = CR_DIAGS_INIT;
    cr_value *c = config("aws-alpha", EP_A, HEALTH);
    set_labels(c, "cloud", "aws");
    cr_resource_validate(R, c, &d);
    assert_int_equal(d.len, 0);
    cr_value_free(c);

    c = config("Alpha_Cell", "alpha.example.com", "ftp://x/healthz");
    set_labels(c, "ok", "a\tb");
    cr_resource_validate(R, c, &d);
    assert_true(cr_test_diag_at(&d, "cell_id"));
    assert_true(cr_test_diag_at(&d, "endpoint"));
    assert_true(cr_test_diag_at(&d, "health_url"));
    assert_true(cr_test_diag_at(&d, "labels[\"ok\"]"));
    cr_test_assert_contains(cr_test_find_diag(&d, "Invalid health_url")
                                ->detail, "health_url must be an absolute URL");
    assert_int_equal(d.len, 4);
    cr_diags_free(&d);
    cr_value_free(c);

    /* Unknowns are never an error; the serving state is not the user's. */
    c = config(NULL, NULL, NULL);
    cr_test_set(c, "cell_id", cr_value_unknown(&cr_type_string));
    cr_test_set(c, "endpoint", cr_value_unknown(&cr_type_string));
    cr_test_set(c, "health_url", cr_value_unknown(&cr_type_string));
    cr_resource_validate(R, c, &d);
    assert_int_equal(d.len, 0);
    cr_test_set_str(c, "serving_state", "failed");
    cr_resource_validate(R, c, &d);
    assert_true(cr_test_diag_at(&d, "serving_state"));
    cr_test_find_diag(&d, "Invalid Configuration for Read-Only Attribute");
    cr_diags_free(&d);
    cr_value_free(c);
}

/* ---- create, refresh, and operators' changes ------------------------------- */

static void test_create_and_noop(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("aws-alpha", EP_A, HEALTH);
    set_labels(c, "cloud", "aws");
    cr_plan_resp r;
    cr_test_plan(fx, NULL, c, &r);
    assert_int_equal(cr_test_errors(&r.diags), 0);
    assert_string_equal(str(r.planned, "id"), "aws-alpha");
    assert_true(is_unknown(r.planned, "serving_state"));
    assert_true(is_unknown(r.planned, "version"));
    cr_plan_resp_free(&r);

    cr_value *s = cr_test_converge(fx, NULL, c);
    assert_int_equal(num(s, "version"), 1);
    assert_string_equal(str(s, "serving_state"), "serving");
    assert_string_equal(str(s, "state_reason"), "");
    assert_true(is_null(s, "state_changed_at"));
    assert_true(is_null(s, "state_changed_by"));
    assert_false(pinned(s));
    assert_string_equal(str(s, "health_url"), HEALTH);

    /* What read says is what apply said: no drift, no change. */
    cr_value *rs = refresh(fx, s);
    assert_true(cr_value_equal(rs, s));
    cr_test_plan(fx, rs, c, &r);
    assert_int_equal(cr_test_errors(&r.diags), 0);
    assert_true(cr_value_equal(r.planned, rs));
    cr_plan_resp_free(&r);
    cr_value_free(rs);
    cr_value_free(s);
    cr_value_free(c);
}

/* An operator fails the cell over: the refresh shows it, the plan carries
 * it unchanged (no planned change), and an apply of another change keeps
 * it, in the state and in the map. */
static void test_operator_failover_is_not_drift(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("aws-alpha", EP_A, HEALTH);
    cr_value *s = cr_test_converge(fx, NULL, c);
    oob_state(fx, "aws-alpha", CR_CELL_FAILED, true, "ingest answers 503");

    cr_value *rs = refresh(fx, s);
    assert_string_equal(str(rs, "serving_state"), "failed");
    assert_string_equal(str(rs, "state_reason"), "ingest answers 503");
    assert_string_equal(str(rs, "state_changed_by"), "operator:alice");
    assert_non_null(str(rs, "state_changed_at"));
    assert_true(pinned(rs));
    assert_int_equal(num(rs, "version"), 1);    /* the definition: same */
    cr_plan_resp r;
    cr_test_plan(fx, rs, c, &r);
    assert_int_equal(cr_test_errors(&r.diags), 0);
    assert_true(cr_value_equal(r.planned, rs));
    cr_plan_resp_free(&r);

    /* A definition change: the serving state planned as refreshed. */
    cr_value *c2 = config("aws-alpha", EP_A2, HEALTH);
    cr_test_plan(fx, rs, c2, &r);
    assert_int_equal(cr_test_errors(&r.diags), 0);
    assert_true(is_unknown(r.planned, "version"));
    assert_string_equal(str(r.planned, "serving_state"), "failed");
    assert_false(is_unknown(r.planned, "state_changed_at"));
    assert_true(pinned(r.planned));
    cr_plan_resp_free(&r);
    cr_value *s2 = cr_test_converge(fx, rs, c2);
    assert_string_equal(str(s2, "endpoint"), EP_A2);
    assert_string_equal(str(s2, "serving_state"), "failed");
    assert_int_equal(num(s2, "version"), 2);
    cr_cell *got = NULL;
    cr_store_err err;
    assert_int_equal(cr_store_cell_get(fx->oob, "aws-alpha", &got, &err),
                     CR_STORE_OK);
    assert_int_equal(got->serving.state, CR_CELL_FAILED);
    assert_int_equal(got->serving.version, 1);  /* never written by apply */
    cr_cell_free(got);

    /* Null serving values (never changed) stay null through a change:
     * never planned unknown. */
    cr_value *c3 = config("azure-beta", EP_A, NULL);
    cr_value *b = cr_test_converge(fx, NULL, c3);
    cr_value *c4 = config("azure-beta", EP_A2, NULL);
    cr_test_plan(fx, b, c4, &r);
    assert_int_equal(cr_test_errors(&r.diags), 0);
    assert_true(is_null(r.planned, "state_changed_at"));
    assert_true(is_null(r.planned, "state_changed_by"));
    cr_plan_resp_free(&r);

    /* The operator changes it between plan and apply: apply keeps the
     * planned value (Terraform's rule) and writes nothing of it. */
    cr_test_plan(fx, rs, c, &r);
    assert_int_equal(cr_test_errors(&r.diags), 0);
    oob_state(fx, "aws-alpha", CR_CELL_SERVING, false, "");
    cr_value *s3 = cr_test_converge(fx, s2, c);
    assert_string_equal(str(s3, "serving_state"), "failed");  /* planned */
    cr_value *rs3 = refresh(fx, s3);
    assert_string_equal(str(rs3, "serving_state"), "serving");
    cr_plan_resp_free(&r);
    cr_value_free(rs3);
    cr_value_free(s3);
    cr_value_free(b);
    cr_value_free(c3);
    cr_value_free(c4);
    cr_value_free(s2);
    cr_value_free(c2);
    cr_value_free(rs);
    cr_value_free(s);
    cr_value_free(c);
}

/* ---- destroy ---------------------------------------------------------------- */

static void test_destroy_refused_while_in_use(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("aws-alpha", EP_A, NULL);
    cr_value *s = cr_test_converge(fx, NULL, c);
    put_tenant(fx, "acme", "aws-alpha", NULL);
    put_tenant(fx, "globex", "azure-beta", "aws-alpha");

    cr_diags d = CR_DIAGS_INIT;
    cr_value *ns = cr_test_apply(fx, s, NULL, NULL, &d);
    const cr_diag *g = cr_test_find_diag(&d, "Cell still has tenants");
    cr_test_assert_contains(g->detail, "2 tenants still name it");
    cr_test_assert_contains(g->detail, "\"acme\", \"globex\"");
    assert_true(cr_value_equal(ns, s));         /* still there */
    cr_diags_free(&d);
    cr_value_free(ns);

    cr_store_err err;
    assert_int_equal(cr_store_delete(fx->oob, "acme", CR_VERSION_ANY, &err),
                     CR_STORE_OK);
    ns = cr_test_apply(fx, s, NULL, NULL, &d);
    cr_test_assert_contains(cr_test_find_diag(&d, "Cell still has tenants")
                                ->detail, "1 tenant still names it");
    cr_diags_free(&d);
    cr_value_free(ns);
    assert_int_equal(cr_store_delete(fx->oob, "globex", CR_VERSION_ANY, &err),
                     CR_STORE_OK);
    ns = cr_test_apply(fx, s, NULL, NULL, &d);
    assert_int_equal(d.len, 0);
    assert_null(ns);
    /* Gone already: a warning, nothing else. */
    ns = cr_test_apply(fx, s, NULL, NULL, &d);
    assert_null(ns);
    cr_test_find_diag(&d, "Cell already removed");
    assert_int_equal(cr_test_errors(&d), 0);
    cr_diags_free(&d);
    cr_value_free(s);
    cr_value_free(c);
}

/* ---- conflicts --------------------------------------------------------------- */

static void test_conflicts(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("aws-alpha", EP_A, NULL);
    cr_value *s = cr_test_converge(fx, NULL, c);
    cr_store_err err;

    /* Created again under another resource: refused, with the import. */
    cr_diags d = CR_DIAGS_INIT;
    cr_plan_resp r;
    cr_test_plan(fx, NULL, c, &r);
    cr_value *ns = cr_test_apply(fx, NULL, r.planned, c, &d);
    assert_null(ns);
    cr_test_assert_contains(cr_test_find_diag(&d, "Cell already defined in "
                                              "the routing map")->detail,
                            "terraform import cellrouter_cell.<name> "
                            "aws-alpha");
    cr_diags_free(&d);
    cr_plan_resp_free(&r);

    /* The definition changed behind Terraform's back. */
    cr_cell def = {0};
    def.cell_id = (char *)"aws-alpha";
    def.endpoint = (char *)EP_A2;
    assert_int_equal(cr_store_cell_put(fx->oob, &def, 1, NULL, &err),
                     CR_STORE_OK);
    cr_value *c2 = config("aws-alpha", EP_A, HEALTH);
    cr_test_plan(fx, s, c2, &r);
    ns = cr_test_apply(fx, s, r.planned, c2, &d);
    cr_test_assert_contains(cr_test_find_diag(&d, "Cell definition changed")
                                ->detail, "version 1, the map now holds "
                                          "version 2");
    assert_true(cr_value_equal(ns, s));
    cr_value_free(ns);
    cr_diags_free(&d);

    /* ... or removed: plan again creates it. */
    size_t n;
    assert_int_equal(cr_store_cell_delete(fx->oob, "aws-alpha", CR_VERSION_ANY,
                                          &n, &err), CR_STORE_OK);
    ns = cr_test_apply(fx, s, r.planned, c2, &d);
    cr_test_find_diag(&d, "Cell removed outside Terraform");
    cr_value_free(ns);
    cr_diags_free(&d);
    cr_plan_resp_free(&r);
    cr_value *gone = NULL;
    cr_test_read(R, &fx->p, s, &gone, &d);
    assert_null(gone);
    assert_int_equal(d.len, 0);
    cr_value_free(c2);
    cr_value_free(s);
    cr_value_free(c);
}

/* ---- import ------------------------------------------------------------------ */

static void test_import(void **state)
{
    fixture *fx = *state;
    cr_cell def = {0};
    cr_store_err err;
    def.cell_id = (char *)"aws-alpha";
    def.endpoint = (char *)EP_A;
    def.health_url = (char *)HEALTH;
    assert_int_equal(cr_store_cell_put(fx->oob, &def, CR_VERSION_ABSENT, NULL,
                                       &err), CR_STORE_OK);
    oob_state(fx, "aws-alpha", CR_CELL_FAILED, false, "maintenance");

    cr_diags d = CR_DIAGS_INIT;
    cr_value *imp = NULL;
    cr_test_import(R, &fx->p, "aws-alpha", &imp, &d);
    assert_int_equal(d.len, 0);
    cr_value *s = refresh(fx, imp);
    assert_string_equal(str(s, "endpoint"), EP_A);
    assert_string_equal(str(s, "serving_state"), "failed");
    assert_true(is_null(s, "labels"));
    /* Configured as it is: no change. */
    cr_value *c = config("aws-alpha", EP_A, HEALTH);
    cr_plan_resp r;
    cr_test_plan(fx, s, c, &r);
    assert_int_equal(cr_test_errors(&r.diags), 0);
    assert_true(cr_value_equal(r.planned, s));
    cr_plan_resp_free(&r);

    cr_value *none = NULL;
    cr_test_import(R, &fx->p, "Not_A_Cell", &none, &d);
    assert_null(none);
    cr_test_find_diag(&d, "Invalid import ID");
    cr_diags_free(&d);
    cr_test_import(R, &fx->p, "", &none, &d);
    cr_test_find_diag(&d, "Invalid import ID");
    cr_diags_free(&d);

    /* By identity (Terraform 1.12+): { cell_id }, the same object; an
     * identity that is no cell id is refused as such. */
    assert_non_null(R->identity_schema);
    const char *ids[] = {"aws-alpha", "Not_A_Cell"};
    for (size_t i = 0; i < 2; i++) {
        cr_value *ident = cr_value_object(cr_schema_type(R->identity_schema));
        assert_int_equal(cr_res_set_str(ident, "cell_id", ids[i]), 0);
        cr_import_req req = { .id = "", .identity = ident };
        cr_import_resp resp = { NULL, CR_DIAGS_INIT, {NULL, 0, false} };
        cr_resource_import(R, &fx->p, &req, &resp);
        if (i == 0) {
            assert_int_equal(resp.diags.len, 0);
            assert_true(cr_value_equal(resp.state, imp));
        } else {
            assert_null(resp.state);
            cr_test_find_diag(&resp.diags, "Invalid import identity");
        }
        cr_value_free(resp.state);
        cr_diags_free(&resp.diags);
        cr_private_clear(&resp.priv);
        cr_value_free(ident);
    }
    cr_value_free(c);
    cr_value_free(s);
    cr_value_free(imp);
}

int main(void)
{
#define TF(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        TF(test_validate),
        TF(test_create_and_noop),
        TF(test_operator_failover_is_not_drift),
        TF(test_destroy_refused_while_in_use),
        TF(test_conflicts),
        TF(test_import),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
