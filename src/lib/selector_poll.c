/* The poll selector backend (POSIX): a pollfd array plus an fd -> index
 * map; removal swaps the last entry into the hole. O(registered) per wait.
 * Scanning for ready entries starts where the previous wait stopped, so
 * with more ready fds than room in the output, none is starved. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "selector_backend.h"

typedef struct sk_poll {
    struct pollfd *fds;
    int len, cap;
    int *index_of;   /* fd -> position in fds; valid for registered fds */
    int index_len;
    int cursor;      /* where the next scan for ready entries starts */
} sk_poll;

static int poll_open(void **state)
{
    sk_poll *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    *state = p;
    return 0;
}

/* Grow the pollfd array for one more entry and the map to index fd. */
static int poll_reserve(sk_poll *p, int fd)
{
    if (p->len == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        struct pollfd *fds = realloc(p->fds, (size_t)cap * sizeof *fds);
        if (!fds)
            return -ENOMEM;
        p->fds = fds;
        p->cap = cap;
    }
    if (fd >= p->index_len) {
        int len = p->index_len ? p->index_len : 64;
        while (len <= fd)
            len *= 2;
        int *index_of = realloc(p->index_of, (size_t)len * sizeof *index_of);
        if (!index_of)
            return -ENOMEM;
        p->index_of = index_of;
        p->index_len = len;
    }
    return 0;
}

static int poll_add(void *state, int fd, unsigned events)
{
    sk_poll *p = state;
    int rc = poll_reserve(p, fd);
    if (rc < 0)
        return rc;
    p->index_of[fd] = p->len;
    p->fds[p->len++] = (struct pollfd){.fd = fd, .events = (short)events};
    return 0;
}

static int poll_modify(void *state, int fd, unsigned old_events, unsigned events)
{
    sk_poll *p = state;
    (void)old_events;
    p->fds[p->index_of[fd]].events = (short)events;
    return 0;
}

static void poll_remove(void *state, int fd, unsigned old_events)
{
    sk_poll *p = state;
    (void)old_events;
    int i = p->index_of[fd];
    p->fds[i] = p->fds[--p->len]; /* swap-remove: the last entry fills the hole */
    p->index_of[p->fds[i].fd] = i;
}

/* revents -> SK_POLL* (POLLNVAL, an fd closed behind our back, is an error). */
static unsigned from_revents(short revents)
{
    unsigned events = (unsigned)revents & (SK_POLLIN | SK_POLLOUT | SK_POLLERR | SK_POLLHUP);
    if (revents & POLLRDHUP)
        events |= SK_POLLIN;
    if (revents & POLLNVAL)
        events |= SK_POLLERR;
    return events;
}

static int poll_wait(void *state, sk_selector_event *out, int max, int timeout_ms)
{
    sk_poll *p = state;
    int ready = poll(p->fds, (nfds_t)p->len, timeout_ms);
    if (ready < 0)
        return errno == EINTR ? 0 : -errno;
    int n = 0;
    int start = p->cursor < p->len ? p->cursor : 0;
    for (int k = 0; k < p->len && n < ready && n < max; k++) {
        int i = (start + k) % p->len;
        if (!p->fds[i].revents)
            continue;
        out[n++] = (sk_selector_event){p->fds[i].fd, from_revents(p->fds[i].revents), NULL};
        p->cursor = i + 1;
    }
    return n;
}

static void poll_close(void *state)
{
    sk_poll *p = state;
    free(p->fds);
    free(p->index_of);
    free(p);
}

const sk_selector_ops sk_selector_poll_ops = {
    .open = poll_open,
    .add = poll_add,
    .modify = poll_modify,
    .remove = poll_remove,
    .wait = poll_wait,
    .close = poll_close,
};
