/* The command line of the netcat commands: options, ENDPOINT, -w SECONDS
 * and -4 / -6. */
#include "nc_options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Largest -w accepted, in seconds. */
#define SECONDS_MAX 86400.0
/* Addresses looked at; a name with several of one family uses the first. */
#define MAX_ADDRS 16

int sk_nc_parse_seconds(const char *text, int *ms)
{
    char *end;
    errno = 0;
    double seconds = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !isfinite(seconds) ||
        seconds <= 0 || seconds > SECONDS_MAX)
        return -EINVAL;
    int millis = (int)(seconds * 1000.0); /* <= 86400000, fits */
    *ms = millis > 0 ? millis : 1;
    return 0;
}

int sk_nc_pin_family(sk_endpoint *ep, int family, int socktype, bool passive,
                     char *err, size_t errlen)
{
    if (family == AF_UNSPEC || ep->scheme == SK_SCHEME_UNIX)
        return 0;
    sk_sockaddr addrs[MAX_ADDRS];
    int n = sk_endpoint_resolve(ep, socktype, passive, addrs, MAX_ADDRS, err, errlen);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        char host[NI_MAXHOST];
        if (addrs[i].ss.ss_family != family ||
            getnameinfo((const struct sockaddr *)&addrs[i].ss, addrs[i].len, host,
                        sizeof host, NULL, 0, NI_NUMERICHOST) != 0 ||
            strlen(host) >= sizeof ep->host)
            continue;
        memcpy(ep->host, host, strlen(host) + 1);
        return 0;
    }
    if (err && errlen > 0)
        snprintf(err, errlen, "\"%s\" has no %s address", ep->host,
                 family == AF_INET ? "IPv4" : "IPv6");
    return -EAFNOSUPPORT;
}

static int bad_option(const sk_nc_command *cmd, char **argv, int opt)
{
    if (opt == ':')
        fprintf(stderr, "sk: %s: option '%s' needs a value\n", cmd->name, argv[optind - 1]);
    else if (optopt)
        fprintf(stderr, "sk: %s: invalid option '-%c'\n", cmd->name, optopt);
    else
        fprintf(stderr, "sk: %s: invalid option '%s'\n", cmd->name, argv[optind - 1]);
    fprintf(stderr, "'sk %s --help' lists the options.\n", cmd->name);
    return 2;
}

static int parse_options(int argc, char **argv, const sk_nc_command *cmd, sk_nc_opts *o)
{
    /* keep-open first: a command without -k skips it. */
    static const struct option longopts[] = {
        {"keep-open", no_argument, NULL, 'k'}, {"udp", no_argument, NULL, 'u'},
        {"wait", required_argument, NULL, 'w'}, {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},     {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *shortopts = cmd->keep_open ? ":kuw:vq46h" : ":uw:vq46h";
    const struct option *longs = cmd->keep_open ? longopts : longopts + 1;
    int opt;
    while ((opt = getopt_long(argc, argv, shortopts, longs, NULL)) != -1) {
        switch (opt) {
        case 'k': o->keep_open = true; break;
        case 'u': o->udp = true; break;
        case 'v': o->verbose = true; o->quiet = false; break;
        case 'q': o->quiet = true; o->verbose = false; break;
        case '4': o->family = AF_INET; break;
        case '6': o->family = AF_INET6; break;
        case 'h': cmd->usage(stdout); return 0;
        case 'w':
            if (sk_nc_parse_seconds(optarg, &o->wait_ms) < 0) {
                fprintf(stderr, "sk: %s: bad -w value \"%s\" (seconds > 0)\n", cmd->name,
                        optarg);
                return 2;
            }
            break;
        default: return bad_option(cmd, argv, opt);
        }
    }
    return SK_NC_PARSE_OK;
}

int sk_nc_parse(int argc, char **argv, const sk_nc_command *cmd, sk_nc_opts *o)
{
    *o = (sk_nc_opts){.family = AF_UNSPEC, .wait_ms = -1};
    int rc = parse_options(argc, argv, cmd, o);
    if (rc != SK_NC_PARSE_OK)
        return rc;
    if (argc - optind != 1) {
        fprintf(stderr, argc == optind ? "sk: %s: missing ENDPOINT\n"
                                       : "sk: %s: one ENDPOINT expected\n", cmd->name);
        cmd->usage(stderr);
        return 2;
    }
    char err[SK_ERRBUF_SIZE];
    if (sk_endpoint_parse(argv[optind], &o->ep, err, sizeof err) < 0) {
        fprintf(stderr, "sk: %s: %s\n", cmd->name, err);
        return 2;
    }
    if (o->ep.scheme == SK_SCHEME_UDP)
        o->udp = true;
    if (o->udp && o->ep.scheme != SK_SCHEME_NONE && o->ep.scheme != SK_SCHEME_UDP) {
        fprintf(stderr, "sk: %s: -u does not apply to a %s: endpoint\n", cmd->name,
                o->ep.scheme == SK_SCHEME_TCP ? "tcp" : "unix");
        return 2;
    }
    return SK_NC_PARSE_OK;
}
