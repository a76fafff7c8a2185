/* The listener and loop plumbing of the raw-epoll anchors (epoll_echo,
 * http_floor, chat_floor), shared so that each anchor's file holds only
 * what it does per connection.
 *
 * Header-only so that each anchor stays one file for bench/anchors/build.sh. */
#ifndef SK_BENCH_ANCHOR_REACTOR_H
#define SK_BENCH_ANCHOR_REACTOR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define ANCHOR_BACKLOG 511

/* A non-blocking TCP listener on 127.0.0.1:port (0: an ephemeral port)
 * with SO_REUSEADDR and TCP_NODELAY (accepted sockets inherit it, as they
 * do from sk serve's listeners), a backlog of 511 (SK_DEFAULT_BACKLOG: the
 * same queue for every server), announced by the line
 * "SERVICE listening on tcp:127.0.0.1:PORT" on stdout, which the bench
 * scripts wait for. Returns the listening fd, or -1 with errno set. */
static inline int anchor_listen(int port, const char *service)
{
    struct sockaddr_in sin;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((unsigned short)port);
    socklen_t len = sizeof sin;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, ANCHOR_BACKLOG) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
        close(fd);
        return -1;
    }
    printf("%s listening on tcp:127.0.0.1:%d\n", service, ntohs(sin.sin_port));
    fflush(stdout);
    return fd;
}

/* An epoll instance watching lfd for EPOLLIN (data.fd = lfd); -1 after
 * perror(who) when lfd < 0 or epoll fails. */
static inline int anchor_epoll(int lfd, const char *who)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    int ep = lfd < 0 ? -1 : epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
        perror(who);
        return -1;
    }
    return ep;
}

/* The next connection waiting on lfd, non-blocking and close-on-exec, or
 * -1 when there is none (EAGAIN) or accept4 failed otherwise (EMFILE &
 * co: the caller tries again on the next wakeup). */
static inline int anchor_accept(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0 || (errno != EINTR && errno != ECONNABORTED))
            return fd;
    }
}

/* epoll_wait without a timeout: the ready count (0 when interrupted), or
 * -1 after perror(who). */
static inline int anchor_wait(int ep, struct epoll_event *events, int max, const char *who)
{
    int n = epoll_wait(ep, events, max, -1);
    if (n < 0 && errno == EINTR)
        return 0;
    if (n < 0)
        perror(who);
    return n;
}

#endif
