/* The uring model: io_uring event loops. Each ring thread multishot-
 * accepts on every stream listener, receives with multishot recv into a
 * ring of provided buffers (1024 x 16 KiB per ring, filled incrementally
 * where the kernel can: small messages share a buffer), and sends queued
 * output with IORING_OP_SEND (SENDMSG when it spans several chunks); file
 * ranges (sk_conn_sendfile) are read into the output queue with
 * IORING_OP_READ, a few pieces ahead of the send. Sockets sit in the
 * ring's registered file table, so requests take no file reference. A
 * loop turn hands all its requests to the kernel and collects all
 * completions with one io_uring_submit_and_wait (uring_ring.c,
 * uring_conn.c). Other threads wake a connection (sk_conn_wake) through
 * its ring's wake list and eventfd (uring_wake.c); service deadlines
 * (sk_conn_set_timeout) sit in a per-ring heap (uring_deadline.c).
 *
 * Rings: one by default (one thread serves every stream listener); with
 * cfg.workers = N, N ring threads, each with its own ring, all accepting
 * on the same listener sockets (the kernel hands each connection to one
 * of the waiting accepts). Ring 0's thread runs in the first stream
 * listener's thread slot and owns the others: it starts them, waits for
 * their setup, and joins them. UDP listeners keep their datagram thread
 * (sk_serve_datagram_loop).
 *
 * Connections join the server's active list, so --max-conns is shared by
 * every ring, and drain waits for the list to empty, then has each ring
 * end the connections still in it (uring_conn_force); the rings notice
 * shutdown through the server's stop_fd, which they poll.
 *
 * Needs Linux 6.0 (multishot recv); when the kernel has no io_uring, or
 * it is disabled (kernel.io_uring_disabled, seccomp), start fails with
 * -ENOSYS / -EPERM after logging why. */
#include <errno.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdlib.h>

#include "deadline.h"
#include "sockkit/error.h"
#include "uring.h"

/* What ring 0 tells sk_server_start: lives on the starter's stack. */
typedef struct uring_launch {
    sem_t done;
    int err;
} uring_launch;

typedef struct uring_group {
    sk_server *srv;
    int nrings;
    uring_launch *launch; /* cleared by ring 0 once it has reported */
    sem_t ready;          /* posted by rings 1.. once set up (or not) */
    uring_ring rings[];
} uring_group;

static void sem_wait_intr(sem_t *s)
{
    while (sem_wait(s) < 0 && errno == EINTR) {
    }
}

/* Rings 1..N-1: set up, report to ring 0, serve until shutdown. */
static void *ring_thread(void *arg)
{
    uring_ring *r = arg;
    r->init_err = uring_ring_init(r, r->group->srv);
    sem_post(&r->group->ready);
    if (r->init_err == 0)
        uring_ring_run(r);
    uring_ring_fini(r);
    return NULL;
}

/* Start rings 1..N-1 and wait until each is set up. Sets *started to how
 * many threads run; returns 0 or the first error. */
static int start_other_rings(uring_group *g, int *started)
{
    int err = 0, n = 0;
    for (int i = 1; i < g->nrings; i++) {
        int rc = pthread_create(&g->rings[i].thread, NULL, ring_thread, &g->rings[i]);
        if (rc != 0) {
            err = -rc;
            break;
        }
        n++;
    }
    for (int i = 0; i < n; i++)
        sem_wait_intr(&g->ready);
    for (int i = 1; i <= n && err == 0; i++)
        err = g->rings[i].init_err;
    *started = n;
    return err;
}

/* Ring 0: sets up the others, reports to sk_server_start, serves until
 * shutdown, then joins the others and frees the group. */
