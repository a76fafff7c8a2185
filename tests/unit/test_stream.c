/* Unit tests for buffered streams (include/sockkit/stream.h) on a real
 * event loop, over loopback TCP connections: the stream owns one end, the
 * test plays the peer with plain socket calls. Every wait is bounded. */
#include <dirent.h>
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

/* ---- file ranges (sk_stream_sendfile) --------------------------------------- */

/* Byte i of the test files: no short period, so a misplaced range shows. */
static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 131 + i / 251 + 7);
}

/* An unlinked temporary file of len pattern bytes; returns its fd. */
static int pattern_file(size_t len)
{
    char path[] = "/tmp/sk-test-stream-XXXXXX";
    int fd = mkostemp(path, O_CLOEXEC);
    assert_true(fd >= 0);
    unlink(path);
    uint8_t chunk[64 * 1024];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = pattern(done + i);
        assert_int_equal(write(fd, chunk, n), (ssize_t)n);
        done += n;
    }
    return fd;
}

/* Open descriptors of this process. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* not the directory's own */
}

/* Shrink the stream's send buffer and the peer's receive buffer, so that
 * output stays queued. */
static void small_buffers(fixture *f, int sndbuf, int rcvbuf)
{
    setsockopt(f->s.transport.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    setsockopt(f->peer, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
}

/* Bytes, then file ranges between more bytes, each queued behind the
 * last: the peer reads them in that order, byte for byte, then EOF. */
static void test_sendfile_interleaved_with_writes_in_order(void **state)
{
    fixture *f = *state;
    open_stream(f, &callbacks);
    small_buffers(f, 256 * 1024, 256 * 1024);
    size_t file_len = 10 << 20, head_len = 3 << 20;
    int fd = pattern_file(file_len);
    uint8_t *head = malloc(head_len);
    assert_non_null(head);
    for (size_t i = 0; i < head_len; i++)
        head[i] = (uint8_t)(i * 7 + 3);

    /* head (more than the kernel takes: queued), the whole file, "mid",
     * a middle range of the file, "tail". */
    off_t range_off = 12345;
    size_t range_len = 1 << 20;
    assert_int_equal(sk_stream_write(&f->s, head, head_len), 0);
    assert_true(sk_stream_pending(&f->s) > 0);
    assert_int_equal(sk_stream_sendfile(&f->s, fd, 0, file_len), 0);
    assert_int_equal(sk_stream_write(&f->s, "mid", 3), 0);
    assert_int_equal(sk_stream_sendfile(&f->s, fd, range_off, range_len), 0);
    close(fd); /* the stream keeps its own reference */
    assert_int_equal(sk_stream_write(&f->s, "tail", 4), 0);
    assert_true(sk_stream_pending(&f->s) > file_len); /* the file counts as queued */
    sk_stream_close(&f->s);

    size_t total = head_len + file_len + 3 + range_len + 4;
    uint8_t *back = malloc(total + 1);
    assert_non_null(back);
    bool eof;
    assert_int_equal(peer_read_all(f, back, total + 1, &eof), total);
    assert_true(eof);
    assert_memory_equal(back, head, head_len);
    size_t at = head_len;
    for (size_t i = 0; i < file_len; i++)
        if (back[at + i] != pattern(i))
            fail_msg("file byte %zu differs", i);
    at += file_len;
    assert_memory_equal(back + at, "mid", 3);
    at += 3;
    for (size_t i = 0; i < range_len; i++)
        if (back[at + i] != pattern((size_t)range_off + i))
            fail_msg("range byte %zu differs", i);
    at += range_len;
    assert_memory_equal(back + at, "tail", 4);
    run_until(f, &f->closes, 1);
    assert_int_equal(f->close_err, 0);
    free(head);
    free(back);
}

/* A file range with nothing queued goes out at once: no descriptor kept. */
static void test_sendfile_taken_at_once_keeps_no_fd(void **state)
{
    fixture *f = *state;
    open_stream(f, &callbacks);
    int fd = pattern_file(1000);
    int before = open_fds();
    assert_int_equal(sk_stream_sendfile(&f->s, fd, 10, 900), 0);
    assert_int_equal(sk_stream_pending(&f->s), 0);
    assert_int_equal(open_fds(), before);
    assert_int_equal(sk_stream_write(&f->s, "!", 1), 0);
    uint8_t back[901];
    bool eof;
    assert_int_equal(peer_read_all(f, back, sizeof back, &eof), sizeof back);
    for (size_t i = 0; i < 900; i++)
        assert_int_equal(back[i], pattern(10 + i));
    assert_int_equal(back[900], '!');
    assert_int_equal(sk_stream_sendfile(&f->s, fd, 0, 0), 0); /* empty: nothing */
    assert_int_equal(sk_stream_sendfile(&f->s, fd, -1, 10), -EINVAL);
    assert_int_equal(sk_stream_sendfile(&f->s, -1, 0, 10), -EBADF);
    assert_false(f->s.closed);
    close(fd);
}

/* A peer that reads a little at a time still gets every byte; meanwhile
 * the queued range holds the stream above its high-water mark, so it
 * stops reading its peer. */
static void test_sendfile_slow_reader_gets_everything(void **state)
{
    fixture *f = *state;
    open_stream(f, &callbacks);
    small_buffers(f, 16 * 1024, 64 * 1024);
    sk_stream_set_watermarks(&f->s, 64 * 1024, 16 * 1024);
    size_t len = 4 << 20;
    int fd = pattern_file(len);
    assert_int_equal(sk_stream_sendfile(&f->s, fd, 0, len), 0);
    close(fd);
    assert_true(sk_stream_pending(&f->s) > 64 * 1024);
    assert_true(f->s.throttled);
    assert_false(f->s.io.events & SK_POLLIN);
    uint8_t *back = malloc(len);
    assert_non_null(back);
    size_t got = 0;
    int64_t deadline = now_ms() + 2 * WAIT_MS;
    while (got < len && now_ms() < deadline) { /* 8 KiB per millisecond at most */
        sk_loop_run_once(f->loop, 0);
        size_t want = len - got < 8192 ? len - got : 8192;
        ssize_t n = recv(f->peer, back + got, want, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        sk_loop_run_once(f->loop, 1);
    }
    assert_int_equal(got, len);
    for (size_t i = 0; i < len; i++)
        if (back[i] != pattern(i))
            fail_msg("byte %zu differs", i);
    run_for(f, 20);
    assert_int_equal(sk_stream_pending(&f->s), 0);
    assert_false(f->s.throttled);
    assert_true(f->drains >= 1);
    free(back);
}

/* Closing with a file range still queued releases the stream's duplicate
 * of the file descriptor (and the socket). */
static void test_close_with_queued_file_releases_its_fd(void **state)
{
    fixture *f = *state;
    open_stream(f, &callbacks);
    small_buffers(f, 16 * 1024, 16 * 1024);
    int fd = pattern_file(4 << 20);
    int before = open_fds();
    assert_int_equal(sk_stream_sendfile(&f->s, fd, 0, 4 << 20), 0);
    assert_int_equal(sk_stream_sendfile(&f->s, fd, 0, 1 << 20), 0);
    assert_int_equal(open_fds(), before + 2); /* one duplicate per queued range */
    close(fd);
    sk_stream_abort(&f->s, -ESHUTDOWN);
    run_until(f, &f->closes, 1);
    assert_int_equal(f->close_err, -ESHUTDOWN);
    assert_int_equal(open_fds(), before - 2); /* both duplicates, the socket, fd */
}

/* A file shorter than the range aborts the stream with -EIO, whether the
 * end shows at once or only once the range is under way. */
static void test_sendfile_short_file_aborts_with_eio(void **state)
{
    fixture *f = *state;
    open_stream(f, &callbacks);
    int fd = pattern_file(1000);
    assert_int_equal(sk_stream_sendfile(&f->s, fd, 0, 5000), 0); /* 1000 go at once */
    run_until(f, &f->closes, 1);
    assert_int_equal(f->close_err, -EIO);
    assert_false(f->nested_close);
    uint8_t back[2000];
    bool eof;
    assert_int_equal(peer_read_all(f, back, sizeof back, &eof), 1000);
    close(fd);
}

static void test_sendfile_past_end_of_file_fails_at_once(void **state)
{
    fixture *f = *state;
    open_stream(f, &callbacks);
    int fd = pattern_file(1000);
    assert_int_equal(sk_stream_sendfile(&f->s, fd, 1000, 10), -EIO);
    assert_true(f->s.closed);
    assert_int_equal(sk_stream_sendfile(&f->s, fd, 0, 10), -EPIPE);
    run_until(f, &f->closes, 1);
    assert_int_equal(f->close_err, -EIO);
    close(fd);
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
        cmocka_unit_test_setup_teardown(test_sendfile_interleaved_with_writes_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sendfile_taken_at_once_keeps_no_fd, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sendfile_slow_reader_gets_everything, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_close_with_queued_file_releases_its_fd, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sendfile_short_file_aborts_with_eio, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sendfile_past_end_of_file_fails_at_once, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
