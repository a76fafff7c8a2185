/* sk connect: the netcat client. Connects to an endpoint and relays stdin
 * to the peer and the peer to stdout (relay.h). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>

#include "commands.h"
#include "nc_options.h"
#include "relay.h"
#include "sockkit/addr.h"
#include "sockkit/error.h"
#include "sockkit/sock.h"

/* parse_args result meaning "go on and connect". */
#define PARSE_OK (-1)

struct connect_opts {
    bool udp;
    bool verbose;
    bool quiet;
    int family;      /* AF_UNSPEC, or AF_INET / AF_INET6 for -4 / -6 */
    int wait_ms;     /* -w in milliseconds, -1 when not given */
    sk_endpoint ep;
};

static void usage(FILE *out)
{
    fputs("usage: sk connect [options] ENDPOINT\n"
          "\n"
          "Connect to ENDPOINT, send stdin to the peer and write what the peer\n"
          "sends to stdout, like nc / ncat.\n"
          "\n"
          "ENDPOINT: host:port, [v6]:port, tcp:host:port, udp:host:port,\n"
          "          unix:/path, unix:@name (abstract)\n"
          "\n"
          "options:\n"
          "  -u, --udp           use UDP (udp:host:port implies it)\n"
          "  -w, --wait SECONDS  connect timeout, and idle timeout: end with status 1\n"
          "                      when nothing moves either way for SECONDS (0.5 is fine)\n"
          "  -v, --verbose       report the connection and a byte summary on stderr\n"
          "  -q, --quiet         print no messages except usage errors\n"
          "  -4, -6              use only IPv4 / only IPv6 addresses\n"
          "  -h, --help          show this help\n"
          "\n"
          "TCP and Unix: at EOF on stdin, sk shuts down its sending side (half-close)\n"
          "and keeps reading until the peer closes. When the peer closes, sk writes\n"
          "out what it has; then, if stdin is a terminal, the session ends at once\n"
          "(as with ncat), else the rest of stdin is still sent (the peer may only\n"
          "have half-closed).\n"
          "UDP: each read from stdin is sent as one datagram, each datagram received\n"
          "is written to stdout. At EOF on stdin sk keeps receiving: with -w until\n"
          "nothing arrives for SECONDS (then it exits with status 0), else until it\n"
          "is interrupted.\n"
          "\n"
          "exit status: 0 the session ended normally, 1 connection or I/O error or\n"
          "idle timeout, 2 usage error.\n",
          out);
}

static int bad_option(char **argv, int opt)
{
    if (opt == ':')
        fprintf(stderr, "sk: connect: option '%s' needs a value\n", argv[optind - 1]);
    else if (optopt)
        fprintf(stderr, "sk: connect: invalid option '-%c'\n", optopt);
    else
        fprintf(stderr, "sk: connect: invalid option '%s'\n", argv[optind - 1]);
    fputs("'sk connect --help' lists the options.\n", stderr);
    return 2;
}

static int parse_options(int argc, char **argv, struct connect_opts *o)
{
    static const struct option longopts[] = {
        {"udp", no_argument, NULL, 'u'},     {"wait", required_argument, NULL, 'w'},
        {"verbose", no_argument, NULL, 'v'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},    {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, ":uw:vq46h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u': o->udp = true; break;
        case 'v': o->verbose = true; o->quiet = false; break;
        case 'q': o->quiet = true; o->verbose = false; break;
        case '4': o->family = AF_INET; break;
        case '6': o->family = AF_INET6; break;
        case 'h': usage(stdout); return 0;
        case 'w':
            if (sk_nc_parse_seconds(optarg, &o->wait_ms) < 0) {
                fprintf(stderr, "sk: connect: bad -w value \"%s\" (seconds > 0)\n", optarg);
                return 2;
            }
            break;
        default: return bad_option(argv, opt);
        }
    }
    return PARSE_OK;
}

/* Options, then exactly one ENDPOINT. Returns PARSE_OK or an exit status. */
static int parse_args(int argc, char **argv, struct connect_opts *o)
{
    int rc = parse_options(argc, argv, o);
    if (rc != PARSE_OK)
        return rc;
    if (argc - optind != 1) {
        fputs(argc == optind ? "sk: connect: missing ENDPOINT\n"
                             : "sk: connect: one ENDPOINT expected\n", stderr);
        usage(stderr);
        return 2;
    }
    char err[SK_ERRBUF_SIZE];
    if (sk_endpoint_parse(argv[optind], &o->ep, err, sizeof err) < 0) {
        fprintf(stderr, "sk: connect: %s\n", err);
        return 2;
    }
    if (o->ep.scheme == SK_SCHEME_UDP)
        o->udp = true;
    if (o->udp && o->ep.scheme != SK_SCHEME_NONE && o->ep.scheme != SK_SCHEME_UDP) {
        fprintf(stderr, "sk: connect: -u does not apply to a %s: endpoint\n",
                o->ep.scheme == SK_SCHEME_TCP ? "tcp" : "unix");
        return 2;
    }
    return PARSE_OK;
}

static int open_connection(struct connect_opts *o, sk_sock *s)
{
    int socktype = o->udp ? SOCK_DGRAM : SOCK_STREAM;
    char err[SK_ERRBUF_SIZE] = "";
    int rc = sk_nc_pin_family(&o->ep, o->family, socktype, false, err, sizeof err);
    if (rc == 0)
        rc = sk_sock_connect(s, &o->ep, socktype, o->wait_ms, err, sizeof err);
    if (rc < 0) {
        if (!o->quiet)
            fprintf(stderr, "sk: connect: %s\n", err[0] ? err : sk_strerror(rc));
        return rc;
    }
    if (o->verbose) {
        char peer[SK_ADDRSTRLEN];
        if (sk_sock_peer_name(s, peer, sizeof peer) >= 0)
            fprintf(stderr, "sk: connected to %s\n", peer);
    }
    return 0;
}

int sk_cmd_connect(int argc, char **argv)
{
    struct connect_opts o = {.family = AF_UNSPEC, .wait_ms = -1};
    int rc = parse_args(argc, argv, &o);
    if (rc != PARSE_OK)
        return rc;
    sk_sock s;
    if (open_connection(&o, &s) < 0)
        return 1;
    sk_relay_opts relay = {.idle_timeout_ms = o.wait_ms, .use_stdin = true};
    int status = sk_relay_session("connect", &s, &relay, o.verbose, o.quiet);
    sk_sock_close(&s);
    return status;
}
