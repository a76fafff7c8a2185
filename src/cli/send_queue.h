/* An output queue of a non-blocking stream socket: bytes waiting to be
 * sent, kept in a growing buffer the caller owns as (data, len, cap), and
 * sent as far as the socket takes them without waiting. Used by the chat
 * client (`sk chat`) and the chat workload of `sk bench`. */
#ifndef SK_CLI_SEND_QUEUE_H
#define SK_CLI_SEND_QUEUE_H

#include <stddef.h>

/* Append len bytes to the queue *data (*len bytes used of *cap), growing
 * it as needed. Returns 0 or -ENOMEM (the queue unchanged). */
int send_queue_append(char **data, size_t *len, size_t *cap, const char *bytes, size_t n);

/* Send the *len queued bytes on fd (MSG_DONTWAIT) until the socket would
 * block; what was sent leaves the queue. Returns 0 or -errno (-EPIPE,
 * -ECONNRESET, ...). */
int send_queue_flush(int fd, char *data, size_t *len);

#endif
