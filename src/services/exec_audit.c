/* The audit log of exec: one line per command with the peer, argv, how it
 * ended, how long it ran and the bytes each way:
 *   exec 127.0.0.1:50312: ls -l '/tmp/a b': exit 0, 0.004 s, 0 bytes in, 312 bytes out */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "exec_session.h"

/* Longest command text logged, bytes (the log line holds about 1000). */
#define COMMAND_MAX 600

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->len + n >= t->cap)
        n = t->len + 1 < t->cap ? t->cap - t->len - 1 : 0;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static bool plain(const char *a)
{
    if (!a[0])
        return false;
    for (; *a; a++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-",
                    *a))
            return false;
    return true;
}

/* One argument, shell-quoted when needed; control bytes as \xHH so that a
 * log line stays one line. */
static void put_arg(text *t, const char *a)
{
    if (plain(a)) {
        put(t, a, strlen(a));
        return;
    }
    put(t, "'", 1);
    for (; *a; a++) {
        unsigned char c = (unsigned char)*a;
        char esc[8];
        if (c == '\'')
            put(t, "'\\''", 4);
        else if (c < 0x20 || c == 0x7f)
            put(t, esc, (size_t)snprintf(esc, sizeof esc, "\\x%02x", c));
        else
            put(t, (const char *)&c, 1);
    }
    put(t, "'", 1);
}

char *exec_audit_command(char *const *argv)
{
    text t = {.p = malloc(COMMAND_MAX + 4), .cap = COMMAND_MAX};
    if (!t.p)
        return NULL;
    t.p[0] = '\0';
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            put(&t, " ", 1);
        put_arg(&t, argv[i]);
    }
    if (t.len + 1 >= t.cap)
        memcpy(t.p + t.len, "...", 4);
    return t.p;
}

void exec_audit_log(exec_session *s)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs = (double)(now.tv_sec - s->started.tv_sec) +
                  (double)(now.tv_nsec - s->started.tv_nsec) / 1e9;
    pthread_mutex_lock(&s->mu);
    int status = s->status;
    unsigned long long in = s->bytes_in, out = s->bytes_out;
    const char *why = s->timed_out ? " (timed out)" : s->abandoned ? " (client gone)" : "";
    pthread_mutex_unlock(&s->mu);
    char how[64];
    if (WIFSIGNALED(status)) {
        const char *name = sigabbrev_np(WTERMSIG(status));
        snprintf(how, sizeof how, "signal %d (SIG%s)", WTERMSIG(status), name ? name : "?");
    } else {
        snprintf(how, sizeof how, "exit %d", WEXITSTATUS(status));
    }
    sk_exec_logf(s->cfg, SK_LOG_INFO, "exec %s: %s: %s, %.3f s, %llu bytes in, %llu bytes out%s",
                 s->peer, s->what, how, secs, in, out, why);
}
