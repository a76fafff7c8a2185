/* One io_uring ring of the uring model: its setup (the ring and a ring of
 * provided receive buffers), its event loop (every request of a turn goes
 * in with one io_uring_submit_and_wait), multishot accepts with a pause
 * when descriptors run out, and its timers (idle sweep, service
 * deadlines) and wake eventfd. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "deadline.h"
#include "sockkit/error.h"
#include "listener_accept.h"
#include "uring.h"

enum {
    URING_SQ_ENTRIES = 1024,
    URING_CQ_ENTRIES = 16384,
    URING_FILES_MAX = 65536,     /* registered file table slots, at most */
    SWEEP_MS = 250,              /* idle-timeout sweep period, at most */
    ACCEPT_PAUSE_MS = 100,       /* wait after EMFILE, ENFILE, ENOMEM */
};

/* Kernel ABI newer than liburing 2.3's headers (Linux 6.12). */
enum {
    URING_PBUF_RING_INC = 2,     /* io_uring_buf_reg.flags: IOU_PBUF_RING_INC */
    URING_CQE_F_BUF_MORE = 1U << 4, /* IORING_CQE_F_BUF_MORE */
};

struct io_uring_sqe *uring_sqe(uring_ring *r)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->uring);
    if (!sqe) {
        io_uring_submit(&r->uring); /* the queue is full: hand it over */
        sqe = io_uring_get_sqe(&r->uring);
    }
    return sqe;
}

void uring_sqe_tag(struct io_uring_sqe *sqe, uring_req *req)
{
    io_uring_sqe_set_data(sqe, req);
}

static void buffer_recycle(uring_ring *r, unsigned bid)
{
    r->buf_used[bid] = 0;
    io_uring_buf_ring_add(r->bufs, r->buf_mem + (size_t)bid * URING_BUF_SIZE, URING_BUF_SIZE,
                          (unsigned short)bid, io_uring_buf_ring_mask(URING_BUFS),
                          (int)r->buf_adds++);
}

/* The kernel commits a buffer only for a receive of >= 0 bytes, and an
 * incremental one only once it is full (no IORING_CQE_F_BUF_MORE); a
 * buffer it did not commit is still its own. */
const uint8_t *uring_buffer_take(uring_ring *r, const struct io_uring_cqe *cqe)
{
    if (!(cqe->flags & IORING_CQE_F_BUFFER) || cqe->res < 0)
        return NULL;
    unsigned bid = (cqe->flags >> IORING_CQE_BUFFER_SHIFT) & (URING_BUFS - 1);
    const uint8_t *data = r->buf_mem + (size_t)bid * URING_BUF_SIZE + r->buf_used[bid];
    if (!r->bufs_incremental) {
        buffer_recycle(r, bid);
    } else if (cqe->res > 0) {
        r->buf_used[bid] += (uint32_t)cqe->res;
        if (!(cqe->flags & URING_CQE_F_BUF_MORE))
            buffer_recycle(r, bid);
    }
    return cqe->res > 0 ? data : NULL;
}

/* ---- registered files ------------------------------------------------ */

/* A sparse table with a slot per descriptor number the process may have
 * (up to URING_FILES_MAX); without one, requests name plain fds. */
static void files_init(uring_ring *r)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    unsigned n = rl.rlim_cur < URING_FILES_MAX ? (unsigned)rl.rlim_cur : URING_FILES_MAX;
    if (n > 0 && io_uring_register_files_sparse(&r->uring, n) == 0)
        r->nfiles = n;
}

bool uring_file_register(uring_ring *r, int fd)
{
    if (fd < 0 || (unsigned)fd >= r->nfiles)
        return false;
    return io_uring_register_files_update(&r->uring, (unsigned)fd, &fd, 1) == 1;
}

void uring_file_unregister(uring_ring *r, int fd)
{
    int none = -1;
    if (fd >= 0 && (unsigned)fd < r->nfiles)
        io_uring_register_files_update(&r->uring, (unsigned)fd, &none, 1);
}

/* ---- setup ----------------------------------------------------------- */

