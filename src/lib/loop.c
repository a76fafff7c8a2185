/* The event loop (see sockkit/loop.h): fd watchers, deferred callbacks
 * and the iteration. One iteration waits on the selector (until the next
 * timer at most), updates the cached time, runs the due timers, the I/O
 * callbacks, then the posts and the deferred callbacks — so
 * sk_loop_run_once(loop, -1) also returns once a timer has fired.
 * Timers are in loop_timer.c, posts and stop in loop_post.c, signals in
 * loop_signal.c. */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "deadline.h"
#include "loop_internal.h"
#include "selector_backend.h"

/* Rounds of deferred callbacks per pass: callbacks queued by a deferred
 * callback run in the same pass, up to this many rounds (no livelock). */
#define SK_LOOP_DEFER_ROUNDS 64

/* Cache lines fetched ahead for the next ready watcher (of 64 bytes): a
 * reactor connection's stream and the head of its sk_conn (reactor.h). */
#define SK_LOOP_PREFETCH_LINES 4
#define SK_LOOP_CACHE_LINE 64

/* ---- fd watchers ---------------------------------------------------- */

void sk_io_init(sk_io *io, int fd, sk_io_cb cb, void *data)
{
    *io = (sk_io){.fd = fd, .cb = cb, .data = data};
}

int sk_io_start(sk_loop *loop, sk_io *io, unsigned events)
{
    events &= SK_POLLIN | SK_POLLOUT;
    int rc = io->active ? sk_selector_modify(loop->sel, io->fd, events, io)
                        : sk_selector_add(loop->sel, io->fd, events, io);
    if (rc < 0)
        return rc;
    io->active = true;
    io->events = events;
    return 0;
}

/* A watcher stopped while this iteration's batch is being dispatched (by a
 * timer or by another callback) must not be called for it: its entry is
 * cleared, so neither a stale event nor a new registration of the same fd
 * number (maybe another watcher) gets it. O(batch), once per stop, as in
 * libuv; the dispatch itself then needs no check beyond a NULL test. */
static void forget_ready(sk_loop *loop, const sk_io *io)
{
    for (int i = 0; i < loop->ready_len; i++)
        if (loop->ready[i].data == io)
            loop->ready[i].data = NULL;
}

void sk_io_stop(sk_loop *loop, sk_io *io)
{
    if (!io->active)
        return;
    (void)sk_selector_remove(loop->sel, io->fd);
    io->active = false;
    io->events = 0;
    forget_ready(loop, io);
}

/* Start loading a watcher and the object around it into the cache: the
 * watcher's line and the next few, where its owner keeps the state its
 * callback uses (an sk_stream begins with its watcher). A hint only:
 * prefetching never faults. */
static void prefetch_watcher(const void *io)
{
    const char *p = io;
    for (int i = 0; i < SK_LOOP_PREFETCH_LINES; i++)
        __builtin_prefetch(p + i * SK_LOOP_CACHE_LINE);
}

/* Call the callback of each ready watcher still registered, with the
 * events it still asks for (plus errors and hang-ups). With many
 * connections the watchers and their streams are cold in the cache: the
 * next one is fetched while the callback before it runs (its system calls
 * take far longer than the loads). */
static void dispatch_io(sk_loop *loop)
{
    for (int i = 0; i < loop->ready_len; i++) {
        const sk_selector_event *ev = &loop->ready[i];
        sk_io *io = ev->data;
        if (i + 1 < loop->ready_len && ev[1].data)
            prefetch_watcher(ev[1].data);
        if (!io)
            continue;
        unsigned events = ev->events & (io->events | SK_POLLERR | SK_POLLHUP);
        if (events)
            io->cb(loop, io, events);
    }
    loop->ready_len = 0;
}

/* ---- deferred callbacks ------------------------------------------------ */

void sk_defer_init(sk_defer *d, sk_defer_cb cb, void *data)
{
    *d = (sk_defer){.cb = cb, .data = data};
}

void sk_defer_queue(sk_loop *loop, sk_defer *d)
{
    if (d->queued)
        return;
    d->next = NULL;
    d->queued = true;
    if (loop->defer_tail)
        loop->defer_tail->next = d;
    else
        loop->defer_head = d;
    loop->defer_tail = d;
    loop->defer_count++;
}

