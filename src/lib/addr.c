/* Endpoints: parse endpoint text, format it back, resolve it to socket
 * addresses (getaddrinfo, RFC 3493 §6.1) and format socket addresses. */
#include "sockkit/addr.h"
#include "sockkit/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

/* Longest piece of user text quoted in an error message (escaped bytes). */
#define QUOTE_MAX 160

/* Where a parse error goes, and the whole text it is about. */
typedef struct parse_ctx {
    const char *text;
    char *err;
    size_t errlen;
} parse_ctx;

static const struct {
    const char *name;
    sk_scheme scheme;
} scheme_names[] = {
    {"tcp", SK_SCHEME_TCP},
    {"udp", SK_SCHEME_UDP},
    {"unix", SK_SCHEME_UNIX},
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write a printf-style message into err, when err is given. */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Copy len bytes of s into out as printable text: quotes, backslashes and
 * non-printable bytes are escaped, long text is cut with "...". */
static const char *quote(const char *s, size_t len, char out[QUOTE_MAX + 4])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 4 > QUOTE_MAX) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0xf];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return out;
}

/* -EINVAL with a message that quotes the whole endpoint text. */
static int fail_text(const parse_ctx *ctx, const char *what)
{
    char q[QUOTE_MAX + 4];
    set_err(ctx->err, ctx->errlen, "%s \"%s\"", what,
            quote(ctx->text, strlen(ctx->text), q));
    return -EINVAL;
}

static bool is_scheme_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

/* Does s[0..len) look like a URI scheme name (RFC 3986 §3.1)? */
static bool looks_like_scheme(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_scheme_char(s[i], i == 0))
            return false;
    return true;
}

static int unknown_scheme(const parse_ctx *ctx, const char *s, size_t len)
{
    char q[QUOTE_MAX + 4];
    set_err(ctx->err, ctx->errlen,
            "unknown scheme \"%s\"", quote(s, len, q));
    return -EINVAL;
}

/* Split off a known scheme ("tcp:", "udp:", "unix:", any case). A
 * "tcp://" or "udp://" prefix is accepted too; an unknown name followed by
 * "//" is an error. Other prefixes are left for the host:port parser, so
 * that "localhost:80" stays a host and a port. */
static int parse_scheme(const parse_ctx *ctx, sk_scheme *scheme, const char **rest)
{
    const char *text = ctx->text;
    const char *colon = strchr(text, ':');
    *scheme = SK_SCHEME_NONE;
    *rest = text;
    if (colon == NULL)
        return 0;
    size_t len = (size_t)(colon - text);
    for (size_t i = 0; i < sizeof scheme_names / sizeof scheme_names[0]; i++) {
        if (strlen(scheme_names[i].name) == len &&
            strncasecmp(text, scheme_names[i].name, len) == 0) {
            *scheme = scheme_names[i].scheme;
            *rest = colon + 1;
            if (*scheme != SK_SCHEME_UNIX && strncmp(*rest, "//", 2) == 0)
                *rest += 2;
            return 0;
        }
    }
    if (strncmp(colon + 1, "//", 2) == 0 && looks_like_scheme(text, len))
        return unknown_scheme(ctx, text, len);
    return 0;
}

/* unix:/path, unix:relative/path or unix:@abstract-name. */
static int parse_unix(const parse_ctx *ctx, const char *s, sk_endpoint *out)
{
    bool abstract = s[0] == '@';
    const char *name = abstract ? s + 1 : s;
    size_t len = strlen(name);
    if (len == 0) {
        if (abstract)
            return fail_text(ctx, "empty abstract socket name in");
        set_err(ctx->err, ctx->errlen, "empty unix path");
        return -EINVAL;
    }
    if (len > SK_UNIX_PATH_MAX) {
        set_err(ctx->err, ctx->errlen, "unix %s too long (max %d bytes)",
                abstract ? "abstract name" : "path", SK_UNIX_PATH_MAX);
        return -EINVAL;
    }
    memcpy(out->path, name, len + 1);
    out->abstract = abstract;
    return 0;
}

