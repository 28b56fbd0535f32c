/*
 * tests/unit/test_store_sqlite.c — the SQLite routing-map backend through
 * the store interface: CRUD, conditional writes, versions across delete and
 * re-create, labels null vs empty, prefix listing, threads (no lost update),
 * hostile files and rows, and a process SIGKILLed while writing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

typedef struct fixture {
    char dir[256];
    char path[300];
    cr_store *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/cr-store-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/map.db", f->dir);
    cr_store_err err;
    if (cr_store_sqlite_open(f->path, &f->s, &err) != CR_STORE_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cr_store_close(f->s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static cr_entry *mk(const char *tenant, const char *cell, const char *ep)
{
    cr_entry *e = cr_entry_new();
    e->tenant_id = strdup(tenant);
    e->cell_id = strdup(cell);
    e->endpoint = strdup(ep);
    return e;
}

static void put_ok(cr_store *s, const cr_entry *e, int64_t expect,
                   int64_t want_version)
{
    cr_store_err err;
    cr_entry *w = NULL;
    cr_store_rc rc = cr_store_put(s, e, expect, &w, &err);
    if (rc != CR_STORE_OK)
        fail_msg("put %s: %s: %s", e->tenant_id, cr_store_rc_name(rc),
                 err.msg);
    assert_int_equal(w->version, want_version);
    cr_entry_free(w);
}

/* Runs one SQL statement on the file behind the store's back. */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("raw sql failed: %s", msg);
    sqlite3_close(db);
}

static void test_crud(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_entry *got = (cr_entry *)1;

    assert_int_equal(cr_store_get(f->s, "acme", &got, &err), CR_STORE_OK);
    assert_null(got);

    cr_entry *e = mk("acme", "cell-a", "https://a.example.com/ingest");
    e->standby_cell_id = strdup("cell-b");
    e->standby_endpoint = strdup("https://b.example.com/ingest");
    cr_entry_set_label(e, "team", "payments");
    cr_entry *w = NULL;
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ABSENT, &w, &err),
                     CR_STORE_OK);
    assert_int_equal(w->version, 1);
    assert_non_null(w->updated_at);

    assert_int_equal(cr_store_get(f->s, "acme", &got, &err), CR_STORE_OK);
    assert_non_null(got);
    assert_string_equal(got->cell_id, "cell-a");
    assert_string_equal(got->endpoint, "https://a.example.com/ingest");
    assert_string_equal(got->standby_cell_id, "cell-b");
    assert_string_equal(got->standby_endpoint, "https://b.example.com/ingest");
    assert_true(got->has_labels);
    assert_string_equal(cr_entry_label(got, "team"), "payments");
    assert_int_equal(got->version, 1);
    assert_string_equal(got->updated_at, w->updated_at);
    cr_entry_free(got);
    cr_entry_free(w);

    /* Update: drop the standby, move the cell. */
    free(e->cell_id);
    e->cell_id = strdup("cell-c");
    free(e->standby_cell_id);
    free(e->standby_endpoint);
    e->standby_cell_id = e->standby_endpoint = NULL;
    put_ok(f->s, e, 1, 2);
    assert_int_equal(cr_store_get(f->s, "acme", &got, &err), CR_STORE_OK);
    assert_string_equal(got->cell_id, "cell-c");
    assert_null(got->standby_cell_id);
    assert_null(got->standby_endpoint);
    assert_int_equal(got->version, 2);
    cr_entry_free(got);

    cr_entry_list l;
    assert_int_equal(cr_store_list(f->s, "", &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 1);
    assert_string_equal(l.items[0].tenant_id, "acme");
    cr_entry_list_free(&l);

    assert_int_equal(cr_store_delete(f->s, "acme", 2, &err), CR_STORE_OK);
    assert_int_equal(cr_store_get(f->s, "acme", &got, &err), CR_STORE_OK);
    assert_null(got);
    assert_int_equal(cr_store_list(f->s, NULL, &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 0);
    cr_entry_list_free(&l);
    cr_entry_free(e);
}

static void test_updated_at_format(void **state)
{
    fixture *f = *state;
    cr_entry *e = mk("t1", "c1", "http://h");
    cr_store_err err;
    cr_entry *w = NULL;
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ANY, &w, &err),
                     CR_STORE_OK);
    /* 2026-11-26T06:11:24.123456Z */
    const char *t = w->updated_at;
    assert_int_equal(strlen(t), 27);
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
    for (size_t i = 0; i < 27; i++) {
        if (shape[i] == 'd')
            assert_true(t[i] >= '0' && t[i] <= '9');
        else
            assert_int_equal(t[i], shape[i]);
    }
    cr_entry_free(w);
    cr_entry_free(e);
}

static void test_conditional(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_entry *e = mk("acme", "cell-a", "https://a.example.com");
    put_ok(f->s, e, CR_VERSION_ABSENT, 1);

    /* Create over an existing entry. */
    cr_entry *w = (cr_entry *)1;
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ABSENT, &w, &err),
                     CR_STORE_EXISTS);
    assert_null(w);
    assert_int_equal(err.rc, CR_STORE_EXISTS);
    assert_int_equal(err.actual_version, 1);
    assert_non_null(strstr(err.msg, "acme"));

    /* Stale update. */
    put_ok(f->s, e, 1, 2);
    assert_int_equal(cr_store_put(f->s, e, 1, NULL, &err), CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 2);
    assert_non_null(strstr(err.msg, "expected version 1, found 2"));
    /* Unconditional write always wins. */
    put_ok(f->s, e, CR_VERSION_ANY, 3);

    /* Stale and missing deletes. */
    assert_int_equal(cr_store_delete(f->s, "acme", 2, &err),
                     CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 3);
    assert_int_equal(cr_store_delete(f->s, "nobody", CR_VERSION_ANY, &err),
                     CR_STORE_NOT_FOUND);
    assert_int_equal(cr_store_delete(f->s, "nobody", 4, &err),
                     CR_STORE_NOT_FOUND);
    assert_int_equal(cr_store_delete(f->s, "acme", CR_VERSION_ABSENT, &err),
                     CR_STORE_INVALID);
    assert_int_equal(cr_store_delete(f->s, "acme", -7, &err),
                     CR_STORE_INVALID);
    assert_int_equal(cr_store_put(f->s, e, -2, NULL, &err), CR_STORE_INVALID);

    /* Conditional update of an entry deleted out of band: CONFLICT, 0. */
    assert_int_equal(cr_store_delete(f->s, "acme", 3, &err), CR_STORE_OK);
    assert_int_equal(cr_store_put(f->s, e, 3, NULL, &err), CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 0);
    assert_non_null(strstr(err.msg, "deleted"));

    /* Invalid entries never reach the file. */
    free(e->endpoint);
    e->endpoint = strdup("ftp://x");
    assert_int_equal(cr_store_put(f->s, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "endpoint"));
    cr_entry *got = NULL;
    assert_int_equal(cr_store_get(f->s, "acme", &got, &err), CR_STORE_OK);
    assert_null(got);
    assert_int_equal(cr_store_get(f->s, "", &got, &err), CR_STORE_INVALID);
    cr_entry_free(e);
}

