/* Unit tests for exec's messages: requests round-trip through the frame
 * decoder, every truncation and malformation is refused, fixed messages
 * keep their layout, and the pre-authentication size limit holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exec_proto.h"
#include "sockkit/frame.h"

static char *argv_ls[] = {"ls", "-l", "/tmp/a b", "", NULL};
static char *env_two[] = {"LANG=C", "X=a=b", NULL};

static void test_request_round_trip(void **state)
{
    (void)state;
    sk_exec_request r = {.timeout_ms = 1500, .cwd = "/tmp", .argc = 4, .argv = argv_ls,
                         .envc = 2, .env = env_two};
    uint8_t *frame;
    size_t len;
    assert_int_equal(sk_exec_encode_request(&r, &frame, &len), 0);
    assert_int_equal(sk_frame_header_decode(frame), len - SK_FRAME_HEADER_SIZE);
    assert_int_equal(frame[SK_FRAME_HEADER_SIZE], SK_EXEC_REQUEST);

    /* through the incremental decoder, one byte at a time */
    sk_frame_decoder d;
    sk_frame_decoder_init(&d, SK_EXEC_FRAME_MAX);
    sk_frame f = {0};
    int complete = 0;
    for (size_t i = 0; i < len && !complete; i++)
        assert_int_equal(sk_frame_decoder_feed(&d, frame + i, 1, &f, &complete), 1);
    assert_true(complete);

    sk_exec_request out;
    assert_int_equal(sk_exec_decode_request(f.data, f.len, &out), 0);
    assert_int_equal(out.timeout_ms, 1500);
    assert_string_equal(out.cwd, "/tmp");
    assert_int_equal(out.argc, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(out.argv[i], argv_ls[i]);
    assert_null(out.argv[4]);
    assert_int_equal(out.envc, 2);
    assert_string_equal(out.env[1], "X=a=b");
    assert_null(out.env[2]);
    sk_exec_request_free(&out);
    sk_frame_decoder_free(&d);
    free(frame);
}

/* Every proper prefix of a valid request, and the request with a byte
 * more, is malformed. */
static void test_request_truncated(void **state)
{
    (void)state;
    sk_exec_request r = {.cwd = "", .argc = 2, .argv = (char *[]){"echo", "hi", NULL},
                         .envc = 1, .env = (char *[]){"A=1", NULL}};
    uint8_t *frame;
    size_t len;
    assert_int_equal(sk_exec_encode_request(&r, &frame, &len), 0);
    const uint8_t *p = frame + SK_FRAME_HEADER_SIZE;
    size_t n = len - SK_FRAME_HEADER_SIZE;
    sk_exec_request out;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sk_exec_decode_request(p, i, &out), -EPROTO);
    uint8_t *longer = malloc(n + 1);
    memcpy(longer, p, n);
    longer[n] = 'x';
    assert_int_equal(sk_exec_decode_request(longer, n + 1, &out), -EPROTO);
    assert_int_equal(sk_exec_decode_request(longer, n, &out), 0);
    sk_exec_request_free(&out);
    free(longer);
    free(frame);
}

