/* Unit tests for length-prefixed framing: header codec, the incremental
 * decoder under every split of a stream, limits, truncation, and
 * sk_frame_send / sk_frame_recv over a real AF_UNIX socketpair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sockkit/frame.h"
#include "sockkit/sock.h"

/* ---- helpers ------------------------------------------------------------ */

#define MAX_MSGS 16

/* Messages collected from a decoder (copied: frame data is only valid until
 * the next feed). */
typedef struct collected {
    size_t count;
    uint8_t *data[MAX_MSGS];
    size_t len[MAX_MSGS];
} collected;

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->count; i++)
        free(c->data[i]);
    memset(c, 0, sizeof(*c));
}

/* Feed one chunk completely, collecting every message. Returns 0 or the
 * decoder's error. */
static int feed_chunk(sk_frame_decoder *d, const uint8_t *chunk, size_t len, collected *c)
{
    size_t off = 0;
    int guard = 0;
    while (off < len) {
        sk_frame out;
        int complete = -1;
        ssize_t n = sk_frame_decoder_feed(d, chunk + off, len - off, &out, &complete);
        if (n < 0) {
            assert_int_equal(complete, 0);
            return (int)n;
        }
        assert_true((size_t)n <= len - off);
        assert_true(complete == 0 || complete == 1);
        off += (size_t)n;
        if (complete) {
            assert_true(c->count < MAX_MSGS);
            c->data[c->count] = malloc(out.len ? out.len : 1);
            assert_non_null(c->data[c->count]);
            if (out.len)
                memcpy(c->data[c->count], out.data, out.len);
            c->len[c->count] = out.len;
            c->count++;
        } else {
            assert_true(n > 0); /* no message and no progress would loop */
        }
        assert_true(++guard < 1000000);
    }
    return 0;
}

/* Append one frame (header + payload) to buf at *pos. */
static void put_frame(uint8_t *buf, size_t *pos, const void *payload, uint32_t len)
{
    sk_frame_header_encode(buf + *pos, len);
    *pos += SK_FRAME_HEADER_SIZE;
    if (len)
        memcpy(buf + *pos, payload, len);
    *pos += len;
}

/* The test stream: "hello", "", "world!!" and a 1000-byte message. */
#define BIG_LEN 1000u
static uint8_t g_big[BIG_LEN];
static uint8_t g_stream[4 * SK_FRAME_HEADER_SIZE + 5 + 0 + 7 + BIG_LEN];
static size_t g_stream_len;

static const void *expect_data[4];
static const size_t expect_len[4] = { 5, 0, 7, BIG_LEN };

static int setup_stream(void **state)
{
    (void)state;
    for (size_t i = 0; i < BIG_LEN; i++)
        g_big[i] = (uint8_t)(i * 7 + 3);
    expect_data[0] = "hello";
    expect_data[1] = "";
    expect_data[2] = "world!!";
    expect_data[3] = g_big;
    g_stream_len = 0;
    for (int i = 0; i < 4; i++)
        put_frame(g_stream, &g_stream_len, expect_data[i], (uint32_t)expect_len[i]);
    assert_int_equal(g_stream_len, sizeof(g_stream));
    return 0;
}

static void assert_expected_messages(const collected *c)
{
    assert_int_equal(c->count, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(c->len[i], expect_len[i]);
        if (expect_len[i])
            assert_memory_equal(c->data[i], expect_data[i], expect_len[i]);
    }
}

/* ---- header codec ------------------------------------------------------- */

static void test_header_codec(void **state)
{
    (void)state;
    uint8_t h[SK_FRAME_HEADER_SIZE];
    const uint32_t values[] = { 0, 1, 255, 256, 0x01020304u, SK_FRAME_DEFAULT_MAX, 0xFFFFFFFFu };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        sk_frame_header_encode(h, values[i]);
        assert_int_equal(sk_frame_header_decode(h), values[i]);
    }
    sk_frame_header_encode(h, 0x01020304u);
    const uint8_t be[] = { 1, 2, 3, 4 }; /* big-endian, network order */
    assert_memory_equal(h, be, 4);
    const uint8_t five[] = { 0, 0, 0, 5 };
    assert_int_equal(sk_frame_header_decode(five), 5);
}

/* ---- decoder: splits ---------------------------------------------------- */

