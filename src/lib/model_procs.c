/* The child processes of the fork and prefork models: forking with the
 * server made safe in the child, watching children through pidfds,
 * reaping them, and the SIGTERM / SIGKILL end of shutdown. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "model_procs.h"

enum { PROC_POLL_SPARE = 16 };

/* A pidfd (Linux 5.3) becomes readable when the process ends; it is
 * always close-on-exec. */
static int pidfd_open_for(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/* The supervisor's signal mask is the application's (sk serve blocks
 * SIGINT and SIGTERM in every thread and waits for them with sigwait). */
static void child_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the child, a copy of the supervisor thread alone: no other thread
 * holds the lock here, whatever the parent's threads were doing. */
static void child_prepare(sk_server *srv, sk_proc *self, pid_t parent, bool keep_listeners)
{
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->idle, NULL);
    child_signals();
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
        _exit(1); /* the supervisor is already gone */
    for (sk_active *a = srv->active; a; a = a->next) {
        sk_proc *other = (sk_proc *)a;
        if (other == self)
            continue;
        if (other->pidfd >= 0)
            close(other->pidfd);
        sk_sock_close(&other->active.sock);
    }
    for (size_t i = 0; i < srv->nlisteners; i++) {
        sk_listener *l = &srv->listeners[i];
        if (!keep_listeners || l->sock.type != SOCK_STREAM)
            sk_sock_close(&l->sock);
    }
    if (!keep_listeners) {
        close(srv->stop_fd);
        srv->stop_fd = -1;
    }
}

int sk_proc_spawn(sk_server *srv, sk_proc *p, int (*body)(sk_proc *p, void *arg), void *arg,
                  bool keep_listeners)
{
    p->pidfd = -1;
    p->slot = -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        child_prepare(srv, p, parent, keep_listeners);
        int status = body(p, arg);
        sk_server_stop_services(srv); /* what outlives connections, in this process */
        _exit(status); /* never the parent's exit path or atexit handlers */
    }
    pthread_mutex_lock(&srv->lock);
    p->pid = pid;
    pthread_mutex_unlock(&srv->lock);
    p->started_ms = sk_monotonic_ms();
    p->pidfd = pidfd_open_for(pid);
    return 0;
}

int sk_proc_poll_init(sk_proc_poll *pp, size_t nfixed)
{
    pp->n = 0;
    pp->cap = nfixed + PROC_POLL_SPARE;
    pp->fds = calloc(pp->cap, sizeof *pp->fds);
    return pp->fds ? 0 : -ENOMEM;
}

void sk_proc_poll_free(sk_proc_poll *pp)
{
    free(pp->fds);
    pp->fds = NULL;
    pp->n = pp->cap = 0;
}

/* Only the supervisor (the caller) changes the list, so it may walk it
 * without the lock; the lock orders the reads against shutdown's. */
static sk_active *first_child(sk_server *srv, size_t *count)
{
    pthread_mutex_lock(&srv->lock);
    sk_active *a = srv->active;
    if (count)
        *count = srv->nactive;
    pthread_mutex_unlock(&srv->lock);
    return a;
}

size_t sk_proc_poll_build(sk_server *srv, sk_proc_poll *pp, const struct pollfd *fixed,
                          size_t nfixed, int *timeout_ms)
{
    size_t nchildren;
    sk_active *a = first_child(srv, &nchildren);
    size_t want = nfixed + nchildren;
    if (want > pp->cap) {
        struct pollfd *grown = realloc(pp->fds, (want + PROC_POLL_SPARE) * sizeof *grown);
        if (grown) {
            pp->fds = grown;
            pp->cap = want + PROC_POLL_SPARE;
        }
    }
    memcpy(pp->fds, fixed, nfixed * sizeof *fixed);
    pp->n = nfixed;
    bool unwatched = false;
    for (; a; a = a->next) {
        sk_proc *p = (sk_proc *)a;
        p->slot = -1;
        if (p->pidfd >= 0 && pp->n < pp->cap) {
            p->slot = (int)pp->n;
            pp->fds[pp->n++] = (struct pollfd){.fd = p->pidfd, .events = POLLIN};
        } else {
            unwatched = true;
        }
    }
    if (unwatched && (*timeout_ms < 0 || *timeout_ms > SK_PROC_CHECK_MS))
        *timeout_ms = SK_PROC_CHECK_MS;
    return nchildren;
}

static bool proc_ended(const sk_proc *p, const sk_proc_poll *pp)
{
    if (p->slot >= 0 && (size_t)p->slot < pp->n)
        return pp->fds[p->slot].revents != 0;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == p->pid;
}

int sk_procs_reap(sk_server *srv, const sk_proc_poll *pp,
                  void (*ended)(sk_proc *p, int status, void *arg), void *arg)
{
    int reaped = 0;
    sk_active *next;
    for (sk_active *a = first_child(srv, NULL); a; a = next) {
        next = a->next;
        sk_proc *p = (sk_proc *)a;
        if (p->pid <= 0 || !proc_ended(p, pp))
            continue;
        sk_server_untrack(srv, a); /* first: a zombie's pid cannot be reused */
        int status = 0;
        while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (p->pidfd >= 0)
            close(p->pidfd);
        ended(p, status, arg);
        free(p);
        reaped++;
    }
    return reaped;
}

void sk_proc_describe_end(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else
        snprintf(buf, len, "exited");
}

int sk_procs_start_datagram(sk_server *srv)
{
    for (size_t i = 0; i < srv->nlisteners; i++) {
        sk_listener *l = &srv->listeners[i];
        if (l->sock.type != SOCK_DGRAM)
            continue;
        int rc = pthread_create(&l->thread, NULL, sk_serve_datagram_loop, l);
        if (rc != 0)
            return -rc;
        l->thread_started = true;
    }
    return 0;
}

/* With the lock held: signal every forked child. A tracked child is not
 * reaped yet, so its pid is still its own. Returns how many children
 * were signalled for the first time. */
static int signal_children(sk_server *srv, int sig)
{
    int first = 0;
    for (sk_active *a = srv->active; a; a = a->next) {
        sk_proc *p = (sk_proc *)a;
        if (p->pid <= 0)
            continue;
        kill(p->pid, sig);
        if (!p->signalled)
            first++;
        p->signalled = true;
    }
    return first;
}

int sk_procs_drain(sk_server *srv, int grace_ms)
{
    int forced = 0;
    pthread_mutex_lock(&srv->lock);
    sk_server_wait_idle(srv, sk_deadline_from_timeout(grace_ms < 0 ? 0 : grace_ms));
    int64_t kill_at = sk_deadline_from_timeout(SK_PROC_TERM_MS);
    while (srv->nactive > 0) {
        /* Again every SK_PROC_CHECK_MS: a child forked meanwhile is caught too. */
        forced += signal_children(srv, sk_deadline_remaining(kill_at) > 0 ? SIGTERM : SIGKILL);
        sk_server_wait_idle(srv, sk_deadline_from_timeout(SK_PROC_CHECK_MS));
    }
    pthread_mutex_unlock(&srv->lock);
    return forced;
}
