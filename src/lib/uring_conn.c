/* A connection under the uring model. A multishot recv delivers the
 * peer's bytes (in provided buffers) to the service's on_data; what the
 * service writes is queued in chunks and sent in order, one send (or
 * sendmsg of several chunks) in flight at a time, a partial send
 * continued by the next. A file range (sk_conn_sendfile) takes its place
 * in the queue and is read into it a piece at a time (IORING_OP_READ),
 * at most FILE_AHEAD bytes of it ahead of the send. Above
 * OUT_HIGH_WATER queued bytes (file ranges included) the recv is
 * cancelled until the queue drains below OUT_LOW_WATER (backpressure);
 * when the queue falls to SK_CONN_LOW_WATER or empties, on_drain runs.
 * sk_conn_pause cancels the recv too: what it still delivers is kept
 * aside and handed to on_data on resume. sk_conn_wake (uring_wake.c) and
 * sk_conn_set_timeout (uring_deadline.c) end up in uring_conns_wake and
 * uring_conns_expire here.
 *
 * Completions only change the connection and put it on the ring's dirty
 * list; at the end of the loop turn uring_conns_update submits what each
 * needs, so all of a turn's writes to a connection go out in one send.
 * A connection ends gracefully (its output is written first) or forcibly
 * (output dropped); either way shutdown(2) ends the requests still in
 * flight, and it is freed once none is. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deadline.h"
#include "sockkit/error.h"
#include "uring.h"

enum {
    OUT_HIGH_WATER = 1024 * 1024, /* stop reading above this many queued bytes */
    OUT_LOW_WATER = 256 * 1024,   /* read again below this */
    CHUNK = 16 * 1024,            /* output chunk size (bigger writes get their own) */
    CHUNK_SPARES = 256,           /* spare chunks a ring keeps */
    FILE_PIECE = 64 * 1024,       /* bytes of a file one read takes */
    PIECE_SPARES = 16,            /* spare file-piece chunks a ring keeps */
    FILE_AHEAD = 256 * 1024,      /* file bytes read ahead of the send, at most */
};

/* ---- lists ----------------------------------------------------------- */

static void mark_dirty(uring_conn *c)
{
    if (c->dirty)
        return;
    c->dirty = true; /* at the back: replies go out in the order requests came */
    c->dirty_next = NULL;
    if (c->ring->dirty)
        c->ring->dirty_tail->dirty_next = c;
    else
        c->ring->dirty = c;
    c->ring->dirty_tail = c;
}

static void idle_remove(uring_conn *c)
{
    uring_ring *r = c->ring;
    if (!c->in_idle)
        return;
    if (c->idle_prev)
        c->idle_prev->idle_next = c->idle_next;
    else
        r->idle_head = c->idle_next;
    if (c->idle_next)
        c->idle_next->idle_prev = c->idle_prev;
    else
        r->idle_tail = c->idle_prev;
    c->idle_prev = c->idle_next = NULL;
    c->in_idle = false;
}

/* Note activity: the connection moves to the back of the idle list
 * (once per loop turn is enough: the list is ordered by the turn's time). */
static void touch(uring_conn *c)
{
    uring_ring *r = c->ring;
    if (c->forced || !r->idle_sweep || (c->in_idle && c->active_ms == r->now_ms))
        return;
    c->active_ms = r->now_ms;
    if (c->in_idle && r->idle_tail == c)
        return;
    idle_remove(c);
    c->idle_prev = r->idle_tail;
    if (r->idle_tail)
        r->idle_tail->idle_next = c;
    else
        r->idle_head = c;
    r->idle_tail = c;
    c->in_idle = true;
}

/* ---- the output queue ------------------------------------------------ */

