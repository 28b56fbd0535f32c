/*
 * tests/unit/test_framework.c — the resource framework (resource/
 * framework.c) on a resource of its own: the default plan's rule for
 * computed attributes (unknown on change, kept otherwise, USE_STATE kept
 * always, optional+computed left to the configuration), the replacement
 * paths of force-new attributes, adopting the proposed state, the
 * create/update/delete split, the configured check, the prior state kept
 * after a failed step, import without import_state, store errors as
 * diagnostics, and the data source driver.
 *
 * The resource's functions only record that they ran and answer what the
 * test asks, so each check is of the framework alone.
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

/* ---- the resource ---------------------------------------------------------- */

static const cr_attr_schema thing_attrs[] = {
    { .name = "id", .type = &cr_type_string,
      .flags = CR_ATTR_COMPUTED | CR_ATTR_USE_STATE, .description = "Id." },
    { .name = "name", .type = &cr_type_string,
      .flags = CR_ATTR_REQUIRED | CR_ATTR_FORCE_NEW, .description = "Name." },
    { .name = "size", .type = &cr_type_number, .flags = CR_ATTR_OPTIONAL,
      .description = "Size." },
    { .name = "mode", .type = &cr_type_string,
      .flags = CR_ATTR_OPTIONAL | CR_ATTR_COMPUTED, .description = "Mode." },
    /* Like a cell's serving state: never planned away by an update. */
    { .name = "serving", .type = &cr_type_string,
      .flags = CR_ATTR_COMPUTED | CR_ATTR_USE_STATE,
      .description = "Serving." },
    { .name = "generation", .type = &cr_type_number,
      .flags = CR_ATTR_COMPUTED, .description = "Generation." },
};
static const cr_schema thing_schema = {
    .description = "A thing.",
    .nattrs = sizeof thing_attrs / sizeof thing_attrs[0],
    .attrs = thing_attrs,
};

/* What the functions did, and what they are to answer. */
static struct {
    int plans, creates, updates, deletes, reads, imports, ds_reads;
    bool fail;                  /* add an error */
    bool answer;                /* set a state (else leave NULL) */
} g;

static const cr_type *T(void)
{
    return cr_test_type(&thing_schema);
}

static void thing_modify_plan(cr_provider_state *p, const cr_plan_req *req,
                              cr_plan_resp *resp)
{
    (void)p;
    (void)req;
    (void)resp;
    g.plans++;
}

/* The planned object with its unknowns filled in, as a real write would. */
static cr_value *written(const cr_value *planned)
{
    cr_value *s = cr_value_copy(planned);
    assert_non_null(s);
    if (cr_value_is_unknown(cr_value_get(s, "id")))
        cr_test_set_str(s, "id", "t-1");
    if (cr_value_is_unknown(cr_value_get(s, "mode")))
        cr_test_set_str(s, "mode", "auto");
    if (cr_value_is_unknown(cr_value_get(s, "serving")))
        cr_test_set_str(s, "serving", "up");
    if (cr_value_is_unknown(cr_value_get(s, "generation")))
        cr_test_set(s, "generation", cr_value_int(1));
    return s;
}

static void step(cr_apply_resp *resp, const cr_value *planned, int *count)
{
    (*count)++;
    if (g.fail)
        cr_diags_error(&resp->diags, NULL, "Store failed", "%s", "boom");
    if (g.answer && planned)
        resp->new_state = written(planned);
}

static void thing_create(cr_provider_state *p, const cr_apply_req *req,
                         cr_apply_resp *resp)
{
    (void)p;
    assert_null(req->prior);
    step(resp, req->planned, &g.creates);
}

static void thing_update(cr_provider_state *p, const cr_apply_req *req,
                         cr_apply_resp *resp)
{
    (void)p;
    assert_non_null(req->prior);
    step(resp, req->planned, &g.updates);
}

static void thing_delete(cr_provider_state *p, const cr_apply_req *req,
                         cr_apply_resp *resp)
{
    (void)p;
    assert_null(req->planned);
    assert_null(req->config);
    step(resp, NULL, &g.deletes);
}

