/*
 * tests/unit/test_cellctl.c — cellctl through the real binary: every
 * command, its output (table, get, the tenants document, JSON with every
 * field), exit
 * codes, refusals, and that what it writes is what the store API reads (the
 * drift tests rely on that). The binary is found next to this test's build
 * tree: <build>/tests/unit/test_cellctl -> <build>/cellctl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

static char cellctl[PATH_MAX];

typedef struct fixture {
    char dir[256];
    char db[300];
    char out[300], err[300];
} fixture;

typedef struct result {
    int status;
    char *out;      /* stdout, malloc'd */
    char *err;      /* stderr, malloc'd */
} result;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Runs cellctl with the arguments (NULL-terminated) and CELLROUTER_DB set
 * to the fixture's file unless env_db says otherwise. */
static result run_env(fixture *fx, const char *env_db, ...)
{
    const char *argv[64] = {cellctl};
    int argc = 1;
    va_list ap;
    va_start(ap, env_db);
    const char *a;
    while ((a = va_arg(ap, const char *)) && argc < 63)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(fx->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(fx->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(127);
        if (env_db)
            setenv("CELLROUTER_DB", env_db, 1);
        else
            unsetenv("CELLROUTER_DB");
        execv(cellctl, (char *const *)argv);
        _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    result r = {WEXITSTATUS(st), slurp(fx->out), slurp(fx->err)};
    assert_int_not_equal(r.status, 127);
    return r;
}
#define run(fx, ...) run_env((fx), (fx)->db, __VA_ARGS__, (const char *)NULL)

static void result_free(result *r)
{
    free(r->out);
    free(r->err);
}

/* Checks the exit status; stderr must be empty on success, and `needle`
 * (if any) must be in stdout on success, in stderr on failure. */
static void check(result r, int want, const char *needle, int line)
{
    const char *where = want ? r.err : r.out;
    if (r.status != want || (want == 0 && r.err[0]) ||
        (needle && !strstr(where, needle)))
        fail_msg("line %d: exit %d (want %d, text \"%s\")\nstdout: %s\n"
                 "stderr: %s", line, r.status, want, needle ? needle : "",
                 r.out, r.err);
    result_free(&r);
}
#define expect_run(fx, want, needle, ...) \
    check(run((fx), __VA_ARGS__), (want), (needle), __LINE__)

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof fx->dir, "%s/cr-cellctl-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->db, sizeof fx->db, "%s/map.db", fx->dir);
    snprintf(fx->out, sizeof fx->out, "%s/out", fx->dir);
    snprintf(fx->err, sizeof fx->err, "%s/err", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    int rc = system(cmd);
    free(fx);
    return rc == 0 ? 0 : -1;
}

static void seed(fixture *fx)
{
    expect_run(fx, 0, "created", "set", "acme", "--cell", "cell-a",
               "--endpoint", "https://a.example.com/ingest",
               "--standby-cell", "cell-b",
               "--standby-endpoint", "https://b.example.com/ingest",
               "--label", "team=payments", "--label", "env=prod");
    expect_run(fx, 0, NULL, "set", "beta.corp", "--cell=cell-b",
               "--endpoint=https://b.example.com/ingest", "--empty-labels");
    expect_run(fx, 0, NULL, "--db", fx->db, "set", "gamma", "--cell",
               "cell-c", "--endpoint", "http://c.example.com:8080/");
}

static void test_set_and_export(void **state)
{
    fixture *fx = *state;
    seed(fx);
    result r = run(fx, "export", "--format", "array");
    assert_int_equal(r.status, 0);
    json_error_t jerr;
    json_t *arr = json_loads(r.out, 0, &jerr);
    if (!arr)
        fail_msg("export is not JSON: %s\n%s", jerr.text, r.out);
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 3);

    json_t *a = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(a, "tenant_id")), "acme");
    assert_string_equal(json_string_value(json_object_get(a, "cell_id")), "cell-a");
    assert_string_equal(json_string_value(json_object_get(a, "endpoint")),
                        "https://a.example.com/ingest");
    assert_string_equal(json_string_value(json_object_get(a, "standby_cell_id")), "cell-b");
    assert_string_equal(json_string_value(json_object_get(a, "standby_endpoint")),
                        "https://b.example.com/ingest");
    json_t *labels = json_object_get(a, "labels");
    assert_int_equal(json_object_size(labels), 2);
    assert_string_equal(json_string_value(json_object_get(labels, "team")), "payments");
    assert_int_equal(json_integer_value(json_object_get(a, "version")), 1);
    assert_true(json_is_string(json_object_get(a, "updated_at")));

    json_t *b = json_array_get(arr, 1);
    assert_string_equal(json_string_value(json_object_get(b, "tenant_id")), "beta.corp");
    assert_true(json_is_null(json_object_get(b, "standby_cell_id")));
    assert_true(json_is_null(json_object_get(b, "standby_endpoint")));
    assert_true(json_is_object(json_object_get(b, "labels")));
    assert_int_equal(json_object_size(json_object_get(b, "labels")), 0);
    json_t *c = json_array_get(arr, 2);
    assert_true(json_is_null(json_object_get(c, "labels")));
    json_decref(arr);
    result_free(&r);

    /* What cellctl wrote is what the provider's store reads. */
    cr_store *s;
    cr_store_err err;
    assert_int_equal(cr_store_sqlite_open(fx->db, &s, &err), CR_STORE_OK);
    cr_entry *e = NULL;
    assert_int_equal(cr_store_get(s, "acme", &e, &err), CR_STORE_OK);
    assert_non_null(e);
    assert_string_equal(e->standby_endpoint, "https://b.example.com/ingest");
    assert_string_equal(cr_entry_label(e, "env"), "prod");
    cr_entry_free(e);
    cr_store_close(s);

    /* list --json and export --format array with a prefix agree. */
    r = run(fx, "list", "--json", "--prefix", "b");
    assert_int_equal(r.status, 0);
    result r2 = run(fx, "export", "--prefix", "b", "--format=array");
    assert_string_equal(r.out, r2.out);
    assert_non_null(strstr(r.out, "beta.corp"));
    assert_null(strstr(r.out, "acme"));
    result_free(&r);
    result_free(&r2);
}