static void test_versions_survive_delete(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_entry *e = mk("acme", "cell-a", "https://a.example.com");
    put_ok(f->s, e, CR_VERSION_ABSENT, 1);
    put_ok(f->s, e, 1, 2);
    assert_int_equal(cr_store_delete(f->s, "acme", 2, &err), CR_STORE_OK);
    /* Re-created: continues after the retired version, so a writer that
     * last saw version 1 or 2 of the old entry cannot overwrite it. */
    put_ok(f->s, e, CR_VERSION_ABSENT, 3);
    assert_int_equal(cr_store_put(f->s, e, 1, NULL, &err), CR_STORE_CONFLICT);
    assert_int_equal(cr_store_put(f->s, e, 2, NULL, &err), CR_STORE_CONFLICT);
    assert_int_equal(cr_store_delete(f->s, "acme", 1, &err),
                     CR_STORE_CONFLICT);
    assert_int_equal(cr_store_delete(f->s, "acme", CR_VERSION_ANY, &err),
                     CR_STORE_OK);
    put_ok(f->s, e, CR_VERSION_ANY, 4);

    /* The high-water mark survives reopening the file. */
    assert_int_equal(cr_store_delete(f->s, "acme", 4, &err), CR_STORE_OK);
    cr_store_close(f->s);
    assert_int_equal(cr_store_sqlite_open(f->path, &f->s, &err), CR_STORE_OK);
    put_ok(f->s, e, CR_VERSION_ABSENT, 5);
    cr_entry_free(e);
}

static void test_labels_null_vs_empty(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_entry *got;

    cr_entry *e = mk("nolabels", "c", "http://h");
    put_ok(f->s, e, CR_VERSION_ANY, 1);
    assert_int_equal(cr_store_get(f->s, "nolabels", &got, &err), CR_STORE_OK);
    assert_false(got->has_labels);
    assert_int_equal(got->nlabels, 0);
    cr_entry_free(got);
    cr_entry_free(e);

    e = mk("empty", "c", "http://h");
    e->has_labels = true;
    put_ok(f->s, e, CR_VERSION_ANY, 1);
    assert_int_equal(cr_store_get(f->s, "empty", &got, &err), CR_STORE_OK);
    assert_true(got->has_labels);
    assert_int_equal(got->nlabels, 0);
    cr_entry_free(got);
    cr_entry_free(e);

    e = mk("many", "c", "http://h");
    cr_entry_set_label(e, "z", "last");
    cr_entry_set_label(e, "a", "");
    cr_entry_set_label(e, "quote\"and\\slash", "日本語 \"q\"");
    put_ok(f->s, e, CR_VERSION_ANY, 1);
    assert_int_equal(cr_store_get(f->s, "many", &got, &err), CR_STORE_OK);
    assert_int_equal(got->nlabels, 3);
    assert_string_equal(got->labels[0].key, "a");
    assert_string_equal(got->labels[0].value, "");
    assert_string_equal(got->labels[1].key, "quote\"and\\slash");
    assert_string_equal(got->labels[1].value, "日本語 \"q\"");
    assert_string_equal(got->labels[2].key, "z");
    cr_entry_free(got);
    cr_entry_free(e);
}

/* Ids that are prefixes of each other, with the characters LIKE would
 * take for wildcards. */
static void put_prefix_ids(cr_store *s)
{
    static const char *const ids[] = {
        "a_1", "ab1", "a.1", "a-1", "a:1", "a@1", "b", "a", "A", "aa", "a_",
    };
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        cr_entry *e = mk(ids[i], "c", "http://h");
        put_ok(s, e, CR_VERSION_ABSENT, 1);
        cr_entry_free(e);
    }
}

static void test_prefix_listing(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    put_prefix_ids(f->s);
    static const struct { const char *prefix; const char *want; } cases[] = {
        {"", "A a a-1 a.1 a:1 a@1 a_ a_1 aa ab1 b"},
        {"a_", "a_ a_1"},           /* '_' is not a wildcard */
        {"a", "a a-1 a.1 a:1 a@1 a_ a_1 aa ab1"},
        {"a@", "a@1"},
        {"%", ""},                  /* nor is '%' */
        {"b", "b"},
        {"c", ""},
        {"\xff", ""},
        {"a\xff\xff", ""},
        {"z", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cr_entry_list l;
        assert_int_equal(cr_store_list(f->s, cases[i].prefix, &l, &err),
                         CR_STORE_OK);
        char got[256] = "";
        for (size_t j = 0; j < l.len; j++) {
            if (j)
                strcat(got, " ");
            strcat(got, l.items[j].tenant_id);
        }
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("prefix \"%s\": got \"%s\", want \"%s\"",
                     cases[i].prefix, got, cases[i].want);
        cr_entry_list_free(&l);
    }
}

/* Pages of every size give the listing of every prefix in the same order
 * (keyset pagination: each page starts just after the last id of the one
 * before, also when ids are prefixes of each other); a full last page is
 * followed by an empty one without a cursor; the map can change between
 * pages; the cursor of another listing is only a lower bound. */
static void test_list_pages(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    put_prefix_ids(f->s);
    static const char *const prefixes[] = {
        "", "a_", "a", "a@", "%", "b", "c", "\xff", "a\xff\xff", "A",
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        cr_entry_list all;
        assert_int_equal(cr_store_list(f->s, prefixes[i], &all, &err),
                         CR_STORE_OK);
        for (size_t max = 1; max <= 12; max++) {
            char *cursor = NULL;
            size_t seen = 0, pages = 0;
            do {
                cr_entry_list l;
                char *next;
                assert_int_equal(cr_store_list_page(f->s, prefixes[i], cursor,
                                                    max, &l, &next, &err),
                                 CR_STORE_OK);
                assert_true(l.len <= max);
                for (size_t j = 0; j < l.len; j++, seen++) {
                    assert_true(seen < all.len);
                    assert_string_equal(l.items[j].tenant_id,
                                        all.items[seen].tenant_id);
                }
                /* A page short of max is the last. */
                if (l.len < max)
                    assert_null(next);
                cr_entry_list_free(&l);
                free(cursor);
                cursor = next;
                assert_true(++pages <= all.len + 1);
            } while (cursor);
            assert_int_equal(seen, all.len);
        }
        cr_entry_list_free(&all);
    }

    /* Changes between pages: the next page starts after the cursor, so an
     * entry deleted or added behind it is not seen again, one ahead is. */
    cr_entry_list l;
    char *next = NULL, *next2 = NULL;
    assert_int_equal(cr_store_list_page(f->s, "a", NULL, 3, &l, &next, &err),
                     CR_STORE_OK);
    assert_string_equal(next, "a.1");
    cr_entry_list_free(&l);
    assert_int_equal(cr_store_delete(f->s, "a:1", CR_VERSION_ANY, &err),
                     CR_STORE_OK);
    cr_entry *e = mk("a.0", "c", "http://h");
    put_ok(f->s, e, CR_VERSION_ABSENT, 1);
    cr_entry_free(e);
    assert_int_equal(cr_store_list_page(f->s, "a", next, 2, &l, &next2, &err),
                     CR_STORE_OK);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0].tenant_id, "a@1");
    assert_string_equal(l.items[1].tenant_id, "a_");
    cr_entry_list_free(&l);
    free(next);
    free(next2);
    /* A cursor before the prefix starts at the prefix; one past it ends. */
    assert_int_equal(cr_store_list_page(f->s, "b", "a", 5, &l, &next, &err),
                     CR_STORE_OK);
    assert_int_equal(l.len, 1);
    assert_null(next);
    cr_entry_list_free(&l);
    assert_int_equal(cr_store_list_page(f->s, "a", "az", 5, &l, &next, &err),
                     CR_STORE_OK);
    assert_int_equal(l.len, 0);
    assert_null(next);
    assert_int_equal(cr_store_list_page(f->s, "a", NULL, 0, &l, &next, &err),
                     CR_STORE_INVALID);
}