static void thing_read(cr_provider_state *p, const cr_read_req *req,
                       cr_read_resp *resp)
{
    (void)p;
    g.reads++;
    if (g.fail)
        cr_diags_error(&resp->diags, NULL, "Store failed", "%s", "boom");
    if (g.answer)
        resp->new_state = cr_value_copy(req->state);
}

static const cr_resource_type thing = {
    .type_name = "cellrouter_thing",
    .schema = &thing_schema,
    .modify_plan = thing_modify_plan,
    .create = thing_create,
    .update = thing_update,
    .delete = thing_delete,
    .read = thing_read,
};

/* The provider states: configured (a store nobody calls), and not. */
static cr_store dummy_store;
static cr_provider_state configured = { &dummy_store, 0 };
static cr_provider_state unconfigured = { NULL, 0 };

static int setup(void **state)
{
    (void)state;
    memset(&g, 0, sizeof g);
    g.answer = true;
    return 0;
}

/* ---- values ------------------------------------------------------------------ */

/* A configuration: name and size; mode when given. */
static cr_value *config(const char *name, int64_t size, const char *mode)
{
    cr_value *o = cr_value_object(T());
    assert_non_null(o);
    cr_test_set_str(o, "name", name);
    cr_test_set(o, "size", cr_value_int(size));
    cr_test_set_str(o, "mode", mode);
    return o;
}

/* A state: the configuration with every computed attribute known. */
static cr_value *state_of(const cr_value *cfg, const char *serving)
{
    cr_value *s = cr_value_copy(cfg);
    assert_non_null(s);
    cr_test_set_str(s, "id", "t-1");
    if (cr_value_is_null(cr_value_get(cfg, "mode")))
        cr_test_set_str(s, "mode", "auto");
    cr_test_set_str(s, "serving", serving);
    cr_test_set(s, "generation", cr_value_int(4));
    return s;
}

static cr_plan_resp plan(const cr_value *prior, const cr_value *cfg)
{
    cr_plan_resp r;
    cr_value *prop = cr_test_proposed(&thing_schema, cfg, prior);
    cr_plan_req req = { prior, prop, cfg, NULL, {NULL, 0} };
    memset(&r, 0, sizeof r);
    cr_resource_plan(&thing, &unconfigured, &req, &r);
    cr_value_free(prop);
    return r;
}

static bool unknown(const cr_value *o, const char *name)
{
    return cr_value_is_unknown(cr_value_get(o, name));
}

static bool same(const cr_value *a, const cr_value *b, const char *name)
{
    return cr_value_equal(cr_value_get(a, name), cr_value_get(b, name));
}

/* ---- plan ------------------------------------------------------------------ */

static void test_plan_create(void **state)
{
    (void)state;
    cr_value *c = config("a", 1, NULL);
    cr_plan_resp r = plan(NULL, c);
    assert_int_equal(r.diags.len, 0);
    assert_int_equal(g.plans, 1);
    /* Every computed attribute the configuration leaves null is unknown. */
    assert_true(unknown(r.planned, "id"));
    assert_true(unknown(r.planned, "mode"));
    assert_true(unknown(r.planned, "serving"));
    assert_true(unknown(r.planned, "generation"));
    assert_true(same(r.planned, c, "name"));
    assert_true(same(r.planned, c, "size"));
    assert_int_equal(r.nrequires_replace, 0);     /* a create replaces nothing */
    cr_plan_resp_free(&r);
    cr_value_free(c);
}

static void test_plan_no_change(void **state)
{
    (void)state;
    cr_value *c = config("a", 1, NULL);
    cr_value *st = state_of(c, "up");
    cr_plan_resp r = plan(st, c);
    assert_int_equal(r.diags.len, 0);
    /* Nothing the user sets changed: the plan is the prior state. */
    assert_true(cr_value_equal(r.planned, st));
    /* Force-new attributes are listed; the rpc layer keeps those that
     * change. */
    assert_int_equal(r.nrequires_replace, 1);
    char *p = cr_path_format(&r.requires_replace[0]);
    assert_string_equal(p, "name");
    free(p);
    cr_plan_resp_free(&r);
    cr_value_free(st);
    cr_value_free(c);
}

