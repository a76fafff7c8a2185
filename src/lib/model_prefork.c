/* The prefork model (Apache's prefork MPM): a fixed set of worker
 * processes, started at once, each accepting on the inherited stream
 * listeners and serving one connection at a time to its end, as the
 * iterative model does. A supervisor thread in the parent replaces a
 * worker that dies while the server runs.
 *
 * At most `workers` connections (default: the number of online CPUs) are
 * served at once; further clients wait in the listen backlog. --max-conns
 * lowers the number of workers rather than refusing connections.
 *
 * Shutdown: every worker shares the server's stop_fd (an eventfd: one
 * open file for all processes), so it stops accepting at once, finishes
 * its current connection and exits; those still busy after the grace
 * period get SIGTERM, then SIGKILL. UDP listeners are answered in the
 * parent by their receive loop thread. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "deadline.h"
#include "listener_accept.h"
#include "model_procs.h"
#include "sockkit/error.h"

/* A worker that dies this soon after its start is replaced only after as
 * long a pause: a worker that cannot run must not become a fork loop. */
enum { RESPAWN_PAUSE_MS = 1000 };

typedef struct prefork_model {
    sk_server *srv;
    sk_accept_set accept;     /* each worker uses its own copy */
    sk_proc_poll poll;
    size_t workers;           /* how many the supervisor keeps running */
    int64_t spawn_paused_until;
    pthread_t supervisor;
    bool supervisor_started;
    pthread_mutex_t lock;     /* guards the two fields below */
    pthread_cond_t started;   /* signalled once the first workers are forked */
    bool first_spawned;
    int first_rc;             /* 0, or why not a single worker started */
} prefork_model;

static size_t worker_count(const sk_server_config *cfg)
{
    long n = cfg->workers;
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 1;
    if (cfg->max_conns > 0 && n > cfg->max_conns)
        n = cfg->max_conns;
    return (size_t)n;
}

static void serve_one(sk_active *a, void *arg)
{
    (void)arg;
    sk_serve_stream_blocking(a);
}

/* A worker process: accept and serve, one connection at a time, until
 * stop_fd is readable. */
static int worker_main(sk_proc *self, void *arg)
{
    prefork_model *m = arg;
    sk_server *srv = m->srv;
    (void)self;
    srv->active = NULL; /* this process tracks its own connection only */
    srv->nactive = 0;
    for (;;) {
        int timeout = -1;
        size_t n = sk_accept_set_prepare(&m->accept, &timeout);
        if (poll(m->accept.fds, n, timeout) < 0 && errno != EINTR)
            return 1;
        if (sk_accept_set_ready(&m->accept, m->accept.fds, sizeof(sk_active), serve_one, NULL) < 0)
            return 0;
    }
}

/* Fork workers up to the count. Returns 0, or the error that stopped it. */
static int spawn_workers(prefork_model *m)
{
    sk_server *srv = m->srv;
    if (sk_deadline_remaining(m->spawn_paused_until) > 0)
        return 0;
    for (;;) {
        pthread_mutex_lock(&srv->lock);
        size_t running = srv->nactive;
        pthread_mutex_unlock(&srv->lock);
        if (running >= m->workers)
            return 0;
        sk_proc *p = calloc(1, sizeof *p);
        if (!p) {
            m->spawn_paused_until = sk_deadline_from_timeout(RESPAWN_PAUSE_MS);
            return -ENOMEM;
        }
        p->active.sock.fd = -1; /* a worker is not a connection */
        int rc = sk_server_track(srv, &p->active);
        if (rc < 0) { /* shutdown began */
            free(p);
            return 0;
        }
        rc = sk_proc_spawn(srv, p, worker_main, m, true);
        if (rc < 0) {
            sk_server_logf(srv, SK_LOG_ERROR, "prefork: cannot start a worker: %s", sk_strerror(rc));
            sk_server_untrack(srv, &p->active);
            free(p);
            m->spawn_paused_until = sk_deadline_from_timeout(RESPAWN_PAUSE_MS);
            return rc;
        }
    }
}

