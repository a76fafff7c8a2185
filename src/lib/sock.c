/* The socket facade (see include/sockkit/sock.h).
 *
 * The descriptor is always O_NONBLOCK|O_CLOEXEC. Each operation tries its
 * syscall; on EAGAIN it waits with poll() until the deadline computed once
 * at the start of the call (timeout 0: return -EAGAIN at once), then tries
 * again. EINTR is retried with the remaining time recomputed.
 */
#include "sockkit/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "deadline.h"
#include "sockkit/error.h"

/* Most addresses tried by sk_sock_connect / sk_sock_listen_endpoint. */
#define SK_MAX_ADDRS 16

/* Unix socket files connect() may find busy (a full accept queue). While
 * waiting for room, connect is retried at this interval, milliseconds. */
#define SK_CONNECT_RETRY_MS 10

static bool would_block(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK;
}

/* Wait on fd for events until deadline. Returns 0 when something is ready
 * (including POLLERR/POLLHUP: the next syscall reports the error),
 * -EAGAIN for a non-blocking socket, -ETIMEDOUT, or -errno. */
static int await_ready(const sk_sock *s, short events, int64_t deadline)
{
    if (s->timeout_ms == 0)
        return -EAGAIN;
    for (;;) {
        int left = sk_deadline_remaining(deadline);
        if (left == 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = s->fd, .events = events, .revents = 0};
        int n = poll(&p, 1, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n > 0)
            return (p.revents & POLLNVAL) ? -EBADF : 0;
    }
}

int sk_sock_open(sk_sock *s, int family, int type)
{
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    s->fd = -1;
    if (fd < 0)
        return -errno;
    s->fd = fd;
    s->family = family;
    s->type = type;
    s->timeout_ms = -1;
    return 0;
}

static int get_int_opt(int fd, int level, int name, int *val)
{
    socklen_t len = sizeof *val;
    if (getsockopt(fd, level, name, val, &len) < 0)
        return -errno;
    return 0;
}

static int set_int_opt(const sk_sock *s, int level, int name, int val)
{
    if (setsockopt(s->fd, level, name, &val, sizeof val) < 0)
        return -errno;
    return 0;
}

int sk_sock_from_fd(sk_sock *s, int fd)
{
    int family, type;
    int rc = get_int_opt(fd, SOL_SOCKET, SO_DOMAIN, &family);
    if (rc == 0)
        rc = get_int_opt(fd, SOL_SOCKET, SO_TYPE, &type);
    if (rc < 0)
        return rc;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
        return -errno;
    s->fd = fd;
    s->family = family;
    s->type = type;
    s->timeout_ms = -1;
    return 0;
}

int sk_sock_bind(sk_sock *s, const sk_sockaddr *addr)
{
    if (bind(s->fd, (const struct sockaddr *)&addr->ss, addr->len) < 0)
        return -errno;
    return 0;
}

int sk_sock_listen(sk_sock *s, int backlog)
{
    if (listen(s->fd, backlog > 0 ? backlog : SK_DEFAULT_BACKLOG) < 0)
        return -errno;
    return 0;
}

int sk_sock_error(sk_sock *s)
{
    int e = 0;
    int rc = get_int_opt(s->fd, SOL_SOCKET, SO_ERROR, &e);
    return rc < 0 ? rc : -e;
}

/* ---- connecting ------------------------------------------------------ */

/* A Unix stream connect finding the accept queue full fails with EAGAIN
 * (no connection is in progress): retry until the deadline. */
static int connect_retry_busy(sk_sock *s, const sk_sockaddr *addr, int64_t deadline)
{
    for (;;) {
        int left = sk_deadline_remaining(deadline);
        if (left == 0)
            return -ETIMEDOUT;
        poll(NULL, 0, (left < 0 || left > SK_CONNECT_RETRY_MS) ? SK_CONNECT_RETRY_MS : left);
        if (connect(s->fd, (const struct sockaddr *)&addr->ss, addr->len) == 0)
            return 0;
        if (!would_block(errno) && errno != EINTR)
            return -errno;
    }
}