static void *ring0_thread(void *arg)
{
    uring_group *g = arg;
    uring_ring *r = &g->rings[0];
    int others = 0;
    r->init_err = uring_ring_init(r, g->srv);
    int err = r->init_err == 0 ? start_other_rings(g, &others) : r->init_err;
    uring_launch *launch = g->launch;
    g->launch = NULL;
    launch->err = err;
    sem_post(&launch->done); /* the starter may free launch from here on */
    if (r->init_err == 0)
        uring_ring_run(r); /* on a failed start, shutdown follows at once */
    for (int i = 1; i <= others; i++)
        pthread_join(g->rings[i].thread, NULL);
    uring_ring_fini(r);
    sem_destroy(&g->ready);
    free(g);
    return NULL;
}

static void log_start_error(sk_server *srv, int err)
{
    if (err == -ENOSYS || err == -EPERM || err == -EACCES)
        sk_server_logf(srv, SK_LOG_ERROR,
                       "uring: io_uring is not available (%s): the kernel lacks it or it is "
                       "disabled (sysctl kernel.io_uring_disabled, a seccomp filter)",
                       sk_strerror(err));
    else if (err == -EINVAL)
        sk_server_logf(srv, SK_LOG_ERROR,
                       "uring: this kernel's io_uring lacks provided buffer rings (%s); "
                       "the uring model needs Linux 6.0 or later", sk_strerror(err));
    else
        sk_server_logf(srv, SK_LOG_ERROR, "uring: cannot set up io_uring: %s", sk_strerror(err));
}

/* Start ring 0 in the slot of the first stream listener; returns once
 * every ring is set up. */
static int launch_rings(sk_server *srv, sk_listener *slot)
{
    int n = srv->cfg.workers > 0 ? srv->cfg.workers : 1;
    uring_group *g = calloc(1, sizeof *g + (size_t)n * sizeof g->rings[0]);
    if (!g)
        return -ENOMEM;
    g->srv = srv;
    g->nrings = n;
    for (int i = 0; i < n; i++)
        g->rings[i].group = g;
    uring_launch launch = {.err = 0};
    sem_init(&g->ready, 0, 0);
    sem_init(&launch.done, 0, 0);
    g->launch = &launch;
    int rc = pthread_create(&slot->thread, NULL, ring0_thread, g);
    if (rc != 0) {
        sem_destroy(&launch.done);
        sem_destroy(&g->ready);
        free(g);
        return -rc;
    }
    slot->thread_started = true;
    sem_wait_intr(&launch.done);
    sem_destroy(&launch.done);
    if (launch.err < 0)
        log_start_error(srv, launch.err);
    return launch.err;
}

static int uring_start(sk_server *srv)
{
    sk_listener *ring_slot = NULL;
    for (size_t i = 0; i < srv->nlisteners; i++) {
        sk_listener *l = &srv->listeners[i];
        if (l->sock.type != SOCK_DGRAM) {
            if (!ring_slot)
                ring_slot = l;
            continue;
        }
        int rc = pthread_create(&l->thread, NULL, sk_serve_datagram_loop, l);
        if (rc != 0)
            return -rc;
        l->thread_started = true;
    }
    return ring_slot ? launch_rings(srv, ring_slot) : 0;
}

/* The listeners are shut and every ring saw stop_fd: they no longer
 * accept and run until their last connection ends. After the grace
 * period each ring ends the rest itself (through the wake list: a
 * connection that waits for nothing from the kernel, paused or past its
 * peer's EOF, would not notice a shutdown(2) of its socket). */
static int uring_drain(sk_server *srv, int grace_ms)
{
    int forced = 0;
    pthread_mutex_lock(&srv->lock);
    sk_server_wait_idle(srv, sk_deadline_from_timeout(grace_ms < 0 ? 0 : grace_ms));
    for (sk_active *a = srv->active; a; a = a->next) {
        /* its ring is alive: a connection leaves the list before its ring ends */
        uring_conn_force((uring_conn *)(void *)((char *)a - offsetof(uring_conn, active)));
        forced++;
    }
    sk_server_wait_idle(srv, -1);
    pthread_mutex_unlock(&srv->lock);
    sk_server_join_listeners(srv);
    return forced;
}

const sk_model_ops sk_model_uring_ops = {.start = uring_start, .drain = uring_drain};