/* ---- threads ----------------------------------------------------------- */

typedef struct worker {
    cr_store *s;
    int id, n;
    int conflicts;
    int failures;
} worker;

static void *write_distinct(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        char tid[64];
        snprintf(tid, sizeof tid, "w%d-t%04d", w->id, i);
        cr_entry *e = mk(tid, "cell-a", "https://a.example.com");
        cr_store_err err;
        if (cr_store_put(w->s, e, CR_VERSION_ABSENT, NULL, &err) != CR_STORE_OK)
            w->failures++;
        cr_entry_free(e);
    }
    return NULL;
}

/* Read-modify-write of one shared counter with conditional puts: every
 * increment must land exactly once, whatever the interleaving. */
static void *increment_shared(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        for (;;) {
            cr_store_err err;
            cr_entry *cur = NULL;
            if (cr_store_get(w->s, "shared", &cur, &err) != CR_STORE_OK ||
                !cur) {
                w->failures++;
                return NULL;
            }
            long count = strtol(cr_entry_label(cur, "count"), NULL, 10);
            char buf[32];
            snprintf(buf, sizeof buf, "%ld", count + 1);
            cr_entry_set_label(cur, "count", buf);
            cr_store_rc rc = cr_store_put(w->s, cur, cur->version, NULL, &err);
            cr_entry_free(cur);
            if (rc == CR_STORE_OK)
                break;
            if (rc != CR_STORE_CONFLICT) {
                w->failures++;
                return NULL;
            }
            w->conflicts++;
        }
    }
    return NULL;
}

static void run_threads(fixture *f, void *(*fn)(void *), int nthreads, int n,
                        bool own_connection)
{
    pthread_t th[16];
    worker w[16];
    for (int i = 0; i < nthreads; i++) {
        w[i] = (worker){f->s, i, n, 0, 0};
        if (own_connection) {
            cr_store_err err;
            assert_int_equal(cr_store_sqlite_open(f->path, &w[i].s, &err),
                             CR_STORE_OK);
        }
        assert_int_equal(pthread_create(&th[i], NULL, fn, &w[i]), 0);
    }
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        if (own_connection)
            cr_store_close(w[i].s);
    }
    for (int i = 0; i < nthreads; i++)
        assert_int_equal(w[i].failures, 0);
}

