/* Time for the sk bench engines (bench_clock.h). */
#include "bench_clock.h"

#include <time.h>

int64_t bench_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bench_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void batch_expire(sk_loop *loop, sk_defer *d)
{
    (void)loop;
    ((bench_batch_clock *)d->data)->valid = false;
}

void bench_batch_clock_init(bench_batch_clock *clk, sk_loop *loop)
{
    clk->loop = loop;
    clk->valid = false;
    sk_defer_init(&clk->expire, batch_expire, clk);
}

int64_t bench_batch_now(bench_batch_clock *clk)
{
    if (!clk->valid) {
        clk->now_ns = bench_clock_ns();
        clk->valid = true;
        sk_defer_queue(clk->loop, &clk->expire);
    }
    return clk->now_ns;
}

int64_t bench_timer_ms(int64_t now_ns, int64_t end_ns)
{
    int64_t ms = (end_ns - now_ns + 999999) / 1000000;
    return ms < 1 ? 1 : ms;
}
