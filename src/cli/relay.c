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

/* After the peer's EOF, how long a silent (but open) stdin may keep the
 * session going, as socat's -t: a file or a busy pipe is sent in full. */
#define PEER_EOF_LINGER_MS 500

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
    bool peer_eof;       /* the peer half-closed or closed: nothing more to receive */
    bool stdin_tty;      /* interactive: the session ends with the peer's EOF */
    int64_t last_move;   /* monotonic ms of the last byte moved (or stdin EOF) */
    int64_t last_input;  /* monotonic ms stdin last gave data (or the peer's EOF) */
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
    r->last_input = r->last_move;
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
    r->down.tail += (size_t)n;
    r->stats->received += (uint64_t)n;
    moved(r);
    if (n == 0 && !r->dgram) { /* an empty datagram is not an end */
        r->peer_eof = true;
        r->last_input = r->last_move;
    }
    return 0;
}

static int send_pending(struct relay *r)
{
    ssize_t n = sk_sock_send(r->s, r->up.data + r->up.head, buf_len(&r->up));
    if (n == -EAGAIN)
        return 0;
    if (n < 0 && r->peer_eof && (n == -EPIPE || n == -ECONNRESET)) {
        r->up.head = r->up.tail; /* the peer closed entirely, not just half: done */
        r->stdin_eof = r->write_shut = true;
        return 0;
    }
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
    bool reading = !r->stdin_eof && stdin_room(r) > 0;
    bool sending = buf_len(&r->up) > 0;
    bool receiving = !r->peer_eof && can_receive(r);

    pfd[PFD_STDIN] = (struct pollfd){.fd = reading ? STDIN_FILENO : -1, .events = POLLIN};
    pfd[PFD_STDOUT] = (struct pollfd){
        .fd = buf_len(&r->down) > 0 ? STDOUT_FILENO : -1, .events = POLLOUT};
    pfd[PFD_SOCK] = (struct pollfd){
        .fd = (sending || receiving) ? r->s->fd : -1,
        .events = (short)((receiving ? POLLIN : 0) | (sending ? POLLOUT : 0))};
}

/* Milliseconds the session may still wait for stdin after the peer's EOF:
 * -1 when not lingering, 0 when the linger is over. */
static int linger_left(const struct relay *r)
{
    if (!r->peer_eof || r->write_shut || buf_len(&r->up) > 0 || buf_len(&r->down) > 0)
        return -1;
    if (r->stdin_tty)
        return 0;
    int64_t left = r->last_input + PEER_EOF_LINGER_MS - now_ms();
    return left > 0 ? (int)left : 0;
}

/* The peer's EOF ends the session once its bytes are on stdout and ours
 * are sent. The peer may only have half-closed, so stdin from a file or a
 * pipe is still sent while it keeps giving data; an interactive stdin, or
 * one silent for PEER_EOF_LINGER_MS, ends the session (ncat ends at once,
 * socat after its -t). */
static bool session_over(const struct relay *r)
{
    return r->peer_eof && buf_len(&r->down) == 0 && (r->write_shut || linger_left(r) == 0);
}

/* Poll timeout for the idle limit: -1 none, 0 expired. */
static int poll_timeout(const struct relay *r)
{
    int linger = linger_left(r);
    if (r->idle_ms < 0)
        return linger;
    int64_t left = r->last_move + r->idle_ms - now_ms();
    int idle = left > 0 ? (int)left : 0;
    return linger >= 0 && linger < idle ? linger : idle;
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
    if (rc == 0 && (pfd[PFD_SOCK].events & POLLOUT) &&
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
        if (session_over(r))
            return 0;
        struct pollfd pfd[PFD_COUNT];
        build_pollfds(r, pfd);
        int timeout = poll_timeout(r);
        int n = timeout == 0 ? 0 : poll(pfd, PFD_COUNT, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(r, "poll", -errno);
        if (n == 0 && session_over(r))
            return 0;
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
        .stdin_tty = opts->use_stdin && isatty(STDIN_FILENO),
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

/* What an error message names: the peer's address (read before the
 * session: a reset peer has none) for the socket. */
static const char *failed_part(const sk_relay_stats *stats, const char *peer)
{
    if (!stats->where)
        return "relay";
    if (strcmp(stats->where, "socket") == 0 && peer[0])
        return peer;
    return stats->where;
}

int sk_relay_session(const char *cmd, sk_sock *s, const sk_relay_opts *opts, bool verbose,
                     bool quiet)
{
    sk_relay_stats stats;
    char peer[SK_ADDRSTRLEN] = "";
    if (sk_sock_peer_name(s, peer, sizeof peer) <= 0 || strcmp(peer, "unix:") == 0)
        peer[0] = '\0'; /* unnamed: say "socket" */
    int64_t start = now_ms();
    int rc = sk_relay_run(s, opts, &stats);
    double seconds = (double)(now_ms() - start) / 1000.0;

    if (rc == -ETIMEDOUT && !stats.where && !quiet) /* the idle limit */
        fprintf(stderr, "sk: idle timeout\n");
    else if (rc < 0 && !quiet)
        fprintf(stderr, "sk: %s: %s: %s\n", cmd, failed_part(&stats, peer),
                sk_strerror(rc));
    if (verbose && !quiet)
        fprintf(stderr, "sk: %" PRIu64 " bytes sent, %" PRIu64 " bytes received in %.3f s\n",
                stats.sent, stats.received, seconds);
    return rc < 0 ? 1 : 0;
}