/* A decimal port 0..65535 in s[0..len). */
static int parse_port(const parse_ctx *ctx, const char *s, size_t len, uint16_t *port)
{
    char q[QUOTE_MAX + 4];
    unsigned long v = 0;
    if (len == 0)
        return fail_text(ctx, "missing port in");
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            set_err(ctx->err, ctx->errlen, "invalid port \"%s\"", quote(s, len, q));
            return -EINVAL;
        }
        if (v <= 65535)
            v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > 65535) {
        set_err(ctx->err, ctx->errlen, "port %s out of range", quote(s, len, q));
        return -EINVAL;
    }
    *port = (uint16_t)v;
    return 0;
}

/* A host name or IPv4 literal: letters, digits, '-', '.', '_'. */
static int parse_host_name(const parse_ctx *ctx, const char *s, size_t len, sk_endpoint *out)
{
    char q[QUOTE_MAX + 4];
    if (len >= SK_HOST_MAX) {
        set_err(ctx->err, ctx->errlen, "host name too long");
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
        if (!ok) {
            set_err(ctx->err, ctx->errlen, "invalid character in host \"%s\"",
                    quote(s, len, q));
            return -EINVAL;
        }
    }
    memcpy(out->host, s, len);
    out->host[len] = '\0';
    return 0;
}

/* Is s[0..len) an IPv6 literal, with an optional "%scope" (an interface
 * name or number)? */
