/* The epoll selector backend (Linux): level-triggered, data.fd = fd.
 * O(ready) per wait. A registration with events 0 stays in the epoll set
 * (EPOLL_CTL_MOD with no events): the kernel then still reports errors and
 * hang-ups, as poll(2) does for a pollfd with events 0. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "selector_backend.h"

typedef struct sk_epoll {
    int epfd;
    struct epoll_event *ready; /* epoll_wait's output, grown to max */
    int ready_len;
} sk_epoll;

static int epoll_open(void **state)
{
    sk_epoll *ep = calloc(1, sizeof *ep);
    if (!ep)
        return -ENOMEM;
    ep->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (ep->epfd < 0) {
        int err = errno;
        free(ep);
        return -err;
    }
    *state = ep;
    return 0;
}

/* SK_POLL* asked for -> EPOLL* (RDHUP with IN, so a half-close is seen). */
static uint32_t to_epoll(unsigned events)
{
    uint32_t e = 0;
    if (events & SK_POLLIN)
        e |= EPOLLIN | EPOLLRDHUP;
    if (events & SK_POLLOUT)
        e |= EPOLLOUT;
    return e;
}

/* EPOLL* ready -> SK_POLL* (RDHUP reads as IN: the read sees EOF). */
static unsigned from_epoll(uint32_t e)
{
    unsigned events = 0;
    if (e & (EPOLLIN | EPOLLRDHUP | EPOLLPRI))
        events |= SK_POLLIN;
    if (e & EPOLLOUT)
        events |= SK_POLLOUT;
    if (e & EPOLLERR)
        events |= SK_POLLERR;
    if (e & EPOLLHUP)
        events |= SK_POLLHUP;
    return events;
}

static int epoll_control(sk_epoll *ep, int op, int fd, unsigned events)
{
    struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
    return epoll_ctl(ep->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

static int epoll_add(void *state, int fd, unsigned events)
{
    int rc = epoll_control(state, EPOLL_CTL_ADD, fd, events);
    /* EPERM: a regular file or directory, which epoll cannot watch. */
    return rc == -EPERM ? -EINVAL : rc;
}

static int epoll_modify(void *state, int fd, unsigned old_events, unsigned events)
{
    (void)old_events;
    return epoll_control(state, EPOLL_CTL_MOD, fd, events);
}

static void epoll_remove(void *state, int fd, unsigned old_events)
{
    (void)old_events;
    /* Fails only when fd was already closed, which removed it anyway. */
    (void)epoll_control(state, EPOLL_CTL_DEL, fd, 0);
}

static int epoll_wait_ready(void *state, sk_selector_event *out, int max, int timeout_ms)
{
    sk_epoll *ep = state;
    if (max > ep->ready_len) {
        struct epoll_event *ready = realloc(ep->ready, (size_t)max * sizeof *ready);
        if (!ready)
            return -ENOMEM;
        ep->ready = ready;
        ep->ready_len = max;
    }
    int n = epoll_wait(ep->epfd, ep->ready, max, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        out[i].fd = ep->ready[i].data.fd;
        out[i].events = from_epoll(ep->ready[i].events);
        out[i].data = NULL;
    }
    return n;
}

static void epoll_close(void *state)
{
    sk_epoll *ep = state;
    close(ep->epfd);
    free(ep->ready);
    free(ep);
}

const sk_selector_ops sk_selector_epoll_ops = {
    .open = epoll_open,
    .add = epoll_add,
    .modify = epoll_modify,
    .remove = epoll_remove,
    .wait = epoll_wait_ready,
    .close = epoll_close,
};
