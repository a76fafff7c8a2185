/* Options shared by the netcat commands `sk connect` and `sk listen`:
 * -w SECONDS and -4 / -6. */
#ifndef SK_CLI_NC_OPTIONS_H
#define SK_CLI_NC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "sockkit/addr.h"

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
