/*
 * tests/unit/test_tenant.c — the cellrouter_tenant resource against a real
 * SQLite routing map in a temporary directory.
 *
 * Each test plays Terraform's part: it builds the configuration, the prior
 * state and the proposed new state as Terraform would, calls the resource's
 * functions and checks what Terraform checks (plans keep the configuration,
 * results keep every known planned value) plus what the user sees
 * (diagnostics, their attribute paths, the routing map's contents).
 * Out-of-band changes go through a second store handle on the same file,
 * the way cellctl makes them.
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

#include "resource/resource.h"
#include "support/support.h"

/* A resource against a temporary routing map (tests/unit/support). */
typedef cr_test_rfx fixture;

static const cr_resource_type *R;

static int setup(void **state)
{
    fixture *fx = cr_test_rfx_new("tenant", "cellrouter_tenant");
    R = fx->type;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    cr_test_rfx_free(*state);
    return 0;
}

/* ---- building values as Terraform would --------------------------------- */

static const cr_type *T(void)
{
    return cr_test_type(R->schema);
}

static void set_unknown(cr_value *o, const char *name)
{
    cr_test_set(o, name, cr_value_unknown(cr_test_attr_type(T(), name)));
}

/* labels = { k1 = v1, ... } from a NULL-terminated key/value list; a NULL
 * value after a key makes that element null. */
static void set_labels(cr_value *o, const char *k, ...)
{
    cr_value *m = cr_value_collection(cr_test_attr_type(T(), "labels"));
    va_list ap;
    assert_non_null(m);
    va_start(ap, k);
    for (; k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        cr_value *ev = v ? cr_value_string(v) : cr_value_null(&cr_type_string);
        assert_int_equal(cr_value_map_put(m, k, ev), 0);
    }
    va_end(ap);
    cr_test_set(o, "labels", m);
}

/* A configuration: computed attributes null, labels null. */
static cr_value *config(const char *tid, const char *cell, const char *ep,
                        const char *sb_cell, const char *sb_ep)
{
    cr_value *o = cr_value_object(T());
    assert_non_null(o);
    cr_test_set_str(o, "tenant_id", tid);
    cr_test_set_str(o, "cell_id", cell);
    cr_test_set_str(o, "endpoint", ep);
    cr_test_set_str(o, "standby_cell_id", sb_cell);
    cr_test_set_str(o, "standby_endpoint", sb_ep);
    return o;
}

/* ---- reading results ---------------------------------------------------- */

static const char *get_str(const cr_value *o, const char *name)
{
    return cr_value_get_str(o, name);
}

static int64_t get_version(const cr_value *o)
{
    const cr_value *v = cr_value_get(o, "version");
    assert_non_null(v);
    assert_int_equal(v->kind, CR_NUMBER);
    assert_true(v->u.num.is_int);
    return v->u.num.i;
}

static bool is_unknown(const cr_value *o, const char *name)
{
    const cr_value *v = cr_value_get(o, name);
    return v && cr_value_is_unknown(v);
}

static bool is_null_attr(const cr_value *o, const char *name)
{
    const cr_value *v = cr_value_get(o, name);
    return v && cr_value_is_null(v);
}

/* The index of the first diagnostic of severity `sev` at [attr] or
 * [attr, key "key"], or -1. */
static long diag_at(const cr_diags *d, cr_diag_severity sev,
                    const char *attr, const char *key)
{
    for (size_t i = 0; i < d->len; i++) {
        const cr_diag *g = &d->items[i];
        size_t want = attr ? (key ? 2 : 1) : 0;
        if (g->severity != sev || g->path.len != want)
            continue;
        if (attr && (g->path.steps[0].kind != CR_STEP_ATTR ||
                     strcmp(g->path.steps[0].name, attr) != 0))
            continue;
        if (key && (g->path.steps[1].kind != CR_STEP_KEY ||
                    strcmp(g->path.steps[1].name, key) != 0))
            continue;
        return (long)i;
    }
    return -1;
}

#define EP_A "https://alpha.cells.example.com/ingest"
#define EP_B "https://beta.cells.example.com/ingest"

/* ---- validate ----------------------------------------------------------- */

static void validate(const cr_value *cfg, cr_diags *d)
{
    memset(d, 0, sizeof *d);
    cr_resource_validate(R, cfg, d);
}

static void test_validate_ok(void **state)
{
    (void)state;
    cr_diags d;
    cr_value *c = config("acme", "alpha", EP_A, "beta", EP_B);
    set_labels(c, "tier", "gold", "team", "payments", NULL);
    validate(c, &d);
    cr_test_print_diags(&d);
    assert_int_equal(d.len, 0);
    cr_value_free(c);
}

