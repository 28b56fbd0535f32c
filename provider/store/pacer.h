/*
 * store/pacer.h — a request budget for a remote API with a rate limit: at
 * most `budget` requests in any window of `window_ms`, and a lockout the
 * server announces (a 429 with Retry-After) that holds every request back
 * until it is over. Waiting is never silent: a wait of more than a couple
 * of seconds is reported through a progress callback when it starts and
 * every 15 seconds until it ends, saying why and for how long.
 *
 * Thread-safe: the provider calls the store from several threads, and they
 * all draw on one budget. Ownership: cr_pacer_new / cr_pacer_free.
 */
#ifndef CR_STORE_PACER_H
#define CR_STORE_PACER_H

#include "store/store.h"

typedef struct cr_pacer cr_pacer;

/* NULL on allocation failure or a budget < 1. `what_limit` describes the
 * server's rule for messages ("Cloudflare allows 1,200 API requests per 5
 * minutes per token"); copied. */
cr_pacer *cr_pacer_new(int budget, long window_ms, const char *what_limit);
void cr_pacer_free(cr_pacer *p);

/* Progress: where long waits are reported (NULL: nowhere) and the flag
 * that ends a wait at once (NULL: none). */
void cr_pacer_set_progress(cr_pacer *p, cr_store_progress_fn fn, void *ctx,
                           const volatile int *stop);

/* Tests: a clock of their own (milliseconds, any epoch) and a sleep. */
typedef struct cr_pacer_clock {
    long (*now_ms)(void *ctx);
    void (*sleep_ms)(void *ctx, long ms);
    void *ctx;
} cr_pacer_clock;
void cr_pacer_set_clock(cr_pacer *p, const cr_pacer_clock *clock);

int  cr_pacer_budget(const cr_pacer *p);
long cr_pacer_window_ms(const cr_pacer *p);

/* Waits until one more request fits the budget and no lockout holds, then
 * counts it. `what` names the request for progress messages ("listing
 * keys"). A wait for the budget is at most one window. Returns 0; -1 when
 * the stop flag was raised. */
int cr_pacer_acquire(cr_pacer *p, const char *what);

/* The server refused a request for its rate: nothing goes out for `ms`
 * (Retry-After). `why` is reported with the wait ("Cloudflare answered 429
 * and asked to wait 300 s"); copied. */
void cr_pacer_lockout(cr_pacer *p, long ms, const char *why);
/* How long the current lockout still holds (0: none). */
long cr_pacer_lockout_left(cr_pacer *p);

/* Requests counted in the current window, and in all. */
int cr_pacer_in_window(cr_pacer *p);
unsigned long cr_pacer_total(cr_pacer *p);

/* The pacer's clock, and a sleep on it that ends early when the stop flag
 * is raised (returns -1 then, else 0). */
long cr_pacer_now(cr_pacer *p);
int  cr_pacer_sleep(cr_pacer *p, long ms);

#endif
