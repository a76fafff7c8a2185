/* The log-linear latency histogram (see bench_histogram.h). */
#include "bench_histogram.h"

#include <string.h>

/* Bucket of a value: the value itself below SK_HISTOGRAM_SUB; above, the
 * power of two k = floor(log2 v) picks a group of SK_HISTOGRAM_SUB buckets
 * and the SUB_BITS bits after the leading one pick the bucket in it. */
static unsigned bucket_of(uint64_t value)
{
    if (value < SK_HISTOGRAM_SUB)
        return (unsigned)value;
    unsigned k = 63u - (unsigned)__builtin_clzll(value);
    unsigned shift = k - SK_HISTOGRAM_SUB_BITS;
    unsigned sub = (unsigned)(value >> shift) - SK_HISTOGRAM_SUB;
    return SK_HISTOGRAM_SUB * (shift + 1) + sub;
}

/* The highest value bucket b holds. */
static uint64_t bucket_highest(unsigned b)
{
    if (b < SK_HISTOGRAM_SUB)
        return b;
    unsigned shift = b / SK_HISTOGRAM_SUB - 1;
    uint64_t lowest = (uint64_t)(SK_HISTOGRAM_SUB + b % SK_HISTOGRAM_SUB) << shift;
    return lowest + ((UINT64_C(1) << shift) - 1);
}

void sk_histogram_reset(sk_histogram *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

void sk_histogram_record(sk_histogram *h, uint64_t value)
{
    h->counts[bucket_of(value)]++;
    h->total++;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
}

void sk_histogram_merge(sk_histogram *dst, const sk_histogram *src)
{
    if (src->total == 0)
        return;
    for (unsigned b = 0; b < SK_HISTOGRAM_BUCKETS; b++)
        dst->counts[b] += src->counts[b];
    dst->total += src->total;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

/* The rank (1..total) of the value at percentile p, 0 < p < 100: the
 * smallest rank with rank >= p/100 * total. The product is nudged down by
 * a relative 1e-12 so that 99.9 % of 1000 gives 999, not 1000, despite
 * 99.9 having no exact binary form. */
static uint64_t rank_of(double p, uint64_t total)
{
    double r = p / 100.0 * (double)total * (1.0 - 1e-12);
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r)
        rank++;
    if (rank < 1)
        rank = 1;
    return rank > total ? total : rank;
}

uint64_t sk_histogram_percentile(const sk_histogram *h, double p)
{
    if (h->total == 0)
        return 0;
    if (p <= 0)
        return h->min;
    if (p >= 100)
        return h->max;
    uint64_t rank = rank_of(p, h->total), seen = 0;
    for (unsigned b = 0; b < SK_HISTOGRAM_BUCKETS; b++) {
        seen += h->counts[b];
        if (seen >= rank) {
            uint64_t v = bucket_highest(b);
            if (v > h->max)
                v = h->max;
            return v < h->min ? h->min : v;
        }
    }
    return h->max;
}
