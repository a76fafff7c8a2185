/* udp_client: the seeds' UDP client, in C on sockkit.
 *
 * usage: udp_client [HOST:PORT] [MESSAGE]
 *   HOST:PORT  the server (default 127.0.0.1:9999)
 *   MESSAGE    the one datagram to send (default "hello world"); the reply is
 *              printed, or an error after 2 s without one (UDP may lose it)
 *
 * The Python it mirrors (no connect: every datagram carries its address):
 *   client = socket.socket(type=socket.SOCK_DGRAM)
 *   client.settimeout(2)
 *   client.sendto(b'hello world', ('127.0.0.1', 9999))
 *   data, addr = client.recvfrom(1024)
 *   print(data.decode())
 */
#include <stdio.h>
#include <string.h>

#include "sockkit/error.h"
#include "sockkit/sock.h"

int main(int argc, char **argv)
{
    const char *where = argc > 1 ? argv[1] : "127.0.0.1:9999";
    const char *message = argc > 2 ? argv[2] : "hello world";

    /* Text -> the (host, port) tuple -> a socket address (getaddrinfo). */
    sk_endpoint ep;
    sk_sockaddr server;
    char err[SK_ERRBUF_SIZE];
    if (sk_endpoint_parse(where, &ep, err, sizeof err) < 0) {
        fprintf(stderr, "udp_client: %s\n", err);
        return 2;
    }
    if (sk_endpoint_resolve(&ep, SOCK_DGRAM, false, &server, 1, err, sizeof err) < 0) {
        fprintf(stderr, "udp_client: %s\n", err);
        return 1;
    }
    sk_sock client;
    int rc = sk_sock_open(&client, server.ss.ss_family, SOCK_DGRAM); /* socket(type=SOCK_DGRAM) */
    if (rc < 0) {
        fprintf(stderr, "udp_client: socket: %s\n", sk_strerror(rc));
        return 1;
    }
    sk_sock_settimeout(&client, 2000); /* client.settimeout(2): never hang */

    char data[1024];
    ssize_t n = sk_sock_sendto(&client, message, strlen(message), &server); /* sendto(...) */
    if (n >= 0)
        n = sk_sock_recvfrom(&client, data, sizeof data, NULL); /* data, addr = recvfrom(1024) */
    sk_sock_close(&client); /* client.close() */
    if (n < 0) { /* -ETIMEDOUT: no answer in 2 s; -ECONNREFUSED: nobody on that port */
        fprintf(stderr, "udp_client: %s\n", sk_strerror((int)n));
        return 1;
    }
    fwrite(data, 1, (size_t)n, stdout); /* print(data.decode()) */
    printf("\n");
    return 0;
}
