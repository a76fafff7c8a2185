/* Internal: the child processes of the process models, fork (a child per
 * connection) and prefork (a fixed set of accepting children).
 *
 * Every child is an sk_proc in the server's active list, so --max-conns
 * and shutdown see it. One supervisor thread per server forks the
 * children, watches them through pidfds and reaps them: it is the only
 * thread that adds procs to the list or removes them. Shutdown waits for
 * the children for the grace period, then sends SIGTERM, then SIGKILL.
 *
 * fork() in a multithreaded process: the child is a copy of the
 * supervisor thread alone, and only the locks the C library resets in
 * the child are safe to take there. glibc's fork handlers leave malloc
 * usable; the server's lock and condition variable are re-initialised in
 * the child; the child logs through cfg.log itself (sk serve writes each
 * line to stderr with one write(2)). A log callback, or an allocator
 * without fork handlers (AddressSanitizer's before LLVM 17), holding a
 * lock in another thread at the moment of fork() can hang that child;
 * shutdown kills it after the grace period. So the server's other
 * threads stay idle around forks where it can: prefork forks its first
 * workers before any other server thread starts. Children inherit the
 * application's other descriptors; they close the server's own. */
#ifndef SK_LIB_MODEL_PROCS_H
#define SK_LIB_MODEL_PROCS_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "server_internal.h"

typedef struct sk_proc {
    sk_active active;   /* first: links the proc into the server's active list;
                           active.sock: fork's connection until the child has it */
    pid_t pid;          /* 0 until forked; written under the server lock */
    int pidfd;          /* -1 when pidfd_open failed: checked with waitid */
    int slot;           /* index of its pidfd in the supervisor's poll set, -1 none */
    bool signalled;     /* shutdown signalled it (counted as ended forcibly) */
    int64_t started_ms; /* monotonic time of the fork */
} sk_proc;

/* Fork a child for p, which the caller allocated zeroed (with p->active
 * tracked). The child resets the server's lock, takes SIGTERM by default
 * (SIGINT and SIGPIPE ignored: a terminal's ^C reaches the whole process
 * group, and the parent's shutdown decides), unblocks every signal, dies
 * with the supervisor (PR_SET_PDEATHSIG), closes the other children's
 * pidfds and the listeners it does not keep (keep_listeners: the stream
 * listeners and stop_fd stay, for prefork); then runs body(p, arg) and
 * _exit()s with its result.
 * Returns 0 in the parent (p->pid and p->pidfd set) or -errno (p is
 * still tracked: untrack and free it). */
int sk_proc_spawn(sk_server *srv, sk_proc *p, int (*body)(sk_proc *p, void *arg), void *arg,
                  bool keep_listeners);

/* The supervisor's poll set: the model's own entries (stop_fd, listeners)
 * first, then one pidfd per child. */
typedef struct sk_proc_poll {
    struct pollfd *fds;
    size_t n, cap;
} sk_proc_poll;

/* Allocate pp for nfixed entries and some children (it grows as needed).
 * Returns 0 or -ENOMEM. */
int sk_proc_poll_init(sk_proc_poll *pp, size_t nfixed);

/* Rebuild pp: the nfixed entries of fixed, then every child's pidfd.
 * Children that cannot be watched (no pidfd, no memory) lower *timeout_ms
 * so that they are checked every SK_PROC_CHECK_MS.
 * Returns the number of children. */
size_t sk_proc_poll_build(sk_server *srv, sk_proc_poll *pp, const struct pollfd *fixed,
                          size_t nfixed, int *timeout_ms);

/* Free pp's array. */
void sk_proc_poll_free(sk_proc_poll *pp);

/* After poll(2) on pp: reap every child that ended. Each is untracked (so
 * shutdown never signals a reaped, reusable pid), reaped, passed to
 * ended(p, wait status, arg) and freed. Returns how many were reaped. */
int sk_procs_reap(sk_server *srv, const sk_proc_poll *pp,
                  void (*ended)(sk_proc *p, int status, void *arg), void *arg);

/* How a child ended, for the log: "exited", "exited with status 1",
 * "killed by signal 9". */
void sk_proc_describe_end(int status, char *buf, size_t len);

/* Start the receive loop thread of every UDP listener (l->thread):
 * datagrams are answered by the parent process. Returns 0 or -errno. */
int sk_procs_start_datagram(sk_server *srv);

/* Shutdown of a process model: wait up to grace_ms for every child to
 * end, then SIGTERM those left, SIGKILL them after SK_PROC_TERM_MS, and
 * wait until the supervisor reaped them all.
 * Returns how many children were signalled. */
int sk_procs_drain(sk_server *srv, int grace_ms);

enum {
    SK_PROC_CHECK_MS = 100,  /* how often unwatched children are checked */
    SK_PROC_TERM_MS = 1000,  /* from SIGTERM to SIGKILL at shutdown */
};

/* The prefork model (model_prefork.c); fork's start and drain dispatch to
 * them (model_fork.c). */
int sk_prefork_start(sk_server *srv);
int sk_prefork_drain(sk_server *srv, int grace_ms);

#endif
