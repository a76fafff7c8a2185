/* Unit tests for chat text cleaning: valid UTF-8 passes unchanged; every
 * maximal ill-formed subpart becomes one U+FFFD (the same output as
 * Python's bytes.decode("utf-8", "replace")); control characters but tab
 * become U+FFFD. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "chat_text.h"

#define R "\xef\xbf\xbd" /* U+FFFD */

static void check(const char *in, size_t len, const char *want)
{
    char out[SK_CHAT_TEXT_OUT_MAX(64)];
    assert_true(len <= 64);
    size_t n = sk_chat_text_clean((const uint8_t *)in, len, out);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
}

#define CHECK(in, want) check(in, sizeof(in) - 1, want)

static void test_valid_unchanged(void **state)
{
    (void)state;
    CHECK("hello, world", "hello, world");
    CHECK("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
          "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
    /* U+D7FF U+E000 U+10FFFF: the edges of the ranges */
    CHECK("\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf", "\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf");
    CHECK("tab\there", "tab\there");
    CHECK("\xc2\xa0nbsp", "\xc2\xa0nbsp"); /* U+00A0 is not a control */
    CHECK("", "");
}

static void test_ill_formed(void **state)
{
    (void)state;
    CHECK("a\xff" "b", "a" R "b");
    CHECK("\x80\x80", R R);                       /* lone continuation bytes */
    CHECK("\xc0\xaf", R R);                       /* overlong '/' */
    CHECK("\xe0\x80\x80", R R R);                 /* overlong */
    CHECK("\xed\xa0\x80", R R R);                 /* surrogate U+D800 */
    CHECK("\xf4\x90\x80\x80", R R R R);           /* above U+10FFFF */
    CHECK("\xf5\x80", R R);
    CHECK("\xe1\x80", R);                         /* truncated at the end */
    CHECK("\xf0\x9f\x98", R);
    CHECK("\xe6\x97\xa5\xe6", "\xe6\x97\xa5" R);
    CHECK("\xe1\x80x", R "x");                    /* truncated before ASCII */
    CHECK("\xf0\x9f\x98\xf0\x9f\x98\x80", R "\xf0\x9f\x98\x80");
}

static void test_controls(void **state)
{
    (void)state;
    CHECK("a\0b", "a" R "b");
    CHECK("\x1b[31mred", R "[31mred");            /* no terminal escapes for others */
    CHECK("bell\x07", "bell" R);
    CHECK("del\x7f", "del" R);
    CHECK("c1\xc2\x9b", "c1" R);                  /* U+009B CSI */
    CHECK("mid\rcr", "mid" R "cr");
}

static void test_worst_case_size(void **state)
{
    (void)state;
    uint8_t in[64];
    memset(in, 0xff, sizeof in);
    char out[SK_CHAT_TEXT_OUT_MAX(sizeof in)];
    assert_int_equal(sk_chat_text_clean(in, sizeof in, out), sizeof out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_unchanged),
        cmocka_unit_test(test_ill_formed),
        cmocka_unit_test(test_controls),
        cmocka_unit_test(test_worst_case_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
