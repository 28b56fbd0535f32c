/*
 * tests/unit/test_tenants.c — the cellrouter_tenants resource against a real
 * SQLite routing map in a temporary directory.
 *
 * Each test plays Terraform's part as test_tenant.c does: configuration,
 * prior state and proposed new state built as Terraform builds them
 * (objchange.ProposedNew for a map nested attribute: elements matched by
 * key, computed attributes null in the configuration taken from the prior
 * element), the resource's functions called, and Terraform's checks on
 * plans and results applied (the rpc layer's own plan check included).
 * Out-of-band changes go through a second store handle, as cellctl makes
 * them. A store wrapper injects a failure into one chosen batch.
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
#include "store/backend.h"
#include "support/support.h"

/* A resource against a temporary routing map (tests/unit/support). */
typedef cr_test_rfx fixture;

static const cr_resource_type *R;

static int setup(void **state)
{
    fixture *fx = cr_test_rfx_new("tenants", "cellrouter_tenants");
    R = fx->type;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    cr_test_rfx_free(*state);
    return 0;
}

/* ---- a store that fails one chosen batch -------------------------------- */

typedef struct faulty {
    cr_store base;
    cr_store *inner;
    int batches;            /* batch calls so far */
    int fail_at;            /* 1-based batch call that fails with IO */
} faulty;

#define INNER(s) (((faulty *)(s))->inner)

static cr_store_rc f_get(cr_store *s, const char *id, cr_entry **out,
                         cr_store_err *err)
{ return cr_store_get(INNER(s), id, out, err); }
static cr_store_rc f_put(cr_store *s, const cr_entry *in, int64_t expect,
                         cr_entry **w, cr_store_err *err)
{ return cr_store_put(INNER(s), in, expect, w, err); }
static cr_store_rc f_del(cr_store *s, const char *id, int64_t expect,
                         cr_store_err *err)
{ return cr_store_delete(INNER(s), id, expect, err); }
static cr_store_rc f_list(cr_store *s, const char *prefix, cr_entry_list *out,
                          cr_store_err *err)
{ return cr_store_list(INNER(s), prefix, out, err); }
static cr_store_rc f_get_many(cr_store *s, const char *const *ids, size_t n,
                              cr_entry_list *out, cr_store_err *err)
{ return cr_store_get_many(INNER(s), ids, n, out, err); }
static cr_store_rc f_batch(cr_store *s, cr_batch_op *ops, size_t n,
                           cr_store_err *err)
{
    faulty *f = (faulty *)s;
    if (++f->batches == f->fail_at)
        return cr_store_err_set(err, CR_STORE_IO,
                                "injected failure in batch %d", f->batches);
    return cr_store_batch(f->inner, ops, n, err);
}
static void f_close(cr_store *s)
{
    cr_store_close(INNER(s));
    free(s);
}

static const cr_store_ops faulty_ops = {
    .name = "faulty", .get = f_get, .put = f_put, .del = f_del,
    .list = f_list, .close = f_close, .batch = f_batch,
    .get_many = f_get_many,
};

/* A store limit like Workers KV's metadata size: an entry whose labels
 * hold more than 64 bytes in all (the owner tag counted) does not fit. */
static const char *f_fits(cr_store *s, const cr_entry *e, char *buf,
                          size_t bufsz)
{
    (void)s;
    size_t n = 0;
    for (size_t i = 0; i < e->nlabels; i++)
        n += strlen(e->labels[i].key) + strlen(e->labels[i].value);
    if (n <= 64)
        return NULL;
    snprintf(buf, bufsz, "labels take %zu bytes, at most 64", n);
    return buf;
}

static const cr_store_ops limited_ops = {
    .name = "limited", .get = f_get, .put = f_put, .del = f_del,
    .list = f_list, .close = f_close, .batch = f_batch,
    .get_many = f_get_many, .fits = f_fits,
};

/* Wraps the fixture's store so that batch number `fail_at` fails. */
static faulty *make_faulty(fixture *fx, int fail_at)
{
    faulty *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->base.ops = &faulty_ops;
    f->inner = fx->p.store;
    f->fail_at = fail_at;
    fx->p.store = &f->base;
    return f;
}

/* ---- building values as Terraform would --------------------------------- */

static const cr_type *T(void)
{
    return cr_test_type(R->schema);
}

static const cr_type *map_type(void)
{
    return cr_test_attr_type(T(), "tenants");
}

static const cr_type *entry_type(void)
{
    return map_type()->elem;
}

#define EP_A "https://alpha.cells.example.com/ingest"
#define EP_B "https://beta.cells.example.com/ingest"

/* One configured entry (computed attributes null). */
static cr_value *elem(const char *cell, const char *ep, const char *sb_cell,
                      const char *sb_ep)
{
    cr_value *o = cr_value_object(entry_type());
    assert_non_null(o);
    cr_test_set_str(o, "cell_id", cell);
    cr_test_set_str(o, "endpoint", ep);
    cr_test_set_str(o, "standby_cell_id", sb_cell);
    cr_test_set_str(o, "standby_endpoint", sb_ep);
    return o;
}

