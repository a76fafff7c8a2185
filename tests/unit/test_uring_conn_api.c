/* Unit tests for the service API beyond input under the uring model:
 * sk_conn_wake / on_wake (from another thread, coalesced, re-queued from
 * on_wake, racing with close), sk_conn_pause / sk_conn_resume (no on_data
 * meanwhile, no byte lost), sk_conn_set_timeout, sk_conn_pending and
 * on_drain, a connection kept past its peer's EOF by on_eof, and shutdown
 * ending connections that wait for nothing. A test service with one mode
 * per test runs on real sockets. Skipped where io_uring is unavailable.
 * Loopback and ephemeral ports only; every wait is bounded. */
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

enum { WAIT_MS = 10000, MiB = 1024 * 1024, BIG = 32 * MiB, MAX_CONNS = 64 };

enum mode {
    MODE_WAKE,     /* on_wake writes "woken N\n" and wakes itself until N = 3 */
    MODE_COALESCE, /* 'B' blocks the ring's thread until the test releases it */
    MODE_PAUSE,    /* pauses at the first input, on_wake resumes; counts and checks bytes */
    MODE_TIMEOUT,  /* 300 ms deadline, renewed by input; "cancel" cancels it */
    MODE_DRAIN,    /* on_open writes BIG bytes; on_drain notes what is pending */
    MODE_RACE,     /* on_wake writes "w" */
    MODE_EOF_WAKE, /* on_eof keeps the connection; on_wake writes "late\n" and closes */
};

/* Shared by the test and the service (sk_service.context). */
typedef struct world {
    enum mode mode;
    pthread_mutex_t lock; /* guards conns (as a real service would) */
    pthread_cond_t cond;
    sk_conn *conns[MAX_CONNS];
    atomic_int opens, closes, wakes, drains, data_calls, eofs;
    atomic_bool wake_off_thread;  /* an on_wake ran on another thread than on_open */
    atomic_bool ring_blocked, release_ring;
    atomic_bool paused, data_while_paused, bytes_bad;
    atomic_ullong received;
    atomic_size_t pending_at_open, pending_at_drain;
    pthread_t ring_thread;
    char log[16384];              /* the server's log lines (lock) */
    size_t loglen;
} world;

typedef struct conn_state {
    int wakes;
} conn_state;

static uint8_t pattern(uint64_t pos)
{
    return (uint8_t)(pos * 7 + (pos >> 8));
}

/* ---- the test service ------------------------------------------------ */

static void conns_add(world *w, sk_conn *c)
{
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < MAX_CONNS; i++)
        if (!w->conns[i]) {
            w->conns[i] = c;
            break;
        }
    w->ring_thread = pthread_self();
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static int t_open(sk_conn *c, void *state)
{
    (void)state;
    world *w = sk_conn_context(c);
    conns_add(w, c);
    atomic_fetch_add(&w->opens, 1);
    if (w->mode == MODE_TIMEOUT)
        return sk_conn_set_timeout(c, 300);
    if (w->mode == MODE_DRAIN) {
        uint8_t *big = malloc(BIG);
        if (!big)
            return -ENOMEM;
        for (size_t i = 0; i < BIG; i++)
            big[i] = pattern(i);
        int rc = sk_conn_write(c, big, BIG);
        free(big);
        atomic_store(&w->pending_at_open, sk_conn_pending(c));
        return rc;
    }
    return 0;
}

static void block_ring(world *w)
{
    atomic_store(&w->ring_blocked, true);
    for (int i = 0; i < WAIT_MS && !atomic_load(&w->release_ring); i++)
        usleep(1000);
}

static int pause_data(sk_conn *c, world *w, const uint8_t *data, size_t len)
{
    if (atomic_load(&w->paused))
        atomic_store(&w->data_while_paused, true);
    uint64_t at = atomic_fetch_add(&w->received, len);
    for (size_t i = 0; i < len; i++)
        if (data[i] != pattern(at + i))
            atomic_store(&w->bytes_bad, true);
    if (at == 0) { /* the first input: pause */
        atomic_store(&w->paused, true);
        sk_conn_pause(c);
    }
    return 0;
}

