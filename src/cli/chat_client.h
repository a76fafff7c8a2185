/* The connection of `sk chat`: a connected stream socket (non-blocking),
 * an output queue of bytes waiting to be sent, and the received bytes cut
 * into lines. Shared by the terminal and the plain line front ends. */
#ifndef SK_CLI_CHAT_CLIENT_H
#define SK_CLI_CHAT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* Longest server line kept whole; a longer one is handed over in pieces
 * of this size (the server's own lines stay far below it). */
#define CHAT_LINE_MAX 16384

typedef struct chat_client {
    int fd;                 /* the connected socket (O_NONBLOCK) */
    char *out;              /* bytes queued for the server */
    size_t out_len, out_cap;
    char in[CHAT_LINE_MAX]; /* a received line not yet complete */
    size_t in_len;
    bool write_shut;        /* the sending side was shut down */
} chat_client;

/* Called once per received line, without its LF (a CR before it is
 * removed too); line[len] is '\0'. */
typedef void (*chat_line_cb)(const char *line, size_t len, void *arg);

/* Start a session on a connected socket fd (the session owns it). */
void chat_client_init(chat_client *s, int fd);

/* Close the socket and free the queue. */
void chat_client_free(chat_client *s);

/* Queue len bytes for the server. Returns 0 or -ENOMEM. */
int chat_client_queue(chat_client *s, const char *data, size_t len);

/* Queue one line: text, then LF. Returns 0 or -ENOMEM. */
int chat_client_queue_line(chat_client *s, const char *text);

/* Send what the queue holds, as far as the socket takes it without
 * waiting. Returns 0 or -errno (-EPIPE, -ECONNRESET, ...). */
int chat_client_flush(chat_client *s);

/* Read what has arrived (without waiting) and hand every complete line
 * to cb. Returns 0 (read all there was), 1 when the server closed the
 * connection (a last unterminated line is handed over first), or -errno. */
int chat_client_receive(chat_client *s, chat_line_cb cb, void *arg);

/* Once the queue is empty, shut down the sending side (half-close).
 * Returns 0 or -errno. */
int chat_client_shutdown_write(chat_client *s);

#endif
