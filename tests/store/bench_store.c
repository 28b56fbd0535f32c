/*
 * tests/store/bench_store.c — throughput of the SQLite routing map.
 *
 *   bench_store [-n ENTRIES] [-p PUTS] [-u UPDATES] [-t THREADS] DB_PATH
 *
 * Creates PUTS entries (default 10,000) one conditional put each (one
 * transaction, one WAL fsync each: what the provider does), bulk-loads the
 * rest up to ENTRIES (default 100,000) with plain SQL in one transaction
 * (only so the list figure is for a big map without minutes of fsyncs),
 * reads ENTRIES random ids back, lists them all, then updates UPDATES of
 * them (default 10,000) from THREADS threads (default 10, Terraform's
 * default parallelism) with conditional puts. Puts are bound by the disk's
 * fsync rate, so their figures vary with the machine and its load. Prints one
 * line per measurement; `make bench` saves it in build/bench/store.txt.
 * A figure, not a test: nothing here asserts on time.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(cr_entry *e, long i, const char *cell)
{
    char buf[96];
    cr_entry_clear(e);
    snprintf(buf, sizeof buf, "tenant-%07ld", i);
    e->tenant_id = strdup(buf);
    e->cell_id = strdup(cell);
    snprintf(buf, sizeof buf, "https://%s.cells.example.com/ingest", cell);
    e->endpoint = strdup(buf);
    e->standby_cell_id = strdup("standby");
    e->standby_endpoint = strdup("https://standby.cells.example.com/ingest");
    cr_entry_set_label(e, "team", "payments");
    cr_entry_set_label(e, "tier", i % 2 ? "gold" : "silver");
}

static void die(const char *what, const cr_store_err *err)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, err->msg);
    exit(1);
}

/* The same rows fill() makes, written in one transaction behind the
 * store's back: a fixture for the read figures, not a measured path. */
static void bulk_load(const char *path, long from, long to)
{
    if (from >= to)
        return;
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
            "INSERT INTO entries VALUES (?1, 'cell-a', "
            "'https://cell-a.cells.example.com/ingest', 'standby', "
            "'https://standby.cells.example.com/ingest', ?2, 1, "
            "'2026-01-01T00:00:00.000000Z')", -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_store: bulk load: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    for (long i = from; i < to; i++) {
        char id[32];
        snprintf(id, sizeof id, "tenant-%07ld", i);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, i % 2 ? "{\"team\":\"payments\",\"tier\":\"gold\"}"
                                       : "{\"team\":\"payments\",\"tier\":\"silver\"}",
                          -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "bench_store: bulk load: %s\n",
                    sqlite3_errmsg(db));
            exit(1);
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_store: bulk load: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    sqlite3_close(db);
}

typedef struct job {
    cr_store *s;
    long from, to;
} job;

static void *update_range(void *arg)
{
    job *j = arg;
    cr_entry e = {0};
    cr_store_err err;
    for (long i = j->from; i < j->to; i++) {
        fill(&e, i, "cell-b");
        /* Every entry is at version 1 after the create phase. */
        if (cr_store_put(j->s, &e, 1, NULL, &err) != CR_STORE_OK)
            die("update", &err);
    }
    cr_entry_clear(&e);
    return NULL;
}

int main(int argc, char **argv)
{
    long n = 100000, puts = 10000, updates = 10000;
    int threads = 10, opt;
    while ((opt = getopt(argc, argv, "n:p:u:t:")) != -1) {
        if (opt == 'n')
            n = strtol(optarg, NULL, 10);
        else if (opt == 'p')
            puts = strtol(optarg, NULL, 10);
        else if (opt == 'u')
            updates = strtol(optarg, NULL, 10);
        else if (opt == 't')
            threads = atoi(optarg);
        else
            return 2;
    }
    if (optind != argc - 1 || n < 1 || puts < 1 || updates < 0 ||
        threads < 1 || threads > 64) {
        fprintf(stderr, "usage: bench_store [-n ENTRIES] [-p PUTS] "
                "[-u UPDATES] [-t THREADS] DB\n");
        return 2;
    }
    const char *path = argv[optind];
    char side[4200];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);

    cr_store *s;
    cr_store_err err;
    if (puts > n)
        puts = n;
    if (updates > n)
        updates = n;
    if (cr_store_sqlite_open(path, &s, &err) != CR_STORE_OK)
        die("open", &err);

    cr_entry e = {0};
    double t0 = now();
    for (long i = 0; i < puts; i++) {
        fill(&e, i, "cell-a");
        if (cr_store_put(s, &e, CR_VERSION_ABSENT, NULL, &err) != CR_STORE_OK)
            die("create", &err);
    }
    double t_put = now() - t0;
    cr_entry_clear(&e);
    bulk_load(path, puts, n);
    t0 = now();
    unsigned seed = 1;
    for (long i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "tenant-%07ld", (long)(rand_r(&seed) % n));
        cr_entry *got = NULL;
        if (cr_store_get(s, id, &got, &err) != CR_STORE_OK || !got)
            die("get", &err);
        cr_entry_free(got);
    }
    double t_get = now() - t0;

    t0 = now();
    cr_entry_list l;
    if (cr_store_list(s, "", &l, &err) != CR_STORE_OK)
        die("list", &err);
    double t_list = now() - t0;
    size_t listed = l.len;
    cr_entry_list_free(&l);

    pthread_t th[64];
    job jobs[64];
    t0 = now();
    for (int k = 0; k < threads; k++) {
        jobs[k] = (job){s, updates * k / threads,
                        updates * (k + 1) / threads};
        pthread_create(&th[k], NULL, update_range, &jobs[k]);
    }
    for (int k = 0; k < threads; k++)
        pthread_join(th[k], NULL);
    double t_upd = now() - t0;
    cr_store_close(s);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("store sqlite: %ld entries, synchronous=FULL, WAL\n", n);
    printf("  create %ld (conditional put, 1 thread): %8.0f puts/s  (%.2f s)\n",
           puts, (double)puts / t_put, t_put);
    printf("  get by id (random, 1 thread):        %8.0f gets/s  (%.2f s)\n",
           (double)n / t_get, t_get);
    printf("  list all %zu entries:               %8.3f s\n", listed, t_list);
    printf("  update %ld (conditional put, %d threads): %7.0f puts/s  "
           "(%.2f s)\n", updates, threads,
           updates ? (double)updates / t_upd : 0.0, t_upd);
    printf("  peak RSS: %ld MiB\n", ru.ru_maxrss / 1024);
    return 0;
}