int sk_sock_connect_ex(sk_sock *s, const sk_sockaddr *addr)
{
    int64_t deadline = sk_deadline_from_timeout(s->timeout_ms);
    if (connect(s->fd, (const struct sockaddr *)&addr->ss, addr->len) == 0)
        return 0;
    int e = errno;
    if (would_block(e) && addr->ss.ss_family == AF_UNIX) {
        if (s->timeout_ms == 0)
            return -EAGAIN;
        return connect_retry_busy(s, addr, deadline);
    }
    /* EINTR on a non-blocking connect: it goes on asynchronously. */
    if (e != EINPROGRESS && e != EINTR)
        return -e;
    if (s->timeout_ms == 0)
        return -EINPROGRESS;
    int rc = await_ready(s, POLLOUT, deadline);
    return rc < 0 ? rc : sk_sock_error(s);
}

/* Write "ADDR: reason" into err (when given) for address sa. */
static void format_addr_error(char *err, size_t errlen, const sk_sockaddr *sa, int rc)
{
    if (err == NULL || errlen == 0)
        return;
    char text[SK_ADDRSTRLEN];
    if (sk_sockaddr_format((const struct sockaddr *)&sa->ss, sa->len, text, sizeof text) < 0)
        snprintf(text, sizeof text, "(address)");
    snprintf(err, errlen, "%s: %s", text, sk_strerror(rc));
}

/* One attempt of sk_sock_connect on one address. */
static int connect_one(sk_sock *s, const sk_sockaddr *addr, int socktype, int timeout_ms)
{
    int rc = sk_sock_open(s, addr->ss.ss_family, socktype);
    if (rc < 0)
        return rc;
    s->timeout_ms = timeout_ms < 0 ? -1 : timeout_ms;
    rc = sk_sock_connect_ex(s, addr);
    if (rc == -EINPROGRESS || rc == -EAGAIN) /* timeout 0 left no time to finish */
        rc = -ETIMEDOUT;
    if (rc < 0) {
        sk_sock_close(s);
        return rc;
    }
    s->timeout_ms = -1;
    return 0;
}

int sk_sock_connect(sk_sock *s, const sk_endpoint *ep, int socktype, int timeout_ms,
                    char *err, size_t errlen)
{
    sk_sockaddr addrs[SK_MAX_ADDRS];
    s->fd = -1;
    int n = sk_endpoint_resolve(ep, socktype, false, addrs, SK_MAX_ADDRS, err, errlen);
    if (n < 0)
        return n;
    int rc = -EADDRNOTAVAIL;
    for (int i = 0; i < n; i++) {
        rc = connect_one(s, &addrs[i], socktype, timeout_ms);
        if (rc == 0)
            return 0;
        format_addr_error(err, errlen, &addrs[i], rc);
    }
    return rc;
}

/* ---- listening ------------------------------------------------------- */

/* The Unix socket file named by addr, or NULL if addr is abstract/unnamed. */
static const char *unix_file_path(const sk_sockaddr *addr)
{
    const struct sockaddr_un *un = (const struct sockaddr_un *)&addr->ss;
    if (addr->ss.ss_family != AF_UNIX || addr->len <= offsetof(struct sockaddr_un, sun_path) ||
        un->sun_path[0] == '\0')
        return NULL;
    return un->sun_path;
}

/* True when the socket file at addr has nobody behind it (connect says
 * ECONNREFUSED); a live listener, or anything but a socket, is not stale. */
static bool unix_file_is_stale(const sk_sockaddr *addr, int socktype)
{
    struct stat st;
    if (stat(unix_file_path(addr), &st) < 0 || !S_ISSOCK(st.st_mode))
        return false;
    sk_sock probe;
    if (sk_sock_open(&probe, AF_UNIX, socktype) < 0)
        return false;
    probe.timeout_ms = 0;
    int rc = sk_sock_connect_ex(&probe, addr);
    sk_sock_close(&probe);
    return rc == -ECONNREFUSED;
}

/* bind(), replacing a stale Unix socket file once. */
static int bind_replacing_stale(sk_sock *s, const sk_sockaddr *addr, int socktype)
{
    int rc = sk_sock_bind(s, addr);
    if (rc != -EADDRINUSE || unix_file_path(addr) == NULL)
        return rc;
    if (!unix_file_is_stale(addr, socktype))
        return rc;
    if (unlink(unix_file_path(addr)) < 0 && errno != ENOENT)
        return -errno;
    return sk_sock_bind(s, addr);
}

