/* Per-address counting of authentication failures in fixed windows. */
#include "exec_limiter.h"

#include <stdio.h>
#include <string.h>

int sk_exec_limiter_init(sk_exec_limiter *l)
{
    memset(l->slot, 0, sizeof l->slot);
    return -pthread_mutex_init(&l->mu, NULL);
}

void sk_exec_limiter_destroy(sk_exec_limiter *l)
{
    pthread_mutex_destroy(&l->mu);
}

void sk_exec_peer_key(const char *peer, char out[SK_EXEC_PEER_KEY_MAX])
{
    if (!strncmp(peer, "unix:", 5)) {
        snprintf(out, SK_EXEC_PEER_KEY_MAX, "unix");
        return;
    }
    const char *colon = strrchr(peer, ':');
    size_t len = colon ? (size_t)(colon - peer) : strlen(peer);
    if (len >= 2 && peer[0] == '[' && peer[len - 1] == ']') {
        peer++;
        len -= 2;
    }
    if (len >= SK_EXEC_PEER_KEY_MAX)
        len = SK_EXEC_PEER_KEY_MAX - 1;
    memcpy(out, peer, len);
    out[len] = '\0';
}

static bool expired(const sk_exec_limiter_slot *s, int64_t now_ms)
{
    return now_ms - s->since_ms >= SK_EXEC_FAIL_WINDOW_MS;
}

/* The slot of key, or NULL. Caller holds the mutex. */
static sk_exec_limiter_slot *find(sk_exec_limiter *l, const char *key)
{
    for (size_t i = 0; i < SK_EXEC_LIMITER_SLOTS; i++)
        if (l->slot[i].key[0] && !strcmp(l->slot[i].key, key))
            return &l->slot[i];
    return NULL;
}

/* A slot for a new key: a free or expired one, else the oldest. */
static sk_exec_limiter_slot *claim(sk_exec_limiter *l, int64_t now_ms)
{
    sk_exec_limiter_slot *oldest = &l->slot[0];
    for (size_t i = 0; i < SK_EXEC_LIMITER_SLOTS; i++) {
        sk_exec_limiter_slot *s = &l->slot[i];
        if (!s->key[0] || expired(s, now_ms))
            return s;
        if (s->since_ms < oldest->since_ms)
            oldest = s;
    }
    return oldest;
}

bool sk_exec_limiter_blocked(sk_exec_limiter *l, const char *key, int64_t now_ms)
{
    pthread_mutex_lock(&l->mu);
    const sk_exec_limiter_slot *s = find(l, key);
    bool blocked = s && !expired(s, now_ms) && s->failures >= SK_EXEC_FAIL_MAX;
    pthread_mutex_unlock(&l->mu);
    return blocked;
}

void sk_exec_limiter_fail(sk_exec_limiter *l, const char *key, int64_t now_ms)
{
    pthread_mutex_lock(&l->mu);
    sk_exec_limiter_slot *s = find(l, key);
    if (s && expired(s, now_ms)) {
        s->since_ms = now_ms;
        s->failures = 0;
    }
    if (!s) {
        s = claim(l, now_ms);
        snprintf(s->key, sizeof s->key, "%s", key);
        s->since_ms = now_ms;
        s->failures = 0;
    }
    s->failures++;
    pthread_mutex_unlock(&l->mu);
}
