/* The event-driven models. select, poll and epoll run one reactor: an
 * event loop on that selector, in a thread of its own, serving every
 * listener and connection. reactors runs one epoll reactor per worker
 * thread (default: one per online CPU), each with its own SO_REUSEPORT
 * sockets, so the kernel spreads new clients over the reactors and they
 * share nothing but the --max-conns count.
 *
 * Drain (after server.c shut the listeners): each loop is posted a
 * message to stop watching its listeners; connections go on being served
 * until they end or the grace period runs out, then the rest are aborted
 * and counted, and each loop stops once its last connection is gone. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reactor.h"
#include "sockkit/error.h"

/* Rounds of the loop run by the draining thread itself to finish off a
 * reactor whose thread ended early (its loop failed). */
enum { LEFTOVER_ROUNDS = 4 };

size_t sk_reactor_count(const sk_server_config *cfg)
{
    if (cfg->model != SK_MODEL_REACTORS)
        return 1;
    if (cfg->workers > 0)
        return (size_t)cfg->workers;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

static sk_selector_backend backend_of(sk_model model)
{
    switch (model) {
    case SK_MODEL_SELECT: return SK_SELECTOR_SELECT;
    case SK_MODEL_POLL: return SK_SELECTOR_POLL;
    default: return SK_SELECTOR_EPOLL;
    }
}

/* ---- SO_REUSEPORT siblings of a listener (reactors model) -------------- */

static int open_sibling(sk_sock *s, const sk_sockaddr *addr, int type, int backlog)
{
    int rc = sk_sock_open(s, addr->ss.ss_family, type);
    if (rc < 0)
        return rc;
    if (type == SOCK_STREAM)
        rc = sk_sock_set_reuseaddr(s, true);
    if (rc == 0)
        rc = sk_sock_set_reuseport(s, true);
    if (rc == 0)
        rc = sk_sock_bind(s, addr);
    if (rc == 0 && type == SOCK_STREAM)
        (void)sk_sock_set_nodelay(s, true); /* inherited by accepted sockets */
    if (rc == 0 && type == SOCK_STREAM)
        rc = sk_sock_listen(s, backlog);
    if (rc < 0)
        sk_sock_close(s);
    return rc;
}

int sk_listener_open_reuseport(sk_server *srv, sk_listener *l, char *err, size_t errlen)
{
    size_t n = sk_reactor_count(&srv->cfg) - 1;
    if (n == 0 || l->sock.family == AF_UNIX) /* a Unix path cannot be bound twice */
        return 0;
    sk_sockaddr addr = {.len = sizeof addr.ss};
    if (getsockname(l->sock.fd, (struct sockaddr *)&addr.ss, &addr.len) < 0)
        return -errno;
    l->reuseport = calloc(n, sizeof *l->reuseport);
    if (!l->reuseport)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = open_sibling(&l->reuseport[i], &addr, l->sock.type, srv->cfg.backlog);
        if (rc < 0) {
            if (err)
                snprintf(err, errlen, "%s: SO_REUSEPORT socket %zu of %zu: %s", l->name, i + 2,
                         n + 1, sk_strerror(rc));
            sk_listener_close_reuseport(l);
            return rc;
        }
        l->nreuseport++;
    }
    return 0;
}

void sk_listener_close_reuseport(sk_listener *l)
{
    for (size_t i = 0; i < l->nreuseport; i++)
        sk_sock_close(&l->reuseport[i]);
    free(l->reuseport);
    l->reuseport = NULL;
    l->nreuseport = 0;
}

/* server.c shut the first socket of each listener; shut the siblings too,
 * so that no new connection lands in any of them. */
static void shut_siblings(sk_server *srv)
{
    for (size_t i = 0; i < srv->nlisteners; i++) {
        sk_listener *l = &srv->listeners[i];
        for (size_t j = 0; l->sock.type == SOCK_STREAM && j < l->nreuseport; j++)
            shutdown(l->reuseport[j].fd, SHUT_RD);
    }
}

/* ---- one reactor ---------------------------------------------------------- */

static void grace_over(sk_loop *loop, sk_timer *t)
{
    sk_reactor *r = t->data;
    r->forced += sk_reactor_conns_abort(r);
    if (r->nconns == 0)
        sk_loop_stop(loop);
}

