/* Serving one stream connection with blocking I/O: the connection driver
 * of the iterative and thread models. Writes are a blocking sendall, so a
 * peer that stops reading holds back only its own connection. */
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "deadline.h"
#include "server_internal.h"
#include "sockkit/error.h"

enum { STREAM_READ_BUFFER = 64 * 1024 };

static int blocking_write(sk_conn *c, const void *data, size_t len)
{
    sk_active *a = c->model_data;
    return sk_sock_sendall(&a->sock, data, len);
}

static int blocking_sendfile(sk_conn *c, int fd, off_t offset, size_t len)
{
    sk_active *a = c->model_data;
    while (len > 0) {
        ssize_t n = sk_sock_sendfile(&a->sock, fd, &offset, len);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -EIO; /* the file ended before offset + len */
        len -= (size_t)n;
    }
    return 0;
}

static const sk_conn_ops blocking_ops = {.write = blocking_write, .sendfile = blocking_sendfile};

/* Read and dispatch until either side ends the connection. Returns 0 for
 * an orderly end, or the error that ended it. */
static int pump(sk_conn *conn, const sk_service *svc, void *state, sk_sock *sock)
{
    uint8_t buf[STREAM_READ_BUFFER];
    int rc = svc->on_open ? svc->on_open(conn, state) : 0;
    while (rc == 0 && !conn->closing) {
        ssize_t n = sk_sock_recv(sock, buf, sizeof buf);
        if (n < 0)
            return (int)n;
        if (n == 0) /* EOF: a blocking driver has nothing left to drive */
            return svc->on_eof ? svc->on_eof(conn, state) : 0;
        conn->bytes_in += (uint64_t)n;
        rc = svc->on_data(conn, state, buf, (size_t)n);
    }
    return rc;
}

static void log_close(sk_listener *l, const sk_conn *conn, int64_t started_ms, int rc)
{
    char why[128] = "";
    bool idle = rc == -ETIMEDOUT; /* the socket timeout is the idle timeout */
    if (idle)
        snprintf(why, sizeof why, " (idle timeout)");
    else if (rc < 0)
        snprintf(why, sizeof why, " (%s)", sk_strerror(rc));
    sk_server_logf(l->server, rc < 0 && !idle ? SK_LOG_ERROR : SK_LOG_INFO,
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
    sk_conn conn;
    sk_conn_init(&conn, &blocking_ops, a, svc, peer);
    if (l->server->cfg.idle_timeout_ms > 0)
        sk_sock_settimeout(&a->sock, l->server->cfg.idle_timeout_ms);
    int64_t started = sk_monotonic_ms();
    sk_server_logf(l->server, SK_LOG_INFO, "open %s %s from %s", svc->name, l->name, peer);

    int rc = -ENOMEM;
    void *state = calloc(1, svc->state_size ? svc->state_size : 1);
    if (state) {
        rc = pump(&conn, svc, state, &a->sock);
        if (svc->on_close)
            svc->on_close(&conn, state);
        free(state);
    }
    if (rc == 0)
        sk_sock_shutdown(&a->sock, SHUT_WR); /* orderly FIN after the last reply */
    if (rc == -ECONNRESET || rc == -EPIPE)
        rc = 0; /* the peer left: routine, not a server error */

    log_close(l, &conn, started, rc);
    sk_server_untrack(l->server, a); /* after this, the server may be freed */
    sk_sock_close(&a->sock);
    free(a);
}