static bool is_ipv6_literal(const char *s, size_t len)
{
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
    struct in6_addr a;
    if (len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *pct = strchr(buf, '%');
    if (pct != NULL) {
        size_t scope_len = strlen(pct + 1);
        if (scope_len == 0 || scope_len >= IF_NAMESIZE)
            return false;
        for (const char *p = pct + 1; *p; p++)
            if (*p <= ' ' || *p >= 0x7f || *p == '/' || *p == '%')
                return false;
        *pct = '\0';
    }
    return inet_pton(AF_INET6, buf, &a) == 1;
}

/* "[v6]:port". */
static int parse_bracketed(const parse_ctx *ctx, const char *s, sk_endpoint *out)
{
    char q[QUOTE_MAX + 4];
    const char *close = strchr(s, ']');
    if (close == NULL) {
        set_err(ctx->err, ctx->errlen, "missing \"]\" in \"%s\"",
                quote(ctx->text, strlen(ctx->text), q));
        return -EINVAL;
    }
    size_t len = (size_t)(close - s - 1);
    if (len == 0)
        return fail_text(ctx, "empty host in");
    if (!is_ipv6_literal(s + 1, len)) {
        set_err(ctx->err, ctx->errlen, "invalid IPv6 address \"%s\"", quote(s + 1, len, q));
        return -EINVAL;
    }
    if (close[1] == '\0')
        return fail_text(ctx, "missing port in");
    if (close[1] != ':') {
        set_err(ctx->err, ctx->errlen, "expected \":port\" after \"]\" in \"%s\"",
                quote(ctx->text, strlen(ctx->text), q));
        return -EINVAL;
    }
    memcpy(out->host, s + 1, len);
    out->host[len] = '\0';
    return parse_port(ctx, close + 2, strlen(close + 2), &out->port);
}

static bool all_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

/* Text with two or more ':' and no brackets: an IPv6 address without
 * brackets, an unknown scheme ("http:x:80"), or plain garbage. */
static int too_many_colons(const parse_ctx *ctx, const char *s)
{
    char q1[QUOTE_MAX + 4], q2[QUOTE_MAX + 4];
    const char *last = strrchr(s, ':');
    size_t len = strlen(s);
    size_t first_len = strcspn(s, ":");
    if (is_ipv6_literal(s, (size_t)(last - s))) {
        set_err(ctx->err, ctx->errlen, "IPv6 address needs brackets: \"[%s]:%s\"",
                quote(s, (size_t)(last - s), q1), quote(last + 1, strlen(last + 1), q2));
    } else if (is_ipv6_literal(s, len)) {
        set_err(ctx->err, ctx->errlen, "IPv6 address needs brackets and a port: \"[%s]:port\"",
                quote(s, len, q1));
    } else if (looks_like_scheme(s, first_len) && !(first_len <= 4 && all_hex(s, first_len))) {
        return unknown_scheme(ctx, s, first_len);
    } else {
        set_err(ctx->err, ctx->errlen,
                "too many \":\" in \"%s\" (an IPv6 address needs brackets: \"[::1]:80\")",
                quote(ctx->text, strlen(ctx->text), q1));
    }
    return -EINVAL;
}

/* host:port, [v6]:port, :port or a bare port. */
static int parse_inet(const parse_ctx *ctx, const char *s, sk_endpoint *out)
{
    if (s[0] == '\0')
        return fail_text(ctx, "missing address in");
    if (s[0] == '/') {
        char q[QUOTE_MAX + 4];
        set_err(ctx->err, ctx->errlen, "a path needs the unix: scheme: \"unix:%s\"",
                quote(s, strlen(s), q));
        return -EINVAL;
    }
    if (s[0] == '[')
        return parse_bracketed(ctx, s, out);
    const char *colon = strchr(s, ':');
    if (colon == NULL) {
        size_t len = strlen(s);
        if (strspn(s, "0123456789") == len)
            return parse_port(ctx, s, len, &out->port);
        int rc = parse_host_name(ctx, s, len, out);
        return rc < 0 ? rc : fail_text(ctx, "missing port in");
    }
    if (strchr(colon + 1, ':') != NULL)
        return too_many_colons(ctx, s);
    int rc = parse_host_name(ctx, s, (size_t)(colon - s), out);
    if (rc < 0)
        return rc;
    return parse_port(ctx, colon + 1, strlen(colon + 1), &out->port);
}

int sk_endpoint_parse(const char *text, sk_endpoint *out, char *err, size_t errlen)
{
    parse_ctx ctx = {.text = text, .err = err, .errlen = errlen};
    sk_endpoint ep;
    sk_scheme scheme;
    const char *rest;
    int rc;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (out == NULL) {
        set_err(err, errlen, "no endpoint to fill");
        return -EINVAL;
    }
    if (text == NULL || text[0] == '\0') {
        set_err(err, errlen, "empty endpoint");
        return -EINVAL;
    }
    memset(&ep, 0, sizeof ep);
    rc = parse_scheme(&ctx, &scheme, &rest);
    if (rc < 0)
        return rc;
    ep.scheme = scheme;
    if (scheme == SK_SCHEME_UNIX)
        rc = parse_unix(&ctx, rest, &ep);
    else
        rc = parse_inet(&ctx, rest, &ep);
    if (rc < 0)
        return rc;
    *out = ep;
    return 0;
}

static bool is_unix_endpoint(const sk_endpoint *ep)
{
    return ep->scheme == SK_SCHEME_UNIX || ep->path[0] != '\0' || ep->abstract;
}

static const char *scheme_prefix(sk_scheme scheme)
{
    switch (scheme) {
    case SK_SCHEME_TCP:
        return "tcp:";
    case SK_SCHEME_UDP:
        return "udp:";
    case SK_SCHEME_UNIX:
        return "unix:";
    case SK_SCHEME_NONE:
        break;
    }
    return "";
}

int sk_endpoint_format(const sk_endpoint *ep, char *buf, size_t len)
{
    int n;
    if (ep == NULL || buf == NULL)
        return -EINVAL;
    if (len == 0)
        return -ENOSPC;
    if (is_unix_endpoint(ep)) {
        n = snprintf(buf, len, "unix:%s%.*s", ep->abstract ? "@" : "",
                     SK_UNIX_PATH_MAX, ep->path);
    } else {
        const char *host = ep->host;
        int hlen = (int)strnlen(host, SK_HOST_MAX - 1);
        bool v6 = memchr(host, ':', (size_t)hlen) != NULL;
        n = snprintf(buf, len, "%s%s%.*s%s:%u", scheme_prefix(ep->scheme), v6 ? "[" : "",
                     hlen, host, v6 ? "]" : "", (unsigned)ep->port);
    }
    if (n < 0)
        return -EINVAL;
    if ((size_t)n >= len)
        return -ENOSPC;
    return n;
}

/* One sockaddr_un for a unix: endpoint. */
static int resolve_unix(const sk_endpoint *ep, sk_sockaddr *out, char *err, size_t errlen)
{
    struct sockaddr_un sau;
    size_t plen = strnlen(ep->path, sizeof ep->path);
    if (plen == 0) {
        set_err(err, errlen, ep->abstract ? "empty abstract socket name" : "empty unix path");
        return -EINVAL;
    }
    if (plen > SK_UNIX_PATH_MAX) {
        set_err(err, errlen, "unix path too long (max %d bytes)", SK_UNIX_PATH_MAX);
        return -EINVAL;
    }
    memset(&sau, 0, sizeof sau);
    sau.sun_family = AF_UNIX;
    if (ep->abstract) {
        /* Abstract names are not NUL-ended: the length is the name's. */
        memcpy(sau.sun_path + 1, ep->path, plen);
        out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + plen);
    } else {
        memcpy(sau.sun_path, ep->path, plen);
        out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1);
    }
    memset(&out->ss, 0, sizeof out->ss);
    memcpy(&out->ss, &sau, sizeof sau);
    return 1;
}

