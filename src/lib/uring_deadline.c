/* sk_conn_set_timeout under the uring model: a binary min-heap of the
 * ring's connections that have a deadline, earliest first (each knows its
 * place, so setting and cancelling are O(log n)), and one timer per ring,
 * armed while the heap is not empty for the earliest deadline but at most
 * URING_DEADLINE_TICK_MS: a deadline set earlier meanwhile is met at the
 * next tick. */
#include <errno.h>
#include <stdlib.h>

#include "uring.h"

static void heap_place(uring_ring *r, size_t i, uring_conn *c)
{
    r->deadlines[i] = c;
    c->deadline_pos = i + 1;
}

static void sift_up(uring_ring *r, size_t i)
{
    uring_conn *c = r->deadlines[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (r->deadlines[parent]->deadline_ms <= c->deadline_ms)
            break;
        heap_place(r, i, r->deadlines[parent]);
        i = parent;
    }
    heap_place(r, i, c);
}

static void sift_down(uring_ring *r, size_t i)
{
    uring_conn *c = r->deadlines[i];
    size_t n = r->ndeadlines;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && r->deadlines[child + 1]->deadline_ms < r->deadlines[child]->deadline_ms)
            child++;
        if (c->deadline_ms <= r->deadlines[child]->deadline_ms)
            break;
        heap_place(r, i, r->deadlines[child]);
        i = child;
    }
    heap_place(r, i, c);
}

static int heap_reserve(uring_ring *r)
{
    if (r->ndeadlines < r->deadlines_cap)
        return 0;
    size_t cap = r->deadlines_cap ? 2 * r->deadlines_cap : 64;
    uring_conn **d = realloc(r->deadlines, cap * sizeof *d);
    if (!d)
        return -ENOMEM;
    r->deadlines = d;
    r->deadlines_cap = cap;
    return 0;
}

int uring_deadline_set(uring_ring *r, uring_conn *c, int64_t deadline_ms)
{
    if (c->deadline_pos == 0) {
        int rc = heap_reserve(r);
        if (rc < 0)
            return rc;
        c->deadline_ms = deadline_ms;
        heap_place(r, r->ndeadlines++, c);
        sift_up(r, r->ndeadlines - 1);
        return 0;
    }
    bool later = deadline_ms > c->deadline_ms;
    c->deadline_ms = deadline_ms;
    if (later)
        sift_down(r, c->deadline_pos - 1);
    else
        sift_up(r, c->deadline_pos - 1);
    return 0;
}

void uring_deadline_cancel(uring_ring *r, uring_conn *c)
{
    if (c->deadline_pos == 0)
        return;
    size_t i = c->deadline_pos - 1;
    c->deadline_pos = 0;
    uring_conn *last = r->deadlines[--r->ndeadlines];
    if (i == r->ndeadlines)
        return; /* it was the last */
    heap_place(r, i, last);
    sift_down(r, i);
    sift_up(r, last->deadline_pos - 1);
}

uring_conn *uring_deadline_expired(uring_ring *r, int64_t now_ms)
{
    if (r->ndeadlines == 0 || r->deadlines[0]->deadline_ms > now_ms)
        return NULL;
    uring_conn *c = r->deadlines[0];
    uring_deadline_cancel(r, c);
    return c;
}

void uring_deadline_arm(uring_ring *r)
{
    if (r->deadline_armed || r->ndeadlines == 0)
        return;
    int64_t wait = r->deadlines[0]->deadline_ms - r->now_ms;
    if (wait < 1)
        wait = 1;
    if (wait > URING_DEADLINE_TICK_MS)
        wait = URING_DEADLINE_TICK_MS;
    struct io_uring_sqe *sqe = uring_sqe(r);
    if (!sqe)
        return; /* tried again next turn */
    r->deadline_ts = (struct __kernel_timespec){.tv_sec = 0, .tv_nsec = (long long)wait * 1000000};
    io_uring_prep_timeout(sqe, &r->deadline_ts, 0, 0);
    uring_sqe_tag(sqe, &r->deadline_req);
    r->deadline_armed = true;
}

void uring_deadlines_release(uring_ring *r)
{
    free(r->deadlines);
    r->deadlines = NULL;
    r->ndeadlines = r->deadlines_cap = 0;
}
