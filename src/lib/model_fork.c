/* The fork model (socketserver.ForkingMixIn): a child process per
 * connection. One supervisor thread accepts on every stream listener,
 * forks a child for each connection and reaps the children; the child
 * serves its connection with blocking I/O (as the thread model does),
 * logs, and _exit()s. A single accepting thread also means no other
 * connection's descriptor is ever in flight in the parent at fork time,
 * so a child holds only its own. --max-conns counts live children.
 * UDP listeners are answered in the parent by their receive loop thread.
 *
 * sk_model_fork_ops serves prefork too (model_prefork.c). */
#include <errno.h>
#include <stdlib.h>

#include "listener_accept.h"
#include "model_procs.h"
#include "sockkit/error.h"

typedef struct fork_model {
    sk_server *srv;
    sk_accept_set accept;
    sk_proc_poll poll;
    pthread_t supervisor;
    bool supervisor_started;
} fork_model;

/* In the child. sk_serve_stream_blocking logs open and close and frees p. */
static int serve_in_child(sk_proc *p, void *arg)
{
    (void)arg;
    sk_serve_stream_blocking(&p->active);
    return 0;
}

/* A new tracked connection: fork its child. */
static void fork_conn(sk_active *a, void *arg)
{
    fork_model *m = arg;
    sk_proc *p = (sk_proc *)a;
    int rc = sk_proc_spawn(m->srv, p, serve_in_child, NULL, false);
    sk_sock_close(&a->sock); /* the child has its own copy */
    if (rc < 0) {
        sk_server_logf(m->srv, SK_LOG_ERROR, "%s: cannot fork: %s", a->listener->name,
                       sk_strerror(rc));
        sk_server_untrack(m->srv, a);
        free(p);
    }
}

/* A child that logged its own close exits with 0; log any other end. */
static void fork_ended(sk_proc *p, int status, void *arg)
{
    fork_model *m = arg;
    if (status == 0)
        return;
    char how[64];
    sk_proc_describe_end(status, how, sizeof how);
    sk_listener *l = p->active.listener;
    sk_server_logf(m->srv, p->signalled ? SK_LOG_INFO : SK_LOG_ERROR,
                   "process %d serving %s %s %s", (int)p->pid, l->service->name, l->name, how);
}

static void *fork_supervisor(void *arg)
{
    fork_model *m = arg;
    bool accepting = true;
    for (;;) {
        int timeout = -1;
        size_t nfixed = accepting ? sk_accept_set_prepare(&m->accept, &timeout) : 0;
        size_t children = sk_proc_poll_build(m->srv, &m->poll, m->accept.fds, nfixed, &timeout);
        if (!accepting && children == 0)
            return NULL;
        if (poll(m->poll.fds, m->poll.n, timeout) < 0 && errno != EINTR) {
            sk_server_logf(m->srv, SK_LOG_ERROR, "fork: poll: %s", sk_strerror(-errno));
            poll(NULL, 0, SK_PROC_CHECK_MS);
            continue;
        }
        sk_procs_reap(m->srv, &m->poll, fork_ended, m);
        if (accepting && sk_accept_set_ready(&m->accept, m->poll.fds, sizeof(sk_proc), fork_conn, m) < 0)
            accepting = false;
    }
}

static void fork_model_free(fork_model *m)
{
    if (m->supervisor_started)
        pthread_join(m->supervisor, NULL);
    sk_accept_set_free(&m->accept);
    sk_proc_poll_free(&m->poll);
    free(m);
}

static int fork_start(sk_server *srv)
{
    if (srv->cfg.model == SK_MODEL_PREFORK)
        return sk_prefork_start(srv);
    int rc = sk_procs_start_datagram(srv);
    if (rc < 0)
        return rc;
    fork_model *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->srv = srv;
    srv->model = m;
    if (sk_accept_set_init(&m->accept, srv) < 0 || sk_proc_poll_init(&m->poll, srv->nlisteners + 1) < 0)
        return -ENOMEM;
    rc = -pthread_create(&m->supervisor, NULL, fork_supervisor, m);
    m->supervisor_started = rc == 0;
    return rc;
}

static int fork_drain(sk_server *srv, int grace_ms)
{
    if (srv->cfg.model == SK_MODEL_PREFORK)
        return sk_prefork_drain(srv, grace_ms);
    int forced = sk_procs_drain(srv, grace_ms); /* the supervisor reaps them all */
    sk_server_join_listeners(srv);
    if (srv->model)
        fork_model_free(srv->model);
    srv->model = NULL;
    return forced;
}

const sk_model_ops sk_model_fork_ops = {.start = fork_start, .drain = fork_drain};