/* The ring, with the cheapest completion mode the kernel offers. */
static int queue_init(struct io_uring *u)
{
    static const unsigned modes[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, /* Linux 6.1 */
        IORING_SETUP_COOP_TASKRUN,                               /* Linux 5.19 */
        0,
    };
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0] && rc == -EINVAL; i++) {
        struct io_uring_params p = {.flags = modes[i] | IORING_SETUP_CQSIZE,
                                    .cq_entries = URING_CQ_ENTRIES};
        rc = io_uring_queue_init_params(URING_SQ_ENTRIES, u, &p);
    }
    return rc;
}

/* The flags of a buffer ring registration (a field named pad in
 * liburing before 2.5, flags since). */
static void buf_reg_set_flags(struct io_uring_buf_reg *reg, uint16_t flags)
{
    memcpy((unsigned char *)reg + offsetof(struct io_uring_buf_reg, bgid) + sizeof reg->bgid,
           &flags, sizeof flags);
}

/* A ring of URING_BUFS receive buffers the kernel picks from (Linux 5.19). */
static int buffers_init(uring_ring *r)
{
    size_t size = URING_BUFS * sizeof(struct io_uring_buf);
    void *br = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (br == MAP_FAILED)
        return -errno;
    r->bufs = br;
    r->buf_mem = malloc((size_t)URING_BUFS * URING_BUF_SIZE);
    if (!r->buf_mem)
        return -ENOMEM;
    struct io_uring_buf_reg reg = {.ring_addr = (uint64_t)(uintptr_t)br,
                                   .ring_entries = URING_BUFS, .bgid = URING_BGID};
    /* small messages share a buffer: fewer cache lines and pages touched */
    buf_reg_set_flags(&reg, URING_PBUF_RING_INC);
    int rc = io_uring_register_buf_ring(&r->uring, &reg, 0);
    r->bufs_incremental = rc == 0;
    if (rc == -EINVAL) { /* before Linux 6.12 */
        buf_reg_set_flags(&reg, 0);
        rc = io_uring_register_buf_ring(&r->uring, &reg, 0);
    }
    if (rc < 0)
        return rc;
    r->bufs_registered = true;
    io_uring_buf_ring_init(r->bufs);
    for (unsigned i = 0; i < URING_BUFS; i++)
        buffer_recycle(r, i);
    io_uring_buf_ring_advance(r->bufs, (int)r->buf_adds);
    r->buf_adds = 0;
    return 0;
}

static int acceptors_init(uring_ring *r)
{
    sk_server *srv = r->srv;
    r->acceptors = calloc(srv->nlisteners ? srv->nlisteners : 1, sizeof *r->acceptors);
    if (!r->acceptors)
        return -ENOMEM;
    for (size_t i = 0; i < srv->nlisteners; i++) {
        if (srv->listeners[i].sock.type != SOCK_STREAM)
            continue;
        uring_acceptor *a = &r->acceptors[r->nacceptors++];
        a->ring = r;
        a->accept_req.op = URING_OP_ACCEPT;
        a->unaccept_req.op = URING_OP_UNACCEPT;
        a->resume_req.op = URING_OP_RESUME;
        a->listener = &srv->listeners[i];
    }
    return 0;
}

static struct __kernel_timespec timespec_ms(int ms)
{
    return (struct __kernel_timespec){.tv_sec = ms / 1000, .tv_nsec = (long long)(ms % 1000) * 1000000};
}

int uring_ring_init(uring_ring *r, sk_server *srv)
{
    r->srv = srv;
    r->sweep_req.op = URING_OP_SWEEP;
    r->stop_req.op = URING_OP_STOP;
    r->wake_req.op = URING_OP_WAKE;
    r->deadline_req.op = URING_OP_DEADLINE;
    int rc = uring_wake_init(r); /* first: fini closes its descriptor */
    if (rc < 0)
        return rc;
    int idle = srv->cfg.idle_timeout_ms;
    int sweep = idle / 4 < SWEEP_MS ? idle / 4 : SWEEP_MS;
    r->sweep_ts = timespec_ms(sweep < 10 ? 10 : sweep);
    r->pause_ts = timespec_ms(ACCEPT_PAUSE_MS);
    r->now_ms = sk_monotonic_ms();
    rc = queue_init(&r->uring);
    if (rc < 0)
        return rc;
    r->uring_ready = true;
    io_uring_register_ring_fd(&r->uring); /* optional: cheaper io_uring_enter */
    files_init(r);                        /* optional: no file refcount per request */
    r->idle_sweep = idle > 0;
    rc = buffers_init(r);
    if (rc < 0)
        return rc;
    return acceptors_init(r);
}

