/* Internal: accepting on the stream listeners of a server. One connection
 * at a time (sk_listener_accept: also the blocking models' accept threads),
 * or on every listener from one thread or process (the pool acceptor, the
 * fork supervisor, each prefork worker): one poll(2) set with the server's
 * stop_fd, a pause after resource errors, --max-conns at accept. */
#ifndef SK_LIB_LISTENER_ACCEPT_H
#define SK_LIB_LISTENER_ACCEPT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server_internal.h"

/* How long accepting pauses after EMFILE, ENFILE, ENOBUFS or ENOMEM: the
 * listener stays readable, so retrying at once would spin. */
enum { SK_ACCEPT_PAUSE_MS = 100 };

/* err: a negative errno from accepting (sk_sock_accept, accept4).
 * True when it concerns one pending connection, not the listener, so the
 * next accept may well succeed: EAGAIN (nothing pending), ECONNABORTED,
 * EINTR, and what accept(2) says Linux passes on from the new socket and
 * to treat like EAGAIN: EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET,
 * EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH, and EPERM (firewall rules).
 * False for the rest (EMFILE, ENFILE, ENOBUFS, ENOMEM, EBADF, EINVAL...). */
bool sk_accept_error_is_transient(int err);

/* Accept one pending connection from a stream listener into a (zeroed by
 * the caller; a->listener and a->sock are set) and track it with
 * sk_server_track.
 *   warned: per accepting thread; a resource error is logged once per run.
 * Returns 0 (a is tracked: serve it), -EAGAIN when there is nothing to do
 * (nothing pending, another process took it, a per-connection error, or
 * --max-conns refused and closed it), -ECANCELED once shutdown began, or a
 * resource error (-EMFILE, -ENFILE, -ENOBUFS, -ENOMEM): pause accepting
 * for SK_ACCEPT_PAUSE_MS. */
int sk_listener_accept(sk_listener *l, sk_active *a, bool *warned);

/* One accepting thread's (or process's) poll set over every stream
 * listener of a server. */
typedef struct sk_accept_set {
    sk_server *srv;
    struct pollfd *fds;     /* [0] the server's stop_fd, then one per stream listener */
    sk_listener **listeners;/* listeners[i] is polled in fds[i + 1] */
    size_t nlisteners;
    size_t n;               /* entries of fds in use since the last prepare */
    int64_t paused_until;   /* monotonic ms: listeners left out until then */
    bool warned;
} sk_accept_set;

/* Allocate the set for srv's stream listeners. Returns 0 or -ENOMEM. */
int sk_accept_set_init(sk_accept_set *s, sk_server *srv);

/* Free what init allocated; safe on a zeroed set. */
void sk_accept_set_free(sk_accept_set *s);

/* Fill s->fds for poll(2): stop_fd, then the listeners unless accepting is
 * paused. Lowers *timeout_ms (-1: none) to the end of a pause.
 * Returns the number of entries (s->n). */
size_t sk_accept_set_prepare(sk_accept_set *s, int *timeout_ms);

/* After poll(2): fds holds the s->n prepared entries with revents (s->fds
 * itself, or a copy at the start of a larger array). Accepts one
 * connection from each readable listener into a new zeroed object of
 * `size` bytes that starts with an sk_active, tracked, and hands it to
 * serve, which owns it from then on.
 * Returns 0, or -ECANCELED once stop_fd is readable or shutdown began. */
int sk_accept_set_ready(sk_accept_set *s, const struct pollfd *fds, size_t size,
                        void (*serve)(sk_active *a, void *arg), void *arg);

#endif
