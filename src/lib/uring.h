/* Internal: the uring model's rings and connections, shared by
 * model_uring.c (threads, start and drain), uring_ring.c (ring setup, the
 * event loop, accepts and timers) and uring_conn.c (connections). */
#ifndef SK_LIB_URING_H
#define SK_LIB_URING_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "conn.h"
#include "server_internal.h"

/* What a completion is about. A request's user_data points at a
 * uring_req record inside the object that made it, one record per kind
 * of request the object makes; the record names the kind. A user_data of
 * 0 is a completion nobody waits for. */
enum uring_op {
    URING_OP_RECV = 0,      /* uring_conn: multishot recv */
    URING_OP_SEND = 1,      /* uring_conn: send of the head of its output queue */
    URING_OP_CANCEL = 2,    /* uring_conn: cancel of its recv (backpressure) */
    URING_OP_READ = 3,      /* uring_conn: read of a piece of a file it sends */
    URING_OP_ACCEPT = 4,    /* uring_acceptor: multishot accept */
    URING_OP_UNACCEPT = 5,  /* uring_acceptor: cancel of its accept */
    URING_OP_RESUME = 6,    /* uring_acceptor: end of an accept pause */
    URING_OP_SWEEP = 7,     /* uring_ring: idle-timeout sweep timer */
    URING_OP_STOP = 8,      /* uring_ring: the server's stop_fd became readable */
    URING_OP_WAKE = 9,      /* uring_ring: read of its wake eventfd (uring_wake.c) */
    URING_OP_DEADLINE = 10, /* uring_ring: service-deadline timer (uring_deadline.c) */
};

typedef struct uring_req {
    enum uring_op op;
} uring_req;

/* The object that holds request record req as its member. */
#define URING_OWNER(req, type, member) ((type *)(void *)((char *)(req) - offsetof(type, member)))

typedef struct uring_ring uring_ring;

enum {
    URING_BUFS = 1024,          /* provided receive buffers per ring (a power of two) */
    URING_BUF_SIZE = 16 * 1024,
};

/* One stream listener as seen by one ring. */
typedef struct uring_acceptor {
    uring_ring *ring;
    uring_req accept_req, unaccept_req, resume_req;
    sk_listener *listener;
    bool armed;       /* a multishot accept is in flight */
    bool cancelling;  /* a cancel of it is in flight */
    bool paused;      /* out of descriptors or memory: accept again later */
    bool resuming;    /* the pause timer is in flight */
    bool warned;      /* the pause was logged */
} uring_acceptor;

/* A piece of a connection's output queue. The kernel reads [off, len) of
 * the head chunk while a send is in flight; writes append past len.
 * A file range (sk_conn_sendfile) is a chunk with fd >= 0 and no data:
 * pieces of it are read into chunks queued before it, a few at a time,
 * until none of it is left; what follows it waits. */
typedef struct uring_chunk {
    struct uring_chunk *next;
    size_t off, len, cap;
    int fd;                    /* -1, or the file range's own descriptor */
    off_t file_off;            /* the file range still to read */
    size_t file_left;
    uint8_t data[];
} uring_chunk;

/* Most chunks one send takes. */
enum { URING_SEND_IOV = 16 };

