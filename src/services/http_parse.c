/* HTTP/1.1 request head parser: one left-to-right pass over the buffer.
 *
 * Lines are first delimited (NUL, bare CR and the size limits are found while
 * scanning, so they are reported as soon as the offending byte arrived), then a
 * complete line is checked against the grammar. Every decision depends only on
 * the bytes before it, which makes the parser safe to call again with more data. */
#include <string.h>

#include "http_parse.h"

enum { LINE_OK, LINE_MORE, LINE_BAD, LINE_LONG };

/* Field semantics gathered over the field lines. */
typedef struct parse_state {
    bool have_cl, have_te, te_bad, te_last_chunked;
    bool conn_close, conn_keep_alive;
    unsigned hosts;
} parse_state;

/* tchar (RFC 9110 §5.6.2). */
static bool is_tchar(unsigned char c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && memchr(extra, c, sizeof(extra) - 1) != NULL;
}

static bool is_token(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* s[0..len) equals the lower-case literal lit, ASCII case-insensitively. */
static bool span_ieq(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)s[i]) != ascii_lower((unsigned char)lit[i]))
            return false;
    return true;
}

/* Delimit the line starting at pos: at most max content bytes.
 * LINE_OK: content is [pos, *end), the next line starts at *next. */
static int scan_line(const char *buf, size_t len, size_t pos, size_t max, size_t *end, size_t *next)
{
    for (size_t i = pos; i < len; i++) {
        char c = buf[i];
        if (c == '\n') {
            *end = i;
            *next = i + 1;
            return LINE_OK;
        }
        if (c == '\r') {
            if (i + 1 == len)
                return LINE_MORE;
            if (buf[i + 1] != '\n')
                return LINE_BAD;
            *end = i;
            *next = i + 2;
            return LINE_OK;
        }
        if (i - pos >= max)
            return LINE_LONG;
        if (c == '\0')
            return LINE_BAD;
    }
    return LINE_MORE;
}

/* Skip empty lines before the request line. Returns the position of the request
 * line, or -1 need more, -2 bad. */
static long skip_empty_lines(const char *buf, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        if (pos > SK_HTTP_MAX_LINE)
            return -2;
        if (buf[pos] == '\n') {
            pos++;
        } else if (buf[pos] == '\r') {
            if (pos + 1 == len)
                return -1;
            if (buf[pos + 1] != '\n')
                return -2;
            pos += 2;
        } else {
            return (long)pos;
        }
    }
    return -1;
}

/* "HTTP/1.x" -> x; -505 for another major version; -400 otherwise. */
static int parse_version(const char *s, size_t len)
{
    if (len < 6 || memcmp(s, "HTTP/", 5) != 0 || s[5] < '0' || s[5] > '9')
        return -400;
    bool minor = len == 8 && s[6] == '.' && s[7] >= '0' && s[7] <= '9';
    if (len != 6 && !minor)
        return -400;
    if (s[5] != '1')
        return -505;
    if (!minor)
        return -400; /* "HTTP/1" */
    return s[7] - '0';
}

static int parse_request_line(const char *s, size_t len, sk_http_request *req)
{
    const char *sp1 = memchr(s, ' ', len);
    if (!sp1 || !is_token(s, (size_t)(sp1 - s)))
        return -400;
    size_t mlen = (size_t)(sp1 - s);
    const char *t = sp1 + 1, *end = s + len;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2 || sp2 == t)
        return -400;
    for (const char *p = t; p < sp2; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f)
            return -400;
    }
    const char *v = sp2 + 1;
    int minor = parse_version(v, (size_t)(end - v));
    if (minor < 0)
        return minor;
    req->method_text = (sk_http_span){ s, mlen };
    if (mlen == 3 && memcmp(s, "GET", 3) == 0)
        req->method = SK_HTTP_GET;
    else if (mlen == 4 && memcmp(s, "HEAD", 4) == 0)
        req->method = SK_HTTP_HEAD;
    else
        req->method = SK_HTTP_OTHER;
    req->target = (sk_http_span){ t, (size_t)(sp2 - t) };
    req->version_minor = minor;
    return 0;
}

