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
} sk_service;

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

/* The peer's address as text ("127.0.0.1:50312", "unix:"). Valid for the
 * connection's life. */
const char *sk_conn_peer(const sk_conn *c);

#ifdef __cplusplus
}
#endif
#endif
