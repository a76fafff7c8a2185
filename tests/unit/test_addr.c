/* Endpoint parsing, formatting and resolution; socket address formatting;
 * sk_strerror. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sockkit/addr.h"
#include "sockkit/error.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- parsing: valid text ---------------------------------------------- */

typedef struct valid_case {
    const char *text;
    sk_scheme scheme;
    const char *host;
    uint16_t port;
    const char *path;
    bool abstract;
    const char *formatted; /* what sk_endpoint_format writes back */
} valid_case;

static const valid_case valid_cases[] = {
    {"127.0.0.1:7007", SK_SCHEME_NONE, "127.0.0.1", 7007, "", false, "127.0.0.1:7007"},
    {"tcp:127.0.0.1:7007", SK_SCHEME_TCP, "127.0.0.1", 7007, "", false, "tcp:127.0.0.1:7007"},
    {"TCP:127.0.0.1:7007", SK_SCHEME_TCP, "127.0.0.1", 7007, "", false, "tcp:127.0.0.1:7007"},
    {"tcp://example.org:443", SK_SCHEME_TCP, "example.org", 443, "", false, "tcp:example.org:443"},
    {"udp:localhost:53", SK_SCHEME_UDP, "localhost", 53, "", false, "udp:localhost:53"},
    {"localhost:80", SK_SCHEME_NONE, "localhost", 80, "", false, "localhost:80"},
    {"my_host-1.lan:0", SK_SCHEME_NONE, "my_host-1.lan", 0, "", false, "my_host-1.lan:0"},
    {"host:080", SK_SCHEME_NONE, "host", 80, "", false, "host:80"},
    {"[::1]:7007", SK_SCHEME_NONE, "::1", 7007, "", false, "[::1]:7007"},
    {"udp:[::1]:0", SK_SCHEME_UDP, "::1", 0, "", false, "udp:[::1]:0"},
    {"[fe80::1%eth0]:80", SK_SCHEME_NONE, "fe80::1%eth0", 80, "", false, "[fe80::1%eth0]:80"},
    {"[::ffff:1.2.3.4]:65535", SK_SCHEME_NONE, "::ffff:1.2.3.4", 65535, "", false,
     "[::ffff:1.2.3.4]:65535"},
    {":7007", SK_SCHEME_NONE, "", 7007, "", false, ":7007"},
    {"7007", SK_SCHEME_NONE, "", 7007, "", false, ":7007"},
    {"0", SK_SCHEME_NONE, "", 0, "", false, ":0"},
    {"tcp:7007", SK_SCHEME_TCP, "", 7007, "", false, "tcp::7007"},
    {"udp::53", SK_SCHEME_UDP, "", 53, "", false, "udp::53"},
    {"unix:/tmp/s", SK_SCHEME_UNIX, "", 0, "/tmp/s", false, "unix:/tmp/s"},
    {"UNIX:/tmp/s", SK_SCHEME_UNIX, "", 0, "/tmp/s", false, "unix:/tmp/s"},
    {"unix:relative/path", SK_SCHEME_UNIX, "", 0, "relative/path", false, "unix:relative/path"},
    {"unix:@chat", SK_SCHEME_UNIX, "", 0, "chat", true, "unix:@chat"},
};

static void assert_endpoint(const sk_endpoint *ep, const valid_case *c)
{
    assert_int_equal(ep->scheme, c->scheme);
    assert_string_equal(ep->host, c->host);
    assert_int_equal(ep->port, c->port);
    assert_string_equal(ep->path, c->path);
    assert_int_equal(ep->abstract, c->abstract);
}

static void parse_valid_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(valid_cases); i++) {
        const valid_case *c = &valid_cases[i];
        sk_endpoint ep;
        char err[SK_ERRBUF_SIZE];
        print_message("parse \"%s\"\n", c->text);
        assert_int_equal(sk_endpoint_parse(c->text, &ep, err, sizeof err), 0);
        assert_string_equal(err, "");
        assert_endpoint(&ep, c);
    }
}

