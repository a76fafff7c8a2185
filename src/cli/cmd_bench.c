/* sk bench: the load generator. Parses the options, runs the engine
 * (bench_client.h; bench_chat.h for --workload chat) and reports round
 * trips (deliveries), throughput and latency percentiles, as text or as
 * one JSON object. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_chat.h"
#include "bench_client.h"
#include "commands.h"
#include "sockkit/addr.h"

/* parse_args result meaning "go on and run". */
#define PARSE_OK (-1)
/* Descriptors kept free beside the connections (stdio, loop, signalfd). */
#define SPARE_FDS 16
#define MAX_CONNS 1000000
#define MAX_SECONDS 86400.0
/* Chat: messages/s said to the room when neither --rate nor --pipeline is given. */
#define CHAT_DEFAULT_RATE 50.0

typedef struct bench_opts {
    sk_bench_config cfg;
    const char *endpoint_text;
    bool json;
    bool chat;          /* --workload chat */
    bool no_echo;       /* --no-echo */
    bool pipeline_set;  /* --pipeline given */
} bench_opts;

static void usage(FILE *out)
{
    fputs("usage: sk bench [options] ENDPOINT\n"
          "\n"
          "Load generator: open connections to an echo (or upper) server at ENDPOINT,\n"
          "send requests, verify every reply byte and report round trips per second\n"
          "and latency percentiles.\n"
          "\n"
          "ENDPOINT: host:port, tcp:host:port, [v6]:port, unix:/path, unix:@name\n"
          "\n"
          "options:\n"
          "  -c, --conns N         connections (default 50)\n"
          "  -s, --size BYTES      request size (default 64, at most 1048576)\n"
          "  -d, --duration S      measured seconds (default 10; decimals ok)\n"
          "  -p, --pipeline K      requests in flight per connection (default 1, at most 1024)\n"
          "  -r, --rate R          open loop: R requests/s in total, on a fixed timetable;\n"
          "                        latency counts from each request's intended send time\n"
          "                        (default: closed loop, latency from the actual send)\n"
          "      --warmup S        seconds of load before measuring (default 1)\n"
          "      --workload W      echo: replies repeat the request (default);\n"
          "                        upper: replies are the request in ASCII upper case;\n"
          "                        chat: a chat room, see below\n"
          "      --json            print the report as one JSON object\n"
          "  -q, --quiet           no progress line and no error messages\n"
          "  -h, --help            show this help\n"
          "\n"
          "MB/s counts request + reply bytes of the completed round trips (1 MB = 10^6 B).\n"
          "\n"
          "--workload chat: --conns clients (at least 2) join one room of a chat server\n"
          "(`sk serve chat`, `ncat --chat`); messages of --size bytes are said to the\n"
          "room by the clients in turn, at --rate messages/s in total (default 50), or\n"
          "with --pipeline K and no --rate, K messages in flight (closed loop: the\n"
          "next is said once one has reached every client). Reports deliveries (a\n"
          "client receiving a message) per second and delivery latency percentiles\n"
          "(from the intended send time), and deliveries that never came (missing).\n"
          "      --no-echo         chat: the server does not send a message back to its\n"
          "                        sender (ncat --chat)\n"
          "A progress line is shown on stderr when it is a terminal.\n"
          "\n"
          "exit status: 0 every reply was right, 1 connection failure, connection error\n"
          "or reply mismatch (chat: a missing delivery), 2 usage error.\n",
          out);
}

static int bad_option(char **argv, int opt)
{
    if (opt == ':')
        fprintf(stderr, "sk: bench: option '%s' needs a value\n", argv[optind - 1]);
    else if (optopt)
        fprintf(stderr, "sk: bench: invalid option '-%c'\n", optopt);
    else
        fprintf(stderr, "sk: bench: invalid option '%s'\n", argv[optind - 1]);
    fputs("'sk bench --help' lists the options.\n", stderr);
    return 2;
}

