/* HTTP responses (RFC 9110 §15 status codes, §8.8 validators, §13
 * conditional requests, §14 range requests). Every response carries Date,
 * Server and, unless it has no content by definition (304), Content-Length;
 * "Connection: close" when the connection ends after it, "keep-alive" for
 * an HTTP/1.0 client that asked to keep it. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_date.h"
#include "http_response.h"

/* Bodies up to INLINE_MAX bytes leave in one write with their head: one
 * system call, one TCP segment. Larger files: the head with their first
 * INLINE_MAX bytes, then the rest as one file range (sk_conn_sendfile: the
 * connection sends it in bursts as the socket drains, without a copy
 * through user space). */
enum { HEAD_BYTES = 1024, PAGE_BYTES = 512, INLINE_MAX = 16 * 1024, RANGE_MAX = 1 << 30 };

/* A response head being built, with room for a small body after it;
 * overflow cannot happen with the fields written here, but is checked. */
typedef struct head {
    char buf[HEAD_BYTES + INLINE_MAX];
    size_t len;
    bool overflow;
} head;

const char *sk_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

__attribute__((format(printf, 2, 3))) static void head_add(head *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(h->buf + h->len, HEAD_BYTES - h->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= HEAD_BYTES - h->len)
        h->overflow = true;
    else
        h->len += (size_t)n;
}

/* The fields of every response are appended without printf: these run
 * for each request. */
static void head_str(head *h, const char *s)
{
    size_t n = strlen(s);
    if (n > HEAD_BYTES - h->len) {
        h->overflow = true;
        return;
    }
    memcpy(h->buf + h->len, s, n);
    h->len += n;
}

static void head_u64(head *h, uint64_t v)
{
    char digits[24];
    char *p = digits + sizeof digits;
    *--p = '\0';
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    head_str(h, p);
}

static void head_begin(head *h, sk_http_exchange *x, int status)
{
    h->len = 0;
    h->overflow = false;
    x->status = status;
    head_str(h, "HTTP/1.1 ");
    head_u64(h, (uint64_t)status);
    head_str(h, " ");
    head_str(h, sk_http_reason(status));
    head_str(h, "\r\nDate: ");
    head_str(h, x->date);
    head_str(h, "\r\nServer: sockkit\r\n");
}

/* Connection and the empty line. Returns 0 or -EOVERFLOW. */
static int head_end(head *h, const sk_http_exchange *x)
{
    if (!x->keep_alive)
        head_str(h, "Connection: close\r\n");
    else if (x->version_minor == 0)
        head_str(h, "Connection: keep-alive\r\n");
    head_str(h, "\r\n");
    return h->overflow ? -EOVERFLOW : 0;
}

/* The head and body (none for HEAD) in one write. */
static int head_send(sk_conn *c, head *h, sk_http_exchange *x, const char *body, size_t len)
{
    int rc = head_end(h, x);
    if (rc < 0)
        return rc;
    if (x->head || len == 0)
        return sk_conn_write(c, h->buf, h->len);
    x->body_bytes = len;
    if (len <= sizeof h->buf - h->len) {
        memcpy(h->buf + h->len, body, len);
        return sk_conn_write(c, h->buf, h->len + len);
    }
    char *all = malloc(h->len + len);
    if (!all)
        return -ENOMEM;
    memcpy(all, h->buf, h->len);
    memcpy(all + h->len, body, len);
    rc = sk_conn_write(c, all, h->len + len);
    free(all);
    return rc;
}

