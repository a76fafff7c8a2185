/* Unit tests for request-target -> relative path: the traversal matrix, decoding,
 * dotfiles, absolute-form, directory form and the output size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "http_path.h"

typedef struct path_case {
    const char *target;
    size_t len; /* 0: strlen */
    int result;
    const char *path; /* on success */
    bool dir;
    bool dotfiles;
} path_case;

static const path_case cases[] = {
    /* plain and decoded */
    { "/", 0, 0, "", true, false },
    { "/index.html", 0, 0, "index.html", false, false },
    { "/a/b%20c.txt?x=1", 0, 0, "a/b c.txt", false, false },
    { "/a/b/", 0, 0, "a/b", true, false },
    { "/a?x=/../../etc/passwd", 0, 0, "a", false, false },
    { "/?x", 0, 0, "", true, false },
    { "/%41%62%63", 0, 0, "Abc", false, false },
    { "/100%25", 0, 0, "100%", false, false },
    { "/q%3Fx", 0, 0, "q?x", false, false },
    { "/caf%C3%A9", 0, 0, "caf\xc3\xa9", false, false },
    { "/caf\xc3\xa9", 0, 0, "caf\xc3\xa9", false, false },
    { "/a+b", 0, 0, "a+b", false, false },
    { "/a:b@c", 0, 0, "a:b@c", false, false },
    /* removed segments */
    { "//a//b//", 0, 0, "a/b", true, false },
    { "/./a/./b/.", 0, 0, "a/b", true, false },
    { "/a/%2e", 0, 0, "a", true, false },
    { "/a/%2E/b", 0, 0, "a/b", false, false },
    { "/.", 0, 0, "", true, false },
    /* decoded once: a literal name, never ".." */
    { "/%252e%252e", 0, 0, "%2e%2e", false, false },
    { "/%252e%252e/%252e%252e/etc/passwd", 0, 0, "%2e%2e/%2e%2e/etc/passwd", false, false },
    { "/%252f", 0, 0, "%2f", false, false },
    { "/a..", 0, 0, "a..", false, false },
    { "/..a", 0, 0, "", false, false }, /* placeholder, overridden below: dotfile */
    /* traversal */
    { "/../etc/passwd", 0, -400, NULL, false, false },
    { "/..", 0, -400, NULL, false, false },
    { "/a/../../", 0, -400, NULL, false, false },
    { "/a/..", 0, -400, NULL, false, false },
    { "/a/../b", 0, -400, NULL, false, true },
    { "/%2e%2e/", 0, -400, NULL, false, false },
    { "/%2e%2e%2f", 0, -400, NULL, false, false },
    { "/%2E%2E/etc/passwd", 0, -400, NULL, false, false },
    { "/.%2e/", 0, -400, NULL, false, false },
    { "/%2e./", 0, -400, NULL, false, true },
    { "/a%2f..%2f..%2fetc", 0, -400, NULL, false, false },
    { "/a%2Fb", 0, -400, NULL, false, false },
    { "/a%5cb", 0, -400, NULL, false, false },
    { "/a%5Cb", 0, -400, NULL, false, false },
    { "/..%5c..%5cetc", 0, -400, NULL, false, false },
    { "/a\\b", 0, -400, NULL, false, false },
    { "/..\\etc", 0, -400, NULL, false, false },
    { "\\a", 0, -400, NULL, false, false },
    /* NUL and control characters */
    { "/a%00.html", 0, -400, NULL, false, false },
    { "/a\0b", 4, -400, NULL, false, false },
    { "/a%0a", 0, -400, NULL, false, false },
    { "/a%0D%0AX: y", 0, -400, NULL, false, false },
    { "/a%7f", 0, -400, NULL, false, false },
    { "/a\x01", 0, -400, NULL, false, false },
    { "/a b", 0, -400, NULL, false, false },
    { "/a#frag", 0, -400, NULL, false, false },
    /* bad escapes */
    { "/%", 0, -400, NULL, false, false },
    { "/%4", 0, -400, NULL, false, false },
    { "/%zz", 0, -400, NULL, false, false },
    { "/%4g", 0, -400, NULL, false, false },
    { "/a%", 0, -400, NULL, false, false },
    { "/%%41", 0, -400, NULL, false, false },
    /* other forms */
    { "", 0, -400, NULL, false, false },
    { "*", 0, -400, NULL, false, false },
    { "a/b", 0, -400, NULL, false, false },
    { "example.com:80", 0, -400, NULL, false, false },
    { "file:///etc/passwd", 0, -400, NULL, false, false },
    { "ftp://h/a", 0, -400, NULL, false, false },
    { "http:/a", 0, -400, NULL, false, false },
    { "http:///etc/passwd", 0, -400, NULL, false, false },
    { "http://user@h/a", 0, -400, NULL, false, false },
    { "http://h\\@evil/a", 0, -400, NULL, false, false },
    { "http://h/../etc/passwd", 0, -400, NULL, false, false },
    { "http://h/%2e%2e/etc/passwd", 0, -400, NULL, false, false },
    { "http://h:8080/a/b?c", 0, 0, "a/b", false, false },
    { "HTTPS://H/x/", 0, 0, "x", true, false },
    { "http://h", 0, 0, "", true, false },
    { "http://h?x", 0, 0, "", true, false },
    /* dotfiles */
    { "/.git/config", 0, -404, NULL, false, false },
    { "/.env", 0, -404, NULL, false, false },
    { "/a/.htaccess", 0, -404, NULL, false, false },
    { "/%2egit/config", 0, -404, NULL, false, false },
    { "/...", 0, -404, NULL, false, false },
    { "/.git/config", 0, 0, ".git/config", false, true },
    { "/a/.well-known/", 0, 0, "a/.well-known", true, true },
    { "/.git/../x", 0, -400, NULL, false, false }, /* 400 wins over 404 */
    { "/.git/%00", 0, -400, NULL, false, false },
};

