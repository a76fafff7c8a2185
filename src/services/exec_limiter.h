/* Authentication failures counted per peer address: after
 * SK_EXEC_FAIL_MAX failures within SK_EXEC_FAIL_WINDOW_MS, every further
 * attempt from that address is refused, unchecked, until the window that
 * began with its first failure ends. Thread-safe (one mutex); a fixed
 * table, so a flood of addresses evicts the oldest entries instead of
 * growing memory. */
#ifndef SK_EXEC_LIMITER_H
#define SK_EXEC_LIMITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SK_EXEC_FAIL_MAX 5
#define SK_EXEC_FAIL_WINDOW_MS 60000
#define SK_EXEC_LIMITER_SLOTS 256
#define SK_EXEC_PEER_KEY_MAX 64

typedef struct sk_exec_limiter_slot {
    char key[SK_EXEC_PEER_KEY_MAX]; /* "" when free */
    int64_t since_ms;               /* first failure of the window */
    unsigned failures;
} sk_exec_limiter_slot;

typedef struct sk_exec_limiter {
    pthread_mutex_t mu;
    sk_exec_limiter_slot slot[SK_EXEC_LIMITER_SLOTS];
} sk_exec_limiter;

/* Prepare an empty table. Returns 0 or -errno. */
int sk_exec_limiter_init(sk_exec_limiter *l);
void sk_exec_limiter_destroy(sk_exec_limiter *l);

/* The address part of a peer as sk_conn_peer prints it: "127.0.0.1:5000"
 * → "127.0.0.1", "[::1]:5000" → "::1", "unix:..." → "unix". */
void sk_exec_peer_key(const char *peer, char out[SK_EXEC_PEER_KEY_MAX]);

/* Whether attempts from key are refused at now_ms (a monotonic clock). */
bool sk_exec_limiter_blocked(sk_exec_limiter *l, const char *key, int64_t now_ms);

/* Count a failure from key at now_ms. */
void sk_exec_limiter_fail(sk_exec_limiter *l, const char *key, int64_t now_ms);

#endif
