/* epoll_server: the seeds' selectors server, in C on sockkit's selector
 * (the default backend: epoll on Linux). Each registered socket carries the
 * function to call when it is ready — accept for the listener, read for a
 * client — so the loop only dispatches. Replies are upper-cased.
 *
 * usage: epoll_server [HOST:PORT] [-n COUNT]
 *   HOST:PORT  where to listen (default 127.0.0.1:9999; port 0 = any free port)
 *   COUNT      exit after this many clients have come and gone (default: forever)
 *
 * The Python it mirrors:
 *   sel = selectors.DefaultSelector()
 *   def accept(sock, mask):
 *       conn, addr = sock.accept(); conn.setblocking(False)
 *       sel.register(conn, selectors.EVENT_READ, read)
 *   def read(conn, mask):
 *       data = conn.recv(1024)
 *       if data: conn.send(data.upper())
 *       else: sel.unregister(conn); conn.close()
 *   sel.register(sock, selectors.EVENT_READ, accept)
 *   while True:
 *       for key, mask in sel.select():
 *           callback = key.data; callback(key.fileobj, mask)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockkit/error.h"
#include "sockkit/selector.h"
#include "sockkit/sock.h"

/* What sel.register(sock, EVENT_READ, callback) stores: the key's fileobj
 * (the socket) and data (the callback). */
typedef struct key key;
typedef void (*callback)(sk_selector *sel, key *k);
struct key {
    sk_sock sock;
    callback cb;
    char name[SK_ADDRSTRLEN];
};

static long served; /* clients that have come and gone */

/* def read(conn, mask) */
static void on_read(sk_selector *sel, key *k)
{
    char data[1024];
    ssize_t n = sk_sock_recv(&k->sock, data, sizeof data); /* conn.recv(1024) */
    if (n == -EAGAIN)
        return;
    if (n > 0) {
        for (ssize_t i = 0; i < n; i++)
            data[i] = (char)toupper((unsigned char)data[i]); /* data.upper() */
        /* conn.send(...): a 1 KiB reply fits the socket buffer; a 2 s limit
         * bounds the rare wait if it does not. */
        sk_sock_settimeout(&k->sock, 2000);
        int rc = sk_sock_sendall(&k->sock, data, (size_t)n);
        sk_sock_settimeout(&k->sock, 0);
        if (rc == 0)
            return;
    }
    sk_selector_remove(sel, k->sock.fd); /* sel.unregister(conn) */
    sk_sock_close(&k->sock);             /* conn.close() */
    printf("closed %s\n", k->name);
    free(k);
    served++;
}

/* def accept(sock, mask) */
static void on_accept(sk_selector *sel, key *listener)
{
    key *k = calloc(1, sizeof *k);
    sk_sockaddr addr;
    if (!k || sk_sock_accept(&listener->sock, &k->sock, &addr) < 0) { /* sock.accept() */
        free(k);
        return;
    }
    sk_sock_settimeout(&k->sock, 0); /* conn.setblocking(False) */
    sk_sockaddr_format((struct sockaddr *)&addr.ss, addr.len, k->name, sizeof k->name);
    k->cb = on_read;
    if (sk_selector_add(sel, k->sock.fd, SK_POLLIN, k) < 0) { /* sel.register(conn, ...) */
        sk_sock_close(&k->sock);
        free(k);
        return;
    }
    printf("connected by %s\n", k->name);
}

int main(int argc, char **argv)
{
    const char *where = argc > 1 && strcmp(argv[1], "-n") ? argv[1] : "127.0.0.1:9999";
    long count = argc > 2 ? strtol(argv[argc - 1], NULL, 10) : -1; /* -1: forever */
    setvbuf(stdout, NULL, _IOLBF, 0);

    sk_endpoint ep; /* sock.bind(('127.0.0.1', 9999)); sock.listen() */
    key listener = {.cb = on_accept};
    char err[SK_ERRBUF_SIZE] = "";
    if (sk_endpoint_parse(where, &ep, err, sizeof err) < 0 ||
        sk_sock_listen_endpoint(&listener.sock, &ep, SOCK_STREAM, 0, 0, err, sizeof err) < 0) {
        fprintf(stderr, "epoll_server: %s\n", err);
        return 1;
    }
    sk_sock_settimeout(&listener.sock, 0); /* sock.setblocking(False) */
    sk_sock_local_name(&listener.sock, listener.name, sizeof listener.name);
    printf("listening on %s\n", listener.name);

    sk_selector *sel; /* sel = selectors.DefaultSelector() */
    if (sk_selector_open(&sel, sk_selector_default()) < 0 ||
        sk_selector_add(sel, listener.sock.fd, SK_POLLIN, &listener) < 0) {
        fprintf(stderr, "epoll_server: cannot watch the listener\n");
        return 1;
    }
    while (count < 0 || served < count) {
        sk_selector_event ready[64];
        int n = sk_selector_wait(sel, ready, 64, -1); /* sel.select() */
        for (int i = 0; i < n; i++) {
            key *k = ready[i].data; /* callback = key.data */
            k->cb(sel, k);          /* callback(key.fileobj, mask) */
        }
    }
    sk_selector_close(sel); /* clients still open end with the process */
    sk_sock_close(&listener.sock);
    return 0;
}
