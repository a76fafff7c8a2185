/* Unit tests for the service API that lets a service act outside its own
 * input: sk_conn_wake / on_wake from another thread (coalesced, and racing
 * with close), sk_conn_pause / sk_conn_resume, sk_conn_set_timeout,
 * sk_conn_pending and on_drain. A small test service runs under each
 * model that serves connections in this process; a real client socket
 * checks what a user would see. Loopback, ephemeral ports, bounded waits. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sockkit/addr.h"
#include "sockkit/server.h"
#include "sockkit/service.h"
#include "server_fixture.h"

enum { WAIT_MS = 10000, BIG = 32 * 1024 * 1024 };

/* ---- the test service -------------------------------------------------
 * Input bytes are echoed, except commands: 'P' pause, 'T' arm a 200 ms
 * timeout, 't' cancel it, 'D' write BIG bytes and note sk_conn_pending.
 * on_wake resumes a paused connection and writes "W\n"; on_drain writes
 * "drained\n" once after 'D'. */

typedef struct hub {
    pthread_mutex_t lock;
    sk_conn *conn;            /* the open connection, NULL when none */
    atomic_int wakes_run;
    atomic_bool wake_on_test_thread;
    pthread_t test_thread;
    atomic_size_t pending_after_big;
} hub;

typedef struct conn_state {
    bool paused;
    bool big_sent;
    bool drained;
} conn_state;

static int api_open(sk_conn *c, void *state)
{
    (void)state;
    hub *h = sk_conn_context(c);
    pthread_mutex_lock(&h->lock);
    h->conn = c;
    pthread_mutex_unlock(&h->lock);
    return 0;
}

static void api_close(sk_conn *c, void *state)
{
    (void)state;
    hub *h = sk_conn_context(c);
    pthread_mutex_lock(&h->lock);
    if (h->conn == c)
        h->conn = NULL;
    pthread_mutex_unlock(&h->lock);
}

static int write_big(sk_conn *c, conn_state *st)
{
    static const char chunk[64 * 1024];
    for (size_t done = 0; done < BIG; done += sizeof chunk) {
        int rc = sk_conn_write(c, chunk, sizeof chunk);
        if (rc < 0)
            return rc;
    }
    st->big_sent = true;
    hub *h = sk_conn_context(c);
    atomic_store(&h->pending_after_big, sk_conn_pending(c));
    return 0;
}

