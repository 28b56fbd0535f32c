/*
 * store/pacer.c — the request budget of store/pacer.h.
 *
 * The window is a sliding one: the times of the last `budget` requests sit
 * in a ring, and one more request fits when the oldest of them left the
 * window. That is stricter than a server counting fixed windows (it never
 * allows more than `budget` in any window, wherever the server's windows
 * start), which is the point: Cloudflare does not publish how it counts,
 * and being refused costs a 5-minute lockout.
 *
 * Waiting sleeps in slices of at most a quarter second, so a stop request
 * (Terraform's Stop, ^C) ends a wait at once, and a progress message goes
 * out when a wait of more than PACER_QUIET_MS starts and every
 * PACER_REPORT_MS until it ends.
 */
#include "store/pacer.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PACER_SLICE_MS   250L
#define PACER_QUIET_MS   2000L
#define PACER_REPORT_MS  15000L

struct cr_pacer {
    pthread_mutex_t mu;
    int budget;
    long window_ms;
    long *ring;             /* times of the last `budget` requests */
    int head, count;        /* oldest slot; slots in use */
    long lockout_until;     /* no request before this time (0: none) */
    char lockout_why[160];
    unsigned long total;
    char what_limit[160];
    cr_pacer_clock clock;
    cr_store_progress_fn progress;
    void *progress_ctx;
    const volatile int *stop;
};

static long real_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void real_sleep(void *ctx, long ms)
{
    (void)ctx;
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

cr_pacer *cr_pacer_new(int budget, long window_ms, const char *what_limit)
{
    if (budget < 1 || window_ms < 1)
        return NULL;
    cr_pacer *p = calloc(1, sizeof *p);
    if (!p || !(p->ring = calloc((size_t)budget, sizeof *p->ring))) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    p->budget = budget;
    p->window_ms = window_ms;
    snprintf(p->what_limit, sizeof p->what_limit, "%s",
             what_limit ? what_limit : "the API limits its request rate");
    p->clock = (cr_pacer_clock){ real_now, real_sleep, NULL };
    return p;
}

void cr_pacer_free(cr_pacer *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    free(p->ring);
    free(p);
}

void cr_pacer_set_progress(cr_pacer *p, cr_store_progress_fn fn, void *ctx,
                           const volatile int *stop)
{
    p->progress = fn;
    p->progress_ctx = ctx;
    p->stop = stop;
}

void cr_pacer_set_clock(cr_pacer *p, const cr_pacer_clock *clock)
{
    p->clock = *clock;
}

int cr_pacer_budget(const cr_pacer *p) { return p->budget; }
long cr_pacer_window_ms(const cr_pacer *p) { return p->window_ms; }
long cr_pacer_now(cr_pacer *p) { return p->clock.now_ms(p->clock.ctx); }

/* Drops ring entries that left the window. Caller holds the mutex. */
static void expire(cr_pacer *p, long now)
{
    while (p->count > 0 && p->ring[p->head] + p->window_ms <= now) {
        p->head = (p->head + 1) % p->budget;
        p->count--;
    }
}

/* When the next request may go out (<= now: at once), and why not before.
 * Caller holds the mutex. */
static long next_slot(cr_pacer *p, long now, char *why, size_t cap)
{
    long at = now;
    expire(p, now);
    if (p->count == p->budget) {
        at = p->ring[p->head] + p->window_ms;
        snprintf(why, cap, "%s; this client keeps to %d per %ld s and made "
                 "them all in the last %ld s", p->what_limit, p->budget,
                 p->window_ms / 1000, p->window_ms / 1000);
    }
    if (p->lockout_until > at) {
        at = p->lockout_until;
        snprintf(why, cap, "%s", p->lockout_why);
    }
    return at;
}

static void report(cr_pacer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void report(cr_pacer *p, const char *fmt, ...)
{
    if (!p->progress)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->progress(p->progress_ctx, msg);
}

int cr_pacer_acquire(cr_pacer *p, const char *what)
{
    long started = -1, reported = -1;
    char why[400] = "";
    for (;;) {
        long now = p->clock.now_ms(p->clock.ctx);
        pthread_mutex_lock(&p->mu);
        long at = next_slot(p, now, why, sizeof why);
        if (at <= now) {
            p->ring[(p->head + p->count) % p->budget] = now;
            p->count++;
            p->total++;
            pthread_mutex_unlock(&p->mu);
            if (reported >= 0)
                report(p, "waited %ld s; %s now", (now - started + 500) / 1000,
                       what);
            return 0;
        }
        pthread_mutex_unlock(&p->mu);
        if (started < 0)
            started = now;
        if (p->stop && *p->stop) {
            report(p, "stopped while waiting before %s", what);
            return -1;
        }
        long left = at - now;
        if ((reported < 0 && now - started + left > PACER_QUIET_MS) ||
            (reported >= 0 && now - reported >= PACER_REPORT_MS)) {
            report(p, "waiting %ld s before %s: %s", (left + 999) / 1000,
                   what, why);
            reported = now;
        }
        p->clock.sleep_ms(p->clock.ctx,
                          left < PACER_SLICE_MS ? left : PACER_SLICE_MS);
    }
}

void cr_pacer_lockout(cr_pacer *p, long ms, const char *why)
{
    long now = p->clock.now_ms(p->clock.ctx);
    pthread_mutex_lock(&p->mu);
    if (now + ms > p->lockout_until) {
        p->lockout_until = now + ms;
        snprintf(p->lockout_why, sizeof p->lockout_why, "%s",
                 why ? why : "the server asked to wait");
    }
    pthread_mutex_unlock(&p->mu);
}

long cr_pacer_lockout_left(cr_pacer *p)
{
    long now = p->clock.now_ms(p->clock.ctx);
    pthread_mutex_lock(&p->mu);
    long left = p->lockout_until > now ? p->lockout_until - now : 0;
    pthread_mutex_unlock(&p->mu);
    return left;
}

int cr_pacer_sleep(cr_pacer *p, long ms)
{
    long end = p->clock.now_ms(p->clock.ctx) + ms;
    for (;;) {
        if (p->stop && *p->stop)
            return -1;
        long left = end - p->clock.now_ms(p->clock.ctx);
        if (left <= 0)
            return 0;
        p->clock.sleep_ms(p->clock.ctx,
                          left < PACER_SLICE_MS ? left : PACER_SLICE_MS);
    }
}

int cr_pacer_in_window(cr_pacer *p)
{
    pthread_mutex_lock(&p->mu);
    expire(p, p->clock.now_ms(p->clock.ctx));
    int n = p->count;
    pthread_mutex_unlock(&p->mu);
    return n;
}

unsigned long cr_pacer_total(cr_pacer *p)
{
    pthread_mutex_lock(&p->mu);
    unsigned long n = p->total;
    pthread_mutex_unlock(&p->mu);
    return n;
}
