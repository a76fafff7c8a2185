/* Unit tests for the socket facade (include/sockkit/sock.h), on loopback. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sockkit/addr.h"
#include "sockkit/sock.h"

/* ---- helpers --------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sk_endpoint parse_ep(const char *text)
{
    sk_endpoint ep;
    char err[SK_ERRBUF_SIZE];
    int rc = sk_endpoint_parse(text, &ep, err, sizeof err);
    if (rc != 0)
        print_error("parse %s: %s\n", text, err);
    assert_int_equal(rc, 0);
    return ep;
}

/* Listen on text (e.g. "127.0.0.1:0") with the given socket type. */
static void listen_on(sk_sock *l, const char *text, int socktype)
{
    sk_endpoint ep = parse_ep(text);
    char err[SK_ERRBUF_SIZE] = "";
    int rc = sk_sock_listen_endpoint(l, &ep, socktype, 0, 0, err, sizeof err);
    if (rc != 0)
        print_error("listen %s: %s\n", text, err);
    assert_int_equal(rc, 0);
}

static uint16_t local_port(const sk_sock *s)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sin, &len), 0);
    return ntohs(sin.sin_port);
}

static sk_sockaddr loopback_addr(uint16_t port)
{
    sk_sockaddr a;
    memset(&a, 0, sizeof a);
    struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.len = sizeof *sin;
    return a;
}

/* A connected TCP pair on 127.0.0.1: client c, server side a. */
static void tcp_pair(sk_sock *c, sk_sock *a)
{
    sk_sock l;
    listen_on(&l, "127.0.0.1:0", SOCK_STREAM);
    char text[64];
    snprintf(text, sizeof text, "127.0.0.1:%u", (unsigned)local_port(&l));
    sk_endpoint ep = parse_ep(text);
    assert_int_equal(sk_sock_connect(c, &ep, SOCK_STREAM, 5000, NULL, 0), 0);
    assert_int_equal(sk_sock_settimeout(&l, 5000), 0);
    assert_int_equal(sk_sock_accept(&l, a, NULL), 0);
    sk_sock_close(&l);
}

/* A port that nothing listens on: bind port 0, note it, close. */
static uint16_t free_port(void)
{
    sk_sock l;
    listen_on(&l, "127.0.0.1:0", SOCK_STREAM);
    uint16_t port = local_port(&l);
    sk_sock_close(&l);
    return port;
}

static void assert_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    assert_true(fl >= 0);
    assert_true(fl & FD_CLOEXEC);
}

static void unix_path(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "/tmp/sockkit-test-sock-%ld-%s", (long)getpid(), tag);
    unlink(buf);
}

/* ---- timeouts -------------------------------------------------------- */

static void test_recv_timeout_on_silent_peer(void **state)
{
    (void)state;
    sk_sock c, a;
    tcp_pair(&c, &a);
    assert_int_equal(sk_sock_settimeout(&c, 200), 0);
    char buf[16];
    int64_t t0 = now_ms();
    assert_int_equal(sk_sock_recv(&c, buf, sizeof buf), -ETIMEDOUT);
    int64_t took = now_ms() - t0;
    assert_true(took >= 150);
    assert_true(took < 5000);
    sk_sock_close(&c);
    sk_sock_close(&a);
}

static void test_timeout_zero_gives_eagain(void **state)
{
    (void)state;
    sk_sock c, a;
    tcp_pair(&c, &a);
    assert_int_equal(sk_sock_settimeout(&c, 0), 0);
    char buf[16];
    assert_int_equal(sk_sock_recv(&c, buf, sizeof buf), -EAGAIN);
    assert_int_equal(sk_sock_recv_exact(&c, buf, sizeof buf), -EAGAIN);
    sk_sock_close(&c);
    sk_sock_close(&a);
}