static void test_plan_change(void **state)
{
    (void)state;
    cr_value *c = config("a", 1, NULL);
    cr_value *st = state_of(c, "up");

    /* size changes: what follows the object is unknown, what USE_STATE
     * marks is kept. */
    cr_value *c2 = config("a", 2, NULL);
    cr_plan_resp r = plan(st, c2);
    assert_true(unknown(r.planned, "generation"));
    assert_true(unknown(r.planned, "mode"));        /* optional+computed */
    assert_true(same(r.planned, st, "id"));
    assert_true(same(r.planned, st, "serving"));
    cr_plan_resp_free(&r);

    /* An optional+computed attribute the configuration sets is the
     * user's: planned as configured, and its change is a change. */
    cr_value *c3 = config("a", 1, "manual");
    r = plan(st, c3);
    assert_string_equal(cr_value_get_str(r.planned, "mode"), "manual");
    assert_true(unknown(r.planned, "generation"));
    cr_plan_resp_free(&r);

    /* USE_STATE keeps only a value: a null prior becomes unknown. */
    cr_value *st_null = state_of(c, NULL);
    r = plan(st_null, c2);
    assert_true(unknown(r.planned, "serving"));
    cr_plan_resp_free(&r);

    /* An unknown in the configuration is a change. */
    cr_value *c4 = config("a", 1, NULL);
    cr_test_set(c4, "size", cr_value_unknown(&cr_type_number));
    r = plan(st, c4);
    assert_true(unknown(r.planned, "generation"));
    cr_plan_resp_free(&r);

    cr_value_free(c4);
    cr_value_free(st_null);
    cr_value_free(c3);
    cr_value_free(c2);
    cr_value_free(st);
    cr_value_free(c);
}

static void test_plan_adopts_and_destroys(void **state)
{
    (void)state;
    cr_value *c = config("a", 1, NULL);
    cr_value *prop = cr_test_proposed(&thing_schema, c, NULL);
    cr_value *owner = prop;
    cr_plan_req req = { NULL, prop, c, &owner, {NULL, 0} };
    cr_plan_resp r;
    memset(&r, 0, sizeof r);
    cr_resource_plan(&thing, &unconfigured, &req, &r);
    assert_null(owner);                         /* adopted, not copied */
    assert_ptr_equal(r.planned, prop);
    cr_plan_resp_free(&r);

    /* A destroy plans null without asking the resource. */
    cr_value *st = state_of(c, "up");
    cr_value *null_obj = cr_value_null(T());
    cr_plan_req dreq = { st, null_obj, null_obj, NULL, {NULL, 0} };
    memset(&r, 0, sizeof r);
    g.plans = 0;
    cr_resource_plan(&thing, &unconfigured, &dreq, &r);
    assert_null(r.planned);
    assert_int_equal(r.diags.len, 0);
    assert_int_equal(g.plans, 0);
    cr_value_free(null_obj);
    cr_value_free(st);
    cr_value_free(c);
}

/* The per-object rule as a modify_plan uses it on nested elements. */
static void test_plan_rule_without_config(void **state)
{
    (void)state;
    cr_value *c = config("a", 1, NULL);
    cr_value *st = state_of(c, "up");
    cr_value *pl = cr_value_copy(st);
    assert_non_null(pl);
    assert_false(cr_res_plan_changed(&thing_schema, st, pl, NULL));
    assert_true(cr_res_plan_changed(&thing_schema, NULL, pl, NULL));
    /* Without the configuration, optional+computed counts as the
     * user's: a different mode is a change, and is not planned over. */
    cr_test_set_str(pl, "mode", "other");
    assert_true(cr_res_plan_changed(&thing_schema, st, pl, NULL));
    assert_int_equal(cr_res_plan_computed(&thing_schema, st, pl, NULL, true),
                     0);
    assert_string_equal(cr_value_get_str(pl, "mode"), "other");
    assert_true(unknown(pl, "generation"));
    assert_true(same(pl, st, "serving"));
    cr_value_free(pl);
    cr_value_free(st);
    cr_value_free(c);
}

