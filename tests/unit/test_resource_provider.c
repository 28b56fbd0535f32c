/*
 * tests/unit/test_resource_provider.c — the provider block: schema,
 * validation, and configuration into an open routing-map store.
 *
 * Every case opens real SQLite files in a temporary directory; where the
 * store would go is what the user controls (`path`, CELLROUTER_DB, the
 * working directory), so that is what the tests check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "resource/resource.h"

typedef struct fixture {
    char dir[64];
    char cwd[4096];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    strcpy(fx->dir, "/tmp/cr-provider-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    assert_non_null(getcwd(fx->cwd, sizeof fx->cwd));
    unsetenv("CELLROUTER_DB");
    *state = fx;
    return 0;
}

static void rm_db(const char *dir, const char *name)
{
    static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
    char p[256];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s%s", dir, name, sfx[i]);
        unlink(p);
    }
}

static int teardown(void **state)
{
    fixture *fx = *state;
    assert_int_equal(chdir(fx->cwd), 0);
    unsetenv("CELLROUTER_DB");
    rm_db(fx->dir, "cellrouter.db");
    rm_db(fx->dir, "named.db");
    rm_db(fx->dir, "env.db");
    assert_int_equal(rmdir(fx->dir), 0);
    free(fx);
    return 0;
}

static cr_value *config_path(cr_value *path)
{
    const cr_type *t = cr_schema_type(cr_provider_schema());
    assert_non_null(t);
    cr_value *o = cr_value_object(t);
    assert_non_null(o);
    if (path)
        assert_int_equal(cr_value_object_set(o, "path", path), 0);
    return o;
}

static bool exists(const char *dir, const char *name)
{
    char p[256];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

static bool path_is(const cr_diag *g, const char *attr)
{
    if (!attr)
        return g->path.len == 0;
    return g->path.len == 1 && g->path.steps[0].kind == CR_STEP_ATTR &&
           strcmp(g->path.steps[0].name, attr) == 0;
}

/* The store really is a routing map: a write and a read go through. */
static void assert_store_works(cr_store *s)
{
    cr_entry e;
    cr_entry *got = NULL;
    cr_store_err err;
    memset(&e, 0, sizeof e);
    e.tenant_id = "probe";
    e.cell_id = "alpha";
    e.endpoint = "https://alpha.example.com/";
    assert_int_equal(cr_store_put(s, &e, CR_VERSION_ABSENT, NULL, &err),
                     CR_STORE_OK);
    assert_int_equal(cr_store_get(s, "probe", &got, &err), CR_STORE_OK);
    assert_non_null(got);
    assert_string_equal(got->cell_id, "alpha");
    cr_entry_free(got);
}

static void test_schema(void **state)
{
    (void)state;
    const cr_schema *s = cr_provider_schema();
    const cr_attr_schema *a = cr_schema_attr(s, "path");
    assert_non_null(a);
    assert_int_equal(a->flags, CR_ATTR_OPTIONAL);
    assert_true(cr_type_equal(a->type, &cr_type_string));
    assert_non_null(strstr(a->description, "CELLROUTER_DB"));
    assert_non_null(strstr(a->description, "cellrouter.db"));
    assert_non_null(s->description);
}

static void test_validate(void **state)
{
    (void)state;
    cr_diags d = CR_DIAGS_INIT;

    cr_value *c = config_path(NULL);
    cr_provider_validate(c, &d);
    assert_int_equal(d.len, 0);
    cr_provider_validate(NULL, &d);             /* no provider block */
    assert_int_equal(d.len, 0);
    cr_value_free(c);

    c = config_path(cr_value_unknown(&cr_type_string));
    cr_provider_validate(c, &d);
    assert_int_equal(d.len, 0);
    cr_value_free(c);

    c = config_path(cr_value_string(""));
    cr_provider_validate(c, &d);
    assert_int_equal(d.len, 1);
    assert_int_equal(d.items[0].severity, CR_DIAG_ERROR);
    assert_true(path_is(&d.items[0], "path"));
    cr_diags_free(&d);
    cr_value_free(c);

    c = config_path(cr_value_stringn("a\0b", 3));
    cr_provider_validate(c, &d);
    assert_int_equal(d.len, 1);
    assert_true(path_is(&d.items[0], "path"));
    cr_diags_free(&d);
    cr_value_free(c);
}

