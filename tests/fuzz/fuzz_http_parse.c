/* libFuzzer target for the HTTP/1.1 request head parser (and the Range and date
 * parsers on the field values it finds).
 *
 * Input layout: byte 0 picks a split point, the rest is the byte stream. The
 * stream is parsed from an exactly-sized heap copy (ASan catches a read past len)
 * and checked: consumed <= len, spans inside the head, names are tokens, values
 * have no surrounding OWS, derived members agree with the fields; a prefix gives
 * "need more" or the same final result; the head alone parses the same.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_date.h"
#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) \
    do { \
        if (!(cond)) \
            abort(); \
    } while (0)

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *p, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)p[i]))
            return false;
    return true;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Case-insensitive equality of a span and a NUL-terminated name. */
static bool span_ieq(const char *p, size_t len, const char *name)
{
    if (strlen(name) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char a = (unsigned char)p[i], b = (unsigned char)name[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        if (a != b)
            return false;
    }
    return true;
}

static int parse_copy(const uint8_t *s, size_t n, sk_http_request *req)
{
    char *copy = malloc(n ? n : 1);
    CHECK(copy != NULL);
    memcpy(copy, s, n);
    int r = sk_http_parse_request(copy, n, req);
    free(copy);
    return r;
}

static void check_span(sk_http_span s, const char *buf, int r)
{
    CHECK(s.p >= buf && s.len <= (size_t)r && s.p + s.len <= buf + r);
}

/* Range and date parsers on a field value. */
static void check_value(const sk_http_span *v, uint64_t size)
{
    uint64_t first = 0, last = 0;
    int r = sk_http_parse_range(v->p, v->len, size, &first, &last);
    CHECK(r == 0 || r == 1 || r == -416);
    if (r == 0)
        CHECK(first <= last && last < size);
    time_t t;
    if (sk_http_date_parse(v->p, v->len, &t) == 0) {
        char out[30];
        if (sk_http_date_format(t, out) == SK_HTTP_DATE_LEN) {
            time_t back;
            CHECK(sk_http_date_parse(out, SK_HTTP_DATE_LEN, &back) == 0 && back == t);
        }
    }
}

static void check_request(const sk_http_request *req, const char *buf, int r)
{
    check_span(req->method_text, buf, r);
    check_span(req->target, buf, r);
    check_span(req->host, buf, r);
    CHECK(req->method_text.len > 0 && req->target.len > 0);
    CHECK(req->version_minor >= 0 && req->version_minor <= 9);
    CHECK(req->nfields <= SK_HTTP_MAX_FIELDS);
    CHECK(req->has_body == (req->content_length > 0 || sk_http_find(req, "transfer-encoding") != NULL));
    if (req->version_minor >= 1)
        CHECK(sk_http_find(req, "host") != NULL);
    for (size_t i = 0; i < req->nfields; i++) {
        const sk_http_field *f = &req->fields[i];
        check_span(f->name, buf, r);
        check_span(f->value, buf, r);
        CHECK(is_token(f->name.p, f->name.len));
        if (f->value.len) {
            CHECK(!is_ows(f->value.p[0]) && !is_ows(f->value.p[f->value.len - 1]));
            CHECK(!memchr(f->value.p, '\r', f->value.len) && !memchr(f->value.p, '\n', f->value.len));
            CHECK(!memchr(f->value.p, '\0', f->value.len));
        }
        /* sk_http_find gives the first field of that name. */
        static char name[SK_HTTP_MAX_HEADER + 1];
        memcpy(name, f->name.p, f->name.len);
        name[f->name.len] = '\0';
        const sk_http_span *found = sk_http_find(req, name);
        CHECK(found != NULL && found >= &req->fields[0].value && found <= &f->value);
        const sk_http_field *ff = (const sk_http_field *)((const char *)found - offsetof(sk_http_field, value));
        CHECK(span_ieq(ff->name.p, ff->name.len, name));
        check_value(&f->value, req->content_length ^ f->value.len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 40000)
        return 0;
    const uint8_t *s = data + 1;
    size_t n = size - 1;
    static sk_http_request req, again;
    char *copy = malloc(n ? n : 1);
    CHECK(copy != NULL);
    memcpy(copy, s, n);
    int r = sk_http_parse_request(copy, n, &req);
    CHECK(r <= (int)n);
    CHECK(r >= 0 || r == -400 || r == -414 || r == -431 || r == -505);
    if (r > 0) {
        check_request(&req, copy, r);
        /* The head alone parses the same. */
        CHECK(parse_copy(s, (size_t)r, &again) == r);
        CHECK(again.nfields == req.nfields && again.keep_alive == req.keep_alive &&
              again.content_length == req.content_length && again.method == req.method);
    }
    free(copy);
    /* Prefixes: "need more" or the same final result. */
    size_t cuts[3] = { (size_t)data[0] * n / 256, n ? n - 1 : 0, r > 0 ? (size_t)r - 1 : n / 2 };
    for (size_t k = 0; k < 3; k++) {
        if (cuts[k] >= n)
            continue;
        int rp = parse_copy(s, cuts[k], &again);
        CHECK(rp == 0 || rp == r);
        if (r > 0)
            CHECK(rp == ((size_t)r <= cuts[k] ? r : 0));
    }
    return 0;
}