static void put_in4(sk_sockaddr *out, uint32_t addr, uint16_t port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(addr);
    memset(&out->ss, 0, sizeof out->ss);
    memcpy(&out->ss, &sin, sizeof sin);
    out->len = sizeof sin;
}

static void put_in6(sk_sockaddr *out, const struct in6_addr *addr, uint16_t port)
{
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    sin6.sin6_addr = *addr;
    memset(&out->ss, 0, sizeof out->ss);
    memcpy(&out->ss, &sin6, sizeof sin6);
    out->len = sizeof sin6;
}

/* Empty host: the wildcard (passive) or loopback addresses, IPv4 first. */
static int resolve_empty_host(const sk_endpoint *ep, bool passive, sk_sockaddr *out, size_t max)
{
    put_in4(&out[0], passive ? INADDR_ANY : INADDR_LOOPBACK, ep->port);
    if (max < 2)
        return 1;
    put_in6(&out[1], passive ? &in6addr_any : &in6addr_loopback, ep->port);
    return 2;
}

/* Is the host an IPv4 or IPv6 literal (which must not go to DNS)? */
static bool is_ip_literal(const char *host)
{
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1 || is_ipv6_literal(host, strlen(host));
}

/* Map a getaddrinfo failure to a negative errno and a message. */
static int resolve_error(const char *host, int gai, int saved_errno, char *err, size_t errlen)
{
    char q[QUOTE_MAX + 4];
    const char *why = gai == EAI_SYSTEM ? sk_strerror(saved_errno) : gai_strerror(gai);
    set_err(err, errlen, "cannot resolve \"%s\": %s", quote(host, strlen(host), q), why);
    switch (gai) {
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_SYSTEM:
        return saved_errno > 0 ? -saved_errno : -EIO;
    case EAI_FAMILY:
    case EAI_ADDRFAMILY:
        return -EAFNOSUPPORT;
    case EAI_SERVICE:
    case EAI_SOCKTYPE:
    case EAI_BADFLAGS:
        return -EINVAL;
    default:
        return -EADDRNOTAVAIL;
    }
}

