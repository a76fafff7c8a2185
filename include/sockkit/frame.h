/* Length-prefixed framing: the fix for the "sticky packet" problem.
 *
 * TCP is a byte stream; three quick send() calls can arrive merged in one
 * recv(). A frame restores message boundaries:
 *
 *   +----------------------+---------------------------+
 *   | length: 4 bytes, u32 | payload: `length` bytes    |
 *   | big-endian (network) |                           |
 *   +----------------------+---------------------------+
 *
 * A receiver refuses a length above its maximum (default 16 MiB) before
 * allocating anything. docs/protocol.md is the full specification.
 */
#ifndef SOCKKIT_FRAME_H
#define SOCKKIT_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sockkit/sock.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SK_FRAME_HEADER_SIZE 4u
#define SK_FRAME_DEFAULT_MAX (16u * 1024u * 1024u)

/* Write the 4-byte big-endian header for a payload of len bytes. */
void sk_frame_header_encode(uint8_t out[SK_FRAME_HEADER_SIZE], uint32_t len);

/* Read the payload length from a 4-byte header. */
uint32_t sk_frame_header_decode(const uint8_t in[SK_FRAME_HEADER_SIZE]);

/* Incremental decoder: accepts the byte stream split anywhere (one byte at a
 * time or many frames per read) and yields whole messages. */
typedef struct sk_frame_decoder {
    uint32_t max;            /* largest payload accepted, bytes */
    uint8_t header[SK_FRAME_HEADER_SIZE];
    size_t header_have;      /* header bytes collected so far */
    uint32_t length;         /* payload length of the frame in progress */
    uint8_t *buf;            /* owned payload buffer for a split frame */
    size_t buf_cap;
    size_t have;             /* payload bytes collected so far */
    int in_payload;          /* 1 once the header is complete */
    int error;               /* sticky error, 0 if none */
} sk_frame_decoder;

/* One decoded message. data points either into the bytes passed to
 * sk_frame_decoder_feed (zero copy) or into the decoder's buffer; it stays
 * valid until the next feed or free. */
typedef struct sk_frame {
    const uint8_t *data;
    size_t len;
} sk_frame;

/* Initialise a decoder. max_len: largest payload in bytes to accept,
 * 0 for SK_FRAME_DEFAULT_MAX. */
void sk_frame_decoder_init(sk_frame_decoder *d, uint32_t max_len);

/* Feed stream bytes. Consumes bytes up to the end of at most one frame.
 *   data/len: the bytes; out: receives a message when one completes.
 * Returns the number of bytes consumed (call again with the rest), and sets
 * *complete to 1 when *out holds a whole message, else 0.
 * Errors (sticky: every later call returns the same): -EMSGSIZE when a
 * header announces more than max (nothing is allocated), -ENOMEM. */
ssize_t sk_frame_decoder_feed(sk_frame_decoder *d, const uint8_t *data, size_t len,
                              sk_frame *out, int *complete);

/* Signal end of stream. Returns 0 when the stream ended on a frame boundary,
 * -EPROTO when a frame was truncated, or the decoder's sticky error. */
int sk_frame_decoder_finish(const sk_frame_decoder *d);

/* Release the decoder's buffer. The decoder may be initialised again. */
void sk_frame_decoder_free(sk_frame_decoder *d);

/* Send one frame: header and payload in a single sendmsg (writev), looping
 * over partial writes.
 *   payload/len: the message; len must be <= UINT32_MAX.
 *   timeout_ms:  limit for the whole frame, -1 none (socket mode ignored).
 * Returns 0 or -errno (-EMSGSIZE for len > UINT32_MAX, -ETIMEDOUT, -EPIPE,
 * -ECONNRESET). */
int sk_frame_send(sk_sock *s, const void *payload, size_t len, int timeout_ms);

/* Receive one frame, blocking.
 *   max_len:    largest payload accepted in bytes (0 for the default);
 *               checked before allocation.
 *   payload:    receives a malloc'd buffer (free it; non-NULL even for a
 *               0-length frame); len receives its length in bytes.
 *   timeout_ms: limit for the whole frame, -1 none.
 * Returns 1 for a frame, 0 for a clean end of stream before any header
 * byte, or -errno: -EPROTO (stream ended inside a frame), -EMSGSIZE,
 * -ETIMEDOUT, -ECONNRESET, -ENOMEM. */
int sk_frame_recv(sk_sock *s, uint32_t max_len, void **payload, size_t *len, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
