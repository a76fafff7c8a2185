/* The chat workload of sk bench (bench_chat.h): clients as sk_io watchers
 * on one sk_loop. */
#include "bench_chat.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sockkit/error.h"
#include "sockkit/loop.h"
#include "sockkit/sock.h"
#include "bench_clock.h"
#include "bench_pacer.h"
#include "bench_socket.h"
#include "send_queue.h"

/* Clients connecting, or connected but not yet sent a line by the server,
 * at once: the rest wait, so that a listener's accept queue never
 * overflows (ncat's holds 10; Linux then drops the handshake's last ACK
 * and the client waits for a SYN-ACK retransmission, seconds). */
#define MAX_PENDING 8
/* Deadlines: base + per client, milliseconds. */
#define CONNECT_BASE_MS 10000
#define SETTLE_BASE_MS 30000
#define PER_CLIENT_MS 5
#define DRAIN_MS 5000
/* Bytes kept of the start of each received line: where the tag is. */
#define LINE_KEEP 96
/* Reads per readiness callback when they fill the whole buffer. */
#define READS_PER_CALLBACK 4
#define MAX_MESSAGES_SHOWN 5
#define TAG "skb:"
#define SYNC_LINE "sks:sync"

typedef enum conn_state { CONN_IDLE = 0, CONN_CONNECTING, CONN_OPEN, CONN_CLOSED } conn_state;

typedef enum phase {
    PHASE_CONNECTING = 0,
    PHASE_SETTLING,
    PHASE_WARMUP,
    PHASE_MEASURE,
    PHASE_DRAIN,
    PHASE_DONE,
} phase;

struct chat_bench;

typedef struct chat_conn {
    sk_io io;
    sk_sock sock;
    struct chat_bench *b;
    unsigned index;
    conn_state state;
    bool synced;              /* received the sync line */
    bool greeted;             /* received a line */
    uint16_t line_len;        /* bytes of the current line kept in line */
    char line[LINE_KEEP];
    char *out;                /* bytes the socket did not take yet */
    size_t out_len, out_cap;
} chat_conn;

/* What the engine knows of message S. */
typedef struct message {
    int64_t sent_ns;          /* send time (intended, open loop) */
    uint32_t received;        /* deliveries so far */
} message;

typedef struct chat_bench {
    const sk_chat_bench_config *cfg;
    sk_chat_bench_result *res;
    sk_loop *loop;
    chat_conn *conns;
    sk_sockaddr addr;
    phase phase;
    int status;               /* -errno that stops the run before measuring */
    unsigned next_connect;    /* next client to start connecting */
    int pending;              /* connecting or not yet greeted */
    int open;
    unsigned greeted;         /* clients that received a line */
    unsigned synced;          /* clients that received the sync line */
    unsigned owed;            /* deliveries owed per message */
    unsigned shown;           /* error messages printed */
    /* messages */
    message *msgs;
    uint64_t sent, cap;       /* messages sent; room in msgs */
    uint64_t measure_first, measure_end; /* measured messages: [first, end) */
    uint64_t outstanding;     /* sent, not yet delivered to all */
    char *text;               /* a message's padding, size bytes of 'x' */
    /* time */
    bench_batch_clock clock;  /* the time of a batch of I/O callbacks */
    int64_t start_ns, measure_start_ns, phase_end_ns, schedule_start_ns;
    int64_t measure_cpu_ns;   /* bench_cpu_ns() when the measured time began */
    double ns_per_message;
    /* handles */
    sk_timer phase_timer;
    bench_pacer pacer;        /* open loop */
    sk_signal sigint;
    bool sigint_on;
} chat_bench;

static void run_end(chat_bench *b);
static void conn_fail(chat_bench *b, chat_conn *c, int err, const char *what);

/* ---- messages ---------------------------------------------------- */