/* A whole number in [min, max]. */
static int parse_count(const char *opt, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < min || v > max) {
        fprintf(stderr, "sk: bench: %s wants a whole number from %ld to %ld, got '%s'\n", opt,
                min, max, text);
        return -1;
    }
    *out = v;
    return 0;
}

/* A number (decimals ok) > 0, or 0 too when zero_ok, and at most max. */
static int parse_number(const char *opt, const char *text, bool zero_ok, double max,
                        const char *what, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (*end || end == text || !(v > 0 || (zero_ok && v == 0)) || !(v <= max)) {
        fprintf(stderr, "sk: bench: %s wants %s, got '%s'\n", opt, what, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_workload(const char *text, sk_bench_workload *out, bool *chat)
{
    *chat = false;
    if (!strcmp(text, "echo"))
        *out = SK_BENCH_ECHO;
    else if (!strcmp(text, "upper"))
        *out = SK_BENCH_UPPER;
    else if (!strcmp(text, "chat"))
        *chat = true;
    else {
        fprintf(stderr, "sk: bench: --workload wants echo, upper or chat, got '%s'\n", text);
        return -1;
    }
    return 0;
}

/* One option with a value. Returns 0 or -1 (message printed). */
static int parse_value(int opt, const char *arg, bench_opts *o)
{
    sk_bench_config *c = &o->cfg;
    long n;
    double s;
    switch (opt) {
    case 'c':
        if (parse_count("--conns", arg, 1, MAX_CONNS, &n) < 0)
            return -1;
        c->conns = (int)n;
        return 0;
    case 's':
        if (parse_count("--size", arg, 1, SK_BENCH_MAX_SIZE, &n) < 0)
            return -1;
        c->size = (size_t)n;
        return 0;
    case 'p':
        if (parse_count("--pipeline", arg, 1, SK_BENCH_MAX_PIPELINE, &n) < 0)
            return -1;
        c->pipeline = (int)n;
        o->pipeline_set = true;
        return 0;
    case 'd':
        if (parse_number("--duration", arg, false, MAX_SECONDS, "seconds > 0", &s) < 0)
            return -1;
        c->duration_ms = (int64_t)(s * 1000) > 0 ? (int64_t)(s * 1000) : 1;
        return 0;
    case 'W':
        if (parse_number("--warmup", arg, true, MAX_SECONDS, "seconds >= 0", &s) < 0)
            return -1;
        c->warmup_ms = (int64_t)(s * 1000);
        return 0;
    case 'r':
        return parse_number("--rate", arg, false, 1e9, "requests/s > 0", &c->rate);
    default:
        return parse_workload(arg, &c->workload, &o->chat);
    }
}

static int parse_options(int argc, char **argv, bench_opts *o)
{
    static const struct option longopts[] = {
        {"conns", required_argument, NULL, 'c'},    {"size", required_argument, NULL, 's'},
        {"duration", required_argument, NULL, 'd'}, {"pipeline", required_argument, NULL, 'p'},
        {"rate", required_argument, NULL, 'r'},     {"warmup", required_argument, NULL, 'W'},
        {"workload", required_argument, NULL, 'L'}, {"json", no_argument, NULL, 'J'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {"no-echo", no_argument, NULL, 'E'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, ":c:s:d:p:r:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'q': o->cfg.quiet = true; break;
        case 'J': o->json = true; break;
        case 'E': o->no_echo = true; break;
        case 'h': usage(stdout); return 0;
        case 'c': case 's': case 'd': case 'p': case 'r': case 'W': case 'L':
            if (parse_value(opt, optarg, o) < 0)
                return 2;
            break;
        default: return bad_option(argv, opt);
        }
    }
    return PARSE_OK;
}

/* Options, then exactly one ENDPOINT. Returns PARSE_OK or an exit status. */
static int parse_args(int argc, char **argv, bench_opts *o)
{
    int rc = parse_options(argc, argv, o);
    if (rc != PARSE_OK)
        return rc;
    if (argc - optind != 1) {
        fputs(argc == optind ? "sk: bench: missing ENDPOINT\n" : "sk: bench: one ENDPOINT expected\n",
              stderr);
        usage(stderr);
        return 2;
    }
    o->endpoint_text = argv[optind];
    char err[SK_ERRBUF_SIZE];
    if (sk_endpoint_parse(o->endpoint_text, &o->cfg.endpoint, err, sizeof err) < 0) {
        fprintf(stderr, "sk: bench: %s\n", err);
        return 2;
    }
    if (o->cfg.endpoint.scheme == SK_SCHEME_UDP) {
        fputs("sk: bench: udp endpoints are not supported (tcp: and unix: are)\n", stderr);
        return 2;
    }
    return PARSE_OK;
}

/* Raise the descriptor limit to the hard limit so that thousands of
 * connections fit. Returns 0, or -1 (message printed) when they do not. */
static int raise_fd_limit(int conns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)conns + SPARE_FDS > rl.rlim_cur) {
        fprintf(stderr, "sk: bench: %d connections need %d file descriptors; the limit is %llu\n",
                conns, conns + SPARE_FDS, (unsigned long long)rl.rlim_cur);
        return -1;
    }
    return 0;
}

/* ---- reporting --------------------------------------------------------- */

/* n with thousands separators: 412345 -> "412,345". */
static const char *grouped(uint64_t n, char buf[32])
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    int out = 0;
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[out++] = ',';
        buf[out++] = digits[i];
    }
    buf[out] = '\0';
    return buf;
}

