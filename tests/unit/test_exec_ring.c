/* Unit tests for exec's bounded byte queue: fills to capacity and no
 * further, keeps the order across the wrap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "exec_ring.h"

static void test_bounded(void **state)
{
    (void)state;
    sk_exec_ring r;
    assert_int_equal(sk_exec_ring_init(&r, 8), 0);
    assert_int_equal(sk_exec_ring_push(&r, "abcdefghij", 10), 8);
    assert_int_equal(sk_exec_ring_room(&r), 0);
    assert_int_equal(sk_exec_ring_push(&r, "x", 1), 0);
    char out[16];
    assert_int_equal(sk_exec_ring_peek(&r, out, sizeof out), 8);
    assert_memory_equal(out, "abcdefgh", 8);
    sk_exec_ring_free(&r);
}

/* Many pushes and drops of odd sizes: the bytes come out in order. */
static void test_wrap_order(void **state)
{
    (void)state;
    sk_exec_ring r;
    assert_int_equal(sk_exec_ring_init(&r, 7), 0);
    uint8_t next_in = 0, next_out = 0;
    for (int round = 0; round < 200; round++) {
        uint8_t buf[7];
        size_t want = (size_t)(round * 5 % 8);
        for (size_t i = 0; i < want; i++)
            buf[i] = (uint8_t)(next_in + i);
        size_t n = sk_exec_ring_push(&r, buf, want > 7 ? 7 : want);
        next_in = (uint8_t)(next_in + n);
        size_t k = sk_exec_ring_peek(&r, buf, (size_t)(round * 3 % 8));
        for (size_t i = 0; i < k; i++)
            assert_int_equal(buf[i], (uint8_t)(next_out + i));
        sk_exec_ring_drop(&r, k);
        next_out = (uint8_t)(next_out + k);
        assert_int_equal(sk_exec_ring_used(&r), (uint8_t)(next_in - next_out));
    }
    sk_exec_ring_clear(&r);
    assert_int_equal(sk_exec_ring_used(&r), 0);
    assert_int_equal(sk_exec_ring_room(&r), 7);
    sk_exec_ring_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_wrap_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