static void test_decoder_all_in_one_feed(void **state)
{
    (void)state;
    sk_frame_decoder d;
    collected c = { 0 };
    sk_frame_decoder_init(&d, 0);
    assert_int_equal(d.max, SK_FRAME_DEFAULT_MAX);

    /* One frame per call; every payload is whole in the input: zero copy. */
    size_t off = 0;
    for (int i = 0; i < 4; i++) {
        sk_frame out;
        int complete = 0;
        ssize_t n = sk_frame_decoder_feed(&d, g_stream + off, g_stream_len - off, &out, &complete);
        assert_int_equal(n, SK_FRAME_HEADER_SIZE + expect_len[i]);
        assert_int_equal(complete, 1);
        assert_int_equal(out.len, expect_len[i]);
        if (out.len) {
            assert_ptr_equal(out.data, g_stream + off + SK_FRAME_HEADER_SIZE);
            assert_memory_equal(out.data, expect_data[i], out.len);
        }
        off += (size_t)n;
    }
    assert_int_equal(off, g_stream_len);
    assert_null(d.buf); /* nothing was ever buffered */
    assert_int_equal(sk_frame_decoder_finish(&d), 0);

    /* The same through the generic helper. */
    assert_int_equal(feed_chunk(&d, g_stream, g_stream_len, &c), 0);
    assert_expected_messages(&c);
    assert_int_equal(sk_frame_decoder_finish(&d), 0);
    collected_free(&c);
    sk_frame_decoder_free(&d);
}

static void test_decoder_every_split_point(void **state)
{
    (void)state;
    for (size_t k = 0; k <= g_stream_len; k++) {
        sk_frame_decoder d;
        collected c = { 0 };
        sk_frame_decoder_init(&d, 0);
        assert_int_equal(feed_chunk(&d, g_stream, k, &c), 0);
        assert_int_equal(feed_chunk(&d, g_stream + k, g_stream_len - k, &c), 0);
        assert_expected_messages(&c);
        assert_int_equal(sk_frame_decoder_finish(&d), 0);
        collected_free(&c);
        sk_frame_decoder_free(&d);
    }
}

static void test_decoder_one_byte_at_a_time(void **state)
{
    (void)state;
    sk_frame_decoder d;
    collected c = { 0 };
    sk_frame_decoder_init(&d, 0);
    for (size_t i = 0; i < g_stream_len; i++) {
        assert_int_equal(feed_chunk(&d, g_stream + i, 1, &c), 0);
        int boundary = (i + 1 == g_stream_len);
        if (!boundary)
            assert_int_not_equal(c.count, 4);
    }
    assert_expected_messages(&c);
    assert_int_equal(sk_frame_decoder_finish(&d), 0);
    assert_non_null(d.buf);
    assert_true(d.buf_cap >= BIG_LEN);
    collected_free(&c);
    sk_frame_decoder_free(&d);
    assert_null(d.buf);
    assert_int_equal(d.buf_cap, 0);
}

/* The owned buffer is reused: a second split frame of the same size does
 * not grow it. */
static void test_decoder_buffer_reused(void **state)
{
    (void)state;
    sk_frame_decoder d;
    collected c = { 0 };
    sk_frame_decoder_init(&d, 0);
    size_t big_off = g_stream_len - BIG_LEN - SK_FRAME_HEADER_SIZE;
    const uint8_t *big = g_stream + big_off;
    size_t big_frame = BIG_LEN + SK_FRAME_HEADER_SIZE;
    assert_int_equal(feed_chunk(&d, big, 10, &c), 0);
    assert_int_equal(feed_chunk(&d, big + 10, big_frame - 10, &c), 0);
    uint8_t *buf = d.buf;
    size_t cap = d.buf_cap;
    assert_non_null(buf);
    assert_int_equal(feed_chunk(&d, big, 10, &c), 0);
    assert_int_equal(feed_chunk(&d, big + 10, big_frame - 10, &c), 0);
    assert_ptr_equal(d.buf, buf);
    assert_int_equal(d.buf_cap, cap);
    assert_int_equal(c.count, 2);
    assert_memory_equal(c.data[0], g_big, BIG_LEN);
    assert_memory_equal(c.data[1], g_big, BIG_LEN);
    collected_free(&c);
    sk_frame_decoder_free(&d);
}

/* ---- decoder: 0-length frames, limits, truncation, sticky errors ------- */

