/* Flood control: a token bucket per client. Each line takes a token;
 * tokens come back at `rate` per second, up to `burst` saved. */
#ifndef SK_CHAT_RATE_H
#define SK_CHAT_RATE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sk_chat_bucket {
    uint64_t level;   /* tokens saved, in millionths of a token */
    int64_t last_ns;  /* when level was last brought up to date */
} sk_chat_bucket;

/* A full bucket (burst tokens) at now_ns (a monotonic clock). */
void sk_chat_bucket_init(sk_chat_bucket *b, unsigned burst, int64_t now_ns);

/* Take one token at now_ns if there is one. rate 0 means no limit.
 * Returns whether the line may go. */
bool sk_chat_bucket_take(sk_chat_bucket *b, unsigned rate, unsigned burst, int64_t now_ns);

#endif
