/* `sk chat` in plain line mode (chat_lines.h). */
#include "chat_lines.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "sockkit/error.h"

/* Stop reading stdin while this much waits to be sent (the server is slow
 * to read): a script piping a large file cannot grow the queue forever. */
#define QUEUE_HIGH (256 * 1024)
#define STDIN_CHUNK 65536

typedef struct lines_state {
    chat_client *s;
    bool stdin_open;
    bool sent_any;          /* stdin gave bytes */
    char last;              /* the last byte read from stdin */
    int64_t linger_end_ms;  /* 0 until stdin ended and the queue drained */
    bool output_failed;
} lines_state;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_line(const char *line, size_t len, void *arg)
{
    lines_state *st = arg;
    if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF)
        st->output_failed = true;
}

/* Read a chunk of stdin into the queue. Returns 0 or -ENOMEM. */
static int read_stdin(lines_state *st)
{
    char buf[STDIN_CHUNK];
    ssize_t n;
    do
        n = read(STDIN_FILENO, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    if (n <= 0) { /* EOF (or an error, taken as the end of input) */
        st->stdin_open = false;
        /* the last line counts even without its LF */
        return st->sent_any && st->last != '\n' ? chat_client_queue(st->s, "\n", 1) : 0;
    }
    st->sent_any = true;
    st->last = buf[n - 1];
    return chat_client_queue(st->s, buf, (size_t)n);
}

/* stdin ended and everything was sent: half-close, start the linger. */
static int maybe_half_close(lines_state *st)
{
    if (st->stdin_open || st->linger_end_ms || st->s->out_len > 0)
        return 0;
    st->linger_end_ms = now_ms() + CHAT_LINGER_MS;
    return chat_client_shutdown_write(st->s);
}

static int poll_timeout(const lines_state *st)
{
    if (!st->linger_end_ms)
        return -1;
    int64_t left = st->linger_end_ms - now_ms();
    return left > 0 ? (int)left : 0;
}

/* One wait and what follows. Returns 0 to go on, 1 when done, or -errno. */
static int step(lines_state *st)
{
    chat_client *s = st->s;
    struct pollfd fds[2] = {
        {.fd = st->stdin_open && s->out_len < QUEUE_HIGH ? STDIN_FILENO : -1, .events = POLLIN},
        {.fd = s->fd, .events = (short)(POLLIN | (s->out_len > 0 ? POLLOUT : 0))},
    };
    int n = poll(fds, 2, poll_timeout(st));
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    if (n == 0 && st->linger_end_ms)
        return 1;
    int rc = 0;
    if (fds[0].revents)
        rc = read_stdin(st);
    if (rc == 0 && s->out_len > 0)
        rc = chat_client_flush(s);
    if (rc == 0)
        rc = maybe_half_close(st);
    if (rc == 0 && fds[1].revents & (POLLIN | POLLHUP | POLLERR))
        rc = chat_client_receive(s, print_line, st);
    if (fflush(stdout) == EOF)
        st->output_failed = true;
    if (st->output_failed)
        return -EIO;
    return rc;
}

int chat_run_lines(chat_client *s)
{
    lines_state st = {.s = s, .stdin_open = true};
    int rc;
    do
        rc = step(&st);
    while (rc == 0);
    if (rc == -EIO && st.output_failed) {
        fputs("sk: chat: cannot write to stdout\n", stderr);
        return 1;
    }
    if (rc < 0) {
        fprintf(stderr, "sk: chat: connection lost: %s\n", sk_strerror(rc));
        return 1;
    }
    return 0;
}
