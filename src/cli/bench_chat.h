/* The chat workload of `sk bench` (--workload chat): N clients on one
 * sockkit event loop join one room of a chat server (`sk serve chat`, or
 * `ncat --chat`); messages are said to the room and the engine measures
 * how fast and how soon every client receives every message.
 *
 * Phases: connecting (at most 8 clients connecting or connected but not
 * yet sent a line by the server at once, so that a small accept queue,
 * like ncat's 10, never overflows), settling (once every client has
 * received a line, client 0 says a sync line; once every client has
 * received that, every
 * greeting and join notice sent before it has been read too), warmup,
 * measuring, draining (no new messages; wait at most 5 s for the
 * deliveries still owed), done.
 *
 * Messages: message S is the line "skb:S:" padded with 'x' to `size`
 * bytes, then LF, said by client S % conns. The server prefixes it
 * ("[HH:MM:SS] <guest7> " for sk, "<user7> " for ncat); a received line is
 * a delivery of S when "skb:S:" appears in its first 96 bytes. A message
 * is owed to every client (conns deliveries), or to every client but its
 * sender when cfg->no_echo (ncat --chat does not echo).
 * Open loop (rate > 0): message n is due at start + n / rate, whatever
 * the server does; its latency counts from that intended time, so a
 * lagging server's backlog shows (no coordinated omission).
 * Closed loop (rate 0): `window` messages are in flight; the next one is
 * sent when one has been delivered to every client it is owed to.
 *
 * Figures: deliveries/s = deliveries received during the measured time,
 * over that time. Latency = delivery time - send time (intended, open
 * loop), for every delivery of every message sent during the measured
 * time, including those that arrive while draining. Missing = deliveries
 * of those messages that never arrived.
 */
#ifndef SK_CLI_BENCH_CHAT_H
#define SK_CLI_BENCH_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench_histogram.h"
#include "sockkit/addr.h"

/* Longest message text, bytes. */
#define SK_CHAT_BENCH_MAX_SIZE 4000
/* Most messages in flight in closed loop. */
#define SK_CHAT_BENCH_MAX_WINDOW 100000

typedef struct sk_chat_bench_config {
    sk_endpoint endpoint;   /* TCP (or no scheme) or Unix stream */
    int conns;              /* clients, >= 2 */
    size_t size;            /* message text bytes (at least the "skb:S:" header) */
    double rate;            /* messages/s in total (open loop); 0: closed loop */
    int window;             /* closed loop: messages in flight, >= 1 */
    int64_t duration_ms;    /* measured time, > 0 */
    int64_t warmup_ms;      /* unmeasured time before it, >= 0 */
    bool no_echo;           /* the sender does not receive its own message */
    bool quiet;             /* print no error messages */
} sk_chat_bench_config;

typedef struct sk_chat_bench_result {
    int conns_open;         /* clients connected */
    double settle_s;        /* connecting + settling, seconds */
    double elapsed_s;       /* the measured time, as it happened */
    double cpu_s;           /* this process's CPU time (user + system) in it */
    uint64_t messages;      /* messages sent during the measured time */
    uint64_t deliveries;    /* lines received during the measured time */
    uint64_t owed;          /* deliveries owed for the measured messages */
    uint64_t missing;       /* of those, never received (by the drain's end) */
    uint64_t errors;        /* clients lost during the run */
    bool interrupted;       /* SIGINT ended the run early */
    sk_histogram latency;   /* delivery latencies of the measured messages, ns */
} sk_chat_bench_result;

/* Connect every client (within 10 s + 5 ms per client), settle (within
 * 30 s + 5 ms per client), then warmup, measure and drain. Errors are
 * printed on stderr as "sk: bench: ..." unless cfg->quiet. A client lost
 * after connecting ends the run (res->errors counts it).
 * Returns 0 when the run took place (res filled), or -errno when it could
 * not start: the endpoint did not resolve, a connection failed
 * (-ECONNREFUSED, ...), the room did not settle (-ETIMEDOUT), -ENOMEM, or
 * -EINTR when interrupted before measuring. */
int sk_chat_bench_run(const sk_chat_bench_config *cfg, sk_chat_bench_result *res);

#endif
