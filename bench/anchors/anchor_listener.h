/* The listener of the raw-epoll anchors (epoll_echo, http_floor,
 * chat_floor): a non-blocking TCP socket on 127.0.0.1:port (0: an
 * ephemeral port) with SO_REUSEADDR and TCP_NODELAY (accepted sockets
 * inherit it, as they do from sk serve's listeners), a backlog of 511
 * (SK_DEFAULT_BACKLOG: the same queue for every server), and the line
 * "SERVICE listening on tcp:127.0.0.1:PORT" on stdout, which the bench
 * scripts wait for.
 *
 * Header-only so that each anchor stays one file for bench/anchors/build.sh.
 * Returns the listening fd, or -1 with errno set. */
#ifndef SK_BENCH_ANCHOR_LISTENER_H
#define SK_BENCH_ANCHOR_LISTENER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ANCHOR_BACKLOG 511

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

#endif
