/* Unit tests for the event loop (include/sockkit/loop.h): timers, defers,
 * cross-thread posts and stop, signals and fd watchers — each under the
 * three selector backends (epoll, poll, select). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sockkit/loop.h"

/* The backend under test: set by each group's setup. */
static sk_selector_backend backend;

/* ---- helpers --------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        continue;
}

static sk_loop *new_loop(void)
{
    sk_loop *loop = NULL;
    assert_int_equal(sk_loop_create(&loop, backend), 0);
    assert_non_null(loop);
    assert_int_equal(sk_loop_backend(loop), backend);
    return loop;
}

/* Run iterations until *done is true, for at most 10 s. */
static void run_until(sk_loop *loop, const bool *done)
{
    int64_t deadline = now_ms() + 10000;
    while (!*done && now_ms() < deadline)
        assert_int_equal(sk_loop_run_once(loop, 100), 0);
    assert_true(*done);
}

static int setup_epoll(void **state)
{
    (void)state;
    backend = SK_SELECTOR_EPOLL;
    return 0;
}

static int setup_poll(void **state)
{
    (void)state;
    backend = SK_SELECTOR_POLL;
    return 0;
}

static int setup_select(void **state)
{
    (void)state;
    backend = SK_SELECTOR_SELECT;
    return 0;
}

/* A record of callbacks, in the order they ran. */
typedef struct record {
    int order[64];
    int len;
    bool done;
} record;

static void note(record *r, int what)
{
    if (r->len < 64)
        r->order[r->len++] = what;
}

/* ---- the loop itself ---------------------------------------------------- */

static void test_create_and_basics(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    uint8_t *buf = sk_loop_read_buffer(loop);
    assert_non_null(buf);
    memset(buf, 0xab, SK_LOOP_READ_BUFFER); /* all of it is ours (ASan) */
    int64_t t0 = sk_loop_now(loop);
    assert_true(t0 > 0);
    assert_int_equal(sk_loop_run_once(loop, 0), 0); /* nothing to do */
    assert_true(sk_loop_now(loop) >= t0);
    sk_loop_destroy(loop);
    sk_loop_destroy(NULL);
}

/* ---- timers ------------------------------------------------------------- */

typedef struct tagged_timer {
    sk_timer timer;
    int tag;
    record *rec;
} tagged_timer;

static void note_timer(sk_loop *loop, sk_timer *t)
{
    tagged_timer *tt = t->data;
    (void)loop;
    note(tt->rec, tt->tag);
    if (tt->rec->len == 5)
        tt->rec->done = true;
}

static void test_timers_fire_in_order(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    record rec = {0};
    const int64_t after[5] = {30, 10, 20, 10, 0};
    tagged_timer tt[5];
    for (int i = 0; i < 5; i++) {
        tt[i] = (tagged_timer){.tag = i, .rec = &rec};
        sk_timer_init(&tt[i].timer, note_timer, &tt[i]);
        assert_false(sk_timer_active(&tt[i].timer));
        assert_int_equal(sk_timer_start(loop, &tt[i].timer, after[i], 0), 0);
        assert_true(sk_timer_active(&tt[i].timer));
    }
    int64_t t0 = sk_loop_now(loop);
    run_until(loop, &rec.done);
    assert_true(sk_loop_now(loop) - t0 >= 30);
    const int expect[5] = {4, 1, 3, 2, 0}; /* equal times: start order */
    assert_memory_equal(rec.order, expect, sizeof expect);
    for (int i = 0; i < 5; i++)
        assert_false(sk_timer_active(&tt[i].timer));
    assert_int_equal(sk_timer_start(loop, &tt[0].timer, -1, 0), -EINVAL);
    assert_int_equal(sk_timer_start(loop, &tt[0].timer, 0, -1), -EINVAL);
    sk_loop_destroy(loop);
}

static int repeat_count;

static void count_repeat(sk_loop *loop, sk_timer *t)
{
    (void)loop;
    (void)t;
    repeat_count++;
}

