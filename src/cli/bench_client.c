/* The sk bench load engine (see bench_client.h): connections as sk_io
 * watchers on one sk_loop, in three phases: connecting, warmup, measuring.
 */
#include "bench_client.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sockkit/error.h"
#include "sockkit/loop.h"
#include "sockkit/sock.h"
#include "bench_clock.h"
#include "bench_pacer.h"
#include "bench_socket.h"

/* Limit for connecting every connection, milliseconds. */
#define CONNECT_DEADLINE_MS 10000
/* A Unix listener with a full accept queue refuses with EAGAIN: retry
 * connecting at this interval, milliseconds. */
#define CONNECT_RETRY_MS 10
/* Request offsets into the pattern table repeat with this period (a
 * prime, so offsets of consecutive requests scatter). */
#define PATTERN_PERIOD 4093u
/* Reads per readiness callback when they fill the whole buffer. */
#define READS_PER_CALLBACK 4
/* Addresses tried per connection, in resolver order. */
#define MAX_ADDRS 8
/* Error messages printed during the run before they are only counted. */
#define MAX_MESSAGES 5

typedef enum conn_state {
    CONN_IDLE = 0,     /* no socket */
    CONN_CONNECTING,   /* connect in progress: waiting for writability */
    CONN_RETRY,        /* Unix accept queue full: retried by a timer */
    CONN_OPEN,
    CONN_CLOSED,       /* failed or done */
} conn_state;

typedef enum run_phase {
    PHASE_CONNECTING = 0,
    PHASE_WARMUP,
    PHASE_MEASURE,
    PHASE_DONE,
} run_phase;

struct bench;

typedef struct bench_conn {
    sk_io io;
    sk_sock sock;
    struct bench *b;
    unsigned index;
    conn_state state;
    unsigned addr_index;   /* the address being tried */
    bool queued;           /* on the open-loop send list */
    uint64_t issued;       /* requests stamped and queued for writing */
    uint64_t written;      /* requests completely written */
    size_t written_part;   /* bytes of request `written` already written */
    uint64_t replied;      /* requests whose reply completed */
    size_t reply_part;     /* bytes of reply `replied` received */
    uint64_t due;          /* open loop: requests whose time has come */
    int64_t *stamps;       /* ring of `pipeline` send (or intended) times, ns */
} bench_conn;

typedef struct bench {
    const sk_bench_config *cfg;
    sk_bench_result *res;
    sk_loop *loop;
    bench_conn *conns;
    int64_t *stamps;
    uint8_t *request;      /* pattern table: size + PATTERN_PERIOD bytes */
    uint8_t *expect;       /* the replies expected for it */
    sk_sockaddr addrs[MAX_ADDRS];
    unsigned naddrs;
    run_phase phase;
    int status;            /* 0, or -errno that stops the run before it starts */
    int connecting;        /* connections not yet open or failed */
    int retrying;          /* connections in CONN_RETRY */
    int connect_failures;
    int open;              /* connections open */
    unsigned messages;     /* run-time error messages printed */
    /* time */
    bench_batch_clock clock; /* the time of a batch of I/O callbacks */
    int64_t measure_start_ns;
    int64_t measure_cpu_ns;      /* bench_cpu_ns() when the measured time began */
    int64_t phase_end_ns;  /* when the warmup or the measurement ends */
    int64_t tick_ns;
    uint64_t tick_round_trips;
    sk_histogram *recent;  /* latencies since the last progress tick */
    /* open loop */
    int64_t schedule_start_ns;
    double ns_per_request;
    uint64_t scheduled;    /* requests of the whole run made due so far */
    unsigned *send_list;   /* connections with newly due requests */
    unsigned send_count;
    /* handles */
    sk_timer phase_timer, progress_timer, retry_timer;
    bench_pacer pacer;     /* open loop */
    sk_signal sigint;
    bool sigint_on;
} bench;