static void format_round_trip_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(valid_cases); i++) {
        const valid_case *c = &valid_cases[i];
        sk_endpoint ep, again;
        char buf[SK_ADDRSTRLEN];
        print_message("format \"%s\"\n", c->text);
        assert_int_equal(sk_endpoint_parse(c->text, &ep, NULL, 0), 0);
        int n = sk_endpoint_format(&ep, buf, sizeof buf);
        assert_int_equal(n, (int)strlen(c->formatted));
        assert_string_equal(buf, c->formatted);
        assert_int_equal(sk_endpoint_parse(buf, &again, NULL, 0), 0);
        assert_endpoint(&again, c);
    }
}

/* The longest host name and Unix path accepted, built at run time. */
static void parse_length_limits(void **state)
{
    (void)state;
    char text[600], err[SK_ERRBUF_SIZE];
    sk_endpoint ep;

    memset(text, 'h', SK_HOST_MAX - 1);
    strcpy(text + SK_HOST_MAX - 1, ":80");
    assert_int_equal(sk_endpoint_parse(text, &ep, err, sizeof err), 0);
    assert_int_equal(strlen(ep.host), SK_HOST_MAX - 1);

    strcpy(text, "unix:/");
    memset(text + 6, 'p', SK_UNIX_PATH_MAX - 1);
    text[6 + SK_UNIX_PATH_MAX - 1] = '\0';
    assert_int_equal(sk_endpoint_parse(text, &ep, err, sizeof err), 0);
    assert_int_equal(strlen(ep.path), SK_UNIX_PATH_MAX);

    strcpy(text, "unix:@");
    memset(text + 6, 'a', SK_UNIX_PATH_MAX);
    text[6 + SK_UNIX_PATH_MAX] = '\0';
    assert_int_equal(sk_endpoint_parse(text, &ep, err, sizeof err), 0);
    assert_int_equal(strlen(ep.path), SK_UNIX_PATH_MAX);
    assert_true(ep.abstract);
}

/* ---- parsing: invalid text -------------------------------------------- */

typedef struct invalid_case {
    const char *text;
    const char *message;
} invalid_case;

static const invalid_case invalid_cases[] = {
    {"", "empty endpoint"},
    {"localhost", "missing port in \"localhost\""},
    {"localhost:", "missing port in \"localhost:\""},
    {"1.2.3.4", "missing port in \"1.2.3.4\""},
    {"localhost:70000", "port 70000 out of range"},
    {"70000", "port 70000 out of range"},
    {":99999999999999999999999", "port 99999999999999999999999 out of range"},
    {"localhost:abc", "invalid port \"abc\""},
    {"localhost:-1", "invalid port \"-1\""},
    {"localhost: 80", "invalid port \" 80\""},
    {"[]:80", "empty host in \"[]:80\""},
    {"[::1:80", "missing \"]\" in \"[::1:80\""},
    {"[::1]", "missing port in \"[::1]\""},
    {"[::1]:", "missing port in \"[::1]:\""},
    {"[::1]80", "expected \":port\" after \"]\" in \"[::1]80\""},
    {"[1.2.3.4]:80", "invalid IPv6 address \"1.2.3.4\""},
    {"[localhost]:80", "invalid IPv6 address \"localhost\""},
    {"::1:80", "IPv6 address needs brackets: \"[::1]:80\""},
    {"2001:db8::1:443", "IPv6 address needs brackets: \"[2001:db8::1]:443\""},
    {"fe80::1", "IPv6 address needs brackets and a port: \"[fe80::1]:port\""},
    {"1:2:3", "too many \":\" in \"1:2:3\" (an IPv6 address needs brackets: \"[::1]:80\")"},
    {"foo://x", "unknown scheme \"foo\""},
    {"http://example.org/", "unknown scheme \"http\""},
    {"http:example.org:80", "unknown scheme \"http\""},
    {"a b:80", "invalid character in host \"a b\""},
    {"host\n:80", "invalid character in host \"host\\x0a\""},
    {"tcp:", "missing address in \"tcp:\""},
    {"/tmp/sock", "a path needs the unix: scheme: \"unix:/tmp/sock\""},
    {"unix:", "empty unix path"},
    {"unix:@", "empty abstract socket name in \"unix:@\""},
};

