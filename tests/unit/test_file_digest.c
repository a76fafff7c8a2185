/* Unit tests for the file transfer digests: known XXH3-128 (canonical,
 * big-endian hex, as xxhsum -H2 prints) and SHA-256 vectors, streaming in
 * pieces, file ranges, chunk digests and their common prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_digest.h"

/* A temporary file holding len bytes: zeros, or the pattern (i*7+3) % 251. */
static int temp_file(size_t len, int pattern)
{
    char path[] = "/tmp/sk-test-digest-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    uint8_t *buf = calloc(1, len ? len : 1);
    assert_non_null(buf);
    for (size_t i = 0; pattern && i < len; i++)
        buf[i] = (uint8_t)((i * 7 + 3) % 251);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    free(buf);
    return fd;
}

static void digest_of(sk_hash_kind kind, const void *data, size_t len, sk_digest_hex *out)
{
    sk_hash h = {0};
    assert_int_equal(sk_hash_init(&h, kind), 0);
    sk_hash_update(&h, data, len);
    assert_int_equal(sk_hash_final(&h, out), 0);
    sk_hash_free(&h);
}

static void test_names(void **state)
{
    (void)state;
    sk_hash_kind k;
    assert_int_equal(sk_hash_parse("xxh3-128", &k), 0);
    assert_int_equal(k, SK_HASH_XXH3_128);
    assert_int_equal(sk_hash_parse("sha256", &k), 0);
    assert_int_equal(k, SK_HASH_SHA256);
    assert_int_equal(sk_hash_parse("md5", &k), -EINVAL);
    assert_int_equal(sk_hash_parse("SHA256", &k), -EINVAL);
    assert_string_equal(sk_hash_name(SK_HASH_XXH3_128), "xxh3-128");
    assert_string_equal(sk_hash_name(SK_HASH_SHA256), "sha256");
    assert_int_equal(sk_hash_hex_len(SK_HASH_XXH3_128), 32);
    assert_int_equal(sk_hash_hex_len(SK_HASH_SHA256), 64);
}

static void test_hex_valid(void **state)
{
    (void)state;
    assert_true(sk_hash_hex_valid(SK_HASH_XXH3_128, "99aa06d3014798d86001c324468d497f"));
    assert_false(sk_hash_hex_valid(SK_HASH_XXH3_128, "99AA06D3014798D86001C324468D497F"));
    assert_false(sk_hash_hex_valid(SK_HASH_XXH3_128, "99aa06d3014798d86001c324468d497"));
    assert_false(sk_hash_hex_valid(SK_HASH_XXH3_128, "99aa06d3014798d86001c324468d497f0"));
    assert_false(sk_hash_hex_valid(SK_HASH_XXH3_128, "99aa06d3014798d86001c324468d497g"));
    assert_false(sk_hash_hex_valid(SK_HASH_SHA256, "99aa06d3014798d86001c324468d497f"));
}