/* A configuration: name, and an empty map to fill with put(). */
static cr_value *config(const char *name)
{
    cr_value *o = cr_value_object(T());
    assert_non_null(o);
    cr_test_set_str(o, "name", name);
    cr_test_set(o, "tenants", cr_value_collection(map_type()));
    return o;
}

static cr_value *tenants_of(const cr_value *cfg)
{
    return (cr_value *)cr_value_get(cfg, "tenants");
}

static void put(cr_value *cfg, const char *key, cr_value *e)
{
    assert_int_equal(cr_value_map_put(tenants_of(cfg), key, e), 0);
}

/* t00000 .. t<n-1>: cells alpha/beta by parity, standby the other. */
static void fill(cr_value *cfg, size_t n)
{
    char key[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "t%05zu", i);
        put(cfg, key, i % 2 ? elem("beta", EP_B, "alpha", EP_A)
                            : elem("alpha", EP_A, "beta", EP_B));
    }
}

/* ---- running Terraform's steps (tests/unit/support) -------------------- */

static cr_value *read_state(fixture *fx, const cr_value *st, cr_diags *d)
{
    cr_value *ns = NULL;
    cr_test_read(R, &fx->p, st, &ns, d);
    return ns;
}

static const cr_value *entry_of(const cr_value *st, const char *key)
{
    return cr_value_get(cr_value_get(st, "tenants"), key);
}

static int64_t version_of(const cr_value *st, const char *key)
{
    const cr_value *v = cr_value_get(entry_of(st, key), "version");
    assert_non_null(v);
    assert_int_equal(v->kind, CR_NUMBER);
    return v->u.num.i;
}

static bool version_unknown(const cr_value *st, const char *key)
{
    const cr_value *v = cr_value_get(entry_of(st, key), "version");
    return v && cr_value_is_unknown(v);
}

/* Keys of a planned map whose version is unknown (to be written). */
static size_t count_changed(const cr_value *planned)
{
    const cr_value *m = cr_value_get(planned, "tenants");
    size_t n = 0;
    for (size_t i = 0; i < m->u.coll.len; i++)
        n += cr_value_is_unknown(cr_value_get(m->u.coll.items[i], "version"));
    return n;
}

static size_t map_len(const cr_value *st)
{
    return cr_value_get(st, "tenants")->u.coll.len;
}

static size_t map_count(fixture *fx)
{
    cr_entry_list l;
    cr_store_err err;
    assert_int_equal(cr_store_list(fx->oob, "", &l, &err), CR_STORE_OK);
    size_t n = l.len;
    cr_entry_list_free(&l);
    return n;
}