void uring_ring_fini(uring_ring *r)
{
    if (r->bufs_registered)
        io_uring_unregister_buf_ring(&r->uring, URING_BGID);
    if (r->uring_ready)
        io_uring_queue_exit(&r->uring); /* cancels what is still in flight */
    if (r->bufs)
        munmap(r->bufs, URING_BUFS * sizeof(struct io_uring_buf));
    free(r->buf_mem);
    free(r->acceptors);
    uring_chunks_release(r);
    uring_deadlines_release(r);
    uring_wake_fini(r);
    r->uring_ready = r->bufs_registered = false;
    r->bufs = NULL;
    r->buf_mem = NULL;
    r->acceptors = NULL;
}

/* ---- accepting ------------------------------------------------------- */

/* A cancelled accept request (shutdown) is no listener error either. */
static bool accept_error_is_transient(int err)
{
    return err == -ECANCELED || sk_accept_error_is_transient(err);
}

static void accept_done(uring_acceptor *a, const struct io_uring_cqe *cqe)
{
    uring_ring *r = a->ring;
    if (!(cqe->flags & IORING_CQE_F_MORE))
        a->armed = false;
    if (cqe->res >= 0) {
        a->warned = false;
        uring_conn_open(r, a->listener, cqe->res);
        return;
    }
    if (r->stopping || accept_error_is_transient(cqe->res))
        return; /* re-armed (or not, when stopping) by accept_reconcile */
    if (!a->warned && !sk_server_stopping(r->srv))
        sk_server_logf(r->srv, SK_LOG_ERROR, "accept %s: %s; pausing accepts", a->listener->name,
                       sk_strerror(cqe->res));
    a->warned = true;
    a->paused = true;
}

static void accept_submit(uring_acceptor *a, enum uring_op op)
{
    struct io_uring_sqe *sqe = uring_sqe(a->ring);
    if (!sqe)
        return; /* tried again next turn */
    switch (op) {
    case URING_OP_ACCEPT:
        io_uring_prep_multishot_accept(sqe, a->listener->sock.fd, NULL, NULL,
                                       SOCK_CLOEXEC | SOCK_NONBLOCK);
        a->armed = true;
        break;
    case URING_OP_UNACCEPT:
        io_uring_prep_cancel(sqe, &a->accept_req, 0);
        a->cancelling = true;
        break;
    default:
        io_uring_prep_timeout(sqe, &a->ring->pause_ts, 0, 0);
        a->resuming = true;
        break;
    }
    uring_sqe_tag(sqe, op == URING_OP_ACCEPT     ? &a->accept_req
                       : op == URING_OP_UNACCEPT ? &a->unaccept_req
                                                 : &a->resume_req);
}

/* Bring the acceptor to the state the ring wants: accepting, paused for a
 * while, or (once stopping) idle. */
static void accept_reconcile(uring_acceptor *a)
{
    bool want = !a->ring->stopping && !a->paused;
    if (want && !a->armed)
        accept_submit(a, URING_OP_ACCEPT);
    else if (!want && a->armed && !a->cancelling)
        accept_submit(a, URING_OP_UNACCEPT);
    else if (a->paused && !a->armed && !a->resuming && !a->ring->stopping)
        accept_submit(a, URING_OP_RESUME);
}

/* ---- the loop -------------------------------------------------------- */

static void ring_submit_timer(uring_ring *r)
{
    struct io_uring_sqe *sqe = uring_sqe(r);
    if (!sqe)
        return;
    io_uring_prep_timeout(sqe, &r->sweep_ts, 0, 0);
    uring_sqe_tag(sqe, &r->sweep_req);
    r->sweep_armed = true;
}

