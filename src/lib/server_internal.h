/* Internal: the sk_server object shared by the server's files. */
#ifndef SK_LIB_SERVER_INTERNAL_H
#define SK_LIB_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

#include "sockkit/server.h"
#include "sockkit/sock.h"

/* One open listener: a service bound to an address. */
typedef struct sk_listener {
    sk_server *server;
    const sk_service *service;
    sk_sock sock;
    sk_endpoint endpoint;      /* as asked, for unlinking a Unix path */
    char name[SK_ADDRSTRLEN];  /* real address with scheme, "tcp:127.0.0.1:7007" */
    pthread_t thread;
    bool thread_started;
} sk_listener;

/* A connection being served by a blocking model; linked into the server's
 * list so shutdown can wait for it and, after the grace period, end it. */
typedef struct sk_active {
    struct sk_active *prev, *next;
    sk_listener *listener;
    sk_sock sock;
} sk_active;

struct sk_server {
    sk_server_config cfg;
    sk_listener *listeners;
    size_t nlisteners;
    int stop_fd;               /* eventfd, readable once shutdown begins */
    bool started;
    bool stopped;

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
 * Tracking fails with -ECANCELED once shutdown began: close the socket. */
int sk_server_track(sk_server *srv, sk_active *a);
void sk_server_untrack(sk_server *srv, sk_active *a);

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

/* Thread body of a stream listener under the iterative and thread models. */
void *sk_accept_loop_blocking(void *listener);

#endif
