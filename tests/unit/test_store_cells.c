/*
 * tests/unit/test_store_cells.c — the cells of the routing map (store.h,
 * "cells") on the SQLite backend: definitions with conditional writes and
 * versions that never repeat, serving records written apart from them
 * (each write keeps the other record, and the prober's memory), a delete
 * refused while tenants name the cell, the schema migration from a map
 * made before cells, damaged rows, and the rules of store/cell.c. The
 * Workers KV backend's cells are in test_store_cfkv.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    snprintf(f->dir, sizeof f->dir, "%s/cr-cells-XXXXXX",
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

static long long raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static cr_cell mkcell(const char *id, const char *ep, const char *health)
{
    cr_cell c = {0};
    c.cell_id = (char *)id;
    c.endpoint = (char *)ep;
    c.health_url = (char *)health;
    return c;
}

static cr_cell *put_ok(cr_store *s, const cr_cell *c, int64_t expect,
                       int64_t want)
{
    cr_store_err err;
    cr_cell *w = NULL;
    cr_store_rc rc = cr_store_cell_put(s, c, expect, &w, &err);
    if (rc != CR_STORE_OK)
        fail_msg("put %s: %s: %s", c->cell_id, cr_store_rc_name(rc), err.msg);
    assert_int_equal(w->version, want);
    return w;
}

static cr_cell *set_ok(cr_store *s, const char *id, cr_cell_serving st,
                       bool pinned, const char *reason, const char *by,
                       int64_t expect, int64_t want)
{
    cr_cell_state in = { .state = st, .pinned = pinned,
                         .reason = (char *)reason, .changed_by = (char *)by };
    cr_store_err err;
    cr_cell *w = NULL;
    cr_store_rc rc = cr_store_cell_set_state(s, id, &in, expect, &w, &err);
    if (rc != CR_STORE_OK)
        fail_msg("set_state %s: %s: %s", id, cr_store_rc_name(rc), err.msg);
    assert_int_equal(w->serving.version, want);
    return w;
}

static void put_tenant(cr_store *s, const char *id, const char *cell,
                       const char *standby)
{
    cr_entry e = {0};
    cr_store_err err;
    e.tenant_id = (char *)id;
    e.cell_id = (char *)cell;
    e.endpoint = (char *)"https://t.example.com";
    if (standby) {
        e.standby_cell_id = (char *)standby;
        e.standby_endpoint = (char *)"https://sb.example.com";
    }
    assert_int_equal(cr_store_put(s, &e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_OK);
}

/* ---- definitions ------------------------------------------------------------ */

static void test_definitions(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_cell *got = (cr_cell *)1;
    assert_int_equal(cr_store_cell_get(f->s, "aws-alpha", &got, &err),
                     CR_STORE_OK);
    assert_null(got);

    cr_cell c = mkcell("aws-alpha", "https://alpha.example.com/ingest",
                       "https://alpha.example.com/healthz");
    cr_cell *w = put_ok(f->s, &c, CR_VERSION_ABSENT, 1);
    assert_non_null(w->updated_at);
    assert_false(w->has_labels);
    /* No serving record: serving, never changed. */
    assert_int_equal(w->serving.state, CR_CELL_SERVING);
    assert_int_equal(w->serving.version, 0);
    assert_null(w->serving.changed_at);
    cr_cell_free(w);

    /* Created twice: EXISTS; a stale version: CONFLICT with the actual. */
    assert_int_equal(cr_store_cell_put(f->s, &c, CR_VERSION_ABSENT, NULL,
                                       &err), CR_STORE_EXISTS);
    assert_int_equal(err.actual_version, 1);
    assert_non_null(strstr(err.msg, "\"aws-alpha\" is already defined"));
    c.health_url = NULL;
    assert_int_equal(cr_cell_set_label(&c, "cloud", "aws"), 0);
    w = put_ok(f->s, &c, 1, 2);
    cr_cell_free(w);
    assert_int_equal(cr_store_cell_put(f->s, &c, 1, NULL, &err),
                     CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 2);
    assert_non_null(strstr(err.msg, "definition of cell \"aws-alpha\" was "
                           "changed by someone else"));

    /* Read back exactly: a null health URL, labels. */
    assert_int_equal(cr_store_cell_get(f->s, "aws-alpha", &got, &err),
                     CR_STORE_OK);
    assert_non_null(got);
    assert_null(got->health_url);
    assert_string_equal(cr_cell_label(got, "cloud"), "aws");
    assert_string_equal(got->endpoint, "https://alpha.example.com/ingest");
    cr_cell_free(got);

    /* Labels null vs an empty map survive the round trip. */
    cr_cell b = mkcell("azure-beta", "https://beta.example.com", NULL);
    b.has_labels = true;
    cr_cell_free(put_ok(f->s, &b, CR_VERSION_ABSENT, 1));
    cr_cell_list l;
    assert_int_equal(cr_store_cell_list(f->s, &l, &err), CR_STORE_OK);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0].cell_id, "aws-alpha");
    assert_string_equal(l.items[1].cell_id, "azure-beta");
    assert_true(l.items[1].has_labels);
    assert_int_equal(l.items[1].nlabels, 0);
    cr_cell_list_free(&l);

    /* Invalid definitions never reach the map. */
    cr_cell bad = mkcell("Bad_Cell", "https://x.example.com", NULL);
    assert_int_equal(cr_store_cell_put(f->s, &bad, CR_VERSION_ANY, NULL,
                                       &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "cell_id"));
    bad = mkcell("ok", "https://x.example.com", "ftp://x/health");
    assert_int_equal(cr_store_cell_put(f->s, &bad, CR_VERSION_ANY, NULL,
                                       &err), CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "health_url must be an absolute URL"));
    cr_cell_clear(&(cr_cell){ .labels = c.labels, .nlabels = c.nlabels });
}

