/* Unit tests for selectors (include/sockkit/selector.h): every test runs
 * under each backend (epoll, poll, select), on pipes and socketpairs. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sockkit/selector.h"

/* The backend under test: set by each group's setup. */
static sk_selector_backend backend;

/* ---- helpers --------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sk_selector *open_selector(void)
{
    sk_selector *sel = NULL;
    assert_int_equal(sk_selector_open(&sel, backend), 0);
    assert_non_null(sel);
    assert_int_equal(sk_selector_backend_of(sel), backend);
    return sel;
}

static void make_pipe(int fds[2])
{
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
}

static void make_socketpair(int fds[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
}

static void close_pair(int fds[2])
{
    close(fds[0]);
    close(fds[1]);
}

/* Raise the soft RLIMIT_NOFILE to at least want; false if the hard limit
 * does not allow it. */
static bool raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return false;
    if (rl.rlim_cur >= want)
        return true;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        return false;
    rl.rlim_cur = want;
    return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

static int set_backend(sk_selector_backend b)
{
    backend = b;
    return 0;
}

static int setup_epoll(void **state)
{
    (void)state;
    return set_backend(SK_SELECTOR_EPOLL);
}

static int setup_poll(void **state)
{
    (void)state;
    return set_backend(SK_SELECTOR_POLL);
}

static int setup_select(void **state)
{
    (void)state;
    return set_backend(SK_SELECTOR_SELECT);
}

/* ---- names ----------------------------------------------------------- */

static void test_backend_names(void **state)
{
    (void)state;
    assert_int_equal(sk_selector_default(), SK_SELECTOR_EPOLL);
    const char *names[] = {"epoll", "poll", "select"};
    for (int i = 0; i < 3; i++) {
        sk_selector_backend b = (sk_selector_backend)-1;
        assert_string_equal(sk_selector_backend_name((sk_selector_backend)i), names[i]);
        assert_int_equal(sk_selector_backend_parse(names[i], &b), 0);
        assert_int_equal(b, i);
    }
    sk_selector_backend b = SK_SELECTOR_POLL;
    assert_int_equal(sk_selector_backend_parse("kqueue", &b), -EINVAL);
    assert_int_equal(sk_selector_backend_parse("", &b), -EINVAL);
    assert_int_equal(sk_selector_backend_parse("EPOLL", &b), -EINVAL);
    assert_int_equal(b, SK_SELECTOR_POLL); /* untouched on failure */
    sk_selector *sel = NULL;
    assert_int_equal(sk_selector_open(&sel, (sk_selector_backend)7), -EINVAL);
    sk_selector_close(NULL); /* ignored */
}

/* ---- readiness -------------------------------------------------------- */

static void test_pipe_readable(void **state)
{
    (void)state;
    sk_selector *sel = open_selector();
    int p[2];
    make_pipe(p);
    int tag;
    assert_int_equal(sk_selector_add(sel, p[0], SK_POLLIN, &tag), 0);
    assert_int_equal(sk_selector_count(sel), 1);
    sk_selector_event ev[4];
    assert_int_equal(sk_selector_wait(sel, ev, 4, 0), 0); /* nothing yet */

    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(sk_selector_wait(sel, ev, 4, 1000), 1);
    assert_int_equal(ev[0].fd, p[0]);
    assert_int_equal(ev[0].events, SK_POLLIN);
    assert_ptr_equal(ev[0].data, &tag);
    /* Level-triggered: still readable until read. */
    assert_int_equal(sk_selector_wait(sel, ev, 4, 0), 1);
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_int_equal(sk_selector_wait(sel, ev, 4, 0), 0);

    assert_int_equal(sk_selector_remove(sel, p[0]), 0);
    sk_selector_close(sel);
    close_pair(p);
}

static void test_socketpair_writable_and_readable(void **state)
{
    (void)state;
    sk_selector *sel = open_selector();
    int sp[2];
    make_socketpair(sp);
    int a, b;
    assert_int_equal(sk_selector_add(sel, sp[0], SK_POLLIN | SK_POLLOUT, &a), 0);
    assert_int_equal(sk_selector_add(sel, sp[1], SK_POLLIN, &b), 0);
    sk_selector_event ev[4];
    assert_int_equal(sk_selector_wait(sel, ev, 4, 1000), 1);
    assert_int_equal(ev[0].fd, sp[0]);
    assert_int_equal(ev[0].events, SK_POLLOUT);
    assert_ptr_equal(ev[0].data, &a);

    assert_int_equal(send(sp[0], "hi", 2, MSG_NOSIGNAL), 2);
    assert_int_equal(sk_selector_wait(sel, ev, 4, 1000), 2);
    bool seen_b = false;
    for (int i = 0; i < 2; i++) {
        if (ev[i].fd == sp[1]) {
            assert_int_equal(ev[i].events, SK_POLLIN);
            assert_ptr_equal(ev[i].data, &b);
            seen_b = true;
        }
    }
    assert_true(seen_b);
    sk_selector_close(sel); /* with fds still registered: not closed */
    assert_int_equal(send(sp[1], "ok", 2, MSG_NOSIGNAL), 2);
    close_pair(sp);
}

