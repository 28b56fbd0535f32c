/*
 * tests/unit/test_store_batch.c — batches of conditional writes and
 * get_many, on a real SQLite routing map (one transaction per batch) and
 * through the one-by-one fallback every backend without a batch operation
 * gets (the same SQLite file behind a wrapper that hides `batch` and
 * `get_many`).
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

#include "store/store.h"

typedef struct fixture {
    char dir[64];
    char db[128];
    cr_store *s;            /* the store under test */
    cr_store *sq;           /* the SQLite store (s itself, or behind it) */
    cr_store *oob;          /* another handle, like cellctl */
} fixture;

/* ---- a backend without batch operations ---------------------------------- */

typedef struct plain {
    cr_store base;
    cr_store *inner;
    int puts;               /* single writes seen */
} plain;

#define INNER(s) (((plain *)(s))->inner)

static cr_store_rc p_get(cr_store *s, const char *id, cr_entry **out,
                         cr_store_err *err)
{ return cr_store_get(INNER(s), id, out, err); }
static cr_store_rc p_put(cr_store *s, const cr_entry *in, int64_t expect,
                         cr_entry **w, cr_store_err *err)
{
    ((plain *)s)->puts++;
    return cr_store_put(INNER(s), in, expect, w, err);
}
static cr_store_rc p_del(cr_store *s, const char *id, int64_t expect,
                         cr_store_err *err)
{ return cr_store_delete(INNER(s), id, expect, err); }
static cr_store_rc p_list(cr_store *s, const char *prefix, cr_entry_list *out,
                          cr_store_err *err)
{ return cr_store_list(INNER(s), prefix, out, err); }
static void p_close(cr_store *s)
{
    cr_store_close(INNER(s));
    free(s);
}

static const cr_store_ops plain_ops = {
    .name = "plain", .get = p_get, .put = p_put, .del = p_del,
    .list = p_list, .close = p_close,
};