static int t_data(sk_conn *c, void *state, const uint8_t *data, size_t len)
{
    (void)state;
    world *w = sk_conn_context(c);
    atomic_fetch_add(&w->data_calls, 1);
    switch (w->mode) {
    case MODE_COALESCE:
        if (memchr(data, 'B', len))
            block_ring(w);
        return sk_conn_write(c, data, len);
    case MODE_PAUSE:
        return pause_data(c, w, data, len);
    case MODE_TIMEOUT:
        if (len == 6 && memcmp(data, "cancel", 6) == 0) {
            int rc = sk_conn_set_timeout(c, 0);
            return rc < 0 ? rc : sk_conn_write(c, data, len);
        }
        if (sk_conn_set_timeout(c, 300) < 0)
            return -EIO;
        return sk_conn_write(c, data, len);
    default:
        return sk_conn_write(c, data, len);
    }
}

static int t_eof(sk_conn *c, void *state)
{
    (void)state;
    world *w = sk_conn_context(c);
    atomic_fetch_add(&w->eofs, 1);
    if (w->mode == MODE_EOF_WAKE)
        return 0; /* kept: on_wake writes and closes */
    if (w->mode == MODE_PAUSE) {
        char line[64];
        int n = snprintf(line, sizeof line, "%llu %d\n", (unsigned long long)atomic_load(&w->received),
                         atomic_load(&w->bytes_bad) ? 1 : 0);
        int rc = sk_conn_write(c, line, (size_t)n);
        if (rc < 0)
            return rc;
    }
    sk_conn_close(c);
    return 0;
}

static int t_wake(sk_conn *c, void *state)
{
    conn_state *st = state;
    world *w = sk_conn_context(c);
    atomic_fetch_add(&w->wakes, 1);
    pthread_mutex_lock(&w->lock);
    bool same = pthread_equal(pthread_self(), w->ring_thread);
    pthread_mutex_unlock(&w->lock);
    if (!same)
        atomic_store(&w->wake_off_thread, true);
    char line[32];
    switch (w->mode) {
    case MODE_WAKE: {
        int n = snprintf(line, sizeof line, "woken %d\n", ++st->wakes);
        int rc = sk_conn_write(c, line, (size_t)n);
        if (rc == 0 && st->wakes < 3)
            rc = sk_conn_wake(c); /* from its own on_wake: runs again */
        return rc;
    }
    case MODE_COALESCE:
        return sk_conn_write(c, "w\n", 2);
    case MODE_PAUSE:
        atomic_store(&w->paused, false);
        sk_conn_resume(c);
        return 0;
    case MODE_EOF_WAKE: {
        int rc = sk_conn_write(c, "late\n", 5);
        sk_conn_close(c);
        return rc;
    }
    default:
        return sk_conn_write(c, "w", 1);
    }
}

static int t_drain(sk_conn *c, void *state)
{
    (void)state;
    world *w = sk_conn_context(c);
    if (w->mode != MODE_DRAIN)
        return 0;
    if (atomic_fetch_add(&w->drains, 1) == 0) {
        atomic_store(&w->pending_at_drain, sk_conn_pending(c));
        return sk_conn_write(c, "END", 3);
    }
    return 0;
}

static void t_close(sk_conn *c, void *state)
{
    (void)state;
    world *w = sk_conn_context(c);
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < MAX_CONNS; i++)
        if (w->conns[i] == c)
            w->conns[i] = NULL;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    atomic_fetch_add(&w->closes, 1);
}

static const sk_service test_service = {
    .name = "apitest",
    .transports = SK_SERVICE_STREAM,
    .state_size = sizeof(conn_state),
    .on_open = t_open,
    .on_data = t_data,
    .on_eof = t_eof,
    .on_close = t_close,
    .on_drain = t_drain,
    .on_wake = t_wake,
};

/* ---- fixture --------------------------------------------------------- */

typedef struct fixture {
    world w;
    sk_service service; /* a copy whose context is w */
    sk_server *srv;
    struct sockaddr_in addr;
} fixture;

static void log_line(void *user, int level, const char *line)
{
    (void)level;
    world *w = user;
    pthread_mutex_lock(&w->lock);
    int n = snprintf(w->log + w->loglen, sizeof w->log - w->loglen, "%s\n", line);
    if (n > 0 && (size_t)n < sizeof w->log - w->loglen)
        w->loglen += (size_t)n;
    pthread_mutex_unlock(&w->lock);
}

static bool log_has(world *w, const char *text)
{
    pthread_mutex_lock(&w->lock);
    bool has = strstr(w->log, text) != NULL;
    pthread_mutex_unlock(&w->lock);
    return has;
}

