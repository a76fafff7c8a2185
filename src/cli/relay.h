/* The netcat relay shared by `sk connect` and `sk listen`: stdin (fd 0) to a
 * connected socket, the socket to stdout (fd 1), in one poll(2) loop.
 *
 * Stream sockets (TCP, Unix): at EOF on stdin the write side is shut down
 * (half-close, like `nc -N` / ncat) and the relay keeps reading until the
 * peer closes. At the peer's EOF, what is buffered is written to stdout;
 * then an interactive stdin (a TTY) ends the session at once, as ncat does,
 * while stdin from a file or pipe is still sent to its end (the peer may
 * have only half-closed; if it closed entirely, the send fails and the
 * session ends normally).
 * Datagram sockets (UDP, connected): each read from stdin is sent as one
 * datagram, each datagram received is written to stdout. At EOF on stdin the
 * relay keeps receiving: until idle_timeout_ms passes with nothing received
 * (a normal end), or forever when there is no idle timeout.
 *
 * Fds 0 and 1 are left in blocking mode (their file description may be
 * shared with the parent shell); poll() says when to read or write.
 */
#ifndef SK_CLI_RELAY_H
#define SK_CLI_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockkit/sock.h"

/* Bytes of each direction's buffer. */
#define SK_RELAY_BUFSIZE (128 * 1024)

typedef struct sk_relay_opts {
    int idle_timeout_ms;   /* end when nothing moves for this long; -1 never */
    bool use_stdin;        /* false: never read stdin and never half-close */
    const void *initial;   /* optional bytes already received from the peer, */
    size_t initial_len;    /*   written to stdout first (at most SK_RELAY_BUFSIZE) */
} sk_relay_opts;

typedef struct sk_relay_stats {
    uint64_t sent;         /* bytes sent to the socket */
    uint64_t received;     /* bytes received from the socket (and initial) */
    const char *where;     /* on error, what failed: "stdin", "stdout", "socket",
                            * "poll" or "memory" */
} sk_relay_stats;

/* Relay between stdin/stdout and the connected socket s (SOCK_STREAM or
 * SOCK_DGRAM) until the session ends. The socket's timeout is set to 0
 * (non-blocking); the caller still owns and closes it.
 *   stats: filled with the byte counts (and where an error happened).
 * Returns 0 when the session ended normally, -ETIMEDOUT with stats->where
 * NULL when nothing moved for idle_timeout_ms (while stdin was still open,
 * for UDP), or -errno of a failed read, write, send or receive, stats->where
 * naming it (-ECONNRESET, -EPIPE, ...). */
int sk_relay_run(sk_sock *s, const sk_relay_opts *opts, sk_relay_stats *stats);

/* Run one session with sk_relay_run and report it on stderr: an error as
 * "sk: CMD: 127.0.0.1:7007: Connection reset by peer" (the peer's address,
 * or "stdin" / "stdout" when they failed), an idle timeout as
 * "sk: idle timeout" (both unless quiet), and when verbose the summary
 * "sk: N bytes sent, M bytes received in T s" (T in seconds, 3 decimals).
 *   cmd: the subcommand name for messages ("connect", "listen").
 * Returns the exit status: 0 when the session ended normally, else 1. */
int sk_relay_session(const char *cmd, sk_sock *s, const sk_relay_opts *opts, bool verbose,
                     bool quiet);

#endif
