/* sk serve: run services on TCP, UDP and Unix sockets.
 *
 *   sk serve [SERVICE[=ENDPOINT]]... [--model M] [--grace S] [-q|-v]
 *            [service options: serve_<service>.c]
 *
 * A plain host:port serves TCP and UDP at that port (as inetd's echo; TCP
 * only for a stream-only service such as file); tcp:, udp: and unix:
 * select one transport. No service: every default. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "option_values.h"
#include "serve_extension.h"
#include "serve_log.h"
#include "services.h"
#include "sockkit/error.h"
#include "sockkit/server.h"
#include "sockkit/sock.h"

typedef struct serve_options {
    sk_model model;
    int workers;
    int max_conns;
    int idle_timeout_ms;
    int grace_ms;
    int backlog;
    int log_level;
} serve_options;

/* Each service extension's option state (serve_extension.h), indexed like
 * sk_serve_extensions; the configured services live in it as long as the
 * server. */
typedef struct serve_services {
    void *state[16];
} serve_services;

static void serve_usage(FILE *out)
{
    size_t n;
    const sk_service_entry *all = sk_services_all(&n);
    fprintf(out,
            "usage: sk serve [SERVICE[=ENDPOINT]]... [options]\n"
            "\n"
            "Serve each SERVICE at ENDPOINT (default: its own). With no SERVICE, serve all.\n"
            "ENDPOINT: host:port (TCP and UDP), tcp:host:port, udp:host:port, [v6]:port,\n"
            "          unix:/path, unix:@name. Port 0 picks an ephemeral port.\n"
            "\nservices:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-8s %s\n", all[i].service->name, all[i].default_endpoint);
    fprintf(out,
            "\noptions:\n"
            "  -m, --model M         concurrency model (default epoll): iterative, thread, fork,\n"
            "                        prefork, pool, select, poll, epoll, reactors, uring\n"
            "  -w, --workers N       prefork processes, reactors threads (default: one per core),\n"
            "                        pool threads (4 per core), uring rings (1)\n"
            "      --max-conns N     serve at most N connections at once; close the excess\n"
            "      --idle-timeout S  close connections silent for S seconds\n"
            "      --grace S         on SIGINT/SIGTERM, let connections finish for S seconds (default 5)\n"
            "      --backlog N       listen(2) backlog (default %d)\n"
            "  -q, --quiet           log errors only\n"
            "  -v, --verbose         log every datagram too\n"
            "  -h, --help            this text\n",
            SK_DEFAULT_BACKLOG);
    for (size_t i = 0; i < sk_serve_extension_count; i++)
        if (sk_serve_extensions[i])
            fputs(sk_serve_extensions[i]->help, out);
    fprintf(out, "\nexit status: 0 stopped by a signal, 1 runtime failure, 2 usage error\n");
}

static const struct option core_options[] = {
    {"model", required_argument, NULL, 'm'}, {"grace", required_argument, NULL, 'g'},
    {"workers", required_argument, NULL, 'w'}, {"max-conns", required_argument, NULL, 'M'},
    {"idle-timeout", required_argument, NULL, 'i'},
    {"backlog", required_argument, NULL, 'b'}, {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},     {"help", no_argument, NULL, 'h'},
};

enum { MAX_OPTIONS = 128 };

/* The core options followed by every extension's, zero-terminated. */
static void merge_options(struct option *out)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof core_options / sizeof core_options[0]; i++)
        out[n++] = core_options[i];
    for (size_t i = 0; i < sk_serve_extension_count; i++) {
        const sk_serve_extension *x = sk_serve_extensions[i];
        for (const struct option *o = x->options; o->name; o++)
            if (n < MAX_OPTIONS - 1)
                out[n++] = *o;
    }
    out[n] = (struct option){NULL, 0, NULL, 0};
}

/* An extension's option: hand it over. Returns 0, -1 on a bad value,
 * -2 when no extension owns code. */
static int extension_option(serve_services *ss, int code, const char *arg)
{
    for (size_t i = 0; i < sk_serve_extension_count; i++) {
        const sk_serve_extension *x = sk_serve_extensions[i];
        if (code >= x->code_base && code <= x->code_base + 255)
            return x->option(ss->state[i], code, arg);
    }
    return -2;
}