/* A peer's close reads as SK_POLLIN (the read then sees EOF). */
static void test_peer_close_is_readable(void **state)
{
    (void)state;
    sk_selector *sel = open_selector();
    int sp[2];
    make_socketpair(sp);
    assert_int_equal(sk_selector_add(sel, sp[0], SK_POLLIN, NULL), 0);
    assert_int_equal(shutdown(sp[1], SHUT_WR), 0);
    sk_selector_event ev[2];
    assert_int_equal(sk_selector_wait(sel, ev, 2, 1000), 1);
    assert_true(ev[0].events & SK_POLLIN);
    char c;
    assert_int_equal(read(sp[0], &c, 1), 0);
    sk_selector_close(sel);
    close_pair(sp);
}

/* ---- modify / remove --------------------------------------------------- */

static void test_modify_events_and_data(void **state)
{
    (void)state;
    sk_selector *sel = open_selector();
    int sp[2];
    make_socketpair(sp);
    int a, b, c;
    sk_selector_event ev[2];
    assert_int_equal(sk_selector_add(sel, sp[0], SK_POLLIN, &a), 0);
    assert_int_equal(sk_selector_wait(sel, ev, 2, 0), 0); /* not readable */

    assert_int_equal(sk_selector_modify(sel, sp[0], SK_POLLOUT, &b), 0);
    assert_int_equal(sk_selector_wait(sel, ev, 2, 1000), 1);
    assert_int_equal(ev[0].events, SK_POLLOUT);
    assert_ptr_equal(ev[0].data, &b);

    /* Same events, new data: the data comes back. */
    assert_int_equal(sk_selector_modify(sel, sp[0], SK_POLLOUT, &c), 0);
    assert_int_equal(sk_selector_wait(sel, ev, 2, 1000), 1);
    assert_ptr_equal(ev[0].data, &c);

    /* Events 0 holds the slot but waits for nothing. */
    assert_int_equal(send(sp[1], "x", 1, MSG_NOSIGNAL), 1);
    assert_int_equal(sk_selector_modify(sel, sp[0], 0, &c), 0);
    assert_int_equal(sk_selector_wait(sel, ev, 2, 20), 0);
    assert_int_equal(sk_selector_count(sel), 1);
    assert_int_equal(sk_selector_add(sel, sp[0], SK_POLLIN, &a), -EEXIST);

    assert_int_equal(sk_selector_modify(sel, sp[0], SK_POLLIN, &a), 0);
    assert_int_equal(sk_selector_wait(sel, ev, 2, 1000), 1);
    assert_int_equal(ev[0].events, SK_POLLIN);
    assert_ptr_equal(ev[0].data, &a);
    sk_selector_close(sel);
    close_pair(sp);
}

static void test_add_with_no_events(void **state)
{
    (void)state;
    sk_selector *sel = open_selector();
    int p[2];
    make_pipe(p);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(sk_selector_add(sel, p[0], 0, NULL), 0);
    sk_selector_event ev[2];
    assert_int_equal(sk_selector_wait(sel, ev, 2, 20), 0);
    assert_int_equal(sk_selector_modify(sel, p[0], SK_POLLIN, p), 0);
    assert_int_equal(sk_selector_wait(sel, ev, 2, 1000), 1);
    assert_ptr_equal(ev[0].data, p);
    sk_selector_close(sel);
    close_pair(p);
}