static void test_threads_distinct(void **state)
{
    fixture *f = *state;
    run_threads(f, write_distinct, 10, 100, false);
    run_threads(f, write_distinct, 10, 0, true);  /* opens work concurrently */
    cr_entry_list l;
    cr_store_err err;
    assert_int_equal(cr_store_list(f->s, "w", &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 1000);
    for (size_t i = 1; i < l.len; i++)
        assert_true(strcmp(l.items[i - 1].tenant_id, l.items[i].tenant_id) < 0);
    cr_entry_list_free(&l);
}

static void test_threads_same_tenant(void **state)
{
    fixture *f = *state;
    cr_entry *e = mk("shared", "cell-a", "https://a.example.com");
    cr_entry_set_label(e, "count", "0");
    put_ok(f->s, e, CR_VERSION_ABSENT, 1);
    cr_entry_free(e);

    /* One shared connection, then one connection per thread (the latter
     * also exercises SQLite's own locking and the busy timeout). */
    run_threads(f, increment_shared, 10, 30, false);
    run_threads(f, increment_shared, 10, 30, true);

    cr_store_err err;
    cr_entry *got = NULL;
    assert_int_equal(cr_store_get(f->s, "shared", &got, &err), CR_STORE_OK);
    assert_string_equal(cr_entry_label(got, "count"), "600");
    assert_int_equal(got->version, 601);
    cr_entry_free(got);
}

/* Several processes (here: connections) creating the same new file at
 * once: exactly one creates the schema, every one ends up usable. */
typedef struct opener {
    const char *path;
    int id;
    cr_store_rc rc;
} opener;

static void *open_and_write(void *arg)
{
    opener *o = arg;
    cr_store *s;
    cr_store_err err;
    if ((o->rc = cr_store_sqlite_open(o->path, &s, &err)) != CR_STORE_OK) {
        fprintf(stderr, "open %d: %s\n", o->id, err.msg);
        return NULL;
    }
    char tid[16];
    snprintf(tid, sizeof tid, "o%d", o->id);
    cr_entry *e = mk(tid, "c", "http://h");
    o->rc = cr_store_put(s, e, CR_VERSION_ABSENT, NULL, &err);
    if (o->rc != CR_STORE_OK)
        fprintf(stderr, "put %d: %s\n", o->id, err.msg);
    cr_entry_free(e);
    cr_store_close(s);
    return NULL;
}

static void test_concurrent_create(void **state)
{
    fixture *f = *state;
    char p[400];
    snprintf(p, sizeof p, "%s/fresh.db", f->dir);
    pthread_t th[10];
    opener o[10];
    for (int i = 0; i < 10; i++) {
        o[i] = (opener){p, i, CR_STORE_IO};
        assert_int_equal(pthread_create(&th[i], NULL, open_and_write, &o[i]),
                         0);
    }
    /* Join every thread before asserting: a failed assertion leaves the
     * test, and threads must not outlive the stack they point into. */
    for (int i = 0; i < 10; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 10; i++)
        assert_int_equal(o[i].rc, CR_STORE_OK);
    cr_store *s;
    cr_store_err err;
    assert_int_equal(cr_store_sqlite_open(p, &s, &err), CR_STORE_OK);
    cr_entry_list l;
    assert_int_equal(cr_store_list(s, "o", &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 10);
    cr_entry_list_free(&l);
    cr_store_close(s);
}

/* Random bytes in every field: rejected or stored, never a crash, and
 * whatever is stored reads back identical. Deterministic seed. */
static void test_random_entries(void **state)
{
    fixture *f = *state;
    static const char alphabet[] =
        "abcAZ09.-_:@/?#%[]\\ \t\x01\x7f\xc3\xa9\xff";
    unsigned seed = 12345;
    int stored = 0;
    for (int round = 0; round < 400; round++) {
        char fields[5][48];
        static const char *const valid[5] = {
            "t-%d", "cell-%d", "https://h%d.example/", "sb-%d",
            "http://s.example:81/p%d",
        };
        for (int k = 0; k < 5; k++) {
            if (rand_r(&seed) % 4 != 0) {
                snprintf(fields[k], sizeof fields[k], valid[k], round % 50);
                continue;
            }
            size_t n = (size_t)(rand_r(&seed) % 20);
            const char *pre = "";
            if (k == 2 || k == 4)   /* endpoints: sometimes a real scheme */
                pre = rand_r(&seed) % 2 ? "https://" : "";
            size_t o = (size_t)snprintf(fields[k], sizeof fields[k], "%s",
                                        pre);
            for (size_t i = 0; i < n; i++)
                fields[k][o++] = alphabet[(size_t)rand_r(&seed) %
                                          (sizeof alphabet - 1)];
            fields[k][o] = '\0';
        }
        cr_entry *e = mk(fields[0], fields[1], fields[2]);
        if (rand_r(&seed) % 2) {
            e->standby_cell_id = strdup(fields[3]);
            e->standby_endpoint = strdup(fields[4]);
        }
        if (rand_r(&seed) % 2)
            cr_entry_set_label(e, fields[3], fields[4]);
        cr_store_err err;
        cr_entry *w = NULL;
        cr_store_rc rc = cr_store_put(f->s, e, CR_VERSION_ANY, &w, &err);
        if (cr_entry_check(e, NULL)) {
            assert_int_equal(rc, CR_STORE_INVALID);
        } else {
            assert_int_equal(rc, CR_STORE_OK);
            cr_entry *got = NULL;
            assert_int_equal(cr_store_get(f->s, e->tenant_id, &got, &err),
                             CR_STORE_OK);
            assert_string_equal(got->cell_id, e->cell_id);
            assert_string_equal(got->endpoint, e->endpoint);
            assert_int_equal(got->nlabels, e->nlabels);
            assert_int_equal(got->version, w->version);
            cr_entry_free(got);
            stored++;
        }
        cr_entry_free(w);
        cr_entry_free(e);
    }
    /* The generator must exercise both outcomes to mean anything. */
    assert_true(stored > 0);
    assert_true(stored < 400);
}

/* ---- hostile files ----------------------------------------------------- */

static void test_open_failures(void **state)
{
    fixture *f = *state;
    cr_store *s = NULL;
    cr_store_err err;
    char p[400];

    assert_int_equal(cr_store_sqlite_open("", &s, &err), CR_STORE_INVALID);
    assert_null(s);

    /* Not a database. */
    snprintf(p, sizeof p, "%s/garbage.db", f->dir);
    FILE *fp = fopen(p, "w");
    for (int i = 0; i < 512; i++)
        fputs("not a database at all ", fp);
    fclose(fp);
    assert_int_equal(cr_store_sqlite_open(p, &s, &err), CR_STORE_INVALID);
    assert_null(s);
    assert_non_null(strstr(err.msg, "garbage.db"));

    /* Somebody else's SQLite database. */
    snprintf(p, sizeof p, "%s/other.db", f->dir);
    raw_exec(p, "CREATE TABLE t(x)");
    assert_int_equal(cr_store_sqlite_open(p, &s, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "not a cellrouter routing map"));

    /* A routing map from the future. */
    snprintf(p, sizeof p, "%s/future.db", f->dir);
    raw_exec(p, "PRAGMA user_version=99");
    assert_int_equal(cr_store_sqlite_open(p, &s, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "schema version 99"));

    /* Right version, wrong tables. */
    snprintf(p, sizeof p, "%s/hollow.db", f->dir);
    raw_exec(p, "CREATE TABLE entries(x); PRAGMA user_version=1");
    assert_int_equal(cr_store_sqlite_open(p, &s, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "not a usable"));

    /* A directory, and a file in a missing directory. */
    assert_int_equal(cr_store_sqlite_open(f->dir, &s, &err), CR_STORE_IO);
    snprintf(p, sizeof p, "%s/missing/x.db", f->dir);
    assert_int_equal(cr_store_sqlite_open(p, &s, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "missing/x.db"));

    /* Backend selection. */
    cr_store_config cfg = {"cloudflare_kv", NULL};
    assert_int_equal(cr_store_open(&cfg, &s, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "cloudflare_kv"));
    cfg = (cr_store_config){"sqlite", f->path};
    assert_int_equal(cr_store_open(&cfg, &s, &err), CR_STORE_OK);
    assert_string_equal(s->ops->name, "sqlite");
    cr_store_close(s);
}

static void test_uri_like_path(void **state)
{
    fixture *f = *state;
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    cr_store *s = NULL;
    cr_store_err err;
    /* Must be a plain relative file, not an in-memory URI database. */
    assert_int_equal(cr_store_sqlite_open("file:x.db?mode=memory", &s, &err),
                     CR_STORE_OK);
    cr_entry *e = mk("t", "c", "http://h");
    put_ok(s, e, CR_VERSION_ANY, 1);
    cr_entry_free(e);
    cr_store_close(s);
    struct stat st;
    assert_int_equal(stat("file:x.db?mode=memory", &st), 0);
    /* ":memory:" is a file name too, not a database that vanishes. */
    assert_int_equal(cr_store_sqlite_open(":memory:", &s, &err), CR_STORE_OK);
    cr_store_close(s);
    assert_int_equal(stat(":memory:", &st), 0);
    assert_int_equal(chdir(cwd), 0);
}

/* A routing map written by hand or by a broken tool: the same table names
 * without STRICT types, holding every kind of bad row. */
static void test_corrupt_rows(void **state)
{
    fixture *f = *state;
    char p[400];
    snprintf(p, sizeof p, "%s/hostile.db", f->dir);
    raw_exec(p,
        "CREATE TABLE entries (tenant_id PRIMARY KEY, cell_id, endpoint,"
        " standby_cell_id, standby_endpoint, labels, version, updated_at);"
        "CREATE TABLE retired_versions (tenant_id PRIMARY KEY, version);"
        "PRAGMA user_version=1;"
        "INSERT INTO entries VALUES('good','c','http://h',NULL,NULL,NULL,1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('int-cell',42,'http://h',NULL,NULL,NULL,1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('blob-ep','c',x'00ff',NULL,NULL,NULL,1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('nul-ep','c',CAST('http://h' || char(0) || 'x' AS TEXT),NULL,NULL,NULL,1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('bad-json','c','http://h',NULL,NULL,'{oops',1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('array-json','c','http://h',NULL,NULL,'[1]',1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('num-label','c','http://h',NULL,NULL,'{\"a\":1}',1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('dup-label','c','http://h',NULL,NULL,'{\"a\":\"1\",\"a\":\"2\"}',1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('nul-label','c','http://h',NULL,NULL,'{\"a\":\"x\\u0000y\"}',1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('text-version','c','http://h',NULL,NULL,NULL,'one','2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('zero-version','c','http://h',NULL,NULL,NULL,0,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('bad-url','c','javascript:alert(1)',NULL,NULL,NULL,1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('half-standby','c','http://h','d',NULL,NULL,1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('null-stamp','c','http://h',NULL,NULL,NULL,1,NULL);"
        "INSERT INTO entries VALUES('bad id!','c','http://h',NULL,NULL,NULL,1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES(7,'c','http://h',NULL,NULL,NULL,1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('good-offset','c','http://h',NULL,NULL,NULL,1,'2026-01-02T03:04:05.1+02:00');"
        "INSERT INTO entries VALUES('bad-stamp','c','http://h',NULL,NULL,NULL,1,'yesterday');"
        "INSERT INTO entries VALUES('esc-stamp','c','http://h',NULL,NULL,NULL,1,'2026-01-02T03:04:05Z' || char(27) || '[2J');");

    cr_store *s = NULL;
    cr_store_err err;
    assert_int_equal(cr_store_sqlite_open(p, &s, &err), CR_STORE_OK);
    cr_entry *got = NULL;
    assert_int_equal(cr_store_get(s, "good", &got, &err), CR_STORE_OK);
    assert_non_null(got);
    cr_entry_free(got);
    assert_int_equal(cr_store_get(s, "good-offset", &got, &err), CR_STORE_OK);
    assert_non_null(got);
    assert_string_equal(got->updated_at, "2026-01-02T03:04:05.1+02:00");
    cr_entry_free(got);

    static const struct { const char *id, *needle; } bad[] = {
        {"int-cell", "cell_id is not text"},
        {"blob-ep", "endpoint is not text"},
        {"nul-ep", "NUL"},
        {"bad-json", "not valid JSON"},
        {"array-json", "not a JSON object"},
        {"num-label", "labels hold a value that is not a string"},
        {"dup-label", "not valid JSON"},
        {"nul-label", "labels are not valid JSON"},
        {"text-version", "version is not an integer"},
        {"zero-version", "version is not a positive"},
        {"bad-url", "endpoint"},
        {"half-standby", "both or neither"},
        {"null-stamp", "updated_at is null"},
        {"bad-stamp", "updated_at is not an RFC 3339 time"},
        {"esc-stamp", "updated_at is not an RFC 3339 time"},
        {"bad id!", "tenant_id"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        got = (cr_entry *)1;
        cr_store_rc rc = cr_store_get(s, bad[i].id, &got, &err);
        if (rc != CR_STORE_INVALID)
            fail_msg("%s: got %s", bad[i].id, cr_store_rc_name(rc));
        assert_null(got);
        if (!strstr(err.msg, bad[i].needle) || !strstr(err.msg, bad[i].id))
            fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].id, err.msg,
                     bad[i].needle);
    }

    cr_entry_list l;
    assert_int_equal(cr_store_list(s, "", &l, &err), CR_STORE_INVALID);
    assert_int_equal(l.len, 0);
    assert_null(l.items);
    assert_int_equal(cr_store_list(s, "goo", &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 2);
    cr_entry_list_free(&l);

    /* Writes over a damaged version: conditional ones are refused, an
     * unconditional delete clears the row so an operator can repair. */
    cr_entry *e = mk("text-version", "c", "http://h");
    assert_int_equal(cr_store_put(s, e, 1, NULL, &err), CR_STORE_INVALID);
    assert_int_equal(cr_store_delete(s, "text-version", 1, &err),
                     CR_STORE_INVALID);
    assert_int_equal(cr_store_delete(s, "text-version", CR_VERSION_ANY, &err),
                     CR_STORE_OK);
    put_ok(s, e, CR_VERSION_ABSENT, 1);
    cr_entry_free(e);
    /* An unconditional put repairs a row whose version is readable. */
    e = mk("bad-json", "c", "http://h");
    put_ok(s, e, CR_VERSION_ANY, 2);
    cr_entry_free(e);
    assert_int_equal(cr_store_get(s, "bad-json", &got, &err), CR_STORE_OK);
    assert_false(got->has_labels);
    cr_entry_free(got);
    cr_store_close(s);
}

/* The labels column is decoded by a streaming fast path that hands
 * anything unusual to the reference decoder (jansson): every text below
 * must give what the reference gives, value or message. Each row is
 * written behind the store's back with its exact bytes. */
static void put_raw_labels(sqlite3 *db, const char *id, const char *text,
                           size_t len)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
        "INSERT INTO entries VALUES(?1,'c','http://h',NULL,NULL,?2,1,"
        "'2026-01-02T03:04:05Z')", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, text, (int)len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static char *repeat(const char *head, const char *unit, size_t n,
                    const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1), *w = s;
    assert_non_null(s);
    memcpy(w, head, hl);
    w += hl;
    for (size_t i = 0; i < n; i++, w += ul)
        memcpy(w, unit, ul);
    memcpy(w, tail, tl + 1);
    return s;
}

static void test_labels_decoding(void **state)
{
    fixture *f = *state;
    static const struct { const char *id, *text, *needle; } cases[] = {
        /* NULL needle: read back fine. */
        {"empty-map", "{}", NULL},
        {"one", "{\"a\":\"1\"}", NULL},
        {"unsorted", " {\"b\" : \"2\",\n\t\"a\":\"1\"}\r\n", NULL},
        {"escapes", "{\"k\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\/\"}", NULL},
        {"raw-utf8", "{\"k\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}", NULL},
        {"escaped-backslash-u", "{\"k\":\"\\\\ud800\"}", NULL},
        /* The reference refuses these; yajl alone would not. */
        {"lone-high", "{\"k\":\"a\\ud800\"}", "labels are not valid JSON"},
        {"lone-high-end", "{\"k\":\"\\uD800\"}", "labels are not valid JSON"},
        {"high-then-other", "{\"k\":\"\\ud800\\u0041\"}", "labels are not valid JSON"},
        {"lone-low", "{\"k\":\"\\udc00\"}", "labels are not valid JSON"},
        {"escaped-nul-key", "{\"a\\u0000\":\"x\"}", "labels are not valid JSON"},
        {"overlong", "{\"k\":\"\xc0\xaf\"}", "labels are not valid JSON"},
        {"raw-surrogate", "{\"k\":\"\xed\xa0\x80\"}", "labels are not valid JSON"},
        {"above-max", "{\"k\":\"\xf4\x90\x80\x80\"}", "labels are not valid JSON"},
        {"truncated-utf8", "{\"k\":\"\xe6\x97\"}", "labels are not valid JSON"},
        {"form-feed", "{\"k\":\"v\"}\f", "labels are not valid JSON"},
        {"vtab", "{\v\"k\":\"v\"}", "labels are not valid JSON"},
        {"raw-tab-in-string", "{\"k\":\"a\tb\"}", "labels are not valid JSON"},
        {"dup-unsorted", "{\"b\":\"1\",\"a\":\"2\",\"b\":\"3\"}", "labels are not valid JSON"},
        {"dup-after-bad", "{\"a\":1,\"a\":\"x\"}", "labels are not valid JSON"},
        {"nested-dup", "{\"k\":{\"a\":\"1\",\"a\":\"2\"}}", "labels are not valid JSON"},
        {"big-real", "{\"k\":1e999}", "labels are not valid JSON"},
        {"big-int", "{\"k\":99999999999999999999}", "labels are not valid JSON"},
        {"top-string", "\"x\"", "labels are not valid JSON"},
        {"trailing", "{\"k\":\"v\"}x", "labels are not valid JSON"},
        {"two-values", "{\"k\":\"v\"}{}", "labels are not valid JSON"},
        {"blank", "  ", "labels are not valid JSON"},
        {"zero-length", "", "labels are not valid JSON"},
        {"comment", "{/*c*/\"k\":\"v\"}", "labels are not valid JSON"},
        {"bad-escape", "{\"k\":\"\\x41\"}", "labels are not valid JSON"},
        {"top-array", "[\"a\"]", "labels are not a JSON object"},
        {"nested", "{\"k\":{\"a\":\"b\"}}", "labels hold a value that is not a string"},
        {"nested-array", "{\"k\":[\"a\"]}", "labels hold a value that is not a string"},
        {"bool", "{\"a\":\"x\",\"k\":true}", "labels hold a value that is not a string"},
        {"null", "{\"k\":null}", "labels hold a value that is not a string"},
        /* Decoded fine, refused by the entry rules. */
        {"empty-key", "{\"\":\"v\"}", "label keys must not be empty"},
        {"control", "{\"k\":\"a\\nb\"}", "without control characters"},
    };
    char p[400];
    snprintf(p, sizeof p, "%s/labels.db", f->dir);
    raw_exec(p,
        "CREATE TABLE entries (tenant_id PRIMARY KEY, cell_id, endpoint,"
        " standby_cell_id, standby_endpoint, labels, version, updated_at);"
        "CREATE TABLE retired_versions (tenant_id PRIMARY KEY, version);"
        "PRAGMA user_version=1;");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    size_t ncases = sizeof cases / sizeof *cases;
    for (size_t i = 0; i < ncases; i++)
        put_raw_labels(db, cases[i].id, cases[i].text, strlen(cases[i].text));
    /* Beyond the parser's small-block arena: a long escaped value, many
     * keys in reverse order, deep nesting. */
    char *longval = repeat("{\"k\":\"", "\\u0041", 3000, "\"}");
    put_raw_labels(db, "long-escaped", longval, strlen(longval));
    char *deep = repeat("", "[", 5000, "");
    put_raw_labels(db, "deep", deep, strlen(deep));
    char many[200 * 24] = "{", *w = many + 1;
    for (int i = 199; i >= 0; i--)
        w += sprintf(w, "\"k%03d\":\"v%d\"%s", i, i, i ? "," : "}");
    put_raw_labels(db, "many", many, strlen(many));
    sqlite3_close(db);
    free(longval);
    free(deep);

    cr_store *s = NULL;
    cr_store_err err;
    assert_int_equal(cr_store_sqlite_open(p, &s, &err), CR_STORE_OK);
    for (size_t i = 0; i < ncases; i++) {
        cr_entry *got = (cr_entry *)1;
        cr_store_rc rc = cr_store_get(s, cases[i].id, &got, &err);
        if (!cases[i].needle) {
            if (rc != CR_STORE_OK)
                fail_msg("%s: %s", cases[i].id, err.msg);
            assert_non_null(got);
            assert_true(got->has_labels);
            cr_entry_free(got);
            continue;
        }
        if (rc != CR_STORE_INVALID)
            fail_msg("%s: got %s", cases[i].id, cr_store_rc_name(rc));
        assert_null(got);
        if (!strstr(err.msg, cases[i].needle) || !strstr(err.msg, cases[i].id))
            fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].id, err.msg,
                     cases[i].needle);
    }

    cr_entry *got = NULL;
    assert_int_equal(cr_store_get(s, "empty-map", &got, &err), CR_STORE_OK);
    assert_int_equal(got->nlabels, 0);
    cr_entry_free(got);
    assert_int_equal(cr_store_get(s, "unsorted", &got, &err), CR_STORE_OK);
    assert_int_equal(got->nlabels, 2);
    assert_string_equal(got->labels[0].key, "a");
    assert_string_equal(got->labels[0].value, "1");
    assert_string_equal(got->labels[1].key, "b");
    assert_string_equal(got->labels[1].value, "2");
    cr_entry_free(got);
    assert_int_equal(cr_store_get(s, "escapes", &got, &err), CR_STORE_OK);
    assert_string_equal(cr_entry_label(got, "k"),
                        "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" /");
    cr_entry_free(got);
    assert_int_equal(cr_store_get(s, "raw-utf8", &got, &err), CR_STORE_OK);
    assert_string_equal(cr_entry_label(got, "k"),
                        "caf\xc3\xa9 \xf0\x9f\x98\x80");
    cr_entry_free(got);
    assert_int_equal(cr_store_get(s, "escaped-backslash-u", &got, &err),
                     CR_STORE_OK);
    assert_string_equal(cr_entry_label(got, "k"), "\\ud800");
    cr_entry_free(got);
    assert_int_equal(cr_store_get(s, "many", &got, &err), CR_STORE_OK);
    assert_int_equal(got->nlabels, 200);
    for (size_t i = 0; i < 200; i++) {
        char k[8], v[8];
        snprintf(k, sizeof k, "k%03zu", i);
        snprintf(v, sizeof v, "v%zu", i);
        assert_string_equal(got->labels[i].key, k);
        assert_string_equal(got->labels[i].value, v);
    }
    cr_entry_free(got);
    assert_int_equal(cr_store_get(s, "long-escaped", &got, &err),
                     CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "longer than 256 bytes"));
    assert_int_equal(cr_store_get(s, "deep", &got, &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "labels are not valid JSON"));

    /* What the store writes reads back through the fast path unchanged. */
    cr_entry *e = mk("written", "c", "http://h");
    cr_entry_set_label(e, "z", "last");
    cr_entry_set_label(e, "a", "caf\xc3\xa9 \"q\" \\ / end");
    cr_entry_set_label(e, "m", "");
    put_ok(s, e, CR_VERSION_ABSENT, 1);
    assert_int_equal(cr_store_get(s, "written", &got, &err), CR_STORE_OK);
    assert_int_equal(got->nlabels, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(got->labels[i].key, e->labels[i].key);
        assert_string_equal(got->labels[i].value, e->labels[i].value);
    }
    cr_entry_free(got);
    cr_entry_free(e);
    cr_store_close(s);
}