/* One connection: the socket, what the service sees, and its requests. */
typedef struct uring_conn {
    sk_active active;          /* socket and listener, in the server's active list */
    sk_conn conn;
    uring_ring *ring;
    uring_req recv_req, send_req, cancel_req, read_req;
    void *state;               /* the service's per-connection state */
    struct uring_conn *idle_prev, *idle_next; /* ring's list, least recently active first */
    struct uring_conn *dirty_next;            /* ring's list of connections to update */
    int64_t started_ms, active_ms;
    uring_chunk *out_head, *out_tail;
    size_t out_bytes;          /* queued, not yet sent */
    size_t file_bytes;         /* in queued file ranges, not yet read */
    uring_chunk *read_chunk;   /* what the read in flight fills */
    struct msghdr send_msg;    /* a send of several chunks: stable while in flight */
    struct iovec send_iov[URING_SEND_IOV];
    int end_rc;                /* why it ends: 0, or -errno */
    bool in_idle, dirty;
    bool recv_armed, send_armed, cancel_armed, read_armed;
    bool paused;               /* output above the high-water mark: not reading */
    bool eof;                  /* the peer half-closed */
    bool ending;               /* closes once its output is written */
    bool forced;               /* closes now, output dropped */
    bool shut;                 /* shutdown(2) done to end its requests */
    bool fixed;                /* the socket is in the ring's file table */
    bool input_paused;         /* sk_conn_pause: no on_data / on_eof until resume */
    bool eof_held;             /* the peer's EOF, not yet delivered (paused) */
    bool timed_out;            /* ended by its sk_conn_set_timeout deadline */
    bool dead;                 /* finished while on the wake list: freed by the wake pass */
    uint8_t *held;             /* input received while paused, delivered on resume */
    size_t held_len, held_cap;
    int64_t deadline_ms;       /* sk_conn_set_timeout: end at this time */
    size_t deadline_pos;       /* its place in the ring's deadline heap + 1; 0: none */
    /* sk_conn_wake, from any thread: set while it is on the ring's wake list
     * (wake_next, guarded by the ring's wake_lock) */
    atomic_bool wake_queued;
    atomic_bool wake_force;    /* drain: end it (-ESHUTDOWN) instead of on_wake */
    struct uring_conn *wake_next;
} uring_conn;

struct uring_ring {
    sk_server *srv;
    uring_req sweep_req, stop_req, wake_req, deadline_req;
    struct io_uring uring;
    bool uring_ready;
    struct io_uring_buf_ring *bufs; /* provided receive buffers (group 0) */
    uint8_t *buf_mem;
    unsigned buf_adds;              /* buffers given back since the last advance */
    bool bufs_registered;
    bool bufs_incremental;          /* the kernel fills a buffer with several
                                       receives (IOU_PBUF_RING_INC, Linux 6.12) */
    uint32_t buf_used[URING_BUFS];  /* incremental: bytes of each buffer received into */
    unsigned nfiles;                /* registered file table: socket fd n uses slot n
                                       when n < nfiles (0: none) */
    bool idle_sweep;                /* --idle-timeout is set: keep the idle list */
    uring_acceptor *acceptors;
    size_t nacceptors;
    uring_conn *idle_head, *idle_tail;
    uring_conn *dirty, *dirty_tail;
    uring_chunk *free_chunks;       /* spare output chunks of the common size */
    unsigned nfree_chunks;
    uring_chunk *free_pieces;       /* spare chunks of a file piece's size */
    unsigned nfree_pieces;
    size_t nconns;
    int64_t now_ms;                 /* monotonic time of this loop turn */
    bool stopping, stop_armed, sweep_armed, loop_warned;
    struct __kernel_timespec sweep_ts, pause_ts;
    /* sk_conn_wake: connections to wake, pushed by any thread; the first
     * push onto an empty list writes wake_fd, whose read the ring keeps armed */
    pthread_mutex_t wake_lock;
    bool wake_lock_ready, wake_armed;
    int wake_fd;                    /* eventfd, -1 when none */
    uint64_t wake_count;            /* the read's buffer */
    uring_conn *wake_head, *wake_tail;
    /* sk_conn_set_timeout: a min-heap of connections by deadline_ms, checked
     * by a timer of at most DEADLINE_TICK_MS while it is not empty */
    uring_conn **deadlines;
    size_t ndeadlines, deadlines_cap;
    bool deadline_armed;
    struct __kernel_timespec deadline_ts;
    int init_err;                   /* setup result, read by ring 0 */
    pthread_t thread;
    struct uring_group *group;      /* the rings of the server (model_uring.c) */
};

/* Set up ring r for srv (called on the thread that runs it). Returns 0 or
 * -errno (-ENOSYS / -EPERM when io_uring is unavailable). */