/* cellctl: an unconditional out-of-band write of a whole entry. */
static void map_put(fixture *fx, const char *tid, const char *cell,
                    const char *owner)
{
    cr_entry e;
    cr_store_err err;
    memset(&e, 0, sizeof e);
    e.tenant_id = (char *)tid;
    e.cell_id = (char *)cell;
    e.endpoint = (char *)EP_A;
    cr_entry *c = cr_entry_new();
    assert_non_null(c);
    assert_int_equal(cr_entry_copy(c, &e), 0);
    if (owner)
        assert_int_equal(cr_entry_set_label(c, CR_OWNER_LABEL, owner), 0);
    assert_int_equal(cr_store_put(fx->oob, c, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_OK);
    cr_entry_free(c);
}

/* ---- validate ----------------------------------------------------------- */

static void test_validate(void **state)
{
    (void)state;
    cr_diags d = CR_DIAGS_INIT;
    cr_value *c = config("fleet");
    fill(c, 3);
    cr_resource_validate(R, c, &d);
    assert_int_equal(d.len, 0);
    cr_value_free(c);

    c = config("-bad");
    put(c, "ok", elem("alpha", EP_A, NULL, NULL));
    put(c, "-nope", elem("alpha", EP_A, NULL, NULL));
    put(c, "x1", elem("Alpha", "ftp://x", NULL, NULL));
    put(c, "x2", elem("alpha", EP_A, "alpha", EP_B));
    cr_value *e3 = elem("alpha", EP_A, NULL, NULL);
    cr_value *labels = cr_value_collection(&cr_ev_map_of_string);
    assert_int_equal(cr_value_map_put(labels, CR_OWNER_LABEL,
                                      cr_value_string("other")), 0);
    cr_test_set(e3, "labels", labels);
    put(c, "x3", e3);
    /* Unknowns are never errors. */
    cr_value *e4 = elem("alpha", EP_A, NULL, NULL);
    cr_test_set(e4, "cell_id", cr_value_unknown(&cr_type_string));
    cr_test_set(e4, "standby_cell_id", cr_value_unknown(&cr_type_string));
    put(c, "x4", e4);
    cr_resource_validate(R, c, &d);
    assert_true(cr_test_diag_at(&d, "name"));
    assert_true(cr_test_diag_at(&d, "tenants[\"-nope\"]"));
    assert_true(cr_test_diag_at(&d, "tenants[\"x1\"].cell_id"));
    assert_true(cr_test_diag_at(&d, "tenants[\"x1\"].endpoint"));
    assert_true(cr_test_diag_at(&d, "tenants[\"x2\"].standby_cell_id"));
    assert_true(cr_test_diag_at(&d, "tenants[\"x3\"].labels[\"" CR_OWNER_LABEL
                                "\"]"));
    assert_int_equal(cr_test_errors(&d), 6);
    cr_diags_free(&d);
    cr_value_free(c);
}

/* ---- plan, apply, read -------------------------------------------------- */

/* 2,500 tenants: three batches on create; then a plan with no change is
 * the prior state exactly (no diff anywhere). */
static void test_create_and_noop_plan(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("fleet");
    fill(c, 2500);
    cr_plan_resp pr;
    cr_test_plan(fx, NULL, c, &pr);
    assert_int_equal(cr_test_errors(&pr.diags), 0);
    assert_int_equal(count_changed(pr.planned), 2500);
    assert_string_equal(cr_value_get_str(pr.planned, "id"), "fleet");
    cr_plan_resp_free(&pr);

    cr_value *st = cr_test_converge(fx, NULL, c);
    assert_int_equal(map_len(st), 2500);
    assert_int_equal(map_count(fx), 2500);
    assert_int_equal(version_of(st, "t00000"), 1);
    cr_entry *e = cr_test_map_get(fx->oob, "t02499");
    assert_non_null(e);
    assert_string_equal(e->cell_id, "beta");
    assert_string_equal(cr_entry_label(e, CR_OWNER_LABEL), "fleet");
    cr_entry_free(e);
    /* The owner tag is the provider's: not in the state's labels. */
    assert_true(cr_value_is_null(cr_value_get(entry_of(st, "t00001"),
                                              "labels")));

    /* Refresh finds nothing changed, and the plan is the state. */
    cr_diags d = CR_DIAGS_INIT;
    cr_value *fresh = read_state(fx, st, &d);
    assert_int_equal(d.len, 0);
    assert_true(cr_value_equal(fresh, st));
    cr_test_plan(fx, fresh, c, &pr);
    assert_int_equal(cr_test_errors(&pr.diags), 0);
    assert_true(cr_value_equal(pr.planned, st));
    cr_plan_resp_free(&pr);

    cr_value_free(fresh);
    cr_value_free(st);
    cr_value_free(c);
}

/* An entry the store cannot hold fails the plan, named at its key, with
 * the owner tag the write would add counted; entries that do not change
 * are not checked again. */
static void test_plan_refuses_what_does_not_fit(void **state)
{
    fixture *fx = *state;
    faulty *f = make_faulty(fx, 0);
    f->base.ops = &limited_ops;
    cr_value *c = config("fleet");
    fill(c, 3);
    cr_value *st = cr_test_converge(fx, NULL, c);

    /* 60 bytes of labels: fits alone, not with the tag "cellrouter.owner"
     * = "fleet". */
    cr_value *c2 = cr_value_copy(c);
    assert_non_null(c2);
    cr_value *labels = cr_value_collection(&cr_ev_map_of_string);
    assert_int_equal(cr_value_map_put(labels, "k",
                                      cr_value_string("0123456789012345678901"
                                                      "2345678901234567890123"
                                                      "456789012345678")), 0);
    cr_test_set((cr_value *)cr_value_get(tenants_of(c2), "t00001"), "labels",
                labels);
    cr_plan_resp pr;
    cr_test_plan(fx, st, c2, &pr);
    assert_int_equal(cr_test_errors(&pr.diags), 1);
    assert_true(cr_test_diag_at(&pr.diags, "tenants[\"t00001\"]"));
    const cr_diag *g =
        cr_test_find_diag(&pr.diags, "Entry too large for the routing map");
    cr_test_assert_contains(g->detail, "Tenant t00001: labels take 81 bytes");
    cr_plan_resp_free(&pr);

    cr_value_free(c2);
    cr_value_free(st);
    cr_value_free(c);
}

/* Given the owning pointer to the proposed state, the plan adopts it
 * rather than copying it (the rpc layer's 100,000-tenant fast path), and
 * is the same plan as the copying one. */
static void test_plan_adopts_proposed(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("fleet");
    fill(c, 300);
    cr_value *st = cr_test_converge(fx, NULL, c);
    /* One entry changes: its version must become unknown either way. */
    cr_value *c2 = config("fleet");
    fill(c2, 300);
    put(c2, "t00007", elem("gamma", EP_A, "beta", EP_B));

    cr_plan_resp copied;
    cr_test_plan(fx, st, c2, &copied);
    assert_int_equal(cr_test_errors(&copied.diags), 0);

    cr_value *prop = cr_test_proposed(R->schema, c2, st);
    cr_value *owner = prop;
    cr_plan_req req = { st, prop, c2, &owner, {NULL, 0} };
    cr_plan_resp adopted;
    memset(&adopted, 0, sizeof adopted);
    cr_resource_plan(R, &fx->p, &req, &adopted);
    assert_int_equal(cr_test_errors(&adopted.diags), 0);
    assert_null(owner);
    assert_ptr_equal(adopted.planned, prop);
    assert_true(cr_value_equal(adopted.planned, copied.planned));
    assert_int_equal(count_changed(adopted.planned), 1);

    cr_plan_resp_free(&adopted);
    cr_plan_resp_free(&copied);
    cr_value_free(st);
    cr_value_free(c2);
    cr_value_free(c);
}

/* Only changed entries are written; unchanged ones keep version and time;
 * entries the resource does not list are never touched. */
static void test_update_writes_only_changes(void **state)
{
    fixture *fx = *state;
    map_put(fx, "zz-cellctl", "gamma", NULL);
    cr_value *c = config("fleet");
    fill(c, 20);
    cr_value *st = cr_test_converge(fx, NULL, c);

    cr_value *c2 = config("fleet");
    fill(c2, 20);
    put(c2, "t00003", elem("gamma", EP_B, NULL, NULL));     /* changed */
    put(c2, "t00100", elem("gamma", EP_B, NULL, NULL));     /* added */
    assert_int_equal(cr_value_map_put(tenants_of(c2), "t00007",
                                      elem("alpha", EP_A, "beta", EP_B)),
                     0);    /* t00007 was beta: now alpha: changed */
    cr_plan_resp pr;
    cr_test_plan(fx, st, c2, &pr);
    assert_int_equal(cr_test_errors(&pr.diags), 0);
    assert_int_equal(count_changed(pr.planned), 3);
    assert_true(version_unknown(pr.planned, "t00003"));
    assert_true(version_unknown(pr.planned, "t00100"));
    assert_true(cr_value_equal(entry_of(pr.planned, "t00004"),
                               entry_of(st, "t00004")));
    cr_plan_resp_free(&pr);

    /* Remove one as well. */
    cr_value *m = tenants_of(c2);
    cr_value *m2 = cr_value_collection(map_type());
    for (size_t i = 0; i < m->u.coll.len; i++)
        if (strcmp(m->u.coll.keys[i], "t00010") != 0)
            assert_int_equal(cr_value_map_put(m2, m->u.coll.keys[i],
                             cr_value_copy(m->u.coll.items[i])), 0);
    cr_test_set(c2, "tenants", m2);

    cr_value *st2 = cr_test_converge(fx, st, c2);
    assert_int_equal(version_of(st2, "t00003"), 2);
    assert_int_equal(version_of(st2, "t00100"), 1);
    assert_int_equal(version_of(st2, "t00004"), 1);
    assert_true(cr_value_equal(entry_of(st2, "t00004"),
                               entry_of(st, "t00004")));
    assert_null(entry_of(st2, "t00010"));
    cr_entry *e = cr_test_map_get(fx->oob, "t00010");
    assert_null(e);
    e = cr_test_map_get(fx->oob, "t00004");
    assert_int_equal(e->version, 1);
    cr_entry_free(e);
    e = cr_test_map_get(fx->oob, "zz-cellctl");
    assert_non_null(e);
    assert_int_equal(e->version, 1);
    cr_entry_free(e);

    /* Destroy deletes exactly the owned keys. */
    cr_diags d = CR_DIAGS_INIT;
    cr_value *gone = cr_test_apply(fx, st2, NULL, NULL, &d);
    assert_null(gone);
    assert_int_equal(d.len, 0);
    assert_int_equal(map_count(fx), 1);

    cr_value_free(st2);
    cr_value_free(c2);
    cr_value_free(st);
    cr_value_free(c);
}

/* Out-of-band edits and deletions show as drift on exactly those keys. */
static void test_read_drift(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("fleet");
    fill(c, 50);
    cr_value *st = cr_test_converge(fx, NULL, c);
    cr_store_err err;

    cr_test_map_set_cell(fx->oob, "t00005", "gamma");
    cr_test_map_set_cell(fx->oob, "t00017", "delta");
    assert_int_equal(cr_store_delete(fx->oob, "t00030", CR_VERSION_ANY, &err),
                     CR_STORE_OK);
    cr_diags d = CR_DIAGS_INIT;
    cr_value *fresh = read_state(fx, st, &d);
    assert_int_equal(d.len, 0);
    assert_int_equal(map_len(fresh), 49);
    assert_null(entry_of(fresh, "t00030"));
    size_t differ = 0;
    const cr_value *m = cr_value_get(st, "tenants");
    for (size_t i = 0; i < m->u.coll.len; i++) {
        const cr_value *f = entry_of(fresh, m->u.coll.keys[i]);
        differ += f && !cr_value_equal(f, m->u.coll.items[i]);
    }
    assert_int_equal(differ, 2);
    assert_string_equal(cr_value_get_str(entry_of(fresh, "t00005"),
                                         "cell_id"), "gamma");
    assert_int_equal(version_of(fresh, "t00017"), 2);

    /* The plan repairs exactly those three. */
    cr_plan_resp pr;
    cr_test_plan(fx, fresh, c, &pr);
    assert_int_equal(cr_test_errors(&pr.diags), 0);
    assert_int_equal(count_changed(pr.planned), 3);
    cr_plan_resp_free(&pr);
    cr_value *st2 = cr_test_converge(fx, fresh, c);
    assert_string_equal(cr_value_get_str(entry_of(st2, "t00005"), "cell_id"),
                        "beta");
    assert_int_equal(version_of(st2, "t00030"), 2);  /* versions go on */

    cr_value_free(st2);
    cr_value_free(fresh);
    cr_value_free(st);
    cr_value_free(c);
}

/* A change made between refresh and apply: the batch is refused, the
 * conflicting keys are named, and nothing of that batch is written. */
static void test_conflict_names_keys(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("fleet");
    fill(c, 10);
    cr_value *st = cr_test_converge(fx, NULL, c);
    cr_store_err err;

    cr_value *c2 = config("fleet");
    fill(c2, 10);
    put(c2, "t00002", elem("gamma", EP_B, NULL, NULL));
    put(c2, "t00004", elem("gamma", EP_B, NULL, NULL));
    put(c2, "t00006", elem("gamma", EP_B, NULL, NULL));
    cr_plan_resp pr;
    cr_test_plan(fx, st, c2, &pr);
    cr_test_map_set_cell(fx->oob, "t00004", "delta");
    assert_int_equal(cr_store_delete(fx->oob, "t00006", CR_VERSION_ANY, &err),
                     CR_STORE_OK);
    cr_diags d = CR_DIAGS_INIT;
    cr_value *ns = cr_test_apply(fx, st, pr.planned, c2, &d);
    assert_int_equal(cr_test_errors(&d), 1);
    const cr_diag *g = cr_test_find_diag(&d, "Routing map entries changed");
    cr_test_assert_contains(g->detail, "t00004 (Terraform last saw version 1, "
                                       "the map holds 2)");
    cr_test_assert_contains(g->detail, "t00006 (deleted outside Terraform)");
    assert_null(strstr(g->detail, "t00002"));
    /* Nothing written: the state is the prior one, and so is the map. */
    assert_true(cr_value_equal(ns, st));
    cr_entry *e = cr_test_map_get(fx->oob, "t00002");
    assert_string_equal(e->cell_id, "alpha");
    assert_int_equal(e->version, 1);
    cr_entry_free(e);

    cr_value_free(ns);
    cr_diags_free(&d);
    cr_plan_resp_free(&pr);
    cr_value_free(c2);
    cr_value_free(st);
    cr_value_free(c);
}

/* Adding a key that is already in the map is refused naming it, at plan
 * and (when it appeared after the plan) at apply; a key of another
 * cellrouter_tenants resource names that resource. */
static void test_existing_and_foreign_keys(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("fleet");
    fill(c, 5);
    cr_plan_resp pr;
    cr_test_plan(fx, NULL, c, &pr);
    assert_int_equal(cr_test_errors(&pr.diags), 0);
    map_put(fx, "t00001", "gamma", NULL);
    map_put(fx, "t00002", "gamma", "other-fleet");

    /* A plan made now refuses them, each at its key. */
    cr_plan_resp pr2;
    cr_test_plan(fx, NULL, c, &pr2);
    assert_int_equal(cr_test_errors(&pr2.diags), 2);
    assert_true(cr_test_diag_at(&pr2.diags, "tenants[\"t00001\"]"));
    assert_true(cr_test_diag_at(&pr2.diags, "tenants[\"t00002\"]"));
    const cr_diag *g = cr_test_find_diag(&pr2.diags,
                                         "Tenant already in the routing map");
    cr_test_assert_contains(g->detail, "terraform import "
                                       "cellrouter_tenants.<name> "
                                       "'fleet/t00001'");
    cr_test_assert_contains(pr2.diags.items[1].detail,
                            "managed by cellrouter_tenants \"other-fleet\"");
    cr_plan_resp_free(&pr2);

    /* The plan made before they appeared: refused at apply. */
    cr_diags d = CR_DIAGS_INIT;
    cr_value *ns = cr_test_apply(fx, NULL, pr.planned, c, &d);
    g = cr_test_find_diag(&d, "Tenants already in the routing map");
    cr_test_assert_contains(g->detail, "t00001");
    cr_test_assert_contains(g->detail, "t00002 (managed by cellrouter_tenants "
                    "\"other-fleet\")");
    cr_test_assert_contains(g->detail, "terraform import "
                                       "cellrouter_tenants.<name> "
                                       "'fleet/<id>,<id>'");
    assert_null(strstr(g->detail, "t00003"));
    /* A create that wrote nothing leaves nothing. */
    assert_null(ns);
    assert_int_equal(map_count(fx), 2);
    cr_entry *e = cr_test_map_get(fx->oob, "t00001");
    assert_string_equal(e->cell_id, "gamma");
    cr_entry_free(e);

    cr_diags_free(&d);
    cr_plan_resp_free(&pr);
    cr_value_free(c);
}

/* A failure in the second batch: the first batch stays written and is in
 * the state, the rest is not, and the next plan shows exactly the rest. */
static void test_partial_failure(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("fleet");
    fill(c, 2500);
    faulty *f = make_faulty(fx, 2);
    cr_plan_resp pr;
    cr_test_plan(fx, NULL, c, &pr);
    cr_diags d = CR_DIAGS_INIT;
    cr_value *st = cr_test_apply(fx, NULL, pr.planned, c, &d);
    assert_int_equal(cr_test_errors(&d), 1);
    const cr_diag *g = cr_test_find_diag(&d, "Could not write the routing map");
    cr_test_assert_contains(g->detail, "injected failure in batch 2");
    g = cr_test_find_diag(&d, "Routing map partly written");
    cr_test_assert_contains(g->detail, "1000 of 2500 changes were written");
    assert_int_equal(f->batches, 2);        /* batch 3 never tried */
    assert_non_null(st);
    assert_true(cr_value_is_wholly_known(st));
    assert_int_equal(map_len(st), 1000);
    assert_int_equal(map_count(fx), 1000);
    assert_int_equal(version_of(st, "t00999"), 1);
    assert_null(entry_of(st, "t01000"));
    cr_diags_free(&d);
    cr_plan_resp_free(&pr);

    /* Next run: the plan writes exactly the 1,500 left, and succeeds. */
    cr_value *fresh = read_state(fx, st, &d);
    assert_true(cr_value_equal(fresh, st));
    cr_test_plan(fx, fresh, c, &pr);
    assert_int_equal(count_changed(pr.planned), 1500);
    cr_plan_resp_free(&pr);
    cr_value *st2 = cr_test_converge(fx, fresh, c);
    assert_int_equal(map_len(st2), 2500);
    assert_int_equal(map_count(fx), 2500);
    assert_int_equal(version_of(st2, "t00000"), 1);     /* not rewritten */
    assert_int_equal(version_of(st2, "t02499"), 1);

    /* An update failing in its first batch keeps the prior state. */
    cr_value *c3 = config("fleet");
    fill(c3, 2500);
    put(c3, "t00000", elem("gamma", EP_B, NULL, NULL));
    f->batches = 0;
    f->fail_at = 1;
    cr_test_plan(fx, st2, c3, &pr);
    cr_value *st3 = cr_test_apply(fx, st2, pr.planned, c3, &d);
    assert_int_equal(cr_test_errors(&d), 1);
    assert_true(cr_value_equal(st3, st2));

    cr_value_free(st3);
    cr_value_free(c3);
    cr_diags_free(&d);
    cr_plan_resp_free(&pr);
    cr_value_free(st2);
    cr_value_free(fresh);
    cr_value_free(st);
    cr_value_free(c);
}

/* Renaming re-tags every entry (all are written again). */
static void test_rename_retags(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("fleet");
    fill(c, 3);
    cr_value *st = cr_test_converge(fx, NULL, c);
    cr_value *c2 = config("fleet-eu");
    fill(c2, 3);
    cr_value *st2 = cr_test_converge(fx, st, c2);
    assert_int_equal(version_of(st2, "t00002"), 2);
    cr_entry *e = cr_test_map_get(fx->oob, "t00002");
    assert_string_equal(cr_entry_label(e, CR_OWNER_LABEL), "fleet-eu");
    cr_entry_free(e);
    cr_value_free(st2);
    cr_value_free(c2);
    cr_value_free(st);
    cr_value_free(c);
}

/* ---- import ------------------------------------------------------------- */

static cr_value *import(fixture *fx, const char *id, cr_diags *d)
{
    cr_value *st = NULL;
    cr_test_import(R, &fx->p, id, &st, d);
    return st;
}

static void test_import(void **state)
{
    fixture *fx = *state;
    cr_diags d = CR_DIAGS_INIT;
    map_put(fx, "eu-1", "alpha", NULL);
    map_put(fx, "eu-2", "beta", NULL);
    map_put(fx, "us-1", "alpha", NULL);

    /* By list, naming the resource. */
    cr_value *st = import(fx, "fleet/us-1,eu-2", &d);
    assert_int_equal(d.len, 0);
    assert_int_equal(map_len(st), 2);
    cr_value *fresh = read_state(fx, st, &d);
    assert_int_equal(d.len, 0);
    assert_string_equal(cr_value_get_str(fresh, "name"), "fleet");
    assert_string_equal(cr_value_get_str(fresh, "id"), "fleet");
    assert_string_equal(cr_value_get_str(entry_of(fresh, "eu-2"), "cell_id"),
                        "beta");
    assert_int_equal(version_of(fresh, "us-1"), 1);
    /* A configuration matching the map plans no change at all; an entry
     * imported without the owner tag gets it with its next write. */
    cr_value *c = config("fleet");
    put(c, "us-1", elem("alpha", EP_A, NULL, NULL));
    put(c, "eu-2", elem("beta", EP_A, NULL, NULL));
    cr_plan_resp pr;
    cr_test_plan(fx, fresh, c, &pr);
    assert_int_equal(cr_test_errors(&pr.diags), 0);
    assert_true(cr_value_equal(pr.planned, fresh));
    cr_plan_resp_free(&pr);
    put(c, "us-1", elem("gamma", EP_A, NULL, NULL));
    cr_value *st2 = cr_test_converge(fx, fresh, c);
    cr_entry *e = cr_test_map_get(fx->oob, "us-1");
    assert_string_equal(cr_entry_label(e, CR_OWNER_LABEL), "fleet");
    cr_entry_free(e);
    e = cr_test_map_get(fx->oob, "eu-2");
    assert_null(cr_entry_label(e, CR_OWNER_LABEL));
    cr_entry_free(e);
    cr_value_free(c);
    cr_value_free(fresh);
    cr_value_free(st);

    /* By prefix, without a name: the tag the entries carry is adopted. */
    st = import(fx, "prefix:us-", &d);
    assert_int_equal(d.len, 0);
    assert_int_equal(map_len(st), 1);
    fresh = read_state(fx, st, &d);
    assert_int_equal(d.len, 0);
    assert_string_equal(cr_value_get_str(fresh, "name"), "fleet");
    cr_value_free(fresh);
    cr_value_free(st);

    /* Another resource's key is refused; so are keys not in the map. */
    st = import(fx, "other/prefix:", &d);
    assert_int_equal(d.len, 0);
    assert_int_equal(map_len(st), 3);
    fresh = read_state(fx, st, &d);
    const cr_diag *g =
        cr_test_find_diag(&d, "Tenants managed by another resource");
    cr_test_assert_contains(g->detail, "1 tenant(s)");
    cr_test_assert_contains(g->detail, "us-1 (\"fleet\")");
    assert_null(strstr(g->detail, "eu-"));
    cr_diags_free(&d);
    cr_value_free(fresh);
    cr_value_free(st);
    st = import(fx, "eu-1,nope", &d);
    fresh = read_state(fx, st, &d);
    g = cr_test_find_diag(&d, "Cannot import non-existent tenants");
    cr_test_assert_contains(g->detail, "nope");
    cr_diags_free(&d);
    cr_value_free(fresh);
    cr_value_free(st);

    /* Bad ids. */
    static const char *const bad[] = { "", "a,,b/", "x,-y", "a,a",
                                       "bad name/a", "prefix:-x",
                                       "prefix:zz" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st = import(fx, bad[i], &d);
        if (cr_test_errors(&d) != 1)
            fprintf(stderr, "import id \"%s\"\n", bad[i]);
        assert_int_equal(cr_test_errors(&d), 1);
        assert_null(st);
        cr_diags_free(&d);
    }
    cr_value_free(st2);
}

/* ---- the rpc layer's plan rule on nested elements ----------------------- */

/* A plan that changes a configured value inside one element, or drops a
 * key, is refused at that element's path. */
static void test_plan_check_nested(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("fleet");
    fill(c, 4);
    cr_value *st = cr_test_converge(fx, NULL, c);
    cr_value *bad = cr_value_copy(st);
    cr_value *m = tenants_of(bad);
    cr_test_set_str((cr_value *)cr_value_get(m, "t00002"), "cell_id", "gamma");
    cr_diags d = CR_DIAGS_INIT;
    cr_rpc_check_plan(R->schema, st, c, bad, &d);
    assert_int_equal(cr_test_errors(&d), 1);
    assert_true(cr_test_diag_at(&d, "tenants[\"t00002\"].cell_id"));
    cr_diags_free(&d);
    /* Computed attributes inside may change (unknown). */
    cr_test_set_str((cr_value *)cr_value_get(m, "t00002"), "cell_id", "alpha");
    cr_test_set((cr_value *)cr_value_get(m, "t00002"), "version",
                cr_value_unknown(&cr_type_number));
    cr_rpc_check_plan(R->schema, st, c, bad, &d);
    assert_int_equal(d.len, 0);
    cr_value_free(bad);
    cr_value_free(st);
    cr_value_free(c);
}

/* States and plans no Terraform would send (a null element, a key that
 * is no tenant id, an unknown map at apply): diagnostics, never a crash,
 * and nothing written that should not be. */
static void test_hostile_values(void **state)
{
    fixture *fx = *state;
    cr_value *c = config("fleet");
    fill(c, 3);
    cr_value *st = cr_test_converge(fx, NULL, c);
    cr_value *bad = cr_value_copy(st);
    cr_value *m = tenants_of(bad);
    assert_int_equal(cr_value_map_put(m, "t00001",
                                      cr_value_null(entry_type())), 0);
    assert_int_equal(cr_value_map_put(m, "../x",
                                      cr_value_copy(entry_of(st, "t00000"))),
                     0);
    cr_diags d = CR_DIAGS_INIT;
    cr_value *fresh = read_state(fx, bad, &d);
    assert_non_null(fresh);
    assert_null(entry_of(fresh, "../x"));       /* no such entry */
    assert_non_null(entry_of(fresh, "t00001")); /* read back whole */
    cr_diags_free(&d);
    cr_value_free(fresh);

    /* A planned null element reaches apply: refused, nothing deleted. */
    cr_value *ns = cr_test_apply(fx, st, bad, c, &d);
    assert_true(cr_test_errors(&d) >= 1);
    assert_int_equal(map_count(fx), 3);
    cr_value_free(ns);
    cr_diags_free(&d);

    /* The map itself unknown at apply. */
    cr_value *unk = cr_value_copy(st);
    cr_test_set(unk, "tenants", cr_value_unknown(map_type()));
    ns = cr_test_apply(fx, st, unk, c, &d);
    cr_test_find_diag(&d, "Unknown value at apply");
    assert_true(cr_value_equal(ns, st));
    cr_value_free(ns);
    cr_diags_free(&d);

    /* Not configured. */
    cr_store *s = fx->p.store;
    fx->p.store = NULL;
    ns = cr_test_apply(fx, st, st, c, &d);
    cr_test_find_diag(&d, "Provider not configured");
    assert_true(cr_value_equal(ns, st));
    cr_value_free(ns);
    cr_diags_free(&d);
    fresh = read_state(fx, st, &d);
    cr_test_find_diag(&d, "Provider not configured");
    cr_value_free(fresh);
    cr_diags_free(&d);
    fx->p.store = s;

    cr_value_free(unk);
    cr_value_free(bad);
    cr_value_free(st);
    cr_value_free(c);
}

/* cr_ev_entry_object builds in one block what cr_value_object +
 * cr_ev_fill build one value at a time: the same value for every shape of
 * entry (labels with and without the owner tag, none, a null hint, no
 * standby), for a type with an id, and the same failure for a type that
 * lacks an entry attribute. */
static void check_entry_object(const cr_type *t, const cr_entry *e,
                               const cr_value *hint)
{
    cr_value *slow = cr_value_object(t);
    int rc = cr_ev_fill(slow, e, hint);
    cr_ev_slots slots;
    cr_ev_slots_init(&slots, t);
    cr_value *fast = cr_ev_entry_object(&slots, e, hint);
    if (rc != 0) {
        assert_null(fast);
    } else {
        assert_non_null(fast);
        assert_true(cr_value_equal(slow, fast));
        for (size_t i = 0; i < fast->u.coll.len; i++)
            assert_int_equal(fast->u.coll.items[i]->kind,
                             slow->u.coll.items[i]->kind);
        cr_value *c = cr_value_copy(fast);
        assert_true(cr_value_equal(c, slow));
        cr_value_free(c);
        /* Replacing an attribute of the one-block object. */
        assert_int_equal(cr_res_set_str(fast, "cell_id", "other"), 0);
        assert_false(cr_value_equal(slow, fast));
    }
    cr_value_free(slow);
    cr_value_free(fast);
}

static void test_entry_object(void **state)
{
    (void)state;
    static const cr_type_attr full_attrs[] = {
        { "cell_id", &cr_type_string }, { "endpoint", &cr_type_string },
        { "extra", &cr_type_bool }, { "id", &cr_type_string },
        { "labels", &cr_ev_map_of_string },
        { "standby_cell_id", &cr_type_string },
        { "standby_endpoint", &cr_type_string },
        { "updated_at", &cr_type_string }, { "version", &cr_type_number },
    };
    static const cr_type full = { .kind = CR_TYPE_OBJECT, .nattrs = 9,
                                  .attrs = full_attrs };
    static const cr_type lacking = { .kind = CR_TYPE_OBJECT, .nattrs = 2,
                                     .attrs = full_attrs };
    cr_entry *e = cr_entry_new();
    e->tenant_id = strdup("acme");
    e->cell_id = strdup("eu-1");
    e->endpoint = strdup("https://eu-1.example/");
    e->version = 7;
    e->updated_at = strdup("2026-01-02T03:04:05Z");
    cr_value *null_hint = cr_value_null(&cr_ev_map_of_string);
    cr_value *map_hint = cr_value_collection(&cr_ev_map_of_string);

    check_entry_object(&full, e, NULL);             /* labels null */
    check_entry_object(&full, e, map_hint);         /* empty map kept */
    e->has_labels = true;
    check_entry_object(&full, e, NULL);
    check_entry_object(&full, e, null_hint);
    assert_int_equal(cr_entry_set_label(e, CR_OWNER_LABEL, "fleet"), 0);
    check_entry_object(&full, e, NULL);             /* only the tag */
    assert_int_equal(cr_entry_set_label(e, "team", "core"), 0);
    assert_int_equal(cr_entry_set_label(e, "a", ""), 0);
    e->standby_cell_id = strdup("eu-2");
    e->standby_endpoint = strdup("https://eu-2.example/");
    check_entry_object(&full, e, NULL);
    check_entry_object(&full, e, null_hint);
    check_entry_object(&lacking, e, NULL);

    cr_value_free(null_hint);
    cr_value_free(map_hint);
    cr_entry_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_entry_object),
        cmocka_unit_test_setup_teardown(test_create_and_noop_plan, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plan_refuses_what_does_not_fit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_adopts_proposed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_update_writes_only_changes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_names_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_existing_and_foreign_keys,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rename_retags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_check_nested, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hostile_values, setup,
                                        teardown),
    };
    R = cr_resource_find("cellrouter_tenants");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
