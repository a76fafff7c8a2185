/* The event loop's internals, shared by loop.c (iteration, fd watchers,
 * defers), loop_timer.c (the timer heap), loop_post.c (posts and stop)
 * and loop_signal.c. */
#ifndef SOCKKIT_LOOP_INTERNAL_H
#define SOCKKIT_LOOP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "sockkit/loop.h"

/* Ready entries taken from the selector per wait: enough for a thousand
 * busy connections in one epoll_wait. */
#define SK_LOOP_MAX_EVENTS 1024

typedef struct sk_post sk_post;

struct sk_loop {
    sk_selector *sel;
    int64_t now_ms;                 /* cached CLOCK_MONOTONIC time */

    sk_timer **heap;                /* binary min-heap on (due_ms, seq) */
    size_t heap_len, heap_cap;
    uint64_t timer_seq;             /* next sk_timer.seq */

    sk_defer *defer_head, *defer_tail;
    size_t defer_count;

    sk_io wake;                     /* eventfd: posts and stop */
    pthread_mutex_t post_lock;
    sk_post *post_head, *post_tail; /* under post_lock */
    bool post_woken;                /* the eventfd fired: look at the posts */
    atomic_bool stop;

    uint8_t *read_buffer;
    int ready_len;                  /* entries of this iteration's batch, 0 outside it */
    sk_selector_event ready[SK_LOOP_MAX_EVENTS]; /* .data NULL: its watcher stopped */
};

/* Run the timers due at the cached time (not ones started meanwhile). */
void sk_loop_run_timers(sk_loop *loop);

/* Milliseconds until the first timer is due: 0 if one is due, -1 if none. */
int sk_loop_timer_timeout(const sk_loop *loop);

/* The eventfd is readable: reset it and note that posts may be waiting. */
void sk_loop_wake_cb(sk_loop *loop, sk_io *io, unsigned events);

/* Run the posts made so far, in order (if the eventfd fired). */
void sk_loop_run_posts(sk_loop *loop);

/* Drop the posts not run (the loop is being destroyed). */
void sk_loop_posts_free(sk_loop *loop);

/* Forget every timer (the loop is being destroyed). */
void sk_loop_timers_free(sk_loop *loop);

#endif
