/* Unit tests for the HTTP directory listing: order (directories first,
 * then by name), escaping of names in text and links, dotfiles, the parent
 * link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_listing.h"

typedef struct fixture {
    char dir[64];
    int fd;
} fixture;

static void touch(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "12345", 5), 5);
    close(fd);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sk-test-listing-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    touch(f->dir, "b&<c>.txt");
    touch(f->dir, "a file.txt");
    touch(f->dir, ".hidden");
    touch(f->dir, "x:y");
    char sub[128];
    snprintf(sub, sizeof sub, "%s/zdir", f->dir);
    mkdir(sub, 0755);
    f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *state = f;
    return f->fd >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    const char *names[] = {"b&<c>.txt", "a file.txt", ".hidden", "x:y"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlinkat(f->fd, names[i], 0);
    unlinkat(f->fd, "zdir", AT_REMOVEDIR);
    close(f->fd);
    rmdir(f->dir);
    free(f);
    return 0;
}

static char *listing(fixture *f, const char *url, bool dotfiles)
{
    char *body;
    size_t len;
    assert_int_equal(sk_http_listing(f->fd, url, dotfiles, &body, &len), 0);
    char *s = malloc(len + 1);
    memcpy(s, body, len);
    s[len] = '\0';
    free(body);
    return s;
}

static void test_entries_order_and_escaping(void **state)
{
    fixture *f = *state;
    char *page = listing(f, "/some <dir>/", false);
    assert_non_null(strstr(page, "<title>Index of /some &lt;dir&gt;/</title>"));
    const char *parent = strstr(page, "href=\"../\"");
    const char *zdir = strstr(page, "href=\"zdir/\">zdir/</a>");
    const char *a = strstr(page, "href=\"a%20file.txt\">a file.txt</a>");
    const char *b = strstr(page, "href=\"b%26%3Cc%3E.txt\">b&amp;&lt;c&gt;.txt</a>");
    const char *x = strstr(page, "href=\"x%3Ay\">x:y</a>");
    assert_non_null(parent);
    assert_non_null(zdir);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(x);
    assert_true(parent < zdir && zdir < a && a < b && b < x);
    assert_null(strstr(page, ".hidden"));
    assert_null(strstr(page, "<script"));
    assert_non_null(strstr(page, "<td class=\"size\">5</td>"));
    free(page);
}

static void test_root_and_dotfiles(void **state)
{
    fixture *f = *state;
    char *page = listing(f, "/", true);
    assert_null(strstr(page, "href=\"../\""));
    assert_non_null(strstr(page, "href=\".hidden\""));
    free(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_entries_order_and_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_and_dotfiles, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
