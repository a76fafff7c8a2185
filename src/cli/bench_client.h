/* The load engine of `sk bench`: many non-blocking connections on one
 * sockkit event loop (sk_loop + sk_io watchers), each sending requests of
 * a deterministic pattern and verifying the replies byte by byte.
 *
 * Requests: request R of connection C is `size` printable lowercase
 * letters, a slice of a fixed pseudo-random table starting at an offset
 * derived from (C, R), so consecutive requests differ and upper-casing
 * changes every byte. The expected reply is the same bytes (echo) or
 * their ASCII upper case (upper); a reply is complete when `size` bytes
 * have arrived for it. Replies come back in request order.
 *
 * Closed loop (rate 0): each connection keeps `pipeline` requests in
 * flight; latency = reply complete - request sent.
 * Open loop (rate > 0): request n of the whole run (connection n % conns)
 * is due at start + n / rate. A connection sends a due request as soon as
 * it has fewer than `pipeline` in flight; latency = reply complete -
 * INTENDED send time, so a stalled server's backlog shows in the latency
 * instead of being hidden (no coordinated omission).
 *
 * Time: CLOCK_MONOTONIC read once per loop iteration (at the first
 * callback that needs it) and shared by the callbacks of that batch of
 * ready events. A reply is therefore stamped after its bytes were ready
 * and a request no later than it was written: each latency is off by at
 * most the time the loop spends on one batch (typically microseconds).
 * Nothing is allocated per request: requests are written straight from the
 * pattern table with one sendmsg (pipelined requests as an iovec), replies
 * are read into the loop's shared read buffer.
 */
#ifndef SK_CLI_BENCH_CLIENT_H
#define SK_CLI_BENCH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench_histogram.h"
#include "sockkit/addr.h"

/* Largest request, bytes; most requests in flight per connection. */
#define SK_BENCH_MAX_SIZE (1u << 20)
#define SK_BENCH_MAX_PIPELINE 1024

typedef enum sk_bench_workload {
    SK_BENCH_ECHO = 0,   /* reply = the request */
    SK_BENCH_UPPER,      /* reply = the request, ASCII upper-cased */
} sk_bench_workload;

/* Handed to the progress callback once a second while measuring. */
typedef struct sk_bench_progress {
    double elapsed_s;                 /* measured time so far */
    double interval_s;                /* since the previous call */
    uint64_t interval_round_trips;    /* completed in that interval */
    const sk_histogram *interval_latency; /* their latencies, ns */
} sk_bench_progress;

typedef struct sk_bench_config {
    sk_endpoint endpoint;       /* TCP (or no scheme) or Unix stream */
    int conns;                  /* connections, >= 1 */
    size_t size;                /* request bytes, 1..SK_BENCH_MAX_SIZE */
    int pipeline;               /* requests in flight per connection, 1..SK_BENCH_MAX_PIPELINE */
    double rate;                /* total requests/s (open loop), 0: closed loop */
    int64_t duration_ms;        /* measured time, > 0 */
    int64_t warmup_ms;          /* unmeasured time before it, >= 0 */
    sk_bench_workload workload;
    bool quiet;                 /* print no error messages */
    void (*progress)(const sk_bench_progress *p, void *arg); /* or NULL */
    void *progress_arg;
} sk_bench_config;

typedef struct sk_bench_result {
    int conns_open;             /* connections established */
    uint64_t round_trips;       /* replies completed in the measured time */
    double elapsed_s;           /* the measured time, as it happened */
    double cpu_s;               /* this process's CPU time (user + system) in it */
    uint64_t errors;            /* connections lost to errors during the run */
    uint64_t mismatches;        /* replies that differed from the expected bytes */
    bool interrupted;           /* SIGINT ended the run early */
    sk_histogram latency;       /* round-trip latencies, nanoseconds */
} sk_bench_result;

/* Connect every connection (in parallel, within 10 s), then run: warmup,
 * then the measured duration. Errors are printed on stderr as
 * "sk: bench: ..." unless cfg->quiet: a failed connect as
 * "sk: bench: 127.0.0.1:9: Connection refused", a bad reply as
 * "sk: bench: reply mismatch on connection C at byte B of request R
 * (expected 0xXX, got 0xYY)" (C, B, R counted from 0). A connection that
 * fails or mismatches during the run is closed and counted; the others go
 * on (the run ends early when none is left).
 * SIGINT during the run ends it early (res->interrupted).
 * Returns 0 when the run took place (res filled; check errors and
 * mismatches), or -errno when it could not start: the endpoint did not
 * resolve, a connection failed (-ECONNREFUSED, -ETIMEDOUT, ...), -EMFILE,
 * -ENOMEM, or -EINTR when interrupted while connecting. */
int sk_bench_run(const sk_bench_config *cfg, sk_bench_result *res);

#endif
