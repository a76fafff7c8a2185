/* libFuzzer target for the incremental frame decoder.
 *
 * Input layout:
 *   byte 0        maximum: 0 -> SK_FRAME_DEFAULT_MAX, else a small limit
 *   byte 1        K, the number of chunk-size bytes that follow (0: one feed)
 *   bytes 2..K+1  chunk sizes, used in turn (0 = an empty feed)
 *   the rest      the byte stream
 * The stream is fed in those chunks and the messages and final result are
 * checked against a straightforward decoder that walks the whole buffer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sockkit/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REF 2048

typedef struct ref_msg {
    const uint8_t *data;
    size_t len;
} ref_msg;

typedef struct ref_result {
    ref_msg msgs[MAX_REF];
    size_t count;
    int end; /* 0, -EPROTO or -EMSGSIZE */
} ref_result;

/* The reference: one pass over the complete stream. */
static void ref_decode(const uint8_t *s, size_t len, uint32_t max, ref_result *r)
{
    size_t pos = 0;
    r->count = 0;
    r->end = 0;
    while (pos < len) {
        if (len - pos < SK_FRAME_HEADER_SIZE) {
            r->end = -EPROTO;
            return;
        }
        uint32_t n = (uint32_t)s[pos] << 24 | (uint32_t)s[pos + 1] << 16 |
                     (uint32_t)s[pos + 2] << 8 | (uint32_t)s[pos + 3];
        if (n > max) {
            r->end = -EMSGSIZE;
            return;
        }
        pos += SK_FRAME_HEADER_SIZE;
        if (len - pos < n) {
            r->end = -EPROTO;
            return;
        }
        if (r->count == MAX_REF)
            abort(); /* cannot happen: inputs are limited below */
        r->msgs[r->count].data = s + pos;
        r->msgs[r->count].len = n;
        r->count++;
        pos += n;
    }
}

static uint32_t pick_max(uint8_t b)
{
    static const uint32_t small[] = { 0, 1, 2, 5, 10, 16, 64, 255, 1000 };
    if (b == 0)
        return SK_FRAME_DEFAULT_MAX;
    if (b < sizeof(small) / sizeof(small[0]))
        return small[b];
    return b;
}

#define CHECK(cond) \
    do { \
        if (!(cond)) \
            abort(); \
    } while (0)

/* Feed one chunk completely; check each message against the reference.
 * Returns 0 or the decoder's error. */
static int feed_chunk(sk_frame_decoder *d, const uint8_t *chunk, size_t len,
                      const ref_result *ref, size_t *seen)
{
    size_t off = 0;
    do {
        sk_frame out;
        int complete = -1;
        ssize_t n = sk_frame_decoder_feed(d, chunk + off, len - off, &out, &complete);
        if (n < 0) {
            CHECK(complete == 0);
            return (int)n;
        }
        CHECK((size_t)n <= len - off);
        CHECK(d->buf_cap <= d->max); /* never allocates beyond the maximum */
        off += (size_t)n;
        if (complete == 1) {
            CHECK(*seen < ref->count);
            const ref_msg *m = &ref->msgs[*seen];
            CHECK(out.len == m->len);
            CHECK(out.len == 0 || memcmp(out.data, m->data, m->len) == 0);
            (*seen)++;
        } else {
            CHECK(complete == 0);
            CHECK(n > 0 || len == 0);
        }
    } while (off < len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ref_result ref;
    if (size < 2 || size > 4 * MAX_REF)
        return 0;
    uint32_t max = pick_max(data[0]);
    size_t nsizes = data[1];
    if (nsizes > size - 2)
        nsizes = size - 2;
    const uint8_t *sizes = data + 2;
    const uint8_t *stream = sizes + nsizes;
    size_t len = size - 2 - nsizes;

    ref_decode(stream, len, max, &ref);

    sk_frame_decoder d;
    sk_frame_decoder_init(&d, data[0] == 0 ? 0 : max);
    CHECK(d.max == max);
    size_t seen = 0, pos = 0, i = 0, cycle_pos = 0;
    int stalled = 0, result = 0;
    for (;;) {
        size_t rest = len - pos, chunk = rest; /* no sizes: one feed */
        if (nsizes > 0) {
            size_t k = i % nsizes;
            if (k == 0 && i > 0) { /* a cycle of sizes ended */
                if (rest == 0)
                    break;
                stalled = (pos == cycle_pos); /* only empty feeds: finish */
                cycle_pos = pos;
            }
            if (!stalled && sizes[k] < rest)
                chunk = sizes[k];
        }
        i++;
        /* Feed a copy, so zero-copy data read past the chunk is caught. */
        uint8_t *copy = malloc(chunk ? chunk : 1);
        CHECK(copy != NULL);
        memcpy(copy, stream + pos, chunk);
        result = feed_chunk(&d, copy, chunk, &ref, &seen);
        free(copy);
        pos += chunk;
        if (result < 0 || ((nsizes == 0 || stalled) && pos == len))
            break;
    }
    if (result < 0) {
        /* Errors are sticky. */
        sk_frame out;
        int complete = -1;
        CHECK(sk_frame_decoder_feed(&d, stream, len, &out, &complete) == result);
        CHECK(complete == 0);
        CHECK(sk_frame_decoder_finish(&d) == result);
    } else {
        result = sk_frame_decoder_finish(&d);
    }
    CHECK(seen == ref.count);
    CHECK(result == ref.end);
    sk_frame_decoder_free(&d);
    CHECK(d.buf == NULL && d.buf_cap == 0);
    return 0;
}
