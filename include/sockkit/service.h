/* Services as protocol state machines.
 *
 * A service is written once, as callbacks that react to a connection's
 * events and write replies to it; every concurrency model (sk_server's
 * iterative, thread, ...) drives the same callbacks. Writes go through
 * sk_conn_write, which the model implements: a blocking sendall for
 * thread-per-connection, a buffered write for a reactor, one reply datagram
 * for UDP.
 */
#ifndef SOCKKIT_SERVICE_H
#define SOCKKIT_SERVICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_conn sk_conn;

/* Which transports a service can run on. */
enum {
    SK_SERVICE_STREAM = 1 << 0,   /* TCP and Unix stream sockets */
    SK_SERVICE_DATAGRAM = 1 << 1, /* UDP: each datagram is a one-shot connection
                                     whose writes form one reply datagram */
};

typedef struct sk_service {
    const char *name;      /* "echo", "upper", ... */
    unsigned transports;   /* SK_SERVICE_* bits */
    size_t state_size;     /* bytes of per-connection state, zeroed before on_open */
    void *context;         /* shared by all its connections (configuration, rooms):
                              sk_conn_context(); a server that needs its own sets it
                              on a copy of the service, which must outlive the server */

    /* A connection opened. May write a greeting. Optional.
     * Return 0 to go on, a negative errno to close the connection. */
    int (*on_open)(sk_conn *c, void *state);

    /* len bytes arrived (> 0 on streams; a datagram may be empty). data is
     * valid only during the call.
     * Return 0 to go on, a negative errno to close the connection. */
    int (*on_data)(sk_conn *c, void *state, const uint8_t *data, size_t len);

    /* The peer half-closed (EOF). Optional: when NULL, the connection closes
     * once pending output is written. Return 0 to keep writing (call
     * sk_conn_close when done), a negative errno to close. */
    int (*on_eof)(sk_conn *c, void *state);

    /* The connection is gone (closed by either side or by the server).
     * Release what the state holds. Optional; never writes. */
    void (*on_close)(sk_conn *c, void *state);

    /* Queued output (sk_conn_pending) fell from above SK_CONN_LOW_WATER to
     * at most it, or to empty. Lets a service that produces output on its
     * own (fan-out, a child process) refill without unbounded queues.
     * Optional; never called in blocking models, whose writes do not queue.
     * Return 0 to go on, a negative errno to close the connection. */
    int (*on_drain)(sk_conn *c, void *state);

    /* sk_conn_wake was called for this connection (from any thread). Runs on
     * the thread that serves the connection, like the other callbacks.
     * Optional (sk_conn_wake returns -EOPNOTSUPP without it).
     * Return 0 to go on, a negative errno to close the connection. */
    int (*on_wake)(sk_conn *c, void *state);

    /* The process stops serving: the server shuts down (after its
     * connections closed and its threads ended), or a process of the fork
     * or prefork model is about to exit. Called with the service's context,
     * once per service per serving process; may block to finish work that
     * outlives the service's connections (exec: commands still in their
     * SIGTERM grace period), best bounded in time. Optional. */
    void (*on_stop)(void *context);
} sk_service;

/* Queued output at or below which on_drain is called, bytes. */
#define SK_CONN_LOW_WATER (256 * 1024)

/* Write bytes to the connection's peer. In blocking models this waits
 * until the bytes are handed to the kernel; in event models they are
 * queued and the peer is no longer read while the queue is above its
 * high-water mark (backpressure).
 *   data/len: the bytes (copied before returning).
 * Returns 0 or -errno (-EPIPE, -ECONNRESET when the peer is gone,
 * -EMSGSIZE when a datagram reply would exceed 65507 bytes). */
int sk_conn_write(sk_conn *c, const void *data, size_t len);

/* Send len bytes of the open file fd, from offset, after everything
 * written before (sendfile(2) where the model can: no copy through user
 * space; later writes follow the file's bytes). The connection takes its own
 * reference to the file (dup), so the caller may close fd at once. In
 * blocking models this waits until the bytes are handed to the kernel.
 *   offset/len: byte range of the file.
 * Returns 0 or -errno (-EPIPE, -ECONNRESET; -EOPNOTSUPP for datagrams;
 * -EIO/-EINVAL when the file is shorter than offset + len). */
int sk_conn_sendfile(sk_conn *c, int fd, off_t offset, size_t len);

/* The service's context (sk_service.context) of the connection's listener. */
void *sk_conn_context(const sk_conn *c);

/* Ask for the connection to close once pending output has been written.
 * Callbacks may call it; later writes return -EPIPE. */
void sk_conn_close(sk_conn *c);

/* End the connection now: queued output is dropped and the socket closed
 * without waiting for the peer (a client that stopped reading, a protocol
 * violation). on_close follows as for any close; the log says "aborted".
 * Only from the connection's own callbacks; later writes return -EPIPE. */
void sk_conn_abort(sk_conn *c);

/* Bytes written with sk_conn_write / sk_conn_sendfile that are queued in
 * the server, not yet handed to the kernel. Always 0 in blocking models
 * (their writes wait instead). Only from the connection's own callbacks. */
size_t sk_conn_pending(const sk_conn *c);

/* Run the service's on_wake for this connection soon, on the thread that
 * serves it. Thread-safe: the one sk_conn_* function other threads may
 * call. Calls before on_wake runs are coalesced into one on_wake.
 * A connection may be woken only until its on_close returns: a service
 * that hands connections to other threads (a chat room) must remove them,
 * under its own lock, in on_close.
 * Returns 0, -EOPNOTSUPP (datagrams, or no on_wake), -ENOMEM. */
int sk_conn_wake(sk_conn *c);

/* Stop delivering on_data (and on_eof) for this connection: its input
 * waits in the kernel, so TCP flow control slows the peer (backpressure
 * toward a consumer that is not keeping up, e.g. a child's stdin).
 * Only from the connection's own callbacks. */
void sk_conn_pause(sk_conn *c);

/* Deliver on_data again after sk_conn_pause. */
void sk_conn_resume(sk_conn *c);

/* End the connection (its on_close, log reason "timeout") unless this
 * function is called again within timeout_ms milliseconds; 0 cancels.
 * Independent of the server's --idle-timeout; a service uses it for its
 * own limits (HTTP's header-read and keep-alive timeouts). Only from the
 * connection's own callbacks.
 * Returns 0, -EINVAL (negative), -EOPNOTSUPP (datagrams), -ENOMEM. */
int sk_conn_set_timeout(sk_conn *c, int timeout_ms);

/* The peer's address as text ("127.0.0.1:50312", "unix:"). Valid for the
 * connection's life. */
const char *sk_conn_peer(const sk_conn *c);

#ifdef __cplusplus
}
#endif
#endif
