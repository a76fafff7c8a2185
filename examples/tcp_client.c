/* tcp_client: the seeds' TCP client, in C on sockkit.
 *
 * usage: tcp_client [HOST:PORT] [MESSAGE]
 *   HOST:PORT  the server (default 127.0.0.1:9999)
 *   MESSAGE    what to send (default "hello world"); the reply is printed
 *
 * The Python it mirrors:
 *   client = socket.create_connection(('127.0.0.1', 9999), timeout=5)
 *   client.sendall(b'hello world')
 *   client.shutdown(socket.SHUT_WR)     # "I am done sending"
 *   while data := client.recv(1024):    # read the reply until the server closes
 *       print(data.decode(), end='')
 *   client.close()
 */
#include <stdio.h>
#include <string.h>

#include "sockkit/error.h"
#include "sockkit/sock.h"

int main(int argc, char **argv)
{
    const char *where = argc > 1 ? argv[1] : "127.0.0.1:9999";
    const char *message = argc > 2 ? argv[2] : "hello world";

    sk_endpoint ep;
    char err[SK_ERRBUF_SIZE];
    if (sk_endpoint_parse(where, &ep, err, sizeof err) < 0) {
        fprintf(stderr, "tcp_client: %s\n", err);
        return 2;
    }
    /* socket.create_connection(): socket() + connect(), 5 s to connect. */
    sk_sock client;
    if (sk_sock_connect(&client, &ep, SOCK_STREAM, 5000, err, sizeof err) < 0) {
        fprintf(stderr, "tcp_client: %s\n", err);
        return 1;
    }
    sk_sock_settimeout(&client, 5000); /* client.settimeout(5): never hang */

    int rc = sk_sock_sendall(&client, message, strlen(message)); /* client.sendall(...) */
    if (rc == 0)
        rc = sk_sock_shutdown(&client, SHUT_WR); /* client.shutdown(SHUT_WR): EOF */

    /* The server may answer in several pieces: recv until it closes (recv == 0). */
    char data[1024];
    ssize_t n = 0;
    while (rc == 0 && (n = sk_sock_recv(&client, data, sizeof data)) > 0) /* client.recv(1024) */
        fwrite(data, 1, (size_t)n, stdout);
    if (rc == 0 && n < 0)
        rc = (int)n;
    sk_sock_close(&client); /* client.close() */
    if (rc < 0) {
        fprintf(stderr, "tcp_client: %s\n", sk_strerror(rc));
        return 1;
    }
    printf("\n");
    return 0;
}
