/* The netcat relay: stdin -> socket, socket -> stdout, one poll(2) loop.
 * See relay.h for the session rules (half-close, peer close, UDP). */
#include "relay.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sockkit/error.h"

/* Largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP header bytes): one
 * stdin read becomes one datagram, so a read never asks for more. */
#define UDP_PAYLOAD_MAX 65507
/* Room needed before receiving a datagram, so that none is truncated. */
#define DGRAM_ROOM 65536

/* One direction's bytes: data[head, tail) is waiting to be written. */
struct buffer {
    unsigned char *data;
    size_t head;
    size_t tail;
};

struct relay {
    sk_sock *s;
    sk_relay_stats *stats;
    int idle_ms;
    bool dgram;
    struct buffer up;    /* stdin -> socket */
    struct buffer down;  /* socket -> stdout */
    bool stdin_eof;      /* no more reads from stdin */
    bool write_shut;     /* the socket's write side is shut (or never used) */
    bool peer_eof;       /* the peer closed: only drain to stdout */
    int64_t last_move;   /* monotonic ms of the last byte moved */
};

enum { PFD_STDIN, PFD_STDOUT, PFD_SOCK, PFD_COUNT };

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t buf_len(const struct buffer *b)
{
    return b->tail - b->head;
}

/* Free bytes at the tail; rewinds an empty buffer and, when need is more
 * than the tail has, moves the pending bytes to the front. */
static size_t buf_room(struct buffer *b, size_t need)
{
    if (b->head == b->tail)
        b->head = b->tail = 0;
    if (SK_RELAY_BUFSIZE - b->tail < need && b->head > 0) {
        memmove(b->data, b->data + b->head, buf_len(b));
        b->tail -= b->head;
        b->head = 0;
    }
    return SK_RELAY_BUFSIZE - b->tail;
}

static void moved(struct relay *r)
{
    r->last_move = now_ms();
}

static int fail(struct relay *r, const char *where, int err)
{
    r->stats->where = where;
    return err;
}

/* Room to read stdin into: a datagram waits for the previous one to go. */
static size_t stdin_room(struct relay *r)
{
    if (!r->dgram)
        return buf_room(&r->up, 1);
    return buf_len(&r->up) == 0 ? UDP_PAYLOAD_MAX : 0;
}

/* Room to receive into: a whole datagram must fit. */
static bool can_receive(struct relay *r)
{
    size_t need = r->dgram ? DGRAM_ROOM : 1;
    return buf_room(&r->down, need) >= need;
}

static int read_stdin(struct relay *r)
{
    size_t room = stdin_room(r);
    if (room == 0)
        return 0;
    ssize_t n;
    do
        n = read(STDIN_FILENO, r->up.data + r->up.tail, room);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN ? 0 : fail(r, "stdin", -errno);
    if (n == 0)
        r->stdin_eof = true;
    r->up.tail += (size_t)n;
    moved(r);
    return 0;
}

static int write_stdout(struct relay *r)
{
    ssize_t n;
    do
        n = write(STDOUT_FILENO, r->down.data + r->down.head, buf_len(&r->down));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN ? 0 : fail(r, "stdout", -errno);
    r->down.head += (size_t)n;
    moved(r);
    return 0;
}

static int receive(struct relay *r)
{
    if (!can_receive(r))
        return 0;
    ssize_t n = sk_sock_recv(r->s, r->down.data + r->down.tail,
                             SK_RELAY_BUFSIZE - r->down.tail);
    if (n == -EAGAIN)
        return 0;
    if (n < 0)
        return fail(r, "socket", (int)n);
    if (n == 0 && !r->dgram) /* an empty datagram is not an end */
        r->peer_eof = true;
    r->down.tail += (size_t)n;
    r->stats->received += (uint64_t)n;
    moved(r);
    return 0;
}

static int send_pending(struct relay *r)
{
    ssize_t n = sk_sock_send(r->s, r->up.data + r->up.head, buf_len(&r->up));
    if (n == -EAGAIN)
        return 0;
    if (n < 0)
        return fail(r, "socket", (int)n);
    /* A datagram goes whole or not at all. */
    r->up.head = r->dgram ? r->up.tail : r->up.head + (size_t)n;
    r->stats->sent += (uint64_t)n;
    moved(r);
    return 0;
}

/* Stdin is done and everything read from it is sent: half-close. */
static void maybe_shutdown(struct relay *r)
{
    if (r->write_shut || !r->stdin_eof || buf_len(&r->up) > 0)
        return;
    r->write_shut = true;
    if (!r->dgram)
        (void)sk_sock_shutdown(r->s, SHUT_WR); /* a gone peer shows on recv */
}

