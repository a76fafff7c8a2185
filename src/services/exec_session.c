/* A running command as the connection's thread sees it: start, output to
 * take, stdin to give, the result, and the end. The pump thread's side is
 * exec_pump.c. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_session.h"

int64_t exec_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void session_free(exec_session *s)
{
    sk_exec_child_close_fds(&s->child);
    if (s->pump_wake >= 0)
        close(s->pump_wake);
    sk_exec_ring_free(&s->out);
    sk_exec_ring_free(&s->err);
    sk_exec_ring_free(&s->in);
    free(s->what);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static exec_session *session_new(const sk_exec_config *cfg, sk_conn *c, char *const *argv)
{
    exec_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = cfg;
    s->conn = c;
    s->child = (sk_exec_child){.pid = -1, .pidfd = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1};
    s->pump_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&s->mu, NULL);
    snprintf(s->peer, sizeof s->peer, "%s", sk_conn_peer(c));
    s->what = exec_audit_command(argv);
    if (s->pump_wake < 0 || !s->what || sk_exec_ring_init(&s->out, SK_EXEC_OUT_QUEUE) < 0 ||
        sk_exec_ring_init(&s->err, SK_EXEC_ERR_QUEUE) < 0 ||
        sk_exec_ring_init(&s->in, SK_EXEC_IN_QUEUE) < 0) {
        session_free(s);
        return NULL;
    }
    return s;
}

/* Start the pump thread with every signal blocked (a SIGPIPE from a
 * child's closed stdin must never reach the process). */
static int start_thread(exec_session *s)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, exec_pump_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -rc;
}

int exec_session_start(const sk_exec_config *cfg, sk_conn *c, const char *program,
                       char *const *argv, char *const *envp, const char *cwd,
                       uint32_t timeout_ms, exec_session **out)
{
    exec_session *s = session_new(cfg, c, argv);
    if (!s)
        return -ENOMEM;
    clock_gettime(CLOCK_MONOTONIC, &s->started);
    if (timeout_ms)
        s->deadline_ms = exec_now_ms() + timeout_ms;
    int rc = sk_exec_spawn(program, argv, envp, cwd, &s->child);
    if (rc == 0 && (rc = start_thread(s)) < 0) {
        kill(-s->child.pid, SIGKILL);
        while (waitpid(s->child.pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    if (rc < 0) {
        session_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void exec_session_kick(exec_session *s)
{
    uint64_t one = 1;
    ssize_t n;
    do /* EAGAIN: the counter is huge, the pump wakes anyway */
        n = write(s->pump_wake, &one, sizeof one);
    while (n < 0 && errno == EINTR);
}

void exec_session_stop(exec_session *s)
{
    pthread_t thread = s->thread;
    atomic_int *ending = s->cfg->ending;
    pthread_mutex_lock(&s->mu);
    s->conn = NULL;
    s->stop = true;
    pthread_mutex_unlock(&s->mu);
    exec_session_kick(s);
    if (ending) {
        pthread_mutex_lock(&s->mu);
        s->owner_gone = !s->pump_done;
        if (s->owner_gone) /* counted before the pump can see it, and uncount it */
            atomic_fetch_add(ending, 1);
        bool gone = s->owner_gone;
        pthread_mutex_unlock(&s->mu);
        if (gone) {
            pthread_detach(thread); /* s belongs to the pump thread now */
            return;
        }
    }
    pthread_join(thread, NULL);
    session_free(s);
}

void exec_session_pump_done(exec_session *s)
{
    atomic_int *ending = s->cfg->ending;
    pthread_mutex_lock(&s->mu);
    s->pump_done = true;
    bool mine = s->owner_gone;
    pthread_mutex_unlock(&s->mu);
    if (mine) {
        session_free(s);
        atomic_fetch_sub(ending, 1);
    }
}

void exec_session_post_wake(exec_session *s)
{
    if (s->conn && !s->wake_posted) {
        s->wake_posted = true;
        sk_conn_wake(s->conn);
    }
}

void exec_session_woken(exec_session *s)
{
    pthread_mutex_lock(&s->mu);
    s->wake_posted = false;
    pthread_mutex_unlock(&s->mu);
}

size_t exec_session_take_output(exec_session *s, uint8_t *buf, size_t max, uint8_t *type)
{
    pthread_mutex_lock(&s->mu);
    sk_exec_ring *r = sk_exec_ring_used(&s->out) ? &s->out : &s->err;
    *type = r == &s->out ? SK_EXEC_STDOUT : SK_EXEC_STDERR;
    size_t n = sk_exec_ring_peek(r, buf, max);
    sk_exec_ring_drop(r, n);
    bool kick = n > 0 && s->out_full;
    if (kick)
        s->out_full = false;
    pthread_mutex_unlock(&s->mu);
    if (kick)
        exec_session_kick(s);
    return n;
}

bool exec_session_result(exec_session *s, sk_exec_exit *e)
{
    pthread_mutex_lock(&s->mu);
    bool done = s->finished && !sk_exec_ring_used(&s->out) && !sk_exec_ring_used(&s->err);
    if (done) {
        *e = (sk_exec_exit){.flags = s->timed_out ? SK_EXEC_TIMED_OUT : 0};
        if (WIFSIGNALED(s->status)) {
            e->how = SK_EXEC_SIGNALED;
            e->value = (uint8_t)WTERMSIG(s->status);
        } else {
            e->how = SK_EXEC_EXITED;
            e->value = (uint8_t)WEXITSTATUS(s->status);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return done;
}

size_t exec_session_stdin_room(exec_session *s, size_t need)
{
    pthread_mutex_lock(&s->mu);
    size_t room = s->in_closed ? SIZE_MAX : sk_exec_ring_room(&s->in);
    s->want_room = room < need;
    pthread_mutex_unlock(&s->mu);
    return room;
}

void exec_session_stdin(exec_session *s, const uint8_t *data, size_t len)
{
    pthread_mutex_lock(&s->mu);
    bool kick = false;
    s->bytes_in += len;
    if (!s->in_closed && !s->in_eof) {
        kick = sk_exec_ring_used(&s->in) == 0;
        sk_exec_ring_push(&s->in, data, len);
    }
    pthread_mutex_unlock(&s->mu);
    if (kick)
        exec_session_kick(s);
}

void exec_session_stdin_eof(exec_session *s)
{
    pthread_mutex_lock(&s->mu);
    bool kick = !s->in_eof;
    s->in_eof = true;
    pthread_mutex_unlock(&s->mu);
    if (kick)
        exec_session_kick(s);
}
