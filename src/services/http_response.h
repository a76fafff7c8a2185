/* HTTP responses: status line and header fields, error pages, redirects,
 * files (conditional requests, one byte range) and generated bodies. A
 * response leaves in one sk_conn_write (head and body together) when its
 * body is small (up to 16 KiB), else as the head with the file's first
 * 16 KiB followed by the rest with sk_conn_sendfile; HEAD gets the same
 * head without the body. */
#ifndef SK_HTTP_RESPONSE_H
#define SK_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "http_parse.h"
#include "sockkit/service.h"

/* One request/response exchange, as the response functions see it. */
typedef struct sk_http_exchange {
    const sk_http_request *req; /* NULL when the request head was refused */
    bool head;                  /* HEAD: head fields only */
    bool keep_alive;            /* the connection stays open after the response */
    int version_minor;          /* the request's HTTP/1.x (1 when unknown) */
    const char *date;           /* the current IMF-fixdate for Date */
    /* filled by the response functions, for the access log: */
    int status;
    uint64_t body_bytes;
} sk_http_exchange;

/* The reason phrase of a status code ("Not Found"). */
const char *sk_http_reason(int status);

/* An error (or other bodiless-status) response with a small HTML page.
 * 405 carries "Allow: GET, HEAD"; 416 "Content-Range: bytes *\/size"
 * (size: the representation's). Returns 0 or -errno from the connection. */
int sk_http_send_error(sk_conn *c, sk_http_exchange *x, int status, uint64_t size);

/* 301 to location (already safe to put in a header: percent-encoded). */
int sk_http_send_redirect(sk_conn *c, sk_http_exchange *x, const char *location);

/* 200 with a generated body of the given media type. */
int sk_http_send_body(sk_conn *c, sk_http_exchange *x, const char *type, const char *body,
                      size_t len);

/* A file's validators (RFC 9110 §8.8): a strong ETag "size-mtime_ns"
 * (hex) and its Last-Modified date. */
typedef struct sk_http_validators {
    char etag[48];
    char last_modified[30];
} sk_http_validators;

/* The validators of a file of status st. */
void sk_http_validators_of(const struct stat *st, sk_http_validators *v);

/* A regular file to send. */
typedef struct sk_http_file {
    int fd;                      /* open for reading */
    const struct stat *st;       /* its status */
    const char *type;            /* its media type */
    const sk_http_validators *v; /* of st */
    const char *bytes;           /* its st_size bytes when at hand (NULL: read fd) */
} sk_http_file;

/* A regular file: 304 when If-None-Match (first) or If-Modified-Since
 * says the client has it, 206 for one satisfiable Range (honouring
 * If-Range), 416 for an unsatisfiable one, else 200; Last-Modified, ETag
 * and Accept-Ranges on each. */
int sk_http_send_file(sk_conn *c, sk_http_exchange *x, const sk_http_file *f);

#endif
