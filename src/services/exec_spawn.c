/* posix_spawn of exec's commands: pipes, closefrom, setsid, default
 * signals (the server blocks SIGINT/SIGTERM and ignores SIGPIPE, which a
 * child would otherwise inherit). */
#include "exec_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Whether path is an executable regular file; -errno otherwise. */
static int executable(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
        return -EACCES;
    return 0;
}

int sk_exec_find_program(const char *name, const char *path, char out[PATH_MAX])
{
    if (!name[0])
        return -ENOENT;
    if (strchr(name, '/')) {
        if (strlen(name) >= PATH_MAX)
            return -ENAMETOOLONG;
        snprintf(out, PATH_MAX, "%s", name);
        return 0;
    }
    int rc = -ENOENT;
    for (const char *dir = path ? path : ""; *dir;) {
        size_t len = strcspn(dir, ":");
        if (len > 0) {
            int n = snprintf(out, PATH_MAX, "%.*s/%s", (int)len, dir, name);
            int ok = n > 0 && n < PATH_MAX ? executable(out) : -ENAMETOOLONG;
            if (ok == 0)
                return 0;
            if (ok == -EACCES)
                rc = -EACCES;
        }
        dir += len + (dir[len] == ':');
    }
    return rc;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void sk_exec_child_close_fds(sk_exec_child *child)
{
    close_fd(&child->in_fd);
    close_fd(&child->out_fd);
    close_fd(&child->err_fd);
    close_fd(&child->pidfd);
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

/* New session (own process group), all signals default and unblocked. */
static int prepare_attr(posix_spawnattr_t *attr)
{
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    int rc = posix_spawnattr_init(attr);
    if (rc)
        return -rc;
    rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
    if (!rc)
        rc = posix_spawnattr_setsigmask(attr, &none);
    if (!rc)
        rc = posix_spawnattr_setsigdefault(attr, &all);
    if (rc)
        posix_spawnattr_destroy(attr);
    return -rc;
}

/* The child's ends (stdin read end, stdout and stderr write ends) onto
 * 0, 1, 2; its cwd; everything from 3 up closed. */
static int prepare_actions(posix_spawn_file_actions_t *fa, const int ends[3], const char *cwd)
{
    int rc = posix_spawn_file_actions_init(fa);
    if (rc)
        return -rc;
    for (int i = 0; i < 3 && !rc; i++)
        rc = posix_spawn_file_actions_adddup2(fa, ends[i], i);
    if (!rc && cwd && cwd[0])
        rc = posix_spawn_file_actions_addchdir_np(fa, cwd);
    if (!rc)
        rc = posix_spawn_file_actions_addclosefrom_np(fa, 3);
    if (rc)
        posix_spawn_file_actions_destroy(fa);
    return -rc;
}

/* Three pipes: p[0] stdin, p[1] stdout, p[2] stderr. */
static int open_pipes(int p[3][2])
{
    for (int i = 0; i < 3; i++) {
        if (pipe2(p[i], O_CLOEXEC) < 0) {
            int e = errno;
            for (int j = 0; j < i; j++) {
                close(p[j][0]);
                close(p[j][1]);
            }
            return -e;
        }
    }
    return 0;
}

static int start(const char *program, char *const *argv, char *const *envp, const char *cwd,
                 const int ends[3], pid_t *pid)
{
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    int rc = prepare_attr(&attr);
    if (rc < 0)
        return rc;
    rc = prepare_actions(&fa, ends, cwd);
    if (rc == 0) {
        rc = -posix_spawn(pid, program, &fa, &attr, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
    }
    posix_spawnattr_destroy(&attr);
    return rc;
}

int sk_exec_spawn(const char *program, char *const *argv, char *const *envp, const char *cwd,
                  sk_exec_child *child)
{
    int p[3][2];
    int rc = open_pipes(p);
    if (rc < 0)
        return rc;
    const int ends[3] = {p[0][0], p[1][1], p[2][1]};
    *child = (sk_exec_child){.pid = -1, .pidfd = -1, .in_fd = p[0][1], .out_fd = p[1][0],
                             .err_fd = p[2][0]};
    rc = start(program, argv, envp, cwd, ends, &child->pid);
    for (int i = 0; i < 3; i++)
        close(ends[i]);
    if (rc == 0)
        rc = set_nonblock(child->in_fd);
    if (rc == 0)
        rc = set_nonblock(child->out_fd);
    if (rc == 0)
        rc = set_nonblock(child->err_fd);
    if (rc < 0) {
        /* started but unusable (fcntl failed): end it */
        if (child->pid > 0) {
            kill(-child->pid, SIGKILL);
            while (waitpid(child->pid, NULL, 0) < 0 && errno == EINTR) {
            }
        }
        sk_exec_child_close_fds(child);
        child->pid = -1;
        return rc;
    }
    child->pidfd = pidfd_open(child->pid, 0); /* close-on-exec; -1: poll with waitid */
    return 0;
}
