/* exec as a protocol state machine (docs/exec.md): challenge, answer,
 * request, then a running command whose output is turned into frames on
 * the connection's thread, in on_wake and on_drain, while the queued
 * output (sk_conn_pending) stays below a cap: a fast command fills the
 * session's queue, the pump stops reading its pipe, and the command blocks.
 * Client stdin goes into the session's stdin queue; when that is full the
 * rest of the input is held and the connection paused (TCP flow control
 * slows the client) until the pump has made room. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_auth.h"
#include "exec_env.h"
#include "exec_session.h"
#include "sockkit/frame.h"

/* Queued output above which no more frames are written until on_drain:
 * above SK_CONN_LOW_WATER, so that on_drain follows. */
#define OUT_CAP (2u * SK_CONN_LOW_WATER)

typedef enum exec_phase {
    PHASE_AUTH,    /* challenge sent: an AUTH */
    PHASE_REQUEST, /* authenticated: a REQUEST */
    PHASE_RUNNING, /* STDIN, STDIN_EOF */
    PHASE_DONE,    /* EXIT or ERROR sent; closing */
} exec_phase;

typedef struct exec_conn {
    sk_exec_config *cfg;
    sk_frame_decoder dec;
    exec_phase phase;
    uint8_t nonce[SK_EXEC_NONCE_SIZE];
    char key[SK_EXEC_PEER_KEY_MAX]; /* the peer's address, for rate limiting */
    exec_session *session;
    uint8_t *frame;                 /* a data frame being built */
    uint8_t *held;                  /* input not yet decoded: stdin queue full */
    size_t held_len;
    bool paused;
} exec_conn;

static int on_bytes(sk_conn *c, exec_conn *s, const uint8_t *data, size_t len);

/* Send an ERROR and end the session (the connection closes once it is
 * written). Returns 0 or the write's -errno. */