static void stop_loop_timer(sk_loop *loop, sk_timer *t)
{
    (void)t;
    sk_loop_stop(loop);
}

/* A 20 ms repeating timer over ~200 ms fires about 10 times. */
static void test_repeating_timer(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    sk_timer rep, end;
    repeat_count = 0;
    sk_timer_init(&rep, count_repeat, NULL);
    sk_timer_init(&end, stop_loop_timer, NULL);
    assert_int_equal(sk_timer_start(loop, &rep, 20, 20), 0);
    assert_int_equal(sk_timer_start(loop, &end, 205, 0), 0);
    assert_int_equal(sk_loop_run(loop), 0);
    assert_true(repeat_count >= 5);   /* loose: a slow machine may lag */
    assert_true(repeat_count <= 11);  /* but never bursts to catch up */
    assert_true(sk_timer_active(&rep));
    sk_timer_stop(loop, &rep);
    assert_false(sk_timer_active(&rep));
    sk_timer_stop(loop, &rep); /* safe when inactive */
    sk_loop_destroy(loop);
}

/* A loop that fell behind does not fire a burst of catch-up callbacks. */
static void test_repeating_timer_no_burst(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    sk_timer rep;
    repeat_count = 0;
    sk_timer_init(&rep, count_repeat, NULL);
    assert_int_equal(sk_timer_start(loop, &rep, 10, 10), 0);
    sleep_ms(100); /* ten periods behind */
    for (int i = 0; i < 3; i++)
        assert_int_equal(sk_loop_run_once(loop, 0), 0);
    assert_int_equal(repeat_count, 1);
    assert_true(rep.due_ms > sk_loop_now(loop));
    sk_loop_destroy(loop);
}

typedef struct self_timer {
    sk_timer timer;
    int fired;
    int limit;
    sk_timer *other; /* stopped on the first call, if set */
    bool done;
} self_timer;

static void stop_self_after_limit(sk_loop *loop, sk_timer *t)
{
    self_timer *st = t->data;
    if (++st->fired == st->limit) {
        sk_timer_stop(loop, t);
        st->done = true;
    }
}

static void restart_self(sk_loop *loop, sk_timer *t)
{
    self_timer *st = t->data;
    if (st->other) {
        sk_timer_stop(loop, st->other);
        st->other = NULL;
    }
    if (++st->fired < st->limit)
        assert_int_equal(sk_timer_start(loop, t, 5, 0), 0);
    else
        st->done = true;
}

static void must_not_fire(sk_loop *loop, sk_timer *t)
{
    (void)loop;
    (void)t;
    fail_msg("a stopped timer fired");
}

static void test_timer_stops_itself(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    self_timer st = {.limit = 3};
    sk_timer_init(&st.timer, stop_self_after_limit, &st);
    assert_int_equal(sk_timer_start(loop, &st.timer, 1, 5), 0);
    run_until(loop, &st.done);
    assert_false(sk_timer_active(&st.timer));
    for (int i = 0; i < 5; i++)
        assert_int_equal(sk_loop_run_once(loop, 10), 0);
    assert_int_equal(st.fired, 3);
    sk_loop_destroy(loop);
}

/* A callback restarts its own timer, and stops another timer due in the
 * same pass: that one does not fire. */
static void test_timer_restarts_itself(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    sk_timer victim;
    sk_timer_init(&victim, must_not_fire, NULL);
    self_timer st = {.limit = 4, .other = &victim};
    sk_timer_init(&st.timer, restart_self, &st);
    assert_int_equal(sk_timer_start(loop, &st.timer, 5, 0), 0);
    assert_int_equal(sk_timer_start(loop, &victim, 5, 0), 0);
    run_until(loop, &st.done);
    assert_int_equal(st.fired, 4);
    assert_false(sk_timer_active(&victim));
    sk_loop_destroy(loop);
}

#define MANY_TIMERS 10000

typedef struct order_check {
    int fired;
    int64_t last_due;
    uint64_t last_seq;
    bool in_order;
    bool done;
} order_check;