/* ---- apply ----------------------------------------------------------------- */

static cr_apply_resp apply(cr_provider_state *p, const cr_value *prior,
                           const cr_value *planned, const cr_value *cfg)
{
    cr_apply_req req = { prior, planned, cfg, {NULL, 0} };
    cr_apply_resp r;
    memset(&r, 0, sizeof r);
    cr_resource_apply(&thing, p, &req, &r);
    return r;
}

static void resp_free(cr_apply_resp *r)
{
    cr_value_free(r->new_state);
    cr_diags_free(&r->diags);
}

static void test_apply_split(void **state)
{
    (void)state;
    cr_value *c = config("a", 1, NULL);
    cr_plan_resp pr = plan(NULL, c);
    cr_value *null_obj = cr_value_null(T());

    /* A null prior (pointer or value) is a create. */
    cr_apply_resp r = apply(&configured, null_obj, pr.planned, c);
    assert_int_equal(g.creates, 1);
    assert_int_equal(r.diags.len, 0);
    cr_value *st = r.new_state;
    r.new_state = NULL;
    resp_free(&r);
    assert_string_equal(cr_value_get_str(st, "id"), "t-1");

    cr_value *c2 = config("a", 2, NULL);
    cr_plan_resp pr2 = plan(st, c2);
    r = apply(&configured, st, pr2.planned, c2);
    assert_int_equal(g.updates, 1);
    resp_free(&r);

    r = apply(&configured, st, null_obj, null_obj);
    assert_int_equal(g.deletes, 1);
    assert_null(r.new_state);
    resp_free(&r);

    /* Both null: nothing runs. */
    r = apply(&configured, NULL, NULL, NULL);
    assert_int_equal(g.creates + g.updates + g.deletes, 3);
    resp_free(&r);

    cr_plan_resp_free(&pr2);
    cr_value_free(c2);
    cr_value_free(st);
    cr_value_free(null_obj);
    cr_plan_resp_free(&pr);
    cr_value_free(c);
}

static void test_apply_failures(void **state)
{
    (void)state;
    cr_value *c = config("a", 1, NULL);
    cr_value *st = state_of(c, "up");
    cr_value *c2 = config("a", 2, NULL);
    cr_plan_resp pr = plan(st, c2);

    /* Not configured: refused before the resource runs, prior kept. */
    cr_apply_resp r = apply(&unconfigured, st, pr.planned, c2);
    assert_int_equal(g.updates, 0);
    assert_string_equal(cr_test_find_diag(&r.diags, "Provider not "
                                          "configured")->summary,
                        "Provider not configured");
    assert_true(cr_value_equal(r.new_state, st));
    resp_free(&r);

    /* A failed update that says nothing of the object: it is as it was. */
    g.fail = true;
    g.answer = false;
    r = apply(&configured, st, pr.planned, c2);
    assert_int_equal(g.updates, 1);
    assert_int_equal(cr_test_errors(&r.diags), 1);
    assert_true(cr_value_equal(r.new_state, st));
    resp_free(&r);

    /* A failed create leaves nothing. */
    r = apply(&configured, NULL, pr.planned, c2);
    assert_null(r.new_state);
    resp_free(&r);

    /* A resource that knows what it wrote in part says so: kept. */
    g.answer = true;
    r = apply(&configured, st, pr.planned, c2);
    assert_non_null(r.new_state);
    assert_false(cr_value_equal(r.new_state, st));
    resp_free(&r);

    /* A resource that needs no store runs on an unconfigured provider. */
    cr_resource_type nostore = thing;
    nostore.flags = CR_RESOURCE_NO_STORE;
    g.fail = false;
    cr_apply_req req = { st, pr.planned, c2, {NULL, 0} };
    memset(&r, 0, sizeof r);
    cr_resource_apply(&nostore, &unconfigured, &req, &r);
    assert_int_equal(g.updates, 3);
    assert_int_equal(r.diags.len, 0);
    resp_free(&r);

    cr_plan_resp_free(&pr);
    cr_value_free(c2);
    cr_value_free(st);
    cr_value_free(c);
}

