/* The exec protocol's messages (docs/exec.md): every message is one frame
 * (frame.h: a 4-byte big-endian length, then the payload) whose payload
 * starts with a type byte. Integers are big-endian; a string is a u32
 * length and that many bytes, never containing NUL.
 *
 * This file encodes and decodes the payloads; the service and the client
 * move them. Every encoder writes a whole frame (header included) so that
 * it can be handed to the socket in one write. */
#ifndef SK_EXEC_PROTO_H
#define SK_EXEC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SK_EXEC_VERSION 1
#define SK_EXEC_NONCE_SIZE 32
#define SK_EXEC_MAC_SIZE 32
/* Largest frame payload before authentication, bytes. */
#define SK_EXEC_PREAUTH_MAX 4096u
/* Largest frame payload after authentication (a request), bytes. */
#define SK_EXEC_FRAME_MAX (1024u * 1024u)
/* Largest stdin/stdout/stderr chunk in one frame, bytes. */
#define SK_EXEC_CHUNK_MAX (64u * 1024u)
/* Bytes in front of a data chunk: frame header and type byte. */
#define SK_EXEC_DATA_HEADER 5u
/* Limits of a request. */
#define SK_EXEC_ARGS_MAX 4096u
#define SK_EXEC_ENV_MAX 256u

/* Message types (the payload's first byte). */
enum {
    SK_EXEC_CHALLENGE = 0x01, /* S→C: version u8, server nonce (32) */
    SK_EXEC_AUTH = 0x02,      /* C→S: client nonce (32), HMAC (32) */
    SK_EXEC_READY = 0x03,     /* S→C: authenticated, send the request */
    SK_EXEC_REQUEST = 0x10,   /* C→S: flags u8, timeout_ms u32, cwd, argv, env */
    SK_EXEC_STARTED = 0x11,   /* S→C: pid u32 */
    SK_EXEC_STDIN = 0x20,     /* C→S: bytes for the command's stdin */
    SK_EXEC_STDIN_EOF = 0x21, /* C→S: end of stdin */
    SK_EXEC_STDOUT = 0x22,    /* S→C: bytes the command wrote to stdout */
    SK_EXEC_STDERR = 0x23,    /* S→C: bytes the command wrote to stderr */
    SK_EXEC_EXIT = 0x30,      /* S→C: how the command ended (last message) */
    SK_EXEC_ERROR = 0x7f,     /* S→C: code u8, message (the server closes) */
};

/* Error codes of an ERROR message. */
enum {
    SK_EXEC_ERR_AUTH = 1,     /* authentication failed (generic, no detail) */
    SK_EXEC_ERR_DENIED = 2,   /* not allowed here: --exec-allow, environment */
    SK_EXEC_ERR_NOTFOUND = 3, /* the program does not exist (ENOENT) */
    SK_EXEC_ERR_SPAWN = 4,    /* could not start it (EACCES, cwd, ...) */
    SK_EXEC_ERR_PROTOCOL = 5, /* a malformed or unexpected message */
};

/* How the command ended (EXIT). */
enum { SK_EXEC_EXITED = 0, SK_EXEC_SIGNALED = 1 };
/* EXIT flags. */
enum { SK_EXEC_TIMED_OUT = 1 << 0 };

typedef struct sk_exec_request {
    uint8_t flags;       /* reserved, 0 */
    uint32_t timeout_ms; /* 0: none */
    char *cwd;           /* "" for the server's working directory */
    size_t argc;         /* >= 1 */
    char **argv;         /* argc strings, then NULL */
    size_t envc;
    char **env;          /* envc "NAME=VALUE" strings, then NULL */
} sk_exec_request;

typedef struct sk_exec_exit {
    uint8_t how;   /* SK_EXEC_EXITED or SK_EXEC_SIGNALED */
    uint8_t value; /* exit status 0-255, or the signal number */
    uint8_t flags; /* SK_EXEC_TIMED_OUT */
} sk_exec_exit;

/* A frame holding only a type byte and a fixed body.
 *   out: at least SK_FRAME_HEADER_SIZE + 1 + len bytes.
 * Returns the frame's size in bytes. */
size_t sk_exec_encode_simple(uint8_t *out, uint8_t type, const void *body, size_t len);

/* The header of a data frame (STDIN/STDOUT/STDERR) of len bytes, which
 * follow it: out receives SK_EXEC_DATA_HEADER bytes. */
void sk_exec_encode_data_header(uint8_t out[SK_EXEC_DATA_HEADER], uint8_t type, size_t len);

/* CHALLENGE and AUTH frames. out: at least 64 + 5 bytes. Return the size. */
size_t sk_exec_encode_challenge(uint8_t *out, const uint8_t nonce[SK_EXEC_NONCE_SIZE]);
size_t sk_exec_encode_auth(uint8_t *out, const uint8_t client_nonce[SK_EXEC_NONCE_SIZE],
                           const uint8_t mac[SK_EXEC_MAC_SIZE]);

/* Decode payloads (without the frame header). Return 0, or -EPROTO when
 * the payload is not a well-formed message of that type. */
int sk_exec_decode_challenge(const uint8_t *p, size_t len, uint8_t nonce[SK_EXEC_NONCE_SIZE]);
int sk_exec_decode_auth(const uint8_t *p, size_t len, uint8_t client_nonce[SK_EXEC_NONCE_SIZE],
                        uint8_t mac[SK_EXEC_MAC_SIZE]);

/* STARTED and EXIT. out: at least 16 bytes. Return the frame's size. */
size_t sk_exec_encode_started(uint8_t *out, uint32_t pid);
size_t sk_exec_encode_exit(uint8_t *out, const sk_exec_exit *e);
int sk_exec_decode_started(const uint8_t *p, size_t len, uint32_t *pid);
int sk_exec_decode_exit(const uint8_t *p, size_t len, sk_exec_exit *e);

/* An ERROR frame with a message (cut to 1000 bytes) into out (at least
 * 1024 bytes). Returns the frame's size. */
size_t sk_exec_encode_error(uint8_t *out, uint8_t code, const char *message);
/* Decode an ERROR: *code, and the message (NUL-ended, cut to fit) in msg. */
int sk_exec_decode_error(const uint8_t *p, size_t len, uint8_t *code, char *msg, size_t msglen);

/* Encode a request as a whole frame into a malloc'd buffer.
 * Returns 0 or -EINVAL (no argv, too many strings, a NUL-free string
 * rule broken, larger than SK_EXEC_FRAME_MAX), -ENOMEM. */
int sk_exec_encode_request(const sk_exec_request *r, uint8_t **out, size_t *len);

/* Decode a REQUEST payload into r (every string malloc'd; free with
 * sk_exec_request_free). Returns 0, -EPROTO, or -ENOMEM. */
int sk_exec_decode_request(const uint8_t *p, size_t len, sk_exec_request *r);

/* Free what sk_exec_decode_request allocated; r is zeroed. */
void sk_exec_request_free(sk_exec_request *r);

#endif