static void test_known_vectors(void **state)
{
    (void)state;
    sk_digest_hex d;
    digest_of(SK_HASH_XXH3_128, "", 0, &d);
    assert_string_equal(d.hex, "99aa06d3014798d86001c324468d497f");
    digest_of(SK_HASH_XXH3_128, "abc", 3, &d);
    assert_string_equal(d.hex, "06b05ab6733a618578af5f94892f3950");
    digest_of(SK_HASH_SHA256, "", 0, &d);
    assert_string_equal(d.hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    digest_of(SK_HASH_SHA256, "abc", 3, &d);
    assert_string_equal(d.hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* Fed in pieces of every size 1..17, the digest is the same. */
static void test_streaming_pieces(void **state)
{
    (void)state;
    uint8_t data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13);
    for (int kind = SK_HASH_XXH3_128; kind <= SK_HASH_SHA256; kind++) {
        sk_digest_hex once, pieces;
        digest_of((sk_hash_kind)kind, data, sizeof data, &once);
        sk_hash h = {0};
        for (size_t step = 1; step <= 17; step++) {
            assert_int_equal(sk_hash_init(&h, (sk_hash_kind)kind), 0); /* restart reuses */
            for (size_t off = 0; off < sizeof data; off += step)
                sk_hash_update(&h, data + off, off + step <= sizeof data ? step : sizeof data - off);
            assert_int_equal(sk_hash_final(&h, &pieces), 0);
            assert_string_equal(once.hex, pieces.hex);
        }
        sk_hash_free(&h);
        sk_hash_free(&h); /* twice is safe */
    }
}

/* 10,000,000 zero bytes, read from a file in 1 MiB blocks. */
static void test_file_range(void **state)
{
    (void)state;
    int fd = temp_file(10000000, 0);
    sk_digest_hex d;
    assert_int_equal(sk_digest_range(fd, 0, 10000000, SK_HASH_XXH3_128, &d), 0);
    assert_string_equal(d.hex, "2a77eabd7af0ededb00ea125ecd61934");
    assert_int_equal(sk_digest_range(fd, 0, 10000000, SK_HASH_SHA256, &d), 0);
    assert_string_equal(d.hex, "f5e02aa71e67f41d79023a128ca35bad86cf7b6656967bfe0884b3a3c4325eaf");
    assert_int_equal(sk_digest_range(fd, 0, 4194304, SK_HASH_XXH3_128, &d), 0);
    assert_string_equal(d.hex, "34001ae2f947e773165f453a5f35c459");
    assert_int_equal(sk_digest_range(fd, 5000000, 4194304, SK_HASH_SHA256, &d), 0);
    assert_string_equal(d.hex, "bb9f8df61474d25e71fa00722318cd387396ca1736605e1248821cc0de3d3af8");
    /* A range past the end of the file. */
    assert_int_equal(sk_digest_range(fd, 9000000, 1000001, SK_HASH_SHA256, &d), -EIO);
    close(fd);
}

static void test_chunk_arithmetic(void **state)
{
    (void)state;
    assert_int_equal(SK_FILE_CHUNK, 4194304);
    assert_int_equal(sk_file_chunk_count(0), 0);
    assert_int_equal(sk_file_chunk_count(1), 1);
    assert_int_equal(sk_file_chunk_count(SK_FILE_CHUNK), 1);
    assert_int_equal(sk_file_chunk_count(SK_FILE_CHUNK + 1), 2);
    assert_int_equal(sk_file_chunk_floor(SK_FILE_CHUNK - 1), 0);
    assert_int_equal(sk_file_chunk_floor(2 * SK_FILE_CHUNK + 5), 2 * SK_FILE_CHUNK);
}

/* 9 MiB + 5 bytes of a pattern: three chunk digests (the last one short)
 * and the whole-file digest in the same pass. */
static void test_chunk_digests(void **state)
{
    (void)state;
    const uint64_t len = 9u * 1024u * 1024u + 5u;
    int fd = temp_file((size_t)len, 1);
    sk_digest_hex chunks[3];
    sk_hash whole = {0};
    assert_int_equal(sk_hash_init(&whole, SK_HASH_SHA256), 0);
    assert_int_equal(sk_digest_chunks(fd, len, SK_HASH_SHA256, &whole, chunks), 0);
    assert_string_equal(chunks[0].hex,
                        "7ee94bc1d825fd8e1e8cebec936366cf882198068e6e1326c53302ff01734c75");
    assert_string_equal(chunks[1].hex,
                        "c925041e7e90d6ae864c9448c0c277fe2286596b04374877c43abf3bf3e0f28d");
    assert_string_equal(chunks[2].hex,
                        "40fddf1dfa615931334e10684054d912c3281b3bc10a39483ce95410351874b3");
    sk_digest_hex d;
    assert_int_equal(sk_hash_final(&whole, &d), 0);
    assert_string_equal(d.hex, "bd9ca0a089cab95ccf9c4f2aa9c9c7ebf0462fb24a55797886e3b76d08b32faf");

    /* Whole chunks only, then the rest fed from the file: the same digest. */
    assert_int_equal(sk_hash_init(&whole, SK_HASH_XXH3_128), 0);
    assert_int_equal(sk_digest_chunks(fd, 2 * SK_FILE_CHUNK, SK_HASH_XXH3_128, &whole, chunks), 0);
    assert_int_equal(sk_hash_update_fd(&whole, fd, 2 * SK_FILE_CHUNK, len - 2 * SK_FILE_CHUNK), 0);
    assert_int_equal(sk_hash_final(&whole, &d), 0);
    assert_string_equal(d.hex, "ee7ccdb0edc19750d66df82991ea2164");
    sk_digest_hex second;
    assert_int_equal(sk_digest_range(fd, SK_FILE_CHUNK, SK_FILE_CHUNK, SK_HASH_XXH3_128, &second), 0);
    assert_string_equal(chunks[1].hex, second.hex);
    sk_hash_free(&whole);

    /* No whole state; a file shorter than asked. */
    assert_int_equal(sk_digest_chunks(fd, SK_FILE_CHUNK, SK_HASH_SHA256, NULL, chunks), 0);
    assert_int_equal(sk_digest_chunks(fd, 3 * SK_FILE_CHUNK, SK_HASH_SHA256, NULL, chunks), -EIO);
    assert_int_equal(sk_digest_chunks(fd, 0, SK_HASH_SHA256, NULL, NULL), 0);
    close(fd);
}

static void test_common_prefix(void **state)
{
    (void)state;
    sk_digest_hex a[3] = {{"aa"}, {"bb"}, {"cc"}};
    sk_digest_hex b[3] = {{"aa"}, {"bb"}, {"dd"}};
    assert_int_equal(sk_digest_common_prefix(a, 3, b, 3), 2);
    assert_int_equal(sk_digest_common_prefix(a, 3, b, 1), 1);
    assert_int_equal(sk_digest_common_prefix(a, 3, a, 3), 3);
    assert_int_equal(sk_digest_common_prefix(a, 0, b, 3), 0);
    assert_int_equal(sk_digest_common_prefix(b + 2, 1, a, 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_hex_valid),
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_streaming_pieces),
        cmocka_unit_test(test_file_range),
        cmocka_unit_test(test_chunk_arithmetic),
        cmocka_unit_test(test_chunk_digests),
        cmocka_unit_test(test_common_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