/* export prints the tenants document: an object keyed by tenant id with
 * the fields a configuration sets (no version, no owner tag), exactly as
 * the one writer (store/document.c) writes it; --owner filters by tag. */
static void test_export_document(void **state)
{
    fixture *fx = *state;
    seed(fx);
    /* An entry of a cellrouter_tenants resource: its tag is not shown. */
    expect_run(fx, 0, NULL, "set", "delta", "--cell", "cell-d",
               "--endpoint", "https://d.example.com/", "--label",
               CR_OWNER_LABEL "=fleet", "--label", "tier=gold");
    result r = run(fx, "export");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out,
        "{\n"
        "  \"acme\": {\"cell_id\": \"cell-a\", \"endpoint\": "
        "\"https://a.example.com/ingest\", \"standby_cell_id\": \"cell-b\", "
        "\"standby_endpoint\": \"https://b.example.com/ingest\", \"labels\": "
        "{\"env\": \"prod\", \"team\": \"payments\"}},\n"
        "  \"beta.corp\": {\"cell_id\": \"cell-b\", \"endpoint\": "
        "\"https://b.example.com/ingest\"},\n"
        "  \"delta\": {\"cell_id\": \"cell-d\", \"endpoint\": "
        "\"https://d.example.com/\", \"labels\": {\"tier\": \"gold\"}},\n"
        "  \"gamma\": {\"cell_id\": \"cell-c\", \"endpoint\": "
        "\"http://c.example.com:8080/\"}\n"
        "}\n");
    result_free(&r);

    r = run(fx, "export", "--owner", "fleet", "--prefix", "d");
    assert_int_equal(r.status, 0);
    json_error_t jerr;
    json_t *doc = json_loads(r.out, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        fail_msg("export is not JSON: %s\n%s", jerr.text, r.out);
    assert_int_equal(json_object_size(doc), 1);
    assert_non_null(json_object_get(doc, "delta"));
    json_decref(doc);
    result_free(&r);
    r = run(fx, "export", "--owner", "other");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "{}\n");
    result_free(&r);

    expect_run(fx, 2, "--format is object or array", "export", "--format",
               "yaml");
    expect_run(fx, 2, "--owner is not an option of list", "list", "--owner",
               "fleet");
}