static void test_configure_path(void **state)
{
    fixture *fx = *state;
    char p[256];
    cr_provider_state ps = { NULL, 0 };
    cr_diags d = CR_DIAGS_INIT;

    /* CELLROUTER_DB is ignored when `path` is set. */
    snprintf(p, sizeof p, "%s/env.db", fx->dir);
    setenv("CELLROUTER_DB", p, 1);
    snprintf(p, sizeof p, "%s/named.db", fx->dir);
    cr_value *c = config_path(cr_value_string(p));
    cr_provider_configure(&ps, c, NULL, &d);
    assert_int_equal(d.len, 0);
    assert_non_null(ps.store);
    assert_store_works(ps.store);
    assert_true(exists(fx->dir, "named.db"));
    assert_false(exists(fx->dir, "env.db"));
    cr_provider_close(&ps);
    assert_null(ps.store);
    cr_provider_close(&ps);                     /* twice is harmless */
    cr_value_free(c);
}

static void test_configure_env_and_default(void **state)
{
    fixture *fx = *state;
    char p[256];
    cr_provider_state ps = { NULL, 0 };
    cr_diags d = CR_DIAGS_INIT;
    cr_value *c = config_path(NULL);

    snprintf(p, sizeof p, "%s/env.db", fx->dir);
    setenv("CELLROUTER_DB", p, 1);
    cr_provider_configure(&ps, c, NULL, &d);
    assert_int_equal(d.len, 0);
    assert_non_null(ps.store);
    assert_true(exists(fx->dir, "env.db"));
    cr_provider_close(&ps);

    /* Neither: cellrouter.db in the working directory. */
    unsetenv("CELLROUTER_DB");
    assert_int_equal(chdir(fx->dir), 0);
    cr_provider_configure(&ps, NULL, NULL, &d);       /* no provider block */
    assert_int_equal(d.len, 0);
    assert_non_null(ps.store);
    assert_store_works(ps.store);
    assert_true(exists(fx->dir, "cellrouter.db"));
    cr_provider_close(&ps);

    /* A null configuration object (an empty provider block) too. */
    cr_value *n = cr_value_null(cr_schema_type(cr_provider_schema()));
    cr_provider_configure(&ps, n, NULL, &d);
    assert_int_equal(d.len, 0);
    assert_non_null(ps.store);
    cr_provider_close(&ps);
    cr_value_free(n);
    cr_value_free(c);
}

static void test_configure_unknown(void **state)
{
    (void)state;
    cr_provider_state ps = { NULL, 0 };
    cr_diags d = CR_DIAGS_INIT;
    cr_value *c = config_path(cr_value_unknown(&cr_type_string));
    cr_provider_configure(&ps, c, NULL, &d);
    assert_int_equal(d.len, 0);
    assert_null(ps.store);
    cr_value_free(c);

    cr_value *u = cr_value_unknown(cr_schema_type(cr_provider_schema()));
    cr_provider_configure(&ps, u, NULL, &d);
    assert_int_equal(d.len, 0);
    assert_null(ps.store);
    cr_value_free(u);
}

static void test_configure_errors(void **state)
{
    fixture *fx = *state;
    char p[256];
    cr_provider_state ps = { NULL, 0 };
    cr_diags d = CR_DIAGS_INIT;

    /* A directory that does not exist: an error at `path` naming it. */
    snprintf(p, sizeof p, "%s/no/such/dir/map.db", fx->dir);
    cr_value *c = config_path(cr_value_string(p));
    cr_provider_configure(&ps, c, NULL, &d);
    assert_null(ps.store);
    assert_int_equal(d.len, 1);
    assert_int_equal(d.items[0].severity, CR_DIAG_ERROR);
    assert_true(path_is(&d.items[0], "path"));
    assert_non_null(strstr(d.items[0].detail, p));
    cr_diags_free(&d);
    cr_value_free(c);

    /* The same from the environment: no attribute to point at, and the
     * detail says where the path came from. */
    setenv("CELLROUTER_DB", p, 1);
    cr_provider_configure(&ps, NULL, NULL, &d);
    assert_null(ps.store);
    assert_int_equal(d.len, 1);
    assert_true(path_is(&d.items[0], NULL));
    assert_non_null(strstr(d.items[0].detail, "CELLROUTER_DB"));
    cr_diags_free(&d);

    /* An empty path is refused before anything is opened. */
    c = config_path(cr_value_string(""));
    cr_provider_configure(&ps, c, NULL, &d);
    assert_null(ps.store);
    assert_int_equal(d.len, 1);
    assert_true(path_is(&d.items[0], "path"));
    cr_diags_free(&d);
    cr_value_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configure_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configure_env_and_default, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_configure_unknown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_configure_errors, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
