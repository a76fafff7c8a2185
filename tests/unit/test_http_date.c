/* Unit tests for HTTP dates: formatting, the three parsed forms, invalid dates,
 * round trips against gmtime_r. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "http_date.h"

typedef struct date_case {
    time_t t;
    const char *text;
} date_case;

static const date_case format_cases[] = {
    { 0, "Thu, 01 Jan 1970 00:00:00 GMT" },
    { 784111777, "Sun, 06 Nov 1994 08:49:37 GMT" },
    { 951782400, "Tue, 29 Feb 2000 00:00:00 GMT" },
    { 1700000000, "Tue, 14 Nov 2023 22:13:20 GMT" },
    { 2147483647, "Tue, 19 Jan 2038 03:14:07 GMT" },
    { 4102444799, "Thu, 31 Dec 2099 23:59:59 GMT" },
    { -1, "Wed, 31 Dec 1969 23:59:59 GMT" },
    { -2208988800, "Mon, 01 Jan 1900 00:00:00 GMT" },
    { 253402300799, "Fri, 31 Dec 9999 23:59:59 GMT" },
};

static void test_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
        char out[30];
        memset(out, 'x', sizeof(out));
        assert_int_equal(sk_http_date_format(format_cases[i].t, out), SK_HTTP_DATE_LEN);
        assert_string_equal(out, format_cases[i].text);
        time_t back;
        assert_int_equal(sk_http_date_parse(out, strlen(out), &back), 0);
        assert_int_equal(back, format_cases[i].t);
    }
    char out[30];
    assert_int_equal(sk_http_date_format(253402300800, out), 0); /* year 10000 */
    assert_string_equal(out, "");
}

/* Against gmtime_r + strftime in the C locale, over many instants. */
static void test_format_matches_gmtime(void **state)
{
    (void)state;
    for (int64_t t = -5000000000LL; t < 8000000000LL; t += 12345677) {
        struct tm tm;
        time_t tt = (time_t)t;
        assert_non_null(gmtime_r(&tt, &tm));
        char want[64], got[30];
        strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        assert_int_equal(sk_http_date_format(tt, got), SK_HTTP_DATE_LEN);
        assert_string_equal(got, want);
        time_t back;
        assert_int_equal(sk_http_date_parse(got, SK_HTTP_DATE_LEN, &back), 0);
        assert_int_equal(back, tt);
    }
}

static const date_case parse_cases[] = {
    { 784111777, "Sun, 06 Nov 1994 08:49:37 GMT" },
    { 784111777, "Sunday, 06-Nov-94 08:49:37 GMT" },
    { 784111777, "Sun Nov  6 08:49:37 1994" },
    { 784111777, "Sun Nov 06 08:49:37 1994" },
    { 1700000000, "Tuesday, 14-Nov-23 22:13:20 GMT" },
    { 0, "Thursday, 01-Jan-70 00:00:00 GMT" },
    { 3155759999, "Sunday, 31-Dec-69 23:59:59 GMT" }, /* 2069 */
    { 1700000000, "Tue Nov 14 22:13:20 2023" },
    { 1700000000, "Mon, 14 Nov 2023 22:13:20 GMT" }, /* weekday not checked */
    { 951782400, "Tue, 29 Feb 2000 00:00:00 GMT" },
    { 1483228800, "Sat, 31 Dec 2016 23:59:60 GMT" }, /* leap second */
};

static void test_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        time_t t = 0;
        int r = sk_http_date_parse(parse_cases[i].text, strlen(parse_cases[i].text), &t);
        if (r != 0 || t != parse_cases[i].t)
            fail_msg("'%s': got %d, %lld", parse_cases[i].text, r, (long long)t);
    }
}

static const char *const bad_dates[] = {
    "",
    "Sun, 06 Nov 1994 08:49:37",
    "Sun, 06 Nov 1994 08:49:37 GMT ",
    " Sun, 06 Nov 1994 08:49:37 GMT",
    "Sun, 06 Nov 1994 08:49:37 UTC",
    "Sun, 06 Nov 1994 08:49:37 gmt",
    "sun, 06 Nov 1994 08:49:37 GMT",
    "Sun, 06 nov 1994 08:49:37 GMT",
    "Sun, 6 Nov 1994 08:49:37 GMT",
    "Sun, 06 Nov 94 08:49:37 GMT",
    "Sun,06 Nov 1994 08:49:37 GMT",
    "Xyz, 06 Nov 1994 08:49:37 GMT",
    "Sun, 06 Foo 1994 08:49:37 GMT",
    "Sun, 00 Nov 1994 08:49:37 GMT",
    "Sun, 31 Nov 1994 08:49:37 GMT",
    "Sun, 29 Feb 1900 08:49:37 GMT",
    "Sun, 29 Feb 2023 08:49:37 GMT",
    "Sun, 06 Nov 1994 24:00:00 GMT",
    "Sun, 06 Nov 1994 08:60:37 GMT",
    "Sun, 06 Nov 1994 08:49:61 GMT",
    "Sun, 06 Nov 1994 8:49:37 GMT",
    "Sun, 06 Nov 1994 08:49:3 GMT",
    "Sun, 06 Nov 1994 08-49-37 GMT",
    "Sun, 06 Nov +994 08:49:37 GMT",
    "Sun, 06-Nov-94 08:49:37 GMT",
    "Sunday, 06 Nov 1994 08:49:37 GMT",
    "Sunday, 06-Nov-1994 08:49:37 GMT",
    "Sund, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 94",
    "Sun Nov 6 08:49:37 1994",
    "Sun Nov  6 08:49:37 1994 GMT",
    "Sun  Nov 6 08:49:37 1994",
    "1994-11-06T08:49:37Z",
    "784111777",
};

static void test_parse_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
        time_t t = 42;
        int r = sk_http_date_parse(bad_dates[i], strlen(bad_dates[i]), &t);
        if (r != -EINVAL)
            fail_msg("'%s': got %d", bad_dates[i], r);
        assert_int_equal(t, 42);
    }
    /* Only len bytes count. */
    time_t t;
    assert_int_equal(sk_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMTxyz", 29, &t), 0);
    assert_int_equal(t, 784111777);
    assert_int_equal(sk_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", 28, &t), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_matches_gmtime),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
