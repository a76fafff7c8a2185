/* Unit tests for the file transfer control messages: parsing with type
 * checks (op, strings, integers, digests, entries), NUL in strings, the
 * frame encoding, error codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "file_msg.h"

static int parse(const char *json, cJSON **m, const char **op)
{
    char why[160];
    return sk_file_msg_parse((const uint8_t *)json, strlen(json), m, op, why, sizeof why);
}

static void test_parse_op(void **state)
{
    (void)state;
    cJSON *m;
    const char *op;
    assert_int_equal(parse("{\"op\":\"hello\",\"version\":1} \n", &m, &op), 0);
    assert_string_equal(op, "hello");
    cJSON_Delete(m);
    assert_int_equal(parse("{\"version\":1}", &m, &op), -EPROTO);      /* no op */
    assert_int_equal(parse("{\"op\":1}", &m, &op), -EPROTO);           /* op not a string */
    assert_int_equal(parse("[\"op\"]", &m, &op), -EPROTO);             /* not an object */
    assert_int_equal(parse("{\"op\":\"x\"} {}", &m, &op), -EPROTO);    /* trailing data */
    assert_int_equal(parse("{\"op\":\"x\"", &m, &op), -EPROTO);        /* truncated */
    assert_int_equal(parse("", &m, &op), -EPROTO);
    assert_null(m);
}

static void test_nul_in_strings(void **state)
{
    (void)state;
    cJSON *m;
    const char *op;
    assert_int_equal(parse("{\"op\":\"put\",\"name\":\"a\\u0000b\"}", &m, &op), -EILSEQ);
    /* An escaped backslash followed by "u0000" is text, not a NUL. */
    assert_int_equal(parse("{\"op\":\"put\",\"name\":\"a\\\\u0000b\"}", &m, &op), 0);
    const char *name;
    assert_int_equal(sk_file_msg_get_string(m, "name", &name, NULL, 0), 1);
    assert_string_equal(name, "a\\u0000b");
    cJSON_Delete(m);
    /* A raw NUL byte, a raw control character in a string. */
    const uint8_t raw[] = "{\"op\":\"a\0\"}";
    char why[100];
    assert_int_equal(sk_file_msg_parse(raw, sizeof raw - 1, &m, &op, why, sizeof why), -EPROTO);
    assert_int_equal(parse("{\"op\":\"a\tb\"}", &m, &op), -EPROTO);
}

static void test_integers(void **state)
{
    (void)state;
    cJSON *m;
    const char *op;
    assert_int_equal(parse("{\"op\":\"x\",\"a\":9007199254740991,\"b\":-1,\"c\":1.5,"
                           "\"d\":\"1\",\"e\":9007199254740993,\"f\":-5}", &m, &op), 0);
    uint64_t u = 0;
    int64_t i = 0;
    char why[100];
    assert_int_equal(sk_file_msg_get_u64(m, "a", &u, why, sizeof why), 1);
    assert_true(u == 9007199254740991ULL);
    assert_int_equal(sk_file_msg_get_u64(m, "b", &u, why, sizeof why), -EPROTO);
    assert_non_null(strstr(why, "'b'"));
    assert_int_equal(sk_file_msg_get_u64(m, "c", &u, why, sizeof why), -EPROTO);
    assert_int_equal(sk_file_msg_get_u64(m, "d", &u, why, sizeof why), -EPROTO);
    assert_int_equal(sk_file_msg_get_u64(m, "e", &u, why, sizeof why), -EPROTO);
    assert_int_equal(sk_file_msg_get_u64(m, "missing", &u, why, sizeof why), 0);
    assert_int_equal(sk_file_msg_get_i64(m, "f", &i, why, sizeof why), 1);
    assert_true(i == -5);
    bool b;
    assert_int_equal(sk_file_msg_get_bool(m, "a", &b, why, sizeof why), -EPROTO);
    cJSON_Delete(m);
}

