/* sk_conn_wake under the uring model: a per-ring list of connections to
 * wake, pushed by any thread under the ring's wake_lock. The connection's
 * wake_queued flag coalesces wakes: only the call that sets it pushes.
 * The push that finds the list empty writes the ring's eventfd, whose read
 * the ring keeps armed (URING_OP_WAKE); its completion takes the whole
 * list and runs the wakes on the ring's thread (uring_conns_wake). A
 * connection that finishes while on the list is freed by that pass, or by
 * uring_wake_fini when the ring ends first. */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "uring.h"

int uring_wake_init(uring_ring *r)
{
    r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->wake_fd < 0)
        return -errno;
    int rc = pthread_mutex_init(&r->wake_lock, NULL);
    if (rc != 0)
        return -rc;
    r->wake_lock_ready = true;
    return 0;
}

void uring_wake_fini(uring_ring *r)
{
    if (r->wake_lock_ready) {
        /* only finished connections can be left: the ring ended after them */
        for (uring_conn *c = uring_wake_take(r), *next; c; c = next) {
            next = c->wake_next;
            free(c);
        }
        pthread_mutex_destroy(&r->wake_lock);
        r->wake_lock_ready = false;
    }
    if (r->wake_fd >= 0)
        close(r->wake_fd);
    r->wake_fd = -1;
}

int uring_wake_push(uring_conn *c)
{
    if (atomic_exchange(&c->wake_queued, true))
        return 0; /* queued already: its on_wake has not run yet */
    uring_ring *r = c->ring;
    pthread_mutex_lock(&r->wake_lock);
    bool was_empty = !r->wake_head;
    c->wake_next = NULL;
    if (was_empty)
        r->wake_head = c;
    else
        r->wake_tail->wake_next = c;
    r->wake_tail = c;
    pthread_mutex_unlock(&r->wake_lock);
    if (was_empty) {
        uint64_t one = 1;
        ssize_t n;
        do
            n = write(r->wake_fd, &one, sizeof one);
        while (n < 0 && errno == EINTR);
        /* EAGAIN: the counter is full, so the ring wakes anyway */
    }
    return 0;
}

void uring_wake_arm(uring_ring *r)
{
    if (r->wake_armed)
        return;
    struct io_uring_sqe *sqe = uring_sqe(r);
    if (!sqe)
        return; /* tried again next turn */
    io_uring_prep_read(sqe, r->wake_fd, &r->wake_count, sizeof r->wake_count, 0);
    uring_sqe_tag(sqe, &r->wake_req);
    r->wake_armed = true;
}

uring_conn *uring_wake_take(uring_ring *r)
{
    pthread_mutex_lock(&r->wake_lock);
    uring_conn *head = r->wake_head;
    r->wake_head = r->wake_tail = NULL;
    pthread_mutex_unlock(&r->wake_lock);
    return head;
}