static void test_settimeout_rejects_below_minus_one(void **state)
{
    (void)state;
    sk_sock s;
    assert_int_equal(sk_sock_open(&s, AF_INET, SOCK_STREAM), 0);
    assert_int_equal(s.timeout_ms, -1);
    assert_int_equal(sk_sock_settimeout(&s, -2), -EINVAL);
    assert_int_equal(s.timeout_ms, -1);
    assert_int_equal(sk_sock_settimeout(&s, 0), 0);
    assert_int_equal(s.timeout_ms, 0);
    sk_sock_close(&s);
}

static void test_wait_times_out_then_sees_data(void **state)
{
    (void)state;
    sk_sock c, a;
    tcp_pair(&c, &a);
    assert_int_equal(sk_sock_wait(&c, POLLIN, 0), -ETIMEDOUT);
    assert_int_equal(sk_sock_wait(&c, POLLIN, 50), -ETIMEDOUT);
    assert_int_equal(sk_sock_sendall(&a, "x", 1), 0);
    int ev = sk_sock_wait(&c, POLLIN, 5000);
    assert_true(ev > 0);
    assert_true(ev & POLLIN);
    sk_sock_close(&c);
    sk_sock_close(&a);
}

/* ---- connecting ------------------------------------------------------ */

static void test_connect_closed_port_refused(void **state)
{
    (void)state;
    uint16_t port = free_port();
    char text[64], want[128], err[SK_ERRBUF_SIZE] = "";
    snprintf(text, sizeof text, "127.0.0.1:%u", (unsigned)port);
    snprintf(want, sizeof want, "127.0.0.1:%u: Connection refused", (unsigned)port);
    sk_endpoint ep = parse_ep(text);
    sk_sock s;
    assert_int_equal(sk_sock_connect(&s, &ep, SOCK_STREAM, 5000, err, sizeof err), -ECONNREFUSED);
    assert_string_equal(err, want);
    assert_int_equal(s.fd, -1);

    /* connect_ex reports the same, as a return value. */
    sk_sockaddr addr = loopback_addr(port);
    assert_int_equal(sk_sock_open(&s, AF_INET, SOCK_STREAM), 0);
    assert_int_equal(sk_sock_settimeout(&s, 5000), 0);
    assert_int_equal(sk_sock_connect_ex(&s, &addr), -ECONNREFUSED);
    sk_sock_close(&s);
}

static void test_connect_ex_nonblocking(void **state)
{
    (void)state;
    sk_sock l;
    listen_on(&l, "127.0.0.1:0", SOCK_STREAM);
    sk_sockaddr addr = loopback_addr(local_port(&l));
    sk_sock s;
    assert_int_equal(sk_sock_open(&s, AF_INET, SOCK_STREAM), 0);
    assert_int_equal(sk_sock_settimeout(&s, 0), 0);
    int rc = sk_sock_connect_ex(&s, &addr);
    assert_true(rc == 0 || rc == -EINPROGRESS);
    if (rc == -EINPROGRESS) {
        int ev = sk_sock_wait(&s, POLLOUT, 5000);
        assert_true(ev > 0 && (ev & POLLOUT));
        assert_int_equal(sk_sock_error(&s), 0);
    }
    sk_sock a;
    assert_int_equal(sk_sock_settimeout(&l, 5000), 0);
    assert_int_equal(sk_sock_accept(&l, &a, NULL), 0);
    sk_sock_close(&a);
    sk_sock_close(&s);
    sk_sock_close(&l);
}

static void test_accept_timeout(void **state)
{
    (void)state;
    sk_sock l, a;
    listen_on(&l, "127.0.0.1:0", SOCK_STREAM);
    assert_int_equal(sk_sock_settimeout(&l, 0), 0);
    assert_int_equal(sk_sock_accept(&l, &a, NULL), -EAGAIN);
    assert_int_equal(sk_sock_settimeout(&l, 50), 0);
    assert_int_equal(sk_sock_accept(&l, &a, NULL), -ETIMEDOUT);
    sk_sock_close(&l);
}

