/* A bounded byte queue (ring buffer) of fixed capacity: what keeps a
 * running command's output and input in bounded memory. Not thread-safe
 * by itself: the session's mutex guards it. */
#ifndef SK_EXEC_RING_H
#define SK_EXEC_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct sk_exec_ring {
    uint8_t *buf;
    size_t cap;   /* bytes */
    size_t head;  /* index of the oldest byte */
    size_t used;  /* bytes queued */
} sk_exec_ring;

/* Allocate cap bytes. Returns 0 or -ENOMEM. */
int sk_exec_ring_init(sk_exec_ring *r, size_t cap);
void sk_exec_ring_free(sk_exec_ring *r);

static inline size_t sk_exec_ring_used(const sk_exec_ring *r)
{
    return r->used;
}

static inline size_t sk_exec_ring_room(const sk_exec_ring *r)
{
    return r->cap - r->used;
}

/* Append up to len bytes (as many as there is room for). Returns the count. */
size_t sk_exec_ring_push(sk_exec_ring *r, const void *data, size_t len);

/* Copy up to len of the oldest bytes to out without removing them.
 * Returns the count. */
size_t sk_exec_ring_peek(const sk_exec_ring *r, void *out, size_t len);

/* Remove the n oldest bytes (n <= used). */
void sk_exec_ring_drop(sk_exec_ring *r, size_t n);

/* Remove everything. */
void sk_exec_ring_clear(sk_exec_ring *r);

#endif