static void print_error(chat_bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void print_error(chat_bench *b, const char *fmt, ...)
{
    if (b->cfg->quiet || b->shown++ >= MAX_MESSAGES_SHOWN)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("sk: bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- sending -------------------------------------------------------------- */

static int conn_watch(chat_bench *b, chat_conn *c)
{
    return sk_io_start(b->loop, &c->io, SK_POLLIN | (c->out_len > 0 ? SK_POLLOUT : 0u));
}

/* Write what is queued; returns 0 or -errno. */
static int conn_flush(chat_bench *b, chat_conn *c)
{
    int rc = send_queue_flush(c->sock.fd, c->out, &c->out_len);
    return rc < 0 ? rc : conn_watch(b, c);
}

/* Send one line (with its LF) from c. */
static void conn_say(chat_bench *b, chat_conn *c, const char *line, size_t len)
{
    int rc = send_queue_append(&c->out, &c->out_len, &c->out_cap, line, len);
    if (rc == 0)
        rc = conn_flush(b, c);
    if (rc < 0)
        conn_fail(b, c, rc, NULL);
}

/* Make room for message number b->sent. Returns 0 or -ENOMEM. */
static int messages_grow(chat_bench *b)
{
    if (b->sent < b->cap)
        return 0;
    uint64_t cap = b->cap ? b->cap * 2 : 4096;
    message *m = realloc(b->msgs, cap * sizeof *m);
    if (m == NULL)
        return -ENOMEM;
    b->msgs = m;
    b->cap = cap;
    return 0;
}

/* Say the next message, stamped sent_ns, from its client. */
static void message_send(chat_bench *b, int64_t sent_ns)
{
    if (messages_grow(b) < 0) {
        print_error(b, "out of memory for %" PRIu64 " messages", b->sent);
        b->res->errors++;
        run_end(b);
        return;
    }
    uint64_t seq = b->sent++;
    b->msgs[seq] = (message){.sent_ns = sent_ns, .received = 0};
    b->outstanding++;
    char line[SK_CHAT_BENCH_MAX_SIZE + 32];
    int n = snprintf(line, sizeof line, TAG "%" PRIu64 ":", seq);
    size_t len = (size_t)n;
    if (len < b->cfg->size) {
        memcpy(line + len, b->text, b->cfg->size - len);
        len = b->cfg->size;
    }
    line[len++] = '\n';
    conn_say(b, &b->conns[seq % (uint64_t)b->cfg->conns], line, len);
}

/* ---- receiving ------------------------------------------------------------ */

static void message_delivered(chat_bench *b, uint64_t seq, int64_t now)
{
    message *m = &b->msgs[seq];
    if (++m->received == b->owed && b->outstanding > 0)
        b->outstanding--;
    if (b->phase == PHASE_MEASURE)
        b->res->deliveries++;
    if (seq >= b->measure_first && seq < b->measure_end && b->phase >= PHASE_MEASURE)
        sk_histogram_record(&b->res->latency, now > m->sent_ns ? (uint64_t)(now - m->sent_ns) : 0);
    if (m->received == b->owed && b->cfg->rate <= 0 &&
        (b->phase == PHASE_WARMUP || b->phase == PHASE_MEASURE))
        message_send(b, now); /* closed loop: the next one */
    if (b->phase == PHASE_DRAIN && b->outstanding == 0)
        run_end(b);
}

static void sync_received(chat_bench *b, chat_conn *c);
static void greeted(chat_bench *b, chat_conn *c);

/* A whole line has been received (its first LINE_KEEP bytes in c->line). */
static void line_done(chat_bench *b, chat_conn *c, int64_t now)
{
    if (!c->greeted)
        greeted(b, c);
    const char *line = c->line;
    size_t len = c->line_len;
    const char *tag = memmem(line, len, TAG, sizeof TAG - 1);
    if (tag == NULL) {
        if (memmem(line, len, SYNC_LINE, sizeof SYNC_LINE - 1) != NULL)
            sync_received(b, c);
        return;
    }
    const char *p = tag + sizeof TAG - 1, *end = line + len;
    uint64_t seq = 0;
    bool digits = false;
    for (; p < end && *p >= '0' && *p <= '9'; p++, digits = true)
        seq = seq * 10 + (uint64_t)(*p - '0');
    if (digits && p < end && *p == ':' && seq < b->sent)
        message_delivered(b, seq, now);
}

/* Cut received bytes into lines, keeping the start of each. */
static void conn_scan(chat_bench *b, chat_conn *c, const char *data, size_t len, int64_t now)
{
    while (len > 0 && c->state == CONN_OPEN && b->phase != PHASE_DONE) {
        const char *nl = memchr(data, '\n', len);
        size_t seg = nl ? (size_t)(nl - data) : len;
        size_t keep = LINE_KEEP - c->line_len;
        keep = keep < seg ? keep : seg;
        memcpy(c->line + c->line_len, data, keep);
        c->line_len = (uint16_t)(c->line_len + keep);
        if (nl == NULL)
            return;
        line_done(b, c, now);
        c->line_len = 0;
        data += seg + 1;
        len -= seg + 1;
    }
}

static void conn_read(chat_bench *b, chat_conn *c)
{
    char *buf = (char *)sk_loop_read_buffer(b->loop);
    for (int i = 0; i < READS_PER_CALLBACK && c->state == CONN_OPEN; i++) {
        ssize_t n = bench_socket_recv(c->sock.fd, buf, SK_LOOP_READ_BUFFER);
        if (n == -EAGAIN)
            return;
        if (n <= 0) {
            conn_fail(b, c, (int)n, n == 0 ? "the server closed the connection" : NULL);
            return;
        }
        conn_scan(b, c, buf, (size_t)n, bench_batch_now(&b->clock));
        if ((size_t)n < SK_LOOP_READ_BUFFER)
            return;
    }
}

/* ---- connections ----------------------------------------------------------- */

static void conn_close(chat_bench *b, chat_conn *c)
{
    bench_socket_close(&c->sock, &c->io, b->loop);
    c->state = CONN_CLOSED;
}

/* A client lost after connecting: report it and end the run. */
static void conn_fail(chat_bench *b, chat_conn *c, int err, const char *what)
{
    if (c->state != CONN_OPEN)
        return;
    conn_close(b, c);
    b->open--;
    b->res->errors++;
    print_error(b, "client %u: %s", c->index, what ? what : sk_strerror(err));
    if (b->phase < PHASE_WARMUP && b->status == 0)
        b->status = err ? err : -ECONNRESET;
    run_end(b);
}

static void connect_next(chat_bench *b);

static void connect_failed(chat_bench *b, chat_conn *c, int err)
{
    conn_close(b, c);
    if (b->status == 0) {
        char where[SK_ADDRSTRLEN];
        bench_socket_address(&b->addr, where, sizeof where);
        print_error(b, "%s: %s", where, sk_strerror(err));
        b->status = err;
    }
    run_end(b);
}

static void settle_start(chat_bench *b);

static void connect_done(chat_bench *b, chat_conn *c)
{
    c->state = CONN_OPEN;
    b->open++;
    b->res->conns_open++;
    int rc = sk_io_start(b->loop, &c->io, SK_POLLIN);
    if (rc < 0) {
        conn_fail(b, c, rc, NULL);
        return;
    }
    if (b->open == b->cfg->conns)
        settle_start(b);
}

static void on_conn_io(sk_loop *loop, sk_io *io, unsigned events)
{
    chat_conn *c = io->data;
    chat_bench *b = c->b;
    (void)loop;
    if (b->phase == PHASE_DONE)
        return;
    if (c->state == CONN_CONNECTING) {
        int rc = sk_sock_error(&c->sock);
        if (rc == 0)
            connect_done(b, c);
        else
            connect_failed(b, c, rc);
        connect_next(b);
        return;
    }
    if (c->state != CONN_OPEN)
        return;
    if (events & (SK_POLLIN | SK_POLLERR | SK_POLLHUP))
        conn_read(b, c);
    if (c->state == CONN_OPEN && (events & SK_POLLOUT)) {
        int rc = conn_flush(b, c);
        if (rc < 0)
            conn_fail(b, c, rc, NULL);
    }
}

/* Start connecting clients while fewer than MAX_PENDING are pending. */
static void connect_next(chat_bench *b)
{
    while (b->pending < MAX_PENDING && b->next_connect < (unsigned)b->cfg->conns &&
           b->phase == PHASE_CONNECTING) {
        chat_conn *c = &b->conns[b->next_connect++];
        int rc = bench_socket_connect(&c->sock, &c->io, &b->addr, on_conn_io, c);
        if (c->sock.fd < 0) {
            connect_failed(b, c, rc);
            return;
        }
        b->pending++;
        if (rc == 0) {
            connect_done(b, c);
            continue;
        }
        if (rc == -EINPROGRESS) {
            c->state = CONN_CONNECTING;
            rc = sk_io_start(b->loop, &c->io, SK_POLLOUT);
        }
        if (rc < 0) {
            connect_failed(b, c, rc);
            return;
        }
    }
}

/* ---- phases ------------------------------------------------------------------ */

static void pacer_run(chat_bench *b, int64_t now);
static void pacer_arm(chat_bench *b, int64_t now);

/* Arm the phase timer for a phase ending at end_ns (the loop's timers
 * count whole ms from its cached time: the callback checks the clock). */
static void phase_arm(chat_bench *b, int64_t now, int64_t end_ns)
{
    b->phase_end_ns = end_ns;
    if (sk_timer_start(b->loop, &b->phase_timer, bench_timer_ms(now, end_ns), 0) < 0) {
        b->status = -ENOMEM;
        run_end(b);
    }
}

static int64_t per_client_ms(const chat_bench *b, int64_t base)
{
    return base + (int64_t)b->cfg->conns * PER_CLIENT_MS;
}

static void run_end(chat_bench *b)
{
    if (b->phase == PHASE_DONE)
        return;
    int64_t now = bench_clock_ns();
    if (b->phase == PHASE_MEASURE) {
        b->res->elapsed_s = (double)(now - b->measure_start_ns) / 1e9;
        b->res->cpu_s = (double)(bench_cpu_ns() - b->measure_cpu_ns) / 1e9;
        b->measure_end = b->sent;
    }
    b->phase = PHASE_DONE;
    sk_loop_stop(b->loop);
}

/* Client 0 says the sync line, once every client is connected and has
 * received a line: a connection the kernel completed may not have been
 * accepted by the server yet, and would miss it. */
static void sync_say(chat_bench *b)
{
    if (b->phase == PHASE_SETTLING && b->greeted == (unsigned)b->cfg->conns)
        conn_say(b, &b->conns[0], SYNC_LINE "\n", sizeof SYNC_LINE);
}

static void greeted(chat_bench *b, chat_conn *c)
{
    c->greeted = true;
    b->greeted++;
    b->pending--;
    connect_next(b);
    sync_say(b);
}

/* Every client is connected: settle. */
static void settle_start(chat_bench *b)
{
    b->phase = PHASE_SETTLING;
    phase_arm(b, bench_clock_ns(), bench_clock_ns() + per_client_ms(b, SETTLE_BASE_MS) * 1000000);
    sync_say(b);
}

static void warmup_start(chat_bench *b);

static void sync_received(chat_bench *b, chat_conn *c)
{
    if (c->synced || (b->cfg->no_echo && c->index == 0))
        return;
    c->synced = true;
    if (++b->synced == b->owed && b->phase == PHASE_SETTLING)
        warmup_start(b);
}

static void measure_start(chat_bench *b, int64_t now)
{
    b->phase = PHASE_MEASURE;
    b->measure_start_ns = now;
    b->measure_cpu_ns = bench_cpu_ns();
    b->measure_first = b->sent;
    b->measure_end = UINT64_MAX;
    b->res->deliveries = 0;
    phase_arm(b, now, now + b->cfg->duration_ms * 1000000);
}

/* The room is settled: start saying messages. */
static void warmup_start(chat_bench *b)
{
    int64_t now = bench_clock_ns();
    b->res->settle_s = (double)(now - b->start_ns) / 1e9;
    b->schedule_start_ns = now;
    b->phase = PHASE_WARMUP;
    if (b->cfg->warmup_ms > 0)
        phase_arm(b, now, now + b->cfg->warmup_ms * 1000000);
    else
        measure_start(b, now);
    if (b->cfg->rate > 0) {
        pacer_run(b, now);
        if (b->phase != PHASE_DONE)
            pacer_arm(b, now);
        return;
    }
    for (int i = 0; i < b->cfg->window && b->phase != PHASE_DONE; i++)
        message_send(b, now);
}

/* Measuring is over: wait for the deliveries still owed. */
static void drain_start(chat_bench *b, int64_t now)
{
    b->res->elapsed_s = (double)(now - b->measure_start_ns) / 1e9;
    b->measure_end = b->sent;
    b->phase = PHASE_DRAIN;
    bench_pacer_stop(&b->pacer, b->loop);
    if (b->outstanding == 0)
        run_end(b);
    else
        phase_arm(b, now, now + (int64_t)DRAIN_MS * 1000000);
}

static void on_phase_timer(sk_loop *loop, sk_timer *t)
{
    chat_bench *b = t->data;
    (void)loop;
    int64_t now = bench_clock_ns();
    if (b->phase != PHASE_DONE && now < b->phase_end_ns) {
        phase_arm(b, now, b->phase_end_ns);
        return;
    }
    switch (b->phase) {
    case PHASE_CONNECTING:
        print_error(b, "%d of %d clients connected, %u greeted (sent a line) in %.0f s", b->open,
                    b->cfg->conns, b->greeted, (double)per_client_ms(b, CONNECT_BASE_MS) / 1000);
        b->status = -ETIMEDOUT;
        run_end(b);
        break;
    case PHASE_SETTLING:
        print_error(b, "the room did not settle in %.0f s: %u of %d clients were greeted, "
                    "%u of %u received the sync line", (double)per_client_ms(b, SETTLE_BASE_MS) / 1000,
                    b->greeted, b->cfg->conns, b->synced, b->owed);
        b->status = -ETIMEDOUT;
        run_end(b);
        break;
    case PHASE_WARMUP: measure_start(b, now); break;
    case PHASE_MEASURE: drain_start(b, now); break;
    default: run_end(b); break;
    }
}

static void on_sigint(sk_loop *loop, sk_signal *sig, int signum)
{
    chat_bench *b = sig->data;
    (void)loop;
    (void)signum;
    if (b->phase < PHASE_MEASURE)
        b->status = -EINTR;
    b->res->interrupted = true;
    run_end(b);
}

/* ---- open loop: the timetable --------------------------------------------- */

static int64_t due_ns(const chat_bench *b, uint64_t seq)
{
    return b->schedule_start_ns + (int64_t)((double)seq * b->ns_per_message);
}

/* Say every message whose intended time has come. */
static void pacer_run(chat_bench *b, int64_t now)
{
    while (b->phase == PHASE_WARMUP || b->phase == PHASE_MEASURE) {
        int64_t due = due_ns(b, b->sent);
        if (due > now)
            break;
        message_send(b, due);
    }
}

/* Wake at the next message's time. */
static void pacer_arm(chat_bench *b, int64_t now)
{
    int rc = bench_pacer_arm(&b->pacer, due_ns(b, b->sent), now);
    if (rc < 0) {
        print_error(b, "pacer timer: %s", sk_strerror(rc));
        b->res->errors++;
        run_end(b);
    }
}

static void on_pacer(sk_loop *loop, sk_io *io, unsigned events)
{
    chat_bench *b = io->data;
    (void)loop;
    (void)events;
    if (!bench_pacer_consume(&b->pacer))
        return;
    if (b->phase != PHASE_WARMUP && b->phase != PHASE_MEASURE)
        return;
    int64_t now = bench_batch_now(&b->clock);
    pacer_run(b, now);
    if (b->phase == PHASE_WARMUP || b->phase == PHASE_MEASURE)
        pacer_arm(b, now);
}

/* ---- setup, results, teardown ------------------------------------------------ */

static int bench_alloc(chat_bench *b)
{
    size_t n = (size_t)b->cfg->conns;
    b->conns = calloc(n, sizeof *b->conns);
    b->text = malloc(b->cfg->size + 1);
    if (b->conns == NULL || b->text == NULL)
        return -ENOMEM;
    memset(b->text, 'x', b->cfg->size);
    for (size_t i = 0; i < n; i++) {
        b->conns[i].b = b;
        b->conns[i].index = (unsigned)i;
        b->conns[i].sock.fd = -1;
    }
    return 0;
}

static int bench_setup(chat_bench *b)
{
    char err[SK_ERRBUF_SIZE] = "";
    int n = sk_endpoint_resolve(&b->cfg->endpoint, SOCK_STREAM, false, &b->addr, 1, err,
                                sizeof err);
    if (n < 0) {
        print_error(b, "%s", err[0] ? err : sk_strerror(n));
        return n;
    }
    b->owed = (unsigned)b->cfg->conns - (b->cfg->no_echo ? 1u : 0u);
    b->ns_per_message = b->cfg->rate > 0 ? 1e9 / b->cfg->rate : 0;
    int rc = bench_alloc(b);
    if (rc == 0)
        rc = sk_loop_create(&b->loop, sk_selector_default());
    if (rc == 0 && b->cfg->rate > 0)
        rc = bench_pacer_open(&b->pacer, b->loop, on_pacer, b);
    if (rc < 0) {
        print_error(b, "cannot start: %s", sk_strerror(rc));
        return rc;
    }
    bench_batch_clock_init(&b->clock, b->loop);
    sk_timer_init(&b->phase_timer, on_phase_timer, b);
    b->sigint_on = sk_signal_start(b->loop, &b->sigint, SIGINT, on_sigint, b) == 0;
    return 0;
}

/* Deliveries owed for the measured messages, and how many never came. */
static void count_missing(chat_bench *b)
{
    uint64_t end = b->measure_end < b->sent ? b->measure_end : b->sent;
    for (uint64_t s = b->measure_first; s < end; s++) {
        b->res->owed += b->owed;
        if (b->msgs[s].received < b->owed)
            b->res->missing += b->owed - b->msgs[s].received;
    }
    b->res->messages = end > b->measure_first ? end - b->measure_first : 0;
}

static void bench_teardown(chat_bench *b)
{
    for (int i = 0; b->conns && i < b->cfg->conns; i++) {
        if (b->conns[i].state != CONN_IDLE && b->conns[i].state != CONN_CLOSED)
            conn_close(b, &b->conns[i]);
        free(b->conns[i].out);
    }
    if (b->loop) {
        bench_pacer_close(&b->pacer, b->loop);
        if (b->sigint_on)
            sk_signal_stop(b->loop, &b->sigint);
        sk_loop_destroy(b->loop);
    }
    free(b->conns);
    free(b->msgs);
    free(b->text);
}

int sk_chat_bench_run(const sk_chat_bench_config *cfg, sk_chat_bench_result *res)
{
    memset(res, 0, sizeof *res);
    sk_histogram_reset(&res->latency);
    chat_bench b = {.cfg = cfg, .res = res, .phase = PHASE_CONNECTING, .pacer = {.fd = -1}};
    int rc = bench_setup(&b);
    if (rc == 0) {
        b.start_ns = bench_clock_ns();
        phase_arm(&b, b.start_ns, b.start_ns + per_client_ms(&b, CONNECT_BASE_MS) * 1000000);
        connect_next(&b);
        if (b.phase != PHASE_DONE && (rc = sk_loop_run(b.loop)) < 0)
            print_error(&b, "event loop failed: %s", sk_strerror(rc));
        if (rc == 0)
            rc = b.status;
        if (rc == 0)
            count_missing(&b);
    }
    bench_teardown(&b);
    return rc;
}
