/* The open-loop pacer of the `sk bench` engines: a timerfd watched on the
 * engine's sk_loop that wakes at a request's (or message's) intended send
 * time, absolute and in nanoseconds (the loop's own timers count whole
 * milliseconds, which would delay sends by up to 1 ms and add that to
 * their latency). */
#ifndef SK_CLI_BENCH_PACER_H
#define SK_CLI_BENCH_PACER_H

#include <stdbool.h>
#include <stdint.h>

#include "sockkit/loop.h"

/* The pacer wakes at most this often, ns (above 20,000 sends/s a wake-up
 * sends everything that has become due). */
#define BENCH_PACER_MIN_NS 50000

typedef struct bench_pacer {
    int fd;     /* the timerfd, -1 when not open */
    sk_io io;
} bench_pacer;

/* Open the timerfd and watch it on loop: cb(loop, io, events) with
 * io->data = data runs at each wake-up. Returns 0 or -errno. */
int bench_pacer_open(bench_pacer *p, sk_loop *loop, sk_io_cb cb, void *data);

/* Wake at next_ns (CLOCK_MONOTONIC), but no sooner than
 * BENCH_PACER_MIN_NS after now_ns. Returns 0 or -errno. */
int bench_pacer_arm(bench_pacer *p, int64_t next_ns, int64_t now_ns);

/* In the callback: consume the wake-up. Returns false when reading the
 * timerfd failed (the wake-up is then ignored). */
bool bench_pacer_consume(bench_pacer *p);

/* Stop watching the timerfd (no more wake-ups). */
void bench_pacer_stop(bench_pacer *p, sk_loop *loop);

/* Stop watching and close the timerfd (nothing when not open). */
void bench_pacer_close(bench_pacer *p, sk_loop *loop);

#endif
