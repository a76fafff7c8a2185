/* The socket facade: Python's socket object semantics in C.
 *
 * A sk_sock wraps one file descriptor (always O_CLOEXEC, internally
 * O_NONBLOCK) and a timeout in milliseconds, as Python's settimeout():
 *   -1  blocking: operations wait as long as needed;
 *    0  non-blocking: operations that would wait return -EAGAIN;
 *   >0  operations wait at most that long, then return -ETIMEDOUT.
 * Every call retries EINTR, sends with MSG_NOSIGNAL (SIGPIPE never fires;
 * a closed peer gives -EPIPE), and returns a negative errno on failure.
 */
#ifndef SOCKKIT_SOCK_H
#define SOCKKIT_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "sockkit/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default listen(2) backlog (the kernel caps it at net.core.somaxconn). */
#define SK_DEFAULT_BACKLOG 511

typedef struct sk_sock {
    int fd;          /* -1 when closed */
    int family;      /* AF_INET, AF_INET6, AF_UNIX */
    int type;        /* SOCK_STREAM or SOCK_DGRAM */
    int timeout_ms;  /* -1 blocking, 0 non-blocking, >0 milliseconds */
} sk_sock;

/* Flags for sk_sock_listen_endpoint. */
enum {
    SK_LISTEN_REUSEPORT = 1 << 0, /* set SO_REUSEPORT (several listeners, one port) */
};

/* Create a socket, as socket.socket(family, type).
 *   family: AF_INET, AF_INET6 or AF_UNIX; type: SOCK_STREAM or SOCK_DGRAM.
 * The new socket is blocking (timeout -1). Returns 0 or -errno
 * (-EAFNOSUPPORT, -EMFILE, -ENFILE, ...). */
int sk_sock_open(sk_sock *s, int family, int type);

/* Adopt an existing socket descriptor (sets O_CLOEXEC and O_NONBLOCK,
 * reads family and type with getsockopt SO_DOMAIN/SO_TYPE).
 * Returns 0 or -errno (-ENOTSOCK when fd is not a socket). */
int sk_sock_from_fd(sk_sock *s, int fd);

/* Bind to a resolved address (POSIX bind). Returns 0 or -errno
 * (-EADDRINUSE, -EACCES, -EADDRNOTAVAIL). */
int sk_sock_bind(sk_sock *s, const sk_sockaddr *addr);

/* Start listening (POSIX listen). backlog: queue length, <= 0 for
 * SK_DEFAULT_BACKLOG. Returns 0 or -errno. */
int sk_sock_listen(sk_sock *s, int backlog);

/* Resolve, create, bind and (for SOCK_STREAM) listen in one call, the way a
 * server opens a listener. Sets SO_REUSEADDR on TCP (a restarted server
 * binds at once instead of "address already in use"), IPV6_V6ONLY on IPv6
 * wildcards is left at the system default. A Unix path whose socket file
 * is stale (nobody accepts on it) is unlinked first; a live one gives
 * -EADDRINUSE.
 *   ep:       the endpoint; socktype: SOCK_STREAM or SOCK_DGRAM.
 *   backlog:  listen queue length, <= 0 for SK_DEFAULT_BACKLOG.
 *   flags:    SK_LISTEN_* bits.
 *   err/errlen: optional message, e.g. `127.0.0.1:7007: Address already in use`.
 * Returns 0 or -errno (-EADDRINUSE, -EACCES, -EADDRNOTAVAIL, ...). */
int sk_sock_listen_endpoint(sk_sock *s, const sk_endpoint *ep, int socktype, int backlog,
                            int flags, char *err, size_t errlen);

/* Accept a connection (accept4 with SOCK_CLOEXEC|SOCK_NONBLOCK), honouring
 * the listener's timeout. The new socket is blocking (timeout -1).
 *   peer: optional, receives the peer address.
 * Returns 0 or -errno (-EAGAIN, -ETIMEDOUT, -EMFILE, -ECONNABORTED, ...). */
int sk_sock_accept(sk_sock *listener, sk_sock *client, sk_sockaddr *peer);

/* One connect attempt to one address, as Python's connect_ex: the error is
 * returned, never reported elsewhere. Honours the socket's timeout; on a
 * non-blocking socket returns -EINPROGRESS and the caller waits for
 * writability, then reads the result with sk_sock_error().
 * Returns 0 or -errno (-ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH, ...). */
int sk_sock_connect_ex(sk_sock *s, const sk_sockaddr *addr);

/* Connect to an endpoint as Python's socket.create_connection: resolve,
 * then try each address in turn until one connects.
 *   s:          receives the new connected socket (blocking, timeout -1).
 *   socktype:   SOCK_STREAM, or SOCK_DGRAM for a connected UDP socket.
 *   timeout_ms: limit for each attempt, -1 for none.
 *   err/errlen: optional message, e.g. `127.0.0.1:9: Connection refused`.
 * Returns 0 or -errno of the last attempt (-ECONNREFUSED, -ETIMEDOUT,
 * -EADDRNOTAVAIL when the name does not resolve). */
