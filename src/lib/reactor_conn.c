/* Serving one stream connection on a reactor: a service's callbacks driven
 * by a buffered stream. The event models' counterpart of serve_stream.c,
 * with the same open and close log lines.
 *
 * One allocation per connection holds the stream, the sk_conn and the
 * service's state. The idle timeout costs one store per read: the timer is
 * re-armed only when it fires, for the time still left. */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "reactor.h"
#include "sockkit/error.h"

static int conn_write(sk_conn *c, const void *data, size_t len)
{
    sk_reactor_conn *rc = c->model_data;
    return sk_stream_write(&rc->stream, data, len);
}

static int conn_sendfile(sk_conn *c, int fd, off_t offset, size_t len)
{
    sk_reactor_conn *rc = c->model_data;
    return sk_stream_sendfile(&rc->stream, fd, offset, len);
}

static size_t conn_pending(const sk_conn *c)
{
    const sk_reactor_conn *rc = c->model_data;
    return sk_stream_pending(&rc->stream);
}

static void conn_set_reading(sk_conn *c, bool reading)
{
    sk_reactor_conn *rc = c->model_data;
    if (rc->stream.closed)
        return;
    if (reading)
        sk_stream_resume(&rc->stream);
    else
        sk_stream_pause(&rc->stream);
}

/* The service's deadline: armed on the idle timer, which fires at the
 * earlier of the two and re-arms itself for the other. */
static int conn_set_timeout(sk_conn *c, int ms)
{
    sk_reactor_conn *rc = c->model_data;
    sk_loop *loop = rc->reactor->loop;
    if (ms == 0) {
        rc->deadline_ms = 0; /* the timer, if armed, finds nothing due */
        return 0;
    }
    rc->deadline_ms = sk_loop_now(loop) + ms;
    if (sk_timer_active(&rc->idle) && rc->idle.due_ms <= rc->deadline_ms)
        return 0;
    return sk_timer_start(loop, &rc->idle, ms, 0);
}

static int conn_wake(sk_conn *c);

static void conn_abort(sk_conn *c)
{
    sk_reactor_conn *rc = c->model_data;
    if (rc->error == 0)
        rc->error = -ECONNABORTED;
    sk_stream_abort(&rc->stream, -ECONNABORTED);
}

static const sk_conn_ops reactor_conn_ops = {
    .write = conn_write,
    .sendfile = conn_sendfile,
    .pending = conn_pending,
    .wake = conn_wake,
    .set_reading = conn_set_reading,
    .set_timeout = conn_set_timeout,
    .abort = conn_abort,
};

/* After a service callback: a negative return or sk_conn_close ends the
 * connection once its output is written. */
static void settle(sk_reactor_conn *rc, int ret)
{
    if (ret < 0 && rc->error == 0)
        rc->error = ret;
    if (ret < 0 || rc->conn.closing)
        sk_stream_close(&rc->stream);
}

/* ---- waking a connection from any thread -------------------------------- */

/* Posted to the reactor's loop: run on_wake for every woken connection;
 * free those that closed meanwhile. */
static void run_wakes(sk_loop *loop, void *arg)
{
    (void)loop;
    sk_reactor *r = arg;
    pthread_mutex_lock(&r->wake_lock);
    sk_reactor_conn *list = r->wakes;
    r->wakes = NULL;
    r->wake_posted = false;
    pthread_mutex_unlock(&r->wake_lock);
    for (sk_reactor_conn *rc = list, *next; rc; rc = next) {
        next = rc->wake_next;
        atomic_store(&rc->wake_pending, false); /* wakes from now on queue again */
        if (rc->zombie) {
            free(rc);
            continue;
        }
        if (rc->stream.closed || rc->conn.closing)
            continue;
        rc->active_ms = sk_loop_now(loop);
        settle(rc, rc->conn.service->on_wake(&rc->conn, rc->state));
    }
}

static int conn_wake(sk_conn *c)
{
    sk_reactor_conn *rc = c->model_data;
    if (atomic_exchange(&rc->wake_pending, true))
        return 0; /* already queued: coalesced */
    sk_reactor *r = rc->reactor;
    int err = 0;
    pthread_mutex_lock(&r->wake_lock);
    rc->wake_next = r->wakes;
    r->wakes = rc;
    if (!r->wake_posted) {
        err = sk_loop_post(r->loop, run_wakes, r);
        r->wake_posted = err == 0; /* else the next wake posts */
    }
    pthread_mutex_unlock(&r->wake_lock);
    return err;
}

void sk_reactor_wakes_free(sk_reactor *r)
{
    for (sk_reactor_conn *rc = r->wakes, *next; rc; rc = next) {
        next = rc->wake_next;
        if (rc->zombie)
            free(rc);
    }
    r->wakes = NULL;
}

