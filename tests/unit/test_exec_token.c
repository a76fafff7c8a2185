/* Unit tests for exec token files: the secret's bytes (one trailing
 * newline dropped), and the refusals: group/other permissions, too short,
 * too long, not a regular file, missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec_token.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sk-test-token-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write a file under dir with mode; returns its path (static buffer). */
static const char *make(const char *name, const void *data, size_t len, mode_t mode)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void test_good_token(void **state)
{
    (void)state;
    sk_exec_token t;
    char err[512];
    const char *p = make("good", "0123456789abcdef\n", 17, 0600);
    assert_int_equal(sk_exec_token_read(p, &t, err, sizeof err), 0);
    assert_int_equal(t.len, 16);
    assert_memory_equal(t.bytes, "0123456789abcdef", 16);
    p = make("crlf", "0123456789abcdefXY\r\n", 20, 0400);
    assert_int_equal(sk_exec_token_read(p, &t, err, sizeof err), 0);
    assert_int_equal(t.len, 18);
    /* binary secrets are fine, only one newline is dropped */
    uint8_t bin[40];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(i * 7);
    bin[39] = '\n';
    bin[38] = '\n';
    p = make("bin", bin, sizeof bin, 0600);
    assert_int_equal(sk_exec_token_read(p, &t, err, sizeof err), 0);
    assert_int_equal(t.len, 39);
    assert_memory_equal(t.bytes, bin, 39);
    sk_exec_token_clear(&t);
    assert_int_equal(t.len, 0);
}

static void test_permissions_refused(void **state)
{
    (void)state;
    sk_exec_token t;
    char err[512];
    static const mode_t modes[] = {0640, 0604, 0620, 0602, 0610, 0601, 0644};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        const char *p = make("open", "0123456789abcdef0123", 20, modes[i]);
        assert_int_equal(sk_exec_token_read(p, &t, err, sizeof err), -EPERM);
        assert_non_null(strstr(err, "chmod 600"));
        assert_int_equal(t.len, 0);
    }
}

static void test_size_refused(void **state)
{
    (void)state;
    sk_exec_token t;
    char err[512];
    const char *p = make("short", "0123456789abcde\n", 16, 0600); /* 15 + newline */
    assert_int_equal(sk_exec_token_read(p, &t, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "at least 16"));
    p = make("empty", "", 0, 0600);
    assert_int_equal(sk_exec_token_read(p, &t, err, sizeof err), -EINVAL);
    char *big = malloc(SK_EXEC_TOKEN_MAX + 1);
    memset(big, 'k', SK_EXEC_TOKEN_MAX + 1);
    p = make("big", big, SK_EXEC_TOKEN_MAX + 1, 0600);
    assert_int_equal(sk_exec_token_read(p, &t, err, sizeof err), -EINVAL);
    p = make("max", big, SK_EXEC_TOKEN_MAX, 0600);
    assert_int_equal(sk_exec_token_read(p, &t, err, sizeof err), 0);
    assert_int_equal(t.len, SK_EXEC_TOKEN_MAX);
    free(big);
}

static void test_not_a_file(void **state)
{
    (void)state;
    sk_exec_token t;
    char err[512], path[128];
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(sk_exec_token_read(path, &t, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, path));
    snprintf(path, sizeof path, "%s/sub", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(sk_exec_token_read(path, &t, err, sizeof err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_token), cmocka_unit_test(test_permissions_refused),
        cmocka_unit_test(test_size_refused), cmocka_unit_test(test_not_a_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
