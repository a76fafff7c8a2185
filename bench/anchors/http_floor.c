/* http_floor: the static-file floor for HTTP — the least a server can do
 * per keep-alive request. One thread, level-triggered epoll, one read(2)
 * per readable socket, and for every request head in it ("\r\n\r\n") one
 * write(2) of a reply made once at start: the headers lighttpd and
 * sk serve http send for a file (Date, Content-Type, Content-Length,
 * Last-Modified, ETag, Accept-Ranges) and the file's bytes. No parsing, no
 * path, no stat, no open: whatever is asked, that file comes back (and an
 * HTTP/1.0 request line closes the connection after its reply).
 *
 * What no real server can beat with wrk on the same machine, so
 * bench/http.sh runs it beside lighttpd and nginx: it tells how far the
 * load generator, not the server, sets the rate. Small files only: a
 * short write drops the connection. Not hardened.
 *
 * usage: http_floor FILE [PORT]     (PORT 0 or none: an ephemeral port)
 * FILE at most 64 KiB. Binds 127.0.0.1 only and prints
 * "http listening on tcp:127.0.0.1:PORT".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "anchor_reactor.h"

#define MAX_EVENTS 1024
#define READ_SIZE 65536
#define FILE_MAX (64 * 1024)

struct reply {
    char *bytes;
    size_t len;
};

/* The one reply: headers for the file at path, then its bytes. */
static int make_reply(const char *path, struct reply *r)
{
    char head[512], date[64], modified[64];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > FILE_MAX) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    time_t now = time(NULL);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&now));
    strftime(modified, sizeof modified, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&st.st_mtime));
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nServer: http_floor\r\nDate: %s\r\n"
                     "Content-Type: application/octet-stream\r\nContent-Length: %lld\r\n"
                     "Last-Modified: %s\r\nETag: \"%llx-%llx\"\r\nAccept-Ranges: bytes\r\n\r\n",
                     date, (long long)st.st_size, modified, (unsigned long long)st.st_mtime,
                     (unsigned long long)st.st_size);
    r->len = (size_t)n + (size_t)st.st_size;
    r->bytes = malloc(r->len);
    if (!r->bytes || pread(fd, r->bytes + n, (size_t)st.st_size, 0) != st.st_size) {
        close(fd);
        return -1;
    }
    memcpy(r->bytes, head, (size_t)n);
    close(fd);
    return 0;
}

static void accept_all(int ep, int lfd)
{
    for (int fd; (fd = anchor_accept(lfd)) >= 0;) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            close(fd);
    }
}

/* Request heads ended in data; *tail carries the last 3 bytes of the
 * previous read so that a "\r\n\r\n" split between reads still counts. */
static int count_heads(const char *data, size_t len, unsigned *tail)
{
    int heads = 0;
    unsigned t = *tail;
    for (size_t i = 0; i < len; i++) {
        t = (t << 8) | (unsigned char)data[i];
        if (t == 0x0d0a0d0aU)
            heads++;
    }
    *tail = t;
    return heads;
}

static void on_readable(int fd, const struct reply *r, unsigned *tails, size_t ntails)
{
    static char buf[READ_SIZE];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    unsigned scratch = 0, *tail = (size_t)fd < ntails ? &tails[fd] : &scratch;
    if (n <= 0) {
        *tail = 0;
        close(fd);
        return;
    }
    for (int heads = count_heads(buf, (size_t)n, tail); heads > 0; heads--)
        if (write(fd, r->bytes, r->len) != (ssize_t)r->len) {
            *tail = 0;
            close(fd);
            return;
        }
    if (memmem(buf, (size_t)n, " HTTP/1.0\r\n", 11)) { /* no keep-alive: done */
        *tail = 0;
        close(fd);
    }
}

int main(int argc, char **argv)
{
    static struct epoll_event events[MAX_EVENTS];
    static unsigned tails[65536];
    struct reply reply;

    if (argc < 2 || make_reply(argv[1], &reply) < 0) {
        fprintf(stderr, "usage: http_floor FILE [PORT]   (FILE readable, at most 64 KiB)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int lfd = anchor_listen(argc > 2 ? atoi(argv[2]) : 0, "http");
    int ep = anchor_epoll(lfd, "http_floor");
    if (ep < 0)
        return 1;
    for (;;) {
        int n = anchor_wait(ep, events, MAX_EVENTS, "http_floor: epoll_wait");
        if (n < 0)
            return 1;
        for (int i = 0; i < n; i++) {
            if (events[i].data.fd == lfd)
                accept_all(ep, lfd);
            else
                on_readable(events[i].data.fd, &reply, tails, sizeof tails / sizeof tails[0]);
        }
    }
}