static int fail(sk_conn *c, exec_conn *s, uint8_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(sk_conn *c, exec_conn *s, uint8_t code, const char *fmt, ...)
{
    char msg[1000];
    uint8_t frame[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int rc = sk_conn_write(c, frame, sk_exec_encode_error(frame, code, msg));
    s->phase = PHASE_DONE;
    sk_conn_close(c);
    return rc;
}

static int protocol_error(sk_conn *c, exec_conn *s, const char *why)
{
    sk_exec_logf(s->cfg, SK_LOG_INFO, "exec %s: protocol error: %s", sk_conn_peer(c), why);
    return fail(c, s, SK_EXEC_ERR_PROTOCOL, "protocol error: %s", why);
}

/* --- authentication --- */

static int auth_failed(sk_conn *c, exec_conn *s, const char *why)
{
    sk_exec_limiter_fail(&s->cfg->limiter, s->key, exec_now_ms());
    sk_exec_logf(s->cfg, SK_LOG_INFO, "exec %s: authentication failed (%s)", sk_conn_peer(c),
                 why);
    return fail(c, s, SK_EXEC_ERR_AUTH, "authentication failed");
}

static int on_auth(sk_conn *c, exec_conn *s, const uint8_t *p, size_t len)
{
    uint8_t client_nonce[SK_EXEC_NONCE_SIZE], mac[SK_EXEC_MAC_SIZE];
    if (sk_exec_decode_auth(p, len, client_nonce, mac) < 0)
        return auth_failed(c, s, "no answer to the challenge");
    if (sk_exec_limiter_blocked(&s->cfg->limiter, s->key, exec_now_ms()))
        return auth_failed(c, s, "too many failures from this address");
    if (!sk_exec_auth_check(s->cfg->token.bytes, s->cfg->token.len, s->nonce, client_nonce, mac))
        return auth_failed(c, s, "wrong answer");
    s->phase = PHASE_REQUEST;
    s->dec.max = SK_EXEC_FRAME_MAX;
    uint8_t frame[8];
    return sk_conn_write(c, frame, sk_exec_encode_simple(frame, SK_EXEC_READY, NULL, 0));
}

/* --- the request --- */

/* Refuse what the configuration does not allow; returns 1 when refused
 * (the answer is written), 0 to go on, or -errno. */
static int refuse(sk_conn *c, exec_conn *s, const sk_exec_request *r, int *rc)
{
    const sk_exec_config *cfg = s->cfg;
    if (!sk_exec_config_allowed(cfg, r->argv[0])) {
        char *what = exec_audit_command(r->argv);
        sk_exec_logf(cfg, SK_LOG_INFO, "exec %s: %s: refused (not in --exec-allow)",
                     sk_conn_peer(c), what ? what : "?");
        free(what);
        *rc = fail(c, s, SK_EXEC_ERR_DENIED, "%.200s: not allowed on this server", r->argv[0]);
        return 1;
    }
    for (size_t i = 0; i < r->envc; i++) {
        if (!sk_exec_env_allowed(r->env[i], cfg->allow != NULL)) {
            int n = (int)strcspn(r->env[i], "=");
            sk_exec_logf(cfg, SK_LOG_INFO, "exec %s: refused environment variable %.*s",
                         sk_conn_peer(c), n > 100 ? 100 : n, r->env[i]);
            *rc = fail(c, s, SK_EXEC_ERR_DENIED,
                       "environment variable %.*s may not be set on this server",
                       n > 100 ? 100 : n, r->env[i]);
            return 1;
        }
    }
    return 0;
}

/* argv joined with spaces, as ssh does for a remote shell. */
static char *join_args(char *const *argv)
{
    size_t n = 1;
    for (size_t i = 0; argv[i]; i++)
        n += strlen(argv[i]) + 1;
    char *s = malloc(n), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; argv[i]; i++) {
        size_t len = strlen(argv[i]);
        if (i)
            *p++ = ' ';
        memcpy(p, argv[i], len);
        p += len;
    }
    *p = '\0';
    return s;
}

static int not_started(sk_conn *c, exec_conn *s, const sk_exec_request *r, int err)
{
    char *what = exec_audit_command(r->argv);
    sk_exec_logf(s->cfg, SK_LOG_INFO, "exec %s: %s: not started: %s", sk_conn_peer(c),
                 what ? what : "?", strerror(-err));
    free(what);
    if (err == -ENOENT && !r->cwd[0])
        return fail(c, s, SK_EXEC_ERR_NOTFOUND, "%.200s: command not found", r->argv[0]);
    if (r->cwd[0])
        return fail(c, s, SK_EXEC_ERR_SPAWN, "cannot run %.200s in %.200s: %s", r->argv[0],
                    r->cwd, strerror(-err));
    return fail(c, s, SK_EXEC_ERR_SPAWN, "cannot run %.200s: %s", r->argv[0], strerror(-err));
}

/* Spawn the request's command with its environment. */
static int run(sk_conn *c, exec_conn *s, const sk_exec_request *r, char **env)
{
    char program[PATH_MAX];
    char *joined = s->cfg->shell ? join_args(r->argv) : NULL;
    char *shell_argv[] = {"/bin/sh", "-c", joined, NULL};
    char *const *argv = s->cfg->shell ? shell_argv : r->argv;
    int rc = s->cfg->shell && !joined ? -ENOMEM
                                      : sk_exec_find_program(argv[0],
                                                             sk_exec_env_get(env, "PATH"),
                                                             program);
    if (rc == 0)
        rc = exec_session_start(s->cfg, c, program, argv, env, r->cwd, r->timeout_ms,
                                &s->session);
    free(joined);
    if (rc < 0)
        return not_started(c, s, r, rc);
    s->phase = PHASE_RUNNING;
    sk_conn_set_timeout(c, 0);
    uint8_t frame[16];
    return sk_conn_write(c, frame, sk_exec_encode_started(frame, (uint32_t)s->session->child.pid));
}

static int on_request(sk_conn *c, exec_conn *s, const uint8_t *p, size_t len)
{
    sk_exec_request r;
    int rc = sk_exec_decode_request(p, len, &r);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0)
        return protocol_error(c, s, "malformed request");
    char **env = NULL;
    if (refuse(c, s, &r, &rc) == 0) {
        s->frame = malloc(SK_EXEC_DATA_HEADER + SK_EXEC_CHUNK_MAX);
        rc = s->frame ? sk_exec_env_build(s->cfg->base_env, r.env, r.envc, &env) : -ENOMEM;
        if (rc == 0)
            rc = run(c, s, &r, env);
    }
    free(env);
    sk_exec_request_free(&r);
    return rc;
}

