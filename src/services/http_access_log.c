/* HTTP access log in Combined Log Format:
 *   host - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326 "referer" "agent"
 * Request bytes are escaped (quotes, backslashes, controls, non-ASCII as
 * \xHH) so that a line cannot be forged or broken by a client. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http_access_log.h"

enum { LINE_MAX_BYTES = 4096, FIELD_MAX = 1024 };

static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int sk_http_access_log_open(const char *path)
{
    int fd;
    do
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

/* Append src to out[*n..] escaped, at most FIELD_MAX source bytes. */
static void put_escaped(char *out, size_t outlen, size_t *n, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t end = *n + FIELD_MAX < outlen ? *n + FIELD_MAX : outlen;
    for (size_t i = 0; i < len && *n + 5 < end; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
            out[(*n)++] = (char)ch;
            continue;
        }
        out[(*n)++] = '\\';
        out[(*n)++] = 'x';
        out[(*n)++] = hex[ch >> 4];
        out[(*n)++] = hex[ch & 15];
    }
}

/* Append a quoted field or "-". */
static void put_quoted(char *out, size_t outlen, size_t *n, const char *src, size_t len)
{
    if (*n + 8 >= outlen)
        return;
    if (!src) {
        memcpy(out + *n, "\"-\"", 3);
        *n += 3;
        return;
    }
    out[(*n)++] = '"';
    put_escaped(out, outlen - 1, n, src, len);
    out[(*n)++] = '"';
}

/* The peer's address without its port: "127.0.0.1", "::1"; "-" for Unix. */
static void put_host(char *out, size_t outlen, size_t *n, const char *peer)
{
    size_t len = strlen(peer);
    const char *colon = strrchr(peer, ':');
    if (peer[0] == '[' && strchr(peer, ']')) {
        len = (size_t)(strchr(peer, ']') - peer - 1);
        peer++;
    } else if (colon && strchr(peer, ':') == colon) {
        len = (size_t)(colon - peer);
    }
    if (!strncmp(peer, "unix", 4) || len == 0) {
        peer = "-";
        len = 1;
    }
    put_escaped(out, outlen, n, peer, len);
}

size_t sk_http_access_log_format(const sk_http_log_entry *e, char *out, size_t outlen)
{
    size_t n = 0;
    struct tm tm;
    localtime_r(&e->when, &tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    put_host(out, outlen, &n, e->peer);
    int w = snprintf(out + n, outlen - n, " - - [%02d/%s/%04d:%02d:%02d:%02d %c%02ld%02ld] ",
                     tm.tm_mday, month_names[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
    if (w > 0)
        n += (size_t)w < outlen - n ? (size_t)w : outlen - n - 1;
    put_quoted(out, outlen, &n, e->request_line, e->request_line_len);
    char bytes[24] = "-";
    if (e->body_bytes)
        snprintf(bytes, sizeof bytes, "%" PRIu64, e->body_bytes);
    w = snprintf(out + n, outlen - n, " %03d %s ", e->status, bytes);
    if (w > 0)
        n += (size_t)w < outlen - n ? (size_t)w : outlen - n - 1;
    put_quoted(out, outlen, &n, e->referer, e->referer_len);
    if (n + 1 < outlen)
        out[n++] = ' ';
    put_quoted(out, outlen, &n, e->user_agent, e->user_agent_len);
    if (n + 1 < outlen)
        out[n++] = '\n';
    return n;
}

int sk_http_access_log_write(int fd, const sk_http_log_entry *e)
{
    if (fd < 0)
        return 0;
    char line[LINE_MAX_BYTES];
    size_t n = sk_http_access_log_format(e, line, sizeof line);
    ssize_t w;
    do
        w = write(fd, line, n);
    while (w < 0 && errno == EINTR);
    return w < 0 ? -errno : 0;
}
