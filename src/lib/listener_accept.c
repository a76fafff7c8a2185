/* Accepting on every stream listener of a server from one thread or
 * process: the shared front end of the pool, fork and prefork models. */
#include <errno.h>
#include <stdlib.h>

#include "deadline.h"
#include "listener_accept.h"
#include "sockkit/error.h"

bool sk_accept_error_is_transient(int err)
{
    switch (-err) {
    case EAGAIN: case ECONNABORTED: case EINTR: case EPROTO: case ENETDOWN:
    case ENOPROTOOPT: case EHOSTDOWN: case ENONET: case EHOSTUNREACH:
    case EOPNOTSUPP: case ENETUNREACH: case EPERM:
        return true;
    default:
        return false;
    }
}

int sk_listener_accept(sk_listener *l, sk_active *a, bool *warned)
{
    int rc = sk_sock_accept(&l->sock, &a->sock, NULL);
    if (rc < 0) {
        if (sk_server_stopping(l->server))
            return -ECANCELED;
        if (sk_accept_error_is_transient(rc))
            return -EAGAIN;
        if (!*warned)
            sk_server_logf(l->server, SK_LOG_ERROR, "accept %s: %s; pausing accepts", l->name,
                           sk_strerror(rc));
        *warned = true;
        return rc;
    }
    *warned = false;
    a->listener = l;
    rc = sk_server_track(l->server, a);
    if (rc < 0) {
        if (rc == -EUSERS)
            sk_server_refuse(l, &a->sock);
        sk_sock_close(&a->sock);
        return rc == -ECANCELED ? rc : -EAGAIN;
    }
    return 0;
}

int sk_accept_set_init(sk_accept_set *s, sk_server *srv)
{
    *s = (sk_accept_set){.srv = srv};
    s->fds = calloc(srv->nlisteners + 1, sizeof *s->fds);
    s->listeners = calloc(srv->nlisteners + 1, sizeof *s->listeners);
    if (!s->fds || !s->listeners) {
        sk_accept_set_free(s);
        return -ENOMEM;
    }
    for (size_t i = 0; i < srv->nlisteners; i++) {
        sk_listener *l = &srv->listeners[i];
        if (l->sock.type != SOCK_STREAM)
            continue;
        sk_sock_settimeout(&l->sock, 0); /* poll(2) waits; accept never does */
        s->listeners[s->nlisteners++] = l;
    }
    return 0;
}

void sk_accept_set_free(sk_accept_set *s)
{
    free(s->fds);
    free(s->listeners);
    s->fds = NULL;
    s->listeners = NULL;
    s->nlisteners = 0;
}

size_t sk_accept_set_prepare(sk_accept_set *s, int *timeout_ms)
{
    s->fds[0] = (struct pollfd){.fd = s->srv->stop_fd, .events = POLLIN};
    s->n = 1;
    int paused = s->paused_until ? sk_deadline_remaining(s->paused_until) : 0;
    if (paused > 0) {
        if (*timeout_ms < 0 || paused < *timeout_ms)
            *timeout_ms = paused;
        return s->n;
    }
    s->paused_until = 0;
    for (size_t i = 0; i < s->nlisteners; i++)
        s->fds[s->n++] = (struct pollfd){.fd = s->listeners[i]->sock.fd, .events = POLLIN};
    return s->n;
}

int sk_accept_set_ready(sk_accept_set *s, const struct pollfd *fds, size_t size,
                        void (*serve)(sk_active *a, void *arg), void *arg)
{
    if (fds[0].revents)
        return -ECANCELED;
    for (size_t i = 1; i < s->n; i++) {
        if (!fds[i].revents)
            continue;
        sk_listener *l = s->listeners[i - 1];
        sk_active *a = calloc(1, size);
        if (!a && !s->warned)
            sk_server_logf(s->srv, SK_LOG_ERROR, "accept %s: out of memory; pausing accepts", l->name);
        int rc = a ? sk_listener_accept(l, a, &s->warned) : -ENOMEM;
        if (rc == 0) {
            serve(a, arg);
            continue;
        }
        free(a);
        if (rc == -ECANCELED)
            return rc;
        if (rc != -EAGAIN) {
            s->warned = true;
            s->paused_until = sk_deadline_from_timeout(SK_ACCEPT_PAUSE_MS);
            break;
        }
    }
    return 0;
}
