/* Unit tests for the environment of exec's commands: what is kept from
 * the server, which extra variables a request may set, and overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "exec_env.h"

static char *server_env[] = {
    "PATH=/opt/evil:/usr/bin", "HOME=/home/u", "LD_PRELOAD=/tmp/x.so", "LANG=C.UTF-8",
    "LC_ALL=C", "SECRET_API_KEY=hunter2", "USER=u", "SSH_AUTH_SOCK=/tmp/agent",
    "TZ=UTC", "LOGNAME=u", "SHELL=/bin/sh", "LCX=no", NULL,
};

static void test_base_is_scrubbed(void **state)
{
    (void)state;
    char **env;
    assert_int_equal(sk_exec_env_base(server_env, &env), 0);
    assert_string_equal(sk_exec_env_get(env, "PATH"), SK_EXEC_DEFAULT_PATH);
    assert_string_equal(sk_exec_env_get(env, "HOME"), "/home/u");
    assert_string_equal(sk_exec_env_get(env, "LANG"), "C.UTF-8");
    assert_string_equal(sk_exec_env_get(env, "LC_ALL"), "C");
    assert_string_equal(sk_exec_env_get(env, "TZ"), "UTC");
    assert_string_equal(sk_exec_env_get(env, "SHELL"), "/bin/sh");
    assert_null(sk_exec_env_get(env, "LD_PRELOAD"));
    assert_null(sk_exec_env_get(env, "SECRET_API_KEY"));
    assert_null(sk_exec_env_get(env, "SSH_AUTH_SOCK"));
    assert_null(sk_exec_env_get(env, "LCX"));
    size_t n = 0;
    while (env[n])
        n++;
    assert_int_equal(n, 8);
    sk_exec_env_free(env);
}

static void test_extra_rules(void **state)
{
    (void)state;
    assert_true(sk_exec_env_allowed("FOO=bar", false));
    assert_true(sk_exec_env_allowed("PATH=/x", false));
    assert_true(sk_exec_env_allowed("_x1=", false));
    assert_false(sk_exec_env_allowed("LD_PRELOAD=/tmp/x.so", false));
    assert_false(sk_exec_env_allowed("LD_LIBRARY_PATH=/tmp", false));
    assert_false(sk_exec_env_allowed("1X=a", false));
    assert_false(sk_exec_env_allowed("A-B=a", false));
    assert_false(sk_exec_env_allowed("NOEQUALS", false));
    assert_false(sk_exec_env_allowed("=x", false));
    /* restricted (--exec-allow): only locale and terminal */
    assert_true(sk_exec_env_allowed("LANG=C", true));
    assert_true(sk_exec_env_allowed("LC_ALL=C", true));
    assert_true(sk_exec_env_allowed("TERM=dumb", true));
    assert_true(sk_exec_env_allowed("TZ=UTC", true));
    assert_false(sk_exec_env_allowed("PATH=/tmp", true));
    assert_false(sk_exec_env_allowed("PYTHONPATH=/tmp", true));
    assert_false(sk_exec_env_allowed("BASH_ENV=/tmp/x", true));
}

static void test_build_overrides(void **state)
{
    (void)state;
    char *base[] = {"PATH=/bin", "HOME=/h", "LANG=C", NULL};
    char *extra[] = {"LANG=de_DE.UTF-8", "X=1", "X=2", NULL};
    char **env;
    assert_int_equal(sk_exec_env_build(base, extra, 3, &env), 0);
    assert_string_equal(sk_exec_env_get(env, "LANG"), "de_DE.UTF-8");
    assert_string_equal(sk_exec_env_get(env, "X"), "2");
    assert_string_equal(sk_exec_env_get(env, "PATH"), "/bin");
    size_t n = 0;
    while (env[n])
        n++;
    assert_int_equal(n, 4); /* PATH, HOME, LANG, X once each */
    free(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_is_scrubbed),
        cmocka_unit_test(test_extra_rules),
        cmocka_unit_test(test_build_overrides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
