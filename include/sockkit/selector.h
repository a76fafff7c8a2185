/* Selectors: wait for readiness on many descriptors at once, as Python's
 * `selectors` module, over three backends behind one small interface:
 *   epoll  (Linux; O(ready) per wait — the default)
 *   poll   (POSIX; O(registered) per wait)
 *   select (POSIX; O(highest fd) per wait; fds must be < FD_SETSIZE)
 * The backends are src/lib/selector_{epoll,poll,select}.c, each one file,
 * in the manner of Redis's ae_*.c.
 *
 * A selector is used by one thread at a time. Registrations are keyed by
 * fd; each carries an event mask and a user pointer. Modifying a
 * registration to the mask it already has makes no system call.
 */
#ifndef SOCKKIT_SELECTOR_H
#define SOCKKIT_SELECTOR_H

#include <poll.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Event bits, the poll(2) values: ask for SK_POLLIN and/or SK_POLLOUT;
 * results may also carry SK_POLLERR and SK_POLLHUP (never asked for). */
#define SK_POLLIN POLLIN
#define SK_POLLOUT POLLOUT
#define SK_POLLERR POLLERR
#define SK_POLLHUP POLLHUP

typedef enum sk_selector_backend {
    SK_SELECTOR_EPOLL = 0,
    SK_SELECTOR_POLL,
    SK_SELECTOR_SELECT,
} sk_selector_backend;

/* One ready descriptor, as returned by sk_selector_wait. */
typedef struct sk_selector_event {
    int fd;
    unsigned events;   /* SK_POLL* bits that are ready */
    void *data;        /* the pointer given at registration */
} sk_selector_event;

typedef struct sk_selector sk_selector;

/* The best backend on this system: epoll on Linux. */
sk_selector_backend sk_selector_default(void);

/* Name of a backend: "epoll", "poll", "select". */
const char *sk_selector_backend_name(sk_selector_backend backend);

/* Parse a backend name. Returns 0 and sets *out, or -EINVAL. */
int sk_selector_backend_parse(const char *name, sk_selector_backend *out);

/* Create a selector (epoll_create1 with EPOLL_CLOEXEC for epoll).
 * Returns 0 and sets *out, or -errno (-ENOMEM, -EMFILE). */
int sk_selector_open(sk_selector **out, sk_selector_backend backend);

/* Which backend a selector uses. */
sk_selector_backend sk_selector_backend_of(const sk_selector *sel);

/* Register fd for events (SK_POLLIN | SK_POLLOUT, or 0 to hold the slot
 * without waiting on it), with data returned by sk_selector_wait.
 * Returns 0 or -errno: -EEXIST (already registered), -EBADF, -EINVAL
 * (select backend: fd >= FD_SETSIZE, refused before touching any fd_set),
 * -ENOMEM. */
int sk_selector_add(sk_selector *sel, int fd, unsigned events, void *data);

/* Change the events and data of a registered fd. No system call when the
 * events are unchanged. Returns 0 or -errno (-ENOENT if not registered). */
int sk_selector_modify(sk_selector *sel, int fd, unsigned events, void *data);

/* Unregister fd (call before closing it). Returns 0 or -ENOENT. */
int sk_selector_remove(sk_selector *sel, int fd);

/* Wait for readiness (epoll_wait / poll / select).
 *   events/max:  array receiving at most max ready descriptors;
 *   timeout_ms:  -1 forever, 0 return at once, > 0 at most that long.
 * Returns the number of ready entries (0 on timeout; also 0 when a signal
 * interrupted the wait), or -errno. */
int sk_selector_wait(sk_selector *sel, sk_selector_event *events, int max, int timeout_ms);

/* Number of registered descriptors. */
int sk_selector_count(const sk_selector *sel);

/* Free the selector (registered fds are not closed). NULL is ignored. */
void sk_selector_close(sk_selector *sel);

#ifdef __cplusplus
}
#endif
#endif