static int setup_common(void **state, bool wrap)
{
    fixture *fx = calloc(1, sizeof *fx);
    cr_store_err err;
    assert_non_null(fx);
    strcpy(fx->dir, "/tmp/cr-batch-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->db, sizeof fx->db, "%s/map.db", fx->dir);
    assert_int_equal(cr_store_sqlite_open(fx->db, &fx->sq, &err),
                     CR_STORE_OK);
    assert_int_equal(cr_store_sqlite_open(fx->db, &fx->oob, &err),
                     CR_STORE_OK);
    fx->s = fx->sq;
    if (wrap) {
        plain *p = calloc(1, sizeof *p);
        assert_non_null(p);
        p->base.ops = &plain_ops;
        p->inner = fx->sq;
        fx->s = &p->base;
    }
    *state = fx;
    return 0;
}

static int setup(void **state) { return setup_common(state, false); }
static int setup_plain(void **state) { return setup_common(state, true); }

static int teardown(void **state)
{
    fixture *fx = *state;
    char path[160];
    cr_store_close(fx->s);
    cr_store_close(fx->oob);
    static const char *const files[] = { "map.db", "map.db-wal",
                                         "map.db-shm", "map.db-journal" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", fx->dir, files[i]);
        unlink(path);
    }
    assert_int_equal(rmdir(fx->dir), 0);
    free(fx);
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static cr_entry *entry(const char *tid, const char *cell)
{
    cr_entry *e = cr_entry_new();
    assert_non_null(e);
    e->tenant_id = strdup(tid);
    e->cell_id = strdup(cell);
    e->endpoint = strdup("https://ingest.example.com/x");
    return e;
}

static void oob_put(fixture *fx, const char *tid, const char *cell)
{
    cr_entry *e = entry(tid, cell);
    cr_store_err err;
    assert_int_equal(cr_store_put(fx->oob, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_OK);
    cr_entry_free(e);
}

static int64_t version(fixture *fx, const char *tid)
{
    cr_entry *e = NULL;
    cr_store_err err;
    assert_int_equal(cr_store_get(fx->oob, tid, &e, &err), CR_STORE_OK);
    int64_t v = e ? e->version : 0;
    cr_entry_free(e);
    return v;
}

static const char *cell(fixture *fx, const char *tid, char buf[64])
{
    cr_entry *e = NULL;
    cr_store_err err;
    assert_int_equal(cr_store_get(fx->oob, tid, &e, &err), CR_STORE_OK);
    snprintf(buf, 64, "%s", e ? e->cell_id : "(none)");
    cr_entry_free(e);
    return buf;
}

/* ---- tests --------------------------------------------------------------- */

/* Puts and deletes together, conditional on versions: all applied. */
static void test_batch_applies(void **state)
{
    fixture *fx = *state;
    char buf[64];
    oob_put(fx, "b", "old");
    oob_put(fx, "c", "old");
    oob_put(fx, "c", "old");            /* version 2 */
    cr_entry *a = entry("a", "new"), *b = entry("b", "new");
    cr_batch_op ops[4] = {
        { .kind = CR_BATCH_PUT, .entry = a, .expect = CR_VERSION_ABSENT },
        { .kind = CR_BATCH_PUT, .entry = b, .expect = 1 },
        { .kind = CR_BATCH_DELETE, .tenant_id = "c", .expect = 2 },
        { .kind = CR_BATCH_DELETE, .tenant_id = "gone", .expect = 5 },
    };
    cr_store_err err;
    assert_int_equal(cr_store_batch(fx->s, ops, 4, &err), CR_STORE_OK);
    for (int i = 0; i < 4; i++)
        assert_true(ops[i].applied);
    assert_int_equal(ops[0].version, 1);
    assert_int_equal(ops[1].version, 2);
    assert_true(strlen(ops[1].updated_at) >= 20);
    assert_int_equal(ops[3].rc, CR_STORE_NOT_FOUND);   /* gone already */
    assert_string_equal(cell(fx, "a", buf), "new");
    assert_string_equal(cell(fx, "b", buf), "new");
    assert_int_equal(version(fx, "c"), 0);
    /* Versions never repeat: c re-created continues after 2. */
    cr_entry *c = entry("c", "again");
    cr_batch_op op = { .kind = CR_BATCH_PUT, .entry = c,
                       .expect = CR_VERSION_ABSENT };
    assert_int_equal(cr_store_batch(fx->s, &op, 1, &err), CR_STORE_OK);
    assert_int_equal(op.version, 3);
    cr_entry_free(c);
    cr_entry_free(a);
    cr_entry_free(b);
}

/* One refused operation refuses the batch: nothing is written, and every
 * refused operation is marked, not only the first. */
static void test_batch_all_or_nothing(void **state)
{
    fixture *fx = *state;
    char buf[64];
    oob_put(fx, "b", "old");
    oob_put(fx, "d", "old");
    cr_entry *a = entry("a", "new"), *b = entry("b", "new"),
             *d = entry("d", "new");
    cr_batch_op ops[4] = {
        { .kind = CR_BATCH_PUT, .entry = a, .expect = CR_VERSION_ABSENT },
        { .kind = CR_BATCH_PUT, .entry = b, .expect = 7 },
        { .kind = CR_BATCH_PUT, .entry = d, .expect = CR_VERSION_ABSENT },
        { .kind = CR_BATCH_DELETE, .tenant_id = "e", .expect = 1 },
    };
    cr_store_err err;
    assert_int_equal(cr_store_batch(fx->s, ops, 4, &err), CR_STORE_CONFLICT);
    assert_int_equal(ops[0].rc, CR_STORE_OK);
    assert_int_equal(ops[1].rc, CR_STORE_CONFLICT);
    assert_int_equal(ops[1].actual_version, 1);
    assert_int_equal(ops[2].rc, CR_STORE_EXISTS);
    assert_int_equal(ops[2].actual_version, 1);
    for (int i = 0; i < 4; i++)
        assert_false(ops[i].applied);
    assert_non_null(strstr(err.msg, "nothing was written"));
    assert_int_equal(version(fx, "a"), 0);
    assert_string_equal(cell(fx, "b", buf), "old");

    /* Only EXISTS refusals: the batch says EXISTS. */
    cr_batch_op only[1] = {
        { .kind = CR_BATCH_PUT, .entry = d, .expect = CR_VERSION_ABSENT },
    };
    assert_int_equal(cr_store_batch(fx->s, only, 1, &err), CR_STORE_EXISTS);
    cr_entry_free(a);
    cr_entry_free(b);
    cr_entry_free(d);
}

/* Bad batches are refused before the backend sees them. */
static void test_batch_invalid(void **state)
{
    fixture *fx = *state;
    cr_entry *a = entry("a", "x"), *a2 = entry("a", "y"),
             *bad = entry("b", "Not A Cell");
    cr_store_err err;
    cr_batch_op dup[2] = {
        { .kind = CR_BATCH_PUT, .entry = a, .expect = CR_VERSION_ANY },
        { .kind = CR_BATCH_PUT, .entry = a2, .expect = CR_VERSION_ANY },
    };
    assert_int_equal(cr_store_batch(fx->s, dup, 2, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "appears twice"));
    assert_int_equal(dup[0].rc, CR_STORE_INVALID);
    assert_int_equal(dup[1].rc, CR_STORE_INVALID);
    cr_batch_op inv[2] = {
        { .kind = CR_BATCH_PUT, .entry = a, .expect = CR_VERSION_ANY },
        { .kind = CR_BATCH_PUT, .entry = bad, .expect = CR_VERSION_ANY },
    };
    assert_int_equal(cr_store_batch(fx->s, inv, 2, &err), CR_STORE_INVALID);
    assert_int_equal(inv[0].rc, CR_STORE_OK);
    assert_int_equal(inv[1].rc, CR_STORE_INVALID);
    cr_batch_op del0 = { .kind = CR_BATCH_DELETE, .tenant_id = "a",
                         .expect = CR_VERSION_ABSENT };
    assert_int_equal(cr_store_batch(fx->s, &del0, 1, &err),
                     CR_STORE_INVALID);
    cr_batch_op *many = calloc(CR_STORE_BATCH_MAX + 1, sizeof *many);
    assert_non_null(many);
    assert_int_equal(cr_store_batch(fx->s, many, CR_STORE_BATCH_MAX + 1,
                                    &err), CR_STORE_INVALID);
    free(many);
    assert_int_equal(cr_store_batch(fx->s, NULL, 0, &err), CR_STORE_OK);
    assert_int_equal(version(fx, "a"), 0);
    cr_entry_free(a);
    cr_entry_free(a2);
    cr_entry_free(bad);
}

/* A full batch is one transaction; get_many reads back exactly the asked
 * tenants, sorted, skipping absent ones and duplicates. */
static void test_full_batch_and_get_many(void **state)
{
    fixture *fx = *state;
    cr_entry **es = calloc(CR_STORE_BATCH_MAX, sizeof *es);
    cr_batch_op *ops = calloc(CR_STORE_BATCH_MAX, sizeof *ops);
    char id[32];
    cr_store_err err;
    assert_non_null(es);
    assert_non_null(ops);
    for (int i = 0; i < CR_STORE_BATCH_MAX; i++) {
        snprintf(id, sizeof id, "t%04d", i);
        es[i] = entry(id, "cell-a");
        ops[i] = (cr_batch_op){ .kind = CR_BATCH_PUT, .entry = es[i],
                                .expect = CR_VERSION_ABSENT };
    }
    assert_int_equal(cr_store_batch(fx->s, ops, CR_STORE_BATCH_MAX, &err),
                     CR_STORE_OK);
    /* SQLite: one transaction, so one timestamp for the whole batch. */
    if (fx->s->ops->batch)
        assert_string_equal(ops[0].updated_at,
                            ops[CR_STORE_BATCH_MAX - 1].updated_at);
    for (int i = 0; i < CR_STORE_BATCH_MAX; i++)
        assert_true(ops[i].applied);

    const char *ids[] = { "t0999", "nope", "t0001", "t0500", "t0001",
                          "-bad-id" };
    cr_entry_list l;
    assert_int_equal(cr_store_get_many(fx->s, ids, 6, &l, &err),
                     CR_STORE_OK);
    assert_int_equal(l.len, 3);
    assert_string_equal(l.items[0].tenant_id, "t0001");
    assert_string_equal(l.items[1].tenant_id, "t0500");
    assert_string_equal(l.items[2].tenant_id, "t0999");
    assert_int_equal(l.items[2].version, 1);
    cr_entry_list_free(&l);
    assert_int_equal(cr_store_get_many(fx->s, ids, 0, &l, &err),
                     CR_STORE_OK);
    assert_int_equal(l.len, 0);
    const char *empty[] = { "" };
    assert_int_equal(cr_store_get_many(fx->s, empty, 1, &l, &err),
                     CR_STORE_INVALID);

    for (int i = 0; i < CR_STORE_BATCH_MAX; i++)
        cr_entry_free(es[i]);
    free(es);
    free(ops);
}

/* The fallback: same outcomes, one write at a time; a conflict found by
 * the up-front check writes nothing. */
static void test_fallback(void **state)
{
    fixture *fx = *state;
    plain *p = (plain *)fx->s;
    test_batch_applies(state);
    assert_true(p->puts >= 3);
    p->puts = 0;
    oob_put(fx, "x", "old");
    cr_entry *x = entry("x", "new"), *y = entry("y", "new");
    cr_batch_op ops[2] = {
        { .kind = CR_BATCH_PUT, .entry = y, .expect = CR_VERSION_ABSENT },
        { .kind = CR_BATCH_PUT, .entry = x, .expect = 9 },
    };
    cr_store_err err;
    assert_int_equal(cr_store_batch(fx->s, ops, 2, &err), CR_STORE_CONFLICT);
    assert_int_equal(p->puts, 0);
    assert_int_equal(version(fx, "y"), 0);
    assert_int_equal(ops[1].actual_version, 1);
    cr_entry_free(x);
    cr_entry_free(y);
}

static void test_fallback_get_many(void **state)
{
    test_full_batch_and_get_many(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batch_applies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_all_or_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_batch_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_batch_and_get_many, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fallback, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_batch_all_or_nothing,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_fallback_get_many, setup_plain,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
