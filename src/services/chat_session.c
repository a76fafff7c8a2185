/* A chat connection's life: greeting and lobby, input lines (flood
 * control, commands, room messages), the mailbox written out on the
 * connection's own thread, and its end (quit, end of input, too slow). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chat_session.h"

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sk_chat_reply(sk_chat_session *s, const char *fmt, ...)
{
    char line[SK_CHAT_LIST_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    sk_chat_mailbox_post(&s->member.mailbox, line, (size_t)n);
}

int sk_chat_session_open(sk_chat_session *s, sk_conn *c, sk_chat_hub *hub)
{
    s->hub = hub;
    s->conn = c;
    int rc = sk_chat_member_init(&s->member, hub, c);
    if (rc < 0)
        return rc;
    s->ready = true;
    sk_chat_bucket_init(&s->bucket, hub->cfg.burst, monotonic_ns());
    rc = sk_chat_hub_enter(hub, &s->member);
    if (rc < 0)
        return rc;
    const char *nick = s->member.nick.name;
    sk_chat_reply(s, "* welcome to sk chat, you are %s in " SK_CHAT_LOBBY
                     " (/help for commands)\n", nick);
    char notice[SK_CHAT_OUT_MAX];
    size_t n = sk_chat_stamped(notice, sizeof notice, "* %s joined " SK_CHAT_LOBBY "\n", nick);
    return sk_chat_hub_join(hub, &s->member, SK_CHAT_LOBBY, notice, n, false);
}

void sk_chat_session_end(sk_chat_session *s, bool too_slow)
{
    if (s->done || !s->ready)
        return;
    s->done = true;
    const char *room = sk_chat_member_room(&s->member);
    char notice[SK_CHAT_OUT_MAX];
    size_t n = 0;
    if (room && too_slow)
        n = sk_chat_stamped(notice, sizeof notice, "* %s was disconnected (too slow)\n",
                            s->member.nick.name);
    else if (room)
        n = sk_chat_stamped(notice, sizeof notice, "* %s left %s\n", s->member.nick.name, room);
    sk_chat_hub_exit(s->hub, &s->member, notice, n);
}

void sk_chat_session_close(sk_chat_session *s)
{
    if (!s->ready)
        return;
    sk_chat_session_end(s, false);
    sk_chat_member_destroy(&s->member);
    sk_chat_lines_free(&s->lines);
    s->ready = false;
}

/* How long a disconnected slow reader gets to take what is queued for it
 * and the notice before the connection is cut, milliseconds. */
enum { OVERFLOW_LINGER_MS = 5000 };

/* The mailbox passed its cap: leave, tell the client after what is
 * already queued, and close once that is written — or cut the connection
 * after OVERFLOW_LINGER_MS, so a reader that never comes back holds
 * nothing for long. */
static int overflowed(sk_chat_session *s)
{
    static const char notice[] = "! disconnected: output queue full (you stopped reading)\n";
    if (!s->done) {
        sk_chat_session_end(s, true);
        sk_conn_write(s->conn, notice, sizeof notice - 1);
        sk_conn_set_timeout(s->conn, OVERFLOW_LINGER_MS);
    }
    return -ENOBUFS;
}

int sk_chat_session_flush(sk_chat_session *s)
{
    char *data;
    size_t len;
    sk_chat_mailbox *mb = &s->member.mailbox;
    switch (sk_chat_mailbox_take(mb, sk_conn_pending(s->conn), SK_CONN_LOW_WATER, &data, &len)) {
    case SK_CHAT_TAKE_OVERFLOW:
        return overflowed(s);
    case SK_CHAT_TAKE_DATA: {
        int rc = sk_conn_write(s->conn, data, len);
        sk_chat_mailbox_written(mb, data, sk_conn_pending(s->conn));
        return rc;
    }
    default: /* nothing, or on_drain will call again */
        return 0;
    }
}

/* A plain line (not a command): said to the room. */
static void say(sk_chat_session *s, const char *text, size_t len)
{
    if (!s->member.room) {
        sk_chat_reply(s, "! you are not in a room (/join ROOM)\n");
        return;
    }
    char line[SK_CHAT_OUT_MAX];
    size_t n = sk_chat_stamped(line, sizeof line, "<%s> %.*s\n", s->member.nick.name, (int)len,
                               text);
    sk_chat_hub_say(&s->member, line, n);
}

/* Flood control: whether this line may go; the first refused line since
 * the last accepted one is answered. */
static bool allowed(sk_chat_session *s)
{
    const sk_chat_config *cfg = &s->hub->cfg;
    if (sk_chat_bucket_take(&s->bucket, cfg->rate, cfg->burst, monotonic_ns())) {
        s->warned = false;
        return true;
    }
    if (!s->warned)
        sk_chat_reply(s, "! slow down: at most %u lines per second\n", cfg->rate);
    s->warned = true;
    return false;
}

static int on_line(void *arg, const uint8_t *raw, size_t len)
{
    sk_chat_session *s = arg;
    if (len == 0 || s->done)
        return 0;
    char text[SK_CHAT_TEXT_OUT_MAX(SK_CHAT_LINE_MAX) + 1];
    size_t n = sk_chat_text_clean(raw, len, text);
    text[n] = '\0';
    bool quit = sk_chat_is_quit(text, n);
    if (!quit && !allowed(s))
        return 0;
    if (text[0] == '/' && text[1] != '/')
        return sk_chat_command(s, text, n);
    if (text[0] == '/') /* "//..." says "/..." */
        say(s, text + 1, n - 1);
    else
        say(s, text, n);
    return 0;
}

static int on_too_long(void *arg)
{
    sk_chat_session *s = arg;
    sk_chat_reply(s, "! line too long (max %d bytes); rest discarded\n", SK_CHAT_LINE_MAX);
    return 0;
}

static const sk_chat_line_sink line_sink = {.line = on_line, .too_long = on_too_long};

int sk_chat_session_input(sk_chat_session *s, const uint8_t *data, size_t len)
{
    if (s->done)
        return SK_CHAT_STOP;
    return sk_chat_lines_feed(&s->lines, data, len, &line_sink, s);
}

void sk_chat_session_eof(sk_chat_session *s)
{
    if (!s->done)
        sk_chat_lines_finish(&s->lines, &line_sink, s);
    sk_chat_session_end(s, false);
}