static void parse_invalid_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(invalid_cases); i++) {
        const invalid_case *c = &invalid_cases[i];
        sk_endpoint ep;
        char err[SK_ERRBUF_SIZE];
        print_message("parse \"%s\"\n", c->text);
        assert_int_equal(sk_endpoint_parse(c->text, &ep, err, sizeof err), -EINVAL);
        assert_string_equal(err, c->message);
        /* No message buffer: the same error, no crash. */
        assert_int_equal(sk_endpoint_parse(c->text, &ep, NULL, 0), -EINVAL);
    }
}

static void parse_invalid_lengths(void **state)
{
    (void)state;
    char text[600], err[SK_ERRBUF_SIZE];
    sk_endpoint ep;

    memset(text, 'h', SK_HOST_MAX);
    strcpy(text + SK_HOST_MAX, ":80");
    assert_int_equal(sk_endpoint_parse(text, &ep, err, sizeof err), -EINVAL);
    assert_string_equal(err, "host name too long");

    strcpy(text, "unix:/");
    memset(text + 6, 'p', SK_UNIX_PATH_MAX);
    text[6 + SK_UNIX_PATH_MAX] = '\0';
    assert_int_equal(sk_endpoint_parse(text, &ep, err, sizeof err), -EINVAL);
    assert_string_equal(err, "unix path too long (max 107 bytes)");

    strcpy(text, "unix:@");
    memset(text + 6, 'a', SK_UNIX_PATH_MAX + 1);
    text[6 + SK_UNIX_PATH_MAX + 1] = '\0';
    assert_int_equal(sk_endpoint_parse(text, &ep, err, sizeof err), -EINVAL);
    assert_string_equal(err, "unix abstract name too long (max 107 bytes)");

    /* Long junk is quoted, cut short, and still fits the buffer. */
    memset(text, ' ', 550);
    strcpy(text + 550, ":80");
    assert_int_equal(sk_endpoint_parse(text, &ep, err, sizeof err), -EINVAL);
    assert_true(strncmp(err, "host name too long", 18) == 0 ||
                strncmp(err, "invalid character in host", 25) == 0);
    assert_true(strlen(err) < SK_ERRBUF_SIZE);
}

static void parse_null_and_short_errbuf(void **state)
{
    (void)state;
    sk_endpoint ep;
    char err[8];
    assert_int_equal(sk_endpoint_parse(NULL, &ep, NULL, 0), -EINVAL);
    assert_int_equal(sk_endpoint_parse("localhost", &ep, err, sizeof err), -EINVAL);
    assert_string_equal(err, "missing"); /* cut to fit, NUL-ended */
}

static void format_no_space(void **state)
{
    (void)state;
    sk_endpoint ep;
    char buf[8];
    assert_int_equal(sk_endpoint_parse("tcp:127.0.0.1:7007", &ep, NULL, 0), 0);
    assert_int_equal(sk_endpoint_format(&ep, buf, sizeof buf), -ENOSPC);
    assert_int_equal(sk_endpoint_format(&ep, buf, 0), -ENOSPC);
    char exact[19];
    assert_int_equal(sk_endpoint_format(&ep, exact, sizeof exact), 18);
    assert_string_equal(exact, "tcp:127.0.0.1:7007");
}

/* ---- resolving --------------------------------------------------------- */

static void format_sa(const sk_sockaddr *sa, char *buf)
{
    int n = sk_sockaddr_format((const struct sockaddr *)&sa->ss, sa->len, buf, SK_ADDRSTRLEN);
    assert_true(n > 0);
    assert_int_equal(n, (int)strlen(buf));
}

static int resolve_text(const char *text, int socktype, bool passive, sk_sockaddr *out,
                        size_t max, char *err)
{
    sk_endpoint ep;
    assert_int_equal(sk_endpoint_parse(text, &ep, NULL, 0), 0);
    return sk_endpoint_resolve(&ep, socktype, passive, out, max, err, SK_ERRBUF_SIZE);
}