static void test_validate_unknowns_never_error(void **state)
{
    (void)state;
    cr_diags d;
    cr_value *c = config(NULL, NULL, NULL, NULL, NULL);
    static const char *const all[] = { "tenant_id", "cell_id", "endpoint",
        "standby_cell_id", "standby_endpoint", "labels" };
    for (size_t i = 0; i < 6; i++)
        set_unknown(c, all[i]);
    validate(c, &d);
    assert_int_equal(d.len, 0);

    /* One half of the standby pair known, the other unknown: fine. */
    cr_test_set_str(c, "cell_id", "alpha");
    cr_test_set_str(c, "standby_cell_id", "beta");
    validate(c, &d);
    assert_int_equal(d.len, 0);
    cr_test_set_str(c, "standby_cell_id", "alpha");  /* equal to cell: error */
    validate(c, &d);
    assert_true(diag_at(&d, CR_DIAG_ERROR, "standby_cell_id", NULL) >= 0);
    cr_diags_free(&d);

    /* An unknown label value with a fine key is fine. */
    cr_value *l = config("acme", "alpha", EP_A, NULL, NULL);
    cr_value *m = cr_value_collection(cr_test_attr_type(T(), "labels"));
    assert_int_equal(cr_value_map_put(m, "tier",
                                      cr_value_unknown(&cr_type_string)), 0);
    cr_test_set(l, "labels", m);
    validate(l, &d);
    assert_int_equal(d.len, 0);

    /* The whole configuration unknown. */
    cr_value *u = cr_value_unknown(T());
    validate(u, &d);
    assert_int_equal(d.len, 0);
    cr_value_free(u);
    cr_value_free(l);
    cr_value_free(c);
}

static void test_validate_paths(void **state)
{
    (void)state;
    cr_diags d;
    char long_id[600];
    memset(long_id, 'a', 513);
    long_id[513] = '\0';

    cr_value *c = config(long_id, "Alpha_Cell", "ftp://alpha.example.com/",
                         NULL, NULL);
    set_labels(c, "tier", "gold", "bad", NULL, NULL);
    validate(c, &d);
    /* Every problem at once, each at its own path. */
    assert_true(diag_at(&d, CR_DIAG_ERROR, "tenant_id", NULL) >= 0);
    assert_true(diag_at(&d, CR_DIAG_ERROR, "cell_id", NULL) >= 0);
    assert_true(diag_at(&d, CR_DIAG_ERROR, "endpoint", NULL) >= 0);
    assert_true(diag_at(&d, CR_DIAG_ERROR, "labels", "bad") >= 0);
    assert_int_equal(diag_at(&d, CR_DIAG_ERROR, "labels", "tier"), -1);
    assert_int_equal(d.len, 4);
    cr_diags_free(&d);
    cr_value_free(c);

    /* Bad tenant ids: empty, a space, a leading dot. */
    static const char *const bad_ids[] = { "", "acme corp", ".acme",
                                           "acme/../x" };
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        c = config(bad_ids[i], "alpha", EP_A, NULL, NULL);
        validate(c, &d);
        assert_true(diag_at(&d, CR_DIAG_ERROR, "tenant_id", NULL) >= 0);
        assert_int_equal(d.len, 1);
        cr_diags_free(&d);
        cr_value_free(c);
    }

    /* Endpoints: not absolute, credentials, no host. */
    static const char *const bad_eps[] = { "alpha.example.com/ingest",
        "https://user:secret@alpha.example.com/", "https://", "" };
    for (size_t i = 0; i < sizeof bad_eps / sizeof bad_eps[0]; i++) {
        c = config("acme", "alpha", bad_eps[i], NULL, NULL);
        validate(c, &d);
        assert_true(diag_at(&d, CR_DIAG_ERROR, "endpoint", NULL) >= 0);
        /* The message must not echo credentials back. */
        for (size_t k = 0; k < d.len; k++)
            assert_null(strstr(d.items[k].detail ? d.items[k].detail : "",
                               "secret"));
        cr_diags_free(&d);
        cr_value_free(c);
    }
}

static void test_validate_standby_rules(void **state)
{
    (void)state;
    cr_diags d;

    cr_value *c = config("acme", "alpha", EP_A, "beta", NULL);
    validate(c, &d);
    assert_true(diag_at(&d, CR_DIAG_ERROR, "standby_endpoint", NULL) >= 0);
    assert_int_equal(d.len, 1);
    cr_diags_free(&d);
    cr_value_free(c);

    c = config("acme", "alpha", EP_A, NULL, EP_B);
    validate(c, &d);
    assert_true(diag_at(&d, CR_DIAG_ERROR, "standby_cell_id", NULL) >= 0);
    assert_int_equal(d.len, 1);
    cr_diags_free(&d);
    cr_value_free(c);

    c = config("acme", "alpha", EP_A, "alpha", EP_B);
    validate(c, &d);
    assert_true(diag_at(&d, CR_DIAG_ERROR, "standby_cell_id", NULL) >= 0);
    cr_test_assert_contains(d.items[0].detail, "differ");
    cr_diags_free(&d);
    cr_value_free(c);

    c = config("acme", "alpha", EP_A, "beta", "mailto:x@example.com");
    validate(c, &d);
    assert_true(diag_at(&d, CR_DIAG_ERROR, "standby_endpoint", NULL) >= 0);
    cr_diags_free(&d);
    cr_value_free(c);
}