/* ---- data transfer --------------------------------------------------- */

#define BIG_SIZE (64u * 1024u * 1024u)

/* Byte i of the test stream: a pattern with no short period, never all zeros. */
static uint8_t pattern_byte(size_t i)
{
    uint32_t x = (uint32_t)i * 2654435761u;
    return (uint8_t)((x >> 24) ^ (uint32_t)(i >> 16));
}

struct reader {
    sk_sock *s;
    size_t received;
    size_t first_bad; /* SIZE_MAX when every byte matched */
    int error;
};

/* Reads to EOF checking the pattern. TCP_QUICKACK after each read: with a
 * 4 KiB send buffer the sender waits for every ACK, and delayed ACKs would
 * stretch the transfer to tens of seconds. */
static void *read_pattern(void *arg)
{
    struct reader *r = arg;
    const int one = 1;
    static const size_t chunk = 65536;
    uint8_t *buf = malloc(chunk);
    r->first_bad = SIZE_MAX;
    for (;;) {
        ssize_t n = sk_sock_recv(r->s, buf, chunk);
        setsockopt(r->s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        if (n <= 0) {
            r->error = (int)n;
            break;
        }
        for (ssize_t k = 0; k < n; k++)
            if (r->first_bad == SIZE_MAX && buf[k] != pattern_byte(r->received + (size_t)k))
                r->first_bad = r->received + (size_t)k;
        r->received += (size_t)n;
    }
    free(buf);
    return NULL;
}

static void test_sendall_64mib_small_sndbuf(void **state)
{
    (void)state;
    sk_sock c, a;
    tcp_pair(&c, &a);
    assert_int_equal(sk_sock_set_sndbuf(&c, 4096), 0);
    assert_int_equal(sk_sock_settimeout(&a, 60000), 0); /* reader: bounded */
    assert_int_equal(sk_sock_settimeout(&c, 60000), 0);

    uint8_t *data = malloc(BIG_SIZE);
    assert_non_null(data);
    for (size_t i = 0; i < BIG_SIZE; i++)
        data[i] = pattern_byte(i);

    struct reader r = {.s = &a};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_pattern, &r), 0);
    assert_int_equal(sk_sock_sendall(&c, data, BIG_SIZE), 0);
    assert_int_equal(sk_sock_shutdown(&c, SHUT_WR), 0);
    pthread_join(t, NULL);
    free(data);

    assert_int_equal(r.error, 0);
    assert_int_equal(r.received, BIG_SIZE);
    assert_true(r.first_bad == SIZE_MAX);
    sk_sock_close(&c);
    sk_sock_close(&a);
}

/* Server side of the half-close test: read to EOF, reply with the count. */
static void *echo_count_server(void *arg)
{
    sk_sock *a = arg;
    char buf[256];
    size_t total = 0;
    for (int i = 0; i < 1000; i++) {
        ssize_t n = sk_sock_recv(a, buf, sizeof buf);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    char reply[64];
    int len = snprintf(reply, sizeof reply, "got %zu bytes", total);
    sk_sock_sendall(a, reply, (size_t)len);
    sk_sock_close(a);
    return NULL;
}

static void test_half_close_delivers_reply(void **state)
{
    (void)state;
    sk_sock c, a;
    tcp_pair(&c, &a);
    assert_int_equal(sk_sock_settimeout(&a, 5000), 0);
    assert_int_equal(sk_sock_settimeout(&c, 5000), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, echo_count_server, &a), 0);

    assert_int_equal(sk_sock_sendall(&c, "hello, server", 13), 0);
    assert_int_equal(sk_sock_shutdown(&c, SHUT_WR), 0);
    char reply[64] = "";
    ssize_t n = sk_sock_recv_exact(&c, reply, sizeof reply - 1); /* short: EOF */
    pthread_join(t, NULL);
    assert_int_equal(n, 12);
    assert_string_equal(reply, "got 13 bytes");
    sk_sock_close(&c);
}