/* Whether text shows up in the log within WAIT_MS. */
static bool wait_log(world *w, const char *text)
{
    for (int i = 0; i < WAIT_MS && !log_has(w, text); i++)
        usleep(1000);
    return log_has(w, text);
}

/* Start a uring server with `workers` rings; false when io_uring is unavailable. */
static bool start_server(fixture *f, enum mode mode, int workers)
{
    f->w.mode = mode;
    f->service = test_service;
    f->service.context = &f->w;
    sk_server_config cfg = {.model = SK_MODEL_URING, .workers = workers, .log = log_line, .log_user = &f->w};
    int rc = loopback_server_start(&f->srv, &cfg, &f->service, &f->addr);
    if (rc == -ENOSYS || rc == -EPERM || rc == -EACCES)
        return false;
    assert_int_equal(rc, 0);
    return true;
}

#define START_OR_SKIP(f, mode, workers)                                    \
    do {                                                                   \
        if (!start_server(f, mode, workers)) {                             \
            print_message("io_uring unavailable here: skipped\n");        \
            skip();                                                        \
        }                                                                  \
    } while (0)

static int setup(void **st)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    pthread_mutex_init(&f->w.lock, NULL);
    pthread_cond_init(&f->w.cond, NULL);
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    fixture *f = *st;
    atomic_store(&f->w.release_ring, true);
    if (f->srv)
        sk_server_destroy(f->srv);
    pthread_cond_destroy(&f->w.cond);
    pthread_mutex_destroy(&f->w.lock);
    free(f);
    return 0;
}

/* ---- the client and the waker ---------------------------------------- */

static int client_connect(const fixture *f)
{
    return loopback_connect(&f->addr, WAIT_MS);
}

/* Whether the server closes fd (EOF or reset) within the receive timeout,
 * reading and dropping what arrives first. */
static bool closed_by_server(int fd)
{
    char buf[4096];
    for (int i = 0; i < 100000; i++) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0)
            return false;
    }
    return false;
}

/* The first open connection the service knows of, waiting for it. */
static sk_conn *wait_conn(world *w)
{
    sk_conn *c = NULL;
    int64_t end = monotonic_ms() + WAIT_MS;
    pthread_mutex_lock(&w->lock);
    while (!c && monotonic_ms() < end) {
        for (int i = 0; i < MAX_CONNS && !c; i++)
            c = w->conns[i];
        if (!c) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 10 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&w->cond, &w->lock, &ts);
        }
    }
    pthread_mutex_unlock(&w->lock);
    assert_non_null(c);
    return c;
}

/* Wake every open connection, under the service's lock; returns how
 * many wakes failed. */
static int wake_all(world *w)
{
    int bad = 0;
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < MAX_CONNS; i++)
        if (w->conns[i] && sk_conn_wake(w->conns[i]) != 0)
            bad++;
    pthread_mutex_unlock(&w->lock);
    return bad;
}

static bool wait_flag(atomic_bool *flag)
{
    for (int i = 0; i < WAIT_MS && !atomic_load(flag); i++)
        usleep(1000);
    return atomic_load(flag);
}

static bool wait_count(atomic_int *count, int want)
{
    for (int i = 0; i < WAIT_MS && atomic_load(count) < want; i++)
        usleep(1000);
    return atomic_load(count) >= want;
}

/* ---- tests ----------------------------------------------------------- */

/* A wake from this thread runs on_wake on the ring's thread; a wake from
 * on_wake itself runs it again. */
static void test_wake_from_another_thread(void **st)
{
    fixture *f = *st;
    START_OR_SKIP(f, MODE_WAKE, 0);
    int fd = client_connect(f);
    wait_conn(&f->w);
    assert_int_equal(wake_all(&f->w), 0);
    loopback_expect(fd, "woken 1\nwoken 2\nwoken 3\n");
    assert_false(atomic_load(&f->w.wake_off_thread));
    assert_int_equal(atomic_load(&f->w.wakes), 3);
    close(fd);
    assert_int_equal(sk_server_shutdown(f->srv, 2000), 0);
}