static void ring_submit_stop_poll(uring_ring *r)
{
    struct io_uring_sqe *sqe = uring_sqe(r);
    if (!sqe)
        return;
    io_uring_prep_poll_add(sqe, r->srv->stop_fd, POLLIN);
    uring_sqe_tag(sqe, &r->stop_req);
    r->stop_armed = true;
}

/* Re-arm what the ring itself keeps in flight. */
static void ring_reconcile(uring_ring *r)
{
    for (size_t i = 0; i < r->nacceptors; i++)
        accept_reconcile(&r->acceptors[i]);
    if (!r->stopping && !r->stop_armed)
        ring_submit_stop_poll(r);
    if (r->srv->cfg.idle_timeout_ms > 0 && !r->sweep_armed)
        ring_submit_timer(r);
    uring_wake_arm(r);
    uring_deadline_arm(r);
}

static void ring_complete(uring_ring *r, const struct io_uring_cqe *cqe)
{
    uring_req *q = io_uring_cqe_get_data(cqe);
    if (!q)
        return;
    switch (q->op) {
    case URING_OP_RECV: uring_conn_recv_done(URING_OWNER(q, uring_conn, recv_req), cqe); break;
    case URING_OP_SEND: uring_conn_send_done(URING_OWNER(q, uring_conn, send_req), cqe->res); break;
    case URING_OP_CANCEL: uring_conn_cancel_done(URING_OWNER(q, uring_conn, cancel_req)); break;
    case URING_OP_READ: uring_conn_read_done(URING_OWNER(q, uring_conn, read_req), cqe->res); break;
    case URING_OP_ACCEPT: accept_done(URING_OWNER(q, uring_acceptor, accept_req), cqe); break;
    case URING_OP_UNACCEPT: URING_OWNER(q, uring_acceptor, unaccept_req)->cancelling = false; break;
    case URING_OP_RESUME: {
        uring_acceptor *a = URING_OWNER(q, uring_acceptor, resume_req);
        a->resuming = false;
        a->paused = false;
        break;
    }
    case URING_OP_SWEEP:
        r->sweep_armed = false;
        uring_conns_sweep(r);
        break;
    case URING_OP_STOP:
        r->stop_armed = false;
        if (cqe->res > 0)
            r->stopping = true;
        break;
    case URING_OP_WAKE:
        r->wake_armed = false;
        uring_conns_wake(r);
        break;
    case URING_OP_DEADLINE:
        r->deadline_armed = false;
        uring_conns_expire(r);
        break;
    }
}

/* Handle every completion there is, then give back the buffers used. */
static void ring_reap(uring_ring *r)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&r->uring, head, cqe) {
        ring_complete(r, cqe);
        n++;
    }
    io_uring_cq_advance(&r->uring, n);
    if (r->buf_adds) {
        io_uring_buf_ring_advance(r->bufs, (int)r->buf_adds);
        r->buf_adds = 0;
    }
}

static bool ring_done(const uring_ring *r)
{
    if (!r->stopping || r->nconns > 0)
        return false;
    for (size_t i = 0; i < r->nacceptors; i++)
        if (r->acceptors[i].armed)
            return false;
    return true;
}

/* One submit-and-wait per turn; errors other than interruptions are
 * logged once and slowed down rather than ending the loop, since live
 * connections still need it. */
static void ring_wait(uring_ring *r)
{
    int rc = io_uring_submit_and_wait(&r->uring, 1);
    if (rc >= 0 || rc == -EINTR || rc == -EAGAIN || rc == -EBUSY || rc == -ETIME)
        return;
    if (!r->loop_warned)
        sk_server_logf(r->srv, SK_LOG_ERROR, "uring: io_uring_submit_and_wait: %s", sk_strerror(rc));
    r->loop_warned = true;
    nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
}

void uring_ring_run(uring_ring *r)
{
    while (!ring_done(r)) {
        ring_reconcile(r);
        ring_wait(r);
        r->now_ms = sk_monotonic_ms();
        ring_reap(r);
        uring_conns_update(r);
    }
}