static void conn_read(sk_stream *s, const uint8_t *data, size_t len)
{
    sk_reactor_conn *rc = s->data;
    rc->active_ms = sk_loop_now(s->loop);
    rc->conn.bytes_in += len;
    int ret = rc->conn.service->on_data(&rc->conn, rc->state, data, len);
    /* Replies are not later activity. */
    rc->sent_seen = rc->conn.bytes_out - sk_stream_pending(&rc->stream);
    if (ret < 0 || rc->conn.closing)
        settle(rc, ret);
}

static void conn_drain(sk_stream *s)
{
    sk_reactor_conn *rc = s->data;
    const sk_service *svc = rc->conn.service;
    if (svc->on_drain && !rc->conn.closing)
        settle(rc, svc->on_drain(&rc->conn, rc->state));
}

static void conn_eof(sk_stream *s)
{
    sk_reactor_conn *rc = s->data;
    const sk_service *svc = rc->listener->service;
    if (!svc->on_eof) {
        sk_stream_close(s); /* once pending output is written */
        return;
    }
    settle(rc, svc->on_eof(&rc->conn, rc->state));
}

static void log_close(const sk_reactor_conn *rc, int err)
{
    const sk_listener *l = rc->listener;
    char why[128] = "";
    int level = SK_LOG_INFO;
    if (err == -ETIMEDOUT && rc->timed_out) {
        snprintf(why, sizeof why, " (timeout)");
    } else if (err == -ETIMEDOUT) {
        snprintf(why, sizeof why, " (idle timeout)");
    } else if (err == -ECONNABORTED) {
        snprintf(why, sizeof why, " (aborted)");
    } else if (err == -ESHUTDOWN) {
        snprintf(why, sizeof why, " (closed at shutdown)");
    } else if (err < 0 && err != -ECONNRESET && err != -EPIPE) { /* a peer leaving is routine */
        snprintf(why, sizeof why, " (%s)", sk_strerror(err));
        level = SK_LOG_ERROR;
    }
    double secs = (double)(sk_loop_now(rc->reactor->loop) - rc->opened_ms) / 1000.0;
    sk_server_logf(l->server, level, "close %s %s from %s: %llu bytes in, %llu bytes out, %.3f s%s",
                   l->service->name, l->name, rc->conn.peer,
                   (unsigned long long)rc->conn.bytes_in, (unsigned long long)rc->conn.bytes_out,
                   secs, why);
}

/* A connection left: give back its --max-conns slot. */
static void release_slot(sk_reactor *r)
{
    if (r->set->server->cfg.max_conns > 0)
        atomic_fetch_sub(&r->set->live, 1);
}

static void conn_closed(sk_stream *s, int err)
{
    sk_reactor_conn *rc = s->data;
    sk_reactor *r = rc->reactor;
    const sk_service *svc = rc->listener->service;
    if (svc->on_close)
        svc->on_close(&rc->conn, rc->state);
    log_close(rc, rc->error ? rc->error : err);
    sk_timer_stop(r->loop, &rc->idle);
    if (rc->prev)
        rc->prev->next = rc->next;
    else
        r->conns = rc->next;
    if (rc->next)
        rc->next->prev = rc->prev;
    r->nconns--;
    release_slot(r);
    if (atomic_load(&rc->wake_pending))
        rc->zombie = true; /* on the wake list: run_wakes frees it */
    else
        free(rc);
    if (r->draining && r->nconns == 0)
        sk_loop_stop(r->loop);
}

static const sk_stream_callbacks conn_callbacks = {
    .on_read = conn_read,
    .on_eof = conn_eof,
    .on_drain = conn_drain,
    .on_close = conn_closed,
};

/* The idle timer fired: close if the connection was silent for the whole
 * timeout, else sleep for the rest of it. Output that moved since the last
 * read or check counts as activity too (seen only here, so a connection
 * that only receives lasts at most twice the timeout after its last byte
 * moved). */
static void idle_check(sk_loop *loop, sk_timer *t)
{
    sk_reactor_conn *rc = t->data;
    int64_t idle = rc->listener->server->cfg.idle_timeout_ms;
    int64_t now = sk_loop_now(loop);
    if (rc->deadline_ms > 0 && now >= rc->deadline_ms) {
        rc->timed_out = true;
        sk_stream_abort(&rc->stream, -ETIMEDOUT);
        return;
    }
    int64_t next = INT64_MAX;
    if (idle > 0) {
        uint64_t sent = rc->conn.bytes_out - sk_stream_pending(&rc->stream);
        if (sent != rc->sent_seen) {
            rc->sent_seen = sent;
            rc->active_ms = now;
        }
        int64_t quiet = now - rc->active_ms;
        if (quiet >= idle) {
            sk_stream_abort(&rc->stream, -ETIMEDOUT);
            return;
        }
        next = idle - quiet;
    }
    if (rc->deadline_ms > 0 && rc->deadline_ms - now < next)
        next = rc->deadline_ms - now;
    if (next != INT64_MAX && sk_timer_start(loop, t, next, 0) < 0)
        sk_stream_abort(&rc->stream, -ENOMEM);
}

