/*
 * tests/e2e/seedmap.c — writes a routing map of N entries in a few store
 * batches (one SQLite transaction per 1,000), for the query tests of
 * tests/e2e/run.sh (1,000 entries) and bench/query.sh (100,000): through
 * cellctl that would be one process and one fsync per entry.
 *
 *   seedmap DB N [PREFIX]
 *
 * Entry i (0 <= i < N) is, by a fixed pattern the tests filter on:
 *   tenant_id  PREFIX + i in six digits ("t" by default): t000000 ...
 *   cell_id    cell-<i % 8>, endpoint https://cell-<i % 8>.example.com/ingest
 *   standby    cell-9 (https://cell-9.example.com/ingest) when i % 3 == 0
 *   labels     tier = gold when i % 5 == 0; team = core when i % 7 == 0;
 *              none otherwise (labels null)
 * Entries are created (CR_VERSION_ABSENT): seeding over existing ones
 * fails, naming the first. Exit 0, or 1 with a message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static int fail(const char *what, const cr_store_err *err)
{
    fprintf(stderr, "seedmap: %s: %s\n", what,
            err->msg[0] ? err->msg : cr_store_rc_name(err->rc));
    return 1;
}

static int fill(cr_entry *e, const char *prefix, long i)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s%06ld", prefix, i);
    e->tenant_id = strdup(buf);
    snprintf(buf, sizeof buf, "cell-%ld", i % 8);
    e->cell_id = strdup(buf);
    snprintf(buf, sizeof buf, "https://cell-%ld.example.com/ingest", i % 8);
    e->endpoint = strdup(buf);
    if (i % 3 == 0) {
        e->standby_cell_id = strdup("cell-9");
        e->standby_endpoint = strdup("https://cell-9.example.com/ingest");
        if (!e->standby_cell_id || !e->standby_endpoint)
            return -1;
    }
    if ((i % 5 == 0 && cr_entry_set_label(e, "tier", "gold") != 0) ||
        (i % 7 == 0 && cr_entry_set_label(e, "team", "core") != 0))
        return -1;
    return e->tenant_id && e->cell_id && e->endpoint ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: seedmap DB N [PREFIX]\n");
        return 2;
    }
    char *end;
    long n = strtol(argv[2], &end, 10);
    const char *prefix = argc == 4 ? argv[3] : "t";
    if (*end || n < 0 || n > 10000000) {
        fprintf(stderr, "seedmap: N must be 0 to 10000000\n");
        return 2;
    }
    cr_store *s = NULL;
    cr_store_err err = {0};
    cr_store_config cfg = { .backend = "sqlite", .path = argv[1] };
    if (cr_store_open(&cfg, &s, &err) != CR_STORE_OK)
        return fail("cannot open the map", &err);
    size_t max = cr_store_batch_max(s);
    cr_entry *es = calloc(max, sizeof *es);
    cr_batch_op *ops = calloc(max, sizeof *ops);
    int rc = es && ops ? 0 : 1;
    for (long at = 0; rc == 0 && at < n; at += (long)max) {
        size_t k = n - at < (long)max ? (size_t)(n - at) : max;
        for (size_t j = 0; rc == 0 && j < k; j++) {
            if (fill(&es[j], prefix, at + (long)j) != 0) {
                fprintf(stderr, "seedmap: out of memory\n");
                rc = 1;
            }
            ops[j] = (cr_batch_op){ .kind = CR_BATCH_PUT, .entry = &es[j],
                                    .expect = CR_VERSION_ABSENT };
        }
        if (rc == 0 && cr_store_batch(s, ops, k, &err) != CR_STORE_OK)
            rc = fail("cannot write the entries", &err);
        for (size_t j = 0; j < k; j++)
            cr_entry_clear(&es[j]);
    }
    free(es);
    free(ops);
    cr_store_close(s);
    return rc;
}
