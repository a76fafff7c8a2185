/* Internal to the file service: the per-connection protocol state and the
 * handlers of each request (file_service.c dispatches; file_put.c,
 * file_get.c and file_list.c serve PUT, GET and LIST). */
#ifndef SK_FILE_SESSION_H
#define SK_FILE_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "file_digest.h"
#include "file_msg.h"
#include "file_names.h"
#include "file_service.h"
#include "sockkit/frame.h"
#include "sockkit/service.h"

/* Where the session is: what the next bytes from the client must be. */
typedef enum file_phase {
    PHASE_HELLO,       /* a "hello" */
    PHASE_IDLE,        /* a request: "put", "get", "list" */
    PHASE_PUT_FROM,    /* "resume" sent: a "from" */
    PHASE_PUT_RAW,     /* raw_left file bytes, written to the .part */
    PHASE_PUT_END,     /* the upload's "end" */
    PHASE_DISCARD_RAW, /* an error was sent: raw_left bytes to drop */
    PHASE_DISCARD_END, /* ... then the "end" to drop, without an answer */
    PHASE_GET_SEND,    /* a GET's raw bytes are going out: requests wait (held) */
    PHASE_CLOSED,      /* a fatal error was sent; the connection is closing */
} file_phase;

/* The upload in progress. */
typedef struct file_upload {
    char name[SK_NAME_MAX + 1];
    char part[SK_NAME_MAX + 8]; /* name + ".part" */
    bool active;                /* fd is open */
    int fd;                     /* the open .part, locked (flock) */
    uint64_t size;              /* announced size N */
    uint64_t have;              /* H offered in "resume" */
    uint64_t offset;            /* where the next raw byte goes */
    uint8_t *buf;               /* raw bytes not written yet (SK_FILE_WRITE_BUF) */
    size_t buffered;            /* ... this many, for [offset - buffered, offset) */
    uint32_t mode;
    int64_t mtime;
    bool has_mtime;
} file_upload;

/* An upload's bytes are written to the .part this much at a time: the
 * stream delivers them in pieces of 64 KiB, and while the socket is busy,
 * one 1 MiB write costs the server less than 16 writes of 64 KiB (7-25%
 * less CPU per GiB received on loopback into a tmpfs, bench/results/
 * transfer.md). */
#define SK_FILE_WRITE_BUF (1u * 1024u * 1024u)

/* A GET's bytes are queued and hashed this much at a time. */
#define SK_FILE_SEND_PIECE (4u * 1024u * 1024u)

/* Input held while a GET is sending: more than this is a client that does
 * not wait for answers (a protocol error). */
#define SK_FILE_HELD_MAX (4u * 1024u * 1024u)

/* The download (GET) in progress: its bytes go out in pieces, each one
 * hashed right after it is queued, so that hashing overlaps the peer's
 * receiving instead of delaying the first byte. */
typedef struct file_sending {
    bool active;                /* fd is open */
    int fd;                     /* the file being sent */
    uint64_t size;              /* its size when opened */
    uint64_t sent;              /* bytes queued up to here (from the offset P) */
    uint64_t hashed;            /* the whole-file hash has [0, hashed) */
    sk_hash whole;
} file_sending;

typedef struct file_session {
    const sk_file_config *cfg;
    sk_frame_decoder dec;
    file_phase phase;
    sk_hash_kind hash;
    sk_hash whole;       /* whole-file digest of the upload */
    uint64_t raw_left;   /* raw bytes still to come (PUT_RAW, DISCARD_RAW) */
    file_upload up;
    file_sending down;
    uint8_t *held;       /* input that arrived while a GET was sending */
    size_t held_len;
} file_session;

/* Encode and write message m, then free it (NULL: -ENOMEM).
 * Returns 0 or the write's -errno. */
int file_send(sk_conn *c, cJSON *m);

/* Answer an error {"op":"error","code","message"}. The codes "version" and
 * "protocol" end the session: the connection closes once the error is
 * written. Returns 0 or -errno of the write. */
int file_send_error(sk_conn *c, file_session *s, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Answer the error that a negative errno means for name (sk_file_errcode:
 * "badname" for a name resolving outside the root, "nospace", "io" ...),
 * with the reason in words. Returns 0 or -errno of the write. */
int file_send_errno(sk_conn *c, file_session *s, int err, const char *name);

/* Answer a protocol error (the session ends). */
int file_protocol_error(sk_conn *c, file_session *s, const char *why);

/* Requests; msg is the parsed message, valid during the call. Each returns
 * 0 to go on (errors were answered) or a write's -errno. */
int file_put_begin(sk_conn *c, file_session *s, const cJSON *msg);
int file_put_from(sk_conn *c, file_session *s, const cJSON *msg);
int file_put_end(sk_conn *c, file_session *s, const cJSON *msg);
int file_get(sk_conn *c, file_session *s, const cJSON *msg);
int file_list(sk_conn *c, file_session *s, const cJSON *msg);

/* Go on sending the GET in progress (phase PHASE_GET_SEND): more pieces
 * while the connection's queue is short, then "end". Returns 0 or -errno
 * (the connection then closes: the client is in the middle of raw bytes). */
int file_get_pump(sk_conn *c, file_session *s);

/* Drop the GET in progress (close its file). */
void file_get_abandon(file_session *s);

/* Bytes of input to process after a GET finished sending (file_service.c). */
int file_session_input(sk_conn *c, file_session *s, const uint8_t *data, size_t len);

/* len raw bytes of the upload (len <= raw_left): written to the .part and
 * hashed, or dropped after an error. Returns 0 or a write's -errno. */
int file_put_raw(sk_conn *c, file_session *s, const uint8_t *data, size_t len);

/* Drop the upload in progress: write what is buffered (best effort), close
 * the .part (it stays on disk for resume). */
void file_put_abandon(file_session *s);

#endif
