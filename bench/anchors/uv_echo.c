/* uv_echo: a libuv TCP echo server, written the way libuv's user guide
 * writes it (docs/src/guide/networking.rst, code/tcp-echo-server): uv_tcp_init,
 * uv_tcp_bind, uv_listen, uv_accept, uv_read_start with an alloc_cb that
 * mallocs suggested_size, and one uv_write request per read.
 *
 * Benchmark anchor for bench/models.sh: it measures what an idiomatic libuv
 * server costs, so it is deliberately not tuned beyond the guide.
 *
 * usage: uv_echo [PORT]     (default 0: an ephemeral port)
 * Binds 127.0.0.1 only and prints "echo listening on tcp:127.0.0.1:PORT".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#define ECHO_BACKLOG 511 /* SK_DEFAULT_BACKLOG: the same queue for every server */

typedef struct {
    uv_write_t req;
    uv_buf_t buf;
} write_req_t;

static void alloc_buffer(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf)
{
    (void)handle;
    buf->base = malloc(suggested_size);
    buf->len = buf->base ? suggested_size : 0;
}

static void on_close(uv_handle_t *handle)
{
    free(handle);
}

static void echo_write(uv_write_t *req, int status)
{
    write_req_t *wr = (write_req_t *)req;

    if (status)
        fprintf(stderr, "uv_echo: write error %s\n", uv_strerror(status));
    free(wr->buf.base);
    free(wr);
}

static void echo_read(uv_stream_t *client, ssize_t nread, const uv_buf_t *buf)
{
    if (nread > 0) {
        write_req_t *req = malloc(sizeof *req);
        if (req) {
            req->buf = uv_buf_init(buf->base, (unsigned int)nread);
            if (uv_write(&req->req, client, &req->buf, 1, echo_write) == 0)
                return;
            free(req);
        }
        uv_close((uv_handle_t *)client, on_close);
    } else if (nread < 0) {
        if (nread != UV_EOF && nread != UV_ECONNRESET)
            fprintf(stderr, "uv_echo: read error %s\n", uv_err_name((int)nread));
        uv_close((uv_handle_t *)client, on_close);
    }
    free(buf->base);
}

static void on_new_connection(uv_stream_t *server, int status)
{
    if (status < 0) {
        fprintf(stderr, "uv_echo: new connection error %s\n", uv_strerror(status));
        return;
    }
    uv_tcp_t *client = malloc(sizeof *client);
    if (!client)
        return;
    uv_tcp_init(server->loop, client);
    if (uv_accept(server, (uv_stream_t *)client) == 0)
        uv_read_start((uv_stream_t *)client, alloc_buffer, echo_read);
    else
        uv_close((uv_handle_t *)client, on_close);
}

static int print_port(uv_tcp_t *server)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int r = uv_tcp_getsockname(server, (struct sockaddr *)&ss, &len);
    if (r)
        return r;
    printf("echo listening on tcp:127.0.0.1:%d\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in addr;
    int port = argc > 1 ? atoi(argv[1]) : 0;

    signal(SIGPIPE, SIG_IGN);
    uv_tcp_init(loop, &server);
    uv_ip4_addr("127.0.0.1", port, &addr);
    int r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (!r)
        r = uv_listen((uv_stream_t *)&server, ECHO_BACKLOG, on_new_connection);
    if (!r)
        r = print_port(&server);
    if (r) {
        fprintf(stderr, "uv_echo: listen error %s\n", uv_strerror(r));
        return 1;
    }
    return uv_run(loop, UV_RUN_DEFAULT);
}