static void test_build_and_encode(void **state)
{
    (void)state;
    cJSON *m = sk_file_msg_new("resume");
    assert_non_null(m);
    assert_int_equal(sk_file_msg_add_u64(m, "have", 4194304), 0);
    assert_int_equal(sk_file_msg_add_u64(m, "big", 9007199254740991ULL), 0);
    assert_int_equal(sk_file_msg_add_u64(m, "huge", 9007199254740992ULL), -ERANGE);
    assert_int_equal(sk_file_msg_add_i64(m, "neg", -7), 0);
    sk_digest_hex d[2] = {{"99aa06d3014798d86001c324468d497f"},
                          {"06b05ab6733a618578af5f94892f3950"}};
    assert_int_equal(sk_file_msg_add_digests(m, "digests", d, 2), 0);
    uint8_t *frame;
    size_t len;
    assert_int_equal(sk_file_msg_encode(m, &frame, &len), 0);
    const char *want = "{\"op\":\"resume\",\"have\":4194304,\"big\":9007199254740991,\"neg\":-7,"
                       "\"digests\":[\"99aa06d3014798d86001c324468d497f\","
                       "\"06b05ab6733a618578af5f94892f3950\"]}";
    assert_int_equal(len, 4 + strlen(want));
    assert_int_equal(frame[0], 0);
    assert_int_equal(frame[3], strlen(want));
    assert_memory_equal(frame + 4, want, strlen(want));
    uint8_t small[16];
    assert_int_equal(sk_file_msg_encode_into(m, small, sizeof small, &len), -EMSGSIZE);

    /* Parsed back: the digests. */
    cJSON *p;
    const char *op;
    assert_int_equal(sk_file_msg_parse(frame + 4, strlen(want), &p, &op, NULL, 0), 0);
    sk_digest_hex *got;
    size_t n;
    assert_int_equal(sk_file_msg_get_digests(p, "digests", SK_HASH_XXH3_128, &got, &n, NULL, 0), 1);
    assert_int_equal(n, 2);
    assert_string_equal(got[1].hex, d[1].hex);
    free(got);
    assert_int_equal(sk_file_msg_get_digests(p, "digests", SK_HASH_SHA256, &got, &n, NULL, 0),
                     -EPROTO); /* wrong length for sha256 */
    cJSON_Delete(p);
    free(frame);
    cJSON_Delete(m);
}

static void test_error_message(void **state)
{
    (void)state;
    cJSON *m = sk_file_msg_error("exists", "%s exists", "photos/a.jpg");
    uint8_t buf[256];
    size_t len;
    assert_int_equal(sk_file_msg_encode_into(m, buf, sizeof buf, &len), 0);
    const char *want = "{\"op\":\"error\",\"code\":\"exists\",\"message\":\"photos/a.jpg exists\"}";
    assert_int_equal(len, 4 + strlen(want));
    assert_memory_equal(buf + 4, want, strlen(want));
    cJSON_Delete(m);
    assert_string_equal(sk_file_errcode(-ENOSPC), "nospace");
    assert_string_equal(sk_file_errcode(-EFBIG), "nospace");
    assert_string_equal(sk_file_errcode(-EXDEV), "badname");
    assert_string_equal(sk_file_errcode(-ELOOP), "badname");
    assert_string_equal(sk_file_errcode(-ENOENT), "notfound");
    assert_string_equal(sk_file_errcode(-EEXIST), "exists");
    assert_string_equal(sk_file_errcode(-EIO), "io");
}

static void test_entries(void **state)
{
    (void)state;
    cJSON *m = sk_file_msg_new("list");
    cJSON *arr = cJSON_AddArrayToObject(m, "entries");
    sk_file_entry in[3] = {
        {.name = "photos", .type = SK_FTYPE_DIR, .mode = 0755, .mtime = 1763710000},
        {.name = "photos/a.jpg", .type = SK_FTYPE_FILE, .size = 12345, .mode = 0644, .mtime = 5},
        {.name = "photos/latest", .type = SK_FTYPE_SYMLINK, .mtime = 6, .target = "a.jpg"},
    };
    for (int i = 0; i < 3; i++)
        assert_int_equal(sk_file_msg_add_entry(arr, &in[i]), 0);
    uint8_t *frame;
    size_t len;
    assert_int_equal(sk_file_msg_encode(m, &frame, &len), 0);
    cJSON_Delete(m);
    const char *op;
    assert_int_equal(sk_file_msg_parse(frame + 4, len - 4, &m, &op, NULL, 0), 0);
    free(frame);
    const cJSON *item;
    int i = 0;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(m, "entries")) {
        sk_file_entry e;
        char why[128];
        assert_int_equal(sk_file_msg_parse_entry(item, &e, why, sizeof why), 0);
        assert_string_equal(e.name, in[i].name);
        assert_int_equal(e.type, in[i].type);
        assert_int_equal(e.size, in[i].size);
        assert_int_equal(e.mode, in[i].mode);
        assert_int_equal(e.mtime, in[i].mtime);
        if (in[i].target)
            assert_string_equal(e.target, in[i].target);
        else
            assert_null(e.target);
        i++;
    }
    assert_int_equal(i, 3);
    cJSON_Delete(m);
    /* A file entry without a size, a symlink without a target. */
    cJSON *bad;
    assert_int_equal(parse("{\"op\":\"x\",\"e\":[{\"name\":\"a\",\"type\":\"file\"},"
                           "{\"name\":\"l\",\"type\":\"symlink\"},{\"name\":\"d\",\"type\":\"fifo\"}]}",
                           &bad, &op), 0);
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(bad, "e")) {
        sk_file_entry e;
        assert_int_equal(sk_file_msg_parse_entry(item, &e, NULL, 0), -EPROTO);
    }
    cJSON_Delete(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_op),
        cmocka_unit_test(test_nul_in_strings),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_build_and_encode),
        cmocka_unit_test(test_error_message),
        cmocka_unit_test(test_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
