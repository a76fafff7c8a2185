/* chat_floor: the chat fan-out floor — the least a one-room chat server can
 * do per delivery. One thread, level-triggered epoll. Every client gets a
 * greeting line on connect; every whole line a client sends is appended to
 * one outgoing batch; after each epoll_wait turn the batch goes to every
 * client with one write(2) each. While those writes run, new lines pile up
 * for the next turn, so the batch grows with the load: the fewest writes
 * for the latency the machine allows. No nicknames, no timestamps, no
 * per-client queues beyond what a short write leaves.
 *
 * It speaks just enough of the chat protocol for `sk bench --workload chat`
 * (a line per connect, each said line delivered to every client, the sender
 * included). Benchmark anchor for bench/chat.sh; not hardened: a client
 * whose socket buffer fills keeps its unsent bytes in memory without bound.
 *
 * usage: chat_floor [PORT]     (default 0: an ephemeral port)
 * Binds 127.0.0.1 only and prints "chat listening on tcp:127.0.0.1:PORT".
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
#define READ_SIZE 65536
#define LINE_MAX_BYTES 4096
#define GREETING "* welcome to the chat floor\n"

/* One client: the start of a line not yet ended, and what a short write
 * left behind. */
struct client {
    int fd;
    size_t part_len;
    char part[LINE_MAX_BYTES];
    char *unsent;
    size_t unsent_len;
};

/* Every client by fd, and the batch of lines said since the last turn. */
struct room {
    int ep;
    struct client **by_fd;
    size_t cap;
    int *fds;            /* connected fds, in no order */
    size_t nfds, fds_cap;
    char *batch;
    size_t batch_len, batch_cap;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return -1;
    memset((char *)q + *cap * elem, 0, (n - *cap) * elem);
    *p = q;
    *cap = n;
    return 0;
}

static void drop(struct room *r, int fd)
{
    struct client *c = r->by_fd[fd];
    for (size_t i = 0; i < r->nfds; i++)
        if (r->fds[i] == fd) {
            r->fds[i] = r->fds[--r->nfds];
            break;
        }
    free(c->unsent);
    free(c);
    r->by_fd[fd] = NULL;
    close(fd);
}

/* Write data to c, keeping what the socket did not take (then EPOLLOUT). */
static void deliver(struct room *r, struct client *c, const char *data, size_t len)
{
    if (c->unsent_len == 0) {
        ssize_t w = write(c->fd, data, len);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            drop(r, c->fd);
            return;
        }
        if (w == (ssize_t)len)
            return;
        if (w > 0) {
            data += w;
            len -= (size_t)w;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.fd = c->fd};
        epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
    char *u = realloc(c->unsent, c->unsent_len + len);
    if (!u) {
        drop(r, c->fd);
        return;
    }
    memcpy(u + c->unsent_len, data, len);
    c->unsent = u;
    c->unsent_len += len;
}

static void on_writable(struct room *r, struct client *c)
{
    ssize_t w = write(c->fd, c->unsent, c->unsent_len);
    if (w < 0) {
        if (errno != EAGAIN && errno != EINTR)
            drop(r, c->fd);
        return;
    }
    memmove(c->unsent, c->unsent + w, c->unsent_len - (size_t)w);
    c->unsent_len -= (size_t)w;
    if (c->unsent_len == 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = c->fd};
        epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
}

static void accept_all(struct room *r, int lfd)
{
    for (int fd; (fd = anchor_accept(lfd)) >= 0;) {
        struct client *c = calloc(1, sizeof *c);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (!c || grow((void **)&r->by_fd, &r->cap, (size_t)fd + 1, sizeof *r->by_fd) < 0 ||
            grow((void **)&r->fds, &r->fds_cap, r->nfds + 1, sizeof *r->fds) < 0 ||
            epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        r->by_fd[fd] = c;
        r->fds[r->nfds++] = fd;
        deliver(r, c, GREETING, sizeof GREETING - 1);
    }
}

/* Append line (with its LF) to the batch. */
static void say(struct room *r, const char *line, size_t len)
{
    if (grow((void **)&r->batch, &r->batch_cap, r->batch_len + len, 1) < 0)
        return;
    memcpy(r->batch + r->batch_len, line, len);
    r->batch_len += len;
}

static void on_readable(struct room *r, struct client *c)
{
    static char buf[READ_SIZE];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        drop(r, c->fd);
        return;
    }
    const char *p = buf, *end = buf + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t seg = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        if (c->part_len + seg > LINE_MAX_BYTES)
            c->part_len = 0; /* too long: forget it */
        else {
            memcpy(c->part + c->part_len, p, seg);
            c->part_len += seg;
        }
        if (nl && c->part_len > 0) {
            say(r, c->part, c->part_len);
            c->part_len = 0;
        }
        p += seg;
    }
}

/* The turn's batch to every client, one write each. */
static void fan_out(struct room *r)
{
    if (r->batch_len == 0)
        return;
    for (size_t i = r->nfds; i-- > 0;) {
        struct client *c = r->by_fd[r->fds[i]];
        deliver(r, c, r->batch, r->batch_len);
    }
    r->batch_len = 0;
}

int main(int argc, char **argv)
{
    static struct epoll_event events[MAX_EVENTS];
    struct room r = {0};
    int port = argc > 1 ? atoi(argv[1]) : 0;

    signal(SIGPIPE, SIG_IGN);
    int lfd = anchor_listen(port, "chat");
    r.ep = anchor_epoll(lfd, "chat_floor");
    if (r.ep < 0)
        return 1;
    for (;;) {
        int n = anchor_wait(r.ep, events, MAX_EVENTS, "chat_floor: epoll_wait");
        if (n < 0)
            return 1;
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            struct client *c = fd == lfd ? NULL : r.by_fd[fd];
            if (fd == lfd)
                accept_all(&r, lfd);
            else if (c && (events[i].events & EPOLLOUT))
                on_writable(&r, c);
            else if (c)
                on_readable(&r, c);
        }
        fan_out(&r);
    }
}
