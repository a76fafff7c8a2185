/* event_echo: a libevent TCP echo server, written the way the libevent book
 * writes it ("Connection listeners: accepting TCP connections", the echo
 * server example): evconnlistener_new_bind, a bufferevent per connection,
 * and a read callback that moves the input evbuffer to the output with
 * evbuffer_add_buffer.
 *
 * Benchmark anchor for bench/models.sh: it measures what an idiomatic
 * libevent server costs, so it is deliberately not tuned beyond the book.
 *
 * usage: event_echo [PORT]     (default 0: an ephemeral port)
 * Binds 127.0.0.1 only and prints "echo listening on tcp:127.0.0.1:PORT".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#define ECHO_BACKLOG 511 /* SK_DEFAULT_BACKLOG: the same queue for every server */

static void echo_read_cb(struct bufferevent *bev, void *ctx)
{
    (void)ctx;
    /* Copy all the data from the input buffer to the output buffer. */
    evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

static void echo_event_cb(struct bufferevent *bev, short events, void *ctx)
{
    (void)ctx;
    if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        bufferevent_free(bev);
}

static void accept_conn_cb(struct evconnlistener *listener, evutil_socket_t fd,
                           struct sockaddr *address, int socklen, void *ctx)
{
    (void)address;
    (void)socklen;
    (void)ctx;
    struct event_base *base = evconnlistener_get_base(listener);
    struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        evutil_closesocket(fd);
        return;
    }
    bufferevent_setcb(bev, echo_read_cb, NULL, echo_event_cb, NULL);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void accept_error_cb(struct evconnlistener *listener, void *ctx)
{
    (void)listener;
    (void)ctx;
    int err = EVUTIL_SOCKET_ERROR();
    /* EMFILE and friends: report and keep serving (the book exits here). */
    fprintf(stderr, "event_echo: accept: %s\n", evutil_socket_error_to_string(err));
}

static int print_port(struct evconnlistener *listener)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    if (getsockname(evconnlistener_get_fd(listener), (struct sockaddr *)&sin, &len) < 0)
        return -1;
    printf("echo listening on tcp:127.0.0.1:%d\n", ntohs(sin.sin_port));
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sin;
    int port = argc > 1 ? atoi(argv[1]) : 0;

    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    if (!base) {
        fprintf(stderr, "event_echo: cannot open an event base\n");
        return 1;
    }
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((unsigned short)port);
    struct evconnlistener *listener =
        evconnlistener_new_bind(base, accept_conn_cb, NULL,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                ECHO_BACKLOG, (struct sockaddr *)&sin, sizeof sin);
    if (!listener || print_port(listener) < 0) {
        perror("event_echo: cannot listen");
        return 1;
    }
    evconnlistener_set_error_cb(listener, accept_error_cb);
    event_base_dispatch(base);
    evconnlistener_free(listener);
    event_base_free(base);
    return 0;
}