static void test_recv_exact_short_at_eof(void **state)
{
    (void)state;
    sk_sock c, a;
    tcp_pair(&c, &a);
    assert_int_equal(sk_sock_settimeout(&c, 5000), 0);
    assert_int_equal(sk_sock_sendall(&a, "abcde", 5), 0);
    sk_sock_close(&a);
    char buf[10] = "";
    assert_int_equal(sk_sock_recv_exact(&c, buf, sizeof buf), 5);
    assert_memory_equal(buf, "abcde", 5);
    assert_int_equal(sk_sock_recv(&c, buf, sizeof buf), 0);
    sk_sock_close(&c);
}

static void test_udp_roundtrip(void **state)
{
    (void)state;
    sk_sock u1, u2;
    listen_on(&u1, "127.0.0.1:0", SOCK_DGRAM);
    listen_on(&u2, "127.0.0.1:0", SOCK_DGRAM);
    assert_int_equal(sk_sock_settimeout(&u1, 5000), 0);
    assert_int_equal(sk_sock_settimeout(&u2, 5000), 0);
    sk_sockaddr to = loopback_addr(local_port(&u2));
    assert_int_equal(sk_sock_sendto(&u1, "ping", 4, &to), 4);

    char buf[16];
    sk_sockaddr from;
    assert_int_equal(sk_sock_recvfrom(&u2, buf, sizeof buf, &from), 4);
    assert_memory_equal(buf, "ping", 4);
    char fromtext[SK_ADDRSTRLEN], u1text[SK_ADDRSTRLEN];
    assert_true(sk_sockaddr_format((struct sockaddr *)&from.ss, from.len, fromtext, sizeof fromtext) > 0);
    assert_true(sk_sock_local_name(&u1, u1text, sizeof u1text) > 0);
    assert_string_equal(fromtext, u1text);

    assert_int_equal(sk_sock_sendto(&u2, "pong", 4, &from), 4);
    assert_int_equal(sk_sock_recvfrom(&u1, buf, sizeof buf, NULL), 4);
    assert_memory_equal(buf, "pong", 4);
    sk_sock_close(&u1);
    sk_sock_close(&u2);
}

static void test_send_to_closed_peer_epipe(void **state)
{
    (void)state;
    /* SIGPIPE stays at its default (terminate): surviving proves MSG_NOSIGNAL. */
    sk_sock c, a;
    tcp_pair(&c, &a);
    sk_sock_close(&a);
    assert_int_equal(sk_sock_settimeout(&c, 1000), 0);
    ssize_t rc = 0;
    for (int i = 0; i < 200 && rc >= 0; i++) {
        rc = sk_sock_send(&c, "data", 4);
        if (rc >= 0)
            usleep(5000);
    }
    assert_true(rc == -EPIPE || rc == -ECONNRESET);
    sk_sock_close(&c);
}

/* ---- listening ------------------------------------------------------- */

static void test_listen_busy_port_addrinuse(void **state)
{
    (void)state;
    sk_sock l, l2;
    listen_on(&l, "127.0.0.1:0", SOCK_STREAM);
    char text[64], want[128], err[SK_ERRBUF_SIZE] = "";
    unsigned port = local_port(&l);
    snprintf(text, sizeof text, "127.0.0.1:%u", port);
    snprintf(want, sizeof want, "127.0.0.1:%u: Address already in use", port);
    sk_endpoint ep = parse_ep(text);
    assert_int_equal(sk_sock_listen_endpoint(&l2, &ep, SOCK_STREAM, 0, 0, err, sizeof err),
                     -EADDRINUSE);
    assert_string_equal(err, want);
    sk_sock_close(&l);
}

