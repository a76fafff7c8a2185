/* The token bucket of flood control, in fixed point (a millionth of a
 * token) so that any rate refills exactly. */
#include "chat_rate.h"

enum { UNIT = 1000000 }; /* one token */

void sk_chat_bucket_init(sk_chat_bucket *b, unsigned burst, int64_t now_ns)
{
    b->level = (uint64_t)burst * UNIT;
    b->last_ns = now_ns;
}

/* Tokens earned since last_ns, capped at burst. */
static void refill(sk_chat_bucket *b, unsigned rate, unsigned burst, int64_t now_ns)
{
    uint64_t full = (uint64_t)(burst ? burst : 1) * UNIT;
    if (now_ns <= b->last_ns)
        return;
    uint64_t elapsed = (uint64_t)(now_ns - b->last_ns);
    uint64_t to_full = (full - (b->level < full ? b->level : full)) * 1000u / rate + 1000u;
    if (elapsed > to_full) /* keeps elapsed * rate far from overflowing */
        elapsed = to_full;
    /* elapsed ns * rate tokens/s = elapsed * rate / 1e9 tokens = elapsed * rate / 1000 units */
    uint64_t earned = elapsed * rate / 1000u;
    if (earned == 0)
        return; /* keep last_ns so that fractions add up */
    b->level = b->level + earned > full ? full : b->level + earned;
    b->last_ns += (int64_t)(earned * 1000u / rate);
    if (b->level == full || b->last_ns > now_ns)
        b->last_ns = now_ns;
}

bool sk_chat_bucket_take(sk_chat_bucket *b, unsigned rate, unsigned burst, int64_t now_ns)
{
    if (rate == 0)
        return true;
    refill(b, rate, burst, now_ns);
    if (b->level < UNIT)
        return false;
    b->level -= UNIT;
    return true;
}
