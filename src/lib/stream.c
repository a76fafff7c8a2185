/* Buffered non-blocking streams on the event loop (see sockkit/stream.h).
 *
 * Hot path of a request/response exchange: one read into the loop's shared
 * buffer, the callback writes, the write goes straight to the kernel, and
 * the watcher is left alone: no allocation and no epoll_ctl. Only a short
 * write allocates the output buffer and asks for POLLOUT; the buffer is
 * freed as soon as it drains.
 *
 * File ranges: the output queue is the byte buffer plus a FIFO of file
 * ranges, each one knowing how many buffered bytes go out before it (after
 * the range ahead of it), so bytes and files leave in the order they were
 * queued. A range is tried at once when nothing is queued before it; the
 * rest waits, with a duplicate of the caller's fd, for POLLOUT, and leaves
 * at most STREAM_FILE_BURST bytes per writable event. A TCP socket that
 * sends a range holds few unsent bytes (TCP_NOTSENT_LOWAT, see below).
 *
 * Closing: the fd is unregistered at once, but released (and on_close run)
 * from a deferred callback, so on_close never runs inside another callback
 * and the fd number cannot be reused while the loop still dispatches this
 * iteration's events. `closing && closed` marks an orderly end (half-close
 * first), `closed` alone an abort.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockkit/stream.h"

enum {
    /* Reads per readiness event while each one fills the read buffer: a
     * bulk sender cannot starve the loop's other connections. */
    STREAM_READS_PER_EVENT = 4,
    /* First output buffer size; it doubles as needed. */
    STREAM_OUT_MIN = 16 * 1024,
    /* Reads that discard unread input before an orderly close (so the
     * close sends FIN rather than RST when the peer sent more). */
    STREAM_DISCARD_READS = 4,
};

/* File bytes sent per writable event (and at once by sk_stream_sendfile):
 * a large range leaves in turns with the loop's other connections, a burst
 * per event, rather than filling a send buffer that the kernel has grown
 * to megabytes in one go. */
#define STREAM_FILE_BURST ((size_t)256 * 1024)

/* Unsent bytes a TCP socket that sends file ranges may hold
 * (TCP_NOTSENT_LOWAT): sendfile stops there and POLLOUT waits until the
 * peer's window has taken them, so the file's bytes leave from the
 * server's own sendfile calls. Without it the kernel queues megabytes
 * beyond the peer's window, and sends them later from the ACK processing
 * that the peer's reads cause: on loopback, on the reader's CPU and at its
 * expense (measured: wrk spent twice the CPU per 1 MiB response).
 * 32 KiB rather than 64: wrk's 1 MiB GETs went from 0.97x to 1.11x
 * lighttpd and a 1 GiB `sk get` stayed as fast (0.654 s, 0.635 s), in
 * alternated runs; 16 KiB and less make bulk downloads 1.5-1.6x slower
 * (a wakeup every few segments). */
enum { STREAM_NOTSENT_LOWAT = 32 * 1024 };

/* One queued file range. */
typedef struct stream_file {
    struct stream_file *next;
    int fd;                 /* the stream's own duplicate */
    off_t offset;           /* next byte to send */
    size_t len;             /* bytes left to send */
    size_t after;           /* buffered bytes to write before it: those queued
                               after the previous range (or from the buffer's head) */
} stream_file;

/* The queued file ranges of a stream (sk_stream.files). */
typedef struct sk_stream_files sk_stream_files;
struct sk_stream_files {
    stream_file *head, *tail;
    size_t pending;         /* bytes left in every range */
    size_t after_tail;      /* buffered bytes queued after the last range */
};

/* The largest off_t: a file range must end at or below it. */
#define STREAM_OFF_MAX ((off_t)(((uint64_t)1 << (sizeof(off_t) * 8 - 1)) - 1))

static void stream_closer(sk_loop *loop, sk_defer *d);
static void stream_event(sk_loop *loop, sk_io *io, unsigned events);

/* True while anything waits to be written. */
static bool queued(const sk_stream *s)
{
    return s->out_len > 0 || s->files;
}

/* Bytes waiting to be written: buffered bytes and file ranges. */
static size_t pending(const sk_stream *s)
{
    return s->out_len + (s->files ? s->files->pending : 0);
}

/* True while the stream should deliver input. (Bitwise or: one branch
 * rather than five, on every event.) */
static bool wants_input(const sk_stream *s)
{
    return s->reading && !(s->throttled | s->eof | s->closing | s->closed);
}

/* Bring the watcher's events in line with the stream's state; no call at
 * all when nothing changed. Events 0 keep the registration, so a reset
 * peer is still noticed (POLLERR/POLLHUP are always reported). */