static uring_chunk *chunk_get(uring_ring *r, size_t need)
{
    uring_chunk *k;
    if (need <= CHUNK && r->free_chunks) {
        k = r->free_chunks;
        r->free_chunks = k->next;
        r->nfree_chunks--;
    } else if (need == FILE_PIECE && r->free_pieces) {
        k = r->free_pieces;
        r->free_pieces = k->next;
        r->nfree_pieces--;
    } else {
        size_t cap = need > CHUNK ? need : CHUNK;
        k = malloc(sizeof *k + cap);
        if (!k)
            return NULL;
        k->cap = cap;
    }
    k->next = NULL;
    k->off = k->len = 0;
    k->fd = -1;
    return k;
}

static void chunk_put(uring_ring *r, uring_chunk *k)
{
    if (k->fd >= 0)
        close(k->fd);
    if (k->cap == CHUNK && r->nfree_chunks < CHUNK_SPARES) {
        k->next = r->free_chunks;
        r->free_chunks = k;
        r->nfree_chunks++;
    } else if (k->cap == FILE_PIECE && r->nfree_pieces < PIECE_SPARES) {
        k->next = r->free_pieces;
        r->free_pieces = k;
        r->nfree_pieces++;
    } else {
        free(k);
    }
}

void uring_chunks_release(uring_ring *r)
{
    while (r->free_chunks) {
        uring_chunk *k = r->free_chunks;
        r->free_chunks = k->next;
        free(k);
    }
    while (r->free_pieces) {
        uring_chunk *k = r->free_pieces;
        r->free_pieces = k->next;
        free(k);
    }
    r->nfree_chunks = r->nfree_pieces = 0;
}

static int out_append(uring_conn *c, const uint8_t *data, size_t len)
{
    while (len > 0) {
        uring_chunk *t = c->out_tail;
        if (!t || t->len == t->cap) {
            t = chunk_get(c->ring, len);
            if (!t)
                return -ENOMEM;
            if (c->out_tail)
                c->out_tail->next = t;
            else
                c->out_head = t;
            c->out_tail = t;
        }
        size_t n = t->cap - t->len < len ? t->cap - t->len : len;
        memcpy(t->data + t->len, data, n);
        t->len += n;
        c->out_bytes += n;
        data += n;
        len -= n;
    }
    return 0;
}

/* n bytes from the head of the queue were sent. */
static void out_consume(uring_conn *c, size_t n)
{
    c->out_bytes -= n;
    while (n > 0) {
        uring_chunk *h = c->out_head;
        size_t step = h->len - h->off < n ? h->len - h->off : n;
        h->off += step;
        n -= step;
        if (h->off < h->len)
            return;
        c->out_head = h->next;
        if (!c->out_head)
            c->out_tail = NULL;
        chunk_put(c->ring, h);
    }
}

static void out_drop(uring_conn *c)
{
    while (c->out_head) {
        uring_chunk *h = c->out_head;
        c->out_head = h->next;
        chunk_put(c->ring, h);
    }
    c->out_tail = NULL;
    c->out_bytes = c->file_bytes = 0;
}

/* sk_conn_write: queue the bytes; they go out at the end of the turn. */
static int uring_write(sk_conn *conn, const void *data, size_t len)
{
    uring_conn *c = conn->model_data;
    if (c->forced)
        return -EPIPE;
    mark_dirty(c);
    return out_append(c, data, len);
}

/* Whether fd is a file the range [offset, offset + len) can be read
 * from: 0, -EBADF (not open for reading), -EINVAL (not a regular file or
 * block device, a range past OFF_MAX) or -EIO (a regular file shorter
 * than the range). */