static void test_remove_and_errors(void **state)
{
    (void)state;
    sk_selector *sel = open_selector();
    int p[2];
    make_pipe(p);
    sk_selector_event ev[2];
    assert_int_equal(sk_selector_add(sel, -1, SK_POLLIN, NULL), -EBADF);
    assert_int_equal(sk_selector_modify(sel, p[0], SK_POLLIN, NULL), -ENOENT);
    assert_int_equal(sk_selector_remove(sel, p[0]), -ENOENT);
    assert_int_equal(sk_selector_remove(sel, 100000), -ENOENT);
    assert_int_equal(sk_selector_remove(sel, -3), -ENOENT);
    assert_int_equal(sk_selector_wait(sel, ev, 0, 0), -EINVAL);

    assert_int_equal(sk_selector_add(sel, p[0], SK_POLLIN, NULL), 0);
    assert_int_equal(sk_selector_add(sel, p[1], SK_POLLOUT, NULL), 0);
    assert_int_equal(sk_selector_add(sel, p[0], SK_POLLIN, NULL), -EEXIST);
    assert_int_equal(sk_selector_count(sel), 2);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(sk_selector_remove(sel, p[0]), 0);
    assert_int_equal(sk_selector_remove(sel, p[0]), -ENOENT);
    assert_int_equal(sk_selector_count(sel), 1);
    assert_int_equal(sk_selector_wait(sel, ev, 2, 1000), 1); /* only p[1] */
    assert_int_equal(ev[0].fd, p[1]);
    assert_int_equal(sk_selector_remove(sel, p[1]), 0);
    assert_int_equal(sk_selector_count(sel), 0);
    assert_int_equal(sk_selector_wait(sel, ev, 2, 0), 0);
    /* Removed fds may be added again. */
    assert_int_equal(sk_selector_add(sel, p[0], SK_POLLIN, p), 0);
    assert_int_equal(sk_selector_wait(sel, ev, 2, 1000), 1);
    assert_ptr_equal(ev[0].data, p);
    sk_selector_close(sel);
    close_pair(p);
}

/* Modifying to the events already registered makes no system call. There
 * is no syscall counter to read, so this is shown under epoll (the only
 * backend whose modify is a system call): once the fd is closed behind the
 * selector's back, epoll_ctl would fail with EBADF — an unchanged modify
 * still succeeds and only updates the data, a changed one reaches the
 * kernel and fails. poll and select never make a system call to modify. */
static void test_modify_unchanged_makes_no_syscall(void **state)
{
    (void)state;
    sk_selector *sel = open_selector();
    int sp[2];
    make_socketpair(sp);
    int a, b;
    sk_selector_event ev[2];
    assert_int_equal(sk_selector_add(sel, sp[0], SK_POLLOUT, &a), 0);
    assert_int_equal(sk_selector_modify(sel, sp[0], SK_POLLOUT, &b), 0);
    assert_int_equal(sk_selector_wait(sel, ev, 2, 1000), 1);
    assert_ptr_equal(ev[0].data, &b);
    if (backend == SK_SELECTOR_EPOLL) {
        close(sp[0]); /* behind the selector's back: epoll drops it */
        assert_int_equal(sk_selector_modify(sel, sp[0], SK_POLLOUT, &a), 0);
        assert_int_equal(sk_selector_modify(sel, sp[0], SK_POLLIN, &a), -EBADF);
        assert_int_equal(sk_selector_remove(sel, sp[0]), 0);
        close(sp[1]);
    } else {
        close_pair(sp);
    }
    sk_selector_close(sel);
}

/* ---- timeouts --------------------------------------------------------- */

static void test_wait_timeouts(void **state)
{
    (void)state;
    sk_selector *sel = open_selector();
    int p[2];
    make_pipe(p);
    assert_int_equal(sk_selector_add(sel, p[0], SK_POLLIN, NULL), 0);
    sk_selector_event ev[2];
    int64_t t0 = now_ms();
    assert_int_equal(sk_selector_wait(sel, ev, 2, 0), 0);
    assert_true(now_ms() - t0 < 1000);
    t0 = now_ms();
    assert_int_equal(sk_selector_wait(sel, ev, 2, 50), 0);
    int64_t waited = now_ms() - t0;
    assert_true(waited >= 45);    /* it did wait */
    assert_true(waited < 10000);  /* and came back */
    sk_selector_close(sel);
    close_pair(p);
}

/* ---- limits ----------------------------------------------------------- */

/* select refuses an fd >= FD_SETSIZE with -EINVAL, before touching any
 * fd_set (ASan would see an overflow); the others accept it. */
static void test_fd_above_fd_setsize(void **state)
{
    (void)state;
    int high = FD_SETSIZE + 5;
    if (!raise_nofile((rlim_t)high + 10))
        skip();
    int sp[2];
    make_socketpair(sp);
    assert_int_equal(dup3(sp[0], high, O_CLOEXEC), high);
    sk_selector *sel = open_selector();
    int low;
    sk_selector_event ev[2];
    assert_int_equal(sk_selector_add(sel, sp[1], SK_POLLOUT, &low), 0);
    int rc = sk_selector_add(sel, high, SK_POLLIN | SK_POLLOUT, &high);
    if (backend == SK_SELECTOR_SELECT) {
        assert_int_equal(rc, -EINVAL);
        assert_int_equal(sk_selector_count(sel), 1);
        assert_int_equal(sk_selector_modify(sel, high, SK_POLLIN, NULL), -ENOENT);
        assert_int_equal(sk_selector_remove(sel, high), -ENOENT);
        /* The selector still works. */
        assert_int_equal(sk_selector_wait(sel, ev, 2, 1000), 1);
        assert_ptr_equal(ev[0].data, &low);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(sk_selector_remove(sel, sp[1]), 0);
        assert_int_equal(sk_selector_wait(sel, ev, 2, 1000), 1);
        assert_int_equal(ev[0].fd, high);
        assert_ptr_equal(ev[0].data, &high);
        assert_int_equal(sk_selector_remove(sel, high), 0);
    }
    sk_selector_close(sel);
    close(high);
    close_pair(sp);
}

