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
    uint32_t mode;
    int64_t mtime;
    bool has_mtime;
} file_upload;

typedef struct file_session {
    const sk_file_config *cfg;
    sk_frame_decoder dec;
    file_phase phase;
    sk_hash_kind hash;
    sk_hash whole;       /* whole-file digest of the upload */
    uint64_t raw_left;   /* raw bytes still to come (PUT_RAW, DISCARD_RAW) */
    file_upload up;
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

/* len raw bytes of the upload (len <= raw_left): written to the .part and
 * hashed, or dropped after an error. Returns 0 or a write's -errno. */
int file_put_raw(sk_conn *c, file_session *s, const uint8_t *data, size_t len);

/* Drop the upload in progress (close the .part; it stays on disk). */
void file_put_abandon(file_session *s);

#endif
