/* sk serve: run services on TCP, UDP and Unix sockets.
 *
 *   sk serve [SERVICE[=ENDPOINT]]... [--model M] [--grace S] [-q|-v]
 *            [--file-root DIR] [--overwrite] [--max-size BYTES]
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
#include "file_service.h"
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
    const char *file_root; /* file service: --file-root */
    bool overwrite;
    uint64_t max_size;     /* 0: no limit */
} serve_options;

/* Services that need configuration are served as configured copies, which
 * live (in sk_cmd_serve's frame) as long as the server. */
typedef struct serve_services {
    const serve_options *opts;
    sk_file_config file_cfg;
    sk_service file;
    bool file_ready;
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
            "  -h, --help            this text\n"
            "\nfile service:\n"
            "      --file-root DIR   serve files under DIR, created if missing (default %s)\n"
            "      --overwrite       let uploads replace existing names\n"
            "      --max-size BYTES  refuse uploads larger than BYTES (suffixes K, M, G, T)\n"
            "\nexit status: 0 stopped by a signal, 1 runtime failure, 2 usage error\n",
            SK_DEFAULT_BACKLOG, SK_FILE_DEFAULT_ROOT);
}

/* Seconds (decimals allowed, at most a day) to milliseconds. */
static int parse_seconds(const char *opt, const char *text, int *ms)
{
    char *end;
    double s = strtod(text, &end);
    if (*end || end == text || !(s >= 0 && s <= 86400)) {
        fprintf(stderr, "sk: serve: %s wants seconds, got '%s'\n", opt, text);
        return -1;
    }
    *ms = (int)(s * 1000);
    return 0;
}

/* A positive whole number up to a million. */
static int parse_count(const char *opt, const char *text, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*end || end == text || v <= 0 || v > 1000000) {
        fprintf(stderr, "sk: serve: %s wants a positive number, got '%s'\n", opt, text);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* A byte count with an optional binary suffix: 512, 10K, 5M, 2G, 1T. */
static int parse_size(const char *opt, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: break;
    }
    if (shift)
        end++;
    if (errno || *end || end == text || text[0] == '-' || v == 0 || v > (UINT64_MAX >> shift)) {
        fprintf(stderr, "sk: serve: %s wants a positive size in bytes (suffixes K, M, G, T), "
                "got '%s'\n", opt, text);
        return -1;
    }
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_options(int argc, char **argv, serve_options *o)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'}, {"grace", required_argument, NULL, 'g'},
        {"workers", required_argument, NULL, 'w'}, {"max-conns", required_argument, NULL, 'M'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"backlog", required_argument, NULL, 'b'}, {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},     {"help", no_argument, NULL, 'h'},
        {"file-root", required_argument, NULL, 'R'}, {"overwrite", no_argument, NULL, 'O'},
        {"max-size", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "m:w:qvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (sk_model_parse(optarg, &o->model) < 0) {
                fprintf(stderr, "sk: serve: unknown model '%s' (see 'sk serve --help')\n", optarg);
                return -1;
            }
            break;
        case 'g':
            if (parse_seconds("--grace", optarg, &o->grace_ms) < 0)
                return -1;
            break;
        case 'i':
            if (parse_seconds("--idle-timeout", optarg, &o->idle_timeout_ms) < 0)
                return -1;
            break;
        case 'b':
            if (parse_count("--backlog", optarg, &o->backlog) < 0)
                return -1;
            break;
        case 'w':
            if (parse_count("--workers", optarg, &o->workers) < 0)
                return -1;
            break;
        case 'M':
            if (parse_count("--max-conns", optarg, &o->max_conns) < 0)
                return -1;
            break;
        case 'R': o->file_root = optarg; break;
        case 'O': o->overwrite = true; break;
        case 'S':
            if (parse_size("--max-size", optarg, &o->max_size) < 0)
                return -1;
            break;
        case 'q': o->log_level = SK_LOG_ERROR; break;
        case 'v': o->log_level = SK_LOG_DEBUG; break;
        case 'h': serve_usage(stdout); return 1;
        default: serve_usage(stderr); return -1;
        }
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

/* The service to serve for a table entry: itself, or its configured copy
 * (the file service: its root is created and opened on first use). */
static const sk_service *configured(serve_services *ss, const sk_service *svc)
{
    if (svc != &sk_service_file)
        return svc;
    if (!ss->file_ready) {
        char err[512];
        const serve_options *o = ss->opts;
        if (sk_file_config_init(&ss->file_cfg, o->file_root, o->overwrite, o->max_size, err,
                                sizeof err) < 0) {
            fprintf(stderr, "sk: serve: file: %s\n", err);
            return NULL;
        }
        ss->file = sk_service_file;
        ss->file.context = &ss->file_cfg;
        ss->file_ready = true;
    }
    return &ss->file;
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
    const sk_service *svc = configured(ss, entry->service);
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
        if (add_service_arg(srv, ss, all[i].service->name) < 0)
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
    int prc = parse_options(argc, argv, &o);
    if (prc != 0)
        return prc > 0 ? 0 : 2;

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
        return 1;
    }
    serve_services ss = {.opts = &o};
    int status = add_listeners(srv, &ss, argc - optind, argv + optind) < 0
                     ? 2
                     : run_server(srv, &o, &stop);
    sk_server_destroy(srv);
    if (ss.file_ready)
        sk_file_config_free(&ss.file_cfg);
    return status;
}