static void check_order(sk_loop *loop, sk_timer *t)
{
    order_check *oc = t->data;
    (void)loop;
    if (oc->fired > 0 && (t->due_ms < oc->last_due ||
                          (t->due_ms == oc->last_due && t->seq < oc->last_seq)))
        oc->in_order = false;
    oc->last_due = t->due_ms;
    oc->last_seq = t->seq;
    if (++oc->fired == MANY_TIMERS)
        oc->done = true;
}

/* 10,000 timers with random deadlines (some stopped and restarted) all
 * fire, in order of due time, then start order. */
static void test_many_timers_in_order(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    static sk_timer timers[MANY_TIMERS];
    order_check oc = {.in_order = true};
    unsigned seed = 12345;
    for (int i = 0; i < MANY_TIMERS; i++) {
        sk_timer_init(&timers[i], check_order, &oc);
        assert_int_equal(sk_timer_start(loop, &timers[i], rand_r(&seed) % 100, 0), 0);
    }
    for (int i = 0; i < MANY_TIMERS; i += 7)
        sk_timer_stop(loop, &timers[i]);
    for (int i = 0; i < MANY_TIMERS; i += 7)
        assert_int_equal(sk_timer_start(loop, &timers[i], rand_r(&seed) % 100, 0), 0);
    run_until(loop, &oc.done);
    assert_true(oc.in_order);
    assert_int_equal(oc.fired, MANY_TIMERS);
    sk_loop_destroy(loop);
}

/* ---- deferred callbacks ------------------------------------------------ */

typedef struct tagged_defer {
    sk_defer defer;
    int tag;
    record *rec;
    sk_defer *then; /* queued from this callback, if set */
    sk_defer *cancel; /* cancelled from this callback, if set */
} tagged_defer;

static void note_defer(sk_loop *loop, sk_defer *d)
{
    tagged_defer *td = d->data;
    assert_false(d->queued);
    note(td->rec, td->tag);
    if (td->then)
        sk_defer_queue(loop, td->then);
    if (td->cancel)
        sk_defer_cancel(loop, td->cancel);
}

static void test_defers_run_in_order(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    record rec = {0};
    tagged_defer td[6];
    for (int i = 0; i < 6; i++) {
        td[i] = (tagged_defer){.tag = i, .rec = &rec};
        sk_defer_init(&td[i].defer, note_defer, &td[i]);
    }
    td[1].then = &td[5].defer;   /* queued from a defer: same pass */
    td[0].cancel = &td[2].defer; /* cancelled by an earlier defer */
    sk_defer_queue(loop, &td[0].defer);
    sk_defer_queue(loop, &td[1].defer);
    sk_defer_queue(loop, &td[2].defer);
    sk_defer_queue(loop, &td[3].defer);
    sk_defer_queue(loop, &td[4].defer);
    sk_defer_queue(loop, &td[1].defer); /* already queued: nothing */
    assert_true(td[3].defer.queued);
    sk_defer_cancel(loop, &td[3].defer);
    assert_false(td[3].defer.queued);
    sk_defer_cancel(loop, &td[3].defer); /* not queued: nothing */
    /* A pass, even with a long timeout: queued defers mean no waiting. */
    int64_t t0 = now_ms();
    assert_int_equal(sk_loop_run_once(loop, 5000), 0);
    assert_true(now_ms() - t0 < 2500);
    const int expect[4] = {0, 1, 4, 5};
    assert_int_equal(rec.len, 4);
    assert_memory_equal(rec.order, expect, sizeof expect);
    assert_int_equal(sk_loop_run_once(loop, 0), 0);
    assert_int_equal(rec.len, 4); /* each ran once */
    sk_loop_destroy(loop);
}

static int requeue_count;

static void requeue_forever(sk_loop *loop, sk_defer *d)
{
    requeue_count++;
    sk_defer_queue(loop, d);
}