/* ---- read and import ------------------------------------------------------- */

static void test_read(void **state)
{
    (void)state;
    cr_value *c = config("a", 1, NULL);
    cr_value *st = state_of(c, "up");
    cr_value *ns = (cr_value *)c;       /* must be overwritten */
    cr_diags d = CR_DIAGS_INIT;

    /* A null state is gone without asking the resource. */
    cr_value *null_obj = cr_value_null(T());
    cr_test_read(&thing, &configured, null_obj, &ns, &d);
    assert_null(ns);
    assert_int_equal(g.reads, 0);

    cr_test_read(&thing, &configured, st, &ns, &d);
    assert_int_equal(g.reads, 1);
    assert_true(cr_value_equal(ns, st));
    cr_value_free(ns);

    /* Not configured, or failed without a state: the state is kept. */
    cr_test_read(&thing, &unconfigured, st, &ns, &d);
    assert_int_equal(g.reads, 1);
    assert_true(cr_value_equal(ns, st));
    cr_value_free(ns);
    cr_test_find_diag(&d, "Provider not configured");
    cr_diags_free(&d);

    g.fail = true;
    g.answer = false;
    cr_test_read(&thing, &configured, st, &ns, &d);
    assert_true(cr_value_equal(ns, st));
    assert_int_equal(cr_test_errors(&d), 1);
    cr_value_free(ns);
    cr_diags_free(&d);

    /* Gone: NULL, no diagnostic. */
    g.fail = false;
    cr_test_read(&thing, &configured, st, &ns, &d);
    assert_null(ns);
    assert_int_equal(d.len, 0);

    cr_value_free(null_obj);
    cr_value_free(st);
    cr_value_free(c);
}

static void test_import_not_implemented(void **state)
{
    (void)state;
    cr_value *st = (cr_value *)&g;      /* must be overwritten */
    cr_diags d = CR_DIAGS_INIT;
    cr_test_import(&thing, &configured, "x", &st, &d);
    assert_null(st);
    const cr_diag *e = cr_test_find_diag(&d, "Resource Import Not "
                                         "Implemented");
    cr_test_assert_contains(e->detail, "cellrouter_thing");
    cr_diags_free(&d);
}

/* ---- helpers ----------------------------------------------------------------- */

static void test_store_error(void **state)
{
    (void)state;
    cr_diags d = CR_DIAGS_INIT;
    cr_store_err err = {0};

    snprintf(err.msg, sizeof err.msg, "disk full");
    cr_res_store_error(&d, CR_STORE_IO, &err, "Could not read thing",
                       "Reading thing %s failed", "a");
    assert_string_equal(d.items[0].summary, "Could not read thing");
    assert_string_equal(d.items[0].detail, "Reading thing a failed: disk full");

    /* No message from the store: the result code names the failure. */
    err.msg[0] = '\0';
    cr_res_store_error(&d, CR_STORE_IO, &err, "Could not read thing", NULL);
    assert_string_equal(d.items[1].detail, cr_store_rc_name(CR_STORE_IO));
    assert_int_equal(cr_test_errors(&d), 2);
    cr_diags_free(&d);

    /* The store, or the one "not configured" error. */
    assert_ptr_equal(cr_res_store(&configured, &d), &dummy_store);
    assert_int_equal(d.len, 0);
    assert_null(cr_res_store(&unconfigured, &d));
    assert_null(cr_res_store(NULL, &d));
    assert_int_equal(cr_test_errors(&d), 2);
    cr_diags_free(&d);
}

/* ---- data sources ------------------------------------------------------------ */

static void ds_validate(const cr_value *config, cr_diags *d)
{
    if (cr_value_get_str(config, "name") == NULL)
        cr_res_error(d, NULL, "name", NULL, "Missing name", "Name it.");
}