/* get_many walks the primary key in order, merged with the sorted ids, in
 * a map whose schema is ours, falls back to a lookup per id when the ids
 * are sparse, and always looks up in a map made by another tool. Every
 * path must return exactly the asked entries that exist, sorted, once. */
#define GM_N 300

static void gm_fill(cr_store *s, const char *skip_prefix)
{
    cr_entry es[GM_N];
    cr_batch_op ops[GM_N];
    cr_store_err err;
    size_t k = 0;
    for (int i = 0; i < GM_N; i++) {
        char id[32];
        snprintf(id, sizeof id, "tenant-%03d", i);
        if (skip_prefix && strncmp(id, skip_prefix, strlen(skip_prefix)) == 0)
            continue;
        memset(&es[k], 0, sizeof es[k]);
        es[k].tenant_id = strdup(id);
        es[k].cell_id = strdup("c");
        es[k].endpoint = strdup("https://c.example.com");
        cr_entry_set_label(&es[k], "n", id);
        ops[k] = (cr_batch_op){ .kind = CR_BATCH_PUT, .entry = &es[k],
                                .expect = CR_VERSION_ANY };
        k++;
    }
    if (cr_store_batch(s, ops, k, &err) != CR_STORE_OK)
        fail_msg("batch: %s", err.msg);
    for (size_t i = 0; i < k; i++)
        cr_entry_clear(&es[i]);
}

