/* Unit tests for exec's per-address failure limit and peer keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>

#include "exec_limiter.h"

static void test_peer_key(void **state)
{
    (void)state;
    char k[SK_EXEC_PEER_KEY_MAX];
    sk_exec_peer_key("127.0.0.1:50312", k);
    assert_string_equal(k, "127.0.0.1");
    sk_exec_peer_key("[::1]:7011", k);
    assert_string_equal(k, "::1");
    sk_exec_peer_key("[fe80::1%eth0]:1", k);
    assert_string_equal(k, "fe80::1%eth0");
    sk_exec_peer_key("unix:", k);
    assert_string_equal(k, "unix");
    sk_exec_peer_key("unix:/tmp/x.sock", k);
    assert_string_equal(k, "unix");
}

static void test_blocks_after_max(void **state)
{
    (void)state;
    static sk_exec_limiter l;
    assert_int_equal(sk_exec_limiter_init(&l), 0);
    int64_t t = 1000000;
    for (int i = 0; i < SK_EXEC_FAIL_MAX; i++) {
        assert_false(sk_exec_limiter_blocked(&l, "10.0.0.1", t));
        sk_exec_limiter_fail(&l, "10.0.0.1", t + i);
    }
    assert_true(sk_exec_limiter_blocked(&l, "10.0.0.1", t + 10));
    assert_false(sk_exec_limiter_blocked(&l, "10.0.0.2", t + 10)); /* per address */
    assert_true(sk_exec_limiter_blocked(&l, "10.0.0.1", t + SK_EXEC_FAIL_WINDOW_MS - 1));
    assert_false(sk_exec_limiter_blocked(&l, "10.0.0.1", t + SK_EXEC_FAIL_WINDOW_MS));
    /* a new window starts from zero */
    sk_exec_limiter_fail(&l, "10.0.0.1", t + SK_EXEC_FAIL_WINDOW_MS);
    assert_false(sk_exec_limiter_blocked(&l, "10.0.0.1", t + SK_EXEC_FAIL_WINDOW_MS + 1));
    sk_exec_limiter_destroy(&l);
}

/* A flood of addresses takes the oldest slots, memory stays fixed, and a
 * recent offender among them is still tracked. */
static void test_flood_evicts_oldest(void **state)
{
    (void)state;
    static sk_exec_limiter l;
    assert_int_equal(sk_exec_limiter_init(&l), 0);
    for (int i = 0; i < SK_EXEC_FAIL_MAX; i++)
        sk_exec_limiter_fail(&l, "bad", 5000);
    char key[32];
    for (int i = 0; i < 2 * SK_EXEC_LIMITER_SLOTS; i++) {
        snprintf(key, sizeof key, "10.1.%d.%d", i / 256, i % 256);
        sk_exec_limiter_fail(&l, key, 1000 + i); /* older than "bad" for the first ones */
    }
    /* the oldest entries were evicted, not the recent offender */
    assert_true(sk_exec_limiter_blocked(&l, "bad", 6000));
    assert_false(sk_exec_limiter_blocked(&l, "10.1.0.0", 6000));
    sk_exec_limiter_destroy(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_key),
        cmocka_unit_test(test_blocks_after_max),
        cmocka_unit_test(test_flood_evicts_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
