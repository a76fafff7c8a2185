/* Cutting chat input into lines (LF or CRLF, at most SK_CHAT_LINE_MAX
 * bytes). Complete lines are handed over straight from the input; only an
 * unfinished line is copied, into a buffer that exists while it waits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chat_line.h"

/* Room for a whole line and the CR of its CRLF. */
enum { PARTIAL_SIZE = SK_CHAT_LINE_MAX + 1 };

/* A line (its LF removed) with its CR removed, to the sink if short enough. */
static int deliver(const uint8_t *line, size_t len, const sk_chat_line_sink *sink, void *arg)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > SK_CHAT_LINE_MAX)
        return sink->too_long(arg);
    return sink->line(arg, line, len);
}

/* The end of the waiting line, end bytes, arrived: deliver the whole. */
static int complete_partial(sk_chat_lines *l, const uint8_t *end, size_t n,
                            const sk_chat_line_sink *sink, void *arg)
{
    int rc;
    if (l->len + n <= PARTIAL_SIZE) {
        memcpy(l->partial + l->len, end, n);
        rc = deliver(l->partial, l->len + n, sink, arg);
    } else {
        rc = sink->too_long(arg);
    }
    l->len = 0;
    return rc;
}

/* Keep an unfinished line; report it (and start discarding) once it
 * cannot be a line of SK_CHAT_LINE_MAX bytes any more. */
static int keep_partial(sk_chat_lines *l, const uint8_t *data, size_t n,
                        const sk_chat_line_sink *sink, void *arg)
{
    if (l->len + n > PARTIAL_SIZE) {
        l->len = 0;
        l->discarding = true;
        return sink->too_long(arg);
    }
    if (!l->partial) {
        l->partial = malloc(PARTIAL_SIZE);
        if (!l->partial)
            return -ENOMEM;
    }
    memcpy(l->partial + l->len, data, n);
    l->len += n;
    return 0;
}

int sk_chat_lines_feed(sk_chat_lines *l, const uint8_t *data, size_t len,
                       const sk_chat_line_sink *sink, void *arg)
{
    while (len > 0) {
        const uint8_t *lf = memchr(data, '\n', len);
        if (!lf) {
            int rc = l->discarding ? 0 : keep_partial(l, data, len, sink, arg);
            if (rc == 0 && l->len == 0)
                sk_chat_lines_free(l);
            return rc;
        }
        size_t n = (size_t)(lf - data);
        int rc = 0;
        if (l->discarding)
            l->discarding = false;
        else if (l->len > 0)
            rc = complete_partial(l, data, n, sink, arg);
        else
            rc = deliver(data, n, sink, arg);
        data += n + 1;
        len -= n + 1;
        if (rc != 0)
            return rc;
    }
    sk_chat_lines_free(l);
    return 0;
}

int sk_chat_lines_finish(sk_chat_lines *l, const sk_chat_line_sink *sink, void *arg)
{
    int rc = 0;
    if (!l->discarding && l->len > 0)
        rc = deliver(l->partial, l->len, sink, arg);
    l->discarding = false;
    sk_chat_lines_free(l);
    return rc;
}

void sk_chat_lines_free(sk_chat_lines *l)
{
    free(l->partial);
    l->partial = NULL;
    l->len = 0;
}
