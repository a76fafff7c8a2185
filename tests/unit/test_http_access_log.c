/* Unit tests for the HTTP access log: Combined Log Format lines, escaping
 * of what the client sent, the host without its port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "http_access_log.h"

static size_t format(const sk_http_log_entry *e, char *out, size_t outlen)
{
    size_t n = sk_http_access_log_format(e, out, outlen);
    out[n < outlen ? n : outlen - 1] = '\0';
    return n;
}

static void test_combined_line(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    sk_http_log_entry e = {
        .peer = "127.0.0.1:50312",
        .request_line = "GET /a.txt HTTP/1.1",
        .request_line_len = 19,
        .status = 200,
        .body_bytes = 2326,
        .referer = "http://r/",
        .referer_len = 9,
        .user_agent = "curl/8",
        .user_agent_len = 6,
        .when = 971211336, /* 2000-10-10 20:55:36 UTC */
    };
    char line[512];
    format(&e, line, sizeof line);
    assert_string_equal(line, "127.0.0.1 - - [10/Oct/2000:20:55:36 +0000] \"GET /a.txt HTTP/1.1\" "
                              "200 2326 \"http://r/\" \"curl/8\"\n");
}

static void test_missing_fields_and_ipv6(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    sk_http_log_entry e = {.peer = "[::1]:8080", .status = 400, .when = 0};
    char line[512];
    format(&e, line, sizeof line);
    assert_string_equal(line, "::1 - - [01/Jan/1970:00:00:00 +0000] \"-\" 400 - \"-\" \"-\"\n");
}

static void test_escaping(void **state)
{
    (void)state;
    const char agent[] = "a\"b\\c\nd\x01\xff";
    sk_http_log_entry e = {.peer = "10.0.0.1:1", .request_line = "GET /\" HTTP/1.1",
                           .request_line_len = 15, .status = 404, .user_agent = agent,
                           .user_agent_len = sizeof agent - 1};
    char line[512];
    format(&e, line, sizeof line);
    assert_non_null(strstr(line, "\"GET /\\x22 HTTP/1.1\""));
    assert_non_null(strstr(line, "\"a\\x22b\\x5cc\\x0ad\\x01\\xff\"\n"));
    assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1); /* one line */
}

static void test_long_fields_stay_one_line(void **state)
{
    (void)state;
    size_t len = 100000;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, '"', len);
    sk_http_log_entry e = {.peer = "1.2.3.4:5", .request_line = big, .request_line_len = len,
                           .status = 414, .user_agent = big, .user_agent_len = len};
    char line[4096];
    size_t n = format(&e, line, sizeof line);
    assert_true(n < sizeof line);
    assert_int_equal(line[n - 1], '\n');
    assert_ptr_equal(strchr(line, '\n'), line + n - 1);
    assert_non_null(strstr(line, "\" 414 - "));
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_combined_line),
        cmocka_unit_test(test_missing_fields_and_ipv6),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_long_fields_stay_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