static void test_validate_label_keys(void **state)
{
    (void)state;
    cr_diags d;
    char long_key[80];
    memset(long_key, 'k', 64);
    long_key[64] = '\0';
    cr_value *c = config("acme", "alpha", EP_A, NULL, NULL);
    set_labels(c, long_key, "x", "ok", "fine", "ctl", "a\tb", NULL);
    validate(c, &d);
    assert_true(diag_at(&d, CR_DIAG_ERROR, "labels", long_key) >= 0);
    assert_true(diag_at(&d, CR_DIAG_ERROR, "labels", "ctl") >= 0);
    assert_int_equal(diag_at(&d, CR_DIAG_ERROR, "labels", "ok"), -1);
    assert_int_equal(d.len, 2);
    cr_diags_free(&d);
    cr_value_free(c);
}

static void test_validate_missing_and_nul(void **state)
{
    (void)state;
    cr_diags d;
    cr_value *c = config(NULL, "alpha", EP_A, NULL, NULL);
    cr_test_set(c, "cell_id", cr_value_stringn("al\0pha", 6));
    validate(c, &d);
    assert_true(diag_at(&d, CR_DIAG_ERROR, "tenant_id", NULL) >= 0);
    assert_true(diag_at(&d, CR_DIAG_ERROR, "cell_id", NULL) >= 0);
    assert_int_equal(d.len, 2);
    cr_diags_free(&d);
    cr_value_free(c);
}

/* ---- plan --------------------------------------------------------------- */

static void test_plan_create(void **state)
{
    fixture *fx = *state;
    cr_plan_resp r;
    cr_value *c = config("acme", "alpha", EP_A, NULL, NULL);

    cr_test_plan(fx, NULL, c, &r);
    assert_int_equal(r.diags.len, 0);
    assert_non_null(r.planned);
    assert_string_equal(get_str(r.planned, "id"), "acme");
    assert_string_equal(get_str(r.planned, "tenant_id"), "acme");
    assert_string_equal(get_str(r.planned, "endpoint"), EP_A);
    assert_true(is_unknown(r.planned, "version"));
    assert_true(is_unknown(r.planned, "updated_at"));
    assert_true(is_null_attr(r.planned, "labels"));
    assert_true(is_null_attr(r.planned, "standby_cell_id"));
    cr_plan_resp_free(&r);

    /* tenant_id unknown: id unknown too. */
    set_unknown(c, "tenant_id");
    cr_test_plan(fx, NULL, c, &r);
    assert_true(is_unknown(r.planned, "id"));
    assert_true(is_unknown(r.planned, "tenant_id"));
    cr_plan_resp_free(&r);
    cr_value_free(c);
}

