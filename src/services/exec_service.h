/* exec: remote command execution (docs/exec.md). A client proves it
 * knows the token (HMAC-SHA256 over two fresh nonces), sends argv, and
 * gets the command's stdout and stderr as they are produced, feeds its
 * stdin, and receives its exit status. No shell unless configured; a
 * scrubbed environment; fds 0, 1, 2 only; its own process group, killed
 * on timeout or disconnect. Stream transports only.
 *
 * A server copies sk_service_exec, points the copy's .context at an
 * sk_exec_config (both outliving the server) and serves the copy. The
 * service needs a model with sk_conn_wake: under one without it, a
 * connection gets an error message and is closed. */
#ifndef SK_EXEC_SERVICE_H
#define SK_EXEC_SERVICE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "exec_limiter.h"
#include "exec_token.h"
#include "sockkit/server.h"
#include "sockkit/service.h"

/* Milliseconds between SIGTERM and SIGKILL when a command is ended. */
#define SK_EXEC_GRACE_MS 2000
/* Milliseconds a client has to authenticate and send its request. */
#define SK_EXEC_HANDSHAKE_MS 10000

typedef struct sk_exec_config {
    sk_exec_token token;
    char **allow;         /* argv[0] values allowed (exact), NULL-ended; NULL: any */
    size_t allow_count;
    bool shell;           /* run the joined argv with /bin/sh -c */
    int grace_ms;         /* SIGTERM → SIGKILL */
    char **base_env;      /* the scrubbed environment (exec_env.h) */
    sk_log_fn log;        /* the audit log; NULL: none */
    void *log_user;
    sk_exec_limiter limiter;
    atomic_int *ending;   /* commands still ending after their connection
                             closed (SIGTERM sent, the grace period running),
                             each owned by its pump thread; NULL: on_close
                             waits for them instead */
} sk_exec_config;

/* Read the token file and the server's environment (envp, e.g. environ).
 *   err/errlen: why it failed (names the file).
 * Returns 0 or -errno; on failure cfg holds nothing to free. */
int sk_exec_config_init(sk_exec_config *cfg, const char *token_file, char *const *envp,
                        char *err, size_t errlen);

/* Allow command (compared with argv[0] as sent). Returns 0 or -ENOMEM. */
int sk_exec_config_allow(sk_exec_config *cfg, const char *command);

/* Whether argv0 may run (always, without an allow list). */
bool sk_exec_config_allowed(const sk_exec_config *cfg, const char *argv0);

/* Wait until the commands whose connections closed have ended (each is
 * SIGKILLed at the end of its grace period, so at most grace_ms + 2 s).
 * Returns true when none is left. The service's on_stop. */
bool sk_exec_config_wait_endings(const sk_exec_config *cfg);

/* Free the config and wipe the token, once sk_exec_config_wait_endings says
 * no command is left (else the config stays allocated for the threads
 * still using it). Safe on a failed or freed config. */
void sk_exec_config_free(sk_exec_config *cfg);

/* Log one line through cfg->log (printf format). */
void sk_exec_logf(const sk_exec_config *cfg, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

extern const sk_service sk_service_exec;

#endif