static void test_list_table(void **state)
{
    fixture *fx = *state;
    seed(fx);
    result r = run(fx, "list");
    assert_int_equal(r.status, 0);
    /* Header plus one line per entry, columns aligned: CELL and ENDPOINT
     * start at the same offset on every line. */
    char *lines[8];
    int n = 0;
    for (char *save, *l = strtok_r(r.out, "\n", &save); l && n < 8;
         l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    assert_int_equal(n, 4);
    size_t cell_col = (size_t)(strstr(lines[0], "CELL") - lines[0]);
    size_t ep_col = (size_t)(strstr(lines[0], "ENDPOINT") - lines[0]);
    assert_int_equal(strncmp(lines[1] + cell_col, "cell-a", 6), 0);
    assert_int_equal(strncmp(lines[2] + cell_col, "cell-b", 6), 0);
    assert_int_equal(strncmp(lines[3] + cell_col, "cell-c", 6), 0);
    assert_int_equal(strncmp(lines[3] + ep_col, "http://c.example.com:8080/", 26), 0);
    assert_non_null(strstr(lines[1], "env=prod,team=payments"));
    assert_non_null(strstr(lines[2], "{}"));
    result_free(&r);

    /* --cell matches the primary or the standby cell. */
    r = run(fx, "list", "--cell", "cell-b");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "acme"));
    assert_non_null(strstr(r.out, "beta.corp"));
    assert_null(strstr(r.out, "gamma"));
    result_free(&r);
}

static void test_get_and_failover(void **state)
{
    fixture *fx = *state;
    seed(fx);
    expect_run(fx, 0, "cell_id           cell-a", "get", "acme");
    expect_run(fx, 0, "failed over to cell cell-b", "failover", "acme");

    result r = run(fx, "get", "acme", "--json");
    assert_int_equal(r.status, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "cell_id")), "cell-b");
    assert_string_equal(json_string_value(json_object_get(j, "endpoint")),
                        "https://b.example.com/ingest");
    assert_string_equal(json_string_value(json_object_get(j, "standby_cell_id")), "cell-a");
    assert_string_equal(json_string_value(json_object_get(j, "standby_endpoint")),
                        "https://a.example.com/ingest");
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 2);
    /* Labels ride along untouched. */
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(j, "labels"), "team")), "payments");
    json_decref(j);
    result_free(&r);

    /* A failover conditional on a version the operator saw earlier. */
    expect_run(fx, 3, "expected version 1, found 2", "failover", "acme",
               "--expect-version", "1");
    expect_run(fx, 0, "version 3", "failover", "acme", "--expect-version", "2");
    expect_run(fx, 0, "cell_id           cell-a", "get", "acme");
    expect_run(fx, 1, "no standby", "failover", "gamma");
    expect_run(fx, 4, "no entry", "failover", "nobody");
    expect_run(fx, 4, "no entry", "get", "nobody");
}

/* Runs cellctl `n` times at once, each in its own process on the
 * fixture's map, process i with the arguments args(i, buf) fills in
 * (NULL-terminated; buf: 32 bytes for an argument of its own), and counts
 * those that exit 0 and 3 (a conflict); any other outcome fails. */
static void concurrently(fixture *fx, int n,
                         void (*args)(int i, const char *argv[8], char *buf),
                         int *ok, int *conflicts)
{
    pid_t pids[16];
    assert_true(n <= 16);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            char buf[32];
            const char *argv[8] = {cellctl};
            args(i, argv, buf);
            int devnull = open("/dev/null", O_WRONLY);
            if (devnull < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
                _exit(127);
            setenv("CELLROUTER_DB", fx->db, 1);
            execv(cellctl, (char *const *)argv);
            _exit(127);
        }
    }
    *ok = *conflicts = 0;
    for (int i = 0; i < n; i++) {
        int st;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (code == 0)
            ++*ok;
        else if (code == 3)
            ++*conflicts;
        else
            fail_msg("cellctl process %d: exit %d", i, code);
    }
    assert_true(*ok >= 1);
    assert_int_equal(*ok + *conflicts, n);
}

