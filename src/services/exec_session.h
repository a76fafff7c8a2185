/* Internal to the exec service: a running command and the thread that
 * pumps its bytes.
 *
 * Two threads share a session. The pump thread (exec_pump.c) polls the
 * child's pipes and moves bytes between them and three bounded queues; it
 * detects the child's exit, enforces the request's timeout, and kills and
 * reaps the process group. The connection's thread (exec_service.c, in
 * the model's callbacks) turns queued output into frames and queues the
 * client's stdin. Everything shared is guarded by mu. The pump thread
 * calls sk_conn_wake (the only sk_conn_* call it makes) while it holds mu
 * and conn is not NULL; exec_session_stop clears conn under mu, so no wake
 * follows the connection's on_close. */
#ifndef SK_EXEC_SESSION_H
#define SK_EXEC_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "exec_proto.h"
#include "exec_ring.h"
#include "exec_service.h"
#include "exec_spawn.h"
#include "sockkit/addr.h"
#include "sockkit/service.h"

/* Queue sizes, bytes: output (stdout, stderr) and input (stdin). */
#define SK_EXEC_OUT_QUEUE (256u * 1024u)
#define SK_EXEC_ERR_QUEUE (64u * 1024u)
#define SK_EXEC_IN_QUEUE (256u * 1024u)

typedef struct exec_session {
    pthread_mutex_t mu;
    const sk_exec_config *cfg;
    sk_conn *conn;        /* NULL once the connection is closing: no more wakes */
    bool wake_posted;     /* a wake is on its way to the connection's thread */
    int pump_wake;        /* eventfd: the connection's thread → the pump */
    pthread_t thread;
    bool pump_done;       /* the pump thread has finished its work */
    bool owner_gone;      /* exec_session_stop left the session to the pump */

    sk_exec_child child;  /* its fds and `exited`: the pump thread's alone */
    sk_exec_ring out, err, in;
    bool out_full;        /* the pump stopped reading stdout/stderr: no room */
    bool in_eof;          /* the client ended stdin */
    bool in_closed;       /* the child's stdin is closed (EOF sent, or EPIPE) */
    bool want_room;       /* the connection waits for stdin room */
    bool exited;          /* the child (the group leader) has exited */
    bool finished;        /* reaped: status is final */
    bool stop;            /* the connection is gone: kill and reap */
    bool timed_out;
    bool abandoned;       /* ended because the connection went away */
    int status;           /* waitpid status, once finished */
    int64_t deadline_ms;  /* the request's timeout, CLOCK_MONOTONIC; 0 none */

    uint64_t bytes_in;    /* stdin bytes from the client */
    uint64_t bytes_out;   /* stdout + stderr bytes from the child */
    struct timespec started;
    char peer[SK_ADDRSTRLEN];
    char *what;           /* the command as the audit log shows it */
} exec_session;

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t exec_now_ms(void);

/* Spawn the command and start its pump thread.
 *   program/argv/envp/cwd: as sk_exec_spawn; timeout_ms: 0 for none.
 * Returns 0 and *out, or -errno of the spawn (nothing left running). */
int exec_session_start(const sk_exec_config *cfg, sk_conn *c, const char *program,
                       char *const *argv, char *const *envp, const char *cwd,
                       uint32_t timeout_ms, exec_session **out);

/* From on_close: no wakes from now on; the pump thread ends the command
 * (its process group: SIGTERM, SIGKILL after the grace period), reaps it
 * and frees the session, counted in cfg->ending meanwhile. Returns at
 * once: a command that ignores SIGTERM does not hold the connection's
 * thread (in an event model, every connection of its reactor) for the
 * grace period. With cfg->ending NULL it waits for the pump thread and
 * frees the session itself. */
void exec_session_stop(exec_session *s);

/* The pump thread's last call: frees the session when exec_session_stop
 * has already left it to this thread. */
void exec_session_pump_done(exec_session *s);

/* The connection's thread: a wake arrived (a new one may be posted). */
void exec_session_woken(exec_session *s);

/* Take up to max bytes of queued output, stdout first: *type receives
 * SK_EXEC_STDOUT or SK_EXEC_STDERR. Returns the count (0: nothing queued). */
size_t exec_session_take_output(exec_session *s, uint8_t *buf, size_t max, uint8_t *type);

/* Whether the command is over and all its output taken; then *e is how
 * it ended. */
bool exec_session_result(exec_session *s, sk_exec_exit *e);

/* Room in the stdin queue, bytes; when below need, the pump wakes the
 * connection once that much is free (or stdin is closed). */
size_t exec_session_stdin_room(exec_session *s, size_t need);

/* Queue stdin bytes from the client (dropped once the child's stdin is
 * closed); the caller made sure there is room. */
void exec_session_stdin(exec_session *s, const uint8_t *data, size_t len);

/* The client ended stdin. */
void exec_session_stdin_eof(exec_session *s);

/* The pump thread's body (exec_pump.c). */
void *exec_pump_main(void *arg);

/* The pump: post a wake to the connection unless one is on its way or
 * the connection is gone. Caller holds s->mu. */
void exec_session_post_wake(exec_session *s);

/* Signal the pump thread's eventfd. */
void exec_session_kick(exec_session *s);

/* Write the audit log line of a finished command (exec_audit.c). */
void exec_audit_log(exec_session *s);

/* The command for the audit log: argv quoted for a shell where needed,
 * cut to about 600 bytes. Returns a malloc'd string or NULL. */
char *exec_audit_command(char *const *argv);

#endif
