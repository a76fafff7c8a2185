/* Chat mailboxes: two buffers swapped under a mutex, so that senders only
 * append and the owner writes without holding the lock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chat_mailbox.h"

enum {
    FIRST_SIZE = 512,
    KEEP_SIZE = 64 * 1024, /* a larger buffer is freed once written */
};

int sk_chat_mailbox_init(sk_chat_mailbox *mb, size_t cap)
{
    memset(mb, 0, sizeof *mb);
    mb->cap = cap;
    return -pthread_mutex_init(&mb->lock, NULL);
}

void sk_chat_mailbox_destroy(sk_chat_mailbox *mb)
{
    pthread_mutex_destroy(&mb->lock);
    free(mb->buf);
    free(mb->spare);
    mb->buf = mb->spare = NULL;
}

/* Room for len more bytes; false when out of memory. */
static bool reserve(sk_chat_mailbox *mb, size_t len)
{
    if (mb->len + len <= mb->size)
        return true;
    size_t size = mb->size ? mb->size : FIRST_SIZE;
    while (size < mb->len + len)
        size *= 2;
    char *buf = realloc(mb->buf, size);
    if (!buf)
        return false;
    mb->buf = buf;
    mb->size = size;
    return true;
}

/* The member stopped reading: drop what waits, take nothing more. */
static void overflow(sk_chat_mailbox *mb)
{
    mb->overflow = true;
    free(mb->buf);
    mb->buf = NULL;
    mb->len = mb->size = 0;
}

sk_chat_post sk_chat_mailbox_post(sk_chat_mailbox *mb, const void *data, size_t len)
{
    sk_chat_post post = SK_CHAT_POST_DROPPED;
    if (len == 0)
        return SK_CHAT_POST_QUEUED;
    pthread_mutex_lock(&mb->lock);
    if (!mb->overflow) {
        size_t queued = mb->len + mb->in_flight + mb->pending_seen;
        if (queued + len > mb->cap || !reserve(mb, len)) {
            overflow(mb);
            post = SK_CHAT_POST_OVERFLOW;
        } else {
            memcpy(mb->buf + mb->len, data, len);
            mb->len += len;
            post = mb->woken ? SK_CHAT_POST_QUEUED : SK_CHAT_POST_WAKE;
            mb->woken = true;
        }
    }
    pthread_mutex_unlock(&mb->lock);
    return post;
}

sk_chat_take sk_chat_mailbox_take(sk_chat_mailbox *mb, size_t pending, size_t stall_at,
                                  char **data, size_t *len)
{
    sk_chat_take took = SK_CHAT_TAKE_NONE;
    pthread_mutex_lock(&mb->lock);
    mb->pending_seen = pending;
    if (mb->overflow) {
        took = SK_CHAT_TAKE_OVERFLOW;
    } else if (pending > stall_at) {
        mb->woken = true; /* on_drain will look: spare the wakes */
        took = SK_CHAT_TAKE_STALLED;
    } else {
        mb->woken = false;
        if (mb->len > 0) {
            *data = mb->buf;
            *len = mb->in_flight = mb->len;
            mb->taken_size = mb->size;
            mb->buf = mb->spare;
            mb->size = mb->spare_size;
            mb->len = 0;
            mb->spare = NULL;
            mb->spare_size = 0;
            took = SK_CHAT_TAKE_DATA;
        }
    }
    pthread_mutex_unlock(&mb->lock);
    return took;
}

void sk_chat_mailbox_written(sk_chat_mailbox *mb, char *data, size_t pending)
{
    pthread_mutex_lock(&mb->lock);
    mb->in_flight = 0;
    mb->pending_seen = pending;
    if (!mb->spare && mb->taken_size <= KEEP_SIZE) {
        mb->spare = data;
        mb->spare_size = mb->taken_size;
        data = NULL;
    }
    pthread_mutex_unlock(&mb->lock);
    free(data);
}