static void ds_read(cr_provider_state *p, const cr_value *config,
                    cr_value **state, cr_diags *d)
{
    (void)p;
    g.ds_reads++;
    *state = cr_value_copy(config);
    if (g.fail)
        cr_diags_error(d, NULL, "Store failed", "%s", "boom");
}

static const cr_data_source_type thing_ds = {
    .type_name = "cellrouter_thing",
    .schema = &thing_schema,
    .validate_config = ds_validate,
    .read = ds_read,
};

/* A value for a computed-only attribute is refused at validation, pointed
 * at the attribute; optional+computed and unset computed ones are not. */
static void test_read_only_refused(void **state)
{
    (void)state;
    cr_value *cfg = config("a", 1, "manual");
    cr_diags d = CR_DIAGS_INIT;
    cr_resource_validate(&thing, cfg, &d);
    assert_false(cr_diags_has_error(&d));

    cr_test_set(cfg, "generation", cr_value_int(3));
    cr_test_set(cfg, "serving", cr_value_unknown(&cr_type_string));
    cr_resource_validate(&thing, cfg, &d);
    assert_int_equal(d.len, 2);
    for (size_t i = 0; i < d.len; i++) {
        assert_string_equal(d.items[i].summary,
                            "Invalid Configuration for Read-Only Attribute");
        assert_int_equal(d.items[i].path.len, 1);
    }
    assert_string_equal(d.items[0].path.steps[0].name, "serving");
    assert_string_equal(d.items[1].path.steps[0].name, "generation");
    cr_diags_free(&d);
    cr_value_free(cfg);
}

static void test_data_source(void **state)
{
    (void)state;
    cr_value *c = config("a", 1, "m");
    cr_value *out = NULL;
    cr_diags d = CR_DIAGS_INIT;

    cr_data_source_read(&thing_ds, &configured, c, &out, &d);
    assert_int_equal(d.len, 0);
    assert_true(cr_value_equal(out, c));
    cr_value_free(out);

    /* Invalid: validation's error, no read. */
    cr_value *bad = config(NULL, 1, "m");
    cr_data_source_read(&thing_ds, &configured, bad, &out, &d);
    assert_null(out);
    cr_test_find_diag(&d, "Missing name");
    assert_int_equal(g.ds_reads, 1);
    cr_diags_free(&d);

    /* Not configured, or unknown: an error, no read. */
    cr_data_source_read(&thing_ds, &unconfigured, c, &out, &d);
    assert_null(out);
    cr_test_find_diag(&d, "Provider not configured");
    cr_diags_free(&d);
    cr_value *unk = config("a", 1, "m");
    cr_test_set(unk, "size", cr_value_unknown(&cr_type_number));
    cr_data_source_read(&thing_ds, &configured, unk, &out, &d);
    assert_null(out);
    assert_int_equal(cr_test_errors(&d), 1);
    assert_int_equal(g.ds_reads, 1);
    cr_diags_free(&d);

    /* A failed read answers no state, whatever it built. */
    g.fail = true;
    cr_data_source_read(&thing_ds, &configured, c, &out, &d);
    assert_null(out);
    assert_int_equal(g.ds_reads, 2);
    cr_diags_free(&d);

    cr_value_free(unk);
    cr_value_free(bad);
    cr_value_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_plan_create, setup),
        cmocka_unit_test_setup(test_plan_no_change, setup),
        cmocka_unit_test_setup(test_plan_change, setup),
        cmocka_unit_test_setup(test_plan_adopts_and_destroys, setup),
        cmocka_unit_test_setup(test_plan_rule_without_config, setup),
        cmocka_unit_test_setup(test_apply_split, setup),
        cmocka_unit_test_setup(test_apply_failures, setup),
        cmocka_unit_test_setup(test_read, setup),
        cmocka_unit_test_setup(test_import_not_implemented, setup),
        cmocka_unit_test_setup(test_store_error, setup),
        cmocka_unit_test_setup(test_read_only_refused, setup),
        cmocka_unit_test_setup(test_data_source, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
