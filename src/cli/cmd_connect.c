/* sk connect: the netcat client. Connects to an endpoint and relays stdin
 * to the peer and the peer to stdout (relay.h). */
#include <stdio.h>
#include <sys/socket.h>

#include "commands.h"
#include "nc_options.h"
#include "relay.h"
#include "sockkit/addr.h"
#include "sockkit/error.h"
#include "sockkit/sock.h"

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

static int open_connection(sk_nc_opts *o, sk_sock *s)
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
    static const sk_nc_command cmd = {.name = "connect", .usage = usage};
    sk_nc_opts o;
    int rc = sk_nc_parse(argc, argv, &cmd, &o);
    if (rc != SK_NC_PARSE_OK)
        return rc;
    sk_sock s;
    if (open_connection(&o, &s) < 0)
        return 1;
    sk_relay_opts relay = {.idle_timeout_ms = o.wait_ms, .use_stdin = true};
    int status = sk_relay_session("connect", &s, &relay, o.verbose, o.quiet);
    sk_sock_close(&s);
    return status;
}
