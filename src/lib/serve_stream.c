/* Serving one stream connection with blocking I/O: the connection driver
 * of the iterative and thread models. Writes are a blocking sendall, so a
 * peer that stops reading holds back only its own connection. */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "conn.h"
#include "deadline.h"
#include "server_internal.h"
#include "sockkit/error.h"

enum { STREAM_READ_BUFFER = 64 * 1024 };

/* A connection served by this driver: what the service sees, plus what
 * sk_conn_wake, sk_conn_pause and sk_conn_set_timeout need. */
typedef struct blocking_conn {
    sk_conn conn;
    sk_active *active;
    int wake_fd;               /* eventfd, -1 when the service has no on_wake */
    atomic_bool wake_pending;  /* the eventfd was written, on_wake not yet run */
    bool paused;               /* sk_conn_pause: not reading */
    int64_t deadline;          /* sk_conn_set_timeout, monotonic ms; 0: none */
    bool timed_out;            /* ended by that deadline */
    bool aborted;              /* sk_conn_abort */
} blocking_conn;

static int blocking_write(sk_conn *c, const void *data, size_t len)
{
    blocking_conn *bc = c->model_data;
    return sk_sock_sendall(&bc->active->sock, data, len);
}

static int blocking_sendfile(sk_conn *c, int fd, off_t offset, size_t len)
{
    blocking_conn *bc = c->model_data;
    while (len > 0) {
        ssize_t n = sk_sock_sendfile(&bc->active->sock, fd, &offset, len);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -EIO; /* the file ended before offset + len */
        len -= (size_t)n;
    }
    return 0;
}

/* Thread-safe: make the eventfd readable once per on_wake. */
static int blocking_wake(sk_conn *c)
{
    blocking_conn *bc = c->model_data;
    if (bc->wake_fd < 0)
        return -EOPNOTSUPP;
    if (atomic_exchange(&bc->wake_pending, true))
        return 0;
    uint64_t one = 1;
    while (write(bc->wake_fd, &one, sizeof one) < 0)
        if (errno != EINTR)
            return errno == EAGAIN ? 0 : -errno;
    return 0;
}

static void blocking_set_reading(sk_conn *c, bool reading)
{
    blocking_conn *bc = c->model_data;
    bc->paused = !reading;
}

static int blocking_set_timeout(sk_conn *c, int ms)
{
    blocking_conn *bc = c->model_data;
    bc->deadline = ms ? sk_monotonic_ms() + ms : 0;
    return 0;
}

/* Writes here never queue: ending the loop and closing is the abort. */
static void blocking_abort(sk_conn *c)
{
    blocking_conn *bc = c->model_data;
    bc->aborted = true;
}

static const sk_conn_ops blocking_ops = {
    .abort = blocking_abort,
    .write = blocking_write,
    .sendfile = blocking_sendfile,
    .wake = blocking_wake,
    .set_reading = blocking_set_reading,
    .set_timeout = blocking_set_timeout,
};

enum { READY_INPUT = 1, READY_WAKE = 2 };

/* Milliseconds poll may wait: the idle timeout, the service's deadline,
 * whichever is first; -1 for neither. */
static int wait_limit(const blocking_conn *bc, int idle_ms)
{
    int limit = idle_ms > 0 ? idle_ms : -1;
    if (bc->deadline > 0) {
        int left = sk_deadline_remaining(bc->deadline);
        if (limit < 0 || left < limit)
            limit = left;
    }
    return limit;
}

/* Wait for input (unless paused), a wake, or a timeout. Returns READY_*
 * bits, or -ETIMEDOUT / -errno. */
static int wait_ready(blocking_conn *bc, int idle_ms)
{
    struct pollfd fds[2];
    nfds_t n = 0;
    /* Paused: still watched for POLLHUP/POLLERR, so a drain that shuts the
     * socket down ends the connection. */
    fds[n++] = (struct pollfd){.fd = bc->active->sock.fd, .events = bc->paused ? 0 : POLLIN};
    if (bc->wake_fd >= 0)
        fds[n++] = (struct pollfd){.fd = bc->wake_fd, .events = POLLIN};
    int rc = poll(fds, n, wait_limit(bc, idle_ms));
    if (rc < 0)
        return errno == EINTR ? 0 : -errno;
    if (rc == 0) {
        if (bc->deadline > 0 && sk_deadline_remaining(bc->deadline) == 0) {
            bc->timed_out = true;
            return -ETIMEDOUT;
        }
        return idle_ms > 0 ? -ETIMEDOUT : 0;
    }
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        if (!fds[i].revents)
            continue;
        ready |= fds[i].fd == bc->wake_fd ? READY_WAKE : READY_INPUT;
    }
    return ready;
}