int uring_ring_init(uring_ring *r, sk_server *srv);

/* Run r's event loop until shutdown began and its connections are gone. */
void uring_ring_run(uring_ring *r);

/* Release what uring_ring_init set up (safe after a failed init). */
void uring_ring_fini(uring_ring *r);

/* A free submission entry (submits the queue when full), or NULL. */
struct io_uring_sqe *uring_sqe(uring_ring *r);

/* Tag a submission with its request record. */
void uring_sqe_tag(struct io_uring_sqe *sqe, uring_req *req);

/* The bytes a receive completion delivered (NULL when it has none); the
 * buffer goes back to the kernel at the end of the loop turn once the
 * kernel is done with it, so they are valid until then. */
const uint8_t *uring_buffer_take(uring_ring *r, const struct io_uring_cqe *cqe);

/* Register / unregister socket fd in r's file table (no-ops when it has
 * no slot for fd). Returns whether requests may name fd's slot. */
bool uring_file_register(uring_ring *r, int fd);
void uring_file_unregister(uring_ring *r, int fd);

/* The buffer group that multishot recvs select from. */
enum { URING_BGID = 0 };

/* Start serving a connection accepted by ring r on listener l. */
void uring_conn_open(uring_ring *r, sk_listener *l, int fd);

/* Completions of a connection's requests. */
void uring_conn_recv_done(uring_conn *c, const struct io_uring_cqe *cqe);
void uring_conn_send_done(uring_conn *c, int res);
void uring_conn_cancel_done(uring_conn *c);
void uring_conn_read_done(uring_conn *c, int res);

/* Submit what the connections touched this turn need (sends, recvs,
 * cancels) and free the finished ones. */
void uring_conns_update(uring_ring *r);

/* Close the connections silent for --idle-timeout. */
void uring_conns_sweep(uring_ring *r);

/* Free the ring's spare output chunks. */
void uring_chunks_release(uring_ring *r);

/* ---- sk_conn_wake (uring_wake.c) ---- */

/* Set up / release r's wake list and eventfd (fini frees the finished
 * connections still on the list; safe after a failed init). */
int uring_wake_init(uring_ring *r);
void uring_wake_fini(uring_ring *r);

/* Put c on its ring's wake list unless it is there already, and wake the
 * ring if the list was empty. Thread-safe. Returns 0. */
int uring_wake_push(uring_conn *c);

/* Keep a read of the wake eventfd in flight. */
void uring_wake_arm(uring_ring *r);

/* Take the whole wake list (linked by wake_next), oldest first. */
uring_conn *uring_wake_take(uring_ring *r);

/* On the ring's thread, after the wake read completed: run on_wake for
 * the connections taken off the list, end the ones drain forces, free
 * the finished ones (uring_conn.c). */
void uring_conns_wake(uring_ring *r);

/* Drain, from another thread, with srv->lock held: end c on its ring's
 * thread (log reason "closed at shutdown"). */
void uring_conn_force(uring_conn *c);

/* ---- sk_conn_set_timeout (uring_deadline.c) ---- */

/* Longest wait of the deadline timer: deadlines are this coarse, ms. */
enum { URING_DEADLINE_TICK_MS = 100 };

/* Set c's deadline (absolute, sk_monotonic_ms) / cancel it.
 * Returns 0 or -ENOMEM. */
int uring_deadline_set(uring_ring *r, uring_conn *c, int64_t deadline_ms);
void uring_deadline_cancel(uring_ring *r, uring_conn *c);

/* The connection whose deadline is earliest if it is at or before now
 * (taken out of the heap), else NULL. */
uring_conn *uring_deadline_expired(uring_ring *r, int64_t now_ms);

/* Keep the deadline timer in flight while some connection has a deadline. */
void uring_deadline_arm(uring_ring *r);

/* Free the heap. */
void uring_deadlines_release(uring_ring *r);

/* End the connections whose deadline passed (uring_conn.c). */
void uring_conns_expire(uring_ring *r);

#endif
