/* Chat input: a byte stream cut into lines that end in LF or CRLF, each at
 * most SK_CHAT_LINE_MAX bytes. A longer line is reported once, as soon as
 * it passes the limit, and the rest of it (up to its LF) is discarded. */
#ifndef SK_CHAT_LINE_H
#define SK_CHAT_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest line, in bytes, without its LF or CRLF. */
#define SK_CHAT_LINE_MAX 4096

typedef struct sk_chat_lines {
    uint8_t *partial;  /* the start of a line whose end has not arrived;
                          allocated only while one is waiting */
    size_t len;        /* bytes in partial */
    bool discarding;   /* inside a line that was too long: skip to its LF */
} sk_chat_lines;

typedef struct sk_chat_line_sink {
    /* A complete line of len <= SK_CHAT_LINE_MAX bytes, without LF/CRLF.
     * Returns 0 to go on, non-zero to stop (the value is returned). */
    int (*line)(void *arg, const uint8_t *line, size_t len);
    /* A line passed SK_CHAT_LINE_MAX bytes; its rest will be discarded.
     * Returns 0 to go on, non-zero to stop. */
    int (*too_long)(void *arg);
} sk_chat_line_sink;

/* Feed len bytes: calls sink for every line they complete, in order.
 * Returns 0, the first non-zero value a sink function returned (the bytes
 * after that line are dropped), or -ENOMEM. */
int sk_chat_lines_feed(sk_chat_lines *l, const uint8_t *data, size_t len,
                       const sk_chat_line_sink *sink, void *arg);

/* At end of input: a last line without LF goes to sink->line (unless it
 * was too long). Returns 0 or the sink's value. */
int sk_chat_lines_finish(sk_chat_lines *l, const sk_chat_line_sink *sink, void *arg);

/* Release the partial line. */
void sk_chat_lines_free(sk_chat_lines *l);

#endif
