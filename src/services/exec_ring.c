/* Ring buffer: two memcpy at most per operation, around the wrap. */
#include "exec_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sk_exec_ring_init(sk_exec_ring *r, size_t cap)
{
    *r = (sk_exec_ring){.buf = malloc(cap), .cap = cap};
    return r->buf ? 0 : -ENOMEM;
}

void sk_exec_ring_free(sk_exec_ring *r)
{
    free(r->buf);
    *r = (sk_exec_ring){0};
}

size_t sk_exec_ring_push(sk_exec_ring *r, const void *data, size_t len)
{
    if (len > r->cap - r->used)
        len = r->cap - r->used;
    size_t tail = (r->head + r->used) % (r->cap ? r->cap : 1);
    size_t first = r->cap - tail < len ? r->cap - tail : len;
    if (first)
        memcpy(r->buf + tail, data, first);
    if (len > first)
        memcpy(r->buf, (const uint8_t *)data + first, len - first);
    r->used += len;
    return len;
}

size_t sk_exec_ring_peek(const sk_exec_ring *r, void *out, size_t len)
{
    if (len > r->used)
        len = r->used;
    size_t first = r->cap - r->head < len ? r->cap - r->head : len;
    if (first)
        memcpy(out, r->buf + r->head, first);
    if (len > first)
        memcpy((uint8_t *)out + first, r->buf, len - first);
    return len;
}

void sk_exec_ring_drop(sk_exec_ring *r, size_t n)
{
    if (n > r->used)
        n = r->used;
    r->used -= n;
    r->head = r->used ? (r->head + n) % r->cap : 0;
}

void sk_exec_ring_clear(sk_exec_ring *r)
{
    r->head = 0;
    r->used = 0;
}
