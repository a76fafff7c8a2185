/* sk_server: listeners, lifecycle and graceful shutdown. The models that
 * serve connections live in their own files. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "deadline.h"
#include "server_internal.h"
#include "sockkit/error.h"

static const char *const model_names[] = {
    [SK_MODEL_ITERATIVE] = "iterative",
    [SK_MODEL_THREAD] = "thread",
};

enum { MODEL_COUNT = sizeof model_names / sizeof model_names[0] };

int sk_model_parse(const char *name, sk_model *out)
{
    for (int m = 0; m < MODEL_COUNT; m++) {
        if (!strcmp(name, model_names[m])) {
            *out = (sk_model)m;
            return 0;
        }
    }
    return -EINVAL;
}

const char *sk_model_name(sk_model model)
{
    if ((int)model < 0 || (int)model >= MODEL_COUNT)
        return "unknown";
    return model_names[model];
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
    if ((int)cfg->model < 0 || (int)cfg->model >= MODEL_COUNT)
        return -EINVAL;
    sk_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return -ENOMEM;
    srv->cfg = *cfg;
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
    int rc = sk_sock_listen_endpoint(&l->sock, ep, socktype, srv->cfg.backlog, 0, err, errlen);
    if (rc < 0)
        return rc;
    l->service = service;
    l->endpoint = *ep;
    rc = listener_name(l);
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
    for (size_t i = 0; i < srv->nlisteners; i++) {
        sk_listener *l = &srv->listeners[i];
        l->server = srv;
        void *(*body)(void *) =
            l->sock.type == SOCK_DGRAM ? sk_serve_datagram_loop : sk_accept_loop_blocking;
        int rc = pthread_create(&l->thread, NULL, body, l);
        if (rc != 0) {
            sk_server_shutdown(srv, 0);
            return -rc;
        }
        l->thread_started = true;
    }
    return 0;
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

int sk_server_track(sk_server *srv, sk_active *a)
{
    pthread_mutex_lock(&srv->lock);
    if (srv->closing) {
        pthread_mutex_unlock(&srv->lock);
        return -ECANCELED;
    }
    a->prev = NULL;
    a->next = srv->active;
    if (srv->active)
        srv->active->prev = a;
    srv->active = a;
    srv->nactive++;
    pthread_mutex_unlock(&srv->lock);
    return 0;
}

void sk_server_untrack(sk_server *srv, sk_active *a)
{
    pthread_mutex_lock(&srv->lock);
    if (a->prev)
        a->prev->next = a->next;
    else
        srv->active = a->next;
    if (a->next)
        a->next->prev = a->prev;
    srv->nactive--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
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

/* Wait until no connection is active or the deadline passes.
 * Called with the lock held. */
static void wait_idle(sk_server *srv, int64_t deadline)
{
    while (srv->nactive > 0) {
        int ms = sk_deadline_remaining(deadline);
        if (ms == 0)
            return;
        if (ms < 0) {
            pthread_cond_wait(&srv->idle, &srv->lock);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&srv->idle, &srv->lock, &ts);
    }
}

/* After the grace period: end every remaining connection. Their threads
 * see EOF or EPIPE and finish. Returns how many there were. */
static int force_close_active(sk_server *srv)
{
    int forced = 0;
    pthread_mutex_lock(&srv->lock);
    for (sk_active *a = srv->active; a; a = a->next) {
        shutdown(a->sock.fd, SHUT_RDWR);
        forced++;
    }
    wait_idle(srv, -1);
    pthread_mutex_unlock(&srv->lock);
    return forced;
}

int sk_server_shutdown(sk_server *srv, int grace_ms)
{
    if (srv->stopped)
        return 0;
    srv->stopped = true;
    close_listeners(srv);
    pthread_mutex_lock(&srv->lock);
    wait_idle(srv, sk_deadline_from_timeout(grace_ms < 0 ? 0 : grace_ms));
    pthread_mutex_unlock(&srv->lock);
    int forced = force_close_active(srv);
    for (size_t i = 0; i < srv->nlisteners; i++) {
        sk_listener *l = &srv->listeners[i];
        if (l->thread_started)
            pthread_join(l->thread, NULL);
        l->thread_started = false;
        sk_sock_close(&l->sock);
    }
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