/* A defer that keeps queuing itself cannot trap the loop in one pass. */
static void test_defer_requeue_is_bounded(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    sk_defer d;
    sk_defer_init(&d, requeue_forever, NULL);
    requeue_count = 0;
    sk_defer_queue(loop, &d);
    assert_int_equal(sk_loop_run_once(loop, 0), 0);
    int first = requeue_count;
    assert_true(first > 1);  /* re-queued ones ran in the same pass */
    assert_true(d.queued);   /* and the pass ended anyway */
    assert_int_equal(sk_loop_run_once(loop, -1), 0); /* no waiting */
    assert_true(requeue_count > first);
    sk_defer_cancel(loop, &d);
    sk_loop_destroy(loop);
}

/* ---- posts and stop from other threads ------------------------------------ */

#define POST_THREADS 4
#define POSTS_PER_THREAD 250

typedef struct post_state {
    sk_loop *loop;
    int next[POST_THREADS];  /* the loop's view: next index expected */
    bool in_order;
    int received;
    bool done;
} post_state;

typedef struct post_arg {
    post_state *ps;
    int thread, index;
} post_arg;

static post_arg post_args[POST_THREADS][POSTS_PER_THREAD];

static void on_post(sk_loop *loop, void *arg)
{
    post_arg *pa = arg;
    post_state *ps = pa->ps;
    assert_ptr_equal(loop, ps->loop);
    if (pa->index != ps->next[pa->thread])
        ps->in_order = false;
    ps->next[pa->thread] = pa->index + 1;
    if (++ps->received == POST_THREADS * POSTS_PER_THREAD)
        ps->done = true;
}

static void *poster(void *arg)
{
    post_arg *row = arg;
    for (int i = 0; i < POSTS_PER_THREAD; i++) {
        if (sk_loop_post(row[i].ps->loop, on_post, &row[i]) < 0)
            return (void *)1;
        if (i % 50 == 0)
            sched_yield();
    }
    return NULL;
}

static void test_posts_from_threads(void **state)
{
    (void)state;
    post_state ps = {.loop = new_loop(), .in_order = true};
    pthread_t th[POST_THREADS];
    for (int t = 0; t < POST_THREADS; t++) {
        for (int i = 0; i < POSTS_PER_THREAD; i++)
            post_args[t][i] = (post_arg){&ps, t, i};
        assert_int_equal(pthread_create(&th[t], NULL, poster, post_args[t]), 0);
    }
    run_until(ps.loop, &ps.done);
    for (int t = 0; t < POST_THREADS; t++) {
        void *ret;
        assert_int_equal(pthread_join(th[t], &ret), 0);
        assert_null(ret);
    }
    assert_int_equal(ps.received, POST_THREADS * POSTS_PER_THREAD);
    assert_true(ps.in_order);
    sk_loop_destroy(ps.loop);
}

static void never_run(sk_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    fail_msg("a dropped post ran");
}

/* Posts still queued when the loop is destroyed are dropped (ASan: freed). */
static void test_destroy_drops_posts(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    for (int i = 0; i < 10; i++)
        assert_int_equal(sk_loop_post(loop, never_run, NULL), 0);
    sk_loop_destroy(loop);
}

static void *stop_later(void *arg)
{
    sleep_ms(50);
    sk_loop_stop(arg);
    return NULL;
}

/* A loop blocked with nothing to do (no timers) wakes for sk_loop_stop from
 * another thread; the next sk_loop_run runs again (until stopped again). */
static void test_stop_from_thread(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    for (int round = 0; round < 2; round++) {
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, stop_later, loop), 0);
        int64_t t0 = now_ms();
        assert_int_equal(sk_loop_run(loop), 0);
        assert_true(now_ms() - t0 >= 40);
        assert_int_equal(pthread_join(th, NULL), 0);
    }
    sk_loop_destroy(loop);
}

/* ---- signals ------------------------------------------------------------ */

typedef struct signal_seen {
    int signum;
    int count;
    bool done;
} signal_seen;

static void on_signal(sk_loop *loop, sk_signal *sig, int signum)
{
    signal_seen *seen = sig->data;
    (void)loop;
    seen->signum = signum;
    seen->count++;
    seen->done = true;
}