/* The first workers are forked before sk_prefork_start returns, while no
 * other thread of the server runs yet: a fork() while another thread holds
 * an allocator lock that the C library does not reset in the child (e.g.
 * AddressSanitizer's before LLVM 17) would leave a worker hung. */
static void spawn_first_workers(prefork_model *m)
{
    int rc = spawn_workers(m);
    pthread_mutex_lock(&m->srv->lock);
    bool none = m->srv->nactive == 0 && m->workers > 0;
    pthread_mutex_unlock(&m->srv->lock);
    pthread_mutex_lock(&m->lock);
    m->first_rc = none ? (rc < 0 ? rc : -EAGAIN) : 0;
    m->first_spawned = true;
    pthread_cond_signal(&m->started);
    pthread_mutex_unlock(&m->lock);
}

static int wait_first_workers(prefork_model *m)
{
    pthread_mutex_lock(&m->lock);
    while (!m->first_spawned)
        pthread_cond_wait(&m->started, &m->lock);
    int rc = m->first_rc;
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static void worker_ended(sk_proc *p, int status, void *arg)
{
    prefork_model *m = arg;
    char how[64];
    sk_proc_describe_end(status, how, sizeof how);
    if (sk_server_stopping(m->srv)) {
        if (status != 0)
            sk_server_logf(m->srv, p->signalled ? SK_LOG_INFO : SK_LOG_ERROR,
                           "prefork: worker %d %s", (int)p->pid, how);
        return;
    }
    sk_server_logf(m->srv, SK_LOG_ERROR, "prefork: worker %d %s; starting another", (int)p->pid,
                   how);
    if (sk_monotonic_ms() - p->started_ms < RESPAWN_PAUSE_MS)
        m->spawn_paused_until = sk_deadline_from_timeout(RESPAWN_PAUSE_MS);
}

static void *prefork_supervisor(void *arg)
{
    prefork_model *m = arg;
    sk_server *srv = m->srv;
    struct pollfd stop = {.fd = srv->stop_fd, .events = POLLIN};
    bool stopping = false;
    spawn_first_workers(m);
    for (;;) {
        int timeout = -1;
        if (!stopping) {
            spawn_workers(m);
            int paused = sk_deadline_remaining(m->spawn_paused_until);
            if (paused > 0)
                timeout = paused;
        }
        size_t children = sk_proc_poll_build(srv, &m->poll, &stop, stopping ? 0 : 1, &timeout);
        if (stopping && children == 0)
            return NULL;
        if (poll(m->poll.fds, m->poll.n, timeout) < 0 && errno != EINTR) {
            sk_server_logf(srv, SK_LOG_ERROR, "prefork: poll: %s", sk_strerror(-errno));
            poll(NULL, 0, SK_PROC_CHECK_MS);
            continue;
        }
        sk_procs_reap(srv, &m->poll, worker_ended, m);
        if (!stopping && m->poll.fds[0].revents)
            stopping = true;
    }
}

/* The supervisor forks the first workers, then the UDP threads start. */
int sk_prefork_start(sk_server *srv)
{
    prefork_model *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->srv = srv;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->started, NULL);
    srv->model = m;
    if (sk_accept_set_init(&m->accept, srv) < 0 || sk_proc_poll_init(&m->poll, 1) < 0)
        return -ENOMEM;
    m->workers = m->accept.nlisteners > 0 ? worker_count(&srv->cfg) : 0;
    int rc = -pthread_create(&m->supervisor, NULL, prefork_supervisor, m);
    m->supervisor_started = rc == 0;
    if (rc == 0)
        rc = wait_first_workers(m);
    return rc < 0 ? rc : sk_procs_start_datagram(srv);
}

int sk_prefork_drain(sk_server *srv, int grace_ms)
{
    int forced = sk_procs_drain(srv, grace_ms); /* the supervisor reaps them all */
    sk_server_join_listeners(srv);
    prefork_model *m = srv->model;
    if (m) {
        if (m->supervisor_started)
            pthread_join(m->supervisor, NULL);
        sk_accept_set_free(&m->accept);
        sk_proc_poll_free(&m->poll);
        pthread_cond_destroy(&m->started);
        pthread_mutex_destroy(&m->lock);
        free(m);
    }
    srv->model = NULL;
    return forced;
}
