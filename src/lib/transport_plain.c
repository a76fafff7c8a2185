/* The plain transport: bytes straight to and from a non-blocking socket
 * (recv, send/sendmsg with MSG_NOSIGNAL, sendfile, shutdown, close).
 *
 * recv and send are made with syscall(2) rather than through libc's
 * wrappers: those are pthread cancellation points, and in a process with
 * more than one thread (every sk server: the main thread waits for
 * signals) each call brackets the system call with two atomic
 * compare-and-swaps on the thread's cancellation state — four per echo
 * round trip. sockkit never cancels a thread, and these sockets are
 * non-blocking, so the cancellation point buys nothing. */
#include <errno.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sockkit/transport.h"

/* A syscall's result as the transport reports it: count or -errno. */
static ssize_t result(ssize_t n)
{
    if (n >= 0)
        return n;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

static ssize_t plain_read(sk_transport *t, void *buf, size_t len)
{
    ssize_t n;
    do
        n = syscall(SYS_recvfrom, t->fd, buf, len, 0, NULL, NULL); /* recv(2) */
    while (n < 0 && errno == EINTR);
    return result(n);
}

/* Several buffers: one sendmsg(2). */
static ssize_t plain_sendmsg(sk_transport *t, const struct iovec *iov, int iovcnt)
{
    struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
    ssize_t n;
    do
        n = syscall(SYS_sendmsg, t->fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return result(n);
}

/* One buffer (the common case) goes through send(2) — sendto(2) without
 * an address — which is a little cheaper than sendmsg(2)'s msghdr and
 * iovec copies. */
static ssize_t plain_writev(sk_transport *t, const struct iovec *iov, int iovcnt)
{
    if (iovcnt != 1)
        return plain_sendmsg(t, iov, iovcnt);
    ssize_t n;
    do
        n = syscall(SYS_sendto, t->fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL, NULL, 0);
    while (n < 0 && errno == EINTR);
    return result(n);
}

static ssize_t plain_sendfile(sk_transport *t, int fd, off_t *offset, size_t len)
{
    ssize_t n;
    do
        n = sendfile(t->fd, fd, offset, len);
    while (n < 0 && errno == EINTR);
    return result(n);
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