/* --max-conns and the select(2) limit. Closes the client when refused. */
static bool admit(sk_reactor *r, sk_listener *l, sk_sock *client)
{
    int max = l->server->cfg.max_conns;
    if (max > 0 && atomic_fetch_add(&r->set->live, 1) >= max) {
        atomic_fetch_sub(&r->set->live, 1);
        sk_server_refuse(l, client);
        sk_sock_close(client);
        return false;
    }
    if (sk_loop_backend(r->loop) == SK_SELECTOR_SELECT && client->fd >= FD_SETSIZE) {
        sk_server_logf(l->server, SK_LOG_ERROR,
                       "select: fd %d >= FD_SETSIZE (%d); closing the connection", client->fd,
                       FD_SETSIZE);
        sk_sock_close(client);
        release_slot(r);
        return false;
    }
    return true;
}

/* A zeroed sk_reactor_conn with state_size bytes of service state, on a
 * cache-line boundary; NULL when out of memory. */
static sk_reactor_conn *conn_alloc(size_t state_size)
{
    size_t size = sizeof(sk_reactor_conn) + state_size;
    if (state_size > SIZE_MAX / 2)
        return NULL;
    size = (size + SK_REACTOR_CONN_ALIGN - 1) / SK_REACTOR_CONN_ALIGN * SK_REACTOR_CONN_ALIGN;
    sk_reactor_conn *rc = aligned_alloc(SK_REACTOR_CONN_ALIGN, size);
    if (rc)
        memset(rc, 0, size);
    return rc;
}

static sk_reactor_conn *conn_new(sk_reactor *r, sk_listener *l, sk_sock *client,
                                 const char *peer)
{
    const sk_service *svc = l->service;
    sk_reactor_conn *rc = conn_alloc(svc->state_size);
    int err = rc ? 0 : -ENOMEM;
    if (rc) {
        rc->reactor = r;
        rc->listener = l;
        sk_timer_init(&rc->idle, idle_check, rc);
        sk_conn_init(&rc->conn, &reactor_conn_ops, rc, svc, peer);
        err = sk_stream_open(&rc->stream, r->loop, client->fd, &conn_callbacks, rc);
        client->fd = -1; /* the stream owns it now, or closed it */
    }
    if (err < 0) {
        sk_server_logf(l->server, SK_LOG_ERROR, "%s: cannot serve %s: %s", l->name, peer,
                       sk_strerror(err));
        sk_sock_close(client);
        free(rc);
        return NULL;
    }
    rc->next = r->conns;
    if (r->conns)
        r->conns->prev = rc;
    r->conns = rc;
    r->nconns++;
    return rc;
}

void sk_reactor_conn_open(sk_reactor *r, sk_listener *l, sk_sock *client,
                          const sk_sockaddr *peer)
{
    if (!admit(r, l, client))
        return;
    char name[SK_ADDRSTRLEN];
    if (sk_sockaddr_format((const struct sockaddr *)&peer->ss, peer->len, name, sizeof name) < 0)
        snprintf(name, sizeof name, "?");
    sk_reactor_conn *rc = conn_new(r, l, client, name);
    if (!rc) {
        release_slot(r);
        return;
    }
    const sk_service *svc = l->service;
    rc->opened_ms = rc->active_ms = sk_loop_now(r->loop);
    sk_server_logf(l->server, SK_LOG_INFO, "open %s %s from %s", svc->name, l->name, name);
    int idle = l->server->cfg.idle_timeout_ms;
    if (idle > 0 && sk_timer_start(r->loop, &rc->idle, idle, 0) < 0)
        sk_stream_abort(&rc->stream, -ENOMEM);
    int ret = svc->on_open && !rc->stream.closed ? svc->on_open(&rc->conn, rc->state) : 0;
    rc->sent_seen = rc->conn.bytes_out - sk_stream_pending(&rc->stream);
    settle(rc, ret);
}

int sk_reactor_conns_abort(sk_reactor *r)
{
    int n = 0;
    for (sk_reactor_conn *rc = r->conns; rc; rc = rc->next) {
        if (rc->stream.closed)
            continue; /* its on_close is already queued */
        sk_stream_abort(&rc->stream, -ESHUTDOWN);
        n++;
    }
    return n;
}
