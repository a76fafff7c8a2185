/* Endpoints: the text form of a socket address, parsed, resolved and printed.
 *
 * Accepted forms (an optional scheme "tcp:", "udp:" or "unix:" first):
 *   host:port        127.0.0.1:7007, localhost:80, example.org:443
 *   [v6]:port        [::1]:7007, [fe80::1%eth0]:80
 *   :port  or  port  every local address (INADDR_ANY) at that port
 *   unix:/path       a Unix-domain socket in the file system
 *   unix:@name       a Linux abstract-namespace Unix socket
 * Port 0 asks the kernel for an ephemeral port.
 */
#ifndef SOCKKIT_ADDR_H
#define SOCKKIT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest host name accepted (RFC 1035 §2.3.4 limits a name to 255 octets). */
#define SK_HOST_MAX 256
/* Longest Unix socket path, sizeof(sun_path) - 1 on Linux. */
#define SK_UNIX_PATH_MAX 107
/* Buffer size that always holds a formatted endpoint or socket address. */
#define SK_ADDRSTRLEN 300
/* Buffer size that always holds a parse or resolve error message. */
#define SK_ERRBUF_SIZE 512

/* What the scheme prefix selected. */
typedef enum sk_scheme {
    SK_SCHEME_NONE = 0, /* no scheme written: the caller decides */
    SK_SCHEME_TCP,
    SK_SCHEME_UDP,
    SK_SCHEME_UNIX,
} sk_scheme;

/* A parsed, not yet resolved endpoint. */
typedef struct sk_endpoint {
    sk_scheme scheme;
    char host[SK_HOST_MAX];        /* without brackets; "" = any address */
    uint16_t port;                 /* host byte order; 0 = ephemeral */
    char path[SK_UNIX_PATH_MAX + 1]; /* unix: path or abstract name, NUL-ended */
    bool abstract;                 /* unix:@name (Linux abstract namespace) */
} sk_endpoint;

/* A resolved socket address, ready for bind/connect. */
typedef struct sk_sockaddr {
    struct sockaddr_storage ss;
    socklen_t len;                 /* bytes of ss in use */
} sk_sockaddr;

/* Parse endpoint text.
 *   text:   the endpoint, e.g. "tcp:127.0.0.1:7007", "[::1]:0", "unix:@chat".
 *   out:    filled on success.
 *   err:    if non-NULL, receives a message naming what is wrong, e.g.
 *           `missing port in "localhost"` or `port 70000 out of range`.
 *   errlen: size of err in bytes (SK_ERRBUF_SIZE is always enough).
 * Returns 0, or -EINVAL for malformed text. Does no I/O and no DNS. */
int sk_endpoint_parse(const char *text, sk_endpoint *out, char *err, size_t errlen);

/* Format an endpoint back to text ("tcp:127.0.0.1:7007", "[::1]:80",
 * "unix:@name"); IPv6 hosts get brackets, the scheme is written when set.
 *   buf/len: destination and its size in bytes (SK_ADDRSTRLEN is enough).
 * Returns the length written (excluding NUL) or -ENOSPC if it did not fit. */
int sk_endpoint_format(const sk_endpoint *ep, char *buf, size_t len);

/* Resolve an endpoint to socket addresses with getaddrinfo (IPv4 and IPv6;
 * POSIX getaddrinfo, RFC 3493 §6.1). Unix endpoints give one sockaddr_un.
 *   socktype: SOCK_STREAM or SOCK_DGRAM.
 *   passive:  true for an address to bind (empty host = wildcard),
 *             false to connect (empty host = loopback).
 *   out/max:  array receiving at most max addresses, in getaddrinfo order.
 *   err/errlen: optional message buffer, e.g. `cannot resolve "nohost":
 *               Name or service not known`.
 * Returns the number of addresses (>= 1), -EADDRNOTAVAIL when the name does
 * not resolve, -EAFNOSUPPORT when no address fits, -ENOMEM, or -EINVAL. */
int sk_endpoint_resolve(const sk_endpoint *ep, int socktype, bool passive,
                        sk_sockaddr *out, size_t max, char *err, size_t errlen);

/* Format a socket address as text: "127.0.0.1:7007", "[::1]:7007",
 * "unix:/tmp/s", "unix:@name", or "unix:" for an unnamed Unix socket.
 *   sa/salen: the address and its length in bytes.
 *   buf/len:  destination and its size in bytes (SK_ADDRSTRLEN is enough).
 * Returns the length written or -ENOSPC / -EAFNOSUPPORT. */
int sk_sockaddr_format(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
