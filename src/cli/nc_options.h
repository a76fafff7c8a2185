/* Options shared by the netcat commands `sk connect` and `sk listen`:
 * -u -w -v -q -4 -6 -h (and listen's -k), the ENDPOINT argument, and the
 * helpers behind -w and -4 / -6. */
#ifndef SK_CLI_NC_OPTIONS_H
#define SK_CLI_NC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sockkit/addr.h"

/* sk_nc_parse result meaning "go on": not an exit status. */
#define SK_NC_PARSE_OK (-1)

/* The parsed command line of a netcat command. */
typedef struct sk_nc_opts {
    bool udp;        /* -u, or implied by a udp: endpoint */
    bool keep_open;  /* -k (only where the command accepts it) */
    bool verbose;    /* -v */
    bool quiet;      /* -q */
    int family;      /* AF_UNSPEC, or AF_INET / AF_INET6 for -4 / -6 */
    int wait_ms;     /* -w in milliseconds, -1 when not given */
    sk_endpoint ep;  /* the ENDPOINT argument */
} sk_nc_opts;

/* What tells one netcat command from the other on its command line. */
typedef struct sk_nc_command {
    const char *name;            /* "connect" / "listen", for messages */
    bool keep_open;              /* accepts -k, --keep-open */
    void (*usage)(FILE *out);    /* prints the command's help */
} sk_nc_command;

/* Parse `sk NAME [options] ENDPOINT` into *o (zeroed first; family starts as
 * AF_UNSPEC, wait_ms as -1). A udp: endpoint implies -u; -u with a tcp: or
 * unix: endpoint is refused. Usage errors are reported on stderr as
 * "sk: NAME: ..."; -h prints the help on stdout.
 * Returns SK_NC_PARSE_OK, or the exit status to end with (0 after -h, 2 for
 * a usage error). */
int sk_nc_parse(int argc, char **argv, const sk_nc_command *cmd, sk_nc_opts *o);

/* Parse a -w value: seconds > 0, decimals allowed ("0.5", "2"), at most a
 * day. Stores milliseconds (at least 1) in *ms.
 * Returns 0, or -EINVAL for anything else. */
int sk_nc_parse_seconds(const char *text, int *ms);

/* -4 / -6: replace ep->host by the first address of family (AF_INET or
 * AF_INET6) it resolves to, in numeric form ("127.0.0.1", "::1"; an empty
 * host gives the wildcard when passive, the loopback address otherwise).
 * Unix endpoints, and family AF_UNSPEC, are left as they are.
 *   socktype: SOCK_STREAM or SOCK_DGRAM; passive: true for a listener.
 *   err/errlen: message on failure, e.g. `"::1" has no IPv4 address`.
 * Returns 0, -errno from resolving, or -EAFNOSUPPORT when no address of
 * that family exists. */
int sk_nc_pin_family(sk_endpoint *ep, int family, int socktype, bool passive,
                     char *err, size_t errlen);

#endif