static int file_range_check(int fd, off_t offset, size_t len)
{
    struct stat st;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fstat(fd, &st) < 0)
        return -errno;
    if ((fl & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return -EINVAL;
    if ((uint64_t)len > (uint64_t)(INT64_MAX - offset))
        return -EINVAL;
    if (S_ISREG(st.st_mode) && st.st_size - offset < (off_t)len)
        return -EIO;
    return 0;
}

/* sk_conn_sendfile: queue the range with a descriptor of its own; it is
 * read and sent after what is queued before it. */
static int uring_sendfile(sk_conn *conn, int fd, off_t offset, size_t len)
{
    uring_conn *c = conn->model_data;
    if (c->forced)
        return -EPIPE;
    int rc = file_range_check(fd, offset, len);
    if (rc < 0)
        return rc;
    uring_chunk *f = malloc(sizeof *f);
    if (!f)
        return -ENOMEM;
    f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (f->fd < 0) {
        rc = -errno;
        free(f);
        return rc;
    }
    f->next = NULL;
    f->off = f->len = f->cap = 0;
    f->file_off = offset;
    f->file_left = len;
    if (c->out_tail)
        c->out_tail->next = f;
    else
        c->out_head = f;
    c->out_tail = f;
    c->file_bytes += len;
    mark_dirty(c);
    return 0;
}

/* Queued: written by the service, not yet handed to the kernel. */
static size_t queued(const uring_conn *c)
{
    return c->out_bytes + c->file_bytes;
}

static size_t uring_pending(const sk_conn *conn)
{
    return queued(conn->model_data);
}

static int uring_wake(sk_conn *conn)
{
    return uring_wake_push(conn->model_data);
}

/* sk_conn_pause / sk_conn_resume: the update cancels or re-arms the recv
 * and hands over what was kept aside meanwhile. */
static void uring_set_reading(sk_conn *conn, bool reading)
{
    uring_conn *c = conn->model_data;
    if (c->input_paused == !reading)
        return;
    c->input_paused = !reading;
    mark_dirty(c);
}

static int uring_set_timeout(sk_conn *conn, int ms)
{
    uring_conn *c = conn->model_data;
    if (ms == 0) {
        uring_deadline_cancel(c->ring, c);
        return 0;
    }
    return uring_deadline_set(c->ring, c, c->ring->now_ms + ms);
}

static void conn_end(uring_conn *c, int rc, bool forced);

/* sk_conn_abort: end now, queued output dropped. */
static void uring_abort(sk_conn *conn)
{
    conn_end(conn->model_data, -ECONNABORTED, true);
}

static const sk_conn_ops uring_conn_ops = {
    .abort = uring_abort,
    .write = uring_write,
    .sendfile = uring_sendfile,
    .pending = uring_pending,
    .wake = uring_wake,
    .set_reading = uring_set_reading,
    .set_timeout = uring_set_timeout,
};

/* ---- events ---------------------------------------------------------- */

/* End the connection: gracefully (write what is queued first) or
 * forcibly. A forced end overrides a graceful one; the first reason that
 * is an error is the one logged. */
static void conn_end(uring_conn *c, int rc, bool forced)
{
    if (c->forced || (c->ending && !forced))
        return;
    if (!c->ending || c->end_rc == 0)
        c->end_rc = rc;
    c->ending = true;
    if (forced) {
        c->forced = true;
        idle_remove(c);
    }
    mark_dirty(c);
}

/* After a service callback: a negative result or sk_conn_close ends it. */
static void after_callback(uring_conn *c, int rc)
{
    if (rc < 0)
        conn_end(c, rc, false);
    else if (c->conn.closing)
        conn_end(c, 0, false);
}

static void conn_data(uring_conn *c, const uint8_t *data, size_t len)
{
    const sk_service *svc = c->active.listener->service;
    c->conn.bytes_in += len;
    touch(c);
    after_callback(c, svc->on_data(&c->conn, c->state, data, len));
}

/* The peer half-closed. Without on_eof the connection ends after its
 * output; with it, it lasts until the service closes it (its output may
 * still come from on_wake / on_drain). */
static void conn_eof(uring_conn *c)
{
    const sk_service *svc = c->active.listener->service;
    c->eof = true;
    if (!svc->on_eof)
        conn_end(c, 0, false);
    else
        after_callback(c, svc->on_eof(&c->conn, c->state));
}

static void conn_drained(uring_conn *c)
{
    const sk_service *svc = c->active.listener->service;
    if (svc->on_drain && !c->ending)
        after_callback(c, svc->on_drain(&c->conn, c->state));
}

static void conn_wake(uring_conn *c)
{
    const sk_service *svc = c->active.listener->service;
    if (svc->on_wake && !c->ending)
        after_callback(c, svc->on_wake(&c->conn, c->state));
}

/* Input while the service paused it (or while earlier input waits):
 * kept aside until resume. */
static void input_hold(uring_conn *c, const uint8_t *data, size_t len)
{
    if (c->held_cap - c->held_len < len) {
        size_t cap = c->held_cap ? c->held_cap : URING_BUF_SIZE;
        while (cap - c->held_len < len)
            cap *= 2;
        uint8_t *held = realloc(c->held, cap);
        if (!held) {
            conn_end(c, -ENOMEM, true);
            return;
        }
        c->held = held;
        c->held_cap = cap;
    }
    memcpy(c->held + c->held_len, data, len);
    c->held_len += len;
    touch(c);
}

/* After resume: what was kept aside, then the EOF that followed it. */
static void input_release(uring_conn *c)
{
    if (c->input_paused || c->ending)
        return;
    if (c->held_len > 0) {
        uint8_t *held = c->held;
        size_t len = c->held_len;
        c->held = NULL; /* input from now on is kept in a buffer of its own */
        c->held_len = c->held_cap = 0;
        conn_data(c, held, len);
        free(held);
    }
    if (c->eof_held && !c->input_paused && !c->ending) {
        c->eof_held = false;
        conn_eof(c);
    }
}

void uring_conn_recv_done(uring_conn *c, const struct io_uring_cqe *cqe)
{
    if (!(cqe->flags & IORING_CQE_F_MORE))
        c->recv_armed = false; /* ended: re-armed by update if still wanted */
    const uint8_t *data = uring_buffer_take(c->ring, cqe);
    bool hold = c->input_paused || c->held_len > 0;
    if (data && !c->ending && hold)
        input_hold(c, data, (size_t)cqe->res);
    else if (data && !c->ending)
        conn_data(c, data, (size_t)cqe->res);
    if (cqe->res == 0 && !c->ending && hold) {
        c->eof = true; /* no recv again */
        c->eof_held = true;
    } else if (cqe->res == 0 && !c->ending) {
        conn_eof(c);
    } else if (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -ECANCELED)
        conn_end(c, cqe->res, true);
    mark_dirty(c);
}

void uring_conn_send_done(uring_conn *c, int res)
{
    c->send_armed = false;
    if (res > 0) {
        size_t before = queued(c);
        out_consume(c, (size_t)res);
        touch(c);
        size_t after = queued(c);
        if (after == 0 || (before > SK_CONN_LOW_WATER && after <= SK_CONN_LOW_WATER))
            conn_drained(c);
    } else if (res < 0 && res != -EAGAIN && res != -EINTR) {
        conn_end(c, res == -ECANCELED ? -EPIPE : res, true);
    }
    mark_dirty(c);
}

void uring_conn_cancel_done(uring_conn *c)
{
    c->cancel_armed = false; /* if the recv goes on, update cancels again */
    mark_dirty(c);
}

/* ---- file ranges ----------------------------------------------------- */

/* The first file range in the queue, with the chunk before it (NULL when
 * it is the head) and the bytes queued ahead of it; NULL if none. */
static uring_chunk *file_first(const uring_conn *c, uring_chunk **prev, size_t *ahead)
{
    uring_chunk *p = NULL;
    size_t n = 0;
    *prev = NULL;
    *ahead = 0;
    for (uring_chunk *k = c->out_head; k; p = k, k = k->next) {
        if (k->fd >= 0) {
            *prev = p;
            *ahead = n;
            return k;
        }
        n += k->len - k->off;
    }
    return NULL;
}

/* Read the next piece of the first file range, unless enough of it is
 * queued already. */
static void file_read(uring_conn *c)
{
    uring_chunk *prev, *f;
    size_t ahead;
    if (c->read_armed || !c->file_bytes || !(f = file_first(c, &prev, &ahead)) || ahead >= FILE_AHEAD)
        return;
    size_t n = f->file_left < FILE_PIECE ? f->file_left : FILE_PIECE;
    uring_chunk *k = chunk_get(c->ring, n <= CHUNK ? n : FILE_PIECE);
    struct io_uring_sqe *sqe = k ? uring_sqe(c->ring) : NULL;
    if (!sqe) {
        if (k)
            chunk_put(c->ring, k);
        conn_end(c, -ENOMEM, true);
        return;
    }
    io_uring_prep_read(sqe, f->fd, k->data, (unsigned)n, (uint64_t)f->file_off);
    uring_sqe_tag(sqe, &c->read_req);
    c->read_chunk = k;
    c->read_armed = true;
}

/* res bytes of the first file range arrived in k: queue them before it,
 * and drop the range once it is all read. */
static void file_piece_queue(uring_conn *c, uring_chunk *k, size_t res)
{
    uring_chunk *prev, *f;
    size_t ahead;
    f = file_first(c, &prev, &ahead);
    if (!f) { /* cannot happen: the range stays queued until it is read */
        chunk_put(c->ring, k);
        return;
    }
    k->len = res;
    k->next = f;
    if (prev)
        prev->next = k;
    else
        c->out_head = k;
    f->file_off += (off_t)res;
    f->file_left -= res;
    c->file_bytes -= res;
    c->out_bytes += res;
    if (f->file_left > 0)
        return;
    k->next = f->next;
    if (c->out_tail == f)
        c->out_tail = k;
    chunk_put(c->ring, f);
}

void uring_conn_read_done(uring_conn *c, int res)
{
    uring_chunk *k = c->read_chunk;
    c->read_chunk = NULL;
    c->read_armed = false;
    mark_dirty(c);
    if (res > 0 && !c->forced) {
        file_piece_queue(c, k, (size_t)res);
        touch(c);
        return;
    }
    chunk_put(c->ring, k);
    if (res == -EAGAIN || res == -EINTR)
        return; /* read again at the update */
    /* 0: the file is shorter than the range asked for */
    conn_end(c, res == 0 ? -EIO : res, true);
}

/* ---- opening and closing --------------------------------------------- */

void uring_conn_open(uring_ring *r, sk_listener *l, int fd)
{
    uring_conn *c = calloc(1, sizeof *c);
    sk_sock sock = {.fd = fd, .family = l->sock.family, .type = SOCK_STREAM, .timeout_ms = 0};
    if (!c) {
        sk_sock_close(&sock);
        return;
    }
    c->active.listener = l;
    c->active.sock = sock;
    c->ring = r;
    c->recv_req.op = URING_OP_RECV;
    c->send_req.op = URING_OP_SEND;
    c->cancel_req.op = URING_OP_CANCEL;
    c->read_req.op = URING_OP_READ;
    int rc = sk_server_track(r->srv, &c->active);
    if (rc < 0) {
        if (rc == -EUSERS)
            sk_server_refuse(l, &c->active.sock);
        sk_sock_close(&c->active.sock);
        free(c);
        return;
    }
    char peer[SK_ADDRSTRLEN];
    if (sk_sock_peer_name(&c->active.sock, peer, sizeof peer) < 0)
        snprintf(peer, sizeof peer, "?");
    sk_conn_init(&c->conn, &uring_conn_ops, c, l->service, peer);
    c->started_ms = sk_monotonic_ms();
    c->fixed = uring_file_register(r, fd);
    r->nconns++;
    touch(c);
    mark_dirty(c);
    const sk_service *svc = l->service;
    sk_server_logf(r->srv, SK_LOG_INFO, "open %s %s from %s", svc->name, l->name, peer);
    c->state = calloc(1, svc->state_size ? svc->state_size : 1);
    if (!c->state)
        conn_end(c, -ENOMEM, true);
    else if (svc->on_open)
        after_callback(c, svc->on_open(&c->conn, c->state));
}

/* The same line as the blocking models (serve_stream.c) and the reactors. */
static void log_close(const uring_conn *c, int rc)
{
    const sk_listener *l = c->active.listener;
    const sk_conn *conn = &c->conn;
    char why[128] = "";
    int level = SK_LOG_INFO;
    if (rc == -ETIMEDOUT && c->timed_out)
        snprintf(why, sizeof why, " (timeout)");
    else if (rc == -ETIMEDOUT)
        snprintf(why, sizeof why, " (idle timeout)");
    else if (rc == -ESHUTDOWN)
        snprintf(why, sizeof why, " (closed at shutdown)");
    else if (rc == -ECONNABORTED)
        snprintf(why, sizeof why, " (aborted)");
    else if (rc < 0) {
        snprintf(why, sizeof why, " (%s)", sk_strerror(rc));
        level = SK_LOG_ERROR;
    }
    sk_server_logf(l->server, level, "close %s %s from %s: %llu bytes in, %llu bytes out, %.3f s%s",
                   l->service->name, l->name, conn->peer, (unsigned long long)conn->bytes_in,
                   (unsigned long long)conn->bytes_out,
                   (double)(sk_monotonic_ms() - c->started_ms) / 1000.0, why);
}

/* Nothing is in flight any more: close and free. */
static void conn_finish(uring_conn *c)
{
    uring_ring *r = c->ring;
    sk_listener *l = c->active.listener;
    if (c->state) {
        if (l->service->on_close)
            l->service->on_close(&c->conn, c->state);
        free(c->state);
    }
    int rc = c->end_rc;
    if (rc == 0 && !c->shut)
        sk_sock_shutdown(&c->active.sock, SHUT_WR); /* orderly FIN after the last reply */
    if (rc == -ECONNRESET || rc == -EPIPE)
        rc = 0; /* the peer left: routine, not a server error */
    log_close(c, rc);
    idle_remove(c);
    out_drop(c);
    uring_deadline_cancel(r, c);
    free(c->held);
    c->held = NULL;
    r->nconns--;
    sk_server_untrack(r->srv, &c->active); /* from here on, drain cannot force it */
    if (c->fixed)
        uring_file_unregister(r, c->active.sock.fd); /* the table holds the socket too */
    sk_sock_close(&c->active.sock);
    /* No wake comes after on_close returned (nor after untrack for drain's),
     * so the flag says whether it is on the wake list still. */
    if (atomic_load(&c->wake_queued))
        c->dead = true; /* the wake pass frees it */
    else
        free(c);
}

/* ---- submitting ------------------------------------------------------ */

/* The request is on the connection's socket: its registered slot if it has one. */
static void sqe_socket(struct io_uring_sqe *sqe, const uring_conn *c)
{
    if (c->fixed)
        sqe->flags |= IOSQE_FIXED_FILE; /* the slot is the fd's number */
}

static void submit_recv(uring_conn *c)
{
    struct io_uring_sqe *sqe = uring_sqe(c->ring);
    if (!sqe) {
        conn_end(c, -ENOMEM, true);
        return;
    }
    io_uring_prep_recv_multishot(sqe, c->active.sock.fd, NULL, 0, 0);
    sqe_socket(sqe, c);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = URING_BGID;
    uring_sqe_tag(sqe, &c->recv_req);
    c->recv_armed = true;
}

static void submit_cancel(uring_conn *c)
{
    struct io_uring_sqe *sqe = uring_sqe(c->ring);
    if (!sqe)
        return; /* tried again at the next update */
    io_uring_prep_cancel(sqe, &c->recv_req, 0);
    uring_sqe_tag(sqe, &c->cancel_req);
    c->cancel_armed = true;
}

/* Send the data chunks at the head of the queue, up to the first file
 * range (which has to be read first). */
static void submit_send(uring_conn *c)
{
    uring_chunk *h = c->out_head;
    if (h->fd >= 0)
        return; /* a file range still being read */
    struct io_uring_sqe *sqe = uring_sqe(c->ring);
    if (!sqe) {
        conn_end(c, -ENOMEM, true);
        return;
    }
    if (!h->next || h->next->fd >= 0) {
        io_uring_prep_send(sqe, c->active.sock.fd, h->data + h->off, h->len - h->off, MSG_NOSIGNAL);
    } else { /* several chunks: one sendmsg gathers them */
        int n = 0;
        for (; h && h->fd < 0 && n < URING_SEND_IOV; h = h->next, n++)
            c->send_iov[n] = (struct iovec){.iov_base = h->data + h->off, .iov_len = h->len - h->off};
        c->send_msg = (struct msghdr){.msg_iov = c->send_iov, .msg_iovlen = (size_t)n};
        io_uring_prep_sendmsg(sqe, c->active.sock.fd, &c->send_msg, MSG_NOSIGNAL);
    }
    sqe_socket(sqe, c);
    uring_sqe_tag(sqe, &c->send_req);
    c->send_armed = true;
}

/* Read while the output queue is short, not while it is long. */
static void flow_control(uring_conn *c)
{
    size_t queued = c->out_bytes + c->file_bytes;
    if (queued > OUT_HIGH_WATER)
        c->paused = true;
    else if (queued < OUT_LOW_WATER)
        c->paused = false;
    bool want = !c->eof && !c->paused && !c->input_paused;
    if (want && !c->recv_armed)
        submit_recv(c);
    else if (!want && c->recv_armed && !c->cancel_armed)
        submit_cancel(c);
}

/* Bring one connection to the state it wants. Frees it when finished. */
static void conn_update(uring_conn *c)
{
    if (c->forced && !c->send_armed && !c->read_armed)
        out_drop(c);
    input_release(c);
    if (!c->ending)
        flow_control(c);
    if (!c->forced)
        file_read(c);
    if (!c->send_armed && c->out_head)
        submit_send(c);
    bool flushed = !c->send_armed && !c->out_head;
    if (c->ending && !c->shut && (flushed || c->forced) && (c->recv_armed || c->send_armed)) {
        /* wakes the recv (EOF) and a stuck send (EPIPE) */
        sk_sock_shutdown(&c->active.sock, SHUT_RDWR);
        c->shut = true;
    }
    /* (marked dirty again meanwhile: finished when the update reaches it again) */
    if (c->ending && flushed && !c->recv_armed && !c->cancel_armed && !c->read_armed && !c->dirty)
        conn_finish(c);
}

void uring_conns_update(uring_ring *r)
{
    while (r->dirty) {
        uring_conn *c = r->dirty;
        r->dirty = c->dirty_next;
        c->dirty = false;
        conn_update(c);
    }
}

void uring_conns_sweep(uring_ring *r)
{
    int idle_ms = r->srv->cfg.idle_timeout_ms;
    while (r->idle_head && r->now_ms - r->idle_head->active_ms >= idle_ms)
        conn_end(r->idle_head, -ETIMEDOUT, true);
}

void uring_conns_wake(uring_ring *r)
{
    uring_conn *next;
    for (uring_conn *c = uring_wake_take(r); c; c = next) {
        next = c->wake_next;
        /* cleared first: a wake during on_wake queues it again */
        atomic_store(&c->wake_queued, false);
        if (c->dead)
            free(c);
        else if (atomic_load(&c->wake_force))
            conn_end(c, -ESHUTDOWN, true);
        else
            conn_wake(c);
    }
}

void uring_conn_force(uring_conn *c)
{
    atomic_store(&c->wake_force, true);
    uring_wake_push(c);
}

void uring_conns_expire(uring_ring *r)
{
    uring_conn *c;
    while ((c = uring_deadline_expired(r, r->now_ms))) {
        if (!c->forced)
            c->timed_out = true;
        conn_end(c, -ETIMEDOUT, true);
    }
}