static int gm_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Asks for `ids` and checks the answer against what exists: the stored
 * ids are tenant-000..tenant-299 except `missing_prefix`. */
static void gm_check(cr_store *s, const char **ids, size_t n,
                     const char *missing_prefix)
{
    cr_entry_list l;
    cr_store_err err;
    if (cr_store_get_many(s, ids, n, &l, &err) != CR_STORE_OK)
        fail_msg("get_many: %s", err.msg);
    const char **want = malloc((n ? n : 1) * sizeof *want);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int k = -1, end = 0;
        if (sscanf(ids[i], "tenant-%3d%n", &k, &end) != 1 ||
            ids[i][end] || strlen(ids[i]) != 10 || k < 0 || k >= GM_N ||
            (missing_prefix && strncmp(ids[i], missing_prefix,
                                       strlen(missing_prefix)) == 0))
            continue;
        want[m++] = ids[i];
    }
    qsort(want, m, sizeof *want, gm_cmp);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (!u || strcmp(want[u - 1], want[i]) != 0)
            want[u++] = want[i];
    if (l.len != u)
        fail_msg("asked %zu ids: got %zu entries, want %zu", n, l.len, u);
    for (size_t i = 0; i < u; i++) {
        assert_string_equal(l.items[i].tenant_id, want[i]);
        assert_string_equal(cr_entry_label(&l.items[i], "n"), want[i]);
    }
    free(want);
    cr_entry_list_free(&l);
}