/* Call fn on every non-empty element of a comma-separated list (RFC 9110 §5.6.1),
 * OWS trimmed. Stops at and returns the first non-zero result. */
static int for_each_element(const sk_http_span *v, int (*fn)(const char *, size_t, parse_state *),
                            parse_state *st)
{
    size_t i = 0;
    while (i <= v->len) {
        size_t j = i;
        while (j < v->len && v->p[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && is_ows(v->p[a]))
            a++;
        while (b > a && is_ows(v->p[b - 1]))
            b--;
        if (b > a) {
            int r = fn(v->p + a, b - a, st);
            if (r)
                return r;
        }
        i = j + 1;
    }
    return 0;
}

static int connection_option(const char *s, size_t len, parse_state *st)
{
    if (span_ieq(s, len, "close"))
        st->conn_close = true;
    else if (span_ieq(s, len, "keep-alive"))
        st->conn_keep_alive = true;
    return 0;
}

static int transfer_coding(const char *s, size_t len, parse_state *st)
{
    if (!is_token(s, len))
        return -400;
    if (st->te_last_chunked)
        st->te_bad = true; /* chunked is not the final coding, or applied twice */
    st->te_last_chunked = span_ieq(s, len, "chunked");
    return 0;
}

static int content_length(const sk_http_span *v, sk_http_request *req, parse_state *st)
{
    if (v->len == 0)
        return -400;
    uint64_t n = 0;
    for (size_t i = 0; i < v->len; i++) {
        unsigned d = (unsigned)(unsigned char)v->p[i] - '0';
        if (d > 9 || n > (UINT64_MAX - d) / 10)
            return -400;
        n = n * 10 + d;
    }
    if (st->have_cl && n != req->content_length)
        return -400;
    st->have_cl = true;
    req->content_length = n;
    return 0;
}

static int host_value(const sk_http_span *v, sk_http_request *req, parse_state *st)
{
    if (++st->hosts > 1)
        return -400;
    for (size_t i = 0; i < v->len; i++)
        if (strchr(" \t/\\@?#", v->p[i]))
            return -400;
    req->host = *v;
    return 0;
}

/* The field semantics the parser derives (framing, persistence, Host). */
static int field_semantics(const sk_http_field *f, sk_http_request *req, parse_state *st)
{
    const char *n = f->name.p;
    size_t nl = f->name.len;
    if (span_ieq(n, nl, "content-length"))
        return content_length(&f->value, req, st);
    if (span_ieq(n, nl, "transfer-encoding")) {
        st->have_te = true;
        return for_each_element(&f->value, transfer_coding, st);
    }
    if (span_ieq(n, nl, "connection"))
        return for_each_element(&f->value, connection_option, st);
    if (span_ieq(n, nl, "host"))
        return host_value(&f->value, req, st);
    return 0;
}

/* field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). */
static int parse_field_line(const char *s, size_t len, sk_http_field *f)
{
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || i == len || s[i] != ':')
        return -400;
    f->name = (sk_http_span){ s, i };
    size_t a = i + 1, b = len;
    for (size_t k = a; k < b; k++) {
        unsigned char c = (unsigned char)s[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return -400;
    }
    while (a < b && is_ows(s[a]))
        a++;
    while (b > a && is_ows(s[b - 1]))
        b--;
    f->value = (sk_http_span){ s + a, b - a };
    return 0;
}

/* Checks that need the whole head; sets the derived members. */
static int finish(sk_http_request *req, const parse_state *st)
{
    if (st->have_te && (st->have_cl || req->version_minor == 0 || st->te_bad || !st->te_last_chunked))
        return -400;
    if (req->version_minor >= 1 && st->hosts == 0)
        return -400;
    if (req->version_minor >= 1)
        req->keep_alive = !st->conn_close;
    else
        req->keep_alive = st->conn_keep_alive && !st->conn_close;
    req->has_body = st->have_te || req->content_length > 0;
    return 0;
}

/* The field lines from pos up to and including the empty line. */
static int parse_fields(const char *buf, size_t len, size_t pos, sk_http_request *req)
{
    parse_state st = { 0 };
    size_t used = 0;
    for (;;) {
        if (pos == len)
            return 0;
        char c = buf[pos];
        if (c == '\n' || c == '\r') {
            size_t next = pos + 1;
            if (c == '\r') {
                if (pos + 1 == len)
                    return 0;
                if (buf[pos + 1] != '\n')
                    return -400;
                next = pos + 2;
            }
            int r = finish(req, &st);
            return r < 0 ? r : (int)next;
        }
        if (is_ows(c))
            return -400; /* obs-fold, or whitespace before the first field */
        if (req->nfields == SK_HTTP_MAX_FIELDS)
            return -431;
        size_t end, next;
        switch (scan_line(buf, len, pos, SK_HTTP_MAX_HEADER - used, &end, &next)) {
        case LINE_MORE:
            return 0;
        case LINE_BAD:
            return -400;
        case LINE_LONG:
            return -431;
        default:
            break;
        }
        used += next - pos;
        if (used > SK_HTTP_MAX_HEADER)
            return -431;
        sk_http_field *f = &req->fields[req->nfields];
        int r = parse_field_line(buf + pos, end - pos, f);
        if (r < 0)
            return r;
        req->nfields++;
        r = field_semantics(f, req, &st);
        if (r < 0)
            return r;
        pos = next;
    }
}

int sk_http_parse_request(const char *buf, size_t len, sk_http_request *req)
{
    long start = skip_empty_lines(buf, len);
    if (start < 0)
        return start == -1 ? 0 : -400;
    size_t pos = (size_t)start, end, next;
    switch (scan_line(buf, len, pos, SK_HTTP_MAX_LINE, &end, &next)) {
    case LINE_MORE:
        return 0;
    case LINE_BAD:
        return -400;
    case LINE_LONG:
        return -414;
    default:
        break;
    }
    req->nfields = 0;
    req->content_length = 0;
    req->host = (sk_http_span){ buf + pos, 0 };
    req->keep_alive = false;
    req->has_body = false;
    int r = parse_request_line(buf + pos, end - pos, req);
    if (r < 0)
        return r;
    return parse_fields(buf, len, next, req);
}

const sk_http_span *sk_http_find(const sk_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nfields; i++)
        if (span_ieq(req->fields[i].name.p, req->fields[i].name.len, name))
            return &req->fields[i].value;
    return NULL;
}

