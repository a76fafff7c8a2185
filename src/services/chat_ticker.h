/* The chat hub's ticker: one thread that runs a function when asked to, at
 * most once per delay (a request within delay_ms of the last run waits for
 * the end of that window, and shares the run with every request made
 * meanwhile) -- the batch window of large rooms (chat_room.c wakes their
 * members from it).
 * Started by the first request, so a hub that never batches has no
 * thread. Its lock is taken after every other chat lock. */
#ifndef SK_CHAT_TICKER_H
#define SK_CHAT_TICKER_H

#include <pthread.h>
#include <stdbool.h>

typedef void sk_chat_tick_fn(void *arg);

typedef struct sk_chat_ticker {
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* on CLOCK_MONOTONIC */
    pthread_t thread;
    sk_chat_tick_fn *fn;
    void *arg;
    unsigned delay_ms;
    bool ready;                 /* lock and cond initialised */
    bool started, failed;       /* failed: no thread could be started */
    bool due;                   /* asked since it last ran fn */
    bool stop;
} sk_chat_ticker;

/* A ticker that runs fn(arg) on request, at most once per delay_ms.
 * Returns 0 or -errno. */
int sk_chat_ticker_init(sk_chat_ticker *t, unsigned delay_ms, sk_chat_tick_fn *fn, void *arg);

/* Stop the thread (without a last run) and release the ticker. */
void sk_chat_ticker_destroy(sk_chat_ticker *t);

/* Ask for a run of fn: at once, or within delay_ms (any thread; requests
 * before that run share it). Returns false when no thread runs or can be started:
 * the caller must not count on a run. */
bool sk_chat_ticker_request(sk_chat_ticker *t);

#endif
