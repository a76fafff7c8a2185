/* Unit tests for chat flood control (token bucket): a full bucket allows a
 * burst, tokens come back at the rate (fractions add up), the bucket never
 * holds more than the burst, rate 0 means no limit. Time is passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chat_rate.h"

#define MS 1000000LL
#define SEC 1000000000LL

static int take_all(sk_chat_bucket *b, unsigned rate, unsigned burst, int64_t now)
{
    int n = 0;
    while (n < 1000000 && sk_chat_bucket_take(b, rate, burst, now))
        n++;
    return n;
}

static void test_burst_then_refused(void **state)
{
    (void)state;
    sk_chat_bucket b;
    sk_chat_bucket_init(&b, 40, 5 * SEC);
    assert_int_equal(take_all(&b, 20, 40, 5 * SEC), 40);
    assert_false(sk_chat_bucket_take(&b, 20, 40, 5 * SEC));
}

static void test_refill_at_rate(void **state)
{
    (void)state;
    sk_chat_bucket b;
    int64_t t = 1 * SEC;
    sk_chat_bucket_init(&b, 40, t);
    take_all(&b, 20, 40, t);
    /* 20 per second: one token every 50 ms */
    assert_false(sk_chat_bucket_take(&b, 20, 40, t + 49 * MS));
    assert_true(sk_chat_bucket_take(&b, 20, 40, t + 50 * MS));
    assert_false(sk_chat_bucket_take(&b, 20, 40, t + 60 * MS));
    assert_int_equal(take_all(&b, 20, 40, t + 1 * SEC), 19);
}

static void test_fractions_add_up(void **state)
{
    (void)state;
    sk_chat_bucket b;
    int64_t t = 0;
    sk_chat_bucket_init(&b, 1, t);
    take_all(&b, 3, 1, t);
    /* 3 per second, asked every 10 ms for 10 s: about 30 lines */
    int got = 0;
    for (int i = 1; i <= 1000; i++)
        got += sk_chat_bucket_take(&b, 3, 1, t + i * 10 * MS);
    assert_in_range(got, 29, 31);
}

static void test_capped_at_burst(void **state)
{
    (void)state;
    sk_chat_bucket b;
    sk_chat_bucket_init(&b, 5, 0);
    take_all(&b, 1000, 5, 0);
    assert_int_equal(take_all(&b, 1000, 5, 3600 * SEC), 5); /* an hour later */
    assert_int_equal(take_all(&b, 1000000, 5, 7200 * SEC), 5);
}

static void test_no_limit(void **state)
{
    (void)state;
    sk_chat_bucket b;
    sk_chat_bucket_init(&b, 1, 0);
    assert_int_equal(take_all(&b, 0, 1, 0), 1000000);
}

static void test_clock_going_back(void **state)
{
    (void)state;
    sk_chat_bucket b;
    sk_chat_bucket_init(&b, 2, 10 * SEC);
    take_all(&b, 1, 2, 10 * SEC);
    assert_false(sk_chat_bucket_take(&b, 1, 2, 9 * SEC));
    assert_true(sk_chat_bucket_take(&b, 1, 2, 11 * SEC));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refused),
        cmocka_unit_test(test_refill_at_rate),
        cmocka_unit_test(test_fractions_add_up),
        cmocka_unit_test(test_capped_at_burst),
        cmocka_unit_test(test_no_limit),
        cmocka_unit_test(test_clock_going_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
