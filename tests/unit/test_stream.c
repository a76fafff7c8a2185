/* Unit tests for buffered streams (include/sockkit/stream.h) on a real
 * event loop, over loopback TCP connections: the stream owns one end, the
 * test plays the peer with plain socket calls. Every wait is bounded. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
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
#include "sockkit/stream.h"

enum { WAIT_MS = 5000 };

/* ---- fixture: a loop, a stream on one end of a TCP connection, a peer --- */

typedef struct fixture {
    sk_loop *loop;
    sk_stream s;
    int peer;               /* the other end, blocking unless a test says so */
    uint8_t *in;            /* what on_read delivered */
    size_t in_len, in_cap;
    int reads;
    int eofs;
    int drains;
    int closes;
    int close_err;
    bool in_callback;       /* a stream callback is running */
    bool nested_close;      /* on_close ran inside another callback */
    bool close_on_read;     /* on_read calls sk_stream_close */
    bool write_back;        /* on_read echoes what it gets */
} fixture;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_read(sk_stream *s, const uint8_t *data, size_t len)
{
    fixture *f = s->data;
    f->in_callback = true;
    if (f->in_len + len > f->in_cap) {
        f->in_cap = (f->in_len + len) * 2;
        f->in = realloc(f->in, f->in_cap);
        assert_non_null(f->in);
    }
    memcpy(f->in + f->in_len, data, len);
    f->in_len += len;
    f->reads++;
    if (f->write_back)
        assert_int_equal(sk_stream_write(s, data, len), 0);
    if (f->close_on_read)
        sk_stream_close(s);
    f->in_callback = false;
}

static void on_eof(sk_stream *s)
{
    fixture *f = s->data;
    f->eofs++;
    f->in_callback = true;
    sk_stream_close(s);
    f->in_callback = false;
}

static void on_drain(sk_stream *s)
{
    fixture *f = s->data;
    f->drains++;
}

static void on_close(sk_stream *s, int err)
{
    fixture *f = s->data;
    if (f->in_callback)
        f->nested_close = true;
    f->closes++;
    f->close_err = err;
}

static const sk_stream_callbacks callbacks = {
    .on_read = on_read, .on_eof = on_eof, .on_drain = on_drain, .on_close = on_close,
};

static const sk_stream_callbacks callbacks_no_eof = {
    .on_read = on_read, .on_close = on_close,
};

/* A connected loopback TCP pair: *a non-blocking (for the stream), *b
 * blocking (the peer). */
static void tcp_pair(int *a, int *b)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(l >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
    *b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(*b >= 0);
    assert_int_equal(connect(*b, (struct sockaddr *)&sin, sizeof sin), 0);
    *a = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    assert_true(*a >= 0);
    close(l);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->peer = -1;
    assert_int_equal(sk_loop_create(&f->loop, SK_SELECTOR_EPOLL), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->s.loop && !f->s.closed)
        sk_stream_abort(&f->s, 0);
    for (int i = 0; i < 10 && f->s.loop && f->closes == 0; i++)
        sk_loop_run_once(f->loop, 0);
    if (f->peer >= 0)
        close(f->peer);
    sk_loop_destroy(f->loop);
    free(f->in);
    free(f);
    return 0;
}

static void open_stream(fixture *f, const sk_stream_callbacks *cb)
{
    int fd;
    tcp_pair(&fd, &f->peer);
    assert_int_equal(sk_stream_open(&f->s, f->loop, fd, cb, f), 0);
}

/* Run the loop until *flag reaches want (bounded). */
static void run_until(fixture *f, const int *flag, int want)
{
    int64_t deadline = now_ms() + WAIT_MS;
    while (*flag < want && now_ms() < deadline)
        assert_int_equal(sk_loop_run_once(f->loop, 10), 0);
    assert_int_equal(*flag, want);
}

/* Run the loop for about ms milliseconds. */
static void run_for(fixture *f, int ms)
{
    int64_t deadline = now_ms() + ms;
    while (now_ms() < deadline)
        assert_int_equal(sk_loop_run_once(f->loop, 10), 0);
}