/* Socket, options, bind and listen for one resolved address. */
static int listen_one(sk_sock *s, const sk_sockaddr *addr, int socktype, int backlog, int flags)
{
    int family = addr->ss.ss_family;
    bool inet = family == AF_INET || family == AF_INET6;
    int rc = sk_sock_open(s, family, socktype);
    if (rc < 0)
        return rc;
    if (inet && socktype == SOCK_STREAM)
        rc = sk_sock_set_reuseaddr(s, true);
    if (rc == 0 && inet && (flags & SK_LISTEN_REUSEPORT))
        rc = sk_sock_set_reuseport(s, true);
    if (rc == 0)
        rc = bind_replacing_stale(s, addr, socktype);
    if (rc == 0 && socktype == SOCK_STREAM)
        rc = sk_sock_listen(s, backlog);
    if (rc < 0)
        sk_sock_close(s);
    return rc;
}

int sk_sock_listen_endpoint(sk_sock *s, const sk_endpoint *ep, int socktype, int backlog,
                            int flags, char *err, size_t errlen)
{
    sk_sockaddr addrs[SK_MAX_ADDRS];
    s->fd = -1;
    int n = sk_endpoint_resolve(ep, socktype, true, addrs, SK_MAX_ADDRS, err, errlen);
    if (n < 0)
        return n;
    int rc = -EADDRNOTAVAIL;
    for (int i = 0; i < n; i++) {
        rc = listen_one(s, &addrs[i], socktype, backlog, flags);
        if (rc == 0)
            return 0;
        format_addr_error(err, errlen, &addrs[i], rc);
        /* Only an address this host cannot use sends us to the next one. */
        if (rc != -EAFNOSUPPORT && rc != -EADDRNOTAVAIL)
            break;
    }
    return rc;
}

int sk_sock_accept(sk_sock *listener, sk_sock *client, sk_sockaddr *peer)
{
    int64_t deadline = sk_deadline_from_timeout(listener->timeout_ms);
    client->fd = -1;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(listener->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            client->fd = fd;
            client->family = listener->family;
            client->type = listener->type;
            client->timeout_ms = -1;
            if (peer != NULL) {
                peer->ss = ss;
                peer->len = len;
            }
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (!would_block(errno))
            return -errno;
        int rc = await_ready(listener, POLLIN, deadline);
        if (rc < 0)
            return rc;
    }
}

/* ---- data transfer --------------------------------------------------- */

static ssize_t send_until(sk_sock *s, const void *buf, size_t len, int64_t deadline)
{
    for (;;) {
        ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (!would_block(errno))
            return -errno;
        int rc = await_ready(s, POLLOUT, deadline);
        if (rc < 0)
            return rc;
    }
}