static void gm_all_cases(cr_store *s, const char *missing)
{
    static char names[GM_N][32];
    const char *ids[GM_N + 16];
    size_t n = 0;
    for (int i = 0; i < GM_N; i++) {
        snprintf(names[i], sizeof names[i], "tenant-%03d", i);
        ids[n++] = names[i];
    }
    gm_check(s, ids, n, missing);                   /* dense, sorted */
    gm_check(s, ids + 299, 1, missing);             /* the last one */
    gm_check(s, ids + 17, 1, missing);

    /* Unsorted, duplicated, invalid and absent ids mixed in. */
    const char *mixed[] = {
        "tenant-250", "tenant-003", "bad id!", "tenant-003", "aaa",
        "tenant-0035", "zzz", "tenant-100", "-x", "tenant-250",
        "tenant-10", "TENANT-100", "tenant-299", "tenant-000",
    };
    gm_check(s, mixed, sizeof mixed / sizeof *mixed, missing);

    /* Outside the stored range only. */
    const char *outside[] = { "a", "tenant-", "tenant-300", "zzz" };
    gm_check(s, outside, 4, missing);

    /* Sparse: every 50th (the walk gives up, lookups do the rest). */
    n = 0;
    for (int i = 0; i < GM_N; i += 50)
        ids[n++] = names[i];
    gm_check(s, ids, n, missing);
    /* Dense, then a long gap, then sparse. */
    n = 0;
    for (int i = 0; i < 100; i++)
        ids[n++] = names[i];
    ids[n++] = names[180];
    ids[n++] = names[299];
    gm_check(s, ids, n, missing);
    /* Every second one, and a run of absent ids between present ones. */
    n = 0;
    for (int i = 0; i < GM_N; i += 2)
        ids[n++] = names[i];
    gm_check(s, ids, n, missing);
}

static void test_get_many_paths(void **state)
{
    fixture *f = *state;
    /* Our own map: the ordered walk; tenant-1xx absent (a gap the walk
     * must cross without losing its place). */
    gm_fill(f->s, "tenant-1");
    gm_all_cases(f->s, "tenant-1");

    /* A damaged row nobody asks for is not read; asking for it names it. */
    raw_exec(f->path, "UPDATE entries SET labels = '[1]' "
                      "WHERE tenant_id = 'tenant-050'");
    const char *around[] = { "tenant-049", "tenant-051" };
    gm_check(f->s, around, 2, NULL);
    const char *hit[] = { "tenant-049", "tenant-050", "tenant-051" };
    cr_entry_list l;
    cr_store_err err;
    assert_int_equal(cr_store_get_many(f->s, hit, 3, &l, &err),
                     CR_STORE_INVALID);
    assert_int_equal(l.len, 0);
    assert_non_null(strstr(err.msg, "tenant-050"));
    assert_non_null(strstr(err.msg, "not a JSON object"));

    /* A map made by another tool (no STRICT, no WITHOUT ROWID, a key
     * without a type): lookups, same answers, and rows of other types or
     * unasked damage in between change nothing. */
    char p[400];
    snprintf(p, sizeof p, "%s/foreign.db", f->dir);
    raw_exec(p,
        "CREATE TABLE entries (tenant_id PRIMARY KEY, cell_id, endpoint,"
        " standby_cell_id, standby_endpoint, labels, version, updated_at);"
        "CREATE TABLE retired_versions (tenant_id PRIMARY KEY, version);"
        "PRAGMA user_version=1;"
        "INSERT INTO entries VALUES(7,'c','http://h',NULL,NULL,NULL,1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES(x'74656e616e742d303031','c','http://h',NULL,NULL,NULL,1,'2026-01-02T03:04:05Z');"
        "INSERT INTO entries VALUES('tenant-0505','c','javascript:x',NULL,NULL,NULL,1,'2026-01-02T03:04:05Z');");
    cr_store *fs = NULL;
    assert_int_equal(cr_store_sqlite_open(p, &fs, &err), CR_STORE_OK);
    gm_fill(fs, "tenant-1");
    gm_all_cases(fs, "tenant-1");
    cr_store_close(fs);
}

/* Another process holds the write lock for longer than the busy timeout:
 * readers still see the last committed map (WAL), the writer gets a clear
 * I/O error instead of hanging, and nothing is half-written. */
static void test_locked_by_other_writer(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_entry *e = mk("acme", "cell-a", "https://a.example.com");
    put_ok(f->s, e, CR_VERSION_ABSENT, 1);

    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE; UPDATE entries SET "
                                      "cell_id = 'held' WHERE tenant_id = "
                                      "'acme'", NULL, NULL, NULL), SQLITE_OK);
    cr_entry *got = NULL;
    assert_int_equal(cr_store_get(f->s, "acme", &got, &err), CR_STORE_OK);
    assert_string_equal(got->cell_id, "cell-a");
    cr_entry_free(got);
    /* Opening the map (cellctl list, a provider starting) needs no write
     * lock either. */
    cr_store *reader = NULL;
    assert_int_equal(cr_store_sqlite_open(f->path, &reader, &err),
                     CR_STORE_OK);
    cr_entry_list l;
    assert_int_equal(cr_store_list(reader, "", &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 1);
    cr_entry_list_free(&l);
    cr_store_close(reader);

    free(e->cell_id);
    e->cell_id = strdup("cell-b");
    assert_int_equal(cr_store_put(f->s, e, 1, NULL, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "locked by another writer"));

    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    put_ok(f->s, e, 1, 2);
    cr_entry_free(e);
}

