/* The open-loop pacer of sk bench (bench_pacer.h). */
#include "bench_pacer.h"

#include <errno.h>
#include <sys/timerfd.h>
#include <unistd.h>

int bench_pacer_open(bench_pacer *p, sk_loop *loop, sk_io_cb cb, void *data)
{
    p->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (p->fd < 0)
        return -errno;
    sk_io_init(&p->io, p->fd, cb, data);
    return sk_io_start(loop, &p->io, SK_POLLIN);
}

int bench_pacer_arm(bench_pacer *p, int64_t next_ns, int64_t now_ns)
{
    if (next_ns < now_ns + BENCH_PACER_MIN_NS)
        next_ns = now_ns + BENCH_PACER_MIN_NS;
    struct itimerspec its = {
        .it_value = {.tv_sec = next_ns / 1000000000, .tv_nsec = next_ns % 1000000000},
    };
    return timerfd_settime(p->fd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -errno : 0;
}

bool bench_pacer_consume(bench_pacer *p)
{
    uint64_t expirations;
    return read(p->fd, &expirations, sizeof expirations) >= 0 || errno == EAGAIN;
}

void bench_pacer_stop(bench_pacer *p, sk_loop *loop)
{
    if (p->fd >= 0 && p->io.active)
        sk_io_stop(loop, &p->io);
}

void bench_pacer_close(bench_pacer *p, sk_loop *loop)
{
    if (p->fd < 0)
        return;
    bench_pacer_stop(p, loop);
    close(p->fd);
    p->fd = -1;
}
