/* The plain transport: bytes straight to and from a non-blocking socket
 * (recv, sendmsg with MSG_NOSIGNAL, sendfile, shutdown, close). */
#include <errno.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockkit/transport.h"

static ssize_t plain_read(sk_transport *t, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = recv(t->fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

static ssize_t plain_writev(sk_transport *t, const struct iovec *iov, int iovcnt)
{
    struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
    for (;;) {
        ssize_t n = sendmsg(t->fd, &msg, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

static ssize_t plain_sendfile(sk_transport *t, int fd, off_t *offset, size_t len)
{
    for (;;) {
        ssize_t n = sendfile(t->fd, fd, offset, len);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

static int plain_shutdown_write(sk_transport *t)
{
    return shutdown(t->fd, SHUT_WR) < 0 ? -errno : 0;
}

static void plain_close(sk_transport *t)
{
    if (t->fd >= 0)
        close(t->fd); /* on Linux the fd is released even on EINTR */
    t->fd = -1;
}

const sk_transport_ops sk_transport_plain = {
    .name = "plain",
    .read = plain_read,
    .writev = plain_writev,
    .sendfile = plain_sendfile,
    .shutdown_write = plain_shutdown_write,
    .close = plain_close,
};

void sk_transport_plain_init(sk_transport *t, int fd)
{
    t->ops = &sk_transport_plain;
    t->fd = fd;
    t->ctx = NULL;
}
