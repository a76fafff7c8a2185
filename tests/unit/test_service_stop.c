/* sk_service.on_stop: called once per service when a server shuts down,
 * whatever the model, even with two listeners of the same service; and in
 * the fork and prefork models also in every serving process before it
 * exits (seen through a pipe the processes inherit). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <unistd.h>

#include "server_fixture.h"

enum { WAIT_MS = 10000 };

/* ThreadSanitizer does not follow a multi-threaded process across fork():
 * the process models are left to the plain and ASan runs. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

/* The service's context: in-process calls, and a pipe every process writes
 * one byte to per call. */
typedef struct stop_log {
    atomic_int calls;
    int pipe_r, pipe_w;
} stop_log;

static void on_stop(void *context)
{
    stop_log *log = context;
    atomic_fetch_add(&log->calls, 1);
    ssize_t n;
    do
        n = write(log->pipe_w, "s", 1);
    while (n < 0 && errno == EINTR);
}

static int echo_data(sk_conn *c, void *state, const uint8_t *data, size_t len)
{
    (void)state;
    return sk_conn_write(c, data, len);
}

/* Bytes readable on the pipe within ms milliseconds, read and counted. */
static int pipe_bytes(const stop_log *log, int ms)
{
    int total = 0;
    char buf[64];
    for (int64_t end = monotonic_ms() + ms; monotonic_ms() < end;) {
        struct pollfd p = {.fd = log->pipe_r, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t n = read(log->pipe_r, buf, sizeof buf);
        if (n > 0)
            total += (int)n;
    }
    return total;
}

/* A server of model with two listeners of one echo service; one echo
 * through the first; then shutdown. Returns the on_stop calls seen in
 * this process; *in_all the bytes every process wrote. -1: the model is
 * not available here. */
static int run(sk_model model, int *in_all)
{
    stop_log log = {.calls = 0};
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    log.pipe_r = fds[0];
    log.pipe_w = fds[1];
    sk_service svc = {.name = "echo", .transports = SK_SERVICE_STREAM, .context = &log,
                      .on_data = echo_data, .on_stop = on_stop};
    sk_server_config cfg = {.model = model, .workers = 2};
    sk_server *srv;
    struct sockaddr_in addr;
    assert_int_equal(sk_server_create(&srv, &cfg), 0);
    sk_endpoint ep;
    assert_int_equal(sk_endpoint_parse("tcp:127.0.0.1:0", &ep, NULL, 0), 0);
    assert_true(sk_server_add_listener(srv, &svc, &ep, SOCK_STREAM, NULL, 0) >= 0);
    assert_true(sk_server_add_listener(srv, &svc, &ep, SOCK_STREAM, NULL, 0) >= 0);
    int rc = sk_server_start(srv);
    if (rc < 0) {
        sk_server_destroy(srv);
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    sk_sockaddr sa;
    assert_int_equal(sk_server_listener_address(srv, 0, &sa), 0);
    memcpy(&addr, &sa.ss, sizeof addr);
    int fd = loopback_connect(&addr, WAIT_MS);
    loopback_send(fd, "x");
    char c = 0;
    assert_int_equal(loopback_read_exactly(fd, &c, 1), 1);
    assert_int_equal(c, 'x');
    assert_int_equal(atomic_load(&log.calls), 0); /* not while serving */
    shutdown(fd, SHUT_RDWR); /* a forked server process holds a copy of fd too */
    close(fd);
    sk_server_shutdown(srv, 1000);
    sk_server_destroy(srv);
    *in_all = pipe_bytes(&log, 300);
    close(fds[0]);
    close(fds[1]);
    return atomic_load(&log.calls);
}

static void check_in_process(sk_model model)
{
    int all = 0;
    int calls = run(model, &all);
    if (calls < 0)
        skip();
    assert_int_equal(calls, 1);
    assert_int_equal(all, 1);
}

static void test_epoll(void **state) { (void)state; check_in_process(SK_MODEL_EPOLL); }
static void test_reactors(void **state) { (void)state; check_in_process(SK_MODEL_REACTORS); }
static void test_poll(void **state) { (void)state; check_in_process(SK_MODEL_POLL); }
static void test_select(void **state) { (void)state; check_in_process(SK_MODEL_SELECT); }
static void test_thread(void **state) { (void)state; check_in_process(SK_MODEL_THREAD); }
static void test_pool(void **state) { (void)state; check_in_process(SK_MODEL_POOL); }
static void test_iterative(void **state) { (void)state; check_in_process(SK_MODEL_ITERATIVE); }
static void test_uring(void **state) { (void)state; check_in_process(SK_MODEL_URING); }

/* fork: the connection's process calls it before it exits, then the
 * server at shutdown. */
static void test_fork(void **state)
{
    (void)state;
    if (UNDER_TSAN)
        skip();
    int all = 0;
    assert_int_equal(run(SK_MODEL_FORK, &all), 1);
    assert_int_equal(all, 2);
}

/* prefork with 2 workers: each worker process before it exits, then the
 * server. */
static void test_prefork(void **state)
{
    (void)state;
    if (UNDER_TSAN)
        skip();
    int all = 0;
    assert_int_equal(run(SK_MODEL_PREFORK, &all), 1);
    assert_int_equal(all, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoll),    cmocka_unit_test(test_reactors),
        cmocka_unit_test(test_poll),     cmocka_unit_test(test_select),
        cmocka_unit_test(test_thread),   cmocka_unit_test(test_pool),
        cmocka_unit_test(test_iterative), cmocka_unit_test(test_uring),
        cmocka_unit_test(test_fork),     cmocka_unit_test(test_prefork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