/* --- the running command --- */

/* Frames of queued output while the connection's queue is below its cap,
 * then EXIT once the command is over and everything is sent. */
static int flush(sk_conn *c, exec_conn *s)
{
    while (sk_conn_pending(c) < OUT_CAP) {
        uint8_t type;
        size_t n = exec_session_take_output(s->session, s->frame + SK_EXEC_DATA_HEADER,
                                            SK_EXEC_CHUNK_MAX, &type);
        if (n == 0)
            break;
        sk_exec_encode_data_header(s->frame, type, n);
        int rc = sk_conn_write(c, s->frame, SK_EXEC_DATA_HEADER + n);
        if (rc < 0)
            return rc;
    }
    sk_exec_exit e;
    if (sk_conn_pending(c) >= OUT_CAP || !exec_session_result(s->session, &e))
        return 0;
    uint8_t frame[16];
    int rc = sk_conn_write(c, frame, sk_exec_encode_exit(frame, &e));
    s->phase = PHASE_DONE;
    sk_conn_close(c);
    return rc;
}

static int on_running(sk_conn *c, exec_conn *s, const uint8_t *p, size_t len)
{
    if (p[0] == SK_EXEC_STDIN && len > 1 && len - 1 <= SK_EXEC_CHUNK_MAX) {
        exec_session_stdin(s->session, p + 1, len - 1);
        return 0;
    }
    if (p[0] == SK_EXEC_STDIN_EOF && len == 1) {
        exec_session_stdin_eof(s->session);
        return 0;
    }
    return protocol_error(c, s, "unexpected message while the command runs");
}

static int on_frame(sk_conn *c, exec_conn *s, const sk_frame *f)
{
    if (f->len == 0)
        return s->phase == PHASE_AUTH ? auth_failed(c, s, "empty message")
                                      : protocol_error(c, s, "empty message");
    switch (s->phase) {
    case PHASE_AUTH: return on_auth(c, s, f->data, f->len);
    case PHASE_REQUEST:
        if (f->data[0] != SK_EXEC_REQUEST)
            return protocol_error(c, s, "a request was expected");
        return on_request(c, s, f->data, f->len);
    case PHASE_RUNNING: return on_running(c, s, f->data, f->len);
    case PHASE_DONE: return 0;
    }
    return 0;
}

/* Keep the rest of the input until the stdin queue has room. */
static int hold(sk_conn *c, exec_conn *s, const uint8_t *data, size_t len)
{
    uint8_t *p = realloc(s->held, s->held_len + len);
    if (!p)
        return -ENOMEM;
    memcpy(p + s->held_len, data, len);
    s->held = p;
    s->held_len += len;
    if (!s->paused) {
        s->paused = true;
        sk_conn_pause(c);
    }
    return 0;
}

/* Decode input; a STDIN frame is decoded only when the queue has room for
 * the largest one. */