static void failover_args(int i, const char *argv[8], char *buf)
{
    (void)i;
    (void)buf;
    argv[1] = "failover";
    argv[2] = "acme";
}

/* Eight on-call engineers fail the same tenant over at once, each from
 * its own process: every failover either lands (exit 0) or is refused as
 * a conflict (exit 3); none is lost or applied twice. */
static void test_concurrent_failovers(void **state)
{
    fixture *fx = *state;
    seed(fx);
    int ok, conflicts;
    concurrently(fx, 8, failover_args, &ok, &conflicts);

    result r = run(fx, "get", "acme", "--json");
    assert_int_equal(r.status, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "version")),
                     1 + ok);
    assert_string_equal(json_string_value(json_object_get(j, "cell_id")),
                        ok % 2 ? "cell-b" : "cell-a");
    json_decref(j);
    result_free(&r);
}

static void test_conditional_writes(void **state)
{
    fixture *fx = *state;
    seed(fx);
    expect_run(fx, 3, "already has an entry", "set", "acme", "--cell", "c",
               "--endpoint", "http://h", "--expect-version", "0");
    expect_run(fx, 3, "expected version 5, found 1", "set", "acme", "--cell",
               "c", "--endpoint", "http://h", "--expect-version", "5");
    expect_run(fx, 0, "version 2", "set", "acme", "--cell", "c",
               "--endpoint", "http://h", "--expect-version", "1");
    /* set replaces the whole entry: standby and labels are gone. */
    expect_run(fx, 0, "standby_cell_id   -", "get", "acme");
    expect_run(fx, 0, "labels            -", "get", "acme");
    expect_run(fx, 3, "found 2", "delete", "acme", "--expect-version", "1");
    expect_run(fx, 0, "deleted", "delete", "acme", "--expect-version", "2");
    expect_run(fx, 4, "no entry", "delete", "acme");
    /* Re-created entries continue the version sequence. */
    expect_run(fx, 0, "version 3", "set", "acme", "--cell", "c",
               "--endpoint", "http://h");
}

static void test_usage_errors(void **state)
{
    fixture *fx = *state;
    seed(fx);
    expect_run(fx, 2, "no command", "--db", fx->db);
    expect_run(fx, 2, "unknown command", "frobnicate");
    expect_run(fx, 2, "unknown option", "list", "--frob");
    expect_run(fx, 2, "needs a tenant", "get");
    expect_run(fx, 2, "--cell is not an option of get", "get", "acme",
               "--cell", "x");
    expect_run(fx, 2, "--expect-version is not an option of get", "get",
               "acme", "--expect-version", "1");
    expect_run(fx, 2, "needs --cell and --endpoint", "set", "x", "--cell", "c");
    expect_run(fx, 2, "--endpoint: endpoint must not contain credentials",
               "set", "x", "--cell", "c", "--endpoint", "https://u:p@h/");
    expect_run(fx, 2, "--cell: cell id", "set", "x", "--cell", "Cell",
               "--endpoint", "https://h/");
    expect_run(fx, 2, "both or neither", "set", "x", "--cell", "c",
               "--endpoint", "https://h/", "--standby-cell", "d");
    expect_run(fx, 2, "must differ", "set", "x", "--cell", "c",
               "--endpoint", "https://h/", "--standby-cell", "c",
               "--standby-endpoint", "https://h2/");
    expect_run(fx, 2, "KEY=VALUE", "set", "x", "--cell", "c", "--endpoint",
               "https://h/", "--label", "novalue");
    expect_run(fx, 2, "given twice", "set", "x", "--cell", "c", "--endpoint",
               "https://h/", "--label", "a=1", "--label", "a=2");
    expect_run(fx, 2, "version number", "delete", "acme",
               "--expect-version", "-1");
    expect_run(fx, 2, "version number", "delete", "acme",
               "--expect-version", "1x");
    expect_run(fx, 2, "1 or more", "delete", "acme", "--expect-version", "0");
    expect_run(fx, 2, "tenant_id", "get", "--", "-acme");
    expect_run(fx, 2, "tenant_id", "get", "a/b");
    expect_run(fx, 2, "needs a value", "list", "--prefix");
    expect_run(fx, 2, "unexpected argument", "list", "extra");
    expect_run(fx, 0, "usage: cellctl", "--help");
    expect_run(fx, 1, "unknown routing map backend \"nosuch\"", "--backend",
               "nosuch", "list");
    expect_run(fx, 2, "--db is for the sqlite backend", "--backend",
               "nosuch", "--db", fx->db, "list");
    expect_run(fx, 0, "acme", "--backend", "sqlite", "list");
    /* Nothing above changed the map. */
    expect_run(fx, 0, "version           1", "get", "acme");
    expect_run(fx, 4, "no entry", "get", "x");
}

