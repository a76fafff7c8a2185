/* Unit tests for chat names: the nick and room name rules, and the set of
 * nicks in use, unique without regard to case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_nick.h"

static bool valid(const char *name)
{
    return sk_chat_name_valid(name, strlen(name));
}

static void test_rules(void **state)
{
    (void)state;
    assert_true(valid("a"));
    assert_true(valid("Bob"));
    assert_true(valid("guest12"));
    assert_true(valid("_under_score"));
    assert_true(valid("with-dash"));
    assert_true(valid("9lives"));
    assert_true(valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
    assert_false(valid(""));
    assert_false(valid("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
    assert_false(valid("-dash"));
    assert_false(valid("two words"));
    assert_false(valid("tab\t"));
    assert_false(valid("dot.ted"));
    assert_false(valid("caf\xc3\xa9"));
    assert_false(valid("semi;colon"));
    assert_false(sk_chat_name_valid("a\0b", 3));
}

static void test_equal_and_fold(void **state)
{
    (void)state;
    assert_true(sk_chat_name_equal("Bob", "bOB"));
    assert_true(sk_chat_name_equal("a_-1", "A_-1"));
    assert_false(sk_chat_name_equal("bob", "bobby"));
    assert_false(sk_chat_name_equal("bob", "bo"));
    char room[] = "MyRoom-2";
    sk_chat_name_fold(room);
    assert_string_equal(room, "myroom-2");
}

static void test_set_unique_regardless_of_case(void **state)
{
    (void)state;
    sk_chat_nicks set = {0};
    sk_chat_nick bob = {.name = "Bob"}, bob2 = {.name = "bOB"}, alice = {.name = "alice"};
    assert_int_equal(sk_chat_nicks_add(&set, &bob), 0);
    assert_int_equal(sk_chat_nicks_add(&set, &bob2), -EEXIST);
    assert_int_equal(sk_chat_nicks_add(&set, &alice), 0);
    assert_ptr_equal(sk_chat_nicks_find(&set, "BOB"), &bob);
    assert_ptr_equal(sk_chat_nicks_find(&set, "ALICE"), &alice);
    assert_null(sk_chat_nicks_find(&set, "carol"));
    sk_chat_nicks_remove(&set, &bob);
    assert_null(sk_chat_nicks_find(&set, "bob"));
    assert_int_equal(sk_chat_nicks_add(&set, &bob2), 0);
    assert_ptr_equal(sk_chat_nicks_find(&set, "Bob"), &bob2);
    assert_int_equal(set.count, 2);
    sk_chat_nicks_free(&set);
}

static void test_set_grows(void **state)
{
    (void)state;
    enum { N = 5000 };
    sk_chat_nicks set = {0};
    sk_chat_nick *nicks = calloc(N, sizeof *nicks);
    assert_non_null(nicks);
    for (int i = 0; i < N; i++) {
        snprintf(nicks[i].name, sizeof nicks[i].name, "Guest%d", i);
        assert_int_equal(sk_chat_nicks_add(&set, &nicks[i]), 0);
    }
    assert_true(set.nbuckets >= N / 2);
    for (int i = 0; i < N; i++) {
        char name[40];
        snprintf(name, sizeof name, "GUEST%d", i);
        assert_ptr_equal(sk_chat_nicks_find(&set, name), &nicks[i]);
    }
    for (int i = 0; i < N; i += 2)
        sk_chat_nicks_remove(&set, &nicks[i]);
    assert_int_equal(set.count, N / 2);
    assert_null(sk_chat_nicks_find(&set, "guest0"));
    assert_ptr_equal(sk_chat_nicks_find(&set, "guest1"), &nicks[1]);
    sk_chat_nicks_free(&set);
    free(nicks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_equal_and_fold),
        cmocka_unit_test(test_set_unique_regardless_of_case),
        cmocka_unit_test(test_set_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
