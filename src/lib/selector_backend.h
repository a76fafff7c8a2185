/* The interface every selector backend implements (selector_epoll.c,
 * selector_poll.c, selector_select.c), in the manner of Redis's ae_*.c.
 *
 * selector.c owns the per-fd registration table (events, data) and calls a
 * backend only to change what the kernel watches and to wait. A backend
 * keeps its own state behind a void pointer; it never sees user data.
 * Events are SK_POLLIN / SK_POLLOUT (0 is allowed: watch nothing).
 */
#ifndef SOCKKIT_SELECTOR_BACKEND_H
#define SOCKKIT_SELECTOR_BACKEND_H

#include <stdint.h>

#include "sockkit/selector.h"

typedef struct sk_selector_ops {
    /* Create the backend state. Returns 0 and sets *state, or -errno. */
    int (*open)(void **state);
    /* Start watching fd (not yet registered) for events. */
    int (*add)(void *state, int fd, unsigned events);
    /* Change a registered fd's events from old_events (never equal). */
    int (*modify)(void *state, int fd, unsigned old_events, unsigned events);
    /* Stop watching a registered fd. Always succeeds. */
    void (*remove)(void *state, int fd, unsigned old_events);
    /* Wait; fill out[i].fd and out[i].events (SK_POLL* bits; .data is
     * filled by selector.c). Returns the count, 0 on timeout or EINTR,
     * or -errno. */
    int (*wait)(void *state, sk_selector_event *out, int max, int timeout_ms);
    /* Free the state. */
    void (*close)(void *state);
} sk_selector_ops;

extern const sk_selector_ops sk_selector_epoll_ops;
extern const sk_selector_ops sk_selector_poll_ops;
extern const sk_selector_ops sk_selector_select_ops;

#endif
