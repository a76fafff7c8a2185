/* A reactor's listeners: accepting stream connections and answering
 * datagrams from the event loop.
 *
 * Accepting is fair: at most ACCEPTS_PER_EVENT connections per readiness
 * event. Out of descriptors (EMFILE/ENFILE), a listener would stay
 * readable and the loop would spin; instead the reactor gives up its
 * reserve descriptor to accept the oldest pending connection and close it
 * at once (the peer sees an orderly close rather than a hang), then stops
 * watching the listener for SK_ACCEPT_PAUSE_MS.
 *
 * Under the reactors model each reactor accepts on its own SO_REUSEPORT
 * socket (TCP) and answers on its own UDP socket, so the kernel spreads
 * clients over the reactors. Unix listeners cannot share an address: every
 * reactor watches the one socket and whichever accepts first serves. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "listener_accept.h"
#include "reactor.h"
#include "sockkit/error.h"

enum { ACCEPTS_PER_EVENT = 64 };

/* Out of descriptors: close the reserve, accept the oldest pending
 * connection and close it, take the reserve back. */
static void shed_one(sk_reactor_listener *rl)
{
    sk_reactor *r = rl->reactor;
    if (r->reserve_fd < 0)
        return;
    close(r->reserve_fd);
    int fd = accept4(rl->sock->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0)
        close(fd);
    r->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void resume_accepting(sk_loop *loop, sk_timer *t)
{
    sk_reactor_listener *rl = t->data;
    if (!rl->reactor->draining && sk_io_start(loop, &rl->io, SK_POLLIN) < 0)
        sk_timer_start(loop, t, SK_ACCEPT_PAUSE_MS, 0);
}

/* accept failed for a reason that will not pass by itself at once. */
static void accept_failed(sk_reactor_listener *rl, int err)
{
    sk_reactor *r = rl->reactor;
    sk_listener *l = rl->listener;
    if (sk_server_stopping(l->server)) { /* the listener was shut: the drain is coming */
        sk_io_stop(r->loop, &rl->io);
        return;
    }
    if (err == -EMFILE || err == -ENFILE)
        shed_one(rl);
    if (!rl->warned)
        sk_server_logf(l->server, SK_LOG_ERROR, "accept %s: %s; pausing accepts", l->name,
                       sk_strerror(err));
    rl->warned = true;
    sk_io_stop(r->loop, &rl->io);
    sk_timer_start(r->loop, &rl->backoff, SK_ACCEPT_PAUSE_MS, 0);
}

static void on_acceptable(sk_loop *loop, sk_io *io, unsigned events)
{
    sk_reactor_listener *rl = io->data;
    (void)loop;
    (void)events;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        sk_sock client;
        sk_sockaddr peer;
        int rc = sk_sock_accept(rl->sock, &client, &peer);
        if (rc == 0) {
            rl->warned = false;
            sk_reactor_conn_open(rl->reactor, rl->listener, &client, &peer);
        } else if (rc == -EAGAIN) {
            return;
        } else if (!sk_accept_error_is_transient(rc)) {
            accept_failed(rl, rc);
            return;
        }
    }
}

static void on_datagram(sk_loop *loop, sk_io *io, unsigned events)
{
    sk_reactor_listener *rl = io->data;
    (void)events;
    sk_serve_datagram_ready(rl->listener, rl->sock, sk_loop_read_buffer(loop),
                            rl->reactor->datagram_reply);
}

/* The socket reactor i watches for listener l. */
static sk_sock *socket_for(sk_listener *l, size_t i)
{
    return i > 0 && i <= l->nreuseport ? &l->reuseport[i - 1] : &l->sock;
}

void sk_reactor_listeners_init(sk_reactor *r, size_t index)
{
    sk_server *srv = r->set->server;
    for (size_t i = 0; i < r->nlisteners; i++) {
        sk_reactor_listener *rl = &r->listeners[i];
        sk_listener *l = &srv->listeners[i];
        rl->reactor = r;
        rl->listener = l;
        rl->sock = socket_for(l, index);
        sk_sock_settimeout(rl->sock, 0);
        sk_io_init(&rl->io, rl->sock->fd,
                   l->sock.type == SOCK_DGRAM ? on_datagram : on_acceptable, rl);
        sk_timer_init(&rl->backoff, resume_accepting, rl);
    }
}

int sk_reactor_listeners_start(sk_reactor *r)
{
    for (size_t i = 0; i < r->nlisteners; i++) {
        sk_reactor_listener *rl = &r->listeners[i];
        bool datagram = rl->listener->sock.type == SOCK_DGRAM;
        if (datagram && !r->datagram_reply && !(r->datagram_reply = malloc(SK_DATAGRAM_MAX)))
            return -ENOMEM;
        int rc = sk_io_start(r->loop, &rl->io, SK_POLLIN);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void sk_reactor_listeners_stop(sk_reactor *r)
{
    for (size_t i = 0; i < r->nlisteners; i++) {
        sk_io_stop(r->loop, &r->listeners[i].io);
        sk_timer_stop(r->loop, &r->listeners[i].backoff);
    }
}