/* Named or literal host: getaddrinfo, keeping IPv4/IPv6 results in order. */
static int resolve_host(const sk_endpoint *ep, int socktype, bool passive, sk_sockaddr *out,
                        size_t max, char *err, size_t errlen)
{
    char q[QUOTE_MAX + 4];
    char service[8];
    struct addrinfo hints, *res = NULL;
    size_t n = 0;

    if (strnlen(ep->host, SK_HOST_MAX) >= SK_HOST_MAX) {
        set_err(err, errlen, "host name too long");
        return -EINVAL;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    if (is_ip_literal(ep->host))
        hints.ai_flags |= AI_NUMERICHOST;
    snprintf(service, sizeof service, "%u", (unsigned)ep->port);
    errno = 0;
    int gai = getaddrinfo(ep->host, service, &hints, &res);
    if (gai != 0)
        return resolve_error(ep->host, gai, errno, err, errlen);
    for (const struct addrinfo *ai = res; ai != NULL && n < max; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (ai->ai_addrlen > sizeof out[n].ss)
            continue;
        memset(&out[n].ss, 0, sizeof out[n].ss);
        memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
        out[n].len = ai->ai_addrlen;
        n++;
    }
    freeaddrinfo(res);
    if (n == 0) {
        set_err(err, errlen, "no IPv4 or IPv6 address for \"%s\"",
                quote(ep->host, strlen(ep->host), q));
        return -EAFNOSUPPORT;
    }
    return (int)n;
}

int sk_endpoint_resolve(const sk_endpoint *ep, int socktype, bool passive,
                        sk_sockaddr *out, size_t max, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (ep == NULL || out == NULL || max == 0) {
        set_err(err, errlen, "no endpoint or no room for an address");
        return -EINVAL;
    }
    if (is_unix_endpoint(ep))
        return resolve_unix(ep, out, err, errlen);
    socktype &= ~(SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (socktype != SOCK_STREAM && socktype != SOCK_DGRAM) {
        set_err(err, errlen, "socket type must be SOCK_STREAM or SOCK_DGRAM");
        return -EINVAL;
    }
    if (ep->host[0] == '\0')
        return resolve_empty_host(ep, passive, out, max);
    return resolve_host(ep, socktype, passive, out, max, err, errlen);
}

/* "unix:/path", "unix:@name" (NULs in an abstract name shown as '@', as
 * ss(8) does) or "unix:" for an unnamed socket. */
static int format_unix(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len)
{
    struct sockaddr_un sau;
    size_t off = offsetof(struct sockaddr_un, sun_path);
    size_t n = salen > sizeof sau ? sizeof sau : salen;
    char name[sizeof sau.sun_path + 2];
    size_t nlen = 0;

    memset(&sau, 0, sizeof sau);
    memcpy(&sau, sa, n);
    n = n > off ? n - off : 0; /* bytes of sun_path in use */
    if (n > 0 && sau.sun_path[0] == '\0') {
        for (size_t i = 0; i < n; i++)
            name[nlen++] = (i == 0 || sau.sun_path[i] == '\0') ? '@' : sau.sun_path[i];
    } else {
        nlen = strnlen(sau.sun_path, n);
        memcpy(name, sau.sun_path, nlen);
    }
    name[nlen] = '\0';
    int w = snprintf(buf, len, "unix:%s", name);
    return (size_t)w >= len ? -ENOSPC : w;
}

/* "[addr%scope]:port"; the scope is the interface name when it has one. */
static int format_in6(const struct sockaddr_in6 *sin6, char *buf, size_t len)
{
    char addr[INET6_ADDRSTRLEN];
    char scope[IF_NAMESIZE + 12] = "";
    inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof addr);
    if (sin6->sin6_scope_id != 0) {
        char ifname[IF_NAMESIZE];
        if (if_indextoname(sin6->sin6_scope_id, ifname) != NULL)
            snprintf(scope, sizeof scope, "%%%s", ifname);
        else
            snprintf(scope, sizeof scope, "%%%u", (unsigned)sin6->sin6_scope_id);
    }
    int w = snprintf(buf, len, "[%s%s]:%u", addr, scope, (unsigned)ntohs(sin6->sin6_port));
    return (size_t)w >= len ? -ENOSPC : w;
}

int sk_sockaddr_format(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len)
{
    sa_family_t family;
    if (sa == NULL || buf == NULL)
        return -EINVAL;
    if (len == 0)
        return -ENOSPC;
    buf[0] = '\0';
    if (salen < sizeof family)
        return -EAFNOSUPPORT;
    memcpy(&family, &sa->sa_family, sizeof family);
    if (family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in sin;
        char addr[INET_ADDRSTRLEN];
        memcpy(&sin, sa, sizeof sin);
        inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof addr);
        int w = snprintf(buf, len, "%s:%u", addr, (unsigned)ntohs(sin.sin_port));
        return (size_t)w >= len ? -ENOSPC : w;
    }
    if (family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof sin6);
        return format_in6(&sin6, buf, len);
    }
    if (family == AF_UNIX)
        return format_unix(sa, salen, buf, len);
    return -EAFNOSUPPORT;
}
