/* The event loop's timers: a binary min-heap of sk_timer pointers ordered
 * by (due_ms, seq); each timer knows its heap position, so stopping one is
 * O(log n). The heap array grows by doubling. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "loop_internal.h"

/* Does a fire before b? Equal due times fire in start order. */
static bool timer_before(const sk_timer *a, const sk_timer *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

static void heap_place(sk_loop *loop, size_t i, sk_timer *t)
{
    loop->heap[i] = t;
    t->heap_index = i;
}

static void sift_up(sk_loop *loop, size_t i)
{
    sk_timer *t = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, loop->heap[parent]))
            break;
        heap_place(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_place(loop, i, t);
}

static void sift_down(sk_loop *loop, size_t i)
{
    sk_timer *t = loop->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= loop->heap_len)
            break;
        if (child + 1 < loop->heap_len && timer_before(loop->heap[child + 1], loop->heap[child]))
            child++;
        if (!timer_before(loop->heap[child], t))
            break;
        heap_place(loop, i, loop->heap[child]);
        i = child;
    }
    heap_place(loop, i, t);
}

static int heap_push(sk_loop *loop, sk_timer *t)
{
    if (loop->heap_len == loop->heap_cap) {
        size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
        sk_timer **heap = realloc(loop->heap, cap * sizeof *heap);
        if (!heap)
            return -ENOMEM;
        loop->heap = heap;
        loop->heap_cap = cap;
    }
    t->seq = loop->timer_seq++;
    heap_place(loop, loop->heap_len++, t);
    sift_up(loop, t->heap_index);
    return 0;
}

static void heap_remove(sk_loop *loop, sk_timer *t)
{
    size_t i = t->heap_index;
    sk_timer *last = loop->heap[--loop->heap_len];
    t->heap_index = SIZE_MAX;
    if (last == t)
        return;
    heap_place(loop, i, last);
    if (i > 0 && timer_before(last, loop->heap[(i - 1) / 2]))
        sift_up(loop, i);
    else
        sift_down(loop, i);
}

/* base + delta, saturating (timeouts of years do not wrap around). */
static int64_t add_ms(int64_t base, int64_t delta)
{
    return delta > INT64_MAX - base ? INT64_MAX : base + delta;
}

void sk_timer_init(sk_timer *t, sk_timer_cb cb, void *data)
{
    *t = (sk_timer){.heap_index = SIZE_MAX, .cb = cb, .data = data};
}

int sk_timer_start(sk_loop *loop, sk_timer *t, int64_t timeout_ms, int64_t repeat_ms)
{
    if (timeout_ms < 0 || repeat_ms < 0)
        return -EINVAL;
    sk_timer_stop(loop, t);
    t->due_ms = add_ms(loop->now_ms, timeout_ms);
    t->repeat_ms = repeat_ms;
    return heap_push(loop, t);
}

void sk_timer_stop(sk_loop *loop, sk_timer *t)
{
    if (sk_timer_active(t))
        heap_remove(loop, t);
}

bool sk_timer_active(const sk_timer *t)
{
    return t->heap_index != SIZE_MAX;
}

void sk_loop_run_timers(sk_loop *loop)
{
    uint64_t first_new = loop->timer_seq; /* timers started from here wait */
    while (loop->heap_len > 0) {
        sk_timer *t = loop->heap[0];
        if (t->due_ms > loop->now_ms || t->seq >= first_new)
            break;
        heap_remove(loop, t);
        if (t->repeat_ms > 0) {
            /* Next due time from the previous one, so a repeating timer does
             * not drift; but a loop that fell behind schedules from now
             * instead of firing a burst to catch up. */
            t->due_ms = add_ms(t->due_ms, t->repeat_ms);
            if (t->due_ms <= loop->now_ms)
                t->due_ms = add_ms(loop->now_ms, t->repeat_ms);
            /* The slot freed by heap_remove makes this push allocation-free. */
            (void)heap_push(loop, t);
        }
        t->cb(loop, t);
    }
}

int sk_loop_timer_timeout(const sk_loop *loop)
{
    if (loop->heap_len == 0)
        return -1;
    int64_t left = loop->heap[0]->due_ms - loop->now_ms;
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

void sk_loop_timers_free(sk_loop *loop)
{
    free(loop->heap);
    loop->heap = NULL;
    loop->heap_len = loop->heap_cap = 0;
}