static void test_plan_update_noop_replace_destroy(void **state)
{
    fixture *fx = *state;
    cr_plan_resp r;
    cr_value *c = config("acme", "alpha", EP_A, "beta", EP_B);
    set_labels(c, "tier", "gold", NULL);
    cr_value *st = cr_test_converge(fx, NULL, c);
    assert_int_equal(get_version(st), 1);

    /* No change: the plan is the prior state exactly. */
    cr_test_plan(fx, st, c, &r);
    assert_int_equal(r.diags.len, 0);
    assert_true(cr_value_equal(r.planned, st));
    cr_plan_resp_free(&r);

    /* Failover, an in-place update: computed values unknown, id kept,
     * tenant_id listed as the replacement path. */
    cr_value *f = config("acme", "beta", EP_B, "alpha", EP_A);
    set_labels(f, "tier", "gold", NULL);
    cr_test_plan(fx, st, f, &r);
    assert_int_equal(r.diags.len, 0);
    assert_string_equal(get_str(r.planned, "cell_id"), "beta");
    assert_string_equal(get_str(r.planned, "id"), "acme");
    assert_true(is_unknown(r.planned, "version"));
    assert_true(is_unknown(r.planned, "updated_at"));
    assert_int_equal(r.nrequires_replace, 1);
    assert_int_equal(r.requires_replace[0].len, 1);
    assert_int_equal(r.requires_replace[0].steps[0].kind, CR_STEP_ATTR);
    assert_string_equal(r.requires_replace[0].steps[0].name, "tenant_id");
    cr_plan_resp_free(&r);

    /* labels {} instead of null is a change the user wrote: planned as
     * written, not normalised. */
    cr_value *e = config("acme", "alpha", EP_A, "beta", EP_B);
    set_labels(e, NULL);
    cr_test_plan(fx, st, e, &r);
    const cr_value *pl = cr_value_get(r.planned, "labels");
    assert_int_equal(pl->kind, CR_MAP);
    assert_int_equal(pl->u.coll.len, 0);
    assert_true(is_unknown(r.planned, "version"));
    cr_plan_resp_free(&r);

    /* Renaming the tenant: id follows, computed values unknown. */
    cr_value *n = config("acme-2", "alpha", EP_A, "beta", EP_B);
    set_labels(n, "tier", "gold", NULL);
    cr_test_plan(fx, st, n, &r);
    assert_string_equal(get_str(r.planned, "id"), "acme-2");
    assert_true(is_unknown(r.planned, "version"));
    assert_int_equal(r.nrequires_replace, 1);
    cr_plan_resp_free(&r);

    /* A value unknown at plan time is a change. */
    cr_value *u = cr_value_copy(c);
    set_unknown(u, "endpoint");
    cr_test_plan(fx, st, u, &r);
    assert_true(is_unknown(r.planned, "endpoint"));
    assert_true(is_unknown(r.planned, "version"));
    cr_plan_resp_free(&r);

    /* Destroy plans null. */
    cr_test_plan(fx, st, NULL, &r);
    assert_int_equal(r.diags.len, 0);
    assert_null(r.planned);
    cr_plan_resp_free(&r);

    /* The user's spelling is kept: no case or slash normalisation. */
    cr_value *sp = config("acme", "alpha", "HTTPS://Alpha.Cells.Example.com",
                          "beta", EP_B);
    set_labels(sp, "tier", "gold", NULL);
    cr_test_plan(fx, st, sp, &r);
    assert_string_equal(get_str(r.planned, "endpoint"),
                        "HTTPS://Alpha.Cells.Example.com");
    cr_plan_resp_free(&r);

    cr_value_free(sp);
    cr_value_free(u);
    cr_value_free(n);
    cr_value_free(e);
    cr_value_free(f);
    cr_value_free(st);
    cr_value_free(c);
}

/* ---- apply -------------------------------------------------------------- */

static void test_apply_create_update_delete(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("acme", "alpha", EP_A, NULL, NULL);
    set_labels(c, "tier", "gold", NULL);

    cr_value *st = cr_test_converge(fx, NULL, c);
    assert_int_equal(get_version(st), 1);
    assert_string_equal(get_str(st, "id"), "acme");
    const char *at = get_str(st, "updated_at");
    assert_non_null(at);
    assert_int_equal(strlen(at) >= 20, 1);
    assert_int_equal(at[4], '-');
    assert_int_equal(at[10], 'T');

    cr_entry *e = cr_test_map_get(fx->oob, "acme");
    assert_non_null(e);
    assert_string_equal(e->cell_id, "alpha");
    assert_string_equal(e->endpoint, EP_A);
    assert_int_equal(e->nlabels, 1);
    assert_int_equal(e->version, 1);
    cr_entry_free(e);

    /* Update: fail over to a standby and back; every write bumps the
     * version. */
    cr_value *c2 = config("acme", "beta", EP_B, "alpha", EP_A);
    set_labels(c2, "tier", "gold", NULL);
    cr_value *st2 = cr_test_converge(fx, st, c2);
    assert_int_equal(get_version(st2), 2);
    e = cr_test_map_get(fx->oob, "acme");
    assert_string_equal(e->cell_id, "beta");
    assert_string_equal(e->standby_cell_id, "alpha");
    assert_int_equal(e->version, 2);
    cr_entry_free(e);

    /* Delete. */
    cr_value *gone = cr_test_converge(fx, st2, NULL);
    assert_null(gone);
    e = cr_test_map_get(fx->oob, "acme");
    assert_null(e);

    cr_value_free(st2);
    cr_value_free(c2);
    cr_value_free(st);
    cr_value_free(c);
}

