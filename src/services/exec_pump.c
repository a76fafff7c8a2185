/* The pump thread of a running command: poll() on the child's pipes, its
 * pidfd and the session's eventfd; move bytes between the pipes and the
 * bounded queues (a full output queue stops the reading, so a fast child
 * blocks on its pipe); enforce the timeout; kill and reap the process
 * group. It wakes the connection's thread with sk_conn_wake when there is
 * output, room for stdin, or the result. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_session.h"

/* Poll step while waiting for an exit without a pidfd, ms. */
#define EXIT_POLL_MS 20

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Whether the group leader has exited (left as a zombie: its pid, the
 * group's id, stays reserved until it is reaped). */
static bool leader_exited(exec_session *s, short pidfd_events)
{
    if (s->child.pidfd >= 0)
        return pidfd_events & POLLIN;
    siginfo_t si = {0};
    return waitid(P_PID, (id_t)s->child.pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           si.si_pid != 0;
}

static void drain_eventfd(exec_session *s)
{
    uint64_t v;
    while (read(s->pump_wake, &v, sizeof v) > 0) {
    }
}

/* One of the child's output pipes is readable: into its queue. */
static void pump_output(exec_session *s, int *fd, sk_exec_ring *r, uint8_t *buf)
{
    pthread_mutex_lock(&s->mu);
    size_t room = sk_exec_ring_room(r);
    pthread_mutex_unlock(&s->mu);
    if (room == 0)
        return;
    ssize_t n = read(*fd, buf, room < SK_EXEC_CHUNK_MAX ? room : SK_EXEC_CHUNK_MAX);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* EOF (or an error): the command is over once both are */
        close_fd(fd);
        return;
    }
    pthread_mutex_lock(&s->mu);
    sk_exec_ring_push(r, buf, (size_t)n);
    s->bytes_out += (uint64_t)n;
    exec_session_post_wake(s);
    pthread_mutex_unlock(&s->mu);
}

/* The child's stdin is closed (EOF, or the child closed its end): queued
 * and later stdin is dropped; a connection waiting for room goes on. */
static void close_stdin(exec_session *s)
{
    close_fd(&s->child.in_fd);
    pthread_mutex_lock(&s->mu);
    s->in_closed = true;
    sk_exec_ring_clear(&s->in);
    if (s->want_room) {
        s->want_room = false;
        exec_session_post_wake(s);
    }
    pthread_mutex_unlock(&s->mu);
}

/* The child's stdin is writable: from the queue. */
static void pump_input(exec_session *s, uint8_t *buf)
{
    pthread_mutex_lock(&s->mu);
    size_t k = sk_exec_ring_peek(&s->in, buf, SK_EXEC_CHUNK_MAX);
    pthread_mutex_unlock(&s->mu);
    ssize_t n = k ? write(s->child.in_fd, buf, k) : 0;
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        close_stdin(s); /* EPIPE: the child does not read its stdin any more */
        return;
    }
    if (n <= 0)
        return;
    pthread_mutex_lock(&s->mu);
    sk_exec_ring_drop(&s->in, (size_t)n);
    if (s->want_room && sk_exec_ring_room(&s->in) >= SK_EXEC_CHUNK_MAX) {
        s->want_room = false;
        exec_session_post_wake(s);
    }
    pthread_mutex_unlock(&s->mu);
}

/* The request's timeout: SIGTERM to the group, SIGKILL after the grace
 * period. Returns the poll timeout until the next step, ms (-1: none). */
static int enforce_timeout(exec_session *s, int64_t *kill_at)
{
    int64_t now = exec_now_ms();
    if (s->deadline_ms && !*kill_at && now >= s->deadline_ms) {
        pthread_mutex_lock(&s->mu);
        bool first = !s->timed_out;
        s->timed_out = true;
        pthread_mutex_unlock(&s->mu);
        if (first) {
            kill(-s->child.pid, SIGTERM);
            *kill_at = now + s->cfg->grace_ms;
        }
    }
    if (*kill_at && now >= *kill_at) {
        kill(-s->child.pid, SIGKILL);
        *kill_at = -1; /* done: no more steps */
    }
    int64_t next = *kill_at > 0 ? *kill_at : (s->deadline_ms && !*kill_at ? s->deadline_ms : -1);
    if (next < 0)
        return -1;
    int64_t wait = next - now;
    return wait <= 0 ? 0 : wait > 3600000 ? 3600000 : (int)wait; /* re-checked hourly */
}

/* Reap the leader after killing what is left of its group (the leader
 * is a zombie or dying, so the group id cannot have been reused). */
static void reap(exec_session *s)
{
    int status = 0;
    kill(-s->child.pid, SIGKILL);
    while (waitpid(s->child.pid, &status, 0) < 0 && errno == EINTR) {
    }
    pthread_mutex_lock(&s->mu);
    s->status = status;
    s->finished = true;
    exec_session_post_wake(s);
    pthread_mutex_unlock(&s->mu);
}

