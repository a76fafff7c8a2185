/* sk_server: listeners, lifecycle and graceful shutdown. The models that
 * serve connections live in their own files. */
#include <errno.h>
#include <stdatomic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "server_internal.h"
#include "sockkit/error.h"

/* Every model, its name and its implementation. */
static const struct {
    const char *name;
    const sk_model_ops *ops;
} models[SK_MODEL_COUNT] = {
    [SK_MODEL_ITERATIVE] = {"iterative", &sk_model_blocking_ops},
    [SK_MODEL_THREAD] = {"thread", &sk_model_blocking_ops},
    [SK_MODEL_FORK] = {"fork", &sk_model_fork_ops},
    [SK_MODEL_PREFORK] = {"prefork", &sk_model_fork_ops},
    [SK_MODEL_POOL] = {"pool", &sk_model_pool_ops},
    [SK_MODEL_SELECT] = {"select", &sk_model_reactor_ops},
    [SK_MODEL_POLL] = {"poll", &sk_model_reactor_ops},
    [SK_MODEL_EPOLL] = {"epoll", &sk_model_reactor_ops},
    [SK_MODEL_REACTORS] = {"reactors", &sk_model_reactor_ops},
    [SK_MODEL_URING] = {"uring", &sk_model_uring_ops},
};

int sk_model_parse(const char *name, sk_model *out)
{
    for (int m = 0; m < SK_MODEL_COUNT; m++) {
        if (!strcmp(name, models[m].name)) {
            *out = (sk_model)m;
            return 0;
        }
    }
    return -EINVAL;
}

const char *sk_model_name(sk_model model)
{
    if ((int)model < 0 || (int)model >= SK_MODEL_COUNT)
        return "unknown";
    return models[model].name;
}

void sk_server_logf(sk_server *srv, int level, const char *fmt, ...)
{
    if (!srv->cfg.log)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    srv->cfg.log(srv->cfg.log_user, level, line);
}

int sk_server_create(sk_server **out, const sk_server_config *cfg)
{
    if ((int)cfg->model < 0 || (int)cfg->model >= SK_MODEL_COUNT)
        return -EINVAL;
    sk_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return -ENOMEM;
    srv->cfg = *cfg;
    srv->ops = models[cfg->model].ops;
    srv->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (srv->stop_fd < 0) {
        int err = -errno;
        free(srv);
        return err;
    }
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->idle, NULL);
    *out = srv;
    return 0;
}

static const char *scheme_of(const sk_sock *s)
{
    if (s->family == AF_UNIX)
        return "";  /* sk_sockaddr_format writes "unix:" itself */
    return s->type == SOCK_DGRAM ? "udp:" : "tcp:";
}

static int listener_name(sk_listener *l)
{
    const char *scheme = scheme_of(&l->sock);
    size_t skip = strlen(scheme);
    memcpy(l->name, scheme, skip);
    int rc = sk_sock_local_name(&l->sock, l->name + skip, sizeof l->name - skip);
    return rc < 0 ? rc : 0;
}