static void resolve_ipv4_literal(void **state)
{
    (void)state;
    sk_sockaddr out[4];
    char err[SK_ERRBUF_SIZE], buf[SK_ADDRSTRLEN];
    int n = resolve_text("127.0.0.1:0", SOCK_STREAM, false, out, N_ELEMS(out), err);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].ss.ss_family, AF_INET);
    assert_int_equal(out[0].len, sizeof(struct sockaddr_in));
    format_sa(&out[0], buf);
    assert_string_equal(buf, "127.0.0.1:0");

    n = resolve_text("udp:127.0.0.1:53", SOCK_DGRAM, true, out, N_ELEMS(out), err);
    assert_int_equal(n, 1);
    format_sa(&out[0], buf);
    assert_string_equal(buf, "127.0.0.1:53");
}

static bool ipv6_loopback_available(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool ok = bind(fd, (struct sockaddr *)&sin6, sizeof sin6) == 0;
    close(fd);
    return ok;
}

static void resolve_ipv6_literal(void **state)
{
    (void)state;
    if (!ipv6_loopback_available())
        skip();
    sk_sockaddr out[4];
    char err[SK_ERRBUF_SIZE], buf[SK_ADDRSTRLEN];
    int n = resolve_text("[::1]:0", SOCK_STREAM, false, out, N_ELEMS(out), err);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].ss.ss_family, AF_INET6);
    assert_int_equal(out[0].len, sizeof(struct sockaddr_in6));
    format_sa(&out[0], buf);
    assert_string_equal(buf, "[::1]:0");

    /* The address works: bind to it. */
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&out[0].ss, out[0].len), 0);
    close(fd);
}

static void resolve_ipv6_scope(void **state)
{
    (void)state;
    unsigned lo = if_nametoindex("lo");
    if (lo == 0)
        skip();
    sk_sockaddr out[2];
    char err[SK_ERRBUF_SIZE], buf[SK_ADDRSTRLEN];
    int n = resolve_text("[fe80::1%lo]:80", SOCK_STREAM, false, out, N_ELEMS(out), err);
    assert_int_equal(n, 1);
    struct sockaddr_in6 sin6;
    memcpy(&sin6, &out[0].ss, sizeof sin6);
    assert_int_equal(sin6.sin6_scope_id, lo);
    format_sa(&out[0], buf);
    assert_string_equal(buf, "[fe80::1%lo]:80");
}

static bool is_loopback(const sk_sockaddr *sa)
{
    if (sa->ss.ss_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, &sa->ss, sizeof sin);
        return (ntohl(sin.sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->ss.ss_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, &sa->ss, sizeof sin6);
        return IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr);
    }
    return false;
}

static uint16_t port_of(const sk_sockaddr *sa)
{
    struct sockaddr_in6 sin6; /* sin_port and sin6_port share the offset */
    struct sockaddr_in sin;
    if (sa->ss.ss_family == AF_INET6) {
        memcpy(&sin6, &sa->ss, sizeof sin6);
        return ntohs(sin6.sin6_port);
    }
    memcpy(&sin, &sa->ss, sizeof sin);
    return ntohs(sin.sin_port);
}

static void resolve_localhost(void **state)
{
    (void)state;
    sk_sockaddr out[8];
    char err[SK_ERRBUF_SIZE];
    int n = resolve_text("localhost:80", SOCK_STREAM, false, out, N_ELEMS(out), err);
    assert_true(n >= 1);
    for (int i = 0; i < n; i++) {
        assert_true(is_loopback(&out[i]));
        assert_int_equal(port_of(&out[i]), 80);
    }
}

static void resolve_empty_host(void **state)
{
    (void)state;
    sk_sockaddr out[4];
    char err[SK_ERRBUF_SIZE], buf[SK_ADDRSTRLEN];

    int n = resolve_text(":8080", SOCK_STREAM, true, out, N_ELEMS(out), err);
    assert_int_equal(n, 2);
    format_sa(&out[0], buf);
    assert_string_equal(buf, "0.0.0.0:8080");
    format_sa(&out[1], buf);
    assert_string_equal(buf, "[::]:8080");

    n = resolve_text("8080", SOCK_DGRAM, false, out, N_ELEMS(out), err);
    assert_int_equal(n, 2);
    format_sa(&out[0], buf);
    assert_string_equal(buf, "127.0.0.1:8080");
    format_sa(&out[1], buf);
    assert_string_equal(buf, "[::1]:8080");

    /* Room for one: IPv4 only. */
    n = resolve_text(":0", SOCK_STREAM, true, out, 1, err);
    assert_int_equal(n, 1);
    format_sa(&out[0], buf);
    assert_string_equal(buf, "0.0.0.0:0");
}

