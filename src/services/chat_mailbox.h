/* A chat member's mailbox: output that any thread queues for one
 * connection, which only the connection's own thread hands to
 * sk_conn_write. Bounded: once what waits here, what is being written and
 * the connection's last known sk_conn_pending together pass the cap, the
 * mailbox overflows (the member stopped reading) and drops everything. */
#ifndef SK_CHAT_MAILBOX_H
#define SK_CHAT_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct sk_chat_mailbox {
    pthread_mutex_t lock;
    char *buf;            /* queued bytes */
    size_t len, size;
    char *spare;          /* the buffer last written, reused (owner's) */
    size_t spare_size;
    size_t in_flight;     /* taken, being written by the owner */
    size_t taken_size;    /* the size of that buffer */
    size_t pending_seen;  /* the connection's sk_conn_pending when last seen */
    size_t cap;           /* bytes */
    bool woken;           /* the owner will look soon: no need to wake it */
    bool overflow;
} sk_chat_mailbox;

/* An empty mailbox of cap bytes. Returns 0 or -errno. */
int sk_chat_mailbox_init(sk_chat_mailbox *mb, size_t cap);

/* Release an initialised mailbox. */
void sk_chat_mailbox_destroy(sk_chat_mailbox *mb);

typedef enum sk_chat_post {
    SK_CHAT_POST_QUEUED,   /* queued; the owner already knows there is mail */
    SK_CHAT_POST_WAKE,     /* queued, the first bytes since the owner looked: wake it */
    SK_CHAT_POST_OVERFLOW, /* these bytes passed the cap: all dropped; wake the owner */
    SK_CHAT_POST_DROPPED,  /* the mailbox overflowed before */
} sk_chat_post;

/* Queue len bytes (any thread). After an overflow every post is dropped. */
sk_chat_post sk_chat_mailbox_post(sk_chat_mailbox *mb, const void *data, size_t len);

typedef enum sk_chat_take {
    SK_CHAT_TAKE_NONE,     /* nothing queued */
    SK_CHAT_TAKE_DATA,     /* *data, *len to write, then sk_chat_mailbox_written */
    SK_CHAT_TAKE_STALLED,  /* the connection's own queue is too long: wait for on_drain */
    SK_CHAT_TAKE_OVERFLOW, /* the cap was passed */
} sk_chat_take;

/* The owner takes what is queued, given its connection's sk_conn_pending:
 * above stall_at it leaves the bytes queued (and returns STALLED: the
 * connection's on_drain must call again). */
sk_chat_take sk_chat_mailbox_take(sk_chat_mailbox *mb, size_t pending, size_t stall_at,
                                  char **data, size_t *len);

/* The owner wrote the bytes that sk_chat_mailbox_take gave it; pending is
 * sk_conn_pending after the write. */
void sk_chat_mailbox_written(sk_chat_mailbox *mb, char *data, size_t pending);

#endif
