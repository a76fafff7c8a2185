/* Unit tests for starting exec's commands: PATH lookup as execvp, and a
 * spawned child that has only fds 0, 1, 2, a session and process group of
 * its own, no blocked or ignored signals (even when its parent has some),
 * and exactly the environment given; spawn failures as -errno. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_spawn.h"

static void test_find_program(void **state)
{
    (void)state;
    char path[PATH_MAX];
    assert_int_equal(sk_exec_find_program("sh", "/nonexistent::/bin", path), 0);
    assert_string_equal(path, "/bin/sh");
    assert_int_equal(sk_exec_find_program("sk-no-such-program", "/bin:/usr/bin", path), -ENOENT);
    assert_int_equal(sk_exec_find_program("", "/bin", path), -ENOENT);
    assert_int_equal(sk_exec_find_program("./x/y", "/bin", path), 0);
    assert_string_equal(path, "./x/y");
    assert_int_equal(sk_exec_find_program("passwd", "/etc", path), -EACCES); /* not executable */
}

/* Everything the child writes to stdout, until EOF (bounded: 10 s). */
static size_t read_output(sk_exec_child *c, char *buf, size_t cap)
{
    size_t have = 0;
    for (int rounds = 0; rounds < 1000; rounds++) {
        struct pollfd p = {.fd = c->out_fd, .events = POLLIN};
        if (poll(&p, 1, 10) <= 0)
            continue;
        ssize_t n = read(c->out_fd, buf + have, cap - 1 - have);
        if (n == 0)
            break;
        if (n > 0)
            have += (size_t)n;
    }
    buf[have] = '\0';
    return have;
}

/* Spawn program with argv in "/" (while the parent blocks SIGTERM,
 * ignores SIGPIPE and holds an fd without FD_CLOEXEC, none of which may
 * reach the child); its stdout into out. Returns its pid (reaped, exit 0). */
static pid_t run(const char *program, char **argv, char **envp, char *out, size_t cap)
{
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, &old);
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    int leaky = open("/dev/null", O_RDONLY);
    assert_true(leaky >= 3);
    sk_exec_child c;
    assert_int_equal(sk_exec_spawn(program, argv, envp, "/", &c), 0);
    close(leaky);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    signal(SIGPIPE, old_pipe);
    read_output(&c, out, cap);
    int status;
    assert_int_equal(waitpid(c.pid, &status, 0), c.pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    sk_exec_child_close_fds(&c);
    return c.pid;
}

static char *path_env[] = {"PATH=/usr/bin:/bin", "A=1", NULL};

static void test_no_signals_blocked_or_ignored(void **state)
{
    (void)state;
    char out[4096];
    run("/bin/grep", (char *[]){"grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status", NULL},
        path_env, out, sizeof out);
    assert_non_null(strstr(out, "SigBlk:\t0000000000000000\n"));
    /* glibc keeps its two internal signals (32, 33) out of the defaults */
    char *ign = strstr(out, "SigIgn:\t");
    assert_non_null(ign);
    unsigned long long mask = strtoull(ign + 8, NULL, 16);
    assert_int_equal(mask & ~(3ull << 31), 0);
}

static void test_only_fds_012(void **state)
{
    (void)state;
    char out[4096];
    run("/bin/ls", (char *[]){"ls", "/proc/self/fd", NULL}, path_env, out, sizeof out);
    /* 0 1 2, and the directory ls reads shows as 3 */
    assert_true(!strcmp(out, "0\n1\n2\n") || !strcmp(out, "0\n1\n2\n3\n"));
}

static void test_own_session_and_group(void **state)
{
    (void)state;
    char out[4096];
    pid_t pid = run("/bin/cat", (char *[]){"cat", "/proc/self/stat", NULL}, path_env, out,
                    sizeof out);
    int ppid, pgrp, session;
    char *rp = strrchr(out, ')');
    assert_non_null(rp);
    assert_int_equal(sscanf(rp + 2, "%*c %d %d %d", &ppid, &pgrp, &session), 3);
    assert_int_equal(ppid, getpid());
    assert_int_equal(pgrp, pid);
    assert_int_equal(session, pid);
}

static void test_exact_environment(void **state)
{
    (void)state;
    char out[4096];
    run("/usr/bin/env", (char *[]){"env", NULL}, path_env, out, sizeof out);
    assert_string_equal(out, "PATH=/usr/bin:/bin\nA=1\n");
}

static void test_spawn_failures(void **state)
{
    (void)state;
    char *argv[] = {"x", NULL};
    char *envp[] = {NULL};
    sk_exec_child c;
    assert_int_equal(sk_exec_spawn("/nonexistent/program", argv, envp, NULL, &c), -ENOENT);
    assert_int_equal(sk_exec_spawn("/bin/true", argv, envp, "/nonexistent-dir", &c), -ENOENT);
    assert_int_equal(sk_exec_spawn("/etc/passwd", argv, envp, NULL, &c), -EACCES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_program),
        cmocka_unit_test(test_no_signals_blocked_or_ignored),
        cmocka_unit_test(test_only_fds_012),
        cmocka_unit_test(test_own_session_and_group),
        cmocka_unit_test(test_exact_environment),
        cmocka_unit_test(test_spawn_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