/* ---- serving records ----------------------------------------------------------- */

static void test_serving_state(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_cell c = mkcell("aws-alpha", "https://alpha.example.com", NULL);
    cr_cell_free(put_ok(f->s, &c, CR_VERSION_ABSENT, 1));

    /* A cell that is not defined has no serving state to set. */
    cr_cell_state in = { .state = CR_CELL_FAILED, .reason = (char *)"x",
                         .changed_by = (char *)"operator:alice" };
    assert_int_equal(cr_store_cell_set_state(f->s, "ghost", &in, 0, NULL,
                                             &err), CR_STORE_NOT_FOUND);
    assert_non_null(strstr(err.msg, "\"ghost\" is not defined"));

    /* First record: expected absent (0). */
    cr_cell *w = set_ok(f->s, "aws-alpha", CR_CELL_FAILED, false,
                        "3 health checks failed", "operator:alice", 0, 1);
    assert_int_equal(w->serving.state, CR_CELL_FAILED);
    assert_string_equal(w->serving.reason, "3 health checks failed");
    assert_string_equal(w->serving.changed_by, "operator:alice");
    assert_non_null(w->serving.changed_at);
    assert_int_equal(w->version, 1);            /* the definition's: kept */
    cr_cell_free(w);

    /* Conditional: a writer that read no record, or version 1, is late. */
    assert_int_equal(cr_store_cell_set_state(f->s, "aws-alpha", &in, 0, NULL,
                                             &err), CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 1);
    assert_non_null(strstr(err.msg, "serving state of cell \"aws-alpha\""));
    cr_cell_free(set_ok(f->s, "aws-alpha", CR_CELL_FAILED, true, NULL,
                        "operator:bob", 1, 2));
    assert_int_equal(cr_store_cell_set_state(f->s, "aws-alpha", &in, 1, NULL,
                                             &err), CR_STORE_CONFLICT);
    assert_int_equal(err.actual_version, 2);

    /* The prober's memory is kept by a write that keeps the state, and
     * dropped by a change of state (its counters counted towards it). */
    raw_exec(f->path, "UPDATE cell_states SET probe = "
             "'{\"failures\":3,\"successes\":0}' WHERE cell_id = 'aws-alpha'");
    w = set_ok(f->s, "aws-alpha", CR_CELL_FAILED, true, "still", "operator:bob",
               CR_VERSION_ANY, 3);
    assert_string_equal(w->serving.probe, "{\"failures\":3,\"successes\":0}");
    cr_cell_free(w);
    w = set_ok(f->s, "aws-alpha", CR_CELL_SERVING, true, "", "operator:bob",
               CR_VERSION_ANY, 4);
    assert_null(w->serving.probe);
    assert_true(w->serving.pinned);
    assert_string_equal(w->serving.reason, "");
    cr_cell_free(w);

    /* A definition write keeps the serving record, and the other way
     * round. */
    c.endpoint = (char *)"https://alpha-2.example.com";
    w = put_ok(f->s, &c, 1, 2);
    assert_int_equal(w->serving.version, 4);
    assert_true(w->serving.pinned);
    cr_cell_free(w);
    w = set_ok(f->s, "aws-alpha", CR_CELL_FAILED, true, "drain",
               "automation", 4, 5);
    assert_int_equal(w->version, 2);
    assert_string_equal(w->endpoint, "https://alpha-2.example.com");
    cr_cell_free(w);

    /* Bad records never reach the map. */
    in.changed_by = (char *)"alice";
    assert_int_equal(cr_store_cell_set_state(f->s, "aws-alpha", &in,
                                             CR_VERSION_ANY, NULL, &err),
                     CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "operator:<name>"));
    in.changed_by = (char *)"operator:alice";
    in.reason = (char *)"line\nbreak";
    assert_int_equal(cr_store_cell_set_state(f->s, "aws-alpha", &in,
                                             CR_VERSION_ANY, NULL, &err),
                     CR_STORE_INVALID);
    assert_non_null(strstr(err.msg, "control characters"));
}

