/* sticky_packets: the "sticky packet" (粘包) problem and its fix, in one program.
 *
 * A client thread sends three short messages with three sendall() calls.
 * Part 1, raw TCP: one recv(1024) on the server returns all three merged,
 *   because TCP is a byte stream: it keeps the bytes in order, not the
 *   boundaries between send() calls (and Nagle merges small writes anyway).
 * Part 2, the fix: every message travels as a frame, a 4-byte big-endian
 *   length header then the payload, so the receiver knows where each ends.
 *   In Python:  sock.sendall(struct.pack('>I', len(msg)) + msg)        (sk_frame_send)
 *               n, = struct.unpack('>I', recv_exact(4)); recv_exact(n) (sk_frame_recv)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "sockkit/error.h"
#include "sockkit/frame.h"
#include "sockkit/sock.h"

static const char *const messages[] = {"hello1", "hello2", "hello3"};
enum { NMESSAGES = 3 };

struct client {
    sk_endpoint server; /* where to connect */
    int framed;         /* part 2: send frames instead of raw bytes */
    int rc;             /* result, read after pthread_join */
};

/* The client thread: connect, three quick sends, close. */
static void *client_main(void *arg)
{
    struct client *c = arg;
    sk_sock s;
    c->rc = sk_sock_connect(&s, &c->server, SOCK_STREAM, 5000, NULL, 0); /* create_connection */
    if (c->rc < 0)
        return NULL;
    for (int i = 0; i < NMESSAGES && c->rc == 0; i++) {
        size_t len = strlen(messages[i]);
        if (c->framed)
            c->rc = sk_frame_send(&s, messages[i], len, 5000); /* sendall(header + msg) */
        else
            c->rc = sk_sock_sendall(&s, messages[i], len); /* sock.sendall(b'hello1') */
    }
    sk_sock_close(&s);
    return NULL;
}

/* Accept the client thread's connection and wait until it has sent
 * everything and closed (pthread_join), so the demo does not depend on timing. */
static int run_client(sk_sock *listener, struct client *c, sk_sock *conn)
{
    pthread_t thread;
    if (pthread_create(&thread, NULL, client_main, c) != 0)
        return -EAGAIN;
    int rc = sk_sock_accept(listener, conn, NULL); /* conn, addr = server.accept() */
    pthread_join(thread, NULL);
    if (rc == 0 && c->rc < 0)
        sk_sock_close(conn);
    return rc < 0 ? rc : c->rc;
}

/* Part 1: wait until all the bytes are in the kernel's receive buffer
 * (ioctl FIONREAD, at most 2 s), then read them with ONE recv(1024). */
static int part_raw(sk_sock *conn, size_t total)
{
    const struct timespec ms = {0, 1000000};
    int avail = 0; /* bytes waiting to be read */
    for (int i = 0; i < 2000 && ioctl(conn->fd, FIONREAD, &avail) == 0; i++) {
        if ((size_t)avail >= total)
            break;
        nanosleep(&ms, NULL);
    }
    char data[1024];
    ssize_t n = sk_sock_recv(conn, data, sizeof data); /* data = conn.recv(1024) */
    if (n < 0)
        return (int)n;
    printf("raw: the client called sendall() %d times: %s %s %s\n", NMESSAGES,
           messages[0], messages[1], messages[2]);
    printf("raw: one recv() returned %zd bytes: %.*s\n", n, (int)n, data);
    return 0;
}

/* Part 2: one sk_frame_recv per message, until the end of the stream. */
static int part_framed(sk_sock *conn)
{
    void *msg;
    size_t len;
    int rc, count = 0;
    while ((rc = sk_frame_recv(conn, 0, &msg, &len, 5000)) == 1) {
        printf("framed: message %d: %.*s\n", ++count, (int)len, (const char *)msg);
        free(msg);
    }
    if (rc == 0)
        printf("framed: end of stream after %d messages\n", count);
    return rc;
}

/* Both parts, on one listener: raw first, then framed. */
static int run(sk_sock *listener)
{
    char name[SK_ADDRSTRLEN];
    sk_endpoint ep;
    sk_sock_settimeout(listener, 5000);               /* accept() never waits forever */
    sk_sock_local_name(listener, name, sizeof name);  /* port 0 -> the real port */
    int rc = sk_endpoint_parse(name, &ep, NULL, 0);
    size_t total = 0;
    for (int i = 0; i < NMESSAGES; i++)
        total += strlen(messages[i]);
    for (int framed = 0; framed <= 1 && rc == 0; framed++) {
        struct client c = {.server = ep, .framed = framed};
        sk_sock conn;
        rc = run_client(listener, &c, &conn);
        if (rc == 0) {
            rc = framed ? part_framed(&conn) : part_raw(&conn, total);
            sk_sock_close(&conn);
        }
    }
    return rc;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* print(..., flush=True) for every line */
    sk_endpoint ep;
    sk_sock listener;
    char err[SK_ERRBUF_SIZE];
    sk_endpoint_parse("127.0.0.1:0", &ep, NULL, 0);
    /* socket() + bind(('127.0.0.1', 0)) + listen() */
    int rc = sk_sock_listen_endpoint(&listener, &ep, SOCK_STREAM, 0, 0, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "sticky_packets: %s\n", err);
        return 1;
    }
    rc = run(&listener);
    sk_sock_close(&listener);
    if (rc < 0) {
        fprintf(stderr, "sticky_packets: %s\n", sk_strerror(rc));
        return 1;
    }
    return 0;
}