static void test_apply_keeps_labels_representation(void **state)
{
    fixture *fx = *state;
    cr_value *none = config("t-null", "alpha", EP_A, NULL, NULL);
    cr_value *empty = config("t-empty", "alpha", EP_A, NULL, NULL);
    set_labels(empty, NULL);

    cr_value *s1 = cr_test_converge(fx, NULL, none);
    cr_value *s2 = cr_test_converge(fx, NULL, empty);
    assert_true(is_null_attr(s1, "labels"));
    assert_int_equal(cr_value_get(s2, "labels")->kind, CR_MAP);

    /* And refresh keeps them, so the next plan is empty. */
    cr_value *r1 = NULL, *r2 = NULL;
    cr_diags d = CR_DIAGS_INIT;
    cr_test_read(R, &fx->p, s1, &r1, &d);
    cr_test_read(R, &fx->p, s2, &r2, &d);
    assert_int_equal(d.len, 0);
    assert_true(cr_value_equal(r1, s1));
    assert_true(cr_value_equal(r2, s2));

    cr_plan_resp pr;
    cr_test_plan(fx, r2, empty, &pr);
    assert_true(cr_value_equal(pr.planned, r2));
    cr_plan_resp_free(&pr);

    cr_value_free(r1);
    cr_value_free(r2);
    cr_value_free(s1);
    cr_value_free(s2);
    cr_value_free(none);
    cr_value_free(empty);
}

static void test_apply_create_over_existing(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("acme", "alpha", EP_A, NULL, NULL);
    cr_value *st = cr_test_converge(fx, NULL, c);

    /* A second configuration creating the same tenant. */
    cr_value *c2 = config("acme", "beta", EP_B, NULL, NULL);
    cr_plan_resp pr;
    cr_diags d = CR_DIAGS_INIT;
    cr_test_plan(fx, NULL, c2, &pr);
    cr_value *ns = cr_test_apply(fx, NULL, pr.planned, c2, &d);
    assert_null(ns);
    assert_int_equal(cr_test_errors(&d), 1);
    assert_string_equal(d.items[0].summary,
                        "Tenant acme is already in the routing map");
    cr_test_assert_contains(d.items[0].detail,
                            "terraform import cellrouter_tenant.<name> acme");
    cr_test_assert_contains(d.items[0].detail, "alpha");

    /* The entry is untouched. */
    cr_entry *e = cr_test_map_get(fx->oob, "acme");
    assert_string_equal(e->cell_id, "alpha");
    assert_int_equal(e->version, 1);
    cr_entry_free(e);

    cr_diags_free(&d);
    cr_plan_resp_free(&pr);
    cr_value_free(c2);
    cr_value_free(st);
    cr_value_free(c);
}

static void test_apply_update_conflict(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("acme", "alpha", EP_A, NULL, NULL);
    cr_value *st = cr_test_converge(fx, NULL, c);

    /* Terraform plans against version 1 ... */
    cr_value *c2 = config("acme", "gamma", EP_B, NULL, NULL);
    cr_plan_resp pr;
    cr_test_plan(fx, st, c2, &pr);
    /* ... someone fails the tenant over by hand before the apply ... */
    cr_test_map_set_cell(fx->oob, "acme", "beta");
    /* ... and the apply must not overwrite it. */
    cr_diags d = CR_DIAGS_INIT;
    cr_value *ns = cr_test_apply(fx, st, pr.planned, c2, &d);
    assert_int_equal(cr_test_errors(&d), 1);
    cr_test_assert_contains(d.items[0].detail, "acme");
    cr_test_assert_contains(d.items[0].detail, "version 1");
    cr_test_assert_contains(d.items[0].detail, "version 2");
    cr_test_assert_contains(d.items[0].detail,
                            "changed outside of Terraform since the last "
                            "refresh");
    cr_test_assert_contains(d.items[0].detail, "terraform plan again");
    assert_true(cr_value_equal(ns, st));

    cr_entry *e = cr_test_map_get(fx->oob, "acme");
    assert_string_equal(e->cell_id, "beta");
    assert_int_equal(e->version, 2);
    cr_entry_free(e);

    cr_value_free(ns);
    cr_diags_free(&d);
    cr_plan_resp_free(&pr);
    cr_value_free(c2);
    cr_value_free(st);
    cr_value_free(c);
}

/* An update of an entry deleted out of band: the store answers CONFLICT
 * with nothing (version 0), and the user reads that the entry was
 * deleted, not that "the map now holds version 0". */
static void test_apply_update_deleted_outside(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("acme", "alpha", EP_A, NULL, NULL);
    cr_value *st = cr_test_converge(fx, NULL, c);
    cr_value *c2 = config("acme", "gamma", EP_B, NULL, NULL);
    cr_plan_resp pr;
    cr_store_err err;
    cr_diags d = CR_DIAGS_INIT;

    cr_test_plan(fx, st, c2, &pr);
    assert_int_equal(cr_store_delete(fx->oob, "acme", CR_VERSION_ANY, &err),
                     CR_STORE_OK);
    cr_value *ns = cr_test_apply(fx, st, pr.planned, c2, &d);
    assert_int_equal(cr_test_errors(&d), 1);
    assert_string_equal(d.items[0].summary,
                        "Tenant removed outside Terraform");
    cr_test_assert_contains(d.items[0].detail, "acme");
    cr_test_assert_contains(d.items[0].detail, "deleted from the routing map "
                            "outside of Terraform");
    cr_test_assert_contains(d.items[0].detail, "version 1");
    assert_null(strstr(d.items[0].detail, "version 0"));
    assert_true(cr_value_equal(ns, st));
    /* Nothing was re-created behind the user's back. */
    cr_entry *e = cr_test_map_get(fx->oob, "acme");
    assert_null(e);

    cr_value_free(ns);
    cr_diags_free(&d);
    cr_plan_resp_free(&pr);
    cr_value_free(c2);
    cr_value_free(st);
    cr_value_free(c);
}