static int api_data(sk_conn *c, void *state, const uint8_t *data, size_t len)
{
    conn_state *st = state;
    for (size_t i = 0; i < len; i++) {
        int rc = 0;
        switch (data[i]) {
        case 'P': sk_conn_pause(c); st->paused = true; break;
        case 'T': rc = sk_conn_set_timeout(c, 200); break;
        case 't': rc = sk_conn_set_timeout(c, 0); break;
        case 'D': rc = write_big(c, st); break;
        case 'A':
            rc = write_big(c, st);
            sk_conn_abort(c);
            return rc;
        default: rc = sk_conn_write(c, &data[i], 1); break;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int api_wake(sk_conn *c, void *state)
{
    conn_state *st = state;
    hub *h = sk_conn_context(c);
    atomic_fetch_add(&h->wakes_run, 1);
    if (pthread_equal(pthread_self(), h->test_thread))
        atomic_store(&h->wake_on_test_thread, true);
    if (st->paused) {
        st->paused = false;
        sk_conn_resume(c);
    }
    return sk_conn_write(c, "W\n", 2);
}

static int api_drain(sk_conn *c, void *state)
{
    conn_state *st = state;
    if (!st->big_sent || st->drained || sk_conn_pending(c) > 0)
        return 0;
    st->drained = true;
    return sk_conn_write(c, "drained\n", 8);
}

static const sk_service api_service = {
    .name = "apitest",
    .transports = SK_SERVICE_STREAM,
    .state_size = sizeof(conn_state),
    .on_open = api_open,
    .on_data = api_data,
    .on_close = api_close,
    .on_drain = api_drain,
    .on_wake = api_wake,
};

/* ---- fixture ---------------------------------------------------------- */

typedef struct fixture {
    sk_model model;
    hub hub;
    sk_service service;
    sk_server *srv;
    struct sockaddr_in addr;
} fixture;

static void quiet_log(void *user, int level, const char *line)
{
    (void)user;
    (void)level;
    (void)line;
}

static int start(fixture *f)
{
    pthread_mutex_init(&f->hub.lock, NULL);
    f->hub.test_thread = pthread_self();
    f->service = api_service;
    f->service.context = &f->hub;
    sk_server_config cfg = {.model = f->model, .workers = 2, .log = quiet_log};
    return loopback_server_start(&f->srv, &cfg, &f->service, &f->addr) < 0 ? -1 : 0;
}

static int setup_model(void **state, sk_model model)
{
    fixture *f = calloc(1, sizeof *f);
    f->model = model;
    *state = f;
    return start(f);
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->srv) {
        sk_server_shutdown(f->srv, 0);
        sk_server_destroy(f->srv);
    }
    pthread_mutex_destroy(&f->hub.lock);
    free(f);
    return 0;
}

#define SETUP(name, model) \
    static int setup_##name(void **state) { return setup_model(state, model); }
SETUP(thread, SK_MODEL_THREAD)
SETUP(pool, SK_MODEL_POOL)
SETUP(iterative, SK_MODEL_ITERATIVE)
SETUP(poll, SK_MODEL_POLL)
SETUP(select, SK_MODEL_SELECT)
SETUP(epoll, SK_MODEL_EPOLL)
SETUP(reactors, SK_MODEL_REACTORS)
SETUP(uring, SK_MODEL_URING)

static bool event_model(const fixture *f)
{
    return f->model == SK_MODEL_POLL || f->model == SK_MODEL_SELECT ||
           f->model == SK_MODEL_EPOLL || f->model == SK_MODEL_REACTORS ||
           f->model == SK_MODEL_URING;
}

/* ---- client side ------------------------------------------------------- */

/* The connection the server sees, once it has opened it. */
static sk_conn *wait_conn(fixture *f)
{
    for (int64_t end = monotonic_ms() + WAIT_MS; monotonic_ms() < end; usleep(1000)) {
        pthread_mutex_lock(&f->hub.lock);
        sk_conn *c = f->hub.conn;
        pthread_mutex_unlock(&f->hub.lock);
        if (c)
            return c;
    }
    fail_msg("the server never opened the connection");
    return NULL;
}

/* Wake the open connection (under the hub's lock, as a real service would). */
static int wake_conn(fixture *f)
{
    pthread_mutex_lock(&f->hub.lock);
    int rc = f->hub.conn ? sk_conn_wake(f->hub.conn) : -ENOTCONN;
    pthread_mutex_unlock(&f->hub.lock);
    return rc;
}

/* ---- tests --------------------------------------------------------------- */

/* A wake from this (foreign) thread runs on_wake on the server's thread;
 * ten thousand wakes in a burst coalesce into far fewer on_wake calls. */
static void test_wake_from_other_thread(void **state)
{
    fixture *f = *state;
    int fd = loopback_connect(&f->addr, WAIT_MS);
    wait_conn(f);
    assert_int_equal(wake_conn(f), 0);
    loopback_expect(fd, "W\n");
    assert_false(atomic_load(&f->hub.wake_on_test_thread));
    for (int i = 0; i < 10000; i++)
        assert_int_equal(wake_conn(f), 0);
    loopback_send(fd, "x"); /* the echo comes before or after the burst's "W\n"s */
    int runs = 0;
    bool echoed = false;
    char c;
    while (!echoed || runs == 0) {
        assert_int_equal(loopback_read_exactly(fd, &c, 1), 1);
        runs += c == 'W';
        echoed |= c == 'x';
    }
    assert_true(atomic_load(&f->hub.wakes_run) <= 10001);
    close(fd);
}

/* Paused, input waits in the kernel; the wake resumes and it arrives. */
static void test_pause_resume(void **state)
{
    fixture *f = *state;
    int fd = loopback_connect(&f->addr, WAIT_MS);
    wait_conn(f);
    loopback_send(fd, "aP");
    loopback_expect(fd, "a");
    loopback_send(fd, "bcd");
    struct timeval tv = {0, 300 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[8];
    assert_true(recv(fd, buf, sizeof buf, 0) < 0); /* nothing echoed while paused */
    tv = (struct timeval){WAIT_MS / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(wake_conn(f), 0);
    loopback_expect(fd, "W\nbcd");
    close(fd);
}

/* 'T' arms 200 ms: the server closes the connection; 't' cancels it. */
static void test_set_timeout(void **state)
{
    fixture *f = *state;
    int fd = loopback_connect(&f->addr, WAIT_MS);
    loopback_send(fd, "Tt1");
    loopback_expect(fd, "1");
    usleep(400 * 1000);
    loopback_send(fd, "2"); /* cancelled: still served */
    loopback_expect(fd, "2");
    int64_t t0 = monotonic_ms();
    loopback_send(fd, "T");
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
    assert_true(monotonic_ms() - t0 < WAIT_MS);
    close(fd);
}

/* 32 MiB written at once queue in event models (sk_conn_pending > 0), and
 * on_drain runs once they are gone: "drained\n" follows the last byte. */
static void test_pending_and_drain(void **state)
{
    fixture *f = *state;
    int fd = loopback_connect(&f->addr, WAIT_MS);
    loopback_send(fd, "D");
    char *buf = malloc(BIG);
    assert_int_equal(loopback_read_exactly(fd, buf, BIG), BIG);
    free(buf);
    if (event_model(f)) {
        assert_true(atomic_load(&f->hub.pending_after_big) > 0);
        loopback_expect(fd, "drained\n");
    } else {
        assert_int_equal(atomic_load(&f->hub.pending_after_big), 0);
    }
    close(fd);
}

/* 'A' queues 32 MiB and aborts: event models drop what is queued and
 * close at once; blocking models have handed everything over already. */
static void test_abort_drops_queue(void **state)
{
    fixture *f = *state;
    int fd = loopback_connect(&f->addr, WAIT_MS);
    loopback_send(fd, "A");
    char *buf = malloc(1 << 20);
    size_t got = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, 1 << 20, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            break;
        assert_true(n > 0); /* a timeout fails here */
        got += (size_t)n;
    }
    free(buf);
    size_t dropped = atomic_load(&f->hub.pending_after_big); /* queued at the abort */
    if (event_model(f))
        assert_true(got <= BIG - dropped); /* a fast client may leave nothing queued */
    else
        assert_int_equal(got, BIG);
    close(fd);
}

/* Wakes racing with closes: a thread wakes the open connection in a loop
 * while clients come and go; no wake touches a closed connection
 * (ASan/TSan builds check). */
typedef struct racer {
    fixture *f;
    atomic_bool stop;
} racer;

static void *wake_loop(void *arg)
{
    racer *r = arg;
    while (!atomic_load(&r->stop))
        wake_conn(r->f);
    return NULL;
}

static void test_wake_races_close(void **state)
{
    fixture *f = *state;
    racer r = {.f = f};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wake_loop, &r), 0);
    for (int i = 0; i < 100; i++) {
        int fd = loopback_connect(&f->addr, WAIT_MS);
        loopback_send(fd, "x");
        char c = 0;
        do
            assert_int_equal(loopback_read_exactly(fd, &c, 1), 1);
        while (c != 'x');
        close(fd);
    }
    atomic_store(&r.stop, true);
    pthread_join(t, NULL);
}

#define MODEL_TESTS(name)                                                              \
    cmocka_unit_test_setup_teardown(test_wake_from_other_thread, setup_##name, teardown), \
    cmocka_unit_test_setup_teardown(test_pause_resume, setup_##name, teardown),        \
    cmocka_unit_test_setup_teardown(test_set_timeout, setup_##name, teardown),         \
    cmocka_unit_test_setup_teardown(test_pending_and_drain, setup_##name, teardown),   \
    cmocka_unit_test_setup_teardown(test_abort_drops_queue, setup_##name, teardown),   \
    cmocka_unit_test_setup_teardown(test_wake_races_close, setup_##name, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        MODEL_TESTS(epoll), MODEL_TESTS(reactors), MODEL_TESTS(poll), MODEL_TESTS(select),
        MODEL_TESTS(thread), MODEL_TESTS(pool), MODEL_TESTS(iterative), MODEL_TESTS(uring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
