/* The client sockets of sk bench (bench_socket.h). */
#include "bench_socket.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

int bench_socket_connect(sk_sock *sock, sk_io *io, const sk_sockaddr *a, sk_io_cb cb, void *data)
{
    int rc = sk_sock_open(sock, a->ss.ss_family, SOCK_STREAM);
    if (rc < 0)
        return rc;
    sock->timeout_ms = 0;
    if (a->ss.ss_family != AF_UNIX)
        sk_sock_set_nodelay(sock, true);
    sk_io_init(io, sock->fd, cb, data);
    return sk_sock_connect_ex(sock, a);
}

void bench_socket_close(sk_sock *sock, sk_io *io, sk_loop *loop)
{
    if (io->active)
        sk_io_stop(loop, io);
    sk_sock_close(sock);
}

ssize_t bench_socket_recv(int fd, void *buf, size_t len)
{
    ssize_t n;
    do
        n = recv(fd, buf, len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EWOULDBLOCK)
        return -EAGAIN;
    return n < 0 ? -errno : n;
}

void bench_socket_address(const sk_sockaddr *a, char *where, size_t len)
{
    if (sk_sockaddr_format((const struct sockaddr *)&a->ss, a->len, where, len) < 0)
        snprintf(where, len, "(address)");
}
