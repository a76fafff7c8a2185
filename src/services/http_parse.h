/* HTTP/1.1 request head parser (RFC 9112 message syntax, RFC 9110 semantics).
 *
 * A pure function over the caller's buffer: no allocation, no global state,
 * O(n), never reads past len, zero-copy (every span points into the buffer).
 * Calling it again from the start with more data gives the same result as
 * before whenever the earlier result was final (> 0 or < 0).
 *
 * Strict: request line `method SP request-target SP HTTP/1.x` (exactly one
 * SP between the parts); lines end in CRLF, a bare LF is also recognized as
 * a line end (RFC 9112 §2.2), a CR not followed by LF anywhere is an error;
 * empty lines before the request line are skipped (at most SK_HTTP_MAX_LINE
 * bytes of them). Errors, as -status:
 *   -400  bad request line or method token, NUL or other control character,
 *         bare CR, obs-fold (a field line starting with SP/HTAB, also right
 *         after the request line), field name not a token or whitespace
 *         before ':', Content-Length not 1*DIGIT (a list "5, 5" too) or
 *         overflowing, duplicate Content-Lengths that differ, Content-Length
 *         together with Transfer-Encoding, Transfer-Encoding in HTTP/1.0,
 *         Transfer-Encoding whose final coding is not "chunked" (or chunked
 *         twice, or a coding that is not a token), HTTP/1.1 without Host,
 *         more than one Host, a Host value with whitespace, '/', '\\', '@',
 *         '?', '#';
 *   -414  request line longer than SK_HTTP_MAX_LINE bytes (CRLF excluded),
 *         reported as soon as that many bytes arrived without a line end;
 *   -431  field lines longer than SK_HTTP_MAX_HEADER bytes in all (line
 *         ends included, the final empty line excluded) or more than
 *         SK_HTTP_MAX_FIELDS field lines; reported as soon as exceeded;
 *   -505  HTTP major version other than 1 ("HTTP/2.0", "HTTP/3", "HTTP/0.9").
 * Methods other than GET and HEAD parse fine (SK_HTTP_OTHER): the server
 * answers 405. A request with a body is parsed fine (has_body): the server
 * answers 413. Bytes after the head (a pipelined request, a body) are not
 * looked at. */
#ifndef SK_HTTP_PARSE_H
#define SK_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A byte range in the caller's buffer (not NUL-terminated). */
typedef struct {
    const char *p;
    size_t len;
} sk_http_span;

/* One field line: name as sent (case preserved), value without leading and
 * trailing OWS (SP / HTAB). */
typedef struct {
    sk_http_span name, value;
} sk_http_field;

enum { SK_HTTP_MAX_LINE = 8192, SK_HTTP_MAX_HEADER = 16384, SK_HTTP_MAX_FIELDS = 100 };

typedef enum { SK_HTTP_GET, SK_HTTP_HEAD, SK_HTTP_OTHER } sk_http_method;

typedef struct sk_http_request {
    sk_http_method method;       /* GET and HEAD are case-sensitive (RFC 9110 §9.1) */
    sk_http_span method_text;    /* the method token as sent */
    sk_http_span target;         /* request-target as sent (origin-, absolute-, authority- or asterisk-form) */
    int version_minor;           /* HTTP/1.x: x (0-9) */
    sk_http_field fields[SK_HTTP_MAX_FIELDS];
    size_t nfields;
    /* derived while parsing: */
    bool keep_alive;             /* 1.1+: true unless a Connection "close" token; 1.0: only with
                                    a "keep-alive" token and no "close" */
    bool has_body;               /* Content-Length > 0 or any Transfer-Encoding */
    uint64_t content_length;     /* 0 when absent */
    sk_http_span host;           /* the Host value; empty when absent (allowed in 1.0 only) */
} sk_http_request;

/* Parse one request head from buf[0..len).
 * Returns > 0: bytes consumed (leading empty lines, request line, field lines and
 * the final empty line); 0: need more data (req contents undefined); < 0: -status
 * (-400, -414, -431, -505, see above; req contents undefined). */
int sk_http_parse_request(const char *buf, size_t len, sk_http_request *req);

/* The value of the first field named name (ASCII case-insensitive), or NULL. */
const sk_http_span *sk_http_find(const sk_http_request *req, const char *name);

/* Evaluate a Range field value (RFC 9110 §14.1.2, §14.2) against a representation
 * of size bytes. Only a single "bytes=" range is honoured:
 *   "bytes=a-b"  first a, last min(b, size - 1) (a > b: ignored);
 *   "bytes=a-"   first a, last size - 1;
 *   "bytes=-n"   the last n bytes (all of them when n >= size).
 * The unit is case-insensitive; OWS around the range is allowed.
 * Returns 0 with *first and *last (inclusive) set; 1 when the header is to be ignored
 * (another unit, several ranges, bad syntax: serve 200 with the whole
 * representation); -416 when the range is not satisfiable (a >= size, "-0",
 * or size 0). */
int sk_http_parse_range(const char *value, size_t len, uint64_t size, uint64_t *first, uint64_t *last);

#endif