/* Random byte damage anywhere in the file (header, schema, b-tree pages):
 * every operation returns some result code with a printable message, never
 * a crash (the ASan build runs this too). Deterministic seed. */
static void assert_printable(const char *msg)
{
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            fail_msg("unprintable byte 0x%02x in message: %s", *p, msg);
}

static void test_damaged_file(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 150; i++) {
        char tid[32], ep[64];
        snprintf(tid, sizeof tid, "tenant-%03d", i);
        snprintf(ep, sizeof ep, "https://c%d.example.com/x", i);
        cr_entry *e = mk(tid, "cell-a", ep);
        cr_entry_set_label(e, "k", tid);
        put_ok(f->s, e, CR_VERSION_ABSENT, 1);
        cr_entry_free(e);
    }
    cr_store_close(f->s);           /* checkpoints the WAL into the file */
    f->s = NULL;
    FILE *in = fopen(f->path, "rb");
    assert_non_null(in);
    static unsigned char orig[1 << 20];
    size_t n = fread(orig, 1, sizeof orig, in);
    fclose(in);
    assert_true(n > 4096 && n < sizeof orig);
    cr_store_err err0;
    assert_int_equal(cr_store_sqlite_open(f->path, &f->s, &err0),
                     CR_STORE_OK);

    char p[400], side[420];
    snprintf(p, sizeof p, "%s/damaged.db", f->dir);
    unsigned seed = 4242;
    int failures = 0;
    for (int round = 0; round < 60; round++) {
        static unsigned char buf[1 << 20];
        memcpy(buf, orig, n);
        int flips = 1 + rand_r(&seed) % 16;
        for (int k = 0; k < flips; k++)
            buf[(size_t)rand_r(&seed) % n] = (unsigned char)rand_r(&seed);
        FILE *out = fopen(p, "wb");
        assert_non_null(out);
        assert_int_equal(fwrite(buf, 1, n, out), n);
        fclose(out);
        snprintf(side, sizeof side, "%s-wal", p);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", p);
        unlink(side);

        cr_store *s = NULL;
        cr_store_err err;
        if (cr_store_sqlite_open(p, &s, &err) != CR_STORE_OK) {
            assert_null(s);
            assert_printable(err.msg);
            failures++;
            continue;
        }
        cr_entry_list l;
        if (cr_store_list(s, "", &l, &err) == CR_STORE_OK) {
            cr_entry_list_free(&l);
        } else {
            assert_printable(err.msg);
            failures++;
        }
        cr_entry *got = NULL;
        if (cr_store_get(s, "tenant-007", &got, &err) != CR_STORE_OK)
            assert_printable(err.msg);
        cr_entry_free(got);
        cr_entry *e = mk("tenant-011", "cell-b", "https://b.example.com/");
        if (cr_store_put(s, e, 1, NULL, &err) != CR_STORE_OK)
            assert_printable(err.msg);
        cr_entry_free(e);
        if (cr_store_delete(s, "tenant-012", CR_VERSION_ANY, &err) !=
            CR_STORE_OK)
            assert_printable(err.msg);
        cr_store_close(s);
    }
    /* The damage must have been noticed at least sometimes. */
    assert_true(failures > 0);
}

/* ---- a writer killed mid-flight ---------------------------------------- */

#define KILL_TENANTS 7

static void fill(cr_entry *e, long i)
{
    char buf[128];
    cr_entry_clear(e);
    snprintf(buf, sizeof buf, "t%ld", i % KILL_TENANTS);
    e->tenant_id = strdup(buf);
    snprintf(buf, sizeof buf, "c%ld", i);
    e->cell_id = strdup(buf);
    snprintf(buf, sizeof buf, "https://c%ld.example/", i);
    e->endpoint = strdup(buf);
    snprintf(buf, sizeof buf, "s%ld", i);
    e->standby_cell_id = strdup(buf);
    snprintf(buf, sizeof buf, "https://s%ld.example/", i);
    e->standby_endpoint = strdup(buf);
    snprintf(buf, sizeof buf, "%ld", i);
    cr_entry_set_label(e, "n", buf);
    cr_entry_set_label(e, "pad", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}

static void writer_child(const char *path, int ackfd, long start)
{
    cr_store *s;
    cr_store_err err;
    if (cr_store_sqlite_open(path, &s, &err) != CR_STORE_OK)
        _exit(3);
    cr_entry e = {0};
    for (long i = start;; i++) {
        fill(&e, i);
        if (cr_store_put(s, &e, CR_VERSION_ANY, NULL, &err) != CR_STORE_OK)
            _exit(4);
        if (write(ackfd, &i, sizeof i) != sizeof i)
            _exit(5);
    }
}

static void test_kill_during_write(void **state)
{
    fixture *f = *state;
    long next = 0;
    for (int round = 0; round < 6; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            writer_child(f->path, fds[1], next);
        }
        close(fds[1]);
        long acked = -1, v;
        long want = 20 + round * 17;
        for (long n = 0; n < want; n++) {
            ssize_t r = read(fds[0], &v, sizeof v);
            assert_int_equal(r, sizeof v);
            acked = v;
        }
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        /* Drain acks still in the pipe: they were committed too. */
        while (read(fds[0], &v, sizeof v) == sizeof v)
            acked = v;
        close(fds[0]);

        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
                                            &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
        sqlite3_finalize(st);
        sqlite3_close(db);

        cr_store_err err;
        cr_entry_list l;
        assert_int_equal(cr_store_list(f->s, "t", &l, &err), CR_STORE_OK);
        assert_int_equal(l.len, KILL_TENANTS);
        long maxn = -1;
        for (size_t i = 0; i < l.len; i++) {
            const cr_entry *e = &l.items[i];
            long n = strtol(cr_entry_label(e, "n"), NULL, 10);
            cr_entry want_e = {0};
            fill(&want_e, n);
            /* Every field from the same write: nothing torn. */
            assert_string_equal(e->tenant_id, want_e.tenant_id);
            assert_string_equal(e->cell_id, want_e.cell_id);
            assert_string_equal(e->endpoint, want_e.endpoint);
            assert_string_equal(e->standby_cell_id, want_e.standby_cell_id);
            assert_string_equal(e->standby_endpoint, want_e.standby_endpoint);
            cr_entry_clear(&want_e);
            if (n > maxn)
                maxn = n;
        }
        /* The last acknowledged write is there (or a later one). */
        char tid[32];
        snprintf(tid, sizeof tid, "t%ld", acked % KILL_TENANTS);
        for (size_t i = 0; i < l.len; i++) {
            if (strcmp(l.items[i].tenant_id, tid) == 0) {
                long n = strtol(cr_entry_label(&l.items[i], "n"), NULL, 10);
                assert_true(n >= acked);
                assert_int_equal((n - acked) % KILL_TENANTS, 0);
            }
        }
        cr_entry_list_free(&l);
        next = maxn + 1;
    }
}

int main(void)
{
    /* The kill test's child must not inherit a SIGPIPE death. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_updated_at_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditional, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_survive_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_labels_null_vs_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_listing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_distinct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_same_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uri_like_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_labels_decoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_many_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_by_other_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_during_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
