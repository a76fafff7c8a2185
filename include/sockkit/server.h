/* sk_server: a socketserver whose concurrency model is a setting.
 *
 * Add listeners (a service on an endpoint, stream or datagram), pick a
 * model, start. The same sk_service callbacks run under every model.
 * Like Python's socketserver, but listeners are opened (and "address in
 * use" reported) before anything starts, and shutdown is graceful.
 */
#ifndef SOCKKIT_SERVER_H
#define SOCKKIT_SERVER_H

#include <stddef.h>

#include "sockkit/addr.h"
#include "sockkit/service.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Concurrency models. docs/models.md says when to use which. */
typedef enum sk_model {
    SK_MODEL_ITERATIVE = 0, /* one client at a time per listener (the seeds' first server) */
    SK_MODEL_THREAD,        /* one thread per connection (socketserver.ThreadingMixIn) */
    SK_MODEL_FORK,          /* one process per connection (socketserver.ForkingMixIn) */
    SK_MODEL_PREFORK,       /* N processes accept on one listener (Apache prefork) */
    SK_MODEL_POOL,          /* N threads take connections from a bounded queue */
    SK_MODEL_SELECT,        /* one reactor on select(2) */
    SK_MODEL_POLL,          /* one reactor on poll(2) */
    SK_MODEL_EPOLL,         /* one reactor on epoll(7) */
    SK_MODEL_REACTORS,      /* N epoll reactors, one per core, SO_REUSEPORT listeners */
    SK_MODEL_URING,         /* io_uring: multishot accept and recv, provided buffers */
    SK_MODEL_COUNT
} sk_model;

/* Parse a model name ("iterative", "thread", "fork", "prefork", "pool",
 * "select", "poll", "epoll", "reactors", "uring").
 * Returns 0 and sets *out, or -EINVAL for an unknown name. */
int sk_model_parse(const char *name, sk_model *out);

/* The name of a model, for logs and usage text. */
const char *sk_model_name(sk_model model);

/* Log levels, most important first. */
enum { SK_LOG_ERROR = 0, SK_LOG_INFO = 1, SK_LOG_DEBUG = 2 };

/* Receives one log line (no trailing newline). Called from server threads,
 * possibly concurrently: the function must be thread-safe. */
typedef void (*sk_log_fn)(void *user, int level, const char *line);

typedef struct sk_server_config {
    sk_model model;
    int workers;        /* threads / processes for pool, prefork, reactors;
                           <= 0 for the model's default (the number of cores,
                           pool: 4 per core) */
    int max_conns;      /* connections served at once; excess ones are closed
                           at accept and counted in the log; <= 0 no limit */
    int idle_timeout_ms;/* close a connection silent this long; <= 0 never */
    int backlog;        /* listen(2) backlog; <= 0 for SK_DEFAULT_BACKLOG */
    sk_log_fn log;      /* NULL: no logging */
    void *log_user;     /* passed to log */
} sk_server_config;

typedef struct sk_server sk_server;

/* Create a server. cfg is copied.
 * Returns 0 and sets *out, or -ENOMEM / -EINVAL (unknown model). */
int sk_server_create(sk_server **out, const sk_server_config *cfg);

/* Open a listener for a service: resolve, bind (SO_REUSEADDR) and, for
 * SOCK_STREAM, listen. Done at once, so a busy port fails here.
 *   service:  the protocol; must support the transport asked for.
 *   ep:       where to listen (port 0: an ephemeral port).
 *   socktype: SOCK_STREAM (TCP or Unix) or SOCK_DGRAM (UDP).
 *   err/errlen: optional message naming the endpoint, e.g.
 *               `127.0.0.1:7007: Address already in use`.
 * Returns the listener index (>= 0) or -errno (-EADDRINUSE, -EACCES,
 * -EPROTONOSUPPORT when the service lacks the transport, -EBUSY after
 * sk_server_start). */
int sk_server_add_listener(sk_server *srv, const sk_service *service, const sk_endpoint *ep,
                           int socktype, char *err, size_t errlen);

/* Number of listeners added. */
size_t sk_server_listener_count(const sk_server *srv);

/* The bound address of listener i (the real port when 0 was asked).
 * Returns 0, or -ENOENT for a bad index. */
int sk_server_listener_address(const sk_server *srv, size_t i, sk_sockaddr *out);

/* Describe listener i as "SERVICE ENDPOINT" with its real (bound) address,
 * e.g. "echo tcp:127.0.0.1:41234", "upper unix:/tmp/up.sock".
 *   buf/len: destination and its size in bytes.
 * Returns the length written, -ENOENT for a bad index, or -ENOSPC. */
int sk_server_listener_describe(const sk_server *srv, size_t i, char *buf, size_t len);

/* Start serving: spawns the model's threads and returns.
 * Returns 0 or -errno (-EAGAIN when threads cannot be created). */
int sk_server_start(sk_server *srv);

/* Graceful stop: close every listener at once, let open connections finish
 * for up to grace_ms milliseconds, then close the rest, and join all
 * threads. Safe to call from any thread but a server thread, once.
 * Returns the number of connections closed forcibly (>= 0). */
int sk_server_shutdown(sk_server *srv, int grace_ms);

/* Free the server (shuts it down first with no grace if still running). */
void sk_server_destroy(sk_server *srv);

#ifdef __cplusplus
}
#endif
#endif
