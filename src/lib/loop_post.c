/* Cross-thread posts and stop: a FIFO of posts under a mutex, and the
 * loop's eventfd, written to wake the wait (write(2) on an eventfd and an
 * atomic store are async-signal-safe, so sk_loop_stop works in a signal
 * handler). */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "loop_internal.h"

struct sk_post {
    sk_post *next;
    void (*fn)(sk_loop *loop, void *arg);
    void *arg;
};

/* Make the eventfd readable. Keeps errno, as a signal handler must. */
static void wake(sk_loop *loop)
{
    int saved = errno;
    uint64_t one = 1;
    ssize_t rc;
    do /* EAGAIN: the counter is huge, so the loop will wake anyway */
        rc = write(loop->wake.fd, &one, sizeof one);
    while (rc < 0 && errno == EINTR);
    errno = saved;
}

void sk_loop_wake_cb(sk_loop *loop, sk_io *io, unsigned events)
{
    (void)events;
    uint64_t count;
    while (read(io->fd, &count, sizeof count) < 0 && errno == EINTR)
        continue;
    loop->post_woken = true;
}

int sk_loop_post(sk_loop *loop, void (*fn)(sk_loop *loop, void *arg), void *arg)
{
    sk_post *p = malloc(sizeof *p);
    if (!p)
        return -ENOMEM;
    *p = (sk_post){NULL, fn, arg};
    pthread_mutex_lock(&loop->post_lock);
    if (loop->post_tail)
        loop->post_tail->next = p;
    else
        loop->post_head = p;
    loop->post_tail = p;
    pthread_mutex_unlock(&loop->post_lock);
    wake(loop);
    return 0;
}

static sk_post *take_posts(sk_loop *loop)
{
    pthread_mutex_lock(&loop->post_lock);
    sk_post *list = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    pthread_mutex_unlock(&loop->post_lock);
    return list;
}

void sk_loop_run_posts(sk_loop *loop)
{
    if (!loop->post_woken)
        return;
    loop->post_woken = false;
    for (sk_post *p = take_posts(loop), *next; p; p = next) {
        next = p->next;
        p->fn(loop, p->arg);
        free(p);
    }
}

void sk_loop_stop(sk_loop *loop)
{
    atomic_store(&loop->stop, true);
    wake(loop);
}

void sk_loop_posts_free(sk_loop *loop)
{
    for (sk_post *p = take_posts(loop), *next; p; p = next) {
        next = p->next;
        free(p);
    }
}
