/* Selectors (see sockkit/selector.h): backend choice, and the per-fd
 * registration table shared by every backend — indexed by fd and grown on
 * demand, like the events array of Redis's ae.c. */
#include "sockkit/selector.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "selector_backend.h"

#define SK_SELECTOR_WATCHABLE (SK_POLLIN | SK_POLLOUT)

typedef struct sk_registration {
    unsigned events;     /* SK_POLLIN / SK_POLLOUT asked for */
    bool registered;
    void *data;
} sk_registration;

struct sk_selector {
    sk_selector_backend backend;
    const sk_selector_ops *ops;
    void *state;              /* the backend's */
    sk_registration *regs;    /* indexed by fd */
    int regs_len;
    int count;                /* registered fds */
};

static const struct {
    const char *name;
    const sk_selector_ops *ops;
} sk_backends[] = {
    [SK_SELECTOR_EPOLL] = {"epoll", &sk_selector_epoll_ops},
    [SK_SELECTOR_POLL] = {"poll", &sk_selector_poll_ops},
    [SK_SELECTOR_SELECT] = {"select", &sk_selector_select_ops},
};

#define SK_BACKEND_COUNT ((int)(sizeof sk_backends / sizeof sk_backends[0]))

static bool backend_valid(sk_selector_backend backend)
{
    return (int)backend >= 0 && (int)backend < SK_BACKEND_COUNT;
}

sk_selector_backend sk_selector_default(void)
{
    return SK_SELECTOR_EPOLL;
}

const char *sk_selector_backend_name(sk_selector_backend backend)
{
    return backend_valid(backend) ? sk_backends[backend].name : "unknown";
}

int sk_selector_backend_parse(const char *name, sk_selector_backend *out)
{
    for (int i = 0; name && i < SK_BACKEND_COUNT; i++) {
        if (!strcmp(name, sk_backends[i].name)) {
            *out = (sk_selector_backend)i;
            return 0;
        }
    }
    return -EINVAL;
}

int sk_selector_open(sk_selector **out, sk_selector_backend backend)
{
    if (!backend_valid(backend))
        return -EINVAL;
    sk_selector *sel = calloc(1, sizeof *sel);
    if (!sel)
        return -ENOMEM;
    sel->backend = backend;
    sel->ops = sk_backends[backend].ops;
    int rc = sel->ops->open(&sel->state);
    if (rc < 0) {
        free(sel);
        return rc;
    }
    *out = sel;
    return 0;
}

sk_selector_backend sk_selector_backend_of(const sk_selector *sel)
{
    return sel->backend;
}

/* The registration of fd, or NULL when fd is not registered. */
static sk_registration *registration(const sk_selector *sel, int fd)
{
    if (fd < 0 || fd >= sel->regs_len || !sel->regs[fd].registered)
        return NULL;
    return &sel->regs[fd];
}

/* Make the table long enough to index fd (doubling). */
static int table_reserve(sk_selector *sel, int fd)
{
    if (fd < sel->regs_len)
        return 0;
    size_t len = sel->regs_len ? (size_t)sel->regs_len : 64;
    while (len <= (size_t)fd)
        len *= 2;
    sk_registration *regs = realloc(sel->regs, len * sizeof *regs);
    if (!regs)
        return -ENOMEM;
    memset(regs + sel->regs_len, 0, (len - (size_t)sel->regs_len) * sizeof *regs);
    sel->regs = regs;
    sel->regs_len = (int)len;
    return 0;
}

int sk_selector_add(sk_selector *sel, int fd, unsigned events, void *data)
{
    if (fd < 0)
        return -EBADF;
    if (registration(sel, fd))
        return -EEXIST;
    events &= SK_SELECTOR_WATCHABLE;
    int rc = table_reserve(sel, fd);
    if (rc == 0)
        rc = sel->ops->add(sel->state, fd, events);
    if (rc < 0)
        return rc;
    sel->regs[fd] = (sk_registration){events, true, data};
    sel->count++;
    return 0;
}

int sk_selector_modify(sk_selector *sel, int fd, unsigned events, void *data)
{
    sk_registration *reg = registration(sel, fd);
    if (!reg)
        return -ENOENT;
    events &= SK_SELECTOR_WATCHABLE;
    if (events != reg->events) { /* unchanged events: no system call */
        int rc = sel->ops->modify(sel->state, fd, reg->events, events);
        if (rc < 0)
            return rc;
        reg->events = events;
    }
    reg->data = data;
    return 0;
}

int sk_selector_remove(sk_selector *sel, int fd)
{
    sk_registration *reg = registration(sel, fd);
    if (!reg)
        return -ENOENT;
    sel->ops->remove(sel->state, fd, reg->events);
    *reg = (sk_registration){0};
    sel->count--;
    return 0;
}

int sk_selector_wait(sk_selector *sel, sk_selector_event *events, int max, int timeout_ms)
{
    if (!events || max <= 0)
        return -EINVAL;
    int n = sel->ops->wait(sel->state, events, max, timeout_ms);
    if (n <= 0)
        return n;
    /* Attach the data; keep only what was asked for (plus errors). */
    int kept = 0;
    for (int i = 0; i < n; i++) {
        sk_registration *reg = registration(sel, events[i].fd);
        if (!reg)
            continue;
        unsigned ready = events[i].events & (reg->events | SK_POLLERR | SK_POLLHUP);
        if (!ready)
            continue;
        events[kept++] = (sk_selector_event){events[i].fd, ready, reg->data};
    }
    return kept;
}

int sk_selector_count(const sk_selector *sel)
{
    return sel->count;
}

void sk_selector_close(sk_selector *sel)
{
    if (!sel)
        return;
    sel->ops->close(sel->state);
    free(sel->regs);
    free(sel);
}