static void test_reuseport_two_listeners(void **state)
{
    (void)state;
    sk_sock l1, l2;
    sk_endpoint ep = parse_ep("127.0.0.1:0");
    assert_int_equal(sk_sock_listen_endpoint(&l1, &ep, SOCK_STREAM, 0, SK_LISTEN_REUSEPORT, NULL, 0), 0);
    char text[64];
    snprintf(text, sizeof text, "127.0.0.1:%u", (unsigned)local_port(&l1));
    ep = parse_ep(text);
    assert_int_equal(sk_sock_listen_endpoint(&l2, &ep, SOCK_STREAM, 0, SK_LISTEN_REUSEPORT, NULL, 0), 0);
    sk_sock_close(&l1);
    sk_sock_close(&l2);
}

static void test_reuseaddr_rebinds_over_time_wait(void **state)
{
    (void)state;
    sk_sock l, c, a;
    listen_on(&l, "127.0.0.1:0", SOCK_STREAM);
    unsigned port = local_port(&l);
    char text[64];
    snprintf(text, sizeof text, "127.0.0.1:%u", port);
    sk_endpoint ep = parse_ep(text);
    assert_int_equal(sk_sock_connect(&c, &ep, SOCK_STREAM, 5000, NULL, 0), 0);
    assert_int_equal(sk_sock_settimeout(&l, 5000), 0);
    assert_int_equal(sk_sock_accept(&l, &a, NULL), 0);
    /* The server closes first: its side of the connection enters TIME_WAIT. */
    sk_sock_close(&a);
    assert_int_equal(sk_sock_settimeout(&c, 5000), 0);
    char buf[4];
    assert_int_equal(sk_sock_recv(&c, buf, sizeof buf), 0);
    sk_sock_close(&c);
    sk_sock_close(&l);

    /* A plain bind (no SO_REUSEADDR) is refused while TIME_WAIT lasts ... */
    sk_sock raw;
    sk_sockaddr addr = loopback_addr((uint16_t)port);
    assert_int_equal(sk_sock_open(&raw, AF_INET, SOCK_STREAM), 0);
    assert_int_equal(sk_sock_bind(&raw, &addr), -EADDRINUSE);
    sk_sock_close(&raw);
    /* ... but the listener sets SO_REUSEADDR and rebinds at once. */
    listen_on(&l, text, SOCK_STREAM);
    sk_sock_close(&l);
}

static void test_unix_stale_socket_replaced_live_refused(void **state)
{
    (void)state;
    char path[128], text[160], want[200], err[SK_ERRBUF_SIZE] = "";
    unix_path(path, sizeof path, "stale");
    snprintf(text, sizeof text, "unix:%s", path);

    /* A stale file: a listener that closed without unlinking its file. */
    sk_sock l, l2;
    listen_on(&l, text, SOCK_STREAM);
    sk_sock_close(&l);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    listen_on(&l, text, SOCK_STREAM);

    /* The file now has a live listener: a second one is refused. */
    sk_endpoint ep = parse_ep(text);
    snprintf(want, sizeof want, "%s: Address already in use", text);
    assert_int_equal(sk_sock_listen_endpoint(&l2, &ep, SOCK_STREAM, 0, 0, err, sizeof err),
                     -EADDRINUSE);
    assert_string_equal(err, want);

    /* And the live listener still works. */
    sk_sock c, a;
    assert_int_equal(sk_sock_connect(&c, &ep, SOCK_STREAM, 5000, NULL, 0), 0);
    assert_int_equal(sk_sock_settimeout(&l, 5000), 0);
    assert_int_equal(sk_sock_accept(&l, &a, NULL), 0);
    assert_int_equal(a.family, AF_UNIX);
    sk_sock_close(&a);
    sk_sock_close(&c);
    sk_sock_close(&l);
    unlink(path);
}

