/* tcp_server: the seeds' first TCP server, in C on sockkit.
 * It answers every client with its bytes upper-cased (data.upper()).
 *
 * usage: tcp_server [HOST:PORT] [-n COUNT]
 *   HOST:PORT  where to listen (default 127.0.0.1:9999; port 0 = any free port)
 *   COUNT      serve this many clients, then exit (default: forever)
 *
 * The Python it mirrors:
 *   server = socket.socket(); server.bind(('127.0.0.1', 9999)); server.listen()
 *   while True:
 *       conn, addr = server.accept()
 *       while data := conn.recv(1024):   # b'' (0 bytes): the client closed
 *           conn.sendall(data.upper())
 *       conn.close()
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockkit/error.h"
#include "sockkit/sock.h"

/* Serve one client until it closes its side: recv(1024), upper, sendall. */
static void serve_client(sk_sock *conn)
{
    char data[1024];
    ssize_t n;
    while ((n = sk_sock_recv(conn, data, sizeof data)) > 0) { /* data = conn.recv(1024) */
        for (ssize_t i = 0; i < n; i++)
            data[i] = (char)toupper((unsigned char)data[i]);  /* data.upper() */
        int rc = sk_sock_sendall(conn, data, (size_t)n);      /* conn.sendall(...) */
        if (rc < 0) {
            fprintf(stderr, "sendall: %s\n", sk_strerror(rc));
            return;
        }
    }
    if (n < 0) /* recv() == b'' (n == 0) is the normal end: the client closed */
        fprintf(stderr, "recv: %s\n", sk_strerror((int)n));
}

int main(int argc, char **argv)
{
    const char *where = "127.0.0.1:9999";
    long count = -1; /* -1: forever */
    for (int i = 1, pos = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            count = strtol(argv[++i], NULL, 10);
        else if (pos++ == 0)
            where = argv[i];
        else
            count = strtol(argv[i], NULL, 10);
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* print(..., flush=True) for every line */

    /* "127.0.0.1:9999" -> host and port: the ('127.0.0.1', 9999) tuple. */
    sk_endpoint ep;
    char err[SK_ERRBUF_SIZE];
    if (sk_endpoint_parse(where, &ep, err, sizeof err) < 0) {
        fprintf(stderr, "tcp_server: %s\n", err);
        return 2;
    }
    /* socket.socket() + setsockopt(SO_REUSEADDR) + bind(...) + listen(). */
    sk_sock server;
    if (sk_sock_listen_endpoint(&server, &ep, SOCK_STREAM, 0, 0, err, sizeof err) < 0) {
        fprintf(stderr, "tcp_server: %s\n", err);
        return 1;
    }
    char name[SK_ADDRSTRLEN];
    sk_sock_local_name(&server, name, sizeof name); /* server.getsockname() */
    printf("listening on %s\n", name);

    int status = 0;
    for (long served = 0; count < 0 || served < count; served++) {
        sk_sock conn;
        sk_sockaddr addr;
        int rc = sk_sock_accept(&server, &conn, &addr); /* conn, addr = server.accept() */
        if (rc < 0) {
            fprintf(stderr, "accept: %s\n", sk_strerror(rc));
            status = 1;
            break;
        }
        sk_sockaddr_format((struct sockaddr *)&addr.ss, addr.len, name, sizeof name);
        printf("connected by %s\n", name);
        serve_client(&conn);
        sk_sock_close(&conn); /* conn.close() */
        printf("closed %s\n", name);
    }
    sk_sock_close(&server); /* server.close() */
    return status;
}