#define MANY 500

/* 500 pipes registered: half made readable, every one reported with its
 * own data; with room for only 16 per wait, all are still reported (none
 * starved) as they are drained. */
static void test_500_fds(void **state)
{
    (void)state;
    if (!raise_nofile(2 * MANY + 64))
        skip();
    static int pipes[MANY][2];
    sk_selector *sel = open_selector();
    for (int i = 0; i < MANY; i++) {
        make_pipe(pipes[i]);
        assert_int_equal(sk_selector_add(sel, pipes[i][0], SK_POLLIN, pipes[i]), 0);
    }
    assert_int_equal(sk_selector_count(sel), MANY);
    for (int i = 0; i < MANY; i += 2)
        assert_int_equal(write(pipes[i][1], "x", 1), 1);

    static sk_selector_event ev[MANY];
    assert_int_equal(sk_selector_wait(sel, ev, MANY, 1000), MANY / 2);
    for (int i = 0; i < MANY / 2; i++) {
        int *pipe_of = ev[i].data;
        assert_int_equal(pipe_of[0], ev[i].fd);
        assert_int_equal((pipe_of - &pipes[0][0]) / 2 % 2, 0); /* an even one */
    }
    /* Drain through a small window. */
    int drained = 0;
    for (int round = 0; round < 100 && drained < MANY / 2; round++) {
        int n = sk_selector_wait(sel, ev, 16, 1000);
        assert_true(n > 0 && n <= 16);
        for (int i = 0; i < n; i++) {
            char c;
            assert_int_equal(read(ev[i].fd, &c, 1), 1);
            drained++;
        }
    }
    assert_int_equal(drained, MANY / 2);
    assert_int_equal(sk_selector_wait(sel, ev, MANY, 0), 0);
    /* Remove in an order that exercises swap-removal. */
    for (int i = 0; i < MANY; i += 3)
        assert_int_equal(sk_selector_remove(sel, pipes[i][0]), 0);
    assert_int_equal(write(pipes[MANY - 1][1], "y", 1), 1);
    assert_int_equal(sk_selector_wait(sel, ev, MANY, 1000), 1);
    assert_ptr_equal(ev[0].data, pipes[MANY - 1]);
    sk_selector_close(sel);
    for (int i = 0; i < MANY; i++)
        close_pair(pipes[i]);
}

static void test_500_fds_except_select(void **state)
{
    if (backend == SK_SELECTOR_SELECT)
        skip(); /* 1,000 fds would reach FD_SETSIZE */
    test_500_fds(state);
}

#define SELECTOR_TESTS                                      \
    {                                                       \
        cmocka_unit_test(test_pipe_readable),               \
        cmocka_unit_test(test_socketpair_writable_and_readable), \
        cmocka_unit_test(test_peer_close_is_readable),      \
        cmocka_unit_test(test_modify_events_and_data),      \
        cmocka_unit_test(test_add_with_no_events),          \
        cmocka_unit_test(test_remove_and_errors),           \
        cmocka_unit_test(test_modify_unchanged_makes_no_syscall), \
        cmocka_unit_test(test_wait_timeouts),               \
        cmocka_unit_test(test_fd_above_fd_setsize),         \
        cmocka_unit_test(test_500_fds_except_select),       \
    }

int main(void)
{
    const struct CMUnitTest names[] = {cmocka_unit_test(test_backend_names)};
    const struct CMUnitTest epoll_tests[] = SELECTOR_TESTS;
    const struct CMUnitTest poll_tests[] = SELECTOR_TESTS;
    const struct CMUnitTest select_tests[] = SELECTOR_TESTS;
    int failed = cmocka_run_group_tests_name("names", names, NULL, NULL);
    failed += cmocka_run_group_tests_name("epoll", epoll_tests, setup_epoll, NULL);
    failed += cmocka_run_group_tests_name("poll", poll_tests, setup_poll, NULL);
    failed += cmocka_run_group_tests_name("select", select_tests, setup_select, NULL);
    return failed;
}