/* A key tagged by a cellrouter_tenants resource is not imported by a
 * cellrouter_tenant too, and a create over it names the owner. */
static void test_owned_by_tenants_resource(void **state)
{
    fixture *fx = *state;
    cr_entry *e = cr_entry_new();
    cr_store_err err;
    cr_diags d = CR_DIAGS_INIT;
    e->tenant_id = strdup("acme");
    e->cell_id = strdup("alpha");
    e->endpoint = strdup(EP_A);
    assert_int_equal(cr_entry_set_label(e, "cellrouter.owner", "fleet"), 0);
    assert_int_equal(cr_store_put(fx->oob, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_OK);
    cr_entry_free(e);

    cr_value *st = NULL, *fresh = NULL;
    cr_test_import(R, &fx->p, "acme", &st, &d);
    assert_int_equal(d.len, 0);
    cr_test_read(R, &fx->p, st, &fresh, &d);
    assert_int_equal(cr_test_errors(&d), 1);
    assert_string_equal(d.items[0].summary,
                        "Tenant managed by another resource");
    cr_test_assert_contains(d.items[0].detail, "\"fleet\"");
    cr_diags_free(&d);
    cr_value_free(fresh);
    cr_value_free(st);

    cr_value *c = config("acme", "alpha", EP_A, NULL, NULL);
    cr_plan_resp pr;
    cr_test_plan(fx, NULL, c, &pr);
    cr_value *ns = cr_test_apply(fx, NULL, pr.planned, c, &d);
    assert_null(ns);
    assert_int_equal(cr_test_errors(&d), 1);
    cr_test_assert_contains(d.items[0].detail, "managed by cellrouter_tenants "
                            "\"fleet\"");
    cr_diags_free(&d);
    cr_plan_resp_free(&pr);
    cr_value_free(c);
}

static void test_apply_delete_conflict_and_gone(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("acme", "alpha", EP_A, NULL, NULL);
    cr_value *st = cr_test_converge(fx, NULL, c);
    cr_diags d = CR_DIAGS_INIT;

    cr_test_map_set_cell(fx->oob, "acme", "beta");
    cr_value *ns = cr_test_apply(fx, st, NULL, NULL, &d);
    assert_int_equal(cr_test_errors(&d), 1);
    cr_test_assert_contains(d.items[0].detail, "version 1");
    cr_test_assert_contains(d.items[0].detail, "version 2");
    assert_true(cr_value_equal(ns, st));
    cr_entry *e = cr_test_map_get(fx->oob, "acme");
    assert_non_null(e);
    cr_entry_free(e);
    cr_value_free(ns);
    cr_diags_free(&d);

    /* Gone already: success with a warning. */
    cr_store_err err;
    assert_int_equal(cr_store_delete(fx->oob, "acme", CR_VERSION_ANY, &err),
                     CR_STORE_OK);
    ns = cr_test_apply(fx, st, NULL, NULL, &d);
    assert_null(ns);
    assert_int_equal(cr_test_errors(&d), 0);
    assert_int_equal(d.len, 1);
    assert_int_equal(d.items[0].severity, CR_DIAG_WARNING);
    cr_test_assert_contains(d.items[0].detail, "acme");
    cr_diags_free(&d);

    cr_value_free(st);
    cr_value_free(c);
}

/* A store failure reaches the user with its cause. Validation normally
 * stops a bad endpoint first; here the plan skips it, and the routing map's
 * own check refuses the write. */
static void test_apply_store_failure(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("acme", "alpha", "gopher://alpha.example.com/",
                         NULL, NULL);
    cr_plan_resp pr;
    cr_diags d = CR_DIAGS_INIT;
    cr_test_plan(fx, NULL, c, &pr);
    cr_value *ns = cr_test_apply(fx, NULL, pr.planned, c, &d);
    assert_null(ns);
    assert_int_equal(cr_test_errors(&d), 1);
    assert_string_equal(d.items[0].summary, "Could not create tenant");
    cr_test_assert_contains(d.items[0].detail, "acme");
    cr_test_assert_contains(d.items[0].detail, "endpoint");
    cr_entry *e = cr_test_map_get(fx->oob, "acme");
    assert_null(e);                             /* nothing written */
    cr_diags_free(&d);
    cr_plan_resp_free(&pr);
    cr_value_free(c);

    /* The same on update: the prior state comes back unchanged. */
    c = config("acme", "alpha", EP_A, NULL, NULL);
    cr_value *st = cr_test_converge(fx, NULL, c);
    cr_value *bad = config("acme", "alpha", "gopher://x/", NULL, NULL);
    cr_test_plan(fx, st, bad, &pr);
    ns = cr_test_apply(fx, st, pr.planned, bad, &d);
    assert_int_equal(cr_test_errors(&d), 1);
    assert_string_equal(d.items[0].summary, "Could not update tenant");
    assert_true(cr_value_equal(ns, st));
    e = cr_test_map_get(fx->oob, "acme");
    assert_string_equal(e->endpoint, EP_A);
    assert_int_equal(e->version, 1);
    cr_entry_free(e);
    cr_value_free(ns);
    cr_diags_free(&d);
    cr_plan_resp_free(&pr);
    cr_value_free(bad);
    cr_value_free(st);
    cr_value_free(c);
}

static void test_apply_labels_removed(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("acme", "alpha", EP_A, NULL, NULL);
    set_labels(c, "tier", "gold", "team", "payments", NULL);
    cr_value *st = cr_test_converge(fx, NULL, c);
    cr_value *c2 = config("acme", "alpha", EP_A, NULL, NULL);
    cr_value *st2 = cr_test_converge(fx, st, c2);
    assert_true(is_null_attr(st2, "labels"));
    cr_entry *e = cr_test_map_get(fx->oob, "acme");
    assert_int_equal(e->nlabels, 0);
    assert_false(e->has_labels);
    assert_int_equal(e->version, 2);
    cr_entry_free(e);
    cr_value_free(st2);
    cr_value_free(c2);
    cr_value_free(st);
    cr_value_free(c);
}

static void test_apply_not_configured(void **state)
{
    fixture *fx = *state;
    cr_provider_state none = { NULL, 0 };
    cr_value *c = config("acme", "alpha", EP_A, NULL, NULL);
    cr_plan_resp pr;
    cr_test_plan(fx, NULL, c, &pr);         /* planning needs no store */
    assert_int_equal(pr.diags.len, 0);

    cr_apply_req req = { NULL, pr.planned, c, {NULL, 0} };
    cr_apply_resp resp;
    memset(&resp, 0, sizeof resp);
    cr_resource_apply(R, &none, &req, &resp);
    assert_null(resp.new_state);
    assert_int_equal(cr_test_errors(&resp.diags), 1);
    assert_string_equal(resp.diags.items[0].summary,
                        "Provider not configured");
    cr_diags_free(&resp.diags);

    cr_value *ns = NULL;
    cr_diags d = CR_DIAGS_INIT;
    cr_value *st = cr_test_converge(fx, NULL, c);
    cr_test_read(R, &none, st, &ns, &d);
    assert_int_equal(cr_test_errors(&d), 1);
    assert_true(cr_value_equal(ns, st));    /* state kept, not dropped */
    cr_value_free(ns);
    cr_diags_free(&d);
    cr_value_free(st);
    cr_plan_resp_free(&pr);
    cr_value_free(c);
}

/* ---- read and import ---------------------------------------------------- */

static void test_read_drift_and_deletion(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("acme", "alpha", EP_A, NULL, NULL);
    cr_value *st = cr_test_converge(fx, NULL, c);
    cr_value *ns = NULL;
    cr_diags d = CR_DIAGS_INIT;

    /* Nothing changed: the same state. */
    cr_test_read(R, &fx->p, st, &ns, &d);
    assert_int_equal(d.len, 0);
    assert_true(cr_value_equal(ns, st));
    cr_value_free(ns);

    /* Changed by hand: the live values, so the plan shows drift and an
     * update back to the configuration, conditional on the new version. */
    cr_test_map_set_cell(fx->oob, "acme", "beta");
    cr_test_read(R, &fx->p, st, &ns, &d);
    assert_int_equal(d.len, 0);
    assert_true(cr_value_is_wholly_known(ns));
    assert_string_equal(get_str(ns, "cell_id"), "beta");
    assert_int_equal(get_version(ns), 2);
    cr_plan_resp pr;
    cr_test_plan(fx, ns, c, &pr);
    assert_string_equal(get_str(pr.planned, "cell_id"), "alpha");
    assert_true(is_unknown(pr.planned, "version"));
    cr_value *fixed = cr_test_apply(fx, ns, pr.planned, c, &d);
    assert_int_equal(cr_test_errors(&d), 0);
    assert_int_equal(get_version(fixed), 3);
    cr_plan_resp_free(&pr);
    cr_value_free(fixed);
    cr_value_free(ns);

    /* Deleted by hand: null, so Terraform plans to create it again. */
    cr_store_err err;
    assert_int_equal(cr_store_delete(fx->oob, "acme", CR_VERSION_ANY, &err),
                     CR_STORE_OK);
    ns = (cr_value *)&d;                /* must be overwritten with NULL */
    cr_test_read(R, &fx->p, st, &ns, &d);
    assert_int_equal(d.len, 0);
    assert_null(ns);

    cr_diags_free(&d);
    cr_value_free(st);
    cr_value_free(c);
}

static void test_import(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("acme", "alpha", EP_A, "beta", EP_B);
    set_labels(c, "tier", "gold", NULL);
    cr_value *st = cr_test_converge(fx, NULL, c);
    cr_value *imp = NULL, *ns = NULL;
    cr_diags d = CR_DIAGS_INIT;

    cr_test_import(R, &fx->p, "acme", &imp, &d);
    assert_int_equal(d.len, 0);
    assert_non_null(imp);
    assert_true(cr_value_is_wholly_known(imp));
    assert_string_equal(get_str(imp, "id"), "acme");
    assert_string_equal(get_str(imp, "tenant_id"), "acme");
    assert_true(is_null_attr(imp, "cell_id"));
    assert_true(is_null_attr(imp, "version"));

    /* ReadResource after import fills it in; then the configuration plans
     * no change. */
    cr_test_read(R, &fx->p, imp, &ns, &d);
    assert_int_equal(d.len, 0);
    assert_true(cr_value_equal(ns, st));
    cr_plan_resp pr;
    cr_test_plan(fx, ns, c, &pr);
    assert_true(cr_value_equal(pr.planned, ns));
    cr_plan_resp_free(&pr);
    cr_value_free(ns);

    /* Bad ids are diagnostics. */
    cr_value *bad = NULL;
    cr_test_import(R, &fx->p, "not a tenant", &bad, &d);
    assert_null(bad);
    assert_int_equal(cr_test_errors(&d), 1);
    cr_test_assert_contains(d.items[0].detail, "not a tenant");
    cr_diags_free(&d);
    cr_test_import(R, &fx->p, "", &bad, &d);
    assert_null(bad);
    assert_int_equal(cr_test_errors(&d), 1);
    cr_diags_free(&d);

    /* Importing a tenant the map does not hold: the read says null. */
    cr_value *ghost = NULL;
    cr_test_import(R, &fx->p, "ghost", &ghost, &d);
    assert_non_null(ghost);
    cr_value *ns2 = (cr_value *)&d;     /* must be overwritten with NULL */
    cr_test_read(R, &fx->p, ghost, &ns2, &d);
    assert_null(ns2);
    assert_int_equal(d.len, 0);

    cr_value_free(ghost);
    cr_value_free(imp);
    cr_value_free(st);
    cr_value_free(c);
}

static void test_schema_shape(void **state)
{
    (void)state;
    const cr_schema *s = R->schema;
    assert_int_equal(s->version, 0);
    assert_int_equal(R->nupgraders, 0);
    const cr_attr_schema *a = cr_schema_attr(s, "tenant_id");
    assert_non_null(a);
    assert_true(a->flags & CR_ATTR_REQUIRED);
    assert_true(a->flags & CR_ATTR_FORCE_NEW);
    a = cr_schema_attr(s, "version");
    assert_int_equal(a->flags, CR_ATTR_COMPUTED);
    assert_true(cr_type_equal(a->type, &cr_type_number));
    a = cr_schema_attr(s, "labels");
    assert_int_equal(a->type->kind, CR_TYPE_MAP);
    assert_true(cr_type_equal(a->type->elem, &cr_type_string));
    /* Terraform's schema rules: required excludes optional and computed;
     * every attribute has a description. */
    for (size_t i = 0; i < s->nattrs; i++) {
        unsigned f = s->attrs[i].flags;
        assert_true(f & (CR_ATTR_REQUIRED | CR_ATTR_OPTIONAL |
                         CR_ATTR_COMPUTED));
        if (f & CR_ATTR_REQUIRED)
            assert_false(f & (CR_ATTR_OPTIONAL | CR_ATTR_COMPUTED));
        assert_non_null(s->attrs[i].description);
        assert_true(strlen(s->attrs[i].description) > 10);
    }
    assert_int_equal(T()->nattrs, s->nattrs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_unknowns_never_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_standby_rules, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_validate_label_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_validate_missing_and_nul, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plan_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_update_noop_replace_destroy,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_create_update_delete,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_keeps_labels_representation,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_create_over_existing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_update_conflict, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_apply_update_deleted_outside,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_owned_by_tenants_resource,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_delete_conflict_and_gone,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_store_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_apply_labels_removed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_apply_not_configured, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_drift_and_deletion, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_import, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
