/* Buffered non-blocking connections on the event loop.
 *
 * Writes go to the transport at once; only the bytes the kernel does not
 * take are copied to the output buffer, and only then is POLLOUT asked for
 * (dropped again once it drains). Reads use the loop's shared read buffer,
 * so an idle connection holds no buffer at all. Backpressure: when queued
 * output passes the high-water mark the stream stops reading its peer
 * (POLLIN off) and resumes below the low-water mark, so a peer that does
 * not read cannot make the server buffer without bound.
 *
 * File ranges (sk_stream_sendfile) join the same output queue, in order
 * with the bytes written before and after them, and go to the socket with
 * the transport's sendfile (no copy through user space); their bytes count
 * as queued output for the watermarks. A large range leaves a burst per
 * writable event, in turns with the loop's other connections, and a TCP
 * socket that sends a file range keeps at most 64 KiB of unsent bytes in
 * the kernel (TCP_NOTSENT_LOWAT, set at its first range): the rest waits in
 * the page cache, not in socket buffers.
 */
#ifndef SOCKKIT_STREAM_H
#define SOCKKIT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sockkit/loop.h"
#include "sockkit/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default watermarks, bytes of queued output. */
#define SK_STREAM_HIGH_WATER (1024 * 1024)
#define SK_STREAM_LOW_WATER (256 * 1024)

typedef struct sk_stream sk_stream;
struct sk_stream_files; /* queued file ranges: private to the stream */

typedef struct sk_stream_callbacks {
    /* len (> 0) bytes arrived; data lives in the loop's read buffer and is
     * valid only during the call. */
    void (*on_read)(sk_stream *s, const uint8_t *data, size_t len);
    /* The peer half-closed. Optional: NULL closes the stream once its
     * output is written. */
    void (*on_eof)(sk_stream *s);
    /* Queued output went from above the low-water mark to below it (or to
     * empty after sk_stream_write queued). Optional. */
    void (*on_drain)(sk_stream *s);
    /* The stream is closed and its fd released: err 0 for an orderly close,
     * else -errno (-ECONNRESET, -EPIPE, -ETIMEDOUT, ...). Called once, never
     * from inside another callback of this stream; the memory holding the
     * stream may be freed here. */
    void (*on_close)(sk_stream *s, int err);
} sk_stream_callbacks;

struct sk_stream {
    sk_io io;
    sk_defer closer;          /* runs on_close outside other callbacks */
    sk_loop *loop;
    sk_transport transport;
    const sk_stream_callbacks *cb;
    void *data;               /* for the caller */
    uint8_t *out;             /* queued output, allocated only when needed */
    size_t out_off, out_len, out_cap;
    size_t high_water, low_water;
    int error;                /* first error, reported to on_close */
    bool reading;             /* caller wants input */
    bool throttled;           /* reads paused by backpressure */
    bool eof;                 /* peer half-closed */
    bool closing;             /* close once the output is written */
    bool closed;              /* on_close queued or done */
    bool paced;               /* unsent bytes capped for file ranges (TCP_NOTSENT_LOWAT) */
    struct sk_stream_files *files; /* queued file ranges, allocated only when needed */
};

/* Start a stream on a connected non-blocking socket fd (owned from now on)
 * with the plain transport, reading at once.
 *   cb: callbacks (must outlive the stream); data: for the caller.
 * Returns 0 or -errno from registering the fd (the fd is then closed). */
int sk_stream_open(sk_stream *s, sk_loop *loop, int fd, const sk_stream_callbacks *cb,
                   void *data);

/* Write len bytes: sent now as far as the kernel takes them, the rest
 * queued. Returns 0, or -EPIPE after close or a write error, or -ENOMEM. */
int sk_stream_write(sk_stream *s, const void *data, size_t len);

/* Send len bytes of the open file fd from offset, after everything
 * written before and before everything written later, with the transport's
 * sendfile. What the kernel does not take at once is queued: the stream
 * then holds its own duplicate of fd (F_DUPFD_CLOEXEC; the caller may close
 * fd at once), closed when the range is sent or the stream closes. A file
 * that ends before offset + len aborts the stream with -EIO.
 * Returns 0, or -EPIPE after close or a write error, -EIO, -EINVAL
 * (offset < 0, the range overflows, or fd cannot be sent from), -EBADF,
 * -EMFILE, -ENOMEM, or -EOPNOTSUPP when the transport cannot sendfile.
 * -EIO aborts the stream, and so do -EMFILE and -ENOMEM once part of the
 * range went out; the other errors leave the stream as it was. */
int sk_stream_sendfile(sk_stream *s, int fd, off_t offset, size_t len);

/* Bytes queued and not yet written (file ranges included). */
size_t sk_stream_pending(const sk_stream *s);

/* Set the backpressure watermarks in bytes (low < high). */
void sk_stream_set_watermarks(sk_stream *s, size_t high, size_t low);

/* Stop / resume reading the peer (caller's own flow control, independent of
 * backpressure). */
void sk_stream_pause(sk_stream *s);
void sk_stream_resume(sk_stream *s);

/* Close once queued output is written (half-closing first, so the peer
 * reads everything and then EOF). Safe from any callback; on_close follows. */
void sk_stream_close(sk_stream *s);

/* Close now, dropping queued output; err is reported to on_close
 * (0, or -errno such as -ETIMEDOUT for an idle timeout). */
void sk_stream_abort(sk_stream *s, int err);

#ifdef __cplusplus
}
#endif
#endif