static void test_signal(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    sk_signal sig;
    signal_seen seen = {0};
    assert_int_equal(sk_signal_start(loop, &sig, 0, on_signal, &seen), -EINVAL);
    assert_int_equal(sk_signal_start(loop, &sig, SIGKILL, on_signal, &seen), -EINVAL);
    assert_int_equal(sk_signal_start(loop, &sig, SIGUSR1, on_signal, &seen), 0);
    assert_int_equal(raise(SIGUSR1), 0); /* blocked: queued for the signalfd */
    run_until(loop, &seen.done);
    assert_int_equal(seen.signum, SIGUSR1);
    assert_int_equal(seen.count, 1);

    seen.done = false;
    assert_int_equal(raise(SIGUSR1), 0);
    run_until(loop, &seen.done);
    assert_int_equal(seen.count, 2);
    sk_signal_stop(loop, &sig);
    sk_signal_stop(loop, &sig); /* safe twice */
    assert_int_equal(raise(SIGUSR1), 0); /* still blocked: stays pending */
    assert_int_equal(sk_loop_run_once(loop, 20), 0);
    assert_int_equal(seen.count, 2);
    /* Consume the pending signal so later tests start clean. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    int got = 0;
    assert_int_equal(sigwait(&set, &got), 0);
    assert_int_equal(got, SIGUSR1);
    sk_loop_destroy(loop);
}

/* ---- fd watchers ----------------------------------------------------------- */

typedef struct pair_watch {
    sk_io io[2];
    int fds[2][2];   /* a socketpair per watcher; io[i] watches fds[i][0] */
    int calls[2];
    int replaced;    /* pipe that replaced the stopped watcher's fd, or -1 */
    int pipe_fds[2];
} pair_watch;

/* Each callback stops the other watcher, closes its fd, and starts that
 * same watcher again on a new pipe that gets the same fd number: the
 * stale ready entry must not reach it. */
static void stop_the_other(sk_loop *loop, sk_io *io, unsigned events)
{
    pair_watch *pw = io->data;
    int me = io == &pw->io[0] ? 0 : 1, other = 1 - me;
    assert_true(events & SK_POLLIN);
    pw->calls[me]++;
    if (pw->replaced >= 0)
        return;
    int old_fd = pw->io[other].fd;
    sk_io_stop(loop, &pw->io[other]);
    assert_false(pw->io[other].active);
    close(old_fd);
    assert_int_equal(pipe2(pw->pipe_fds, O_CLOEXEC), 0);
    pw->replaced = other;
    if (pw->pipe_fds[0] == old_fd) {  /* the usual case: lowest free fd */
        sk_io_init(&pw->io[other], old_fd, stop_the_other, pw);
        assert_int_equal(sk_io_start(loop, &pw->io[other], SK_POLLIN), 0);
    }
}

static void test_io_stopped_in_same_iteration(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    pair_watch pw = {.replaced = -1};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pw.fds[i]), 0);
        sk_io_init(&pw.io[i], pw.fds[i][0], stop_the_other, &pw);
        assert_int_equal(sk_io_start(loop, &pw.io[i], SK_POLLIN), 0);
        assert_true(pw.io[i].active);
        assert_int_equal(pw.io[i].events, SK_POLLIN);
        assert_int_equal(send(pw.fds[i][1], "x", 1, MSG_NOSIGNAL), 1);
    }
    /* Both are readable before the wait: one iteration, one callback. */
    assert_int_equal(sk_loop_run_once(loop, 1000), 0);
    assert_int_equal(pw.calls[0] + pw.calls[1], 1);
    assert_true(pw.replaced >= 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sk_loop_run_once(loop, 0), 0);
    int survivor = 1 - pw.replaced;
    assert_int_equal(pw.calls[pw.replaced], 0); /* its new pipe is empty */
    assert_true(pw.calls[survivor] >= 1);
    sk_io_stop(loop, &pw.io[0]);
    sk_io_stop(loop, &pw.io[1]);
    sk_io_stop(loop, &pw.io[1]); /* safe when inactive */
    close(pw.fds[survivor][0]);
    close(pw.fds[0][1]);
    close(pw.fds[1][1]);
    close(pw.pipe_fds[0]);
    close(pw.pipe_fds[1]);
    sk_loop_destroy(loop);
}