/* Decimal digits at s[*i..len) into *out, saturating at UINT64_MAX.
 * Returns false when there is no digit. */
static bool range_number(const char *s, size_t len, size_t *i, uint64_t *out)
{
    size_t start = *i;
    uint64_t n = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        unsigned d = (unsigned)(s[*i] - '0');
        n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
        (*i)++;
    }
    *out = n;
    return *i > start;
}

int sk_http_parse_range(const char *value, size_t len, uint64_t size, uint64_t *first, uint64_t *last)
{
    if (len < 6 || !span_ieq(value, 6, "bytes="))
        return 1;
    size_t i = 6, e = len;
    while (i < e && is_ows(value[i]))
        i++;
    while (e > i && is_ows(value[e - 1]))
        e--;
    uint64_t a = 0, b = 0;
    bool has_a = range_number(value, e, &i, &a);
    if (i == e || value[i] != '-')
        return 1;
    i++;
    bool has_b = range_number(value, e, &i, &b);
    if (i != e || (!has_a && !has_b))
        return 1; /* trailing text (several ranges too) or a lone "-" */
    if (!has_a) { /* suffix: the last b bytes */
        if (b == 0 || size == 0)
            return -416;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 0;
    }
    if (has_b && b < a)
        return 1;
    if (a >= size)
        return -416;
    *first = a;
    *last = (!has_b || b >= size) ? size - 1 : b;
    return 0;
}