static int on_bytes(sk_conn *c, exec_conn *s, const uint8_t *data, size_t len)
{
    while (len > 0 && s->phase != PHASE_DONE) {
        if (s->phase == PHASE_RUNNING &&
            exec_session_stdin_room(s->session, SK_EXEC_CHUNK_MAX) < SK_EXEC_CHUNK_MAX)
            return hold(c, s, data, len);
        sk_frame f;
        int complete = 0;
        ssize_t n = sk_frame_decoder_feed(&s->dec, data, len, &f, &complete);
        if (n == -EMSGSIZE)
            return s->phase == PHASE_AUTH ? auth_failed(c, s, "message too large")
                                          : protocol_error(c, s, "message too large");
        if (n < 0)
            return (int)n;
        data += n;
        len -= (size_t)n;
        int rc = complete ? on_frame(c, s, &f) : 0;
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* --- callbacks --- */

static int exec_on_open(sk_conn *c, void *state)
{
    exec_conn *s = state;
    s->cfg = sk_conn_context(c);
    sk_frame_decoder_init(&s->dec, SK_EXEC_PREAUTH_MAX);
    if (!s->cfg || !s->cfg->base_env)
        return -EINVAL; /* served without its configuration */
    if (sk_conn_wake(c) == -EOPNOTSUPP)
        return fail(c, s, SK_EXEC_ERR_SPAWN,
                    "this server's concurrency model cannot run exec (no sk_conn_wake)");
    sk_exec_peer_key(sk_conn_peer(c), s->key);
    if (sk_exec_limiter_blocked(&s->cfg->limiter, s->key, exec_now_ms())) {
        sk_exec_logf(s->cfg, SK_LOG_INFO, "exec %s: refused: too many authentication failures",
                     sk_conn_peer(c));
        return fail(c, s, SK_EXEC_ERR_AUTH, "authentication failed");
    }
    int rc = sk_exec_random(s->nonce, sizeof s->nonce);
    if (rc < 0)
        return rc;
    sk_conn_set_timeout(c, SK_EXEC_HANDSHAKE_MS);
    uint8_t frame[64];
    return sk_conn_write(c, frame, sk_exec_encode_challenge(frame, s->nonce));
}

static int exec_on_data(sk_conn *c, void *state, const uint8_t *data, size_t len)
{
    exec_conn *s = state;
    if (s->held_len) /* input delivered after the pause: keep the order */
        return hold(c, s, data, len);
    return on_bytes(c, s, data, len);
}

/* The client's end of the connection closed. A client keeps its sending
 * side open while the command runs (stdin ends with STDIN_EOF), so EOF
 * means it is gone: the connection closes, and on_close ends the command. */
static int exec_on_eof(sk_conn *c, void *state)
{
    exec_conn *s = state;
    (void)c;
    return s->phase == PHASE_DONE ? 0 : -ECONNRESET;
}

/* Held input, now that the stdin queue has room. */
static int release_held(sk_conn *c, exec_conn *s)
{
    uint8_t *held = s->held;
    size_t len = s->held_len;
    s->held = NULL;
    s->held_len = 0;
    int rc = on_bytes(c, s, held, len);
    free(held);
    if (rc < 0 || s->held_len)
        return rc;
    if (s->paused) {
        s->paused = false;
        sk_conn_resume(c);
    }
    return 0;
}

static int exec_on_wake(sk_conn *c, void *state)
{
    exec_conn *s = state;
    if (s->phase != PHASE_RUNNING)
        return 0;
    exec_session_woken(s->session);
    if (s->held_len) {
        int rc = release_held(c, s);
        if (rc < 0 || s->phase != PHASE_RUNNING)
            return rc;
    }
    return flush(c, s);
}

static int exec_on_drain(sk_conn *c, void *state)
{
    exec_conn *s = state;
    return s->phase == PHASE_RUNNING ? flush(c, s) : 0;
}

static void exec_on_close(sk_conn *c, void *state)
{
    exec_conn *s = state;
    (void)c;
    if (s->session)
        exec_session_stop(s->session);
    s->session = NULL;
    sk_frame_decoder_free(&s->dec);
    free(s->held);
    free(s->frame);
}

/* The server stops (or a fork/prefork process exits): commands whose
 * connections closed may still be in their grace period; wait for them. */
static void exec_on_stop(void *context)
{
    const sk_exec_config *cfg = context;
    if (cfg && !sk_exec_config_wait_endings(cfg))
        sk_exec_logf(cfg, SK_LOG_ERROR, "exec: commands still ending at shutdown");
}

const sk_service sk_service_exec = {
    .name = "exec",
    .transports = SK_SERVICE_STREAM,
    .state_size = sizeof(exec_conn),
    .on_open = exec_on_open,
    .on_data = exec_on_data,
    .on_eof = exec_on_eof,
    .on_close = exec_on_close,
    .on_drain = exec_on_drain,
    .on_wake = exec_on_wake,
    .on_stop = exec_on_stop,
};