static void watch(sk_stream *s)
{
    if (s->closed)
        return;
    unsigned ev = (wants_input(s) ? SK_POLLIN : 0) | (queued(s) ? SK_POLLOUT : 0);
    if (ev == s->io.events && s->io.active)
        return;
    int rc = sk_io_start(s->loop, &s->io, ev);
    if (rc < 0)
        sk_stream_abort(s, rc);
}

/* Close and free the head file range. */
static void file_pop(sk_stream *s)
{
    sk_stream_files *q = s->files;
    stream_file *f = q->head;
    q->pending -= f->len;
    q->head = f->next;
    close(f->fd);
    free(f);
    if (!q->head) { /* the bytes after it are plain buffered output now */
        free(q);
        s->files = NULL;
    }
}

/* Unregister now; release the fd and report on_close from the loop's
 * deferred pass. Queued output, file ranges included, is dropped. */
static void end(sk_stream *s)
{
    s->closed = true;
    sk_io_stop(s->loop, &s->io);
    free(s->out);
    s->out = NULL;
    s->out_off = s->out_len = s->out_cap = 0;
    while (s->files)
        file_pop(s);
    sk_defer_queue(s->loop, &s->closer);
}

void sk_stream_abort(sk_stream *s, int err)
{
    if (s->closed)
        return;
    s->error = err;
    s->closing = false; /* not an orderly end: no half-close */
    end(s);
}

/* Read and drop what the peer already sent, so close(2) sends FIN. */
static void discard_input(sk_stream *s)
{
    uint8_t *buf = sk_loop_read_buffer(s->loop);
    for (int i = 0; i < STREAM_DISCARD_READS; i++)
        if (s->transport.ops->read(&s->transport, buf, SK_LOOP_READ_BUFFER) <= 0)
            return;
}

static void stream_closer(sk_loop *loop, sk_defer *d)
{
    sk_stream *s = d->data;
    (void)loop;
    if (s->closing) {
        s->transport.ops->shutdown_write(&s->transport);
        if (!s->eof)
            discard_input(s);
    }
    s->transport.ops->close(&s->transport);
    if (s->cb->on_close)
        s->cb->on_close(s, s->error); /* may free s */
}

int sk_stream_open(sk_stream *s, sk_loop *loop, int fd, const sk_stream_callbacks *cb,
                   void *data)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->cb = cb;
    s->data = data;
    s->high_water = SK_STREAM_HIGH_WATER;
    s->low_water = SK_STREAM_LOW_WATER;
    s->reading = true;
    sk_transport_plain_init(&s->transport, fd);
    sk_io_init(&s->io, fd, stream_event, s);
    sk_defer_init(&s->closer, stream_closer, s);
    int rc = sk_io_start(loop, &s->io, SK_POLLIN);
    if (rc < 0) {
        s->transport.ops->close(&s->transport);
        s->closed = true;
    }
    return rc;
}

/* Append to the output buffer, growing or compacting it. */
static int enqueue(sk_stream *s, const uint8_t *data, size_t len)
{
    if (len > SIZE_MAX / 4 - s->out_len)
        return -ENOMEM;
    size_t need = s->out_len + len;
    if (s->out_off + need > s->out_cap) {
        if (s->out_off > 0)
            memmove(s->out, s->out + s->out_off, s->out_len);
        s->out_off = 0;
    }
    if (need > s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap : STREAM_OUT_MIN;
        while (cap < need)
            cap *= 2;
        uint8_t *grown = realloc(s->out, cap);
        if (!grown)
            return -ENOMEM;
        s->out = grown;
        s->out_cap = cap;
    }
    memcpy(s->out + s->out_off + s->out_len, data, len);
    s->out_len += len;
    if (s->files)
        s->files->after_tail += len;
    return 0;
}

int sk_stream_write(sk_stream *s, const void *data, size_t len)
{
    if (s->closed || s->closing)
        return -EPIPE;
    if (len == 0)
        return 0;
    const uint8_t *p = data;
    if (!queued(s)) { /* straight to the kernel */
        struct iovec iov = {.iov_base = (void *)p, .iov_len = len};
        ssize_t n = s->transport.ops->writev(&s->transport, &iov, 1);
        if (n == (ssize_t)len)
            return 0;
        if (n < 0 && n != -EAGAIN) {
            sk_stream_abort(s, (int)n);
            return -EPIPE;
        }
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        }
    }
    int rc = enqueue(s, p, len);
    if (rc < 0) { /* part of the bytes may be gone: the stream is broken */
        sk_stream_abort(s, rc);
        return rc;
    }
    if (pending(s) > s->high_water)
        s->throttled = true;
    watch(s);
    return 0;
}

