/* udp_server: the seeds' UDP server, in C on sockkit.
 * It answers every datagram with the same bytes upper-cased.
 *
 * usage: udp_server [HOST:PORT] [-n COUNT]
 *   HOST:PORT  where to bind (default 127.0.0.1:9999; port 0 = any free port)
 *   COUNT      answer this many datagrams, then exit (default: forever)
 *
 * The Python it mirrors (UDP has no listen/accept: no connection at all):
 *   server = socket.socket(type=socket.SOCK_DGRAM)
 *   server.bind(('127.0.0.1', 9999))
 *   while True:
 *       data, addr = server.recvfrom(2048)
 *       server.sendto(data.upper(), addr)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockkit/error.h"
#include "sockkit/sock.h"

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

    sk_endpoint ep;
    char err[SK_ERRBUF_SIZE];
    if (sk_endpoint_parse(where, &ep, err, sizeof err) < 0) { /* ('127.0.0.1', 9999) */
        fprintf(stderr, "udp_server: %s\n", err);
        return 2;
    }
    /* socket.socket(type=SOCK_DGRAM) + bind(...); a datagram socket does not listen. */
    sk_sock server;
    if (sk_sock_listen_endpoint(&server, &ep, SOCK_DGRAM, 0, 0, err, sizeof err) < 0) {
        fprintf(stderr, "udp_server: %s\n", err);
        return 1;
    }
    char name[SK_ADDRSTRLEN];
    sk_sock_local_name(&server, name, sizeof name); /* server.getsockname() */
    printf("listening on %s\n", name);

    int status = 0;
    for (long answered = 0; count < 0 || answered < count; answered++) {
        char data[2048];
        sk_sockaddr addr;
        ssize_t n = sk_sock_recvfrom(&server, data, sizeof data, &addr); /* recvfrom(2048) */
        if (n < 0) {
            fprintf(stderr, "recvfrom: %s\n", sk_strerror((int)n));
            status = 1;
            break;
        }
        for (ssize_t i = 0; i < n; i++)
            data[i] = (char)toupper((unsigned char)data[i]); /* data.upper() */
        n = sk_sock_sendto(&server, data, (size_t)n, &addr);  /* sendto(..., addr) */
        sk_sockaddr_format((struct sockaddr *)&addr.ss, addr.len, name, sizeof name);
        if (n < 0) /* a lost reply is not fatal for a UDP server */
            fprintf(stderr, "sendto %s: %s\n", name, sk_strerror((int)n));
        else
            printf("answered %s: %zd bytes\n", name, n);
    }
    sk_sock_close(&server); /* server.close() */
    return status;
}