/* ---- delete ---------------------------------------------------------------------- */

static void test_delete_refused_while_in_use(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    size_t n = 99;
    cr_cell c = mkcell("aws-alpha", "https://alpha.example.com", NULL);
    cr_cell_free(put_ok(f->s, &c, CR_VERSION_ABSENT, 1));
    cr_cell_free(set_ok(f->s, "aws-alpha", CR_CELL_FAILED, false, "down",
                        "operator:alice", 0, 1));
    put_tenant(f->s, "acme", "aws-alpha", NULL);
    put_tenant(f->s, "globex", "azure-beta", "aws-alpha");
    put_tenant(f->s, "hooli", "azure-beta", NULL);

    assert_int_equal(cr_store_cell_delete(f->s, "aws-alpha", 1, &n, &err),
                     CR_STORE_IN_USE);
    assert_int_equal(n, 2);
    assert_non_null(strstr(err.msg, "still has 2 tenants"));
    assert_non_null(strstr(err.msg, "\"acme\", \"globex\""));
    cr_cell *got = NULL;
    assert_int_equal(cr_store_cell_get(f->s, "aws-alpha", &got, &err),
                     CR_STORE_OK);
    assert_non_null(got);                       /* nothing was removed */
    assert_int_equal(got->serving.version, 1);
    cr_cell_free(got);

    /* Once no tenant names it: deleted, its record dropped with it. */
    assert_int_equal(cr_store_delete(f->s, "acme", CR_VERSION_ANY, &err),
                     CR_STORE_OK);
    assert_int_equal(cr_store_delete(f->s, "globex", CR_VERSION_ANY, &err),
                     CR_STORE_OK);
    assert_int_equal(cr_store_cell_delete(f->s, "aws-alpha", 2, &n, &err),
                     CR_STORE_CONFLICT);
    assert_int_equal(cr_store_cell_delete(f->s, "aws-alpha", 1, &n, &err),
                     CR_STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM cell_states"), 0);
    assert_int_equal(cr_store_cell_get(f->s, "aws-alpha", &got, &err),
                     CR_STORE_OK);
    assert_null(got);
    assert_int_equal(cr_store_cell_delete(f->s, "aws-alpha", CR_VERSION_ANY,
                                          &n, &err), CR_STORE_NOT_FOUND);

    /* Re-created: the definition continues after its last version, and
     * the serving record starts anew. */
    cr_cell *w = put_ok(f->s, &c, CR_VERSION_ABSENT, 2);
    assert_int_equal(w->serving.version, 0);
    assert_int_equal(w->serving.state, CR_CELL_SERVING);
    cr_cell_free(w);
    assert_int_equal(cr_store_cell_delete(f->s, "aws-alpha", 0, &n, &err),
                     CR_STORE_INVALID);
}

/* ---- the schema ------------------------------------------------------------------ */

/* A map made by the previous version (schema 1, before cells) is upgraded
 * in place when opened: its tenants stay, cells can be written. */
static void test_migration_from_schema_1(void **state)
{
    fixture *f = *state;
    char p[400];
    cr_store_err err;
    snprintf(p, sizeof p, "%s/v1.db", f->dir);
    raw_exec(p,
        "CREATE TABLE entries ("
        "  tenant_id TEXT NOT NULL PRIMARY KEY, cell_id TEXT NOT NULL,"
        "  endpoint TEXT NOT NULL, standby_cell_id TEXT,"
        "  standby_endpoint TEXT, labels TEXT, version INTEGER NOT NULL,"
        "  updated_at TEXT NOT NULL) STRICT, WITHOUT ROWID;"
        "CREATE TABLE retired_versions (tenant_id TEXT NOT NULL PRIMARY KEY,"
        "  version INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
        "INSERT INTO entries VALUES('acme','aws-alpha','https://a',NULL,NULL,"
        "  NULL,4,'2026-01-02T03:04:05Z');"
        "PRAGMA user_version=1;");
    cr_store *s = NULL;
    assert_int_equal(cr_store_sqlite_open(p, &s, &err), CR_STORE_OK);
    assert_int_equal(raw_int(p, "PRAGMA user_version"), 2);
    cr_entry *e = NULL;
    assert_int_equal(cr_store_get(s, "acme", &e, &err), CR_STORE_OK);
    assert_non_null(e);
    assert_int_equal(e->version, 4);
    cr_entry_free(e);
    cr_cell c = mkcell("aws-alpha", "https://a", NULL);
    cr_cell_free(put_ok(s, &c, CR_VERSION_ABSENT, 1));
    size_t n;
    assert_int_equal(cr_store_cell_delete(s, "aws-alpha", 1, &n, &err),
                     CR_STORE_IN_USE);
    assert_int_equal(n, 1);
    cr_store_close(s);
    /* Opened again: already at 2, nothing to do. */
    assert_int_equal(cr_store_sqlite_open(p, &s, &err), CR_STORE_OK);
    cr_store_close(s);

    /* A file whose schema-1 upgrade cannot be made (a table of that name
     * is there already) is refused, and left at schema 1. */
    snprintf(p, sizeof p, "%s/clash.db", f->dir);
    raw_exec(p, "CREATE TABLE entries(x); CREATE TABLE cells(x); "
             "PRAGMA user_version=1");
    assert_int_equal(cr_store_sqlite_open(p, &s, &err), CR_STORE_IO);
    assert_non_null(strstr(err.msg, "upgrading the schema from version 1"));
    assert_int_equal(raw_int(p, "PRAGMA user_version"), 1);
}

/* Rows written by something else: every bad one is INVALID naming the
 * cell, never a crash; the good ones still read. */
static void test_damaged_rows(void **state)
{
    fixture *f = *state;
    cr_store_err err;
    cr_cell *got = NULL;
    static const struct { const char *sql, *id, *needle; } cases[] = {
        {"INSERT INTO cells VALUES('c-ep','javascript:x',NULL,NULL,1,'2026-01-02T03:04:05Z')",
         "c-ep", "endpoint must be an absolute URL"},
        {"INSERT INTO cells VALUES('c-health','https://h','ftp://h',NULL,1,'2026-01-02T03:04:05Z')",
         "c-health", "health_url must be"},
        {"INSERT INTO cells VALUES('c-labels','https://h',NULL,'[1]',1,'2026-01-02T03:04:05Z')",
         "c-labels", "not a JSON object"},
        {"INSERT INTO cells VALUES('c-ver','https://h',NULL,NULL,0,'2026-01-02T03:04:05Z')",
         "c-ver", "version is not a positive integer"},
        {"INSERT INTO cells VALUES('c-time','https://h',NULL,NULL,1,'soon')",
         "c-time", "RFC 3339"},
        {"INSERT INTO cells VALUES('c-state','https://h',NULL,NULL,1,'2026-01-02T03:04:05Z');"
         "INSERT INTO cell_states VALUES('c-state','down','',"
         "'2026-01-02T03:04:05Z','automation',0,1,NULL)",
         "c-state", "serving state: state is neither serving nor failed"},
        {"INSERT INTO cells VALUES('c-by','https://h',NULL,NULL,1,'2026-01-02T03:04:05Z');"
         "INSERT INTO cell_states VALUES('c-by','failed','',"
         "'2026-01-02T03:04:05Z','robot',0,1,NULL)",
         "c-by", "changed_by must be"},
        {"INSERT INTO cells VALUES('c-pin','https://h',NULL,NULL,1,'2026-01-02T03:04:05Z');"
         "INSERT INTO cell_states VALUES('c-pin','failed','',"
         "'2026-01-02T03:04:05Z','automation',7,1,NULL)",
         "c-pin", "pinned is not 0 or 1"},
        {"INSERT INTO cells VALUES('c-probe','https://h',NULL,NULL,1,'2026-01-02T03:04:05Z');"
         "INSERT INTO cell_states VALUES('c-probe','failed','',"
         "'2026-01-02T03:04:05Z','automation',0,1,'{oops')",
         "c-probe", "probe is not a JSON object"},
    };
    cr_cell c = mkcell("good", "https://good.example.com", NULL);
    cr_cell_free(put_ok(f->s, &c, CR_VERSION_ABSENT, 1));
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        raw_exec(f->path, cases[i].sql);
        cr_store_rc rc = cr_store_cell_get(f->s, cases[i].id, &got, &err);
        if (rc != CR_STORE_INVALID || !strstr(err.msg, cases[i].needle) ||
            !strstr(err.msg, cases[i].id))
            fail_msg("%s: %s: %s", cases[i].id, cr_store_rc_name(rc),
                     err.msg);
        assert_null(got);
    }
    assert_int_equal(cr_store_cell_get(f->s, "good", &got, &err), CR_STORE_OK);
    assert_non_null(got);
    cr_cell_free(got);
    cr_cell_list l;
    assert_int_equal(cr_store_cell_list(f->s, &l, &err), CR_STORE_INVALID);
    assert_int_equal(l.len, 0);
    /* A damaged definition can still be removed unconditionally. */
    size_t n;
    raw_exec(f->path, "UPDATE cells SET version = -5 WHERE cell_id = 'c-ep'");
    assert_int_equal(cr_store_cell_delete(f->s, "c-ep", 3, &n, &err),
                     CR_STORE_INVALID);
    assert_int_equal(cr_store_cell_delete(f->s, "c-ep", CR_VERSION_ANY, &n,
                                          &err), CR_STORE_OK);
}