/* A timer that runs in the same iteration as a ready watcher (timers run
 * first) stops that watcher and starts it again: the event the wait
 * returned for the old registration is not delivered; the next iteration
 * delivers a fresh one. */
typedef struct timer_stops_io {
    sk_io io;
    sk_timer timer;
    int calls;
} timer_stops_io;

static void count_io(sk_loop *loop, sk_io *io, unsigned events)
{
    timer_stops_io *t = io->data;
    (void)loop;
    assert_true(events & SK_POLLIN);
    t->calls++;
}

static void stop_and_restart_io(sk_loop *loop, sk_timer *timer)
{
    timer_stops_io *t = timer->data;
    sk_io_stop(loop, &t->io);
    assert_int_equal(sk_io_start(loop, &t->io, SK_POLLIN), 0);
}

static void test_io_stopped_by_timer_in_same_iteration(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    timer_stops_io t = {0};
    sk_io_init(&t.io, sp[0], count_io, &t);
    sk_timer_init(&t.timer, stop_and_restart_io, &t);
    assert_int_equal(sk_io_start(loop, &t.io, SK_POLLIN), 0);
    assert_int_equal(send(sp[1], "x", 1, MSG_NOSIGNAL), 1);
    assert_int_equal(sk_timer_start(loop, &t.timer, 0, 0), 0);
    assert_int_equal(sk_loop_run_once(loop, 1000), 0);
    assert_false(sk_timer_active(&t.timer));
    assert_int_equal(t.calls, 0);
    assert_int_equal(sk_loop_run_once(loop, 1000), 0); /* still readable */
    assert_int_equal(t.calls, 1);
    sk_io_stop(loop, &t.io);
    close(sp[0]);
    close(sp[1]);
    sk_loop_destroy(loop);
}

/* Many ready watchers in one wait, each callback stopping one that has
 * not run yet: half of them run, and no stopped one ever does. */
enum { MANY_WATCHERS = 300 };

typedef struct chain_watch {
    sk_io io[MANY_WATCHERS];
    int fds[MANY_WATCHERS][2];
    int calls[MANY_WATCHERS];
    bool stopped[MANY_WATCHERS];
    int n;
} chain_watch;

static void stop_one_waiting(sk_loop *loop, sk_io *io, unsigned events)
{
    chain_watch *cw = io->data;
    int i = (int)(io - cw->io);
    (void)events;
    cw->calls[i]++;
    for (int j = 0; j < cw->n; j++)
        if (j != i && cw->io[j].active && cw->calls[j] == 0) {
            sk_io_stop(loop, &cw->io[j]);
            cw->stopped[j] = true;
            break;
        }
}

static void test_io_many_ready_stopped_in_same_iteration(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    chain_watch *cw = calloc(1, sizeof *cw);
    assert_non_null(cw);
    cw->n = backend == SK_SELECTOR_SELECT ? 100 : MANY_WATCHERS; /* fds below FD_SETSIZE */
    for (int i = 0; i < cw->n; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cw->fds[i]), 0);
        sk_io_init(&cw->io[i], cw->fds[i][0], stop_one_waiting, cw);
        assert_int_equal(sk_io_start(loop, &cw->io[i], SK_POLLIN), 0);
        assert_int_equal(send(cw->fds[i][1], "x", 1, MSG_NOSIGNAL), 1);
    }
    assert_int_equal(sk_loop_run_once(loop, 1000), 0);
    int ran = 0, stopped = 0;
    for (int i = 0; i < cw->n; i++) {
        assert_true(cw->calls[i] <= 1);
        if (cw->stopped[i])
            assert_int_equal(cw->calls[i], 0);
        ran += cw->calls[i];
        stopped += cw->stopped[i];
    }
    assert_int_equal(ran, cw->n / 2);
    assert_int_equal(stopped, cw->n / 2);
    for (int i = 0; i < cw->n; i++) {
        sk_io_stop(loop, &cw->io[i]);
        close(cw->fds[i][0]);
        close(cw->fds[i][1]);
    }
    free(cw);
    sk_loop_destroy(loop);
}