/* The load generator's CPU time over the measured time, percent of one
 * CPU (0 when nothing was measured). */
static double cpu_percent(double cpu_s, double elapsed_s)
{
    return elapsed_s > 0 ? 100.0 * cpu_s / elapsed_s : 0;
}

/* The report's line on the load generator's own CPU use: near 100 % it is
 * the generator's one CPU, not the server, that sets the rate. */
static void print_client_cpu(double cpu_s, double elapsed_s)
{
    double pct = cpu_percent(cpu_s, elapsed_s);
    printf("  client CPU   %.0f%% of one CPU (%.3f s)%s\n", pct, cpu_s,
           pct >= 90 ? ": near its limit, so the rate may be the load generator's" : "");
}

static double us(const sk_histogram *h, double p)
{
    return (double)sk_histogram_percentile(h, p) / 1000.0;
}

static void on_progress(const sk_bench_progress *p, void *arg)
{
    (void)arg;
    char rt[32];
    double per_s = p->interval_s > 0 ? (double)p->interval_round_trips / p->interval_s : 0;
    fprintf(stderr, "\r%5.1f s  %s rt/s  p99 %.0f \xc2\xb5s\033[K", p->elapsed_s,
            grouped((uint64_t)(per_s + 0.5), rt), us(p->interval_latency, 99));
    fflush(stderr);
}

typedef struct summary {
    double per_s;      /* round trips per second */
    double mb_per_s;   /* request + reply bytes, 10^6 bytes per second */
} summary;

static summary summarize(const sk_bench_config *cfg, const sk_bench_result *r)
{
    summary s = {0, 0};
    if (r->elapsed_s > 0) {
        s.per_s = (double)r->round_trips / r->elapsed_s;
        s.mb_per_s = s.per_s * 2.0 * (double)cfg->size / 1e6;
    }
    return s;
}