/* Orderly end once the output is written. */
static void finish(sk_stream *s)
{
    if (!s->closed)
        end(s);
}

/* Output drained to (or below) the low-water mark, or emptied. */
static void drained(sk_stream *s, size_t before)
{
    size_t left = pending(s);
    bool crossed = before > s->low_water && left <= s->low_water;
    if (s->throttled && left <= s->low_water)
        s->throttled = false;
    if (s->out_len == 0 && s->out) {
        free(s->out);
        s->out = NULL;
        s->out_off = s->out_cap = 0;
    }
    if (left == 0 && s->closing) {
        finish(s);
        return;
    }
    if ((crossed || left == 0) && s->cb->on_drain && !s->closing)
        s->cb->on_drain(s);
}

/* Send what the kernel takes of the head file range, at most *budget
 * bytes (less what went). Returns 1 when the range is sent (and popped), 0
 * when the socket is full or the budget spent, or -errno: -EIO when the
 * file ends before the range does. */
static int send_file(sk_stream *s, size_t *budget)
{
    stream_file *f = s->files->head;
    size_t want = f->len < *budget ? f->len : *budget;
    ssize_t n = s->transport.ops->sendfile(&s->transport, f->fd, &f->offset, want);
    if (n == -EAGAIN)
        return 0;
    if (n < 0)
        return (int)n;
    if (n == 0)
        return -EIO; /* end of file */
    f->len -= (size_t)n;
    s->files->pending -= (size_t)n;
    *budget -= (size_t)n;
    if (f->len > 0)
        return 0; /* short: the send buffer is full, or the budget spent */
    file_pop(s);
    return *budget > 0;
}

/* Write buffered bytes, at most up to the next file range. Returns 1 when
 * all of them went, 0 when the socket is full, or -errno. */
static int send_bytes(sk_stream *s)
{
    size_t want = s->files ? s->files->head->after : s->out_len;
    struct iovec iov = {.iov_base = s->out + s->out_off, .iov_len = want};
    ssize_t n = s->transport.ops->writev(&s->transport, &iov, 1);
    if (n == -EAGAIN)
        return 0;
    if (n < 0)
        return (int)n;
    s->out_off += (size_t)n;
    s->out_len -= (size_t)n;
    if (s->files)
        s->files->head->after -= (size_t)n;
    return (size_t)n == want; /* short: the send buffer is full */
}

/* Write queued output, in order, until the kernel stops taking it or a
 * burst of file bytes went (POLLOUT stays asked for: the rest goes on the
 * next pass of the loop, after the other ready connections). */
static void flush(sk_stream *s)
{
    size_t before = pending(s), budget = STREAM_FILE_BURST;
    int rc = 1;
    while (rc > 0 && queued(s))
        rc = s->files && s->files->head->after == 0 ? send_file(s, &budget) : send_bytes(s);
    if (rc < 0) {
        sk_stream_abort(s, rc);
        return;
    }
    if (pending(s) < before)
        drained(s, before);
}

/* Queue a file range (a duplicate of fd) behind the buffered bytes. */
static int file_enqueue(sk_stream *s, int fd, off_t offset, size_t len)
{
    stream_file *f = malloc(sizeof *f);
    sk_stream_files *q = s->files ? s->files : calloc(1, sizeof *q);
    int copy = f && q ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (copy < 0) {
        int err = f && q ? -errno : -ENOMEM;
        free(f);
        if (q != s->files)
            free(q);
        return err;
    }
    *f = (stream_file){.fd = copy, .offset = offset, .len = len};
    f->after = q->head ? q->after_tail : s->out_len;
    if (q->tail)
        q->tail->next = f;
    else
        q->head = f;
    q->tail = f;
    q->pending += len;
    q->after_tail = 0;
    s->files = q;
    return 0;
}

/* Send a range straight away, nothing being queued: how much is left
 * (*offset advanced), or -errno. */
static ssize_t sendfile_now(sk_stream *s, int fd, off_t *offset, size_t len)
{
    ssize_t n = s->transport.ops->sendfile(&s->transport, fd, offset, len);
    if (n == -EAGAIN)
        return (ssize_t)len;
    if (n == 0)
        return -EIO; /* end of file */
    return n < 0 ? n : (ssize_t)(len - (size_t)n);
}

/* sendfile(2) errors that mean the caller's fd cannot be sent from (not
 * open for reading, not a file that can be mapped, bad offset), rather
 * than a broken connection. */