static void resolve_unix_path(void **state)
{
    (void)state;
    sk_sockaddr out[2];
    char err[SK_ERRBUF_SIZE], buf[SK_ADDRSTRLEN];
    int n = resolve_text("unix:/tmp/x.sock", SOCK_STREAM, true, out, N_ELEMS(out), err);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].ss.ss_family, AF_UNIX);
    assert_int_equal(out[0].len, offsetof(struct sockaddr_un, sun_path) + strlen("/tmp/x.sock") + 1);
    struct sockaddr_un sun;
    memcpy(&sun, &out[0].ss, sizeof sun);
    assert_string_equal(sun.sun_path, "/tmp/x.sock");
    format_sa(&out[0], buf);
    assert_string_equal(buf, "unix:/tmp/x.sock");
}

static void resolve_unix_abstract(void **state)
{
    (void)state;
    sk_sockaddr out[2];
    char err[SK_ERRBUF_SIZE], buf[SK_ADDRSTRLEN];
    int n = resolve_text("unix:@chat", SOCK_DGRAM, false, out, N_ELEMS(out), err);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].ss.ss_family, AF_UNIX);
    /* Abstract: a leading NUL, then the name, with no NUL after it. */
    assert_int_equal(out[0].len, offsetof(struct sockaddr_un, sun_path) + 1 + 4);
    struct sockaddr_un sun;
    memcpy(&sun, &out[0].ss, sizeof sun);
    assert_int_equal(sun.sun_path[0], '\0');
    assert_memory_equal(sun.sun_path + 1, "chat", 4);
    format_sa(&out[0], buf);
    assert_string_equal(buf, "unix:@chat");
}

/* A numeric host that cannot resolve (no such interface), so no DNS query. */
static void resolve_failure(void **state)
{
    (void)state;
    sk_sockaddr out[2];
    char err[SK_ERRBUF_SIZE];
    int n = resolve_text("[fe80::1%nosuchif9]:80", SOCK_STREAM, false, out, N_ELEMS(out), err);
    assert_int_equal(n, -EADDRNOTAVAIL);
    assert_true(strncmp(err, "cannot resolve \"fe80::1%nosuchif9\": ", 36) == 0);
    assert_true(strlen(err) > 36);
}

static void resolve_bad_arguments(void **state)
{
    (void)state;
    sk_endpoint ep;
    sk_sockaddr out[2];
    char err[SK_ERRBUF_SIZE];
    assert_int_equal(sk_endpoint_parse("127.0.0.1:1", &ep, NULL, 0), 0);
    assert_int_equal(sk_endpoint_resolve(&ep, SOCK_RAW, false, out, 2, err, sizeof err), -EINVAL);
    assert_int_equal(sk_endpoint_resolve(&ep, SOCK_STREAM, false, out, 0, err, sizeof err), -EINVAL);
    assert_int_equal(sk_endpoint_resolve(NULL, SOCK_STREAM, false, out, 2, NULL, 0), -EINVAL);
}

/* ---- formatting real socket addresses ---------------------------------- */