static void test_decoder_zero_length_frames(void **state)
{
    (void)state;
    uint8_t stream[3 * SK_FRAME_HEADER_SIZE] = { 0 };
    sk_frame_decoder d;
    collected c = { 0 };

    sk_frame_decoder_init(&d, 0);
    assert_int_equal(feed_chunk(&d, stream, sizeof(stream), &c), 0);
    assert_int_equal(c.count, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(c.len[i], 0);
    assert_int_equal(sk_frame_decoder_finish(&d), 0);
    collected_free(&c);

    /* Complete exactly when the 4th header byte arrives. */
    for (size_t i = 0; i < SK_FRAME_HEADER_SIZE; i++) {
        sk_frame out;
        int complete = -1;
        assert_int_equal(sk_frame_decoder_feed(&d, stream + i, 1, &out, &complete), 1);
        assert_int_equal(complete, i == SK_FRAME_HEADER_SIZE - 1);
        if (complete)
            assert_int_equal(out.len, 0);
    }
    assert_int_equal(sk_frame_decoder_finish(&d), 0);
    assert_null(d.buf);
    sk_frame_decoder_free(&d);
}

static void test_decoder_empty_feed(void **state)
{
    (void)state;
    sk_frame_decoder d;
    sk_frame out;
    int complete = -1;
    sk_frame_decoder_init(&d, 0);
    assert_int_equal(sk_frame_decoder_feed(&d, NULL, 0, &out, &complete), 0);
    assert_int_equal(complete, 0);
    assert_int_equal(sk_frame_decoder_finish(&d), 0);
    sk_frame_decoder_free(&d);
}

static void test_decoder_huge_length_rejected_without_allocation(void **state)
{
    (void)state;
    const uint8_t huge[] = { 0xFF, 0xFF, 0xFF, 0xFF, 'x', 'y' };
    sk_frame_decoder d;
    sk_frame out;
    int complete = -1;

    sk_frame_decoder_init(&d, SK_FRAME_DEFAULT_MAX);
    assert_int_equal(sk_frame_decoder_feed(&d, huge, sizeof(huge), &out, &complete), -EMSGSIZE);
    assert_int_equal(complete, 0);
    assert_null(d.buf);
    assert_int_equal(d.buf_cap, 0);
    assert_int_equal(sk_frame_decoder_finish(&d), -EMSGSIZE);
    sk_frame_decoder_free(&d);

    /* Header split in two feeds: refused when it completes. */
    sk_frame_decoder_init(&d, 0);
    assert_int_equal(sk_frame_decoder_feed(&d, huge, 2, &out, &complete), 2);
    assert_int_equal(sk_frame_decoder_feed(&d, huge + 2, 4, &out, &complete), -EMSGSIZE);
    assert_null(d.buf);
    assert_int_equal(d.buf_cap, 0);
    sk_frame_decoder_free(&d);
}

static void test_decoder_max_boundary(void **state)
{
    (void)state;
    uint8_t stream[SK_FRAME_HEADER_SIZE + 11];
    size_t len = 0;
    sk_frame_decoder d;
    collected c = { 0 };

    put_frame(stream, &len, "0123456789", 10);
    sk_frame_decoder_init(&d, 10);
    assert_int_equal(feed_chunk(&d, stream, len, &c), 0);
    assert_int_equal(c.count, 1);
    assert_int_equal(c.len[0], 10);
    assert_memory_equal(c.data[0], "0123456789", 10);
    /* Same, split: goes through the owned buffer. */
    assert_int_equal(feed_chunk(&d, stream, 7, &c), 0);
    assert_int_equal(feed_chunk(&d, stream + 7, len - 7, &c), 0);
    assert_int_equal(c.count, 2);
    assert_memory_equal(c.data[1], "0123456789", 10);
    assert_int_equal(sk_frame_decoder_finish(&d), 0);
    collected_free(&c);
    sk_frame_decoder_free(&d);

    len = 0;
    put_frame(stream, &len, "0123456789A", 11);
    sk_frame_decoder_init(&d, 10);
    assert_int_equal(feed_chunk(&d, stream, len, &c), -EMSGSIZE);
    assert_int_equal(c.count, 0);
    assert_null(d.buf);
    sk_frame_decoder_free(&d);
}

static void test_decoder_truncated(void **state)
{
    (void)state;
    sk_frame_decoder d;
    collected c = { 0 };

    /* Mid-header. */
    sk_frame_decoder_init(&d, 0);
    assert_int_equal(feed_chunk(&d, g_stream, 2, &c), 0);
    assert_int_equal(sk_frame_decoder_finish(&d), -EPROTO);
    sk_frame_decoder_free(&d);

    /* Header complete, no payload yet. */
    sk_frame_decoder_init(&d, 0);
    assert_int_equal(feed_chunk(&d, g_stream, SK_FRAME_HEADER_SIZE, &c), 0);
    assert_int_equal(sk_frame_decoder_finish(&d), -EPROTO);
    sk_frame_decoder_free(&d);

    /* Mid-payload ("he" of "hello"). */
    sk_frame_decoder_init(&d, 0);
    assert_int_equal(feed_chunk(&d, g_stream, SK_FRAME_HEADER_SIZE + 2, &c), 0);
    assert_int_equal(c.count, 0);
    assert_int_equal(sk_frame_decoder_finish(&d), -EPROTO);
    sk_frame_decoder_free(&d);

    /* After whole frames, then a partial one. */
    sk_frame_decoder_init(&d, 0);
    assert_int_equal(feed_chunk(&d, g_stream, g_stream_len - 1, &c), 0);
    assert_int_equal(c.count, 3);
    assert_int_equal(sk_frame_decoder_finish(&d), -EPROTO);
    sk_frame_decoder_free(&d);
    collected_free(&c);

    /* Nothing at all: a clean end. */
    sk_frame_decoder_init(&d, 0);
    assert_int_equal(sk_frame_decoder_finish(&d), 0);
    sk_frame_decoder_free(&d);
}

static void test_decoder_error_is_sticky(void **state)
{
    (void)state;
    const uint8_t bad[] = { 0, 0, 0, 11 };
    sk_frame_decoder d;
    sk_frame out;
    int complete = -1;

    sk_frame_decoder_init(&d, 10);
    assert_int_equal(sk_frame_decoder_feed(&d, bad, sizeof(bad), &out, &complete), -EMSGSIZE);
    /* A valid frame afterwards is refused with the same error. */
    for (int i = 0; i < 3; i++) {
        complete = -1;
        assert_int_equal(sk_frame_decoder_feed(&d, g_stream, g_stream_len, &out, &complete), -EMSGSIZE);
        assert_int_equal(complete, 0);
    }
    assert_int_equal(sk_frame_decoder_finish(&d), -EMSGSIZE);
    /* free resets: the decoder works again after init. */
    sk_frame_decoder_free(&d);
    collected c = { 0 };
    sk_frame_decoder_init(&d, 0);
    assert_int_equal(feed_chunk(&d, g_stream, g_stream_len, &c), 0);
    assert_expected_messages(&c);
    collected_free(&c);
    sk_frame_decoder_free(&d);
}

/* ---- sk_frame_send / sk_frame_recv over a socketpair --------------------- */

typedef struct pair {
    sk_sock a;
    sk_sock b;
} pair;

static int setup_pair(void **state)
{
    int fds[2];
    pair *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    assert_int_equal(sk_sock_from_fd(&p->a, fds[0]), 0);
    assert_int_equal(sk_sock_from_fd(&p->b, fds[1]), 0);
    *state = p;
    return 0;
}

static int teardown_pair(void **state)
{
    pair *p = *state;
    sk_sock_close(&p->a);
    sk_sock_close(&p->b);
    free(p);
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write raw bytes to the peer (small amounts: fits the socket buffer). */
static void raw_send(sk_sock *s, const void *buf, size_t len)
{
    assert_int_equal(sk_sock_sendall(s, buf, len), 0);
}

static void test_socket_three_quick_frames(void **state)
{
    pair *p = *state;
    const char *msgs[] = { "hello", "", "world!!" };
    for (int i = 0; i < 3; i++)
        assert_int_equal(sk_frame_send(&p->a, msgs[i], strlen(msgs[i]), 1000), 0);
    for (int i = 0; i < 3; i++) {
        void *payload = NULL;
        size_t len = 99;
        assert_int_equal(sk_frame_recv(&p->b, 0, &payload, &len, 1000), 1);
        assert_non_null(payload); /* even for the 0-length frame */
        assert_int_equal(len, strlen(msgs[i]));
        assert_memory_equal(payload, msgs[i], len);
        free(payload);
    }
}

static void test_socket_raw_bytes_match_wire_format(void **state)
{
    pair *p = *state;
    uint8_t got[SK_FRAME_HEADER_SIZE + 3];
    const uint8_t want[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
    assert_int_equal(sk_frame_send(&p->a, "abc", 3, 1000), 0);
    assert_int_equal(sk_sock_settimeout(&p->b, 1000), 0);
    assert_int_equal(sk_sock_recv_exact(&p->b, got, sizeof(got)), sizeof(got));
    assert_memory_equal(got, want, sizeof(want));
}

#define BIG_FRAME (8u * 1024u * 1024u)

typedef struct reader_arg {
    sk_sock *s;
    int rc;
    void *payload;
    size_t len;
} reader_arg;

static void *reader_main(void *arg)
{
    reader_arg *r = arg;
    r->rc = sk_frame_recv(r->s, 0, &r->payload, &r->len, 60000);
    return NULL;
}

static void test_socket_big_frame_small_sndbuf(void **state)
{
    pair *p = *state;
    uint8_t *big = malloc(BIG_FRAME);
    assert_non_null(big);
    for (size_t i = 0; i < BIG_FRAME; i++)
        big[i] = (uint8_t)(i ^ (i >> 11));
    assert_int_equal(sk_sock_set_sndbuf(&p->a, 4096), 0);
    assert_int_equal(sk_sock_set_rcvbuf(&p->b, 4096), 0);

    reader_arg r = { .s = &p->b, .rc = -1 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
    int rc = sk_frame_send(&p->a, big, BIG_FRAME, 60000);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(r.rc, 1);
    assert_int_equal(r.len, BIG_FRAME);
    assert_memory_equal(r.payload, big, BIG_FRAME);
    free(r.payload);
    free(big);
}

static void test_socket_recv_timeout_silent_peer(void **state)
{
    pair *p = *state;
    void *payload = (void *)1;
    size_t len = 99;
    int64_t t0 = now_ms();
    assert_int_equal(sk_frame_recv(&p->b, 0, &payload, &len, 200), -ETIMEDOUT);
    assert_true(now_ms() - t0 >= 150); /* it did wait (not a performance bound) */
    assert_null(payload);
    assert_int_equal(len, 0);
}

/* A peer that announces 20 bytes, then sends one every 60 ms. */
static void *trickle_main(void *arg)
{
    sk_sock *s = arg;
    uint8_t h[SK_FRAME_HEADER_SIZE];
    const struct timespec gap = { 0, 60 * 1000 * 1000 };
    sk_frame_header_encode(h, 20);
    if (sk_sock_sendall(s, h, sizeof(h)) < 0)
        return NULL;
    for (int i = 0; i < 20; i++) {
        nanosleep(&gap, NULL);
        if (sk_sock_sendall(s, "x", 1) < 0)
            break;
    }
    return NULL;
}

/* The timeout bounds the whole frame, not each read: a peer that keeps
 * trickling bytes cannot stretch it. */
static void test_socket_recv_timeout_bounds_whole_frame(void **state)
{
    pair *p = *state;
    pthread_t t;
    void *payload = NULL;
    size_t len = 0;
    assert_int_equal(pthread_create(&t, NULL, trickle_main, &p->a), 0);
    assert_int_equal(sk_frame_recv(&p->b, 0, &payload, &len, 300), -ETIMEDOUT);
    assert_null(payload);
    assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_socket_recv_zero_timeout(void **state)
{
    pair *p = *state;
    void *payload = NULL;
    size_t len = 0;
    assert_int_equal(sk_frame_recv(&p->b, 0, &payload, &len, 0), -ETIMEDOUT);
    assert_int_equal(sk_frame_send(&p->a, "x", 1, 1000), 0);
    assert_int_equal(sk_frame_recv(&p->b, 0, &payload, &len, 0), 1);
    assert_int_equal(len, 1);
    free(payload);
}

static void test_socket_peer_closes_mid_payload(void **state)
{
    pair *p = *state;
    uint8_t part[SK_FRAME_HEADER_SIZE + 2];
    sk_frame_header_encode(part, 5);
    memcpy(part + SK_FRAME_HEADER_SIZE, "he", 2);
    raw_send(&p->a, part, sizeof(part));
    sk_sock_close(&p->a);
    void *payload = NULL;
    size_t len = 0;
    assert_int_equal(sk_frame_recv(&p->b, 0, &payload, &len, 1000), -EPROTO);
    assert_null(payload);
}

static void test_socket_peer_closes_mid_header(void **state)
{
    pair *p = *state;
    const uint8_t part[] = { 0, 0 };
    raw_send(&p->a, part, sizeof(part));
    sk_sock_close(&p->a);
    void *payload = NULL;
    size_t len = 0;
    assert_int_equal(sk_frame_recv(&p->b, 0, &payload, &len, 1000), -EPROTO);
    assert_null(payload);
}

static void test_socket_clean_close(void **state)
{
    pair *p = *state;
    void *payload = NULL;
    size_t len = 0;
    assert_int_equal(sk_frame_send(&p->a, "last", 4, 1000), 0);
    assert_int_equal(sk_sock_shutdown(&p->a, SHUT_WR), 0);
    assert_int_equal(sk_frame_recv(&p->b, 0, &payload, &len, 1000), 1);
    assert_memory_equal(payload, "last", 4);
    free(payload);
    payload = (void *)1;
    assert_int_equal(sk_frame_recv(&p->b, 0, &payload, &len, 1000), 0);
    assert_null(payload);
    assert_int_equal(len, 0);
}

static void test_socket_oversize_header(void **state)
{
    pair *p = *state;
    uint8_t h[SK_FRAME_HEADER_SIZE];
    void *payload = NULL;
    size_t len = 0;

    sk_frame_header_encode(h, 11);
    raw_send(&p->a, h, sizeof(h));
    assert_int_equal(sk_frame_recv(&p->b, 10, &payload, &len, 1000), -EMSGSIZE);
    assert_null(payload);

    sk_frame_header_encode(h, 0xFFFFFFFFu);
    raw_send(&p->a, h, sizeof(h));
    assert_int_equal(sk_frame_recv(&p->b, 0, &payload, &len, 1000), -EMSGSIZE);
    assert_null(payload);

    /* Exactly the maximum is accepted. */
    assert_int_equal(sk_frame_send(&p->a, "0123456789", 10, 1000), 0);
    assert_int_equal(sk_frame_recv(&p->b, 10, &payload, &len, 1000), 1);
    assert_int_equal(len, 10);
    free(payload);
}

static void test_socket_send_errors(void **state)
{
    pair *p = *state;
#if SIZE_MAX > UINT32_MAX
    static const char one = 'x';
    /* Refused before anything is read from the (too short) buffer. */
    assert_int_equal(sk_frame_send(&p->a, &one, (size_t)UINT32_MAX + 1, 1000), -EMSGSIZE);
#endif
    sk_sock_close(&p->b);
    /* A closed peer gives -EPIPE (MSG_NOSIGNAL: no SIGPIPE kills us). */
    assert_int_equal(sk_frame_send(&p->a, "hello", 5, 1000), -EPIPE);
}

static void test_socket_send_timeout(void **state)
{
    pair *p = *state;
    uint8_t *big = calloc(1, BIG_FRAME);
    assert_non_null(big);
    assert_int_equal(sk_sock_set_sndbuf(&p->a, 4096), 0);
    /* Nobody reads: the frame cannot be sent within 200 ms. */
    assert_int_equal(sk_frame_send(&p->a, big, BIG_FRAME, 200), -ETIMEDOUT);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_codec),
        cmocka_unit_test_setup(test_decoder_all_in_one_feed, setup_stream),
        cmocka_unit_test_setup(test_decoder_every_split_point, setup_stream),
        cmocka_unit_test_setup(test_decoder_one_byte_at_a_time, setup_stream),
        cmocka_unit_test_setup(test_decoder_buffer_reused, setup_stream),
        cmocka_unit_test(test_decoder_zero_length_frames),
        cmocka_unit_test(test_decoder_empty_feed),
        cmocka_unit_test(test_decoder_huge_length_rejected_without_allocation),
        cmocka_unit_test(test_decoder_max_boundary),
        cmocka_unit_test_setup(test_decoder_truncated, setup_stream),
        cmocka_unit_test_setup(test_decoder_error_is_sticky, setup_stream),
        cmocka_unit_test_setup_teardown(test_socket_three_quick_frames, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_socket_raw_bytes_match_wire_format, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_socket_big_frame_small_sndbuf, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_socket_recv_timeout_silent_peer, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_socket_recv_timeout_bounds_whole_frame, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_socket_recv_zero_timeout, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_socket_peer_closes_mid_payload, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_socket_peer_closes_mid_header, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_socket_clean_close, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_socket_oversize_header, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_socket_send_errors, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_socket_send_timeout, setup_pair, teardown_pair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