static bool file_error(ssize_t err)
{
    return err == -EBADF || err == -EINVAL || err == -ESPIPE || err == -EOVERFLOW;
}

/* Before the first file range: cap the socket's unsent bytes. Not a TCP
 * socket (Unix stream): nothing to do, and the error is ignored. */
static void pace(sk_stream *s)
{
    int lowat = STREAM_NOTSENT_LOWAT;
    s->paced = true;
    (void)setsockopt(s->transport.fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
}

int sk_stream_sendfile(sk_stream *s, int fd, off_t offset, size_t len)
{
    if (s->closed || s->closing)
        return -EPIPE;
    if (offset < 0 || len > (uint64_t)(STREAM_OFF_MAX - offset))
        return -EINVAL;
    if (!s->transport.ops->sendfile)
        return -EOPNOTSUPP;
    if (len == 0)
        return 0;
    if (!s->paced)
        pace(s);
    size_t left = len;
    if (!queued(s)) { /* a burst now, the rest on POLLOUT */
        size_t now = len < STREAM_FILE_BURST ? len : STREAM_FILE_BURST;
        ssize_t n = sendfile_now(s, fd, &offset, now);
        if (file_error(n))
            return (int)n; /* nothing was sent: the stream is as it was */
        if (n < 0) {
            sk_stream_abort(s, (int)n);
            return n == -EIO ? -EIO : -EPIPE;
        }
        left = len - (now - (size_t)n);
        if (left == 0)
            return 0;
    }
    int rc = file_enqueue(s, fd, offset, left);
    if (rc < 0) {
        if (left < len) /* part of the range is gone: the stream is broken */
            sk_stream_abort(s, rc);
        return rc;
    }
    if (pending(s) > s->high_water)
        s->throttled = true;
    watch(s);
    return 0;
}

static void got_eof(sk_stream *s)
{
    s->eof = true;
    if (s->cb->on_eof)
        s->cb->on_eof(s);
    else
        sk_stream_close(s);
}

/* Read into the loop's buffer and deliver; read again only while reads
 * fill the buffer (a short read emptied the socket). */
static void read_input(sk_stream *s)
{
    uint8_t *buf = sk_loop_read_buffer(s->loop);
    for (int i = 0; i < STREAM_READS_PER_EVENT; i++) {
        ssize_t n = s->transport.ops->read(&s->transport, buf, SK_LOOP_READ_BUFFER);
        if (n > 0) {
            s->cb->on_read(s, buf, (size_t)n);
            if ((size_t)n < SK_LOOP_READ_BUFFER || !wants_input(s))
                return;
            continue;
        }
        if (n == 0)
            got_eof(s);
        else if (n != -EAGAIN)
            sk_stream_abort(s, (int)n);
        return;
    }
}

/* The pending socket error after POLLERR/POLLHUP, as -errno. */
static int hangup_error(sk_stream *s)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->transport.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0)
        return -ECONNRESET;
    return -err;
}

static void stream_event(sk_loop *loop, sk_io *io, unsigned events)
{
    sk_stream *s = io->data;
    unsigned asked = io->events;
    (void)loop;
    if (!(asked & (SK_POLLIN | SK_POLLOUT))) { /* waiting for nothing, yet woken: reset */
        if (events & (SK_POLLERR | SK_POLLHUP))
            sk_stream_abort(s, hangup_error(s));
        return;
    }
    if ((asked & SK_POLLOUT) && (events & (SK_POLLOUT | SK_POLLERR | SK_POLLHUP)))
        flush(s);
    if ((asked & SK_POLLIN) && (events & (SK_POLLIN | SK_POLLERR | SK_POLLHUP)) &&
        wants_input(s))
        read_input(s);
    watch(s);
}

size_t sk_stream_pending(const sk_stream *s)
{
    return pending(s);
}

void sk_stream_set_watermarks(sk_stream *s, size_t high, size_t low)
{
    if (low >= high)
        return; /* not a valid pair: keep the current marks */
    s->high_water = high;
    s->low_water = low;
    if (pending(s) > high)
        s->throttled = true;
    else if (pending(s) <= low)
        s->throttled = false;
    watch(s);
}

void sk_stream_pause(sk_stream *s)
{
    s->reading = false;
    watch(s);
}

void sk_stream_resume(sk_stream *s)
{
    s->reading = true;
    watch(s);
}

void sk_stream_close(sk_stream *s)
{
    if (s->closed || s->closing)
        return;
    s->closing = true;
    if (!queued(s))
        finish(s);
    else
        watch(s); /* stop reading; POLLOUT stays until the output drains */
}
