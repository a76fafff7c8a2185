/* -w SECONDS and -4 / -6 for the netcat commands. */
#include "nc_options.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