static ssize_t recv_until(sk_sock *s, void *buf, size_t len, int64_t deadline)
{
    for (;;) {
        ssize_t n = recv(s->fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (!would_block(errno))
            return -errno;
        int rc = await_ready(s, POLLIN, deadline);
        if (rc < 0)
            return rc;
    }
}

ssize_t sk_sock_send(sk_sock *s, const void *buf, size_t len)
{
    return send_until(s, buf, len, sk_deadline_from_timeout(s->timeout_ms));
}

ssize_t sk_sock_sendfile(sk_sock *s, int fd, off_t *offset, size_t len)
{
    int64_t deadline = sk_deadline_from_timeout(s->timeout_ms);
    for (;;) {
        ssize_t n = sendfile(s->fd, fd, offset, len);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (!would_block(errno))
            return -errno;
        int rc = await_ready(s, POLLOUT, deadline);
        if (rc < 0)
            return rc;
    }
}

int sk_sock_sendall(sk_sock *s, const void *buf, size_t len)
{
    int64_t deadline = sk_deadline_from_timeout(s->timeout_ms);
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send_until(s, p, len, deadline);
        if (n < 0)
            return (int)n;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t sk_sock_recv(sk_sock *s, void *buf, size_t len)
{
    return recv_until(s, buf, len, sk_deadline_from_timeout(s->timeout_ms));
}

ssize_t sk_sock_recv_exact(sk_sock *s, void *buf, size_t len)
{
    int64_t deadline = sk_deadline_from_timeout(s->timeout_ms);
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv_until(s, p + got, len - got, deadline);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

ssize_t sk_sock_sendto(sk_sock *s, const void *buf, size_t len, const sk_sockaddr *addr)
{
    int64_t deadline = sk_deadline_from_timeout(s->timeout_ms);
    for (;;) {
        ssize_t n = sendto(s->fd, buf, len, MSG_NOSIGNAL, (const struct sockaddr *)&addr->ss,
                           addr->len);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (!would_block(errno))
            return -errno;
        int rc = await_ready(s, POLLOUT, deadline);
        if (rc < 0)
            return rc;
    }
}

ssize_t sk_sock_recvfrom(sk_sock *s, void *buf, size_t len, sk_sockaddr *from)
{
    int64_t deadline = sk_deadline_from_timeout(s->timeout_ms);
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sslen = sizeof ss;
        ssize_t n = recvfrom(s->fd, buf, len, 0, (struct sockaddr *)&ss, &sslen);
        if (n >= 0) {
            if (from != NULL) {
                from->ss = ss;
                from->len = sslen;
            }
            return n;
        }
        if (errno == EINTR)
            continue;
        if (!would_block(errno))
            return -errno;
        int rc = await_ready(s, POLLIN, deadline);
        if (rc < 0)
            return rc;
    }
}

int sk_sock_shutdown(sk_sock *s, int how)
{
    if (shutdown(s->fd, how) < 0)
        return -errno;
    return 0;
}

int sk_sock_close(sk_sock *s)
{
    if (s->fd < 0)
        return 0;
    int rc = close(s->fd);
    s->fd = -1;
    /* On Linux the descriptor is released even when close reports EINTR. */
    if (rc < 0 && errno != EINTR)
        return -errno;
    return 0;
}

int sk_sock_settimeout(sk_sock *s, int timeout_ms)
{
    if (timeout_ms < -1)
        return -EINVAL;
    s->timeout_ms = timeout_ms;
    return 0;
}

int sk_sock_wait(sk_sock *s, short events, int timeout_ms)
{
    if (s->fd < 0)
        return -EBADF;
    int64_t deadline = sk_deadline_from_timeout(timeout_ms);
    for (;;) {
        struct pollfd p = {.fd = s->fd, .events = events, .revents = 0};
        int n = poll(&p, 1, sk_deadline_remaining(deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n > 0)
            return (p.revents & POLLNVAL) ? -EBADF : p.revents;
        if (sk_deadline_remaining(deadline) == 0)
            return -ETIMEDOUT;
    }
}

/* ---- names and options ----------------------------------------------- */

/* Format the socket's own address (peer false) or its peer's as text. */
static int format_name(sk_sock *s, bool peer, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    int rc = peer ? getpeername(s->fd, (struct sockaddr *)&ss, &sslen)
                  : getsockname(s->fd, (struct sockaddr *)&ss, &sslen);
    if (rc < 0)
        return -errno;
    return sk_sockaddr_format((const struct sockaddr *)&ss, sslen, buf, len);
}

int sk_sock_local_name(sk_sock *s, char *buf, size_t len)
{
    return format_name(s, false, buf, len);
}

int sk_sock_peer_name(sk_sock *s, char *buf, size_t len)
{
    return format_name(s, true, buf, len);
}

int sk_sock_set_nodelay(sk_sock *s, bool on)
{
    return set_int_opt(s, IPPROTO_TCP, TCP_NODELAY, on);
}

int sk_sock_set_keepalive(sk_sock *s, bool on)
{
    return set_int_opt(s, SOL_SOCKET, SO_KEEPALIVE, on);
}

int sk_sock_set_reuseaddr(sk_sock *s, bool on)
{
    return set_int_opt(s, SOL_SOCKET, SO_REUSEADDR, on);
}

int sk_sock_set_reuseport(sk_sock *s, bool on)
{
    return set_int_opt(s, SOL_SOCKET, SO_REUSEPORT, on);
}

int sk_sock_set_sndbuf(sk_sock *s, int bytes)
{
    return set_int_opt(s, SOL_SOCKET, SO_SNDBUF, bytes);
}

int sk_sock_set_rcvbuf(sk_sock *s, int bytes)
{
    return set_int_opt(s, SOL_SOCKET, SO_RCVBUF, bytes);
}