/* 10,000 wakes while the ring is busy run on_wake once. */
static void test_wakes_coalesce(void **st)
{
    fixture *f = *st;
    START_OR_SKIP(f, MODE_COALESCE, 0);
    int fd = client_connect(f);
    wait_conn(&f->w);
    loopback_send(fd, "B");
    assert_true(wait_flag(&f->w.ring_blocked)); /* the ring's thread is in on_data */
    for (int i = 0; i < 10000; i++)
        assert_int_equal(wake_all(&f->w), 0);
    atomic_store(&f->w.release_ring, true);
    loopback_expect(fd, "Bw\n");
    loopback_send(fd, "x"); /* a round trip: any further on_wake would come first */
    loopback_expect(fd, "x");
    assert_int_equal(atomic_load(&f->w.wakes), 1);
    assert_int_equal(wake_all(&f->w), 0); /* and a later wake runs it again */
    loopback_expect(fd, "w\n");
    assert_int_equal(atomic_load(&f->w.wakes), 2);
    close(fd);
}

/* Paused after its first input, the connection gets no on_data while the
 * client fills the socket buffers until it blocks; after the wake resumes
 * it, every byte arrives, in order, once. */
static void test_pause_holds_input_until_resume(void **st)
{
    fixture *f = *st;
    START_OR_SKIP(f, MODE_PAUSE, 0);
    int fd = client_connect(f);
    wait_conn(&f->w);
    enum { BLOCK = 64 * 1024, LIMIT = 256 * MiB };
    uint8_t *block = malloc(BLOCK);
    assert_non_null(block);
    uint64_t sent = 0;
    bool stalled = false;
    loopback_set_timeouts(fd, 500); /* a send that waits this long: the peer stopped reading */
    while (sent < LIMIT && !stalled) {
        for (size_t i = 0; i < BLOCK; i++)
            block[i] = pattern(sent + i);
        ssize_t n = send(fd, block, BLOCK, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            fail_msg("send: %s", strerror(errno));
        if (n > 0)
            sent += (uint64_t)n;
        stalled = n < BLOCK;
    }
    free(block);
    assert_true(stalled); /* TCP flow control reached the client */
    int calls = atomic_load(&f->w.data_calls);
    usleep(200 * 1000);
    assert_int_equal(atomic_load(&f->w.data_calls), calls); /* nothing delivered while paused */
    assert_true(atomic_load(&f->w.received) < sent);
    assert_int_equal(wake_all(&f->w), 0); /* on_wake resumes */
    loopback_set_timeouts(fd, WAIT_MS);
    shutdown(fd, SHUT_WR);
    char expect[64];
    snprintf(expect, sizeof expect, "%llu 0\n", (unsigned long long)sent);
    loopback_expect(fd, expect);
    assert_false(atomic_load(&f->w.data_while_paused));
    assert_true(closed_by_server(fd));
    close(fd);
}

/* A deadline renewed by input keeps the connection; silence past it
 * closes it (logged "(timeout)"); a cancelled one does not. */
static void test_set_timeout_closes(void **st)
{
    fixture *f = *st;
    START_OR_SKIP(f, MODE_TIMEOUT, 0);
    int fd = client_connect(f);
    for (int i = 0; i < 4; i++) { /* 600 ms in all, renewed each 150 ms */
        loopback_send(fd, "k");
        loopback_expect(fd, "k");
        usleep(150 * 1000);
    }
    int64_t quiet = monotonic_ms();
    assert_true(closed_by_server(fd));
    assert_true(monotonic_ms() - quiet < 5000);
    close(fd);
    assert_true(wait_log(&f->w, "(timeout)"));
    assert_false(log_has(&f->w, "(idle timeout)"));

    fd = client_connect(f);
    loopback_send(fd, "cancel");
    loopback_expect(fd, "cancel");
    usleep(700 * 1000);
    loopback_send(fd, "k"); /* still served */
    loopback_expect(fd, "k");
    close(fd);
    assert_int_equal(sk_server_shutdown(f->srv, 2000), 0);
}

/* BIG bytes (more than the socket buffers hold) written at once are
 * pending; on_drain runs once at most SK_CONN_LOW_WATER are left, and
 * again once the queue is empty. */
static void test_on_drain_after_large_write(void **st)
{
    fixture *f = *st;
    START_OR_SKIP(f, MODE_DRAIN, 0);
    int fd = client_connect(f);
    usleep(200 * 1000); /* not reading yet: the queue stays full */
    assert_int_equal(atomic_load(&f->w.drains), 0);
    uint8_t *buf = malloc(BIG);
    assert_non_null(buf);
    assert_int_equal(loopback_read_exactly(fd, buf, BIG), BIG);
    for (size_t i = 0; i < BIG; i++)
        if (buf[i] != pattern(i))
            fail_msg("byte %zu differs", i);
    free(buf);
    loopback_expect(fd, "END");
    assert_int_equal(atomic_load(&f->w.pending_at_open), BIG);
    assert_true(atomic_load(&f->w.pending_at_drain) <= SK_CONN_LOW_WATER);
    assert_true(wait_count(&f->w.drains, 2)); /* "END" left the queue too */
    close(fd);
}

/* The peer half-closes; on_eof returns 0, so the connection stays until
 * the service closes it from on_wake, after a last write. */
static void test_on_eof_keeps_connection_for_wake(void **st)
{
    fixture *f = *st;
    START_OR_SKIP(f, MODE_EOF_WAKE, 0);
    int fd = client_connect(f);
    wait_conn(&f->w);
    shutdown(fd, SHUT_WR);
    assert_true(wait_count(&f->w.eofs, 1));
    usleep(100 * 1000);
    assert_int_equal(atomic_load(&f->w.closes), 0);
    assert_int_equal(wake_all(&f->w), 0);
    loopback_expect(fd, "late\n");
    assert_true(closed_by_server(fd));
    close(fd);
}

/* Shutdown after the grace period ends connections waiting for nothing
 * from the kernel (paused; past the peer's EOF) and counts them. */
static void test_shutdown_ends_idle_waiting_connections(void **st)
{
    fixture *f = *st;
    START_OR_SKIP(f, MODE_EOF_WAKE, 2);
    int a = client_connect(f);
    int b = client_connect(f);
    shutdown(a, SHUT_WR);
    shutdown(b, SHUT_WR);
    assert_true(wait_count(&f->w.eofs, 2));
    int64_t t0 = monotonic_ms();
    assert_int_equal(sk_server_shutdown(f->srv, 100), 2);
    assert_true(monotonic_ms() - t0 < WAIT_MS);
    assert_int_equal(atomic_load(&f->w.closes), 2);
    assert_true(closed_by_server(a));
    assert_true(closed_by_server(b));
    assert_true(log_has(&f->w, "(closed at shutdown)"));
    close(a);
    close(b);
}

/* Wakes racing with closes, over two rings: a thread wakes every open
 * connection in a loop (under the service's lock, which on_close takes)
 * while clients come and go, some leaving with a reset. Nothing touches a
 * closed connection (the ASan and TSan builds check). */
typedef struct racer {
    world *w;
    atomic_bool stop;
    atomic_int wakes_failed;
} racer;

static void *wake_loop(void *arg)
{
    racer *r = arg;
    while (!atomic_load(&r->stop))
        atomic_fetch_add(&r->wakes_failed, wake_all(r->w));
    return NULL;
}

static void test_wake_races_close(void **st)
{
    fixture *f = *st;
    START_OR_SKIP(f, MODE_RACE, 2);
    racer r = {.w = &f->w};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wake_loop, &r), 0);
    enum { ROUNDS = 100, AT_ONCE = 4 };
    for (int round = 0; round < ROUNDS; round++) {
        int fds[AT_ONCE];
        for (int i = 0; i < AT_ONCE; i++)
            fds[i] = client_connect(f);
        for (int i = 0; i < AT_ONCE; i++) {
            char c;
            assert_int_equal(loopback_read_exactly(fds[i], &c, 1), 1); /* woken at least once */
            if ((round + i) % 2) {
                struct linger lg = {.l_onoff = 1, .l_linger = 0};
                setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg); /* reset */
            }
            close(fds[i]);
        }
    }
    assert_true(wait_count(&f->w.closes, ROUNDS * AT_ONCE));
    /* and shutdown while the waker still runs */
    int last = client_connect(f);
    char c;
    assert_int_equal(loopback_read_exactly(last, &c, 1), 1);
    assert_true(sk_server_shutdown(f->srv, 0) <= 1);
    atomic_store(&r.stop, true);
    pthread_join(t, NULL);
    close(last);
    assert_int_equal(atomic_load(&r.wakes_failed), 0);
    assert_int_equal(atomic_load(&f->w.opens), atomic_load(&f->w.closes));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wake_from_another_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wakes_coalesce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pause_holds_input_until_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_timeout_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_on_drain_after_large_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_on_eof_keeps_connection_for_wake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_ends_idle_waiting_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wake_races_close, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