static void conn_fail(bench *b, bench_conn *c, int err, const char *what);
static void run_end(bench *b, int64_t now);

/* ---- messages ---------------------------------------------------------- */

static void print_error(bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void print_error(bench *b, const char *fmt, ...)
{
    if (b->cfg->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (b->cfg->progress)
        fputs("\r\033[K", stderr); /* over the progress line */
    fputs("sk: bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Run-time errors: the first few are printed, the rest only counted. */
static bool message_allowed(bench *b)
{
    return b->messages++ < MAX_MESSAGES;
}

/* ---- the request pattern -------------------------------------------------- */

/* Where request r of connection c starts in the pattern table. */
static size_t pattern_offset(const bench_conn *c, uint64_t r)
{
    uint64_t h = (r + 1) * UINT64_C(2654435761) + (uint64_t)c->index * UINT64_C(40503);
    return (size_t)(h % PATTERN_PERIOD);
}

/* Fill the request table with pseudo-random lowercase letters and the
 * expected-reply table with what the workload makes of them. */
static int pattern_build(bench *b)
{
    size_t n = b->cfg->size + PATTERN_PERIOD;
    b->request = malloc(n);
    b->expect = malloc(n);
    if (b->request == NULL || b->expect == NULL)
        return -ENOMEM;
    uint32_t x = 2463534242u; /* xorshift32 */
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b->request[i] = (uint8_t)('a' + x % 26);
        b->expect[i] = b->cfg->workload == SK_BENCH_UPPER ? (uint8_t)(b->request[i] - 'a' + 'A')
                                                          : b->request[i];
    }
    return 0;
}

/* ---- sending ----------------------------------------------------------- */

static int64_t intended_ns(const bench *b, const bench_conn *c, uint64_t r)
{
    double n = (double)c->index + (double)r * (double)b->cfg->conns;
    return b->schedule_start_ns + (int64_t)(n * b->ns_per_request);
}

/* Stamp as many new requests as the pipeline (and, open loop, the
 * timetable) allows. */
static void conn_issue(bench *b, bench_conn *c, int64_t now)
{
    uint64_t room = (uint64_t)b->cfg->pipeline - (c->issued - c->replied);
    if (b->cfg->rate > 0) {
        uint64_t due = c->due - c->issued;
        room = room < due ? room : due;
    }
    unsigned k = (unsigned)b->cfg->pipeline;
    for (; room > 0; room--, c->issued++)
        c->stamps[c->issued % k] = b->cfg->rate > 0 ? intended_ns(b, c, c->issued) : now;
}

/* Watch for writability only while bytes wait to be written. */
static void conn_watch(bench *b, bench_conn *c)
{
    unsigned ev = SK_POLLIN | (c->written < c->issued ? SK_POLLOUT : 0u);
    int rc = sk_io_start(b->loop, &c->io, ev);
    if (rc < 0)
        conn_fail(b, c, rc, NULL);
}

static void conn_advance_written(bench *b, bench_conn *c, size_t n)
{
    size_t size = b->cfg->size;
    n += c->written_part;
    c->written += n / size;
    c->written_part = n % size;
}

/* Write the issued requests not yet written: one sendmsg, the requests as
 * an iovec straight from the pattern table. */
static void conn_flush(bench *b, bench_conn *c)
{
    struct iovec iov[SK_BENCH_MAX_PIPELINE];
    size_t size = b->cfg->size;
    unsigned n = 0;
    for (uint64_t r = c->written; r < c->issued; r++, n++) {
        size_t skip = r == c->written ? c->written_part : 0;
        iov[n].iov_base = b->request + pattern_offset(c, r) + skip;
        iov[n].iov_len = size - skip;
    }
    if (n > 0) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = n};
        ssize_t sent;
        do
            sent = sendmsg(c->sock.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (sent < 0 && errno == EINTR);
        if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            conn_fail(b, c, -errno, NULL);
            return;
        }
        if (sent > 0)
            conn_advance_written(b, c, (size_t)sent);
    }
    conn_watch(b, c);
}

/* ---- receiving ----------------------------------------------------------- */

static void record_round_trip(bench *b, bench_conn *c, int64_t now)
{
    int64_t sent = c->stamps[c->replied % (unsigned)b->cfg->pipeline];
    c->replied++;
    if (b->phase != PHASE_MEASURE)
        return;
    b->res->round_trips++;
    sk_histogram_record(b->recent, now > sent ? (uint64_t)(now - sent) : 0);
}

static void report_mismatch(bench *b, bench_conn *c, const uint8_t *want, const uint8_t *got,
                            size_t n)
{
    size_t i = 0;
    while (i < n && want[i] == got[i])
        i++;
    b->res->mismatches++;
    if (message_allowed(b))
        print_error(b, "reply mismatch on connection %u at byte %zu of request %llu "
                    "(expected 0x%02x, got 0x%02x)", c->index, c->reply_part + i,
                    (unsigned long long)c->replied, want[i], got[i]);
    conn_fail(b, c, 0, "");
}

/* Check received bytes against the expected replies, in order; count
 * every reply completed. Returns false when the connection was closed. */
static bool conn_verify(bench *b, bench_conn *c, const uint8_t *data, size_t len, int64_t now)
{
    size_t size = b->cfg->size;
    while (len > 0) {
        if (c->replied == c->issued) {
            conn_fail(b, c, 0, "the server sent more bytes than were asked for");
            return false;
        }
        size_t n = size - c->reply_part;
        n = n < len ? n : len;
        const uint8_t *want = b->expect + pattern_offset(c, c->replied) + c->reply_part;
        if (memcmp(want, data, n) != 0) {
            report_mismatch(b, c, want, data, n);
            return false;
        }
        c->reply_part += n;
        data += n;
        len -= n;
        if (c->reply_part == size) {
            c->reply_part = 0;
            record_round_trip(b, c, now);
        }
    }
    return true;
}

/* Read what is there into the loop's buffer and verify it. Returns false
 * when the connection was closed. */
static bool conn_read(bench *b, bench_conn *c, int64_t now)
{
    uint8_t *buf = sk_loop_read_buffer(b->loop);
    for (int i = 0; i < READS_PER_CALLBACK; i++) {
        ssize_t n = bench_socket_recv(c->sock.fd, buf, SK_LOOP_READ_BUFFER);
        if (n == -EAGAIN)
            return true;
        if (n <= 0) {
            conn_fail(b, c, (int)n, n == 0 ? "the server closed the connection" : NULL);
            return false;
        }
        if (!conn_verify(b, c, buf, (size_t)n, now))
            return false;
        if ((size_t)n < SK_LOOP_READ_BUFFER)
            break;
    }
    return true;
}

static void conn_on_io(bench *b, bench_conn *c, unsigned events)
{
    if (b->phase == PHASE_DONE)
        return;
    int64_t now = bench_batch_now(&b->clock);
    if ((events & (SK_POLLIN | SK_POLLERR | SK_POLLHUP)) && !conn_read(b, c, now))
        return;
    if (b->phase == PHASE_CONNECTING)
        return;
    conn_issue(b, c, now);
    conn_flush(b, c);
}

/* ---- connections ------------------------------------------------------- */

static void conn_close(bench *b, bench_conn *c)
{
    if (c->state == CONN_RETRY)
        b->retrying--;
    bench_socket_close(&c->sock, &c->io, b->loop);
    c->state = CONN_CLOSED;
}

/* A connection lost during the run: report (err, else what), count it,
 * close it; end the run when none is left. what "" means already reported. */
static void conn_fail(bench *b, bench_conn *c, int err, const char *what)
{
    if (c->state != CONN_OPEN)
        return;
    conn_close(b, c);
    b->open--;
    if (what == NULL || what[0] != '\0') {
        b->res->errors++;
        if (message_allowed(b))
            print_error(b, "connection %u: %s", c->index, what ? what : sk_strerror(err));
    }
    if (b->open == 0 && b->phase != PHASE_CONNECTING && b->phase != PHASE_DONE)
        run_end(b, bench_clock_ns());
}

static void on_conn_io(sk_loop *loop, sk_io *io, unsigned events);

static void connect_settled(bench *b);
static void connect_start(bench *b, bench_conn *c);
static void connect_failed(bench *b, bench_conn *c, int err);

static void connect_done(bench *b, bench_conn *c)
{
    int rc = sk_io_start(b->loop, &c->io, SK_POLLIN);
    if (rc < 0) {
        connect_failed(b, c, rc);
        return;
    }
    if (c->state == CONN_RETRY)
        b->retrying--;
    c->state = CONN_OPEN;
    b->open++;
    b->res->conns_open++;
    b->connecting--;
    connect_settled(b);
}

/* This address failed for c: try the next one, or count the failure. */
static void connect_failed(bench *b, bench_conn *c, int err)
{
    conn_close(b, c);
    if (err != -ETIMEDOUT && err != -EMFILE && err != -ENFILE && ++c->addr_index < b->naddrs) {
        c->state = CONN_IDLE;
        connect_start(b, c);
        return;
    }
    if (b->connect_failures++ == 0) {
        char where[SK_ADDRSTRLEN];
        const sk_sockaddr *a = &b->addrs[c->addr_index < b->naddrs ? c->addr_index : b->naddrs - 1];
        bench_socket_address(a, where, sizeof where);
        print_error(b, "%s: %s", where, sk_strerror(err));
        b->status = err;
    }
    b->connecting--;
    connect_settled(b);
}

/* Interpret a connect attempt's result. */
static void connect_result(bench *b, bench_conn *c, int rc)
{
    if (rc == 0) {
        connect_done(b, c);
    } else if (rc == -EINPROGRESS) {
        c->state = CONN_CONNECTING;
        rc = sk_io_start(b->loop, &c->io, SK_POLLOUT);
        if (rc < 0)
            connect_failed(b, c, rc);
    } else if (rc == -EAGAIN) {
        if (c->state != CONN_RETRY) {
            c->state = CONN_RETRY;
            if (b->retrying++ == 0 && sk_timer_start(b->loop, &b->retry_timer, CONNECT_RETRY_MS,
                                                     CONNECT_RETRY_MS) < 0)
                connect_failed(b, c, -ENOMEM);
        }
    } else {
        connect_failed(b, c, rc);
    }
}

/* Open a non-blocking socket and start connecting it. */
static void connect_start(bench *b, bench_conn *c)
{
    int rc = bench_socket_connect(&c->sock, &c->io, &b->addrs[c->addr_index], on_conn_io, c);
    if (c->sock.fd < 0)
        connect_failed(b, c, rc);
    else
        connect_result(b, c, rc);
}

static void on_retry_timer(sk_loop *loop, sk_timer *t)
{
    bench *b = t->data;
    for (int i = 0; i < b->cfg->conns && b->retrying > 0; i++) {
        bench_conn *c = &b->conns[i];
        if (c->state == CONN_RETRY)
            connect_result(b, c, sk_sock_connect_ex(&c->sock, &b->addrs[c->addr_index]));
    }
    if (b->retrying == 0)
        sk_timer_stop(loop, t);
}

static void on_conn_io(sk_loop *loop, sk_io *io, unsigned events)
{
    bench_conn *c = io->data;
    bench *b = c->b;
    (void)loop;
    if (c->state == CONN_CONNECTING) {
        int rc = sk_sock_error(&c->sock);
        if (rc == 0)
            connect_done(b, c);
        else
            connect_failed(b, c, rc);
        return;
    }
    if (c->state == CONN_OPEN)
        conn_on_io(b, c, events);
}

/* ---- phases ------------------------------------------------------------ */

static void pacer_arm(bench *b, int64_t now);
static void pacer_run(bench *b, int64_t now);
static void progress_tick(bench *b, int64_t now);

/* Arm the phase timer for the phase ending at end_ns (the timer callback
 * checks the clock and re-arms when it fired early). */
static int phase_arm(bench *b, int64_t now, int64_t end_ns)
{
    b->phase_end_ns = end_ns;
    return sk_timer_start(b->loop, &b->phase_timer, bench_timer_ms(now, end_ns), 0);
}

static void run_end(bench *b, int64_t now)
{
    if (b->phase == PHASE_MEASURE) {
        b->res->elapsed_s = (double)(now - b->measure_start_ns) / 1e9;
        b->res->cpu_s = (double)(bench_cpu_ns() - b->measure_cpu_ns) / 1e9;
        sk_histogram_merge(&b->res->latency, b->recent);
    }
    b->phase = PHASE_DONE;
    sk_loop_stop(b->loop);
}

static void measure_start(bench *b, int64_t now)
{
    b->phase = PHASE_MEASURE;
    b->measure_start_ns = b->tick_ns = now;
    b->measure_cpu_ns = bench_cpu_ns();
    b->tick_round_trips = 0;
    b->res->round_trips = 0;
    sk_histogram_reset(b->recent);
    sk_histogram_reset(&b->res->latency);
    if (phase_arm(b, now, now + b->cfg->duration_ms * 1000000) < 0)
        run_end(b, now);
    else if (b->cfg->progress)
        (void)sk_timer_start(b->loop, &b->progress_timer, 1000, 1000); /* progress is optional */
}

/* Every connection is open: start sending. */
static void run_start(bench *b)
{
    int64_t now = bench_clock_ns();
    b->schedule_start_ns = now;
    b->phase = PHASE_WARMUP;
    if (b->cfg->warmup_ms > 0) {
        if (phase_arm(b, now, now + b->cfg->warmup_ms * 1000000) < 0) {
            b->status = -ENOMEM;
            run_end(b, now);
            return;
        }
    } else {
        measure_start(b, now);
    }
    if (b->cfg->rate > 0) {
        pacer_run(b, now);
        if (b->phase != PHASE_DONE)
            pacer_arm(b, now);
        return;
    }
    for (int i = 0; i < b->cfg->conns && b->phase != PHASE_DONE; i++) {
        bench_conn *c = &b->conns[i];
        if (c->state != CONN_OPEN)
            continue;
        conn_issue(b, c, now);
        conn_flush(b, c);
    }
}

/* Called whenever a connection opened or failed for good. */
static void connect_settled(bench *b)
{
    if (b->connecting > 0 || b->phase != PHASE_CONNECTING)
        return;
    sk_timer_stop(b->loop, &b->phase_timer);
    if (b->connect_failures > 0 || b->open == 0) {
        if (b->connect_failures > 1)
            print_error(b, "%d of %d connections failed", b->connect_failures, b->cfg->conns);
        b->phase = PHASE_DONE;
        sk_loop_stop(b->loop);
        return;
    }
    run_start(b);
}

/* The connect deadline, the warmup's end, the measurement's end. */
static void on_phase_timer(sk_loop *loop, sk_timer *t)
{
    bench *b = t->data;
    (void)loop;
    int64_t now = bench_clock_ns();
    if ((b->phase == PHASE_WARMUP || b->phase == PHASE_MEASURE) && now < b->phase_end_ns) {
        if (phase_arm(b, now, b->phase_end_ns) < 0)
            run_end(b, now);
    } else if (b->phase == PHASE_WARMUP) {
        measure_start(b, now);
    } else if (b->phase == PHASE_MEASURE) {
        run_end(b, now);
    } else if (b->phase == PHASE_CONNECTING) {
        for (int i = 0; i < b->cfg->conns && b->phase == PHASE_CONNECTING; i++) {
            bench_conn *c = &b->conns[i];
            if (c->state == CONN_CONNECTING || c->state == CONN_RETRY)
                connect_failed(b, c, -ETIMEDOUT);
        }
    }
}

static void progress_tick(bench *b, int64_t now)
{
    sk_bench_progress p = {
        .elapsed_s = (double)(now - b->measure_start_ns) / 1e9,
        .interval_s = (double)(now - b->tick_ns) / 1e9,
        .interval_round_trips = b->res->round_trips - b->tick_round_trips,
        .interval_latency = b->recent,
    };
    b->cfg->progress(&p, b->cfg->progress_arg);
    sk_histogram_merge(&b->res->latency, b->recent);
    sk_histogram_reset(b->recent);
    b->tick_ns = now;
    b->tick_round_trips = b->res->round_trips;
}

static void on_progress_timer(sk_loop *loop, sk_timer *t)
{
    bench *b = t->data;
    (void)loop;
    if (b->phase == PHASE_MEASURE)
        progress_tick(b, bench_clock_ns());
}

static void on_sigint(sk_loop *loop, sk_signal *sig, int signum)
{
    bench *b = sig->data;
    (void)loop;
    (void)signum;
    if (b->phase == PHASE_CONNECTING) {
        b->status = -EINTR;
        b->phase = PHASE_DONE;
        sk_loop_stop(b->loop);
        return;
    }
    b->res->interrupted = true;
    run_end(b, bench_clock_ns());
}

/* ---- open loop: the timetable ------------------------------------------ */

/* Make due every request whose intended time has come, then send. */
static void pacer_run(bench *b, int64_t now)
{
    unsigned conns = (unsigned)b->cfg->conns;
    while (b->schedule_start_ns + (int64_t)((double)b->scheduled * b->ns_per_request) <= now) {
        bench_conn *c = &b->conns[b->scheduled % conns];
        b->scheduled++;
        c->due++;
        if (!c->queued && c->state == CONN_OPEN) {
            c->queued = true;
            b->send_list[b->send_count++] = c->index;
        }
    }
    for (unsigned i = 0; i < b->send_count && b->phase != PHASE_DONE; i++) {
        bench_conn *c = &b->conns[b->send_list[i]];
        c->queued = false;
        if (c->state != CONN_OPEN)
            continue;
        conn_issue(b, c, now);
        conn_flush(b, c);
    }
    b->send_count = 0;
}

/* Wake at the next request's intended time. */
static void pacer_arm(bench *b, int64_t now)
{
    int64_t next = b->schedule_start_ns + (int64_t)((double)b->scheduled * b->ns_per_request);
    int rc = bench_pacer_arm(&b->pacer, next, now);
    if (rc < 0) {
        if (message_allowed(b))
            print_error(b, "pacer timer: %s", sk_strerror(rc));
        b->res->errors++;
        run_end(b, now);
    }
}

static void on_pacer(sk_loop *loop, sk_io *io, unsigned events)
{
    bench *b = io->data;
    (void)loop;
    (void)events;
    if (!bench_pacer_consume(&b->pacer))
        return;
    if (b->phase != PHASE_WARMUP && b->phase != PHASE_MEASURE)
        return;
    int64_t now = bench_batch_now(&b->clock);
    pacer_run(b, now);
    if (b->phase != PHASE_DONE)
        pacer_arm(b, now);
}

/* ---- setup and teardown --------------------------------------------------- */

static int bench_alloc(bench *b)
{
    size_t n = (size_t)b->cfg->conns;
    b->conns = calloc(n, sizeof *b->conns);
    b->stamps = calloc(n * (size_t)b->cfg->pipeline, sizeof *b->stamps);
    b->send_list = calloc(n, sizeof *b->send_list);
    b->recent = malloc(sizeof *b->recent);
    if (!b->conns || !b->stamps || !b->send_list || !b->recent)
        return -ENOMEM;
    sk_histogram_reset(b->recent);
    for (size_t i = 0; i < n; i++) {
        bench_conn *c = &b->conns[i];
        c->b = b;
        c->index = (unsigned)i;
        c->sock.fd = -1;
        c->stamps = b->stamps + i * (size_t)b->cfg->pipeline;
    }
    return pattern_build(b);
}

static int bench_setup(bench *b)
{
    char err[SK_ERRBUF_SIZE] = "";
    int n = sk_endpoint_resolve(&b->cfg->endpoint, SOCK_STREAM, false, b->addrs, MAX_ADDRS,
                                err, sizeof err);
    if (n < 0) {
        print_error(b, "%s", err[0] ? err : sk_strerror(n));
        return n;
    }
    b->naddrs = (unsigned)n;
    b->ns_per_request = b->cfg->rate > 0 ? 1e9 / b->cfg->rate : 0;
    int rc = bench_alloc(b);
    if (rc == 0)
        rc = sk_loop_create(&b->loop, sk_selector_default());
    if (rc < 0) {
        print_error(b, "cannot start: %s", sk_strerror(rc));
        return rc;
    }
    bench_batch_clock_init(&b->clock, b->loop);
    sk_timer_init(&b->phase_timer, on_phase_timer, b);
    sk_timer_init(&b->progress_timer, on_progress_timer, b);
    sk_timer_init(&b->retry_timer, on_retry_timer, b);
    if (b->cfg->rate > 0 && (rc = bench_pacer_open(&b->pacer, b->loop, on_pacer, b)) < 0) {
        print_error(b, "cannot start the pacer: %s", sk_strerror(rc));
        return rc;
    }
    b->sigint_on = sk_signal_start(b->loop, &b->sigint, SIGINT, on_sigint, b) == 0;
    return 0;
}

static void bench_teardown(bench *b)
{
    for (int i = 0; b->conns && i < b->cfg->conns; i++)
        if (b->conns[i].state != CONN_IDLE && b->conns[i].state != CONN_CLOSED)
            conn_close(b, &b->conns[i]);
    if (b->loop) {
        bench_pacer_close(&b->pacer, b->loop);
        if (b->sigint_on)
            sk_signal_stop(b->loop, &b->sigint);
        sk_loop_destroy(b->loop);
    }
    free(b->conns);
    free(b->stamps);
    free(b->send_list);
    free(b->recent);
    free(b->request);
    free(b->expect);
}

/* Start every connect, then run the loop until the run ends. */
static int bench_loop(bench *b)
{
    if (sk_timer_start(b->loop, &b->phase_timer, CONNECT_DEADLINE_MS, 0) < 0)
        return -ENOMEM;
    b->connecting = b->cfg->conns;
    for (int i = 0; i < b->cfg->conns && b->phase == PHASE_CONNECTING; i++)
        connect_start(b, &b->conns[i]);
    int rc = b->phase == PHASE_DONE ? 0 : sk_loop_run(b->loop);
    if (rc < 0) {
        print_error(b, "event loop failed: %s", sk_strerror(rc));
        return rc;
    }
    if (b->status < 0)
        return b->status;
    if (b->messages > MAX_MESSAGES)
        print_error(b, "%u more errors not shown", b->messages - MAX_MESSAGES);
    return 0;
}

int sk_bench_run(const sk_bench_config *cfg, sk_bench_result *res)
{
    memset(res, 0, sizeof *res);
    sk_histogram_reset(&res->latency);
    bench b = {.cfg = cfg, .res = res, .phase = PHASE_CONNECTING, .pacer = {.fd = -1}};
    int rc = bench_setup(&b);
    if (rc == 0)
        rc = bench_loop(&b);
    bench_teardown(&b);
    return rc;
}