static void check_case(size_t i, const path_case *c)
{
    char out[256];
    bool dir = !c->dir;
    size_t len = c->len ? c->len : strlen(c->target);
    int r = sk_http_target_to_path(c->target, len, c->dotfiles, out, sizeof(out), &dir);
    if (r != c->result)
        fail_msg("case %zu '%s': got %d, want %d", i, c->target, r, c->result);
    if (r == 0) {
        if (strcmp(out, c->path) != 0)
            fail_msg("case %zu '%s': got '%s', want '%s'", i, c->target, out, c->path);
        if (dir != c->dir)
            fail_msg("case %zu '%s': is_dir_form %d", i, c->target, dir);
    } else {
        assert_string_equal(out, "");
    }
}

static void test_matrix(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        path_case c = cases[i];
        if (strcmp(c.target, "/..a") == 0) {
            c.result = -404;
            check_case(i, &c);
            c.dotfiles = true;
            c.result = 0;
            c.path = "..a";
        }
        check_case(i, &c);
    }
}

/* Results never hold "..", '\\', a NUL or a leading '/', whatever the case. */
static void test_results_are_safe(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const path_case *c = &cases[i];
        char out[256];
        size_t len = c->len ? c->len : strlen(c->target);
        if (sk_http_target_to_path(c->target, len, true, out, sizeof(out), NULL) != 0)
            continue;
        assert_true(out[0] != '/');
        assert_null(strchr(out, '\\'));
        assert_null(strstr(out, "//"));
        for (const char *seg = out; *seg;) {
            size_t n = strcspn(seg, "/");
            assert_false(n == 2 && seg[0] == '.' && seg[1] == '.');
            assert_false(n == 1 && seg[0] == '.');
            seg += n + (seg[n] == '/');
        }
    }
}

static void test_output_size(void **state)
{
    (void)state;
    char out[8];
    bool dir;
    assert_int_equal(sk_http_target_to_path("/abcdefg", 8, false, out, 8, &dir), 0);
    assert_string_equal(out, "abcdefg");
    assert_int_equal(sk_http_target_to_path("/abcdefgh", 9, false, out, 8, &dir), -414);
    assert_string_equal(out, "");
    assert_int_equal(sk_http_target_to_path("/abc/defg", 9, false, out, 8, &dir), -414);
    assert_int_equal(sk_http_target_to_path("/abc/def", 8, false, out, 8, &dir), 0);
    assert_string_equal(out, "abc/def");
    assert_int_equal(sk_http_target_to_path("/%41%41%41%41%41%41%41", 22, false, out, 8, &dir), 0);
    assert_string_equal(out, "AAAAAAA");
    assert_int_equal(sk_http_target_to_path("/", 1, false, out, 1, &dir), 0);
    assert_string_equal(out, "");
    assert_int_equal(sk_http_target_to_path("/", 1, false, out, 0, &dir), -414);
    /* Only len bytes are read: the rest of the buffer does not count. */
    assert_int_equal(sk_http_target_to_path("/ab/../x", 3, false, out, 8, &dir), 0);
    assert_string_equal(out, "ab");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_results_are_safe),
        cmocka_unit_test(test_output_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