static void test_db_selection(void **state)
{
    fixture *fx = *state;
    char other[400], missing[400];
    snprintf(other, sizeof other, "%s/other.db", fx->dir);
    snprintf(missing, sizeof missing, "%s/typo.db", fx->dir);

    /* $CELLROUTER_DB is the default; --db wins over it. */
    result r = run_env(fx, other, "set", "t1", "--cell", "c", "--endpoint",
                       "http://h", (const char *)NULL);
    assert_int_equal(r.status, 0);
    result_free(&r);
    r = run_env(fx, fx->db, "--db", other, "get", "t1", (const char *)NULL);
    assert_int_equal(r.status, 0);
    result_free(&r);
    r = run_env(fx, other, "list", "--db", fx->db, (const char *)NULL);
    assert_int_equal(r.status, 1);      /* fx->db does not exist yet */
    result_free(&r);

    /* Without either, ./cellrouter.db: run from the temp dir. */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(fx->dir), 0);
    r = run_env(fx, NULL, "set", "t2", "--cell", "c", "--endpoint",
                "http://h", (const char *)NULL);
    assert_int_equal(r.status, 0);
    result_free(&r);
    struct stat st;
    assert_int_equal(stat("cellrouter.db", &st), 0);
    assert_int_equal(chdir(cwd), 0);

    /* Reading a missing map fails and does not create it. */
    r = run_env(fx, missing, "list", (const char *)NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "no routing map"));
    assert_int_not_equal(stat(missing, &st), 0);
    result_free(&r);
}

static void test_damaged_map(void **state)
{
    fixture *fx = *state;
    seed(fx);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE entries SET labels = '{oops' "
                                      "WHERE tenant_id = 'gamma'",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_run(fx, 1, "\"gamma\": labels are not valid JSON", "list");
    expect_run(fx, 1, "gamma", "export");
    expect_run(fx, 1, "gamma", "get", "gamma");
    expect_run(fx, 0, NULL, "get", "acme");
    /* The operator's repair: overwrite it. */
    expect_run(fx, 0, "version 2", "set", "gamma", "--cell", "cell-c",
               "--endpoint", "http://c.example.com/");
    expect_run(fx, 0, "gamma", "list");

    /* Not a database at all. */
    FILE *f = fopen(fx->db, "w");
    for (int i = 0; i < 300; i++)
        fputs("garbage garbage garbage ", f);
    fclose(f);
    char wal[400];
    snprintf(wal, sizeof wal, "%s-wal", fx->db);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", fx->db);
    unlink(wal);
    expect_run(fx, 1, "not a SQLite database", "list");
}

/* ---- cells ------------------------------------------------------------------ */

/* Two cells defined as Terraform defines them (cellctl only changes their
 * serving state), and a tenant. */
