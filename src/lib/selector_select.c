/* The select selector backend (POSIX): two fd_sets and the highest fd.
 * O(highest fd) per wait. An fd_set holds only fds below FD_SETSIZE, so a
 * larger fd is refused with -EINVAL before any fd_set is touched (FD_SET
 * past the end would corrupt memory). Scanning for ready fds starts where
 * the previous wait stopped, so none is starved. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/select.h>

#include "selector_backend.h"

typedef struct sk_select {
    fd_set readers, writers;
    int maxfd;   /* highest fd in either set, -1 when both are empty */
    int cursor;  /* where the next scan for ready fds starts */
} sk_select;

static int select_open(void **state)
{
    sk_select *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    FD_ZERO(&s->readers);
    FD_ZERO(&s->writers);
    s->maxfd = -1;
    *state = s;
    return 0;
}

static bool select_watched(const sk_select *s, int fd)
{
    return FD_ISSET(fd, &s->readers) || FD_ISSET(fd, &s->writers);
}

/* Put fd in the sets its events ask for, and take it out of the others. */
static void select_set(sk_select *s, int fd, unsigned events)
{
    if (events & SK_POLLIN)
        FD_SET(fd, &s->readers);
    else
        FD_CLR(fd, &s->readers);
    if (events & SK_POLLOUT)
        FD_SET(fd, &s->writers);
    else
        FD_CLR(fd, &s->writers);
    if (events && fd > s->maxfd)
        s->maxfd = fd;
    while (s->maxfd >= 0 && !select_watched(s, s->maxfd))
        s->maxfd--;
}

static int select_add(void *state, int fd, unsigned events)
{
    if (fd >= FD_SETSIZE)
        return -EINVAL; /* checked before any FD_SET */
    select_set(state, fd, events);
    return 0;
}

static int select_modify(void *state, int fd, unsigned old_events, unsigned events)
{
    (void)old_events;
    if (fd >= FD_SETSIZE)
        return -EINVAL; /* never registered by add; kept for safety */
    select_set(state, fd, events);
    return 0;
}

static void select_remove(void *state, int fd, unsigned old_events)
{
    (void)old_events;
    if (fd < FD_SETSIZE)
        select_set(state, fd, 0);
}

static int select_wait(void *state, sk_selector_event *out, int max, int timeout_ms)
{
    sk_select *s = state;
    fd_set readable = s->readers, writable = s->writers;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int ready = select(s->maxfd + 1, &readable, &writable, NULL, timeout_ms < 0 ? NULL : &tv);
    if (ready < 0)
        return errno == EINTR ? 0 : -errno;
    int n = 0, nfds = s->maxfd + 1;
    int start = s->cursor < nfds ? s->cursor : 0;
    for (int k = 0; k < nfds && ready > 0 && n < max; k++) {
        int fd = (start + k) % nfds;
        unsigned events = 0;
        if (FD_ISSET(fd, &readable))
            events |= SK_POLLIN, ready--;
        if (FD_ISSET(fd, &writable))
            events |= SK_POLLOUT, ready--;
        if (!events)
            continue;
        out[n++] = (sk_selector_event){fd, events, NULL};
        s->cursor = fd + 1;
    }
    return n;
}

static void select_close(void *state)
{
    free(state);
}

const sk_selector_ops sk_selector_select_ops = {
    .open = select_open,
    .add = select_add,
    .modify = select_modify,
    .remove = select_remove,
    .wait = select_wait,
    .close = select_close,
};
