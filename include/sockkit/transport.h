/* A connection's byte transport: the one place that touches the bytes on
 * the wire. Buffered streams and services go through it, so a TLS
 * transport (OpenSSL) can slot in without touching any service.
 *
 * All operations are non-blocking and return a count or -errno, -EAGAIN
 * when they would block.
 */
#ifndef SOCKKIT_TRANSPORT_H
#define SOCKKIT_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_transport sk_transport;

typedef struct sk_transport_ops {
    const char *name;  /* "plain", "tls", ... */
    /* Read up to len bytes: count, 0 at EOF, or -errno (-EAGAIN). */
    ssize_t (*read)(sk_transport *t, void *buf, size_t len);
    /* Write from iov[0..iovcnt): count (maybe short) or -errno (-EAGAIN,
     * -EPIPE, -ECONNRESET). Never raises SIGPIPE. */
    ssize_t (*writev)(sk_transport *t, const struct iovec *iov, int iovcnt);
    /* Send up to len bytes of file fd from *offset, advancing it (sendfile(2)
     * for plain sockets). Returns the count or -errno (-EAGAIN). */
    ssize_t (*sendfile)(sk_transport *t, int fd, off_t *offset, size_t len);
    /* Half-close: no more writes; the peer reads EOF. Returns 0 or -errno. */
    int (*shutdown_write)(sk_transport *t);
    /* Close the descriptor and release the transport's state. */
    void (*close)(sk_transport *t);
} sk_transport_ops;

struct sk_transport {
    const sk_transport_ops *ops;
    int fd;              /* the socket; watched by the loop */
    void *ctx;           /* the transport's own state (NULL for plain) */
};

/* The plain socket transport: recv / sendmsg(MSG_NOSIGNAL) / sendfile /
 * shutdown(SHUT_WR) / close on fd. */
extern const sk_transport_ops sk_transport_plain;

/* Make t a plain transport over a non-blocking socket fd (owned from now:
 * t->ops->close closes it). */
void sk_transport_plain_init(sk_transport *t, int fd);

#ifdef __cplusplus
}
#endif
#endif