/* Hand-made payloads: type, flags, timeout, cwd, argv, env. */
static const uint8_t empty_argv0[] = {0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
static const uint8_t no_argv[] = {0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t nul_in_arg[] = {0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                                     0,    0, 0, 2, 'a', 0, 0, 0};
static const uint8_t env_no_eq[] = {0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,  0,
                                    0,    1, 'a', 0, 1, 0, 0, 0, 1, 'X'};
static const uint8_t flags_set[] = {0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                                    0,    0, 0, 1, 'a', 0, 0};
static const uint8_t huge_len[] = {0x10, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};

static void test_request_malformed(void **state)
{
    (void)state;
    const struct {
        const uint8_t *p;
        size_t n;
    } bad[] = {
        {empty_argv0, sizeof empty_argv0}, {no_argv, sizeof no_argv},
        {nul_in_arg, sizeof nul_in_arg},   {env_no_eq, sizeof env_no_eq},
        {flags_set, sizeof flags_set},     {huge_len, sizeof huge_len},
    };
    sk_exec_request out;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sk_exec_decode_request(bad[i].p, bad[i].n, &out), -EPROTO);
}

static void test_request_limits(void **state)
{
    (void)state;
    uint8_t *frame;
    size_t len;
    sk_exec_request none = {.cwd = "", .argc = 0, .argv = (char *[]){NULL}};
    assert_int_equal(sk_exec_encode_request(&none, &frame, &len), -EINVAL);
    sk_exec_request bad_env = {.cwd = "", .argc = 1, .argv = (char *[]){"a", NULL},
                               .envc = 1, .env = (char *[]){"=x", NULL}};
    assert_int_equal(sk_exec_encode_request(&bad_env, &frame, &len), -EINVAL);
    /* larger than a frame after authentication */
    char *big = malloc(SK_EXEC_FRAME_MAX + 1);
    memset(big, 'a', SK_EXEC_FRAME_MAX);
    big[SK_EXEC_FRAME_MAX] = '\0';
    sk_exec_request huge = {.cwd = "", .argc = 1, .argv = (char *[]){big, NULL}};
    assert_int_equal(sk_exec_encode_request(&huge, &frame, &len), -EINVAL);
    free(big);
}

static void test_fixed_messages(void **state)
{
    (void)state;
    uint8_t frame[1100], nonce[SK_EXEC_NONCE_SIZE], n2[SK_EXEC_NONCE_SIZE], mac[32], m2[32];
    for (size_t i = 0; i < sizeof nonce; i++)
        nonce[i] = (uint8_t)i, mac[i] = (uint8_t)(0xff - i);

    size_t n = sk_exec_encode_challenge(frame, nonce);
    assert_int_equal(n, 4 + 2 + 32);
    assert_int_equal(sk_frame_header_decode(frame), 34);
    assert_int_equal(sk_exec_decode_challenge(frame + 4, n - 4, n2), 0);
    assert_memory_equal(nonce, n2, 32);
    frame[5] = 2; /* another version */
    assert_int_equal(sk_exec_decode_challenge(frame + 4, n - 4, n2), -EPROTO);

    n = sk_exec_encode_auth(frame, nonce, mac);
    assert_int_equal(n, 4 + 65);
    assert_int_equal(sk_exec_decode_auth(frame + 4, n - 4, n2, m2), 0);
    assert_memory_equal(mac, m2, 32);
    assert_int_equal(sk_exec_decode_auth(frame + 4, n - 5, n2, m2), -EPROTO);

    uint32_t pid;
    n = sk_exec_encode_started(frame, 123456);
    assert_int_equal(sk_exec_decode_started(frame + 4, n - 4, &pid), 0);
    assert_int_equal(pid, 123456);

    sk_exec_exit e = {.how = SK_EXEC_SIGNALED, .value = 9, .flags = SK_EXEC_TIMED_OUT}, e2;
    n = sk_exec_encode_exit(frame, &e);
    static const uint8_t want[] = {0, 0, 0, 4, 0x30, 1, 9, 1};
    assert_memory_equal(frame, want, sizeof want);
    assert_int_equal(sk_exec_decode_exit(frame + 4, n - 4, &e2), 0);
    assert_int_equal(e2.value, 9);
    frame[5] = 7;
    assert_int_equal(sk_exec_decode_exit(frame + 4, n - 4, &e2), -EPROTO);

    uint8_t code;
    char msg[16];
    n = sk_exec_encode_error(frame, SK_EXEC_ERR_DENIED, "no\nway, not this one");
    assert_int_equal(sk_exec_decode_error(frame + 4, n - 4, &code, msg, sizeof msg), 0);
    assert_int_equal(code, SK_EXEC_ERR_DENIED);
    assert_string_equal(msg, "no?way, not thi"); /* cut to fit, no control bytes */
}

/* Before authentication a header announcing more than 4 KiB is refused
 * before anything is allocated. */
static void test_preauth_limit(void **state)
{
    (void)state;
    sk_frame_decoder d;
    sk_frame_decoder_init(&d, SK_EXEC_PREAUTH_MAX);
    uint8_t hdr[4];
    sk_frame_header_encode(hdr, SK_EXEC_PREAUTH_MAX + 1);
    sk_frame f;
    int complete;
    assert_int_equal(sk_frame_decoder_feed(&d, hdr, 4, &f, &complete), -EMSGSIZE);
    assert_null(d.buf);
    sk_frame_decoder_free(&d);
}

static void test_data_header(void **state)
{
    (void)state;
    uint8_t h[SK_EXEC_DATA_HEADER];
    sk_exec_encode_data_header(h, SK_EXEC_STDOUT, 65536);
    static const uint8_t want[] = {0, 1, 0, 1, 0x22};
    assert_memory_equal(h, want, sizeof want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trip), cmocka_unit_test(test_request_truncated),
        cmocka_unit_test(test_request_malformed),  cmocka_unit_test(test_request_limits),
        cmocka_unit_test(test_fixed_messages),     cmocka_unit_test(test_preauth_limit),
        cmocka_unit_test(test_data_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