static void sockaddr_format_bound_inet(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    memcpy(&sin, &ss, sizeof sin);
    char want[64], buf[SK_ADDRSTRLEN];
    snprintf(want, sizeof want, "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
    assert_true(ntohs(sin.sin_port) != 0);
    assert_int_equal(sk_sockaddr_format((struct sockaddr *)&ss, len, buf, sizeof buf),
                     (int)strlen(want));
    assert_string_equal(buf, want);
    close(fd);
}

static void sockaddr_format_bound_inet6(void **state)
{
    (void)state;
    if (!ipv6_loopback_available())
        skip();
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    assert_int_equal(bind(fd, (struct sockaddr *)&sin6, sizeof sin6), 0);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    memcpy(&sin6, &ss, sizeof sin6);
    char want[64], buf[SK_ADDRSTRLEN];
    snprintf(want, sizeof want, "[::1]:%u", (unsigned)ntohs(sin6.sin6_port));
    assert_true(sk_sockaddr_format((struct sockaddr *)&ss, len, buf, sizeof buf) > 0);
    assert_string_equal(buf, want);
    close(fd);
}

static void sockaddr_format_bound_unix(void **state)
{
    (void)state;
    char dir[] = "/tmp/sk_test_addr.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], want[160], buf[SK_ADDRSTRLEN];
    snprintf(path, sizeof path, "%s/s", dir);
    snprintf(want, sizeof want, "unix:%s", path);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    memcpy(sun.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    assert_true(sk_sockaddr_format((struct sockaddr *)&ss, len, buf, sizeof buf) > 0);
    assert_string_equal(buf, want);
    close(fd);
    unlink(path);
    rmdir(dir);
}

static void sockaddr_format_bound_abstract(void **state)
{
    (void)state;
    char name[64], want[80], buf[SK_ADDRSTRLEN];
    snprintf(name, sizeof name, "sk_test_addr.%ld", (long)getpid());
    snprintf(want, sizeof want, "unix:@%s", name);

    sk_sockaddr out[1];
    char err[SK_ERRBUF_SIZE];
    char text[80];
    snprintf(text, sizeof text, "unix:@%s", name);
    assert_int_equal(resolve_text(text, SOCK_STREAM, true, out, 1, err), 1);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&out[0].ss, out[0].len), 0);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(len, out[0].len); /* the kernel kept our exact length */
    assert_true(sk_sockaddr_format((struct sockaddr *)&ss, len, buf, sizeof buf) > 0);
    assert_string_equal(buf, want);
    close(fd);
}

static void sockaddr_format_unnamed_unix(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char buf[SK_ADDRSTRLEN];
    assert_int_equal(getsockname(sv[0], (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(sk_sockaddr_format((struct sockaddr *)&ss, len, buf, sizeof buf), 5);
    assert_string_equal(buf, "unix:");
    close(sv[0]);
    close(sv[1]);
}

static void sockaddr_format_errors(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_APPLETALK;
    char buf[SK_ADDRSTRLEN];
    assert_int_equal(sk_sockaddr_format((struct sockaddr *)&ss, sizeof ss, buf, sizeof buf),
                     -EAFNOSUPPORT);

    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(7007),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char small[8];
    assert_int_equal(sk_sockaddr_format((struct sockaddr *)&sin, sizeof sin, small, sizeof small),
                     -ENOSPC);
}

/* ---- sk_strerror ------------------------------------------------------- */

static void strerror_texts(void **state)
{
    (void)state;
    assert_string_equal(sk_strerror(-ECONNREFUSED), "Connection refused");
    assert_string_equal(sk_strerror(ECONNREFUSED), "Connection refused");
    assert_string_equal(sk_strerror(-EADDRNOTAVAIL), "Cannot assign requested address");
    assert_string_equal(sk_strerror(0), "Success");
    assert_string_equal(sk_strerror(-99999), "Unknown error");
    assert_string_equal(sk_strerror(INT_MIN), "Unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_valid_table),
        cmocka_unit_test(format_round_trip_table),
        cmocka_unit_test(parse_length_limits),
        cmocka_unit_test(parse_invalid_table),
        cmocka_unit_test(parse_invalid_lengths),
        cmocka_unit_test(parse_null_and_short_errbuf),
        cmocka_unit_test(format_no_space),
        cmocka_unit_test(resolve_ipv4_literal),
        cmocka_unit_test(resolve_ipv6_literal),
        cmocka_unit_test(resolve_ipv6_scope),
        cmocka_unit_test(resolve_localhost),
        cmocka_unit_test(resolve_empty_host),
        cmocka_unit_test(resolve_unix_path),
        cmocka_unit_test(resolve_unix_abstract),
        cmocka_unit_test(resolve_failure),
        cmocka_unit_test(resolve_bad_arguments),
        cmocka_unit_test(sockaddr_format_bound_inet),
        cmocka_unit_test(sockaddr_format_bound_inet6),
        cmocka_unit_test(sockaddr_format_bound_unix),
        cmocka_unit_test(sockaddr_format_bound_abstract),
        cmocka_unit_test(sockaddr_format_unnamed_unix),
        cmocka_unit_test(sockaddr_format_errors),
        cmocka_unit_test(strerror_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
