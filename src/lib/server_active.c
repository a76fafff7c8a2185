/* The registry of connections served by threads (iterative, thread and
 * pool models): shutdown waits on it for the grace period, then ends what
 * is left; --max-conns is enforced when a connection joins it. */
#include <errno.h>
#include <sys/socket.h>
#include <time.h>

#include "deadline.h"
#include "server_internal.h"

int sk_server_track(sk_server *srv, sk_active *a)
{
    pthread_mutex_lock(&srv->lock);
    if (srv->closing) {
        pthread_mutex_unlock(&srv->lock);
        return -ECANCELED;
    }
    if (srv->cfg.max_conns > 0 && srv->nactive >= (size_t)srv->cfg.max_conns) {
        pthread_mutex_unlock(&srv->lock);
        return -EUSERS;
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

void sk_server_wait_idle(sk_server *srv, int64_t deadline)
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

int sk_server_drain_active(sk_server *srv, int grace_ms)
{
    int forced = 0;
    pthread_mutex_lock(&srv->lock);
    sk_server_wait_idle(srv, sk_deadline_from_timeout(grace_ms < 0 ? 0 : grace_ms));
    /* Grace is over: end the rest. Their threads see EOF or EPIPE. */
    for (sk_active *a = srv->active; a; a = a->next) {
        shutdown(a->sock.fd, SHUT_RDWR);
        forced++;
    }
    sk_server_wait_idle(srv, -1);
    pthread_mutex_unlock(&srv->lock);
    return forced;
}
