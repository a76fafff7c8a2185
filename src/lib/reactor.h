/* Internal: the event-driven models select, poll, epoll (one reactor) and
 * reactors (one per worker thread), shared by model_reactor.c (threads,
 * start, drain), reactor_listener.c (accepting, descriptor exhaustion,
 * UDP) and reactor_conn.c (driving a service on a buffered stream). */
#ifndef SK_LIB_REACTOR_H
#define SK_LIB_REACTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "server_internal.h"
#include "sockkit/loop.h"
#include "sockkit/stream.h"

typedef struct sk_reactor sk_reactor;
typedef struct sk_reactor_set sk_reactor_set;
typedef struct sk_reactor_conn sk_reactor_conn;

/* One listener as one reactor watches it. */
typedef struct sk_reactor_listener {
    sk_reactor *reactor;
    sk_listener *listener;
    sk_sock *sock;          /* listener->sock or one of its SO_REUSEPORT siblings */
    sk_io io;
    sk_timer backoff;       /* accepting paused (out of descriptors or memory) */
    bool warned;            /* the pause was logged; cleared by the next accept */
} sk_reactor_listener;

/* One event loop and the thread running it. */
struct sk_reactor {
    sk_reactor_set *set;
    sk_loop *loop;
    pthread_t thread;
    bool thread_started;
    int reserve_fd;         /* /dev/null, given up to shed a connection on EMFILE */
    sk_reactor_listener *listeners;  /* one per server listener */
    size_t nlisteners;
    uint8_t *datagram_reply;         /* SK_DATAGRAM_MAX bytes, if UDP listeners */
    sk_reactor_conn *conns;          /* live connections, for the drain */
    size_t nconns;
    bool draining;          /* listeners stopped; stop the loop at 0 connections */
    sk_timer grace;         /* end of the drain's grace period */
    int forced;             /* connections ended when the grace period ran out */
    pthread_mutex_t wake_lock;       /* guards the two fields below */
    sk_reactor_conn *wakes;          /* connections woken (sk_conn_wake) */
    bool wake_posted;                /* a post of the wake pass is queued */
};

/* The model's state (sk_server.model). */
struct sk_reactor_set {
    sk_server *server;
    sk_reactor *reactors;
    size_t nreactors;
    atomic_int live;        /* connections open on every reactor (--max-conns) */
    int grace_ms;           /* written by drain before its posts */
};

/* A stream connection served on a reactor, allocated on a cache-line
 * boundary. Fields in the order a readiness event touches them: the
 * stream, the idle bookkeeping and the head of the sk_conn fill the first
 * four cache lines; the rest (the peer's name, links, timer) is touched
 * only at open, close and idle checks. With a thousand connections these
 * lines miss the cache on almost every event, so each one counts. */
struct sk_reactor_conn {
    sk_stream stream;
    int64_t active_ms;               /* last input (or output progress) */
    uint64_t sent_seen;              /* bytes handed to the kernel at the last check */
    sk_conn conn;
    sk_reactor *reactor;
    sk_listener *listener;
    sk_reactor_conn *prev, *next;    /* in reactor->conns */
    sk_timer idle;                   /* idle timeout and service deadline: re-armed
                                        lazily, only when it fires */
    int64_t opened_ms;
    int64_t deadline_ms;             /* sk_conn_set_timeout: loop time, 0 = none */
    int error;                       /* a callback's negative return */
    bool timed_out;                  /* ended by the service's deadline */
    bool zombie;                     /* closed while on the wake list: freed there */
    atomic_bool wake_pending;        /* on r->wakes, or about to be */
    sk_reactor_conn *wake_next;      /* in reactor->wakes */
    _Alignas(max_align_t) unsigned char state[]; /* the service's, state_size bytes */
};

/* Alignment of a sk_reactor_conn allocation: one cache line. */
#define SK_REACTOR_CONN_ALIGN 64

/* reactor_listener.c: prepare r->listeners (r->nlisteners entries) for
 * reactor number index: which socket of each listener it watches. No
 * system call. */
void sk_reactor_listeners_init(sk_reactor *r, size_t index);

/* Watch r's share of every listener (stream: accept; datagram: answer).
 * Returns 0 or -errno. */
int sk_reactor_listeners_start(sk_reactor *r);

/* Stop watching every listener (the drain, or a failed start). */
void sk_reactor_listeners_stop(sk_reactor *r);

/* reactor_conn.c: serve a connection just accepted by r on l: --max-conns,
 * the select limit, then open, on_open. Takes client's fd. */
void sk_reactor_conn_open(sk_reactor *r, sk_listener *l, sk_sock *client,
                          const sk_sockaddr *peer);

/* End every connection of r at once (grace period over); returns how many.
 * Their on_close runs from the loop's deferred pass. */
int sk_reactor_conns_abort(sk_reactor *r);

/* Free the connections still on r's wake list (all closed by then), when
 * the reactor is destroyed. */
void sk_reactor_wakes_free(sk_reactor *r);

#endif
