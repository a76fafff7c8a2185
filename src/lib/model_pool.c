/* The pool model: a fixed set of worker threads takes accepted connections
 * from a bounded queue and serves each to its end with blocking I/O.
 *
 * One acceptor thread polls every stream listener. While the queue is
 * full it blocks: it stops accepting and the kernel's listen backlog holds
 * new clients. Connections are tracked from accept on, so --max-conns
 * counts the queued ones too, and shutdown lets queued and live
 * connections finish within the grace period; a queued connection whose
 * grace ran out before a worker took it is closed without being served. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "listener_accept.h"
#include "server_internal.h"
#include "sockkit/error.h"

enum {
    POOL_THREAD_STACK = 512 * 1024, /* the read buffer plus the service's frames */
    POOL_WORKERS_PER_CPU = 4,
    POOL_QUEUE_PER_WORKER = 4,
};

typedef struct pool {
    sk_server *srv;
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    sk_active **queue;       /* ring of accepted, tracked connections */
    size_t cap, head, count;
    bool closed;             /* workers leave once the queue is empty */
    pthread_t *workers;
    size_t nworkers;         /* started */
    sk_accept_set accept;
    pthread_t acceptor;
    bool acceptor_started;
} pool;

static size_t pool_size(const sk_server_config *cfg)
{
    if (cfg->workers > 0)
        return (size_t)cfg->workers;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return (size_t)(cpus > 0 ? cpus : 1) * POOL_WORKERS_PER_CPU;
}

/* Called by the acceptor: waits while the queue is full. */
static void pool_push(sk_active *a, void *arg)
{
    pool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (p->count == p->cap)
        pthread_cond_wait(&p->not_full, &p->lock);
    p->queue[(p->head + p->count) % p->cap] = a;
    p->count++;
    pthread_cond_signal(&p->not_empty);
    pthread_mutex_unlock(&p->lock);
}

/* The next queued connection, or NULL once the pool is closed and empty. */
static sk_active *pool_pop(pool *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->count == 0 && !p->closed)
        pthread_cond_wait(&p->not_empty, &p->lock);
    sk_active *a = NULL;
    if (p->count > 0) {
        a = p->queue[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        pthread_cond_signal(&p->not_full);
    }
    pthread_mutex_unlock(&p->lock);
    return a;
}

/* Shutdown ended this queued connection (sk_server_drain_active shuts the
 * sockets down once the grace period is over) before a worker took it. */
static bool ended_while_queued(sk_server *srv, sk_active *a)
{
    if (!sk_server_stopping(srv))
        return false;
    struct pollfd pfd = {.fd = a->sock.fd, .events = POLLOUT};
    return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR));
}

static void close_unserved(sk_active *a)
{
    sk_listener *l = a->listener;
    char peer[SK_ADDRSTRLEN];
    if (sk_sock_peer_name(&a->sock, peer, sizeof peer) < 0)
        snprintf(peer, sizeof peer, "?");
    sk_server_logf(l->server, SK_LOG_INFO,
                   "close %s %s from %s: 0 bytes in, 0 bytes out, 0.000 s (shutdown before it was served)",
                   l->service->name, l->name, peer);
    sk_server_untrack(l->server, a);
    sk_sock_close(&a->sock);
    free(a);
}

static void *pool_worker(void *arg)
{
    pool *p = arg;
    sk_active *a;
    while ((a = pool_pop(p)) != NULL) {
        if (ended_while_queued(p->srv, a))
            close_unserved(a);
        else
            sk_serve_stream_blocking(a);
    }
    return NULL;
}

static void *pool_acceptor(void *arg)
{
    pool *p = arg;
    for (;;) {
        int timeout = -1;
        size_t n = sk_accept_set_prepare(&p->accept, &timeout);
        if (poll(p->accept.fds, n, timeout) < 0 && errno != EINTR) {
            sk_server_logf(p->srv, SK_LOG_ERROR, "pool: poll: %s", sk_strerror(-errno));
            poll(NULL, 0, SK_ACCEPT_PAUSE_MS);
            continue;
        }
        if (sk_accept_set_ready(&p->accept, p->accept.fds, sizeof(sk_active), pool_push, p) < 0)
            return NULL;
    }
}

static int start_thread(pthread_t *t, void *(*body)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, POOL_THREAD_STACK);
    int rc = pthread_create(t, &attr, body, arg);
    pthread_attr_destroy(&attr);
    return -rc;
}

/* Close the queue, join the workers and free the pool. The queue is empty
 * by then: shutdown waited for every tracked connection. */
static void pool_destroy(pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->closed = true;
    pthread_cond_broadcast(&p->not_empty);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i], NULL);
    if (p->acceptor_started)
        pthread_join(p->acceptor, NULL);
    sk_accept_set_free(&p->accept);
    pthread_cond_destroy(&p->not_full);
    pthread_cond_destroy(&p->not_empty);
    pthread_mutex_destroy(&p->lock);
    free(p->workers);
    free(p->queue);
    free(p);
}

static pool *pool_create(sk_server *srv)
{
    pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->srv = srv;
    size_t n = pool_size(&srv->cfg);
    p->cap = n * POOL_QUEUE_PER_WORKER;
    p->queue = calloc(p->cap, sizeof *p->queue);
    p->workers = calloc(n, sizeof *p->workers);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->not_empty, NULL);
    pthread_cond_init(&p->not_full, NULL);
    if (!p->queue || !p->workers || sk_accept_set_init(&p->accept, srv) < 0) {
        pool_destroy(p);
        return NULL;
    }
    return p;
}

static int pool_threads_start(pool *p)
{
    size_t n = pool_size(&p->srv->cfg);
    while (p->nworkers < n) {
        int rc = start_thread(&p->workers[p->nworkers], pool_worker, p);
        if (rc < 0)
            return rc;
        p->nworkers++;
    }
    int rc = start_thread(&p->acceptor, pool_acceptor, p);
    p->acceptor_started = rc == 0;
    return rc;
}

/* UDP listeners get their receive loop thread; stream listeners share one
 * acceptor and the workers (none when there is no stream listener). */
static int pool_start(sk_server *srv)
{
    bool streams = false;
    for (size_t i = 0; i < srv->nlisteners; i++) {
        sk_listener *l = &srv->listeners[i];
        if (l->sock.type == SOCK_STREAM) {
            streams = true;
            continue;
        }
        int rc = pthread_create(&l->thread, NULL, sk_serve_datagram_loop, l);
        if (rc != 0)
            return -rc;
        l->thread_started = true;
    }
    if (!streams)
        return 0;
    pool *p = pool_create(srv);
    if (!p)
        return -ENOMEM;
    srv->model = p;
    return pool_threads_start(p);
}

static int pool_drain(sk_server *srv, int grace_ms)
{
    /* The acceptor stops at stop_fd; one blocked on a full queue goes on
     * as workers free slots, which the drain guarantees. */
    int forced = sk_server_drain_active(srv, grace_ms);
    sk_server_join_listeners(srv);
    if (srv->model)
        pool_destroy(srv->model);
    srv->model = NULL;
    return forced;
}

const sk_model_ops sk_model_pool_ops = {.start = pool_start, .drain = pool_drain};
