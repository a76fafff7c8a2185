/* Internal: the sk_server object shared by the server's files. */
#ifndef SK_LIB_SERVER_INTERNAL_H
#define SK_LIB_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sockkit/server.h"
#include "sockkit/sock.h"

/* One open listener: a service bound to an address. */
/* Call on_stop of every distinct service of srv's listeners (service.h),
 * in this process. */
void sk_server_stop_services(sk_server *srv);

typedef struct sk_listener {
    sk_server *server;
    const sk_service *service;
    sk_sock sock;
    sk_endpoint endpoint;      /* as asked, for unlinking a Unix path */
    char name[SK_ADDRSTRLEN];  /* real address with scheme, "tcp:127.0.0.1:7007" */
    pthread_t thread;
    bool thread_started;
    /* reactors model: SO_REUSEPORT siblings of sock on the same address, one
     * per reactor after the first (sock is the first's); inet only. */
    sk_sock *reuseport;
    size_t nreuseport;
} sk_listener;

/* A connection being served by a blocking model; linked into the server's
 * list so shutdown can wait for it and, after the grace period, end it. */
typedef struct sk_active {
    struct sk_active *prev, *next;
    sk_listener *listener;
    sk_sock sock;
} sk_active;

/* What a concurrency model implements. */
typedef struct sk_model_ops {
    /* Start serving every listener (threads, processes, loops).
     * Returns 0 or -errno. */
    int (*start)(sk_server *srv);
    /* Called once the listeners are shut (srv->closing set, stop_fd
     * readable): let connections finish within grace_ms, end the rest,
     * and join every thread / reap every process of the model.
     * Returns how many connections were ended forcibly. */
    int (*drain)(sk_server *srv, int grace_ms);
} sk_model_ops;

/* iterative and thread (model_blocking.c). */
extern const sk_model_ops sk_model_blocking_ops;
/* fork and prefork (model_fork.c). */
extern const sk_model_ops sk_model_fork_ops;
/* pool (model_pool.c). */
extern const sk_model_ops sk_model_pool_ops;
/* select, poll, epoll and reactors (model_reactor.c). */
extern const sk_model_ops sk_model_reactor_ops;
/* uring (model_uring.c). */
extern const sk_model_ops sk_model_uring_ops;

struct sk_server {
    sk_server_config cfg;
    const sk_model_ops *ops;
    void *model;               /* the model's own state, from start to drain */
    sk_listener *listeners;
    size_t nlisteners;
    int stop_fd;               /* eventfd, readable once shutdown begins */
    bool started;
    bool stopped;

    atomic_ulong refused;      /* connections closed at once by --max-conns */

    pthread_mutex_t lock;      /* guards the fields below */
    bool closing;              /* shutdown began: no new connections */
    pthread_cond_t idle;       /* signalled when nactive drops */
    sk_active *active;
    size_t nactive;
};

/* Log one line through cfg.log, printf-style, if level is enabled. */
void sk_server_logf(sk_server *srv, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add / remove a connection from the active list (takes the lock).
 * Tracking fails with -ECANCELED once shutdown began, and with -EUSERS
 * when --max-conns connections are active: close the socket. */
int sk_server_track(sk_server *srv, sk_active *a);
void sk_server_untrack(sk_server *srv, sk_active *a);

/* Wait up to grace_ms for the active list to empty, then shut down the
 * sockets still in it and wait for their threads to leave it.
 * Returns how many were shut down forcibly. */
int sk_server_drain_active(sk_server *srv, int grace_ms);

/* Wait on srv->idle until no connection is active (nactive == 0) or the
 * deadline (sk_deadline_*, -1: none) passes. Called with srv->lock held. */
void sk_server_wait_idle(sk_server *srv, int64_t deadline);

/* Join the listener threads started by a model (sk_listener.thread). */
void sk_server_join_listeners(sk_server *srv);

/* Log and count a connection refused by --max-conns (the caller closes it). */
void sk_server_refuse(sk_listener *l, sk_sock *client);

/* True once shutdown began. */
bool sk_server_stopping(sk_server *srv);

/* Wait until the listener is readable or shutdown begins.
 * Returns 1 when readable, 0 when stopping, -errno on failure. */
int sk_listener_wait(sk_listener *l, int timeout_ms);

/* Serve one accepted stream connection to its end with blocking I/O,
 * driving the service's callbacks; logs open and close. Takes ownership
 * of a (freed on return). */
void sk_serve_stream_blocking(sk_active *a);

/* Thread body of a UDP listener: one reply datagram per request datagram. */
void *sk_serve_datagram_loop(void *listener);

/* Largest UDP payload over IPv4 (65535 - 8 - 20), RFC 768 / RFC 791. */
enum { SK_DATAGRAM_MAX = 65507 };

/* Answer the datagrams queued on sock (l->sock or one of its SO_REUSEPORT
 * siblings), at most a batch, without waiting for more: the event models'
 * UDP handler. in: SK_DATAGRAM_MAX + 1 bytes; out: SK_DATAGRAM_MAX bytes. */
void sk_serve_datagram_ready(sk_listener *l, sk_sock *sock, uint8_t *in, uint8_t *out);

/* Threads (reactors) the event models run: 1 for select, poll and epoll;
 * cfg.workers or the number of online CPUs for reactors. */
size_t sk_reactor_count(const sk_server_config *cfg);

/* reactors model: open l->sock's SO_REUSEPORT siblings, one per reactor
 * after the first, bound to l->sock's address (model_reactor.c).
 * Returns 0 or -errno (message in err). */
int sk_listener_open_reuseport(sk_server *srv, sk_listener *l, char *err, size_t errlen);

/* Close and free a listener's SO_REUSEPORT siblings; safe when none. */
void sk_listener_close_reuseport(sk_listener *l);

/* Thread body of a stream listener under the iterative and thread models. */
void *sk_accept_loop_blocking(void *listener);

#endif
