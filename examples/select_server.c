/* select_server: the seeds' select() server, in C on sockkit's selector
 * (select backend). One thread serves many clients at once: it only ever
 * calls recv/send on sockets that select() said are ready, so no client
 * can make it wait. Replies are upper-cased (data.upper()).
 *
 * usage: select_server [HOST:PORT] [-n COUNT]
 *   HOST:PORT  where to listen (default 127.0.0.1:9999; port 0 = any free port)
 *   COUNT      exit after this many clients have come and gone (default: forever)
 *
 * The Python it mirrors:
 *   server.setblocking(0); inputs = [server]; outputs = []
 *   while inputs:
 *       r, w, e = select.select(inputs, outputs, inputs)
 *       for s in r:   server -> accept; client -> recv, queue reply, outputs.append(s)
 *       for s in w:   send the queued reply, outputs.remove(s)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockkit/error.h"
#include "sockkit/selector.h"
#include "sockkit/sock.h"

/* One client: its socket and the reply waiting to be sent (message_queues[s]). */
typedef struct client {
    sk_sock sock;
    char name[SK_ADDRSTRLEN];
    char reply[1024];
    size_t len, sent;
} client;

/* A client is readable: data = s.recv(1024). Returns false when it is gone. */
static bool on_readable(sk_selector *sel, client *c)
{
    ssize_t n = sk_sock_recv(&c->sock, c->reply, sizeof c->reply);
    if (n <= 0) /* b'' (0): the client closed; < 0: an error */
        return false;
    for (ssize_t i = 0; i < n; i++)
        c->reply[i] = (char)toupper((unsigned char)c->reply[i]); /* data.upper() */
    c->len = (size_t)n;
    c->sent = 0;
    /* outputs.append(s) (and stop reading until the reply is out). */
    return sk_selector_modify(sel, c->sock.fd, SK_POLLOUT, c) == 0;
}

/* A client is writable: s.send(next_msg). Returns false when it is gone. */
static bool on_writable(sk_selector *sel, client *c)
{
    ssize_t n = sk_sock_send(&c->sock, c->reply + c->sent, c->len - c->sent);
    if (n < 0)
        return false;
    c->sent += (size_t)n;
    if (c->sent < c->len) /* a partial send: the rest when writable again */
        return true;
    return sk_selector_modify(sel, c->sock.fd, SK_POLLIN, c) == 0; /* outputs.remove(s) */
}

/* The listener is readable: connection, client_address = s.accept(). */
static void on_accept(sk_selector *sel, sk_sock *server)
{
    client *c = calloc(1, sizeof *c);
    sk_sockaddr addr;
    if (!c || sk_sock_accept(server, &c->sock, &addr) < 0) {
        free(c);
        return;
    }
    sk_sock_settimeout(&c->sock, 0); /* connection.setblocking(0) */
    sk_sockaddr_format((struct sockaddr *)&addr.ss, addr.len, c->name, sizeof c->name);
    /* inputs.append(connection); select() cannot watch fds >= FD_SETSIZE. */
    int rc = sk_selector_add(sel, c->sock.fd, SK_POLLIN, c);
    if (rc < 0) {
        fprintf(stderr, "refused %s: %s\n", c->name, sk_strerror(rc));
        sk_sock_close(&c->sock);
        free(c);
        return;
    }
    printf("connected by %s\n", c->name);
}

int main(int argc, char **argv)
{
    const char *where = argc > 1 && strcmp(argv[1], "-n") ? argv[1] : "127.0.0.1:9999";
    long count = argc > 2 ? strtol(argv[argc - 1], NULL, 10) : -1; /* -1: forever */
    setvbuf(stdout, NULL, _IOLBF, 0);

    sk_endpoint ep; /* server.bind(('127.0.0.1', 9999)); server.listen() */
    sk_sock server;
    char err[SK_ERRBUF_SIZE] = "", name[SK_ADDRSTRLEN];
    if (sk_endpoint_parse(where, &ep, err, sizeof err) < 0 ||
        sk_sock_listen_endpoint(&server, &ep, SOCK_STREAM, 0, 0, err, sizeof err) < 0) {
        fprintf(stderr, "select_server: %s\n", err);
        return 1;
    }
    sk_sock_settimeout(&server, 0); /* server.setblocking(0) */
    sk_sock_local_name(&server, name, sizeof name);
    printf("listening on %s\n", name);

    sk_selector *sel;
    if (sk_selector_open(&sel, SK_SELECTOR_SELECT) < 0 ||
        sk_selector_add(sel, server.fd, SK_POLLIN, NULL) < 0) { /* inputs = [server] */
        fprintf(stderr, "select_server: cannot watch the listener\n");
        return 1;
    }
    long served = 0;
    while (count < 0 || served < count) {
        sk_selector_event ready[64];
        int n = sk_selector_wait(sel, ready, 64, -1); /* r, w, e = select.select(...) */
        for (int i = 0; i < n; i++) {
            client *c = ready[i].data; /* NULL: the listener */
            if (!c) {
                on_accept(sel, &server);
                continue;
            }
            /* In outputs (a reply pending): writable; otherwise readable. */
            bool alive = c->sent < c->len ? on_writable(sel, c) : on_readable(sel, c);
            if (!alive) { /* inputs.remove(s); s.close() */
                sk_selector_remove(sel, c->sock.fd);
                sk_sock_close(&c->sock);
                printf("closed %s\n", c->name);
                free(c);
                served++;
            }
        }
    }
    sk_selector_close(sel); /* clients still open end with the process */
    sk_sock_close(&server);
    return 0;
}
