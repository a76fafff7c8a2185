/* The blocking models: `iterative` serves each accepted client to its end
 * before accepting the next (the seeds' first server); `thread` gives each
 * client its own thread (socketserver.ThreadingMixIn). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include "listener_accept.h"
#include "server_internal.h"
#include "sockkit/error.h"

/* Threads need little stack: the read buffer plus the service's frames. */
enum { CONN_THREAD_STACK = 512 * 1024 };

static void *conn_thread(void *arg)
{
    sk_serve_stream_blocking(arg);
    return NULL;
}

static int spawn_conn_thread(sk_active *a)
{
    pthread_attr_t attr;
    pthread_t tid;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, CONN_THREAD_STACK);
    int rc = pthread_create(&tid, &attr, conn_thread, a);
    pthread_attr_destroy(&attr);
    return -rc;
}

/* Out of descriptors or memory: pause accepting instead of spinning on a
 * listener that stays readable. Wakes early on shutdown. Logs err once per
 * run (sk_listener_accept has logged its own errors and set *warned). */
static void accept_backoff(sk_listener *l, int err, bool *warned)
{
    if (!*warned)
        sk_server_logf(l->server, SK_LOG_ERROR, "accept %s: %s; pausing accepts", l->name,
                       sk_strerror(err));
    *warned = true;
    struct pollfd p = {.fd = l->server->stop_fd, .events = POLLIN};
    poll(&p, 1, SK_ACCEPT_PAUSE_MS);
}

static void dispatch(sk_listener *l, sk_active *a)
{
    if (l->server->cfg.model == SK_MODEL_ITERATIVE) {
        sk_serve_stream_blocking(a);
        return;
    }
    int rc = spawn_conn_thread(a);
    if (rc < 0) {
        sk_server_logf(l->server, SK_LOG_ERROR, "%s: cannot start a thread: %s", l->name,
                       sk_strerror(rc));
        sk_server_untrack(l->server, a);
        sk_sock_close(&a->sock);
        free(a);
    }
}

void *sk_accept_loop_blocking(void *arg)
{
    sk_listener *l = arg;
    bool warned = false;
    sk_sock_settimeout(&l->sock, 0);
    while (sk_listener_wait(l, -1) > 0) {
        sk_active *a = calloc(1, sizeof *a);
        int rc = a ? sk_listener_accept(l, a, &warned) : -ENOMEM;
        if (rc == 0) {
            dispatch(l, a);
            continue;
        }
        free(a);
        if (rc == -ECANCELED)
            break;
        if (rc != -EAGAIN)
            accept_backoff(l, rc, &warned);
    }
    return NULL;
}

/* A thread per listener: accept loops for streams, a receive loop for
 * datagrams. */
static int blocking_start(sk_server *srv)
{
    for (size_t i = 0; i < srv->nlisteners; i++) {
        sk_listener *l = &srv->listeners[i];
        void *(*body)(void *) =
            l->sock.type == SOCK_DGRAM ? sk_serve_datagram_loop : sk_accept_loop_blocking;
        int rc = pthread_create(&l->thread, NULL, body, l);
        if (rc != 0)
            return -rc;
        l->thread_started = true;
    }
    return 0;
}

static int blocking_drain(sk_server *srv, int grace_ms)
{
    int forced = sk_server_drain_active(srv, grace_ms);
    sk_server_join_listeners(srv);
    return forced;
}

const sk_model_ops sk_model_blocking_ops = {.start = blocking_start, .drain = blocking_drain};
