/* sk exec: the running command's streams. One poll() loop: the server's
 * frames go to stdout and stderr (blocking writes: a slow consumer stops
 * the reading, and TCP slows the server and so the command); stdin is read
 * only when the previous STDIN frame is sent, so a command that does not
 * read its stdin holds the client back, never its memory. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec_client.h"
#include "sockkit/error.h"
#include "sockkit/frame.h"

#define RECV_SIZE (256u * 1024u)

typedef struct relay {
    sk_exec_client *c;
    sk_frame_decoder dec;
    uint8_t out[SK_EXEC_DATA_HEADER + SK_EXEC_CHUNK_MAX]; /* the frame being sent */
    size_t out_len, out_off;
    bool stdin_done;   /* EOF frame queued */
    int status;        /* -1 until the command's end (or a failure) */
} relay;

/* Write all of buf to fd (blocking). Returns 0 or -errno. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) { /* a non-blocking stdout we inherited */
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, -1);
            continue;
        }
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int exit_status(relay *r, const uint8_t *p, size_t len)
{
    sk_exec_exit e;
    if (sk_exec_decode_exit(p, len, &e) < 0) {
        fprintf(stderr, "sk: exec: malformed exit message from the server\n");
        return SK_EXEC_STATUS_FAILURE;
    }
    if (e.flags & SK_EXEC_TIMED_OUT) {
        fprintf(stderr, "sk: exec: the command ran out of time (--timeout %.3g s) and was "
                        "killed\n", r->c->req.timeout_ms / 1000.0);
        return SK_EXEC_STATUS_TIMEOUT;
    }
    return e.how == SK_EXEC_SIGNALED ? 128 + e.value : e.value;
}

static void on_frame(relay *r, const uint8_t *p, size_t len)
{
    int rc = 0;
    switch (len ? p[0] : 0) {
    case SK_EXEC_STDOUT: rc = write_all(STDOUT_FILENO, p + 1, len - 1); break;
    case SK_EXEC_STDERR: rc = write_all(STDERR_FILENO, p + 1, len - 1); break;
    case SK_EXEC_EXIT: r->status = exit_status(r, p, len); return;
    case SK_EXEC_ERROR: r->status = sk_exec_client_error(p, len); return;
    default:
        fprintf(stderr, "sk: exec: unexpected message from the server\n");
        r->status = SK_EXEC_STATUS_FAILURE;
        return;
    }
    if (rc == -EPIPE) { /* our reader is gone: end as a command killed by SIGPIPE would */
        r->status = 128 + SIGPIPE;
    } else if (rc < 0) {
        fprintf(stderr, "sk: exec: cannot write the output: %s\n", sk_strerror(rc));
        r->status = SK_EXEC_STATUS_FAILURE;
    }
}

/* The socket is readable: decode what came. */
static void on_readable(relay *r, uint8_t *buf)
{
    ssize_t n = sk_sock_recv(&r->c->sock, buf, RECV_SIZE);
    if (n == -EAGAIN)
        return;
    if (n <= 0) {
        fprintf(stderr, "sk: exec: %s before the command ended\n",
                n == 0 ? "the server closed the connection" : sk_strerror((int)n));
        r->status = SK_EXEC_STATUS_FAILURE;
        return;
    }
    const uint8_t *p = buf;
    size_t left = (size_t)n;
    while (left > 0 && r->status < 0) {
        sk_frame f;
        int complete = 0;
        ssize_t used = sk_frame_decoder_feed(&r->dec, p, left, &f, &complete);
        if (used < 0) {
            fprintf(stderr, "sk: exec: bad message from the server: %s\n",
                    sk_strerror((int)used));
            r->status = SK_EXEC_STATUS_FAILURE;
            return;
        }
        p += used;
        left -= (size_t)used;
        if (complete)
            on_frame(r, f.data, f.len);
    }
}

/* stdin is readable (or at EOF): one STDIN frame, or STDIN_EOF. */
static void on_stdin(relay *r)
{
    ssize_t n;
    do
        n = read(STDIN_FILENO, r->out + SK_EXEC_DATA_HEADER, SK_EXEC_CHUNK_MAX);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n > 0) {
        sk_exec_encode_data_header(r->out, SK_EXEC_STDIN, (size_t)n);
        r->out_len = SK_EXEC_DATA_HEADER + (size_t)n;
    } else { /* EOF, or an error reading: the command sees EOF either way */
        r->out_len = sk_exec_encode_simple(r->out, SK_EXEC_STDIN_EOF, NULL, 0);
        r->stdin_done = true;
    }
    r->out_off = 0;
}

static void on_writable(relay *r)
{
    ssize_t n = sk_sock_send(&r->c->sock, r->out + r->out_off, r->out_len - r->out_off);
    if (n == -EAGAIN)
        return;
    if (n < 0) { /* the server's reading side is gone: its messages say why */
        r->out_len = r->out_off = 0;
        r->stdin_done = true;
        return;
    }
    r->out_off += (size_t)n;
    if (r->out_off == r->out_len)
        r->out_len = r->out_off = 0;
}

static void relay_once(relay *r, uint8_t *buf)
{
    struct pollfd p[2] = {
        {.fd = r->c->sock.fd, .events = (short)(POLLIN | (r->out_len ? POLLOUT : 0))},
        {.fd = !r->stdin_done && !r->out_len ? STDIN_FILENO : -1, .events = POLLIN},
    };
    if (poll(p, 2, -1) < 0)
        return; /* EINTR */
    if (p[0].revents & POLLOUT)
        on_writable(r);
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
        on_readable(r, buf);
    if (r->status < 0 && p[1].revents)
        on_stdin(r);
}

int sk_exec_client_relay(sk_exec_client *c)
{
    relay *r = calloc(1, sizeof *r);
    uint8_t *buf = malloc(RECV_SIZE);
    int status = SK_EXEC_STATUS_FAILURE;
    if (r && buf) {
        r->c = c;
        r->status = -1;
        sk_frame_decoder_init(&r->dec, SK_EXEC_FRAME_MAX);
        sk_sock_settimeout(&c->sock, 0);
        if (c->no_stdin) {
            r->out_len = sk_exec_encode_simple(r->out, SK_EXEC_STDIN_EOF, NULL, 0);
            r->stdin_done = true;
        }
        while (r->status < 0)
            relay_once(r, buf);
        status = r->status;
        sk_frame_decoder_free(&r->dec);
    } else {
        fprintf(stderr, "sk: exec: %s\n", sk_strerror(-ENOMEM));
    }
    free(buf);
    free(r);
    sk_sock_close(&c->sock);
    return status;
}
