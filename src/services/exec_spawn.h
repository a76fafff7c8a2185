/* Starting a command for exec: posix_spawn with pipes on fds 0, 1 and 2
 * and nothing else open (closefrom 3), a new session and so its own
 * process group (setsid: the process group id is the pid, which lets the
 * whole group be signalled), every signal at its default disposition and
 * unblocked, the given environment and working directory. */
#ifndef SK_EXEC_SPAWN_H
#define SK_EXEC_SPAWN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct sk_exec_child {
    pid_t pid;   /* also the process group id */
    int pidfd;   /* readable when the child exits; -1 where pidfd_open fails */
    int in_fd;   /* write end of its stdin, O_NONBLOCK */
    int out_fd;  /* read end of its stdout, O_NONBLOCK */
    int err_fd;  /* read end of its stderr, O_NONBLOCK */
} sk_exec_child;

/* Find a program the way execvp does: a name with a '/' is used as it
 * is, any other is looked up in path (':'-separated directories).
 *   out: receives the path (PATH_MAX bytes).
 * Returns 0, -ENOENT (nowhere), -EACCES (found, not executable) or
 * -ENAMETOOLONG. */
int sk_exec_find_program(const char *name, const char *path, char out[PATH_MAX]);

/* Start program (a path, see sk_exec_find_program) with argv and envp
 * (NULL-ended), in cwd (NULL or "" for the server's own directory).
 * Returns 0 and fills *child, or -errno (-ENOENT, -EACCES, -EMFILE ...). */
int sk_exec_spawn(const char *program, char *const *argv, char *const *envp, const char *cwd,
                  sk_exec_child *child);

/* Close whichever of the child's descriptors are still open (set to -1). */
void sk_exec_child_close_fds(sk_exec_child *child);

#endif