static void test_unix_regular_file_not_replaced(void **state)
{
    (void)state;
    char path[128], text[160];
    unix_path(path, sizeof path, "file");
    snprintf(text, sizeof text, "unix:%s", path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    sk_endpoint ep = parse_ep(text);
    sk_sock l;
    assert_int_equal(sk_sock_listen_endpoint(&l, &ep, SOCK_STREAM, 0, 0, NULL, 0), -EADDRINUSE);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    unlink(path);
}

static void test_abstract_unix_socket(void **state)
{
    (void)state;
    char text[128];
    snprintf(text, sizeof text, "unix:@sockkit-test-%ld", (long)getpid());
    sk_sock l, c, a;
    listen_on(&l, text, SOCK_STREAM);
    char name[SK_ADDRSTRLEN];
    assert_true(sk_sock_local_name(&l, name, sizeof name) > 0);
    assert_string_equal(name, text);

    sk_endpoint ep = parse_ep(text);
    assert_int_equal(sk_sock_connect(&c, &ep, SOCK_STREAM, 5000, NULL, 0), 0);
    assert_int_equal(sk_sock_settimeout(&l, 5000), 0);
    assert_int_equal(sk_sock_accept(&l, &a, NULL), 0);
    assert_int_equal(sk_sock_sendall(&c, "hi", 2), 0);
    char buf[2];
    assert_int_equal(sk_sock_settimeout(&a, 5000), 0);
    assert_int_equal(sk_sock_recv_exact(&a, buf, 2), 2);
    assert_memory_equal(buf, "hi", 2);
    assert_true(sk_sock_peer_name(&c, name, sizeof name) > 0);
    assert_string_equal(name, text);
    sk_sock_close(&a);
    sk_sock_close(&c);
    sk_sock_close(&l);
}

/* ---- descriptors, names, options ------------------------------------- */

static void test_every_fd_cloexec(void **state)
{
    (void)state;
    sk_sock l, c, a, o, f;
    listen_on(&l, "127.0.0.1:0", SOCK_STREAM);
    assert_cloexec(l.fd);
    char text[64];
    snprintf(text, sizeof text, "127.0.0.1:%u", (unsigned)local_port(&l));
    sk_endpoint ep = parse_ep(text);
    assert_int_equal(sk_sock_connect(&c, &ep, SOCK_STREAM, 5000, NULL, 0), 0);
    assert_cloexec(c.fd);
    assert_int_equal(sk_sock_settimeout(&l, 5000), 0);
    assert_int_equal(sk_sock_accept(&l, &a, NULL), 0);
    assert_cloexec(a.fd);
    assert_int_equal(a.timeout_ms, -1);
    assert_int_equal(a.family, AF_INET);
    assert_int_equal(a.type, SOCK_STREAM);
    assert_int_equal(sk_sock_open(&o, AF_INET6, SOCK_DGRAM), 0);
    assert_cloexec(o.fd);

    /* Adopting a plain descriptor sets close-on-exec and reads the kind. */
    int raw = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(raw >= 0);
    assert_int_equal(sk_sock_from_fd(&f, raw), 0);
    assert_cloexec(f.fd);
    assert_int_equal(f.family, AF_INET);
    assert_int_equal(f.type, SOCK_DGRAM);
    assert_true(fcntl(f.fd, F_GETFL) & O_NONBLOCK);
    sk_sock *all[] = {&l, &c, &a, &o, &f};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sk_sock_close(all[i]);
}

static void test_from_fd_rejects_non_socket(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    sk_sock s;
    assert_int_equal(sk_sock_from_fd(&s, p[0]), -ENOTSOCK);
    close(p[0]);
    close(p[1]);
}

static void test_close_is_idempotent(void **state)
{
    (void)state;
    sk_sock s;
    assert_int_equal(sk_sock_open(&s, AF_INET, SOCK_STREAM), 0);
    assert_int_equal(sk_sock_close(&s), 0);
    assert_int_equal(s.fd, -1);
    assert_int_equal(sk_sock_close(&s), 0);
    assert_int_equal(sk_sock_wait(&s, POLLIN, 0), -EBADF);
}

static void test_local_and_peer_names(void **state)
{
    (void)state;
    sk_sock l, c, a;
    listen_on(&l, "127.0.0.1:0", SOCK_STREAM);
    char want[64], name[SK_ADDRSTRLEN], peer[SK_ADDRSTRLEN];
    int len = snprintf(want, sizeof want, "127.0.0.1:%u", (unsigned)local_port(&l));
    assert_int_equal(sk_sock_local_name(&l, name, sizeof name), len);
    assert_string_equal(name, want);
    assert_int_equal(sk_sock_peer_name(&l, name, sizeof name), -ENOTCONN);

    sk_endpoint ep = parse_ep(want);
    assert_int_equal(sk_sock_connect(&c, &ep, SOCK_STREAM, 5000, NULL, 0), 0);
    assert_int_equal(sk_sock_settimeout(&l, 5000), 0);
    sk_sockaddr from;
    assert_int_equal(sk_sock_accept(&l, &a, &from), 0);
    assert_true(sk_sock_peer_name(&c, name, sizeof name) > 0);
    assert_string_equal(name, want);
    /* The client's own address is what the server sees as its peer. */
    assert_true(sk_sock_local_name(&c, name, sizeof name) > 0);
    assert_true(sk_sock_peer_name(&a, peer, sizeof peer) > 0);
    assert_string_equal(name, peer);
    char fromtext[SK_ADDRSTRLEN];
    assert_true(sk_sockaddr_format((struct sockaddr *)&from.ss, from.len, fromtext, sizeof fromtext) > 0);
    assert_string_equal(fromtext, peer);
    sk_sock_close(&a);
    sk_sock_close(&c);
    sk_sock_close(&l);
}

static void test_socket_options(void **state)
{
    (void)state;
    sk_sock c, a;
    tcp_pair(&c, &a);
    assert_int_equal(sk_sock_set_nodelay(&c, true), 0);
    assert_int_equal(sk_sock_set_keepalive(&c, true), 0);
    assert_int_equal(sk_sock_set_rcvbuf(&c, 8192), 0);
    int v = 0;
    socklen_t vl = sizeof v;
    assert_int_equal(getsockopt(c.fd, SOL_SOCKET, SO_KEEPALIVE, &v, &vl), 0);
    assert_int_equal(v, 1);
    sk_sock_close(&c);
    sk_sock_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recv_timeout_on_silent_peer),
        cmocka_unit_test(test_timeout_zero_gives_eagain),
        cmocka_unit_test(test_settimeout_rejects_below_minus_one),
        cmocka_unit_test(test_wait_times_out_then_sees_data),
        cmocka_unit_test(test_connect_closed_port_refused),
        cmocka_unit_test(test_connect_ex_nonblocking),
        cmocka_unit_test(test_accept_timeout),
        cmocka_unit_test(test_sendall_64mib_small_sndbuf),
        cmocka_unit_test(test_half_close_delivers_reply),
        cmocka_unit_test(test_recv_exact_short_at_eof),
        cmocka_unit_test(test_udp_roundtrip),
        cmocka_unit_test(test_send_to_closed_peer_epipe),
        cmocka_unit_test(test_listen_busy_port_addrinuse),
        cmocka_unit_test(test_reuseport_two_listeners),
        cmocka_unit_test(test_reuseaddr_rebinds_over_time_wait),
        cmocka_unit_test(test_unix_stale_socket_replaced_live_refused),
        cmocka_unit_test(test_unix_regular_file_not_replaced),
        cmocka_unit_test(test_abstract_unix_socket),
        cmocka_unit_test(test_every_fd_cloexec),
        cmocka_unit_test(test_from_fd_rejects_non_socket),
        cmocka_unit_test(test_close_is_idempotent),
        cmocka_unit_test(test_local_and_peer_names),
        cmocka_unit_test(test_socket_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
