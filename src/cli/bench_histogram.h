/* A log-linear latency histogram in the manner of HdrHistogram: values
 * (nanoseconds, or any unsigned 64-bit quantity) are counted in buckets
 * whose width grows with the value, so the relative precision is the same
 * everywhere.
 *
 * Layout: values below SK_HISTOGRAM_SUB (128) each have their own bucket
 * (exact). Above, every power-of-two range [2^k, 2^(k+1)) is split into 128
 * linear sub-buckets of width 2^(k-7). A bucket therefore spans less than
 * 1/128 (0.78 %) of the values it holds; a percentile is reported as the
 * highest value its bucket can hold (the HdrHistogram convention), so it is
 * never below the true value and at most 0.78 % above it (and never above
 * the exact maximum). The whole uint64_t range fits in 7,424 counters
 * (58 KiB); recording is O(1) with no allocation.
 */
#ifndef SK_CLI_BENCH_HISTOGRAM_H
#define SK_CLI_BENCH_HISTOGRAM_H

#include <stdint.h>

/* Linear sub-buckets per power of two (2^7): the precision, 1/128. */
#define SK_HISTOGRAM_SUB_BITS 7
#define SK_HISTOGRAM_SUB (1u << SK_HISTOGRAM_SUB_BITS)
/* Counters: 128 exact values, then 128 per power of two from 2^7 to 2^63. */
#define SK_HISTOGRAM_BUCKETS (SK_HISTOGRAM_SUB * (64 - SK_HISTOGRAM_SUB_BITS + 1))

typedef struct sk_histogram {
    uint64_t total;   /* values recorded */
    uint64_t min;     /* exact smallest value; UINT64_MAX when empty */
    uint64_t max;     /* exact largest value; 0 when empty */
    uint64_t counts[SK_HISTOGRAM_BUCKETS];
} sk_histogram;

/* Empty the histogram (also the way to initialise one). */
void sk_histogram_reset(sk_histogram *h);

/* Count one value. O(1). */
void sk_histogram_record(sk_histogram *h, uint64_t value);

/* Add every value counted in src to dst. */
void sk_histogram_merge(sk_histogram *dst, const sk_histogram *src);

/* The value at percentile p (0..100): the smallest recorded value v such
 * that at least p % of the values are <= v, within the precision above
 * (reported as its bucket's highest value, capped at the exact maximum).
 * p <= 0 gives the exact minimum, p >= 100 the exact maximum.
 * Returns 0 for an empty histogram. */
uint64_t sk_histogram_percentile(const sk_histogram *h, double p);

#endif