/* The connection is gone while the command runs: close its pipes, SIGTERM
 * the group, wait for the leader up to the grace period, then reap. */
static void end_command(exec_session *s)
{
    close_fd(&s->child.in_fd);
    close_fd(&s->child.out_fd);
    close_fd(&s->child.err_fd);
    if (!s->exited) {
        pthread_mutex_lock(&s->mu);
        s->abandoned = true;
        pthread_mutex_unlock(&s->mu);
        kill(-s->child.pid, SIGTERM);
        int64_t until = exec_now_ms() + s->cfg->grace_ms;
        while (!s->exited && exec_now_ms() < until) {
            struct pollfd p = {.fd = s->child.pidfd, .events = POLLIN};
            int ms = s->child.pidfd >= 0 ? (int)(until - exec_now_ms()) : EXIT_POLL_MS;
            int n = poll(&p, s->child.pidfd >= 0 ? 1 : 0, ms > 0 ? ms : 0);
            s->exited = leader_exited(s, n > 0 ? p.revents : 0);
        }
    }
    reap(s);
}

/* The descriptors to poll this round (idx: where stdout, stderr, stdin and
 * the pidfd are in p, -1 when absent); closes stdin once its EOF is due. */
static void plan_poll(exec_session *s, struct pollfd *p, int *n, int *idx)
{
    pthread_mutex_lock(&s->mu);
    if (s->in_eof && !s->in_closed && !sk_exec_ring_used(&s->in)) {
        pthread_mutex_unlock(&s->mu);
        close_stdin(s);
        pthread_mutex_lock(&s->mu);
    }
    bool out_room = sk_exec_ring_room(&s->out) > 0, err_room = sk_exec_ring_room(&s->err) > 0;
    bool in_data = sk_exec_ring_used(&s->in) > 0;
    if ((s->child.out_fd >= 0 && !out_room) || (s->child.err_fd >= 0 && !err_room))
        s->out_full = true;
    pthread_mutex_unlock(&s->mu);
    *n = 0;
    p[(*n)++] = (struct pollfd){.fd = s->pump_wake, .events = POLLIN};
    idx[0] = idx[1] = idx[2] = idx[3] = -1;
    if (s->child.out_fd >= 0 && out_room)
        idx[0] = *n, p[(*n)++] = (struct pollfd){.fd = s->child.out_fd, .events = POLLIN};
    if (s->child.err_fd >= 0 && err_room)
        idx[1] = *n, p[(*n)++] = (struct pollfd){.fd = s->child.err_fd, .events = POLLIN};
    if (s->child.in_fd >= 0 && in_data)
        idx[2] = *n, p[(*n)++] = (struct pollfd){.fd = s->child.in_fd, .events = POLLOUT};
    if (!s->exited && s->child.pidfd >= 0)
        idx[3] = *n, p[(*n)++] = (struct pollfd){.fd = s->child.pidfd, .events = POLLIN};
}

static bool stopping(exec_session *s)
{
    pthread_mutex_lock(&s->mu);
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* One round: wait, then move what is ready. */
static void pump_once(exec_session *s, uint8_t *buf, int64_t *kill_at)
{
    struct pollfd p[5];
    int n, idx[4];
    plan_poll(s, p, &n, idx);
    int timeout = enforce_timeout(s, kill_at);
    if (!s->exited && s->child.pidfd < 0 && (timeout < 0 || timeout > EXIT_POLL_MS))
        timeout = EXIT_POLL_MS;
    if (poll(p, (nfds_t)n, timeout) < 0)
        return; /* EINTR (signals are blocked here, but be safe) */
    if (p[0].revents)
        drain_eventfd(s);
    if (idx[0] >= 0 && p[idx[0]].revents)
        pump_output(s, &s->child.out_fd, &s->out, buf);
    if (idx[1] >= 0 && p[idx[1]].revents)
        pump_output(s, &s->child.err_fd, &s->err, buf);
    if (idx[2] >= 0 && p[idx[2]].revents)
        pump_input(s, buf);
    if (!s->exited)
        s->exited = leader_exited(s, idx[3] >= 0 ? p[idx[3]].revents : 0);
}

void *exec_pump_main(void *arg)
{
    exec_session *s = arg;
    uint8_t *buf = malloc(SK_EXEC_CHUNK_MAX);
    int64_t kill_at = 0;
    while (buf && !stopping(s) &&
           !(s->exited && s->child.out_fd < 0 && s->child.err_fd < 0))
        pump_once(s, buf, &kill_at);
    free(buf);
    if (s->exited && s->child.out_fd < 0 && s->child.err_fd < 0 && !stopping(s)) {
        close_fd(&s->child.in_fd);
        reap(s);
    } else {
        end_command(s);
    }
    exec_audit_log(s);
    exec_session_pump_done(s);
    return NULL;
}
