/* Unit tests for the HTTP/1.1 request head parser and the Range evaluator:
 * tables of valid and invalid heads (request smuggling shapes included), every
 * split point of a pipelined pair, the limits, and Range cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define S(lit) lit, sizeof(lit) - 1

typedef struct bad_case {
    const char *text;
    size_t len;
    int status;
    const char *why;
} bad_case;

static const bad_case bad_cases[] = {
    /* request line */
    { S("GET / HTTP/1.1\rHost: a\r\n\r\n"), -400, "bare CR ends the request line" },
    { S("GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n"), -400, "bare CR in the target" },
    { S("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), -400, "two SP after the method" },
    { S("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), -400, "two SP after the target" },
    { S("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), -400, "trailing SP" },
    { S(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), -400, "leading SP" },
    { S("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), -400, "HTAB as separator" },
    { S("GET /\r\n\r\n"), -400, "HTTP/0.9 simple request" },
    { S("GET / http/1.1\r\nHost: a\r\n\r\n"), -400, "lower-case HTTP" },
    { S("GET / HTTP/1\r\nHost: a\r\n\r\n"), -400, "no minor version" },
    { S("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), -400, "two-digit minor" },
    { S("GET / HTTP/11\r\nHost: a\r\n\r\n"), -400, "no dot" },
    { S("GET / HTTP/1.x\r\nHost: a\r\n\r\n"), -400, "minor not a digit" },
    { S("GET / FOO/1.1\r\nHost: a\r\n\r\n"), -400, "another protocol" },
    { S("G@T / HTTP/1.1\r\nHost: a\r\n\r\n"), -400, "method not a token" },
    { S("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"), -400, "method not a token" },
    { S("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), -400, "control character in target" },
    { S("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), -400, "DEL in target" },
    { S("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), -400, "NUL in target" },
    { S("\0GET / HTTP/1.1\r\nHost: a\r\n\r\n"), -400, "NUL first" },
    { S("\r\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), -400, "bare CR in a leading empty line" },
    { S("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), -505, "HTTP/2.0" },
    { S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), -505, "the HTTP/2 connection preface" },
    { S("GET / HTTP/3\r\nHost: a\r\n\r\n"), -505, "HTTP/3" },
    { S("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), -505, "HTTP/0.9 with a version" },
    { S("GET / HTTP/2\r\nHost: a\r\n\r\n"), -505, "HTTP/2" },
    /* field lines */
    { S("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n"), -400, "obs-fold (SP)" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\tfolded\r\n\r\n"), -400, "obs-fold (HTAB)" },
    { S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), -400, "whitespace before the first field" },
    { S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), -400, "SP before ':'" },
    { S("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), -400, "HTAB before ':'" },
    { S("GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n"), -400, "empty field name" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nno colon\r\n\r\n"), -400, "no colon" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n"), -400, "no colon, one word" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n"), -400, "name not a token" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), -400, "bare CR in a value" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), -400, "NUL in a value" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n"), -400, "control character in a value" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n"), -400, "DEL in a value" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nX\0: 1\r\n\r\n"), -400, "NUL in a name" },
    { S("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), -400, "bare CR in the final empty line" },
    { S("GET / HTTP/1.1\r\nHost: a\r\n\rX"), -400, "CR then not LF at the end" },
    /* framing: request smuggling shapes */
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), -400,
      "CL and TE" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), -400,
      "TE and CL" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n"), -400,
      "CL 0 and TE" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), -400,
      "conflicting duplicate CL" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"), -400, "CL list" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"), -400, "CL list, equal" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), -400, "CL with a sign" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), -400, "CL negative" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n"), -400, "CL hex" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n"), -400, "CL two numbers" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1.0\r\n\r\n"), -400, "CL decimal" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), -400, "CL empty" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n"), -400, "CL overflow" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n"), -400, "CL with SP before ':'" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n Transfer-Encoding: chunked\r\n\r\n"), -400,
      "TE hidden in obs-fold" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"), -400, "TE not chunked" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n"), -400,
      "chunked not last" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"), -400,
      "chunked not last over two lines" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), -400, "chunked twice" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n"), -400, "TE quoted" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"), -400, "TE empty" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x0b\r\n\r\n"), -400, "TE with VT" },
    { S("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), -400, "TE in HTTP/1.0" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"), -400, "TE with SP before ':'" },
    { S("GET / HTTP/1.1\r\nHost: a\r\n\x0bTransfer-Encoding: chunked\r\n\r\n"), -400, "VT before a name" },
    /* Host */
    { S("GET / HTTP/1.1\r\n\r\n"), -400, "HTTP/1.1 without Host" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), -400, "two Host lines" },
    { S("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), -400, "Host with SP" },
    { S("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), -400, "Host with '/'" },
    { S("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), -400, "Host with userinfo" },
};

static void test_bad_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const bad_case *c = &bad_cases[i];
        sk_http_request req;
        int r = sk_http_parse_request(c->text, c->len, &req);
        if (r != c->status)
            fail_msg("case %zu (%s): got %d, want %d", i, c->why, r, c->status);
    }
}

/* Every prefix of a bad request gives "need more" or the same error. */
static void test_bad_request_prefixes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const bad_case *c = &bad_cases[i];
        for (size_t n = 0; n < c->len; n++) {
            char *copy = malloc(n ? n : 1);
            assert_non_null(copy);
            memcpy(copy, c->text, n);
            sk_http_request req;
            int r = sk_http_parse_request(copy, n, &req);
            free(copy);
            if (r != 0 && r != c->status)
                fail_msg("case %zu (%s), prefix %zu: got %d, want 0 or %d", i, c->why, n, r, c->status);
        }
    }
}

static bool span_is(sk_http_span s, const char *text)
{
    return s.len == strlen(text) && memcmp(s.p, text, s.len) == 0;
}

typedef struct good_case {
    const char *text;
    size_t len;
    sk_http_method method;
    const char *method_text, *target;
    int minor;
    size_t nfields;
    bool keep_alive, has_body;
    uint64_t content_length;
    const char *host;
} good_case;

static const good_case good_cases[] = {
    { S("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), SK_HTTP_GET, "GET", "/", 1, 1, true, false, 0,
      "example.com" },
    { S("HEAD /a/b?c=d HTTP/1.1\r\nHost: h:8080\r\n\r\n"), SK_HTTP_HEAD, "HEAD", "/a/b?c=d", 1, 1, true, false, 0,
      "h:8080" },
    { S("GET / HTTP/1.0\r\n\r\n"), SK_HTTP_GET, "GET", "/", 0, 0, false, false, 0, "" },
    { S("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), SK_HTTP_GET, "GET", "/", 0, 1, true, false, 0, "" },
    { S("GET / HTTP/1.0\r\nConnection: Keep-Alive, close\r\n\r\n"), SK_HTTP_GET, "GET", "/", 0, 1, false, false,
      0, "" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), SK_HTTP_GET, "GET", "/", 1, 2, false, false, 0,
      "a" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade , CLOSE\r\n\r\n"), SK_HTTP_GET, "GET", "/", 1, 2, false,
      false, 0, "a" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n"), SK_HTTP_GET, "GET", "/", 1, 2, true, false, 0,
      "a" },
    { S("get / HTTP/1.1\r\nHost: a\r\n\r\n"), SK_HTTP_OTHER, "get", "/", 1, 1, true, false, 0, "a" },
    { S("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n"), SK_HTTP_OTHER, "POST", "/form", 1, 2,
      true, true, 12, "a" },
    { S("PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"), SK_HTTP_OTHER, "PUT", "/x", 1, 2,
      true, true, 0, "a" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), SK_HTTP_GET, "GET", "/", 1, 2, true, false, 0,
      "a" },
    { S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\nContent-Length: 7\r\n\r\n"), SK_HTTP_GET, "GET", "/", 1,
      3, true, true, 7, "a" },
    { S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), SK_HTTP_OTHER, "OPTIONS", "*", 1, 1, true, false, 0, "a" },
    { S("GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n"), SK_HTTP_GET, "GET", "http://a/x", 1, 1, true, false, 0, "a" },
    { S("GET / HTTP/1.1\r\nHost:\r\n\r\n"), SK_HTTP_GET, "GET", "/", 1, 1, true, false, 0, "" },
    { S("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"), SK_HTTP_GET, "GET", "/", 1, 1, true, false, 0, "[::1]:80" },
    { S("GET / HTTP/1.9\r\nHost: a\r\n\r\n"), SK_HTTP_GET, "GET", "/", 9, 1, true, false, 0, "a" },
    /* leading empty lines, bare LF line ends */
    { S("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), SK_HTTP_GET, "GET", "/", 1, 1, true, false, 0, "a" },
    { S("\nGET / HTTP/1.1\nHost: a\n\n"), SK_HTTP_GET, "GET", "/", 1, 1, true, false, 0, "a" },
    { S("GET / HTTP/1.1\r\nHost: a\n\r\n"), SK_HTTP_GET, "GET", "/", 1, 1, true, false, 0, "a" },
    /* values: OWS trimmed, obs-text and inner whitespace kept */
    { S("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\nX-Y:  \t v \t w\xff \t\r\nZ:\r\n\r\n"), SK_HTTP_GET, "GET",
      "/caf\xc3\xa9", 1, 3, true, false, 0, "a" },
};

static void check_good(const good_case *c, size_t i, const sk_http_request *req, int r)
{
    if (r != (int)c->len)
        fail_msg("case %zu: got %d, want %zu", i, r, c->len);
    assert_int_equal(req->method, c->method);
    assert_true(span_is(req->method_text, c->method_text));
    assert_true(span_is(req->target, c->target));
    assert_int_equal(req->version_minor, c->minor);
    assert_int_equal(req->nfields, c->nfields);
    if (req->keep_alive != c->keep_alive)
        fail_msg("case %zu: keep_alive %d", i, req->keep_alive);
    assert_int_equal(req->has_body, c->has_body);
    assert_int_equal(req->content_length, c->content_length);
    assert_true(span_is(req->host, c->host));
}

static void test_good_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        const good_case *c = &good_cases[i];
        sk_http_request req;
        check_good(c, i, &req, sk_http_parse_request(c->text, c->len, &req));
        /* Zero-copy: the spans point into the buffer. */
        assert_true(req.target.p > c->text && req.target.p < c->text + c->len);
    }
}

static void test_fields(void **state)
{
    (void)state;
    static const char text[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Y:  \t v \t w \t\r\nEmpty:\r\n"
                               "accept: text/html\r\nAccept: second\r\n\r\n";
    sk_http_request req;
    assert_int_equal(sk_http_parse_request(text, sizeof(text) - 1, &req), (int)sizeof(text) - 1);
    assert_int_equal(req.nfields, 5);
    assert_true(span_is(req.fields[1].name, "X-Y"));
    assert_true(span_is(req.fields[1].value, "v \t w"));
    const sk_http_span *v = sk_http_find(&req, "x-y");
    assert_non_null(v);
    assert_true(span_is(*v, "v \t w"));
    v = sk_http_find(&req, "EMPTY");
    assert_non_null(v);
    assert_int_equal(v->len, 0);
    v = sk_http_find(&req, "Accept");
    assert_non_null(v);
    assert_true(span_is(*v, "text/html")); /* the first one */
    assert_null(sk_http_find(&req, "Accep"));
    assert_null(sk_http_find(&req, "Accept-Encoding"));
}

/* A pipelined pair: every split point gives "need more" until the first head is
 * complete, then the first; after it, the second the same way. */
static void test_pipelined_split_points(void **state)
{
    (void)state;
    static const char pair[] = "GET /one HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n"
                               "HEAD /two HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
    const size_t total = sizeof(pair) - 1;
    const size_t first_len = strlen("GET /one HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n");
    for (size_t n = 0; n <= total; n++) {
        char *buf = malloc(n ? n : 1);
        assert_non_null(buf);
        memcpy(buf, pair, n);
        sk_http_request req;
        int r = sk_http_parse_request(buf, n, &req);
        if (n < first_len) {
            if (r != 0)
                fail_msg("prefix %zu: got %d, want 0", n, r);
        } else {
            assert_int_equal(r, (int)first_len);
            assert_true(span_is(req.target, "/one"));
            assert_true(req.keep_alive);
            size_t rest = n - first_len;
            int r2 = sk_http_parse_request(buf + first_len, rest, &req);
            if (n < total) {
                if (r2 != 0)
                    fail_msg("second, prefix %zu: got %d, want 0", rest, r2);
            } else {
                assert_int_equal(r2, (int)(total - first_len));
                assert_int_equal(req.method, SK_HTTP_HEAD);
                assert_true(span_is(req.target, "/two"));
                assert_true(span_is(req.host, "b"));
                assert_false(req.keep_alive);
            }
        }
        free(buf);
    }
}

/* Every good case at every split point: "need more", then the full result. */
static void test_good_prefixes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        const good_case *c = &good_cases[i];
        for (size_t n = 0; n < c->len; n++) {
            char *buf = malloc(n ? n : 1);
            assert_non_null(buf);
            memcpy(buf, c->text, n);
            sk_http_request req;
            int r = sk_http_parse_request(buf, n, &req);
            free(buf);
            if (r != 0)
                fail_msg("case %zu prefix %zu: got %d", i, n, r);
        }
    }
}

static char *repeat(char c, size_t n, const char *prefix, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *s = malloc(pl + n + sl + 1);
    assert_non_null(s);
    memcpy(s, prefix, pl);
    memset(s + pl, c, n);
    memcpy(s + pl + n, suffix, sl + 1);
    return s;
}

static void test_request_line_limit(void **state)
{
    (void)state;
    sk_http_request req;
    /* "GET /aaa HTTP/1.1" of exactly SK_HTTP_MAX_LINE bytes: fine. */
    size_t fixed = strlen("GET / HTTP/1.1");
    char *s = repeat('a', SK_HTTP_MAX_LINE - fixed, "GET /", " HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(sk_http_parse_request(s, strlen(s), &req), (int)strlen(s));
    assert_int_equal(req.target.len, SK_HTTP_MAX_LINE - fixed + 1);
    free(s);
    /* One byte more: 414. */
    s = repeat('a', SK_HTTP_MAX_LINE - fixed + 1, "GET /", " HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(sk_http_parse_request(s, strlen(s), &req), -414);
    free(s);
    /* Reported as soon as SK_HTTP_MAX_LINE + 1 bytes arrived without a line end. */
    s = repeat('a', SK_HTTP_MAX_LINE, "GET /", "");
    assert_int_equal(sk_http_parse_request(s, SK_HTTP_MAX_LINE, &req), 0);
    assert_int_equal(sk_http_parse_request(s, SK_HTTP_MAX_LINE + 1, &req), -414);
    free(s);
    /* Too many leading empty lines. */
    s = repeat('\n', SK_HTTP_MAX_LINE + 2, "", "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(sk_http_parse_request(s, strlen(s), &req), -400);
    free(s);
}

static void test_header_limits(void **state)
{
    (void)state;
    sk_http_request req;
    /* SK_HTTP_MAX_FIELDS fields: fine; one more: 431. */
    char *buf = malloc(64 * (SK_HTTP_MAX_FIELDS + 2));
    assert_non_null(buf);
    size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 1; i < SK_HTTP_MAX_FIELDS; i++)
        n += (size_t)sprintf(buf + n, "X-%d: %d\r\n", i, i);
    size_t before_end = n;
    n += (size_t)sprintf(buf + n, "\r\n");
    assert_int_equal(sk_http_parse_request(buf, n, &req), (int)n);
    assert_int_equal(req.nfields, SK_HTTP_MAX_FIELDS);
    n = before_end + (size_t)sprintf(buf + before_end, "X: 1");
    assert_int_equal(sk_http_parse_request(buf, before_end, &req), 0);
    assert_int_equal(sk_http_parse_request(buf, before_end + 1, &req), -431); /* as soon as it starts */
    assert_int_equal(sk_http_parse_request(buf, n, &req), -431);
    free(buf);

    /* The field block: SK_HTTP_MAX_HEADER bytes fine, one more 431. */
    const char *line = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
    size_t fill = SK_HTTP_MAX_HEADER - strlen("Host: a\r\nX: \r\n");
    char *s = repeat('v', fill, line, "\r\n\r\n");
    assert_int_equal(sk_http_parse_request(s, strlen(s), &req), (int)strlen(s));
    free(s);
    s = repeat('v', fill + 1, line, "\r\n\r\n");
    assert_int_equal(sk_http_parse_request(s, strlen(s), &req), -431);
    free(s);
    /* Reported before the line ends. */
    s = repeat('v', fill + 10, line, "");
    assert_int_equal(sk_http_parse_request(s, strlen(s), &req), -431);
    free(s);
}

typedef struct range_case {
    const char *value;
    uint64_t size;
    int result;
    uint64_t first, last;
} range_case;

static const range_case range_cases[] = {
    { "bytes=0-99", 1000, 0, 0, 99 },
    { "bytes=0-0", 1000, 0, 0, 0 },
    { "bytes=500-", 1000, 0, 500, 999 },
    { "bytes=-100", 1000, 0, 900, 999 },
    { "bytes=-1000", 1000, 0, 0, 999 },
    { "bytes=-5000", 1000, 0, 0, 999 },
    { "bytes=900-5000", 1000, 0, 900, 999 },
    { "bytes=999-999", 1000, 0, 999, 999 },
    { "Bytes=1-2", 1000, 0, 1, 2 },
    { "bytes= 1-2 ", 1000, 0, 1, 2 },
    { "bytes=0-18446744073709551616", 1000, 0, 0, 999 },
    { "bytes=1000-", 1000, -416, 0, 0 },
    { "bytes=1000-2000", 1000, -416, 0, 0 },
    { "bytes=18446744073709551616-", 1000, -416, 0, 0 },
    { "bytes=-0", 1000, -416, 0, 0 },
    { "bytes=0-", 0, -416, 0, 0 },
    { "bytes=-5", 0, -416, 0, 0 },
    { "bytes=5-1", 1000, 1, 0, 0 },
    { "bytes=0-1,5-6", 1000, 1, 0, 0 },
    { "bytes=0-1, 5-6", 1000, 1, 0, 0 },
    { "bytes=-", 1000, 1, 0, 0 },
    { "bytes=", 1000, 1, 0, 0 },
    { "bytes=a-b", 1000, 1, 0, 0 },
    { "bytes=1-2x", 1000, 1, 0, 0 },
    { "bytes=+1-2", 1000, 1, 0, 0 },
    { "bytes 0-1", 1000, 1, 0, 0 },
    { "items=0-1", 1000, 1, 0, 0 },
    { "", 1000, 1, 0, 0 },
    { "bytes", 1000, 1, 0, 0 },
};

static void test_range(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
        const range_case *c = &range_cases[i];
        uint64_t first = 77, last = 77;
        int r = sk_http_parse_range(c->value, strlen(c->value), c->size, &first, &last);
        if (r != c->result)
            fail_msg("'%s' size %llu: got %d, want %d", c->value, (unsigned long long)c->size, r, c->result);
        if (r == 0 && (first != c->first || last != c->last))
            fail_msg("'%s': got %llu-%llu", c->value, (unsigned long long)first, (unsigned long long)last);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_bad_request_prefixes),
        cmocka_unit_test(test_good_requests),
        cmocka_unit_test(test_good_prefixes),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_pipelined_split_points),
        cmocka_unit_test(test_request_line_limit),
        cmocka_unit_test(test_header_limits),
        cmocka_unit_test(test_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
