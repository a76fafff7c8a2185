/* epoll_echo: the raw-epoll floor — the least an epoll echo server can do
 * per round trip. One thread, level-triggered epoll_wait over up to 1024
 * events, one read(2) per readable socket into one static buffer, one
 * write(2) straight back. At 50 busy connections that is read + write plus a
 * share of one epoll_wait: about 2.2 system calls per round trip.
 *
 * Nothing is allocated per connection unless a write comes up short (never
 * with small ping-pong messages): then the rest is kept, reading stops and
 * the socket waits for EPOLLOUT, so the floor stays a correct echo server.
 *
 * Benchmark anchor for bench/models.sh. Not hardened: EMFILE at accept
 * retries on the next wakeup (the benchmark raises RLIMIT_NOFILE first).
 *
 * usage: epoll_echo [PORT]     (default 0: an ephemeral port)
 * Binds 127.0.0.1 only and prints "echo listening on tcp:127.0.0.1:PORT".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "anchor_reactor.h"

#define MAX_EVENTS 1024
#define BUF_SIZE 65536

/* Bytes a short write left behind, for one connection. */
struct pending {
    size_t off, len;
    char data[];
};

/* Short-write leftovers indexed by fd; NULL for almost every fd. */
struct backlog {
    struct pending **by_fd;
    size_t cap;
};

static char buf[BUF_SIZE];

static void close_conn(struct backlog *bl, int fd)
{
    if ((size_t)fd < bl->cap) {
        free(bl->by_fd[fd]);
        bl->by_fd[fd] = NULL;
    }
    close(fd); /* also removes it from the epoll set */
}

static void accept_all(int ep, int lfd)
{
    for (int fd; (fd = anchor_accept(lfd)) >= 0;) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            close(fd);
    }
}

/* Keep what write(2) did not take and wait for EPOLLOUT. -1: give up. */
static int keep_rest(struct backlog *bl, int ep, int fd, const char *data, size_t len)
{
    if ((size_t)fd >= bl->cap) {
        size_t cap = (size_t)fd * 2 + 64;
        struct pending **by_fd = realloc(bl->by_fd, cap * sizeof *by_fd);
        if (!by_fd)
            return -1;
        memset(by_fd + bl->cap, 0, (cap - bl->cap) * sizeof *by_fd);
        bl->by_fd = by_fd;
        bl->cap = cap;
    }
    struct pending *p = malloc(sizeof *p + len);
    if (!p)
        return -1;
    p->off = 0;
    p->len = len;
    memcpy(p->data, data, len);
    bl->by_fd[fd] = p;
    struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void on_readable(struct backlog *bl, int ep, int fd)
{
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        close_conn(bl, fd);
        return;
    }
    ssize_t w = write(fd, buf, (size_t)n);
    if (w == n)
        return;
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
        close_conn(bl, fd);
        return;
    }
    if (w < 0)
        w = 0;
    if (keep_rest(bl, ep, fd, buf + w, (size_t)(n - w)) < 0)
        close_conn(bl, fd);
}

static void on_writable(struct backlog *bl, int ep, int fd)
{
    struct pending *p = (size_t)fd < bl->cap ? bl->by_fd[fd] : NULL;
    if (!p)
        return;
    ssize_t w = write(fd, p->data + p->off, p->len - p->off);
    if (w < 0) {
        if (errno != EAGAIN && errno != EINTR)
            close_conn(bl, fd);
        return;
    }
    p->off += (size_t)w;
    if (p->off < p->len)
        return;
    free(p);
    bl->by_fd[fd] = NULL;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0)
        close_conn(bl, fd);
}

int main(int argc, char **argv)
{
    static struct epoll_event events[MAX_EVENTS];
    struct backlog bl = {NULL, 0};
    int port = argc > 1 ? atoi(argv[1]) : 0;

    signal(SIGPIPE, SIG_IGN);
    int lfd = anchor_listen(port, "echo");
    int ep = anchor_epoll(lfd, "epoll_echo");
    if (ep < 0)
        return 1;
    for (;;) {
        int n = anchor_wait(ep, events, MAX_EVENTS, "epoll_echo: epoll_wait");
        if (n < 0)
            return 1;
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd)
                accept_all(ep, lfd);
            else if (events[i].events & EPOLLOUT)
                on_writable(&bl, ep, fd);
            else
                on_readable(&bl, ep, fd);
        }
    }
}