int sk_http_send_error(sk_conn *c, sk_http_exchange *x, int status, uint64_t size)
{
    char page[PAGE_BYTES];
    const char *reason = sk_http_reason(status);
    int n = snprintf(page, sizeof page,
                     "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
                     "<body><h1>%d %s</h1></body></html>\n",
                     status, reason, status, reason);
    size_t len = n > 0 && (size_t)n < sizeof page ? (size_t)n : 0;
    head h;
    head_begin(&h, x, status);
    head_add(&h, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n", len);
    if (status == 405)
        head_add(&h, "Allow: GET, HEAD\r\n");
    if (status == 416)
        head_add(&h, "Content-Range: bytes */%" PRIu64 "\r\n", size);
    return head_send(c, &h, x, page, len);
}

int sk_http_send_redirect(sk_conn *c, sk_http_exchange *x, const char *location)
{
    static const char page[] = "<!DOCTYPE html>\n<html><head><title>301 Moved Permanently</title>"
                               "</head><body><h1>Moved Permanently</h1></body></html>\n";
    head h;
    head_begin(&h, x, 301);
    head_add(&h, "Location: %s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n",
             location, sizeof page - 1);
    return head_send(c, &h, x, page, sizeof page - 1);
}

int sk_http_send_body(sk_conn *c, sk_http_exchange *x, const char *type, const char *body,
                      size_t len)
{
    head h;
    head_begin(&h, x, 200);
    head_add(&h, "Content-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-cache\r\n", type, len);
    return head_send(c, &h, x, body, len);
}

void sk_http_validators_of(const struct stat *st, sk_http_validators *v)
{
    uint64_t ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
    snprintf(v->etag, sizeof v->etag, "\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st->st_size, ns);
    sk_http_date_format(st->st_mtime, v->last_modified);
}

static bool is_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* If-None-Match: "*" or a list of entity-tags, compared weakly (a W/
 * prefix on either side does not matter). */
static bool none_match_hits(const sk_http_span *v, const char *etag)
{
    size_t etag_len = strlen(etag);
    const char *p = v->p, *end = v->p + v->len;
    while (p < end) {
        while (p < end && (is_ows(*p) || *p == ','))
            p++;
        const char *start = p;
        if (end - p >= 2 && p[0] == 'W' && p[1] == '/')
            start = p += 2;
        if (p < end && *p == '"') {
            const char *close = memchr(p + 1, '"', (size_t)(end - p - 1));
            if (!close)
                return false;
            p = close + 1;
        } else {
            while (p < end && *p != ',' && !is_ows(*p))
                p++;
        }
        size_t len = (size_t)(p - start);
        if ((len == 1 && *start == '*') || (len == etag_len && !memcmp(start, etag, len)))
            return true;
    }
    return false;
}

/* Whether the client's copy is current: If-None-Match when present, else
 * If-Modified-Since (RFC 9110 §13.2.2). */
static bool not_modified(const sk_http_request *req, const struct stat *st,
                         const sk_http_validators *v)
{
    const sk_http_span *inm = sk_http_find(req, "If-None-Match");
    if (inm)
        return none_match_hits(inm, v->etag);
    const sk_http_span *ims = sk_http_find(req, "If-Modified-Since");
    time_t since;
    return ims && sk_http_date_parse(ims->p, ims->len, &since) == 0 && st->st_mtime <= since;
}

/* If-Range: the Range applies when it names the current representation
 * (strong ETag, or exactly the Last-Modified date). */
static bool if_range_holds(const sk_http_request *req, const sk_http_validators *v)
{
    const sk_http_span *ir = sk_http_find(req, "If-Range");
    if (!ir)
        return true;
    if (ir->len && ir->p[0] == '"')
        return ir->len == strlen(v->etag) && !memcmp(ir->p, v->etag, ir->len);
    return ir->len == strlen(v->last_modified) && !memcmp(ir->p, v->last_modified, ir->len);
}

static int send_not_modified(sk_conn *c, sk_http_exchange *x, const sk_http_validators *v)
{
    head h;
    head_begin(&h, x, 304);
    head_add(&h, "ETag: %s\r\nLast-Modified: %s\r\n", v->etag, v->last_modified);
    return head_send(c, &h, x, NULL, 0);
}

/* pread exactly len bytes at offset into buf. Returns 0, or -EIO when the
 * file is shorter now (it changed under us), or -errno. */
static int read_exact(int fd, char *buf, size_t len, uint64_t offset)
{
    ssize_t n;
    do
        n = pread(fd, buf, len, (off_t)offset);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

/* The head, then len bytes of the file from first. The head never leaves
 * alone: it goes with the body when that is small, else with the body's
 * first INLINE_MAX bytes (so the head is not a small segment that Nagle's
 * algorithm would hold the response's last segment behind), and the rest
 * follows with sendfile. */
static int send_file_body(sk_conn *c, head *h, sk_http_exchange *x, const sk_http_file *f,
                          uint64_t first, uint64_t len)
{
    int fd = f->fd;
    int rc = head_end(h, x);
    if (rc < 0)
        return rc;
    x->body_bytes = len;
    size_t now = len < INLINE_MAX ? (size_t)len : INLINE_MAX;
    if (f->bytes)
        memcpy(h->buf + h->len, f->bytes + first, now);
    else if (read_exact(fd, h->buf + h->len, now, first) < 0)
        now = 0; /* let sendfile report what is wrong */
    rc = sk_conn_write(c, h->buf, h->len + now);
    for (uint64_t off = now, n; rc == 0 && off < len; off += n) { /* once, below 1 GiB */
        n = len - off < RANGE_MAX ? len - off : RANGE_MAX;
        rc = sk_conn_sendfile(c, fd, (off_t)(first + off), (size_t)n);
    }
    return rc;
}

int sk_http_send_file(sk_conn *c, sk_http_exchange *x, const sk_http_file *f)
{
    const struct stat *st = f->st;
    const sk_http_validators *v = f->v;
    if (x->req && not_modified(x->req, st, v))
        return send_not_modified(c, x, v);
    uint64_t size = (uint64_t)st->st_size, first = 0, last = size ? size - 1 : 0;
    int status = 200;
    const sk_http_span *range = x->req && !x->head ? sk_http_find(x->req, "Range") : NULL;
    if (range && if_range_holds(x->req, v)) {
        int rc = sk_http_parse_range(range->p, range->len, size, &first, &last);
        if (rc < 0)
            return sk_http_send_error(c, x, 416, size);
        if (rc == 0)
            status = 206;
        else
            first = 0, last = size ? size - 1 : 0;
    }
    uint64_t len = size ? last - first + 1 : 0;
    head h;
    head_begin(&h, x, status);
    head_str(&h, "Content-Type: ");
    head_str(&h, f->type);
    head_str(&h, "\r\nContent-Length: ");
    head_u64(&h, len);
    head_str(&h, "\r\n");
    if (status == 206)
        head_add(&h, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64 "\r\n", first, last,
                 size);
    head_str(&h, "Last-Modified: ");
    head_str(&h, v->last_modified);
    head_str(&h, "\r\nETag: ");
    head_str(&h, v->etag);
    head_str(&h, "\r\nAccept-Ranges: bytes\r\n");
    if (x->head || len == 0)
        return head_send(c, &h, x, NULL, 0);
    return send_file_body(c, &h, x, f, first, len);
}