static void build_pollfds(struct relay *r, struct pollfd *pfd)
{
    bool reading = !r->stdin_eof && !r->peer_eof && stdin_room(r) > 0;
    bool sending = !r->peer_eof && buf_len(&r->up) > 0;
    bool receiving = !r->peer_eof && can_receive(r);

    pfd[PFD_STDIN] = (struct pollfd){.fd = reading ? STDIN_FILENO : -1, .events = POLLIN};
    pfd[PFD_STDOUT] = (struct pollfd){
        .fd = buf_len(&r->down) > 0 ? STDOUT_FILENO : -1, .events = POLLOUT};
    pfd[PFD_SOCK] = (struct pollfd){
        .fd = (sending || receiving) ? r->s->fd : -1,
        .events = (short)((receiving ? POLLIN : 0) | (sending ? POLLOUT : 0))};
}

/* Poll timeout for the idle limit: -1 none, 0 expired. */
static int poll_timeout(const struct relay *r)
{
    if (r->idle_ms < 0)
        return -1;
    int64_t left = r->last_move + r->idle_ms - now_ms();
    return left > 0 ? (int)left : 0;
}

static int handle_events(struct relay *r, const struct pollfd *pfd)
{
    const short ready = POLLERR | POLLHUP;
    int rc = 0;

    if (pfd[PFD_STDOUT].revents & POLLNVAL)
        return fail(r, "stdout", -EBADF);
    if (pfd[PFD_STDOUT].revents & (POLLOUT | ready))
        rc = write_stdout(r);
    if (rc == 0 && (pfd[PFD_SOCK].events & POLLIN) &&
        (pfd[PFD_SOCK].revents & (POLLIN | ready)))
        rc = receive(r);
    if (rc == 0 && !r->peer_eof && (pfd[PFD_SOCK].events & POLLOUT) &&
        (pfd[PFD_SOCK].revents & (POLLOUT | ready)))
        rc = send_pending(r);
    if (pfd[PFD_STDIN].revents & POLLNVAL) /* fd 0 closed: as /dev/null */
        r->stdin_eof = true;
    else if (rc == 0 && (pfd[PFD_STDIN].revents & (POLLIN | ready)))
        rc = read_stdin(r);
    return rc;
}

static int relay_loop(struct relay *r)
{
    for (;;) {
        maybe_shutdown(r);
        if (r->peer_eof && buf_len(&r->down) == 0)
            return 0;
        struct pollfd pfd[PFD_COUNT];
        build_pollfds(r, pfd);
        int timeout = poll_timeout(r);
        int n = timeout == 0 ? 0 : poll(pfd, PFD_COUNT, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(r, "poll", -errno);
        if (n == 0 && poll_timeout(r) == 0)
            /* UDP after stdin EOF: the drain is over, a normal end. */
            return (r->dgram && r->stdin_eof) ? 0 : -ETIMEDOUT;
        int rc = handle_events(r, pfd);
        if (rc < 0)
            return rc;
    }
}

int sk_relay_run(sk_sock *s, const sk_relay_opts *opts, sk_relay_stats *stats)
{
    struct relay r = {
        .s = s,
        .stats = stats,
        .idle_ms = opts->idle_timeout_ms,
        .dgram = s->type == SOCK_DGRAM,
        .stdin_eof = !opts->use_stdin,
        .write_shut = !opts->use_stdin,
        .last_move = now_ms(),
    };
    *stats = (sk_relay_stats){0};
    int rc = sk_sock_settimeout(s, 0);
    if (rc < 0)
        return fail(&r, "socket", rc);
    r.up.data = malloc(SK_RELAY_BUFSIZE);
    r.down.data = malloc(SK_RELAY_BUFSIZE);
    if (r.up.data && r.down.data) {
        size_t first = opts->initial_len < SK_RELAY_BUFSIZE ? opts->initial_len
                                                            : SK_RELAY_BUFSIZE;
        if (first > 0)
            memcpy(r.down.data, opts->initial, first);
        r.down.tail = first;
        stats->received = first;
        rc = relay_loop(&r);
    } else {
        rc = fail(&r, "memory", -ENOMEM);
    }
    free(r.up.data);
    free(r.down.data);
    return rc;
}

int sk_relay_session(const char *cmd, sk_sock *s, const sk_relay_opts *opts, bool verbose,
                     bool quiet)
{
    sk_relay_stats stats;
    int64_t start = now_ms();
    int rc = sk_relay_run(s, opts, &stats);
    double seconds = (double)(now_ms() - start) / 1000.0;

    if (rc == -ETIMEDOUT && !quiet)
        fprintf(stderr, "sk: idle timeout\n");
    else if (rc < 0 && !quiet)
        fprintf(stderr, "sk: %s: %s: %s\n", cmd, stats.where ? stats.where : "relay",
                sk_strerror(rc));
    if (verbose && !quiet)
        fprintf(stderr, "sk: %" PRIu64 " bytes sent, %" PRIu64 " bytes received in %.3f s\n",
                stats.sent, stats.received, seconds);
    return rc < 0 ? 1 : 0;
}
