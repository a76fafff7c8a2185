/* The connection of `sk chat` (chat_client.h). */
#include "chat_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "send_queue.h"

/* Reads per call before giving the other side of the session a turn. */
#define READS_PER_CALL 16

void chat_client_init(chat_client *s, int fd)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
}

void chat_client_free(chat_client *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    free(s->out);
    s->out = NULL;
    s->out_len = s->out_cap = 0;
}

int chat_client_queue(chat_client *s, const char *data, size_t len)
{
    return send_queue_append(&s->out, &s->out_len, &s->out_cap, data, len);
}

int chat_client_queue_line(chat_client *s, const char *text)
{
    int rc = chat_client_queue(s, text, strlen(text));
    return rc < 0 ? rc : chat_client_queue(s, "\n", 1);
}

int chat_client_flush(chat_client *s)
{
    return send_queue_flush(s->fd, s->out, &s->out_len);
}

int chat_client_shutdown_write(chat_client *s)
{
    if (s->write_shut || s->out_len > 0)
        return 0;
    s->write_shut = true;
    return shutdown(s->fd, SHUT_WR) < 0 && errno != ENOTCONN ? -errno : 0;
}

/* Hand over line[0..len), without a trailing CR; line[len] must be
 * writable (it is the LF, or the spare byte after the buffer's data). */
static void deliver(char *line, size_t len, chat_line_cb cb, void *arg)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    char saved = line[len];
    line[len] = '\0';
    cb(line, len, arg);
    line[len] = saved;
}

/* Cut the bytes in s->in into lines, the new ones from old_len on; keep
 * the incomplete rest at the start of the buffer. */
static void split_lines(chat_client *s, size_t old_len, chat_line_cb cb, void *arg)
{
    size_t start = 0;
    for (size_t i = old_len; i < s->in_len; i++) {
        if (s->in[i] == '\n') {
            deliver(s->in + start, i - start, cb, arg);
            start = i + 1;
        }
    }
    memmove(s->in, s->in + start, s->in_len - start);
    s->in_len -= start;
    if (s->in_len == sizeof s->in - 1) { /* no LF in a whole buffer: pass it on */
        deliver(s->in, s->in_len, cb, arg);
        s->in_len = 0;
    }
}

int chat_client_receive(chat_client *s, chat_line_cb cb, void *arg)
{
    for (int i = 0; i < READS_PER_CALL; i++) {
        size_t room = sizeof s->in - 1 - s->in_len;
        ssize_t n = recv(s->fd, s->in + s->in_len, room, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0)
            return -errno;
        if (n == 0) {
            if (s->in_len > 0)
                deliver(s->in, s->in_len, cb, arg);
            s->in_len = 0;
            return 1;
        }
        size_t old = s->in_len;
        s->in_len += (size_t)n;
        split_lines(s, old, cb, arg);
    }
    return 0;
}