/* The eventfd was readable: reset it and run on_wake. */
static int run_wake(blocking_conn *bc, const sk_service *svc, void *state)
{
    uint64_t count;
    while (read(bc->wake_fd, &count, sizeof count) < 0 && errno == EINTR)
        continue;
    atomic_store(&bc->wake_pending, false);
    return svc->on_wake(&bc->conn, state);
}

/* Read and dispatch until either side ends the connection. Returns 0 for
 * an orderly end, or the error that ended it. Services that use wakes,
 * pauses or deadlines are served through poll(2); the others by plain
 * blocking reads. */
static int pump(blocking_conn *bc, const sk_service *svc, void *state, int idle_ms)
{
    sk_conn *conn = &bc->conn;
    uint8_t buf[STREAM_READ_BUFFER];
    int rc = svc->on_open ? svc->on_open(conn, state) : 0;
    while (rc == 0 && !conn->closing) {
        if (bc->wake_fd >= 0 || bc->paused || bc->deadline > 0) {
            int ready = wait_ready(bc, idle_ms);
            if (ready < 0)
                return ready;
            if (ready & READY_WAKE) {
                rc = run_wake(bc, svc, state);
                continue;
            }
            if (!(ready & READY_INPUT))
                continue;
        }
        ssize_t n = sk_sock_recv(&bc->active->sock, buf, sizeof buf);
        if (n < 0)
            return (int)n;
        if (n == 0) /* EOF: a blocking driver has nothing left to drive */
            return svc->on_eof ? svc->on_eof(conn, state) : 0;
        conn->bytes_in += (uint64_t)n;
        rc = svc->on_data(conn, state, buf, (size_t)n);
    }
    return bc->aborted && rc == 0 ? -ECONNABORTED : rc;
}

static void log_close(sk_listener *l, const blocking_conn *bc, int64_t started_ms, int rc)
{
    const sk_conn *conn = &bc->conn;
    char why[128] = "";
    bool idle = rc == -ETIMEDOUT; /* the socket timeout is the idle timeout */
    if (idle)
        snprintf(why, sizeof why, bc->timed_out ? " (timeout)" : " (idle timeout)");
    else if (rc == -ECONNABORTED && bc->aborted)
        snprintf(why, sizeof why, " (aborted)");
    else if (rc < 0)
        snprintf(why, sizeof why, " (%s)", sk_strerror(rc));
    bool routine = idle || (rc == -ECONNABORTED && bc->aborted);
    sk_server_logf(l->server, rc < 0 && !routine ? SK_LOG_ERROR : SK_LOG_INFO,
                   "close %s %s from %s: %llu bytes in, %llu bytes out, %.3f s%s",
                   l->service->name, l->name, conn->peer, (unsigned long long)conn->bytes_in,
                   (unsigned long long)conn->bytes_out, (double)(sk_monotonic_ms() - started_ms) / 1000.0, why);
}

void sk_serve_stream_blocking(sk_active *a)
{
    sk_listener *l = a->listener;
    const sk_service *svc = l->service;
    char peer[SK_ADDRSTRLEN];
    if (sk_sock_peer_name(&a->sock, peer, sizeof peer) < 0)
        snprintf(peer, sizeof peer, "?");
    blocking_conn bc = {.active = a, .wake_fd = -1};
    atomic_init(&bc.wake_pending, false);
    sk_conn_init(&bc.conn, &blocking_ops, &bc, svc, peer);
    int idle_ms = l->server->cfg.idle_timeout_ms;
    if (idle_ms > 0)
        sk_sock_settimeout(&a->sock, idle_ms);
    int64_t started = sk_monotonic_ms();
    sk_server_logf(l->server, SK_LOG_INFO, "open %s %s from %s", svc->name, l->name, peer);

    int rc = -ENOMEM;
    void *state = calloc(1, svc->state_size ? svc->state_size : 1);
    if (svc->on_wake && state && (bc.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        free(state);
        state = NULL;
    }
    if (state) {
        rc = pump(&bc, svc, state, idle_ms);
        if (svc->on_close)
            svc->on_close(&bc.conn, state);
        free(state);
    }
    if (bc.wake_fd >= 0)
        close(bc.wake_fd); /* no wake after on_close returned */
    if (rc == 0)
        sk_sock_shutdown(&a->sock, SHUT_WR); /* orderly FIN after the last reply */
    if (rc == -ECONNRESET || rc == -EPIPE)
        rc = 0; /* the peer left: routine, not a server error */

    log_close(l, &bc, started, rc);
    sk_server_untrack(l->server, a); /* after this, the server may be freed */
    sk_sock_close(&a->sock);
    free(a);
}