typedef struct echo_watch {
    sk_io io;
    unsigned seen;
    int calls;
} echo_watch;

static void note_events(sk_loop *loop, sk_io *io, unsigned events)
{
    echo_watch *ew = io->data;
    (void)loop;
    ew->seen |= events;
    ew->calls++;
}

/* Watchers see only the events they asked for; changing the events (or
 * setting 0) takes effect; an invalid fd is refused. */
static void test_io_events_and_modify(void **state)
{
    (void)state;
    sk_loop *loop = new_loop();
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    echo_watch ew = {0};
    sk_io_init(&ew.io, sp[0], note_events, &ew);
    assert_int_equal(sk_io_start(loop, &ew.io, SK_POLLOUT), 0);
    assert_int_equal(sk_loop_run_once(loop, 1000), 0);
    assert_int_equal(ew.seen, SK_POLLOUT);

    assert_int_equal(send(sp[1], "x", 1, MSG_NOSIGNAL), 1);
    assert_int_equal(sk_io_start(loop, &ew.io, 0), 0); /* hold, wait for nothing */
    assert_true(ew.io.active);
    ew.calls = 0;
    assert_int_equal(sk_loop_run_once(loop, 20), 0);
    assert_int_equal(ew.calls, 0);

    assert_int_equal(sk_io_start(loop, &ew.io, SK_POLLIN), 0);
    assert_int_equal(sk_io_start(loop, &ew.io, SK_POLLIN), 0); /* unchanged */
    ew.seen = 0;
    assert_int_equal(sk_loop_run_once(loop, 1000), 0);
    assert_int_equal(ew.seen, SK_POLLIN);
    sk_io_stop(loop, &ew.io);
    assert_false(ew.io.active);

    echo_watch bad = {0};
    sk_io_init(&bad.io, -1, note_events, &bad);
    assert_int_equal(sk_io_start(loop, &bad.io, SK_POLLIN), -EBADF);
    assert_false(bad.io.active);
    close(sp[0]);
    close(sp[1]);
    sk_loop_destroy(loop);
}

#define LOOP_TESTS                                             \
    {                                                          \
        cmocka_unit_test(test_create_and_basics),              \
        cmocka_unit_test(test_timers_fire_in_order),           \
        cmocka_unit_test(test_repeating_timer),                \
        cmocka_unit_test(test_repeating_timer_no_burst),       \
        cmocka_unit_test(test_timer_stops_itself),             \
        cmocka_unit_test(test_timer_restarts_itself),          \
        cmocka_unit_test(test_many_timers_in_order),           \
        cmocka_unit_test(test_defers_run_in_order),            \
        cmocka_unit_test(test_defer_requeue_is_bounded),       \
        cmocka_unit_test(test_posts_from_threads),             \
        cmocka_unit_test(test_destroy_drops_posts),            \
        cmocka_unit_test(test_stop_from_thread),               \
        cmocka_unit_test(test_signal),                         \
        cmocka_unit_test(test_io_stopped_in_same_iteration),   \
        cmocka_unit_test(test_io_stopped_by_timer_in_same_iteration), \
        cmocka_unit_test(test_io_many_ready_stopped_in_same_iteration), \
        cmocka_unit_test(test_io_events_and_modify),           \
    }

int main(void)
{
    const struct CMUnitTest epoll_tests[] = LOOP_TESTS;
    const struct CMUnitTest poll_tests[] = LOOP_TESTS;
    const struct CMUnitTest select_tests[] = LOOP_TESTS;
    int failed = cmocka_run_group_tests_name("epoll", epoll_tests, setup_epoll, NULL);
    failed += cmocka_run_group_tests_name("poll", poll_tests, setup_poll, NULL);
    failed += cmocka_run_group_tests_name("select", select_tests, setup_select, NULL);
    return failed;
}
