/* sk listen: the netcat server. Listens on an endpoint, accepts a client
 * (or, with -k, one client after another) and relays stdin to it and it to
 * stdout (relay.h). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands.h"
#include "nc_options.h"
#include "relay.h"
#include "sockkit/addr.h"
#include "sockkit/error.h"
#include "sockkit/sock.h"

/* Room for the first datagram of a UDP session (any datagram fits). */
#define DGRAM_MAX 65536

/* The Unix socket file to remove when sk exits, also on SIGINT / SIGTERM /
 * SIGHUP ("" when none). Process state of the CLI, set once. */
static char socket_file[SK_UNIX_PATH_MAX + 1];

static void usage(FILE *out)
{
    fputs("usage: sk listen [options] ENDPOINT\n"
          "\n"
          "Listen on ENDPOINT, accept one client, send stdin to it and write what\n"
          "it sends to stdout, like nc -l / ncat -l. A plain host:port is TCP; port\n"
          "0 asks for a free port (-v shows it).\n"
          "\n"
          "ENDPOINT: [host]:port, [v6]:port, tcp:host:port, udp:host:port,\n"
          "          unix:/path (removed when sk exits), unix:@name (abstract)\n"
          "\n"
          "options:\n"
          "  -k, --keep-open     after a client leaves, accept the next one. Only the\n"
          "                      first client gets stdin; later ones only have what\n"
          "                      they send written to stdout. Not with -u.\n"
          "  -u, --udp           use UDP (udp:host:port implies it): wait for the first\n"
          "                      datagram, then talk only with its sender\n"
          "  -w, --wait SECONDS  idle timeout: end a session (status 1) when nothing\n"
          "                      moves either way for SECONDS; accept waits forever\n"
          "  -v, --verbose       report the listening address, each client and a byte\n"
          "                      summary per client on stderr\n"
          "  -q, --quiet         print no messages except usage errors\n"
          "  -4, -6              use only IPv4 / only IPv6 addresses\n"
          "  -h, --help          show this help\n"
          "\n"
          "TCP and Unix: at EOF on stdin, sk shuts down its sending side (half-close)\n"
          "and keeps reading until the client closes. When the client closes, sk writes\n"
          "out what it has; then, if stdin is a terminal, the session ends at once\n"
          "(as with ncat), else the rest of stdin is still sent (the client may only\n"
          "have half-closed).\n"
          "UDP: each read from stdin is sent as one datagram, each datagram received\n"
          "is written to stdout. At EOF on stdin sk keeps receiving: with -w until\n"
          "nothing arrives for SECONDS (then it exits with status 0), else until it\n"
          "is interrupted.\n"
          "\n"
          "exit status: 0 the session ended normally, 1 listen, accept or I/O error\n"
          "or idle timeout, 2 usage error. With -k, sk runs until it is interrupted.\n",
          out);
}

/* sk_nc_parse, then what only listen refuses. Returns SK_NC_PARSE_OK or an
 * exit status. */
static int parse_args(int argc, char **argv, sk_nc_opts *o)
{
    static const sk_nc_command cmd = {.name = "listen", .keep_open = true, .usage = usage};
    int rc = sk_nc_parse(argc, argv, &cmd, o);
    if (rc != SK_NC_PARSE_OK)
        return rc;
    if (o->udp && o->keep_open) {
        fputs("sk: listen: -k does not apply to UDP\n", stderr);
        return 2;
    }
    return SK_NC_PARSE_OK;
}

static void remove_socket_file(void)
{
    if (socket_file[0])
        unlink(socket_file);
}

/* Async-signal-safe: remove the file, then die of the same signal
 * (SA_RESETHAND restored the default action). */
static void on_exit_signal(int sig)
{
    remove_socket_file();
    raise(sig);
}

