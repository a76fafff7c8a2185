/* Unit tests for exec's authentication: HMAC-SHA256 against RFC 4231's
 * test vectors, the challenge answer and its constant-time check (every
 * single-bit change refused), and nonces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "exec_auth.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void check_hmac(const uint8_t *key, size_t klen, const uint8_t *data, size_t dlen,
                       const char *want)
{
    uint8_t mac[SK_EXEC_MAC_SIZE];
    char text[2 * SK_EXEC_MAC_SIZE + 1];
    assert_int_equal(sk_exec_hmac_sha256(key, klen, data, dlen, mac), 0);
    hex(mac, sizeof mac, text);
    assert_string_equal(text, want);
}

/* RFC 4231 §4.2: test case 1. */
static void test_rfc4231_case1(void **state)
{
    (void)state;
    uint8_t key[20];
    memset(key, 0x0b, sizeof key);
    check_hmac(key, sizeof key, (const uint8_t *)"Hi There", 8,
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

/* RFC 4231 §4.3: test case 2, a key shorter than the output. */
static void test_rfc4231_case2(void **state)
{
    (void)state;
    check_hmac((const uint8_t *)"Jefe", 4, (const uint8_t *)"what do ya want for nothing?", 28,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* RFC 4231 §4.7: test case 6, a key larger than the block size. */
static void test_rfc4231_case6(void **state)
{
    (void)state;
    uint8_t key[131];
    memset(key, 0xaa, sizeof key);
    const char *msg = "Test Using Larger Than Block-Size Key - Hash Key First";
    check_hmac(key, sizeof key, (const uint8_t *)msg, strlen(msg),
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static const uint8_t token[] = "0123456789abcdef-a-test-token";

static void test_answer_checks(void **state)
{
    (void)state;
    uint8_t sn[SK_EXEC_NONCE_SIZE], cn[SK_EXEC_NONCE_SIZE], mac[SK_EXEC_MAC_SIZE];
    assert_int_equal(sk_exec_random(sn, sizeof sn), 0);
    assert_int_equal(sk_exec_random(cn, sizeof cn), 0);
    assert_int_equal(sk_exec_auth_answer(token, sizeof token - 1, sn, cn, mac), 0);
    assert_true(sk_exec_auth_check(token, sizeof token - 1, sn, cn, mac));
    /* the answer is HMAC(token, server nonce || client nonce) */
    uint8_t both[2 * SK_EXEC_NONCE_SIZE], direct[SK_EXEC_MAC_SIZE];
    memcpy(both, sn, sizeof sn);
    memcpy(both + sizeof sn, cn, sizeof cn);
    assert_int_equal(sk_exec_hmac_sha256(token, sizeof token - 1, both, sizeof both, direct), 0);
    assert_memory_equal(mac, direct, sizeof mac);
}

/* Every single-bit change of the answer, of either nonce or of the token
 * is refused: the comparison runs over all 32 bytes (CRYPTO_memcmp). */
static void test_every_bit_matters(void **state)
{
    (void)state;
    uint8_t sn[SK_EXEC_NONCE_SIZE], cn[SK_EXEC_NONCE_SIZE], mac[SK_EXEC_MAC_SIZE];
    sk_exec_random(sn, sizeof sn);
    sk_exec_random(cn, sizeof cn);
    sk_exec_auth_answer(token, sizeof token - 1, sn, cn, mac);
    for (size_t bit = 0; bit < 8 * SK_EXEC_MAC_SIZE; bit++) {
        mac[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_false(sk_exec_auth_check(token, sizeof token - 1, sn, cn, mac));
        mac[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t i = 0; i < SK_EXEC_NONCE_SIZE; i++) {
        sn[i] ^= 1;
        assert_false(sk_exec_auth_check(token, sizeof token - 1, sn, cn, mac));
        sn[i] ^= 1;
        cn[i] ^= 0x80;
        assert_false(sk_exec_auth_check(token, sizeof token - 1, sn, cn, mac));
        cn[i] ^= 0x80;
    }
    /* nonces swapped: a client cannot answer with the server's nonce as its own */
    assert_false(sk_exec_auth_check(token, sizeof token - 1, cn, sn, mac));
    assert_false(sk_exec_auth_check(token, sizeof token - 2, sn, cn, mac));
    assert_true(sk_exec_auth_check(token, sizeof token - 1, sn, cn, mac));
}

/* A replayed answer fails: the server's next nonce is a different one. */
static void test_replay_fails(void **state)
{
    (void)state;
    uint8_t sn1[SK_EXEC_NONCE_SIZE], sn2[SK_EXEC_NONCE_SIZE], cn[SK_EXEC_NONCE_SIZE];
    uint8_t mac[SK_EXEC_MAC_SIZE];
    sk_exec_random(sn1, sizeof sn1);
    sk_exec_random(sn2, sizeof sn2);
    sk_exec_random(cn, sizeof cn);
    assert_memory_not_equal(sn1, sn2, sizeof sn1);
    sk_exec_auth_answer(token, sizeof token - 1, sn1, cn, mac);
    assert_false(sk_exec_auth_check(token, sizeof token - 1, sn2, cn, mac));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4231_case1),   cmocka_unit_test(test_rfc4231_case2),
        cmocka_unit_test(test_rfc4231_case6),   cmocka_unit_test(test_answer_checks),
        cmocka_unit_test(test_every_bit_matters), cmocka_unit_test(test_replay_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