static int core_option(serve_options *o, int c, const char *arg)
{
    long v;
    switch (c) {
    case 'm':
        if (sk_model_parse(arg, &o->model) < 0) {
            fprintf(stderr, "sk: serve: unknown model '%s' (see 'sk serve --help')\n", arg);
            return -1;
        }
        return 0;
    case 'g': return sk_opt_seconds("serve", "--grace", arg, &o->grace_ms);
    case 'i': return sk_opt_seconds("serve", "--idle-timeout", arg, &o->idle_timeout_ms);
    case 'b':
        if (sk_opt_count("serve", "--backlog", arg, 1, 1000000, &v) < 0)
            return -1;
        o->backlog = (int)v;
        return 0;
    case 'w':
        if (sk_opt_count("serve", "--workers", arg, 1, 1024, &v) < 0)
            return -1;
        o->workers = (int)v;
        return 0;
    case 'M':
        if (sk_opt_count("serve", "--max-conns", arg, 1, 1000000, &v) < 0)
            return -1;
        o->max_conns = (int)v;
        return 0;
    case 'q': o->log_level = SK_LOG_ERROR; return 0;
    case 'v': o->log_level = SK_LOG_DEBUG; return 0;
    default: return -2;
    }
}

/* Returns 0 to serve, 1 after --help, -1 on a usage error. */
static int parse_options(int argc, char **argv, serve_options *o, serve_services *ss)
{
    struct option longopts[MAX_OPTIONS];
    merge_options(longopts);
    int c;
    while ((c = getopt_long(argc, argv, "m:w:qvh", longopts, NULL)) != -1) {
        if (c == 'h') {
            serve_usage(stdout);
            return 1;
        }
        int rc = core_option(o, c, optarg);
        if (rc == -2)
            rc = extension_option(ss, c, optarg);
        if (rc == -2)
            serve_usage(stderr);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Open one listener; on failure print why (naming the endpoint). */
static int add_one(sk_server *srv, const sk_service *svc, const sk_endpoint *ep, int socktype)
{
    char err[SK_ERRBUF_SIZE] = "";
    int rc = sk_server_add_listener(srv, svc, ep, socktype, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "sk: serve: %s: %s\n", svc->name, err[0] ? err : sk_strerror(rc));
    return rc;
}

static uint16_t sockaddr_port(const sk_sockaddr *a)
{
    if (a->ss.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

/* The extension that configures service name, with its state; NULL when
 * the service takes no configuration. */
static const sk_serve_extension *extension_of(serve_services *ss, const char *name,
                                              void **state)
{
    for (size_t i = 0; i < sk_serve_extension_count; i++) {
        const sk_serve_extension *x = sk_serve_extensions[i];
        if (!strcmp(x->service, name)) {
            *state = ss->state[i];
            return x;
        }
    }
    return NULL;
}

/* The service to serve at ep for a table entry: itself, or the copy its
 * extension configured. NULL after printing why. */
static const sk_service *configured(serve_services *ss, const sk_service *svc,
                                    const sk_endpoint *ep)
{
    void *state;
    const sk_serve_extension *x = extension_of(ss, svc->name, &state);
    return x ? x->configure(state, ep) : svc;
}

/* Whether a bare `sk serve` starts the service. */
static bool started_by_default(serve_services *ss, const sk_service *svc)
{
    void *state;
    const sk_serve_extension *x = extension_of(ss, svc->name, &state);
    return !x || !x->by_default || x->by_default(state);
}

static int services_init(serve_services *ss)
{
    for (size_t i = 0; i < sk_serve_extension_count; i++) {
        const sk_serve_extension *x = sk_serve_extensions[i];
        if (i >= sizeof ss->state / sizeof ss->state[0])
            return -1;
        if (!(ss->state[i] = calloc(1, x->state_size ? x->state_size : 1)))
            return -1;
    }
    return 0;
}

static void services_release(serve_services *ss)
{
    for (size_t i = 0; i < sk_serve_extension_count; i++) {
        const sk_serve_extension *x = sk_serve_extensions[i];
        if (ss->state[i] && x->release)
            x->release(ss->state[i]);
        free(ss->state[i]);
    }
}

/* "SERVICE" or "SERVICE=ENDPOINT": open its listeners. */
static int add_service_arg(sk_server *srv, serve_services *ss, const char *arg)
{
    char name[64];
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), arg);
    const sk_service_entry *entry = sk_services_find(name);
    if (!entry) {
        fprintf(stderr, "sk: serve: unknown service '%s' (try 'sk serve --help')\n", name);
        return -EINVAL;
    }
    const char *text = eq ? eq + 1 : entry->default_endpoint;
    sk_endpoint ep;
    char err[SK_ERRBUF_SIZE];
    if (sk_endpoint_parse(text, &ep, err, sizeof err) < 0) {
        fprintf(stderr, "sk: serve: %s: %s\n", name, err);
        return -EINVAL;
    }
    const sk_service *svc = configured(ss, entry->service, &ep);
    if (!svc)
        return -EINVAL;
    switch (ep.scheme) {
    case SK_SCHEME_TCP:
    case SK_SCHEME_UNIX: return add_one(srv, svc, &ep, SOCK_STREAM);
    case SK_SCHEME_UDP: return add_one(srv, svc, &ep, SOCK_DGRAM);
    case SK_SCHEME_NONE: break;
    }
    if (!(svc->transports & SK_SERVICE_STREAM))
        return add_one(srv, svc, &ep, SOCK_DGRAM);
    int rc = add_one(srv, svc, &ep, SOCK_STREAM);
    if (rc < 0 || !(svc->transports & SK_SERVICE_DATAGRAM))
        return rc;
    /* UDP on the same port as TCP, even when TCP got an ephemeral one. */
    if (ep.port == 0) {
        sk_sockaddr bound;
        sk_server_listener_address(srv, (size_t)rc, &bound);
        ep.port = sockaddr_port(&bound);
    }
    return add_one(srv, svc, &ep, SOCK_DGRAM);
}

static int add_listeners(sk_server *srv, serve_services *ss, int nargs, char **args)
{
    if (nargs > 0) {
        for (int i = 0; i < nargs; i++)
            if (add_service_arg(srv, ss, args[i]) < 0)
                return -1;
        return 0;
    }
    size_t n;
    const sk_service_entry *all = sk_services_all(&n);
    for (size_t i = 0; i < n; i++)
        if (started_by_default(ss, all[i].service) &&
            add_service_arg(srv, ss, all[i].service->name) < 0)
            return -1;
    return 0;
}

static void print_listeners(const sk_server *srv)
{
    for (size_t i = 0; i < sk_server_listener_count(srv); i++) {
        char desc[SK_ADDRSTRLEN + 64];
        if (sk_server_listener_describe(srv, i, desc, sizeof desc) < 0)
            continue;
        char *space = strchr(desc, ' ');
        *space = '\0';
        printf("%s listening on %s\n", desc, space + 1);
    }
    fflush(stdout);
}

/* Block until SIGINT or SIGTERM; returns the signal. */
static int wait_for_stop_signal(const sigset_t *set)
{
    int sig = 0;
    while (sigwait(set, &sig) != 0) {
    }
    return sig;
}

static int run_server(sk_server *srv, const serve_options *o, const sigset_t *stop)
{
    int rc = sk_server_start(srv);
    if (rc < 0) {
        fprintf(stderr, "sk: serve: cannot start: %s\n", sk_strerror(rc));
        return 1;
    }
    print_listeners(srv);
    int sig = wait_for_stop_signal(stop);
    if (o->log_level >= SK_LOG_INFO)
        fprintf(stderr, "sk: %s: closing listeners, letting connections finish (grace %.1f s)\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM", o->grace_ms / 1000.0);
    sk_server_shutdown(srv, o->grace_ms);
    return 0;
}

int sk_cmd_serve(int argc, char **argv)
{
    serve_options o = {.model = SK_MODEL_EPOLL, .grace_ms = 5000, .log_level = SK_LOG_INFO};
    serve_services ss = {{NULL}};
    if (services_init(&ss) < 0) {
        fprintf(stderr, "sk: serve: %s\n", sk_strerror(-ENOMEM));
        services_release(&ss);
        return 1;
    }
    int prc = parse_options(argc, argv, &o, &ss);
    if (prc != 0) {
        services_release(&ss);
        return prc > 0 ? 0 : 2;
    }

    /* Server threads inherit this mask: only the main thread takes the signals. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    sk_server_config cfg = {.model = o.model, .workers = o.workers, .max_conns = o.max_conns,
                            .idle_timeout_ms = o.idle_timeout_ms, .backlog = o.backlog,
                            .log = sk_serve_log_stderr, .log_user = &o.log_level};
    sk_server *srv;
    int rc = sk_server_create(&srv, &cfg);
    if (rc < 0) {
        fprintf(stderr, "sk: serve: %s\n", sk_strerror(rc));
        services_release(&ss);
        return 1;
    }
    int status = add_listeners(srv, &ss, argc - optind, argv + optind) < 0
                     ? 2
                     : run_server(srv, &o, &stop);
    sk_server_destroy(srv);
    services_release(&ss);
    return status;
}
