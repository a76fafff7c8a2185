/* For unit tests that run a real server: start one listener of a test
 * service on tcp:127.0.0.1:0, and talk to it as a user would, with a
 * blocking loopback client whose every wait is bounded by a socket
 * timeout. Header-only (static inline functions), so that each
 * tests/unit/test_*.c executable includes what it uses. Include it after
 * <cmocka.h>. */
#ifndef SK_TESTS_SERVER_FIXTURE_H
#define SK_TESTS_SERVER_FIXTURE_H

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "sockkit/addr.h"
#include "sockkit/server.h"
#include "sockkit/service.h"

/* Create a server with cfg, add one stream listener of service on
 * tcp:127.0.0.1:0 and start it; the listener's address goes to *addr.
 * Returns 0, or sk_server_start's -errno with the server destroyed and
 * *srv NULL (-ENOSYS, -EPERM or -EACCES: the model is unavailable here).
 * Fails the test when creating the server or the listener fails. */
static inline int loopback_server_start(sk_server **srv, const sk_server_config *cfg,
                                        const sk_service *service, struct sockaddr_in *addr)
{
    assert_int_equal(sk_server_create(srv, cfg), 0);
    sk_endpoint ep;
    assert_int_equal(sk_endpoint_parse("tcp:127.0.0.1:0", &ep, NULL, 0), 0);
    assert_true(sk_server_add_listener(*srv, service, &ep, SOCK_STREAM, NULL, 0) >= 0);
    int rc = sk_server_start(*srv);
    if (rc < 0) {
        sk_server_destroy(*srv);
        *srv = NULL;
        return rc;
    }
    sk_sockaddr sa;
    assert_int_equal(sk_server_listener_address(*srv, 0, &sa), 0);
    memcpy(addr, &sa.ss, sizeof *addr);
    return 0;
}

/* CLOCK_MONOTONIC in milliseconds. */
static inline int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bound every receive and send on fd to ms milliseconds. */
static inline void loopback_set_timeouts(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* A blocking client connected to addr, its waits bounded to timeout_ms. */
static inline int loopback_connect(const struct sockaddr_in *addr, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    loopback_set_timeouts(fd, timeout_ms);
    assert_int_equal(connect(fd, (const struct sockaddr *)addr, sizeof *addr), 0);
    return fd;
}

/* Send text whole (fails the test otherwise). */
static inline void loopback_send(int fd, const char *text)
{
    size_t len = strlen(text);
    assert_int_equal(send(fd, text, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Read exactly len bytes (fewer only at EOF, on an error or a timeout);
 * returns how many arrived. */
static inline size_t loopback_read_exactly(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, (char *)buf + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* Read strlen(text) bytes and check they are text (shorter than 128). */
static inline void loopback_expect(int fd, const char *text)
{
    char buf[128] = {0};
    size_t len = strlen(text);
    assert_true(len < sizeof buf);
    assert_int_equal(loopback_read_exactly(fd, buf, len), len);
    assert_string_equal(buf, text);
}

#endif