/* A Unix socket file of ours is removed however sk ends. */
static void own_socket_file(const sk_endpoint *ep)
{
    if (ep->scheme != SK_SCHEME_UNIX || ep->abstract || !ep->path[0])
        return;
    memcpy(socket_file, ep->path, sizeof socket_file);
    struct sigaction sa = {.sa_handler = on_exit_signal, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static int open_listener(sk_nc_opts *o, sk_sock *l)
{
    int socktype = o->udp ? SOCK_DGRAM : SOCK_STREAM;
    char err[SK_ERRBUF_SIZE] = "";
    int rc = sk_nc_pin_family(&o->ep, o->family, socktype, true, err, sizeof err);
    if (rc == 0)
        rc = sk_sock_listen_endpoint(l, &o->ep, socktype, 0, 0, err, sizeof err);
    if (rc < 0) {
        if (!o->quiet)
            fprintf(stderr, "sk: listen: %s\n", err[0] ? err : sk_strerror(rc));
        return rc;
    }
    own_socket_file(&o->ep);
    if (o->verbose) {
        char name[SK_ADDRSTRLEN];
        if (sk_sock_local_name(l, name, sizeof name) >= 0)
            fprintf(stderr, "sk: listening on %s\n", name);
        fflush(stderr); /* a test or script reads the port from here */
    }
    return 0;
}

static void report_client(const sk_nc_opts *o, const sk_sockaddr *peer)
{
    char name[SK_ADDRSTRLEN];
    if (o->verbose &&
        sk_sockaddr_format((const struct sockaddr *)&peer->ss, peer->len, name, sizeof name) >= 0)
        fprintf(stderr, "sk: connection from %s\n", name);
}

/* TCP / Unix stream: one client, or with -k one after another. */
static int serve_stream(const sk_nc_opts *o, sk_sock *l)
{
    bool first = true;
    for (;;) {
        sk_sock c;
        sk_sockaddr peer = {.len = 0};
        int rc = sk_sock_accept(l, &c, &peer);
        if (rc == -ECONNABORTED)
            continue; /* the client left before we accepted it */
        if (rc < 0) {
            if (!o->quiet)
                fprintf(stderr, "sk: listen: accept: %s\n", sk_strerror(rc));
            return 1;
        }
        if (!o->keep_open)
            sk_sock_close(l); /* like nc -l: later connections are refused */
        report_client(o, &peer);
        sk_relay_opts relay = {.idle_timeout_ms = o->wait_ms, .use_stdin = first};
        int status = sk_relay_session("listen", &c, &relay, o->verbose, o->quiet);
        sk_sock_close(&c);
        if (!o->keep_open)
            return status;
        first = false;
    }
}

/* UDP: the first datagram's sender becomes the peer (connect), then relay. */
static int serve_datagram(const sk_nc_opts *o, sk_sock *l)
{
    unsigned char *first = malloc(DGRAM_MAX);
    if (!first) {
        if (!o->quiet)
            fprintf(stderr, "sk: listen: %s\n", sk_strerror(-ENOMEM));
        return 1;
    }
    sk_sockaddr peer = {.len = 0};
    ssize_t n = sk_sock_recvfrom(l, first, DGRAM_MAX, &peer);
    int rc = n < 0 ? (int)n : sk_sock_connect_ex(l, &peer);
    int status = 1;
    if (rc < 0) {
        if (!o->quiet)
            fprintf(stderr, "sk: listen: %s: %s\n", n < 0 ? "recvfrom" : "connect",
                    sk_strerror(rc));
    } else {
        report_client(o, &peer);
        sk_relay_opts relay = {.idle_timeout_ms = o->wait_ms, .use_stdin = true,
                               .initial = first, .initial_len = (size_t)n};
        status = sk_relay_session("listen", l, &relay, o->verbose, o->quiet);
    }
    free(first);
    return status;
}

int sk_cmd_listen(int argc, char **argv)
{
    sk_nc_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != SK_NC_PARSE_OK)
        return rc;
    sk_sock l;
    if (open_listener(&o, &l) < 0)
        return 1;
    int status = o.udp ? serve_datagram(&o, &l) : serve_stream(&o, &l);
    sk_sock_close(&l);
    remove_socket_file();
    return status;
}
