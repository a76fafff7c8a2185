/* Time for the load engines of `sk bench`: the monotonic clock in
 * nanoseconds, the process's CPU time, and a clock read once per batch of event-loop callbacks
 * (the first callback that needs it reads it; a deferred callback forgets
 * it after the batch), so every callback of a batch shares one reading. */
#ifndef SK_CLI_BENCH_CLOCK_H
#define SK_CLI_BENCH_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "sockkit/loop.h"

typedef struct bench_batch_clock {
    sk_loop *loop;
    int64_t now_ns;
    bool valid;
    sk_defer expire;
} bench_batch_clock;

/* CLOCK_MONOTONIC, nanoseconds. */
int64_t bench_clock_ns(void);

/* CPU time this process has used, user + system (CLOCK_PROCESS_CPUTIME_ID),
 * nanoseconds: the load generator's own cost, to tell when it, not the
 * server, sets the rate. */
int64_t bench_cpu_ns(void);

/* Prepare clk for batches of callbacks on loop. */
void bench_batch_clock_init(bench_batch_clock *clk, sk_loop *loop);

/* The time of this batch of I/O callbacks, nanoseconds. Timer callbacks,
 * which run before the loop waits, use bench_clock_ns() instead. */
int64_t bench_batch_now(bench_batch_clock *clk);

/* Milliseconds for a loop timer from now_ns to end_ns, rounded up and at
 * least 1 (the loop's timers count whole milliseconds from its cached
 * time, which may lag: the callback checks the clock and re-arms). */
int64_t bench_timer_ms(int64_t now_ns, int64_t end_ns);

#endif