int sk_server_add_listener(sk_server *srv, const sk_service *service, const sk_endpoint *ep,
                           int socktype, char *err, size_t errlen)
{
    if (srv->started)
        return -EBUSY;
    unsigned need = socktype == SOCK_DGRAM ? SK_SERVICE_DATAGRAM : SK_SERVICE_STREAM;
    if (!(service->transports & need)) {
        if (err)
            snprintf(err, errlen, "%s does not run on %s", service->name,
                     socktype == SOCK_DGRAM ? "datagram sockets" : "stream sockets");
        return -EPROTONOSUPPORT;
    }
    sk_listener *grown = realloc(srv->listeners, (srv->nlisteners + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    srv->listeners = grown;
    sk_listener *l = &srv->listeners[srv->nlisteners];
    memset(l, 0, sizeof *l);
    /* reactors: one socket per reactor on the same address (SO_REUSEPORT). */
    bool reuseport = srv->cfg.model == SK_MODEL_REACTORS;
    int rc = sk_sock_listen_endpoint(&l->sock, ep, socktype, srv->cfg.backlog,
                                     reuseport ? SK_LISTEN_REUSEPORT : 0, err, errlen);
    if (rc < 0)
        return rc;
    /* No Nagle delay on replies: accepted TCP sockets inherit TCP_NODELAY
     * from their listener (tcp(7)); Unix sockets refuse it, harmlessly. */
    if (socktype == SOCK_STREAM)
        (void)sk_sock_set_nodelay(&l->sock, true);
    l->service = service;
    l->endpoint = *ep;
    rc = listener_name(l);
    if (rc == 0 && reuseport)
        rc = sk_listener_open_reuseport(srv, l, err, errlen);
    if (rc < 0) {
        sk_sock_close(&l->sock);
        return rc;
    }
    return (int)srv->nlisteners++;
}

size_t sk_server_listener_count(const sk_server *srv)
{
    return srv->nlisteners;
}

int sk_server_listener_address(const sk_server *srv, size_t i, sk_sockaddr *out)
{
    if (i >= srv->nlisteners)
        return -ENOENT;
    out->len = sizeof out->ss;
    if (getsockname(srv->listeners[i].sock.fd, (struct sockaddr *)&out->ss, &out->len) < 0)
        return -errno;
    return 0;
}

int sk_server_listener_describe(const sk_server *srv, size_t i, char *buf, size_t len)
{
    if (i >= srv->nlisteners)
        return -ENOENT;
    const sk_listener *l = &srv->listeners[i];
    int n = snprintf(buf, len, "%s %s", l->service->name, l->name);
    return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int sk_server_start(sk_server *srv)
{
    if (srv->started)
        return -EBUSY;
    srv->started = true;
    for (size_t i = 0; i < srv->nlisteners; i++)
        srv->listeners[i].server = srv;
    int rc = srv->ops->start(srv);
    if (rc < 0)
        sk_server_shutdown(srv, 0);
    return rc;
}

bool sk_server_stopping(sk_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    bool closing = srv->closing;
    pthread_mutex_unlock(&srv->lock);
    return closing;
}

int sk_listener_wait(sk_listener *l, int timeout_ms)
{
    struct pollfd p[2] = {
        {.fd = l->sock.fd, .events = POLLIN},
        {.fd = l->server->stop_fd, .events = POLLIN},
    };
    for (;;) {
        int n = poll(p, 2, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (p[1].revents)
            return 0;
        return n > 0 ? 1 : -ETIMEDOUT;
    }
}

/* Stop accepting at once: wake every listener thread, refuse new
 * connections, remove Unix socket files. */
static void close_listeners(sk_server *srv)
{
    uint64_t one = 1;
    pthread_mutex_lock(&srv->lock);
    srv->closing = true;
    pthread_mutex_unlock(&srv->lock);
    if (write(srv->stop_fd, &one, sizeof one) < 0) {
        /* an eventfd write only fails on overflow: already signalled */
    }
    for (size_t i = 0; i < srv->nlisteners; i++) {
        sk_listener *l = &srv->listeners[i];
        if (l->sock.type == SOCK_STREAM)
            shutdown(l->sock.fd, SHUT_RD); /* Linux: pending and new connects refused */
        if (l->endpoint.scheme == SK_SCHEME_UNIX && !l->endpoint.abstract)
            unlink(l->endpoint.path);
    }
}

void sk_server_join_listeners(sk_server *srv)
{
    for (size_t i = 0; i < srv->nlisteners; i++) {
        sk_listener *l = &srv->listeners[i];
        if (l->thread_started)
            pthread_join(l->thread, NULL);
        l->thread_started = false;
    }
}

void sk_server_refuse(sk_listener *l, sk_sock *client)
{
    char peer[SK_ADDRSTRLEN];
    if (sk_sock_peer_name(client, peer, sizeof peer) < 0)
        snprintf(peer, sizeof peer, "?");
    unsigned long n = atomic_fetch_add(&l->server->refused, 1) + 1;
    sk_server_logf(l->server, SK_LOG_INFO, "refuse %s %s from %s: --max-conns %d reached (%lu refused)",
                   l->service->name, l->name, peer, l->server->cfg.max_conns, n);
}

void sk_server_stop_services(sk_server *srv)
{
    for (size_t i = 0; i < srv->nlisteners; i++) {
        const sk_service *svc = srv->listeners[i].service;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = srv->listeners[j].service == svc;
        if (!seen && svc->on_stop)
            svc->on_stop(svc->context);
    }
}

int sk_server_shutdown(sk_server *srv, int grace_ms)
{
    if (srv->stopped)
        return 0;
    srv->stopped = true;
    close_listeners(srv);
    int forced = srv->started ? srv->ops->drain(srv, grace_ms) : 0;
    for (size_t i = 0; i < srv->nlisteners; i++) {
        sk_sock_close(&srv->listeners[i].sock);
        sk_listener_close_reuseport(&srv->listeners[i]);
    }
    if (srv->started)
        sk_server_stop_services(srv);
    if (forced > 0)
        sk_server_logf(srv, SK_LOG_INFO, "shutdown: closed %d connection%s after the grace period",
                       forced, forced == 1 ? "" : "s");
    return forced;
}

void sk_server_destroy(sk_server *srv)
{
    if (!srv)
        return;
    sk_server_shutdown(srv, 0);
    close(srv->stop_fd);
    pthread_cond_destroy(&srv->idle);
    pthread_mutex_destroy(&srv->lock);
    free(srv->listeners);
    free(srv);
}