static void report_text(const bench_opts *o, const sk_bench_result *r)
{
    const sk_bench_config *c = &o->cfg;
    summary s = summarize(c, r);
    const sk_histogram *h = &r->latency;
    char buf[32];
    printf("sk bench %s: %d connections, %zu-byte requests, pipeline %d, ", o->endpoint_text,
           c->conns, c->size, c->pipeline);
    if (c->rate > 0)
        printf("open loop at %.15g requests/s\n", c->rate);
    else
        printf("closed loop\n");
    printf("  duration     %.3f s measured%s\n", r->elapsed_s, r->interrupted ? " (interrupted)" : "");
    printf("  round trips  %s\n", grouped(r->round_trips, buf));
    printf("  rate         %s round trips/s\n", grouped((uint64_t)(s.per_s + 0.5), buf));
    printf("  throughput   %.2f MB/s (request + reply bytes, 1 MB = 10^6 bytes)\n", s.mb_per_s);
    printf("  latency      p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f \xc2\xb5s\n",
           us(h, 50), us(h, 90), us(h, 99), us(h, 99.9), us(h, 100));
    printf("  connections  %d\n", r->conns_open);
    printf("  errors       %llu (reply mismatches %llu)\n", (unsigned long long)r->errors,
           (unsigned long long)r->mismatches);
    print_client_cpu(r->cpu_s, r->elapsed_s);
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void report_json(const bench_opts *o, const sk_bench_result *r)
{
    const sk_bench_config *c = &o->cfg;
    summary s = summarize(c, r);
    const sk_histogram *h = &r->latency;
    fputs("{\"endpoint\":", stdout);
    json_string(stdout, o->endpoint_text);
    printf(",\"conns\":%d,\"size\":%zu,\"pipeline\":%d,\"rate\":%.15g,\"duration_s\":%.6f,"
           "\"round_trips\":%llu,\"round_trips_per_s\":%.3f,\"mb_per_s\":%.6f,"
           "\"latency_us\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},"
           "\"errors\":%llu,\"mismatches\":%llu,\"client_cpu_s\":%.6f,\"client_cpu_percent\":%.1f}\n",
           c->conns, c->size, c->pipeline, c->rate, r->elapsed_s,
           (unsigned long long)r->round_trips, s.per_s, s.mb_per_s, us(h, 50), us(h, 90),
           us(h, 99), us(h, 99.9), us(h, 100), (unsigned long long)r->errors,
           (unsigned long long)r->mismatches, r->cpu_s, cpu_percent(r->cpu_s, r->elapsed_s));
}

/* ---- the chat workload ------------------------------------------------- */

/* The chat engine's configuration from the options. Returns PARSE_OK or 2. */
static int chat_config(const bench_opts *o, sk_chat_bench_config *cc)
{
    const sk_bench_config *c = &o->cfg;
    if (c->conns < 2) {
        fputs("sk: bench: --workload chat wants --conns 2 or more\n", stderr);
        return 2;
    }
    if (c->size > SK_CHAT_BENCH_MAX_SIZE) {
        fprintf(stderr, "sk: bench: --workload chat wants --size up to %d\n",
                SK_CHAT_BENCH_MAX_SIZE);
        return 2;
    }
    *cc = (sk_chat_bench_config){
        .endpoint = c->endpoint,
        .conns = c->conns,
        .size = c->size,
        .rate = c->rate > 0 ? c->rate : (o->pipeline_set ? 0 : CHAT_DEFAULT_RATE),
        .window = c->pipeline,
        .duration_ms = c->duration_ms,
        .warmup_ms = c->warmup_ms,
        .no_echo = o->no_echo,
        .quiet = c->quiet,
    };
    return PARSE_OK;
}

static double chat_per_s(const sk_chat_bench_result *r)
{
    return r->elapsed_s > 0 ? (double)r->deliveries / r->elapsed_s : 0;
}

static void chat_report_text(const bench_opts *o, const sk_chat_bench_config *c,
                             const sk_chat_bench_result *r)
{
    const sk_histogram *h = &r->latency;
    char a[32], b[32];
    printf("sk bench %s: chat, %s clients in one room, %zu-byte messages, ", o->endpoint_text,
           grouped((uint64_t)c->conns, a), c->size);
    if (c->rate > 0)
        printf("open loop at %.15g messages/s\n", c->rate);
    else
        printf("closed loop, %d messages in flight\n", c->window);
    printf("  settled      in %.3f s (connect + greetings)\n", r->settle_s);
    printf("  duration     %.3f s measured%s\n", r->elapsed_s, r->interrupted ? " (interrupted)" : "");
    printf("  messages     %s said, each owed to %s clients%s\n", grouped(r->messages, a),
           grouped((uint64_t)(c->conns - (c->no_echo ? 1 : 0)), b),
           c->no_echo ? " (not echoed to the sender)" : "");
    printf("  deliveries   %s (%s deliveries/s)\n", grouped(r->deliveries, a),
           grouped((uint64_t)(chat_per_s(r) + 0.5), b));
    printf("  latency      p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f \xc2\xb5s\n",
           us(h, 50), us(h, 90), us(h, 99), us(h, 99.9), us(h, 100));
    printf("  missing      %s of %s deliveries owed\n", grouped(r->missing, a), grouped(r->owed, b));
    printf("  errors       %llu\n", (unsigned long long)r->errors);
    print_client_cpu(r->cpu_s, r->elapsed_s);
}

static void chat_report_json(const bench_opts *o, const sk_chat_bench_config *c,
                             const sk_chat_bench_result *r)
{
    const sk_histogram *h = &r->latency;
    fputs("{\"workload\":\"chat\",\"endpoint\":", stdout);
    json_string(stdout, o->endpoint_text);
    printf(",\"conns\":%d,\"size\":%zu,\"rate\":%.15g,\"window\":%d,\"no_echo\":%s,"
           "\"settle_s\":%.6f,\"duration_s\":%.6f,\"messages\":%llu,\"deliveries\":%llu,"
           "\"deliveries_per_s\":%.3f,\"owed\":%llu,\"missing\":%llu,"
           "\"latency_us\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},"
           "\"errors\":%llu,\"client_cpu_s\":%.6f,\"client_cpu_percent\":%.1f}\n",
           c->conns, c->size, c->rate, c->rate > 0 ? 0 : c->window, c->no_echo ? "true" : "false",
           r->settle_s, r->elapsed_s, (unsigned long long)r->messages,
           (unsigned long long)r->deliveries, chat_per_s(r), (unsigned long long)r->owed,
           (unsigned long long)r->missing, us(h, 50), us(h, 90), us(h, 99), us(h, 99.9),
           us(h, 100), (unsigned long long)r->errors, r->cpu_s, cpu_percent(r->cpu_s, r->elapsed_s));
}

static int chat_main(const bench_opts *o)
{
    sk_chat_bench_config cc;
    int rc = chat_config(o, &cc);
    if (rc != PARSE_OK)
        return rc;
    sk_chat_bench_result *res = malloc(sizeof *res);
    if (res == NULL) {
        fputs("sk: bench: out of memory\n", stderr);
        return 1;
    }
    rc = sk_chat_bench_run(&cc, res);
    if (rc == 0) {
        if (o->json)
            chat_report_json(o, &cc, res);
        else
            chat_report_text(o, &cc, res);
        fflush(stdout);
    }
    int status = (rc < 0 || res->errors > 0 || res->missing > 0) ? 1 : 0;
    free(res);
    return status;
}

int sk_cmd_bench(int argc, char **argv)
{
    bench_opts o = {
        .cfg = {.conns = 50, .size = 64, .pipeline = 1, .duration_ms = 10000, .warmup_ms = 1000},
    };
    int rc = parse_args(argc, argv, &o);
    if (rc != PARSE_OK)
        return rc;
    if (o.no_echo && !o.chat) {
        fputs("sk: bench: --no-echo is for --workload chat\n", stderr);
        return 2;
    }
    if (raise_fd_limit(o.cfg.conns) < 0)
        return 1;
    if (o.chat)
        return chat_main(&o);
    bool progress = !o.cfg.quiet && isatty(STDERR_FILENO);
    if (progress)
        o.cfg.progress = on_progress;
    sk_bench_result *res = malloc(sizeof *res);
    if (res == NULL) {
        fputs("sk: bench: out of memory\n", stderr);
        return 1;
    }
    rc = sk_bench_run(&o.cfg, res);
    if (progress)
        fputs("\r\033[K", stderr);
    if (rc == 0) {
        if (o.json)
            report_json(&o, res);
        else
            report_text(&o, res);
        fflush(stdout);
    }
    int status = (rc < 0 || res->errors > 0 || res->mismatches > 0) ? 1 : 0;
    free(res);
    return status;
}
