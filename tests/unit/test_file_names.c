/* Unit tests for the file transfer name rules (docs/protocol.md, badname):
 * a table of valid and invalid names, joining and the last component. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "file_fs.h"
#include "file_names.h"

static const char *const valid_names[] = {
    "a",
    "a.txt",
    "photos/a.jpg",
    "a/b/c/d/e",
    "..a",
    "a..",
    "...",
    ".hidden",
    "a/.b",
    "with space",
    "caf\xc3\xa9",            /* é */
    "\xe6\x97\xa5\xe6\x9c\xac", /* 日本 */
    "\xf0\x9f\x98\x80",        /* U+1F600 */
    "a\\b",
    "quote\"d",
    "a.part/b", /* only the last component may not end in .part */
    "a.partial",
    ".part.x",
};

static const char *const invalid_names[] = {
    "",             /* empty (only LIST accepts the root) */
    "/etc/passwd",  /* absolute */
    "/",
    "..",
    "../x",
    "a/../../x",
    "a/..",
    ".",
    "./a",
    "a/./b",
    "a//b",
    "a/",
    "//a",
    "a\tb",         /* control characters */
    "a\nb",
    "a\x01",
    "a\x1f",
    "a\x7f",
    "\xff",         /* not UTF-8 */
    "\xc3",         /* truncated sequence */
    "\xc0\xaf",     /* overlong '/' */
    "\xed\xa0\x80", /* surrogate */
    "\xf4\x90\x80\x80", /* above U+10FFFF */
    "a.part",       /* reserved for partial transfers */
    "d/x.bin.part",
    ".part",
};

static void test_valid_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid_names / sizeof valid_names[0]; i++) {
        char why[256] = "";
        int rc = sk_file_name_check(valid_names[i], false, why, sizeof why);
        if (rc != 0)
            fail_msg("'%s' refused: %s", valid_names[i], why);
    }
}

static void test_invalid_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof invalid_names / sizeof invalid_names[0]; i++) {
        char why[256] = "";
        int rc = sk_file_name_check(invalid_names[i], false, why, sizeof why);
        if (rc != -EINVAL)
            fail_msg("invalid name #%zu accepted", i);
        assert_true(why[0] != '\0');
    }
}

static void test_messages_say_what_is_wrong(void **state)
{
    (void)state;
    char why[256];
    sk_file_name_check("a/../../x", false, why, sizeof why);
    assert_non_null(strstr(why, "'..'"));
    sk_file_name_check("/etc/passwd", false, why, sizeof why);
    assert_non_null(strstr(why, "absolute"));
    sk_file_name_check("a//b", false, why, sizeof why);
    assert_non_null(strstr(why, "empty component"));
    sk_file_name_check("a\x01", false, why, sizeof why);
    assert_non_null(strstr(why, "control"));
    assert_int_equal(sk_file_name_check("x", false, NULL, 0), 0); /* why is optional */
}

static void test_root_only_when_allowed(void **state)
{
    (void)state;
    assert_int_equal(sk_file_name_check("", true, NULL, 0), 0);
    assert_int_equal(sk_file_name_check("", false, NULL, 0), -EINVAL);
    assert_int_equal(sk_file_name_check("/", true, NULL, 0), -EINVAL);
}

static void test_length_limits(void **state)
{
    (void)state;
    char name[SK_NAME_MAX + 2];
    /* 255 bytes in a component: fine; 256: too long. */
    memset(name, 'a', 255);
    name[255] = '\0';
    assert_int_equal(sk_file_name_check(name, false, NULL, 0), 0);
    name[255] = 'a';
    name[256] = '\0';
    assert_int_equal(sk_file_name_check(name, false, NULL, 0), -EINVAL);
    /* 4096 bytes in all (components of 127 + '/'): fine; 4097: too long. */
    for (size_t i = 0; i < SK_NAME_MAX + 1; i++)
        name[i] = (i % 128 == 127) ? '/' : 'b';
    name[SK_NAME_MAX] = '\0';
    if (name[SK_NAME_MAX - 1] == '/')
        name[SK_NAME_MAX - 1] = 'b';
    assert_int_equal(sk_file_name_check(name, false, NULL, 0), 0);
    name[SK_NAME_MAX] = 'b';
    name[SK_NAME_MAX + 1] = '\0';
    assert_int_equal(sk_file_name_check(name, false, NULL, 0), -EINVAL);
}

static void test_part_names(void **state)
{
    (void)state;
    char out[SK_NAME_MAX + 16];
    assert_int_equal(sk_fs_part_name("photos/a.jpg", out, sizeof out), 0);
    assert_string_equal(out, "photos/a.jpg.part");
    assert_true(sk_fs_is_part(out));
    assert_false(sk_fs_is_part("photos/a.jpg"));
    assert_false(sk_fs_is_part("part"));
    char last[256];
    memset(last, 'x', 250);
    last[250] = '\0';
    assert_int_equal(sk_fs_part_name(last, out, sizeof out), 0); /* 250 + 5 = 255 */
    memset(last, 'x', 251);
    last[251] = '\0';
    assert_int_equal(sk_fs_part_name(last, out, sizeof out), -ENAMETOOLONG);
    assert_int_equal(sk_fs_part_name("abc", out, 8), -ENAMETOOLONG);
}

static void test_join(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(sk_file_name_join("photos", "a.jpg", out, sizeof out), 0);
    assert_string_equal(out, "photos/a.jpg");
    assert_int_equal(sk_file_name_join("", "a.jpg", out, sizeof out), 0);
    assert_string_equal(out, "a.jpg");
    assert_int_equal(sk_file_name_join("photos/", "a.jpg", out, sizeof out), 0);
    assert_string_equal(out, "photos/a.jpg");
    assert_int_equal(sk_file_name_join("photos", "", out, sizeof out), 0);
    assert_string_equal(out, "photos");
    assert_int_equal(sk_file_name_join("photos", "a.jpg", out, 12), -ENAMETOOLONG);
    assert_int_equal(sk_file_name_join("photos", "a.jpg", out, 13), 0);
}

static void test_last_component(void **state)
{
    (void)state;
    assert_string_equal(sk_file_name_last("photos/a.jpg"), "a.jpg");
    assert_string_equal(sk_file_name_last("a.jpg"), "a.jpg");
    assert_string_equal(sk_file_name_last("a/b/c"), "c");
}

static void test_text(void **state)
{
    (void)state;
    assert_true(sk_file_text_valid("../a.jpg"));
    assert_true(sk_file_text_valid(""));
    assert_true(sk_file_text_valid("caf\xc3\xa9"));
    assert_false(sk_file_text_valid("a\tb"));
    assert_false(sk_file_text_valid("\xff"));
    char text[] = "a\xff\x01" "b caf\xc3\xa9 \xc3";
    sk_file_text_sanitize(text);
    assert_string_equal(text, "a??b caf\xc3\xa9 ?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_names),
        cmocka_unit_test(test_invalid_names),
        cmocka_unit_test(test_messages_say_what_is_wrong),
        cmocka_unit_test(test_root_only_when_allowed),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_part_names),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_last_component),
        cmocka_unit_test(test_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
