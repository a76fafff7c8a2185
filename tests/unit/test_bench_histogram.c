/* Unit tests for the sk bench latency histogram: percentiles of known
 * distributions within the stated precision (never below the true value,
 * at most 1/128 above it), exact minimum and maximum, empty and
 * single-value histograms, merging. The histogram is part of the sk CLI,
 * not the library, so it is compiled into this test directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../src/cli/bench_histogram.c"

/* The stated precision: a reported value r for a true value v satisfies
 * v <= r <= v + v / 128. */
static void assert_within_precision(uint64_t reported, uint64_t truth)
{
    if (reported < truth || reported - truth > truth / SK_HISTOGRAM_SUB)
        fail_msg("reported %llu for true value %llu (allowed %llu..%llu)",
                 (unsigned long long)reported, (unsigned long long)truth,
                 (unsigned long long)truth, (unsigned long long)(truth + truth / SK_HISTOGRAM_SUB));
}

static sk_histogram *new_histogram(void)
{
    sk_histogram *h = malloc(sizeof *h);
    assert_non_null(h);
    sk_histogram_reset(h);
    return h;
}

/* The exact value at percentile p of sorted values: the smallest v such
 * that at least p % of the values are <= v. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
    size_t rank = (size_t)(p / 100.0 * (double)n * (1.0 - 1e-12));
    if ((double)rank < p / 100.0 * (double)n * (1.0 - 1e-12))
        rank++;
    if (rank < 1)
        rank = 1;
    return sorted[rank - 1];
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* ---- tests ------------------------------------------------------------ */

static void test_empty(void **state)
{
    (void)state;
    sk_histogram *h = new_histogram();
    assert_int_equal(h->total, 0);
    assert_int_equal(sk_histogram_percentile(h, 0), 0);
    assert_int_equal(sk_histogram_percentile(h, 50), 0);
    assert_int_equal(sk_histogram_percentile(h, 100), 0);
    assert_int_equal(h->max, 0);
    free(h);
}

static void test_single_value_is_exact(void **state)
{
    (void)state;
    static const uint64_t values[] = {0, 1, 127, 128, 129, 255, 256, 1000, 123457,
                                      (UINT64_C(1) << 40) + 12345, UINT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        sk_histogram *h = new_histogram();
        sk_histogram_record(h, values[i]);
        assert_int_equal(h->total, 1);
        /* One value: min and max are exact and bound every percentile. */
        assert_true(sk_histogram_percentile(h, 0) == values[i]);
        assert_true(sk_histogram_percentile(h, 50) == values[i]);
        assert_true(sk_histogram_percentile(h, 99.9) == values[i]);
        assert_true(sk_histogram_percentile(h, 100) == values[i]);
        free(h);
    }
}

static void test_small_values_are_exact(void **state)
{
    (void)state;
    sk_histogram *h = new_histogram();
    for (uint64_t v = 0; v < 100; v++)
        sk_histogram_record(h, v);
    assert_int_equal(sk_histogram_percentile(h, 0), 0);
    assert_int_equal(sk_histogram_percentile(h, 1), 0);
    assert_int_equal(sk_histogram_percentile(h, 50), 49);
    assert_int_equal(sk_histogram_percentile(h, 90), 89);
    assert_int_equal(sk_histogram_percentile(h, 99), 98);
    assert_int_equal(sk_histogram_percentile(h, 99.9), 99);
    assert_int_equal(sk_histogram_percentile(h, 100), 99);
    free(h);
}

static void test_uniform_within_precision(void **state)
{
    (void)state;
    sk_histogram *h = new_histogram();
    for (uint64_t v = 1; v <= 1000000; v++)
        sk_histogram_record(h, v);
    assert_int_equal(h->total, 1000000);
    assert_int_equal(h->min, 1);
    assert_int_equal(h->max, 1000000);
    assert_within_precision(sk_histogram_percentile(h, 50), 500000);
    assert_within_precision(sk_histogram_percentile(h, 90), 900000);
    assert_within_precision(sk_histogram_percentile(h, 99), 990000);
    assert_within_precision(sk_histogram_percentile(h, 99.9), 999000);
    assert_int_equal(sk_histogram_percentile(h, 100), 1000000);
    free(h);
}

/* Latency-like data: log-uniform from 1 µs to 100 ms in nanoseconds, plus
 * a few huge outliers; every percentile compared with the sorted truth. */
static void test_log_uniform_against_sorted(void **state)
{
    (void)state;
    enum { N = 200000 };
    uint64_t *values = malloc(N * sizeof *values);
    assert_non_null(values);
    sk_histogram *h = new_histogram();
    uint64_t x = 88172645463325252u; /* xorshift64 */
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned exp2 = 10 + (unsigned)(x % 17);           /* 2^10 .. 2^26 ns */
        uint64_t v = (UINT64_C(1) << exp2) + (x >> 20) % (UINT64_C(1) << exp2);
        if (i % 50000 == 7)
            v = UINT64_C(5000000000) + i;                   /* 5 s stalls */
        values[i] = v;
        sk_histogram_record(h, v);
    }
    qsort(values, N, sizeof *values, cmp_u64);
    static const double ps[] = {0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        assert_within_precision(sk_histogram_percentile(h, ps[i]), exact_percentile(values, N, ps[i]));
    assert_true(sk_histogram_percentile(h, 0) == values[0]);
    assert_true(sk_histogram_percentile(h, 100) == values[N - 1]);
    assert_true(h->max == values[N - 1]);
    free(values);
    free(h);
}

/* A value at every bucket boundary region is reported within precision. */
static void test_every_power_of_two(void **state)
{
    (void)state;
    for (unsigned k = 0; k < 64; k++) {
        uint64_t base = UINT64_C(1) << k;
        uint64_t probes[] = {base, base + base / 3, base + (base - 1)};
        for (size_t i = 0; i < 3; i++) {
            sk_histogram *h = new_histogram();
            sk_histogram_record(h, probes[i]);
            sk_histogram_record(h, UINT64_MAX); /* keeps the max from capping */
            sk_histogram_record(h, probes[i]);
            assert_within_precision(sk_histogram_percentile(h, 50), probes[i]);
            free(h);
        }
    }
}

static void test_merge_and_reset(void **state)
{
    (void)state;
    sk_histogram *a = new_histogram(), *b = new_histogram();
    for (uint64_t v = 1; v <= 1000; v++)
        sk_histogram_record(v % 2 ? a : b, v * 1000);
    sk_histogram empty;
    sk_histogram_reset(&empty);
    sk_histogram_merge(a, &empty);
    assert_int_equal(a->total, 500);
    sk_histogram_merge(a, b);
    assert_int_equal(a->total, 1000);
    assert_int_equal(a->min, 1000);
    assert_int_equal(a->max, 1000000);
    assert_within_precision(sk_histogram_percentile(a, 50), 500000);
    assert_within_precision(sk_histogram_percentile(a, 99), 990000);
    sk_histogram_reset(a);
    assert_int_equal(a->total, 0);
    assert_int_equal(sk_histogram_percentile(a, 99), 0);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_single_value_is_exact),
        cmocka_unit_test(test_small_values_are_exact),
        cmocka_unit_test(test_uniform_within_precision),
        cmocka_unit_test(test_log_uniform_against_sorted),
        cmocka_unit_test(test_every_power_of_two),
        cmocka_unit_test(test_merge_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