static void peer_send(fixture *f, const void *data, size_t len)
{
    assert_int_equal(send(f->peer, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Read from the peer until len bytes or EOF, running the loop between
 * reads so queued output keeps flowing. Returns the count read. */
static size_t peer_read_all(fixture *f, uint8_t *buf, size_t len, bool *eof)
{
    size_t got = 0;
    *eof = false;
    int64_t deadline = now_ms() + WAIT_MS;
    while (got < len && now_ms() < deadline) {
        sk_loop_run_once(f->loop, 0);
        struct pollfd p = {.fd = f->peer, .events = POLLIN};
        if (poll(&p, 1, 10) <= 0)
            continue;
        ssize_t n = recv(f->peer, buf + got, len - got, MSG_DONTWAIT);
        if (n == 0) {
            *eof = true;
            break;
        }
        if (n > 0)
            got += (size_t)n;
    }
    return got;
}

/* ---- tests ------------------------------------------------------------- */

static void test_write_reaches_peer(void **state)
{
    fixture *f = *state;
    open_stream(f, &callbacks);
    assert_int_equal(sk_stream_write(&f->s, "hello", 5), 0);
    assert_int_equal(sk_stream_pending(&f->s), 0);  /* the kernel took it at once */
    assert_null(f->s.out);                          /* no buffer allocated */
    char buf[16];
    assert_int_equal(recv(f->peer, buf, sizeof buf, 0), 5);
    assert_memory_equal(buf, "hello", 5);
}

static void test_read_delivers_and_echoes(void **state)
{
    fixture *f = *state;
    f->write_back = true;
    open_stream(f, &callbacks);
    peer_send(f, "ping", 4);
    run_until(f, &f->reads, 1);
    assert_int_equal(f->in_len, 4);
    assert_memory_equal(f->in, "ping", 4);
    char buf[16];
    assert_int_equal(recv(f->peer, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "ping", 4);
}

/* Fill the stream's output until it is queued past the high-water mark. */
static void fill_past_high_water(fixture *f, size_t high)
{
    static uint8_t chunk[16 * 1024];
    memset(chunk, 'q', sizeof chunk);
    for (int i = 0; i < 4096 && sk_stream_pending(&f->s) <= high; i++)
        assert_int_equal(sk_stream_write(&f->s, chunk, sizeof chunk), 0);
    assert_true(sk_stream_pending(&f->s) > high);
}

static void test_backpressure_pauses_and_resumes_reading(void **state)
{
    fixture *f = *state;
    open_stream(f, &callbacks);
    int small = 4096;
    setsockopt(f->s.transport.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(f->peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sk_stream_set_watermarks(&f->s, 64 * 1024, 16 * 1024);
    fill_past_high_water(f, 64 * 1024);
    assert_true(f->s.throttled);
    assert_false(f->s.io.events & SK_POLLIN);

    /* The peer sends, but the stream does not read while above the mark. */
    peer_send(f, "more", 4);
    run_for(f, 200);
    assert_int_equal(f->reads, 0);

    /* The peer drains everything: reading resumes, the input arrives. */
    size_t queued = sk_stream_pending(&f->s);
    uint8_t *sink = malloc(8 << 20);
    assert_non_null(sink);
    int64_t deadline = now_ms() + WAIT_MS;
    size_t got = 0;
    while ((f->reads == 0 || sk_stream_pending(&f->s) > 0) && now_ms() < deadline) {
        sk_loop_run_once(f->loop, 0);
        ssize_t n = recv(f->peer, sink, 8 << 20, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        else
            sk_loop_run_once(f->loop, 5);
    }
    free(sink);
    assert_true(got >= queued);
    assert_false(f->s.throttled);
    assert_true(f->drains >= 1);
    assert_int_equal(f->in_len, 4);
    assert_memory_equal(f->in, "more", 4);
    assert_null(f->s.out);  /* the output buffer is freed once drained */
}

static void test_close_after_flush_delivers_everything_then_eof(void **state)
{
    fixture *f = *state;
    open_stream(f, &callbacks);
    size_t total = 4 << 20;
    uint8_t *data = malloc(total), *back = malloc(total + 1);
    assert_non_null(data);
    assert_non_null(back);
    for (size_t i = 0; i < total; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(sk_stream_write(&f->s, data, total), 0);
    assert_true(sk_stream_pending(&f->s) > 0); /* more than the kernel takes at once */
    sk_stream_close(&f->s);
    assert_int_equal(sk_stream_write(&f->s, "x", 1), -EPIPE);
    assert_int_equal(f->closes, 0);  /* not before the output is written */
    bool eof;
    assert_int_equal(peer_read_all(f, back, total + 1, &eof), total);
    assert_true(eof);
    assert_memory_equal(back, data, total);
    run_until(f, &f->closes, 1);
    assert_int_equal(f->close_err, 0);
    free(data);
    free(back);
}

static void test_abort_drops_output_and_reports_error(void **state)
{
    fixture *f = *state;
    open_stream(f, &callbacks);
    sk_stream_abort(&f->s, -ETIMEDOUT);
    assert_int_equal(f->closes, 0); /* deferred, never from inside the call */
    assert_int_equal(sk_stream_write(&f->s, "x", 1), -EPIPE);
    run_until(f, &f->closes, 1);
    assert_int_equal(f->close_err, -ETIMEDOUT);
    char buf[4];
    assert_int_equal(recv(f->peer, buf, sizeof buf, 0), 0); /* the peer sees the end */
    sk_stream_abort(&f->s, -EIO);  /* closing twice does nothing */
    sk_stream_close(&f->s);
    run_for(f, 50);
    assert_int_equal(f->closes, 1);
}

static void test_peer_reset_closes_once_with_econnreset(void **state)
{
    fixture *f = *state;
    open_stream(f, &callbacks);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(setsockopt(f->peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    close(f->peer); /* RST */
    f->peer = -1;
    run_until(f, &f->closes, 1);
    assert_int_equal(f->close_err, -ECONNRESET);
    assert_false(f->nested_close);
    run_for(f, 50);
    assert_int_equal(f->closes, 1);
    assert_int_equal(sk_stream_write(&f->s, "x", 1), -EPIPE);
}

static void test_eof_default_closes_after_flush(void **state)
{
    fixture *f = *state;
    f->write_back = true;
    open_stream(f, &callbacks_no_eof);
    peer_send(f, "bye", 3);
    shutdown(f->peer, SHUT_WR);
    char buf[8];
    bool eof;
    assert_int_equal(peer_read_all(f, (uint8_t *)buf, sizeof buf, &eof), 3);
    assert_true(eof);
    assert_memory_equal(buf, "bye", 3);
    run_until(f, &f->closes, 1);
    assert_int_equal(f->close_err, 0);
}

static void test_on_eof_called_and_close_not_nested(void **state)
{
    fixture *f = *state;
    f->close_on_read = true;
    open_stream(f, &callbacks);
    peer_send(f, "a", 1);
    run_until(f, &f->closes, 1);
    assert_false(f->nested_close);
    assert_int_equal(f->close_err, 0);
    assert_int_equal(sk_stream_write(&f->s, "x", 1), -EPIPE);
}

static void test_pause_and_resume(void **state)
{
    fixture *f = *state;
    open_stream(f, &callbacks);
    sk_stream_pause(&f->s);
    peer_send(f, "held", 4);
    run_for(f, 100);
    assert_int_equal(f->reads, 0);
    sk_stream_resume(&f->s);
    run_until(f, &f->reads, 1);
    assert_memory_equal(f->in, "held", 4);
    shutdown(f->peer, SHUT_WR);
    run_until(f, &f->eofs, 1);
    run_until(f, &f->closes, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_reaches_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_delivers_and_echoes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure_pauses_and_resumes_reading, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_close_after_flush_delivers_everything_then_eof,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_drops_output_and_reports_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_peer_reset_closes_once_with_econnreset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_eof_default_closes_after_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_on_eof_called_and_close_not_nested, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pause_and_resume, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