void sk_defer_cancel(sk_loop *loop, sk_defer *d)
{
    if (!d->queued)
        return;
    sk_defer *prev = NULL;
    for (sk_defer *p = loop->defer_head; p && p != d; p = p->next)
        prev = p;
    if (prev)
        prev->next = d->next;
    else
        loop->defer_head = d->next;
    if (loop->defer_tail == d)
        loop->defer_tail = prev;
    d->next = NULL;
    d->queued = false;
    loop->defer_count--;
}

static sk_defer *defer_pop(sk_loop *loop)
{
    sk_defer *d = loop->defer_head;
    loop->defer_head = d->next;
    if (!loop->defer_head)
        loop->defer_tail = NULL;
    d->next = NULL;
    d->queued = false;
    loop->defer_count--;
    return d;
}

/* Run the queue in rounds: each round runs as many as were queued when it
 * began, so defers queued meanwhile run in a later round of this pass. */
static void run_defers(sk_loop *loop)
{
    for (int round = 0; round < SK_LOOP_DEFER_ROUNDS && loop->defer_head; round++) {
        for (size_t n = loop->defer_count; n > 0 && loop->defer_head; n--) {
            sk_defer *d = defer_pop(loop);
            d->cb(loop, d);
        }
    }
}

/* ---- the loop ------------------------------------------------------------ */

int sk_loop_create(sk_loop **out, sk_selector_backend backend)
{
    sk_loop *loop = calloc(1, sizeof *loop);
    if (!loop)
        return -ENOMEM;
    int rc = sk_selector_open(&loop->sel, backend);
    if (rc < 0) {
        free(loop);
        return rc;
    }
    atomic_init(&loop->stop, false);
    pthread_mutex_init(&loop->post_lock, NULL);
    loop->now_ms = sk_monotonic_ms();
    loop->read_buffer = malloc(SK_LOOP_READ_BUFFER);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    rc = !loop->read_buffer ? -ENOMEM : efd < 0 ? -errno : 0;
    sk_io_init(&loop->wake, efd, sk_loop_wake_cb, NULL);
    if (rc == 0)
        rc = sk_io_start(loop, &loop->wake, SK_POLLIN);
    if (rc < 0) {
        sk_loop_destroy(loop);
        return rc;
    }
    *out = loop;
    return 0;
}

/* How long the wait may block: until the next timer, at most timeout_ms,
 * and not at all when work is already pending. */
static int wait_timeout(const sk_loop *loop, int timeout_ms)
{
    if (loop->defer_head || atomic_load(&loop->stop))
        return 0;
    int timer = sk_loop_timer_timeout(loop);
    if (timer < 0)
        return timeout_ms;
    return timeout_ms < 0 || timer < timeout_ms ? timer : timeout_ms;
}

int sk_loop_run_once(sk_loop *loop, int timeout_ms)
{
    if (loop->heap_len > 0) /* the wait's timeout counts from now */
        loop->now_ms = sk_monotonic_ms();
    int n = sk_selector_wait(loop->sel, loop->ready, SK_LOOP_MAX_EVENTS,
                             wait_timeout(loop, timeout_ms));
    if (n < 0)
        return n;
    loop->ready_len = n; /* from here a stopped watcher's entry is cleared */
    /* The wait may have been long: callbacks see the time after it. */
    loop->now_ms = sk_monotonic_ms();
    sk_loop_run_timers(loop);
    dispatch_io(loop);
    sk_loop_run_posts(loop);
    run_defers(loop);
    return 0;
}

int sk_loop_run(sk_loop *loop)
{
    int rc;
    do
        rc = sk_loop_run_once(loop, -1);
    while (rc == 0 && !atomic_load(&loop->stop));
    atomic_store(&loop->stop, false); /* the next sk_loop_run runs again */
    return rc;
}

int64_t sk_loop_now(const sk_loop *loop)
{
    return loop->now_ms;
}

uint8_t *sk_loop_read_buffer(sk_loop *loop)
{
    return loop->read_buffer;
}

sk_selector_backend sk_loop_backend(const sk_loop *loop)
{
    return sk_selector_backend_of(loop->sel);
}

void sk_loop_destroy(sk_loop *loop)
{
    if (!loop)
        return;
    sk_io_stop(loop, &loop->wake);
    if (loop->wake.fd >= 0)
        close(loop->wake.fd);
    sk_loop_posts_free(loop);
    pthread_mutex_destroy(&loop->post_lock);
    sk_loop_timers_free(loop);
    sk_selector_close(loop->sel);
    free(loop->read_buffer);
    free(loop);
}