static void seed_cells(fixture *fx)
{
    seed(fx);
    cr_store *s = NULL;
    cr_store_err err;
    assert_int_equal(cr_store_sqlite_open(fx->db, &s, &err), CR_STORE_OK);
    cr_cell c = {0};
    c.cell_id = (char *)"cell-a";
    c.endpoint = (char *)"https://a.example.com/ingest";
    c.health_url = (char *)"https://a.example.com/healthz";
    assert_int_equal(cr_store_cell_put(s, &c, CR_VERSION_ABSENT, NULL, &err),
                     CR_STORE_OK);
    c.cell_id = (char *)"cell-b";
    c.endpoint = (char *)"https://b.example.com/ingest";
    c.health_url = NULL;
    assert_int_equal(cr_cell_set_label(&c, "cloud", "azure"), 0);
    assert_int_equal(cr_store_cell_put(s, &c, CR_VERSION_ABSENT, NULL, &err),
                     CR_STORE_OK);
    c.cell_id = c.endpoint = NULL;
    cr_cell_clear(&c);
    cr_store_close(s);
}

static json_t *cell_json_of(fixture *fx, const char *id)
{
    result r = run(fx, "cell", "get", id, "--json");
    assert_int_equal(r.status, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    result_free(&r);
    return j;
}

static void test_cell_commands(void **state)
{
    fixture *fx = *state;
    seed_cells(fx);
    expect_run(fx, 0, "cell-a  serving", "cell", "list");
    expect_run(fx, 0, "serving_state     serving", "cell", "get", "cell-a");

    expect_run(fx, 0, "cell-a: failed by operator:alice (reason: ingest "
               "answers 503), serving state version 1", "cell", "fail",
               "cell-a", "--reason", "ingest answers 503", "--by", "alice");
    json_t *j = cell_json_of(fx, "cell-a");
    assert_string_equal(json_string_value(json_object_get(j, "serving_state")),
                        "failed");
    assert_string_equal(json_string_value(json_object_get(j, "state_reason")),
                        "ingest answers 503");
    assert_string_equal(json_string_value(json_object_get(j,
                        "state_changed_by")), "operator:alice");
    assert_true(json_is_string(json_object_get(j, "state_changed_at")));
    assert_int_equal(json_integer_value(json_object_get(j, "state_version")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "health_url")),
                        "https://a.example.com/healthz");
    json_decref(j);
    /* The same again: nothing to write. */
    expect_run(fx, 0, "already failed, reason: ingest answers 503; nothing "
               "written", "cell", "fail", "cell-a", "--reason",
               "ingest answers 503", "--by", "bob");

    /* A pin stops the prober, not operators: restore works, pin stays. */
    expect_run(fx, 0, "failed (pinned) by operator:bob", "cell", "pin",
               "cell-a", "--by", "bob");
    expect_run(fx, 0, "cell-a: serving (pinned) by operator:bob", "cell",
               "restore", "cell-a", "--by", "bob");
    j = cell_json_of(fx, "cell-a");
    assert_true(json_is_true(json_object_get(j, "pinned")));
    assert_string_equal(json_string_value(json_object_get(j, "state_reason")),
                        "");
    assert_int_equal(json_integer_value(json_object_get(j, "state_version")),
                     3);
    json_decref(j);
    expect_run(fx, 0, "cell-a: serving by operator:carol", "cell", "unpin",
               "cell-a", "--by=carol");
    expect_run(fx, 0, "already serving (not pinned)", "cell", "unpin",
               "cell-a", "--by", "carol");

    /* --json on a write: the cell as written. */
    result r = run(fx, "cell", "fail", "cell-b", "--reason", "drain",
                   "--by", "dave", "--json");
    assert_int_equal(r.status, 0);
    j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "serving_state")),
                        "failed");
    assert_string_equal(json_string_value(json_object_get(
                        json_object_get(j, "labels"), "cloud")), "azure");
    json_decref(j);
    result_free(&r);

    r = run(fx, "cell", "list", "--json");
    assert_int_equal(r.status, 0);
    j = json_loads(r.out, 0, NULL);
    assert_int_equal(json_array_size(j), 2);
    assert_string_equal(json_string_value(json_object_get(
                        json_array_get(j, 1), "serving_state")), "failed");
    json_decref(j);
    result_free(&r);
    expect_run(fx, 0, "failed   ", "cell", "list");

    /* Tenants are not touched by any of it. */
    expect_run(fx, 0, "cell_id           cell-a", "get", "acme");
}

