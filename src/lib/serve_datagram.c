/* Serving a datagram (UDP) listener: every request datagram is a one-shot
 * connection; what the service writes forms one reply datagram, sent to
 * the request's sender. Many senders interleave freely. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "server_internal.h"
#include "sockkit/error.h"

enum { DATAGRAM_BATCH = 64 };

/* The reply being built: what the service writes, in the caller's buffer of
 * SK_DATAGRAM_MAX bytes. */
typedef struct datagram_reply {
    size_t len;
    uint8_t *data;
} datagram_reply;

static int datagram_write(sk_conn *c, const void *data, size_t len)
{
    datagram_reply *r = c->model_data;
    if (len > SK_DATAGRAM_MAX - r->len)
        return -EMSGSIZE;
    memcpy(r->data + r->len, data, len);
    r->len += len;
    return 0;
}

static const sk_conn_ops datagram_ops = {.write = datagram_write};

static int send_reply(sk_sock *sock, const datagram_reply *r, const sk_sockaddr *to)
{
    ssize_t n = sk_sock_sendto(sock, r->data, r->len, to);
    if (n == -EAGAIN && sk_sock_wait(sock, POLLOUT, 100) > 0)
        n = sk_sock_sendto(sock, r->data, r->len, to);
    return n < 0 ? (int)n : 0;
}

static void handle_datagram(sk_listener *l, sk_sock *sock, const uint8_t *in, size_t len,
                            const sk_sockaddr *from, datagram_reply *reply)
{
    const sk_service *svc = l->service;
    char peer[SK_ADDRSTRLEN];
    if (sk_sockaddr_format((const struct sockaddr *)&from->ss, from->len, peer, sizeof peer) < 0)
        snprintf(peer, sizeof peer, "?");
    sk_conn conn;
    reply->len = 0;
    sk_conn_init(&conn, &datagram_ops, reply, svc, peer);
    conn.bytes_in = len;

    int rc = -ENOMEM;
    void *state = calloc(1, svc->state_size ? svc->state_size : 1);
    if (state) {
        rc = svc->on_open ? svc->on_open(&conn, state) : 0;
        if (rc == 0)
            rc = svc->on_data(&conn, state, in, len);
        if (svc->on_close)
            svc->on_close(&conn, state);
        free(state);
    }
    if (rc == 0)
        rc = send_reply(sock, reply, from);
    sk_server_logf(l->server, rc < 0 ? SK_LOG_ERROR : SK_LOG_DEBUG,
                   "datagram %s %s from %s: %zu bytes in, %zu bytes out%s%s", svc->name, l->name,
                   peer, len, rc < 0 ? (size_t)0 : reply->len, rc < 0 ? ": " : "",
                   rc < 0 ? sk_strerror(rc) : "");
}

/* Receive and answer what is queued, at most a batch, so a flood on one
 * listener still lets the loop notice shutdown (or serve other sockets). */
void sk_serve_datagram_ready(sk_listener *l, sk_sock *sock, uint8_t *in, uint8_t *out)
{
    datagram_reply reply = {.len = 0, .data = out};
    for (int i = 0; i < DATAGRAM_BATCH; i++) {
        sk_sockaddr from;
        ssize_t n = sk_sock_recvfrom(sock, in, SK_DATAGRAM_MAX + 1, &from);
        if (n == -EAGAIN)
            return;
        if (n < 0) { /* e.g. ECONNREFUSED from an ICMP error about an earlier reply */
            sk_server_logf(l->server, SK_LOG_DEBUG, "recvfrom %s: %s", l->name, sk_strerror((int)n));
            continue;
        }
        handle_datagram(l, sock, in, (size_t)n, &from, &reply);
    }
}

void *sk_serve_datagram_loop(void *arg)
{
    sk_listener *l = arg;
    uint8_t *in = malloc(SK_DATAGRAM_MAX + 1);
    uint8_t *reply = malloc(SK_DATAGRAM_MAX);
    sk_sock_settimeout(&l->sock, 0);
    while (in && reply) {
        int rc = sk_listener_wait(l, -1);
        if (rc <= 0) {
            if (rc < 0)
                sk_server_logf(l->server, SK_LOG_ERROR, "%s: %s", l->name, sk_strerror(rc));
            break;
        }
        sk_serve_datagram_ready(l, &l->sock, in, reply);
    }
    if (!in || !reply)
        sk_server_logf(l->server, SK_LOG_ERROR, "%s: out of memory", l->name);
    free(in);
    free(reply);
    return NULL;
}
