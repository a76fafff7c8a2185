/* The event loop: a reactor on a selector, with fd watchers, timers,
 * deferred callbacks, cross-thread posts and signals.
 *
 * Handles (sk_io, sk_timer, sk_defer, sk_signal) are structs the caller
 * embeds in its own objects, as in libuv: starting one allocates nothing
 * (timers live in a binary min-heap of pointers). A loop belongs to the
 * thread that runs it; only sk_loop_stop and sk_loop_post may be called
 * from other threads.
 *
 * One iteration: update the cached time; run due timers; wait on the
 * selector until the next timer (or forever); run I/O callbacks; run
 * deferred callbacks and posts; repeat until sk_loop_stop.
 */
#ifndef SOCKKIT_LOOP_H
#define SOCKKIT_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockkit/selector.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_loop sk_loop;

/* ---- fd watchers ---------------------------------------------------- */

typedef struct sk_io sk_io;
/* events: the ready SK_POLL* bits (SK_POLLERR/SK_POLLHUP may be set). */
typedef void (*sk_io_cb)(sk_loop *loop, sk_io *io, unsigned events);

struct sk_io {
    int fd;
    unsigned events;   /* SK_POLLIN / SK_POLLOUT asked for; read-only */
    bool active;       /* registered with the loop's selector; read-only */
    sk_io_cb cb;
    void *data;        /* for the caller */
};

/* Prepare a watcher for fd. Allocates nothing; no system call. */
void sk_io_init(sk_io *io, int fd, sk_io_cb cb, void *data);

/* Watch for events (SK_POLLIN | SK_POLLOUT). Registers the fd on first
 * use, otherwise modifies the registration — and makes no system call when
 * the events are unchanged. events 0 keeps the registration but waits for
 * nothing. Returns 0 or -errno (-EINVAL: fd >= FD_SETSIZE under select,
 * -EBADF, -ENOMEM). */
int sk_io_start(sk_loop *loop, sk_io *io, unsigned events);

/* Stop watching and unregister the fd (do this before closing it).
 * Safe on an inactive watcher. */
void sk_io_stop(sk_loop *loop, sk_io *io);

/* ---- timers ----------------------------------------------------------- */

typedef struct sk_timer sk_timer;
typedef void (*sk_timer_cb)(sk_loop *loop, sk_timer *timer);

struct sk_timer {
    int64_t due_ms;     /* loop time it fires at; read-only */
    int64_t repeat_ms;  /* 0 for one-shot; read-only */
    size_t heap_index;  /* position in the loop's heap, SIZE_MAX if inactive */
    uint64_t seq;       /* start order: equal due times fire in order */
    sk_timer_cb cb;
    void *data;
};

/* Prepare a timer. Allocates nothing. */
void sk_timer_init(sk_timer *t, sk_timer_cb cb, void *data);

/* Start (or restart) a timer: first fires timeout_ms milliseconds from the
 * loop's current time, then every repeat_ms milliseconds if repeat_ms > 0.
 * A callback may restart or stop its own timer.
 * Returns 0, -EINVAL for negative values, or -ENOMEM (heap growth). */
int sk_timer_start(sk_loop *loop, sk_timer *t, int64_t timeout_ms, int64_t repeat_ms);

/* Stop a timer; safe when inactive. */
void sk_timer_stop(sk_loop *loop, sk_timer *t);

/* True while the timer is scheduled. */
bool sk_timer_active(const sk_timer *t);

/* ---- deferred callbacks ------------------------------------------------ */

typedef struct sk_defer sk_defer;
typedef void (*sk_defer_cb)(sk_loop *loop, sk_defer *d);

struct sk_defer {
    sk_defer *next;
    bool queued;        /* read-only */
    sk_defer_cb cb;
    void *data;
};

/* Prepare a deferred callback. Allocates nothing. */
void sk_defer_init(sk_defer *d, sk_defer_cb cb, void *data);

/* Run d->cb once, after this iteration's I/O callbacks and before the next
 * wait. Queuing a queued defer does nothing. A deferred callback queued from
 * a deferred callback runs in the same pass. */
void sk_defer_queue(sk_loop *loop, sk_defer *d);

/* Remove d from the queue if queued. */
void sk_defer_cancel(sk_loop *loop, sk_defer *d);

/* ---- signals (signalfd) ------------------------------------------------- */

typedef struct sk_signal sk_signal;
typedef void (*sk_signal_cb)(sk_loop *loop, sk_signal *sig, int signum);

struct sk_signal {
    sk_io io;           /* the signalfd watcher */
    int signum;
    sk_signal_cb cb;
    void *data;
};

/* Deliver signum through the loop (signalfd(2)). The signal is blocked in
 * the calling thread; block it in every other thread too (before creating
 * them), or another thread may take it.
 * Returns 0 or -errno (-EINVAL, -EMFILE). */
int sk_signal_start(sk_loop *loop, sk_signal *sig, int signum, sk_signal_cb cb, void *data);

/* Stop delivering; closes the signalfd (the signal stays blocked). */
void sk_signal_stop(sk_loop *loop, sk_signal *sig);

/* ---- the loop ------------------------------------------------------------ */

/* Size of the loop's shared read buffer, bytes. */
#define SK_LOOP_READ_BUFFER (64 * 1024)

/* Create a loop on a selector backend (sk_selector_default() for the best).
 * Returns 0 and sets *out, or -errno (-ENOMEM, -EMFILE). */
int sk_loop_create(sk_loop **out, sk_selector_backend backend);

/* Run until sk_loop_stop. Returns 0 when stopped, or -errno if the
 * selector failed. */
int sk_loop_run(sk_loop *loop);

/* Run a single iteration, waiting at most timeout_ms (-1: until something
 * happens). Returns 0 or -errno. */
int sk_loop_run_once(sk_loop *loop, int timeout_ms);

/* Make sk_loop_run return after the current iteration. Thread-safe and
 * async-signal-safe (an eventfd write wakes the wait). */
void sk_loop_stop(sk_loop *loop);

/* Run fn(loop, arg) on the loop's thread at its next iteration. Thread-safe;
 * posts run in the order they were made. Returns 0 or -ENOMEM. */
int sk_loop_post(sk_loop *loop, void (*fn)(sk_loop *loop, void *arg), void *arg);

/* The loop's cached CLOCK_MONOTONIC time in milliseconds, updated once per
 * iteration (cheap; use it for timeouts and timestamps). */
int64_t sk_loop_now(const sk_loop *loop);

/* A buffer of SK_LOOP_READ_BUFFER bytes that the loop's callbacks may read
 * into: shared by every connection of the loop, valid during a callback. */
uint8_t *sk_loop_read_buffer(sk_loop *loop);

/* The loop's selector backend. */
sk_selector_backend sk_loop_backend(const sk_loop *loop);

/* Free the loop. Handles still active are forgotten (their fds are not
 * closed); queued posts are dropped. NULL is ignored. */
void sk_loop_destroy(sk_loop *loop);

#ifdef __cplusplus
}
#endif
#endif