static void test_cell_errors(void **state)
{
    fixture *fx = *state;
    seed_cells(fx);
    expect_run(fx, 4, "cell \"ghost\" is not defined", "cell", "fail",
               "ghost", "--reason", "x", "--by", "alice");
    expect_run(fx, 4, "not defined", "cell", "get", "ghost");
    expect_run(fx, 2, "needs --reason", "cell", "fail", "cell-a", "--by", "a");
    expect_run(fx, 2, "cell get needs a cell id", "cell", "get");
    expect_run(fx, 2, "cell needs a command", "cell");
    expect_run(fx, 2, "unknown cell command \"drain\"", "cell", "drain",
               "cell-a");
    expect_run(fx, 2, "cell id must start", "cell", "get", "Cell_A");
    expect_run(fx, 2, "unexpected argument \"cell-a\"", "cell", "list",
               "cell-a");
    expect_run(fx, 2, "--reason is not an option of cell get", "cell", "get",
               "cell-a", "--reason", "x");
    expect_run(fx, 2, "--by is not an option of cell list", "cell", "list",
               "--by", "x");
    expect_run(fx, 2, "--by: the operator's name may only contain", "cell",
               "pin", "cell-a", "--by", "bob smith");
    expect_run(fx, 2, "--reason: reason must be UTF-8 text", "cell", "fail",
               "cell-a", "--reason", "a\tb", "--by", "x");
    expect_run(fx, 2, "options of the cell commands", "get", "acme",
               "--by", "x");
    expect_run(fx, 2, "unexpected argument", "get", "acme", "extra");
    /* Nothing was written by any of them. */
    json_t *j = cell_json_of(fx, "cell-a");
    assert_int_equal(json_integer_value(json_object_get(j, "state_version")),
                     0);
    json_decref(j);
    /* No map file: an error, and none is created. */
    char missing[400];
    snprintf(missing, sizeof missing, "%s/none.db", fx->dir);
    expect_run(fx, 1, "no routing map", "--db", missing, "cell", "list");
    struct stat st;
    assert_int_not_equal(stat(missing, &st), 0);
}

static void cell_fail_args(int i, const char *argv[8], char *buf)
{
    snprintf(buf, 32, "r%d", i);
    static const char *const a[] = {"cell", "fail", "cell-a", "--reason"};
    memcpy(argv + 1, a, sizeof a);
    argv[5] = buf;
    argv[6] = "--by=oncall";
}

/* Eight operators fail the same cell at once (each with its own reason):
 * every write lands (exit 0) or is refused as a conflict (exit 3), none is
 * lost: the serving state's version counts the writes that landed. */
static void test_concurrent_cell_writes(void **state)
{
    fixture *fx = *state;
    seed_cells(fx);
    int ok, conflicts;
    concurrently(fx, 8, cell_fail_args, &ok, &conflicts);
    json_t *j = cell_json_of(fx, "cell-a");
    assert_int_equal(json_integer_value(json_object_get(j, "state_version")),
                     ok);
    json_decref(j);
}

int main(int argc, char **argv)
{
    (void)argc;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        perror("readlink");
        return 1;
    }
    self[n] = '\0';
    /* <build>/tests/unit/test_cellctl -> <build>/cellctl */
    char *dir = dirname(dirname(dirname(self)));
    snprintf(cellctl, sizeof cellctl, "%s/cellctl", dir);
    const char *override = getenv("CELLCTL");
    if (override && *override)
        snprintf(cellctl, sizeof cellctl, "%s", override);
    if (access(cellctl, X_OK) != 0) {
        fprintf(stderr, "%s: cellctl not found at %s (build it first, or "
                "set CELLCTL)\n", argv[0], cellctl);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_and_export, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_and_failover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_failovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditional_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_db_selection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cell_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cell_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_cell_writes, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
