/*
 * tests/unit/test_store_pacer.c — the request budget (store/pacer.c) on a
 * clock of the test's own, so that minutes of waiting take no time: the
 * sliding window, a server's lockout holding every request back, progress
 * reported when a wait starts and every 15 s (never a silent wait), the
 * stop flag ending a wait, and several threads drawing on one budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/pacer.h"

typedef struct clk {
    pthread_mutex_t mu;
    long now;
    long slept;
    volatile int stop;
    int stop_after_sleeps;      /* raise stop after this many sleeps (0: never) */
    int sleeps;
    int reports;
    char last[512];
    char all[8192];
} clk;

static long c_now(void *ctx)
{
    clk *c = ctx;
    pthread_mutex_lock(&c->mu);
    long n = c->now;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static void c_sleep(void *ctx, long ms)
{
    clk *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->now += ms;
    c->slept += ms;
    if (++c->sleeps == c->stop_after_sleeps)
        c->stop = 1;
    pthread_mutex_unlock(&c->mu);
}

static void c_report(void *ctx, const char *msg)
{
    clk *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->reports++;
    snprintf(c->last, sizeof c->last, "%s", msg);
    size_t n = strlen(c->all);
    snprintf(c->all + n, sizeof c->all - n, "%s\n", msg);
    pthread_mutex_unlock(&c->mu);
}

static cr_pacer *mk(clk *c, int budget, long window_ms)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->now = 1000000;
    cr_pacer *p = cr_pacer_new(budget, window_ms, "the API allows 3 a window");
    assert_non_null(p);
    cr_pacer_clock k = { c_now, c_sleep, c };
    cr_pacer_set_clock(p, &k);
    cr_pacer_set_progress(p, c_report, c, &c->stop);
    return p;
}

static void test_window(void **state)
{
    (void)state;
    clk c;
    cr_pacer *p = mk(&c, 3, 10000);
    for (int i = 0; i < 3; i++)
        assert_int_equal(cr_pacer_acquire(p, "listing keys"), 0);
    assert_int_equal(c.slept, 0);
    assert_int_equal(cr_pacer_in_window(p), 3);
    c.now += 4000;
    /* The fourth waits until the first leaves the window (6 s more). */
    assert_int_equal(cr_pacer_acquire(p, "listing keys (page 4)"), 0);
    assert_int_equal(c.slept, 6000);
    assert_non_null(strstr(c.all, "waiting 6 s before listing keys (page 4)"));
    assert_non_null(strstr(c.all, "the API allows 3 a window"));
    assert_non_null(strstr(c.all, "keeps to 3 per 10 s"));
    assert_non_null(strstr(c.last, "waited 6 s; listing keys (page 4) now"));
    /* A sliding window: the next slot frees when the second request is
     * 10 s old, not when a fixed window ends. */
    c.slept = 0;
    assert_int_equal(cr_pacer_acquire(p, "x"), 0);
    assert_int_equal(c.slept, 0 + 0);           /* 2nd was at t0: freed */
    assert_int_equal(cr_pacer_total(p), 5);
    assert_int_equal(cr_pacer_budget(p), 3);
    assert_int_equal(cr_pacer_window_ms(p), 10000);
    cr_pacer_free(p);
}

static void test_short_waits_are_quiet(void **state)
{
    (void)state;
    clk c;
    cr_pacer *p = mk(&c, 1, 1500);
    assert_int_equal(cr_pacer_acquire(p, "a"), 0);
    assert_int_equal(cr_pacer_acquire(p, "b"), 0);
    assert_int_equal(c.slept, 1500);
    assert_int_equal(c.reports, 0);
    cr_pacer_free(p);
}

/* A 429's Retry-After holds every request back, and a 5-minute wait says
 * so when it starts and every 15 s. */
static void test_lockout(void **state)
{
    (void)state;
    clk c;
    cr_pacer *p = mk(&c, 100, 300000);
    cr_pacer_lockout(p, 300000, "Cloudflare answered 429 (rate limited) and "
                     "asked to wait 300 s");
    assert_int_equal(cr_pacer_lockout_left(p), 300000);
    assert_int_equal(cr_pacer_acquire(p, "writing a batch"), 0);
    assert_int_equal(c.slept, 300000);
    assert_non_null(strstr(c.all, "waiting 300 s before writing a batch: "
                           "Cloudflare answered 429"));
    assert_non_null(strstr(c.all, "waiting 285 s"));
    assert_non_null(strstr(c.all, "waiting 15 s"));
    /* 300 / 15 reports while waiting, and one when it ends. */
    assert_int_equal(c.reports, 21);
    assert_int_equal(cr_pacer_lockout_left(p), 0);
    /* A shorter lockout never shortens a longer one. */
    cr_pacer_lockout(p, 5000, "long");
    cr_pacer_lockout(p, 1000, "short");
    assert_int_equal(cr_pacer_lockout_left(p), 5000);
    cr_pacer_free(p);
}

static void test_stop(void **state)
{
    (void)state;
    clk c;
    cr_pacer *p = mk(&c, 100, 300000);
    c.stop_after_sleeps = 3;
    cr_pacer_lockout(p, 300000, "why");
    assert_int_equal(cr_pacer_acquire(p, "reading"), -1);
    assert_true(c.slept < 1000);
    assert_non_null(strstr(c.last, "stopped while waiting before reading"));
    assert_int_equal(cr_pacer_total(p), 0);
    assert_int_equal(cr_pacer_sleep(p, 60000), -1);
    c.stop = 0;
    assert_int_equal(cr_pacer_sleep(p, 700), 0);
    cr_pacer_free(p);
}

typedef struct worker { cr_pacer *p; int n; } worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->n; i++)
        if (cr_pacer_acquire(w->p, "w") != 0)
            return (void *)1;
    return NULL;
}

/* Four threads, 25 requests each, a budget of 10 per second: never more
 * than 10 in any window, so the 100 take 9 windows of waiting. */
static void test_threads_share_the_budget(void **state)
{
    (void)state;
    clk c;
    cr_pacer *p = mk(&c, 10, 1000);
    pthread_t th[4];
    worker w = { p, 25 };
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, work, &w);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_null(r);
    }
    assert_int_equal(cr_pacer_total(p), 100);
    assert_true(c.now - 1000000 >= 9000);
    assert_true(cr_pacer_in_window(p) <= 10);
    cr_pacer_free(p);
}

static void test_bad_budget(void **state)
{
    (void)state;
    assert_null(cr_pacer_new(0, 1000, NULL));
    assert_null(cr_pacer_new(10, 0, NULL));
    cr_pacer_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_short_waits_are_quiet),
        cmocka_unit_test(test_lockout),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_threads_share_the_budget),
        cmocka_unit_test(test_bad_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
