/* Signals through the event loop: one signalfd per sk_signal, with the
 * signal blocked (pthread_sigmask) in the calling thread so it is queued
 * for the signalfd instead of running a handler. */
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "loop_internal.h"

/* Records read per read(2). */
#define SK_SIGNAL_BATCH 16

/* The signalfd is readable: one callback per queued siginfo record. */
static void signal_io_cb(sk_loop *loop, sk_io *io, unsigned events)
{
    sk_signal *sig = io->data;
    (void)events;
    struct signalfd_siginfo info[SK_SIGNAL_BATCH];
    while (sig->io.active) {
        ssize_t n = read(sig->io.fd, info, sizeof info);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* EAGAIN: all records read */
        size_t records = (size_t)n / sizeof info[0];
        for (size_t i = 0; i < records && sig->io.active; i++)
            sig->cb(loop, sig, (int)info[i].ssi_signo);
    }
}

int sk_signal_start(sk_loop *loop, sk_signal *sig, int signum, sk_signal_cb cb, void *data)
{
    if (signum <= 0 || signum >= NSIG || signum == SIGKILL || signum == SIGSTOP)
        return -EINVAL;
    sigset_t mask;
    sigemptyset(&mask);
    if (sigaddset(&mask, signum) < 0)
        return -EINVAL;
    int rc = pthread_sigmask(SIG_BLOCK, &mask, NULL);
    if (rc != 0)
        return -rc;
    int fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return -errno;
    sig->signum = signum;
    sig->cb = cb;
    sig->data = data;
    sk_io_init(&sig->io, fd, signal_io_cb, sig);
    rc = sk_io_start(loop, &sig->io, SK_POLLIN);
    if (rc < 0) {
        close(fd);
        sig->io.fd = -1;
    }
    return rc;
}

void sk_signal_stop(sk_loop *loop, sk_signal *sig)
{
    if (!sig->io.active)
        return;
    sk_io_stop(loop, &sig->io);
    close(sig->io.fd);
    sig->io.fd = -1;
}
