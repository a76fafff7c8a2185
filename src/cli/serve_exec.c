/* `sk serve` options of the exec service: --exec-token-file,
 * --exec-allow, --exec-shell, --exec-allow-remote. exec starts only with a
 * token file, and only on loopback or Unix endpoints unless
 * --exec-allow-remote says otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exec_service.h"
#include "serve_extension.h"
#include "serve_log.h"
#include "sockkit/error.h"

enum { OPT_TOKEN_FILE = 0x300, OPT_ALLOW, OPT_SHELL, OPT_ALLOW_REMOTE };

typedef struct serve_exec {
    const char *token_file;
    const char *allow[256];
    size_t allow_count;
    bool shell;
    bool allow_remote;
    int log_level;
    sk_exec_config cfg;
    sk_service service;
    bool ready;
} serve_exec;

static const struct option exec_options[] = {
    {"exec-token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"exec-allow", required_argument, NULL, OPT_ALLOW},
    {"exec-shell", no_argument, NULL, OPT_SHELL},
    {"exec-allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE},
    {NULL, 0, NULL, 0},
};

static int exec_option(void *state, int code, const char *arg)
{
    serve_exec *x = state;
    switch (code) {
    case OPT_TOKEN_FILE: x->token_file = arg; return 0;
    case OPT_ALLOW:
        if (!arg[0] || x->allow_count == sizeof x->allow / sizeof x->allow[0]) {
            fprintf(stderr, "sk: serve: --exec-allow wants a command name (at most %zu)\n",
                    sizeof x->allow / sizeof x->allow[0]);
            return -1;
        }
        x->allow[x->allow_count++] = arg;
        return 0;
    case OPT_SHELL: x->shell = true; return 0;
    case OPT_ALLOW_REMOTE: x->allow_remote = true; return 0;
    default: return -1;
    }
}

static bool exec_by_default(const void *state)
{
    return ((const serve_exec *)state)->token_file != NULL;
}

static bool loopback(const sk_sockaddr *a)
{
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (a->ss.ss_family == AF_INET6) {
        const struct in6_addr *in6 = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(in6) ||
               (IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127);
    }
    return false;
}

/* Whether every address the endpoint binds is local (loopback or Unix).
 * Returns 1, 0, or -1 after printing why it cannot be resolved. */
static int endpoint_is_local(const sk_endpoint *ep)
{
    if (ep->scheme == SK_SCHEME_UNIX)
        return 1;
    sk_sockaddr addrs[16];
    char err[SK_ERRBUF_SIZE];
    int n = sk_endpoint_resolve(ep, SOCK_STREAM, true, addrs, 16, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "sk: serve: exec: %s\n", err);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (!loopback(&addrs[i]))
            return 0;
    return 1;
}

/* Check the endpoint; refuse a network one without --exec-allow-remote. */
static bool endpoint_ok(const serve_exec *x, const sk_endpoint *ep)
{
    int local = endpoint_is_local(ep);
    if (local != 0)
        return local > 0;
    char text[SK_ADDRSTRLEN];
    if (sk_endpoint_format(ep, text, sizeof text) < 0)
        snprintf(text, sizeof text, "?");
    if (!x->allow_remote) {
        fprintf(stderr,
                "sk: serve: exec: refusing to serve exec on %s, which is not a loopback "
                "address: anyone who can reach it and holds the token could run commands "
                "(add --exec-allow-remote to accept that)\n", text);
        return false;
    }
    fprintf(stderr,
            "sk: serve: exec: warning: serving exec on %s, beyond loopback "
            "(--exec-allow-remote): the token is all that stands between the network "
            "and this account, and the traffic is not encrypted\n", text);
    return true;
}

/* Read the token and the allow list, once. */
static bool prepare(serve_exec *x)
{
    char err[SK_ERRBUF_SIZE];
    if (!x->token_file) {
        fprintf(stderr, "sk: serve: exec: needs --exec-token-file FILE (a secret of at least "
                        "%d bytes, not readable by group or others)\n", SK_EXEC_TOKEN_MIN);
        return false;
    }
    if (x->shell && x->allow_count) {
        fprintf(stderr, "sk: serve: exec: --exec-allow and --exec-shell do not go together "
                        "(a shell command line cannot be restricted to a list)\n");
        return false;
    }
    if (sk_exec_config_init(&x->cfg, x->token_file, environ, err, sizeof err) < 0) {
        fprintf(stderr, "sk: serve: exec: %s\n", err);
        return false;
    }
    x->ready = true;
    for (size_t i = 0; i < x->allow_count; i++)
        if (sk_exec_config_allow(&x->cfg, x->allow[i]) < 0) {
            fprintf(stderr, "sk: serve: exec: %s\n", sk_strerror(-ENOMEM));
            return false;
        }
    x->cfg.shell = x->shell;
    x->log_level = SK_LOG_INFO;
    x->cfg.log = sk_serve_log_stderr;
    x->cfg.log_user = &x->log_level;
    x->service = sk_service_exec;
    x->service.context = &x->cfg;
    return true;
}

static const sk_service *exec_configure(void *state, const sk_endpoint *ep)
{
    serve_exec *x = state;
    if (!x->ready && !prepare(x))
        return NULL;
    return endpoint_ok(x, ep) ? &x->service : NULL;
}

static void exec_release(void *state)
{
    serve_exec *x = state;
    if (x->ready)
        sk_exec_config_free(&x->cfg);
    x->ready = false;
}

const sk_serve_extension sk_serve_exec = {
    .service = "exec",
    .options = exec_options,
    .code_base = 0x300,
    .help = "\nexec service (started by a bare `sk serve` only with a token file):\n"
            "      --exec-token-file FILE  the shared secret (>= 16 bytes, mode 600); required\n"
            "      --exec-allow CMD        run only commands whose argv[0] is CMD (repeatable)\n"
            "      --exec-shell            run the command line with /bin/sh -c (default: argv,\n"
            "                              no shell)\n"
            "      --exec-allow-remote     allow a non-loopback endpoint (logs a warning)\n",
    .state_size = sizeof(serve_exec),
    .option = exec_option,
    .by_default = exec_by_default,
    .configure = exec_configure,
    .release = exec_release,
};