int sk_sock_connect(sk_sock *s, const sk_endpoint *ep, int socktype, int timeout_ms,
                    char *err, size_t errlen);

/* Read and clear the pending socket error (getsockopt SO_ERROR).
 * Returns 0 or the pending error as -errno. */
int sk_sock_error(sk_sock *s);

/* Send some bytes (send with MSG_NOSIGNAL), waiting per the timeout.
 * Returns bytes sent (may be fewer than len) or -errno (-EAGAIN,
 * -ETIMEDOUT, -EPIPE, -ECONNRESET). */
ssize_t sk_sock_send(sk_sock *s, const void *buf, size_t len);

/* Send all len bytes, looping over partial writes, as Python's sendall.
 * The timeout bounds the whole call. Returns 0 or -errno; on error some
 * prefix of buf may have been sent. */
int sk_sock_sendall(sk_sock *s, const void *buf, size_t len);

/* Send up to len bytes of file fd from *offset with sendfile(2) (no copy
 * through user space), advancing *offset; waits per the timeout. A socket
 * never raises SIGPIPE here either: ignore SIGPIPE in the process (sendfile
 * takes no MSG_NOSIGNAL), as `sk` does.
 * Returns bytes sent (0 at the file's end) or -errno (-EAGAIN, -ETIMEDOUT,
 * -EPIPE, -ECONNRESET, -EINVAL). */
ssize_t sk_sock_sendfile(sk_sock *s, int fd, off_t *offset, size_t len);

/* Receive up to len bytes. Returns the count (0 = the peer closed its
 * side, EOF) or -errno (-EAGAIN, -ETIMEDOUT, -ECONNRESET). */
ssize_t sk_sock_recv(sk_sock *s, void *buf, size_t len);

/* Receive exactly len bytes, looping over short reads. The timeout bounds
 * the whole call. Returns len, or fewer (the count received) when the peer
 * closed first, or -errno (-ETIMEDOUT, -ECONNRESET). */
ssize_t sk_sock_recv_exact(sk_sock *s, void *buf, size_t len);

/* Send one datagram to addr (sendto with MSG_NOSIGNAL).
 * Returns bytes sent or -errno (-EMSGSIZE, -EAGAIN, -ETIMEDOUT). */
ssize_t sk_sock_sendto(sk_sock *s, const void *buf, size_t len, const sk_sockaddr *addr);

/* Receive one datagram (recvfrom); a datagram longer than len is truncated.
 *   from: optional, receives the sender's address.
 * Returns bytes received or -errno (-EAGAIN, -ETIMEDOUT). */
ssize_t sk_sock_recvfrom(sk_sock *s, void *buf, size_t len, sk_sockaddr *from);

/* Half-close (POSIX shutdown): how is SHUT_RD, SHUT_WR or SHUT_RDWR.
 * After SHUT_WR the peer reads EOF and can still send its reply.
 * Returns 0 or -errno (-ENOTCONN). */
int sk_sock_shutdown(sk_sock *s, int how);

/* Close the descriptor (a Unix listener's socket file stays; unlink it
 * yourself). Safe to call twice. Returns 0 or -errno. */
int sk_sock_close(sk_sock *s);

/* Set the timeout in milliseconds: -1 blocking, 0 non-blocking, >0 limit.
 * Returns 0, or -EINVAL for values below -1. */
int sk_sock_settimeout(sk_sock *s, int timeout_ms);

/* Wait until the socket is readable (POLLIN) or writable (POLLOUT).
 *   events:     POLLIN and/or POLLOUT; timeout_ms: -1 forever, 0 poll once.
 * Returns the ready events (> 0), -ETIMEDOUT, or -errno. */
int sk_sock_wait(sk_sock *s, short events, int timeout_ms);

/* Local / peer address as text ("127.0.0.1:7007", "[::1]:80", "unix:/p").
 *   buf/len: destination and size in bytes (SK_ADDRSTRLEN is enough).
 * Returns the length written or -errno (-ENOTCONN for an unconnected peer). */
int sk_sock_local_name(sk_sock *s, char *buf, size_t len);
int sk_sock_peer_name(sk_sock *s, char *buf, size_t len);

/* Socket options. Each returns 0 or -errno.
 * nodelay: TCP_NODELAY (disable Nagle); keepalive: SO_KEEPALIVE;
 * reuseaddr: SO_REUSEADDR; reuseport: SO_REUSEPORT. */
int sk_sock_set_nodelay(sk_sock *s, bool on);
int sk_sock_set_keepalive(sk_sock *s, bool on);
int sk_sock_set_reuseaddr(sk_sock *s, bool on);
int sk_sock_set_reuseport(sk_sock *s, bool on);

/* Kernel buffer sizes in bytes (SO_SNDBUF / SO_RCVBUF; Linux doubles the
 * value for bookkeeping, socket(7)). Returns 0 or -errno. */
int sk_sock_set_sndbuf(sk_sock *s, int bytes);
int sk_sock_set_rcvbuf(sk_sock *s, int bytes);

#ifdef __cplusplus
}
#endif
#endif