/* Posted by the drain: stop accepting; stop once no connection is left. */
static void begin_drain(sk_loop *loop, void *arg)
{
    sk_reactor *r = arg;
    r->draining = true;
    sk_reactor_listeners_stop(r);
    if (r->nconns == 0) {
        sk_loop_stop(loop);
        return;
    }
    int grace = r->set->grace_ms;
    if (grace == 0 || sk_timer_start(loop, &r->grace, grace, 0) < 0)
        grace_over(loop, &r->grace);
}

static void *reactor_main(void *arg)
{
    sk_reactor *r = arg;
    int rc = sk_loop_run(r->loop);
    if (rc < 0)
        sk_server_logf(r->set->server, SK_LOG_ERROR, "%s reactor %zu: %s",
                       sk_model_name(r->set->server->cfg.model), (size_t)(r - r->set->reactors),
                       sk_strerror(rc));
    return NULL;
}

static int reactor_init(sk_reactor *r, size_t index)
{
    sk_server *srv = r->set->server;
    r->listeners = calloc(srv->nlisteners ? srv->nlisteners : 1, sizeof *r->listeners);
    if (!r->listeners)
        return -ENOMEM;
    r->nlisteners = srv->nlisteners;
    int rc = sk_loop_create(&r->loop, backend_of(srv->cfg.model));
    if (rc < 0)
        return rc;
    sk_reactor_listeners_init(r, index);
    r->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (r->reserve_fd < 0)
        return -errno;
    return sk_reactor_listeners_start(r);
}

/* The thread ended while connections were still open (its loop failed, or
 * the drain could not post): end them from this thread, which now owns
 * the loop. Returns how many were ended. */
static int end_leftovers(sk_reactor *r)
{
    if (!r->loop || r->nconns == 0)
        return 0;
    r->draining = true;
    sk_reactor_listeners_stop(r);
    int n = sk_reactor_conns_abort(r);
    for (int i = 0; i < LEFTOVER_ROUNDS && r->nconns > 0; i++)
        sk_loop_run_once(r->loop, 0);
    return n;
}

static void reactor_destroy(sk_reactor *r)
{
    if (r->loop) {
        sk_reactor_listeners_stop(r);
        sk_timer_stop(r->loop, &r->grace);
        sk_loop_destroy(r->loop);
    }
    sk_reactor_wakes_free(r);
    pthread_mutex_destroy(&r->wake_lock);
    if (r->reserve_fd >= 0)
        close(r->reserve_fd);
    free(r->listeners);
    free(r->datagram_reply);
}

/* ---- the model --------------------------------------------------------- */

static int reactor_start(sk_server *srv)
{
    sk_reactor_set *set = calloc(1, sizeof *set);
    if (!set)
        return -ENOMEM;
    set->server = srv;
    atomic_init(&set->live, 0);
    srv->model = set;
    size_t n = sk_reactor_count(&srv->cfg);
    set->reactors = calloc(n, sizeof *set->reactors);
    if (!set->reactors)
        return -ENOMEM;
    set->nreactors = n;
    for (size_t i = 0; i < n; i++) {
        set->reactors[i].set = set;
        set->reactors[i].reserve_fd = -1;
        pthread_mutex_init(&set->reactors[i].wake_lock, NULL);
        sk_timer_init(&set->reactors[i].grace, grace_over, &set->reactors[i]);
    }
    for (size_t i = 0; i < n; i++) {
        int rc = reactor_init(&set->reactors[i], i);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        sk_reactor *r = &set->reactors[i];
        int rc = pthread_create(&r->thread, NULL, reactor_main, r);
        if (rc != 0)
            return -rc;
        r->thread_started = true;
    }
    return 0;
}

static int reactor_drain(sk_server *srv, int grace_ms)
{
    sk_reactor_set *set = srv->model;
    if (!set)
        return 0;
    set->grace_ms = grace_ms < 0 ? 0 : grace_ms; /* published by the posts' lock */
    shut_siblings(srv);
    for (size_t i = 0; i < set->nreactors; i++) {
        sk_reactor *r = &set->reactors[i];
        if (r->thread_started && sk_loop_post(r->loop, begin_drain, r) < 0)
            sk_loop_stop(r->loop); /* no memory for the post: end_leftovers does it */
    }
    int forced = 0;
    for (size_t i = 0; i < set->nreactors; i++) {
        sk_reactor *r = &set->reactors[i];
        if (r->thread_started)
            pthread_join(r->thread, NULL);
        forced += r->forced + end_leftovers(r);
        reactor_destroy(r);
    }
    free(set->reactors);
    free(set);
    srv->model = NULL;
    return forced;
}

const sk_model_ops sk_model_reactor_ops = {.start = reactor_start, .drain = reactor_drain};
