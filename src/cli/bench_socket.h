/* The client sockets of the `sk bench` engines: opening a non-blocking
 * connection watched on the engine's sk_loop, receiving without waiting,
 * and naming the address in error messages. */
#ifndef SK_CLI_BENCH_SOCKET_H
#define SK_CLI_BENCH_SOCKET_H

#include <stddef.h>
#include <sys/types.h>

#include "sockkit/addr.h"
#include "sockkit/loop.h"
#include "sockkit/sock.h"

/* Open a non-blocking stream socket for a (TCP_NODELAY unless Unix),
 * prepare io for it with cb/data (not started), and start connecting.
 * Returns 0 (connected), -EINPROGRESS (wait for writability), -EAGAIN (a
 * Unix listener's accept queue is full), or another -errno (nothing left
 * to watch when the socket could not be opened). */
int bench_socket_connect(sk_sock *sock, sk_io *io, const sk_sockaddr *a, sk_io_cb cb, void *data);

/* Stop watching io (when it is active) and close sock. */
void bench_socket_close(sk_sock *sock, sk_io *io, sk_loop *loop);

/* Receive up to len bytes without waiting, retrying EINTR. Returns the
 * byte count, 0 at EOF, -EAGAIN when nothing is there, or -errno. */
ssize_t bench_socket_recv(int fd, void *buf, size_t len);

/* a as text in where[len] ("(address)" when it cannot be formatted). */
void bench_socket_address(const sk_sockaddr *a, char *where, size_t len);

#endif