/* ---- the rules ------------------------------------------------------------------- */

static void test_rules(void **state)
{
    (void)state;
    const char *field = NULL;
    cr_cell c = mkcell("aws-alpha", "https://a.example.com", NULL);
    assert_null(cr_cell_check(&c, &field));
    assert_null(field);
    c.endpoint = NULL;
    assert_non_null(cr_cell_check(&c, &field));
    assert_string_equal(field, "endpoint");
    c.endpoint = (char *)"https://a.example.com";
    c.health_url = (char *)"https://user:pw@a.example.com/healthz";
    assert_string_equal(cr_cell_check(&c, &field),
                        "health_url must not contain credentials "
                        "(user:password@)");
    assert_string_equal(field, "health_url");
    assert_null(cr_health_url_check("http://127.0.0.1:8080/healthz"));

    assert_null(cr_cell_changed_by_check("automation"));
    assert_null(cr_cell_changed_by_check("operator:alice.smith@example.com"));
    assert_non_null(cr_cell_changed_by_check("operator:"));
    assert_non_null(cr_cell_changed_by_check("operator:bob smith"));
    assert_non_null(cr_cell_changed_by_check("Automation"));
    assert_non_null(cr_cell_changed_by_check(NULL));
    char name[80];
    memset(name, 'a', sizeof name);
    memcpy(name, "operator:", 9);
    name[9 + 64] = '\0';
    assert_null(cr_cell_changed_by_check(name));
    name[9 + 64] = 'a';
    name[9 + 65] = '\0';
    assert_non_null(cr_cell_changed_by_check(name));

    assert_null(cr_cell_reason_check(NULL));
    assert_null(cr_cell_reason_check("HTTP 503 — Überlast"));
    assert_non_null(cr_cell_reason_check("bell\a"));
    assert_non_null(cr_cell_reason_check("\xff"));
    char longr[600];
    memset(longr, 'r', sizeof longr);
    longr[512] = '\0';
    assert_null(cr_cell_reason_check(longr));
    longr[512] = 'r';
    longr[513] = '\0';
    assert_non_null(cr_cell_reason_check(longr));

    cr_cell_serving s;
    assert_int_equal(cr_cell_serving_parse("failed", &s), 0);
    assert_int_equal(s, CR_CELL_FAILED);
    assert_int_equal(cr_cell_serving_parse("FAILED", &s), -1);
    assert_string_equal(cr_cell_serving_name(CR_CELL_SERVING), "serving");

    /* Copies are deep; labels sorted. */
    cr_cell src = mkcell("x", "https://x", NULL), dst;
    assert_int_equal(cr_cell_set_label(&src, "b", "2"), 0);
    assert_int_equal(cr_cell_set_label(&src, "a", "1"), 0);
    src.serving.reason = (char *)"r";
    assert_int_equal(cr_cell_copy(&dst, &src), 0);
    assert_string_equal(dst.labels[0].key, "a");
    assert_ptr_not_equal(dst.serving.reason, src.serving.reason);
    assert_string_equal(dst.serving.reason, "r");
    cr_cell_clear(&dst);
    src.serving.reason = NULL;
    src.cell_id = src.endpoint = NULL;
    cr_cell_clear(&src);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_definitions),
        T(test_serving_state),
        T(test_delete_refused_while_in_use),
        T(test_migration_from_schema_1),
        T(test_damaged_rows),
        cmocka_unit_test(test_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
