/* File transfer control messages: one frame each, whose payload is a UTF-8
 * JSON object with an "op" member (docs/protocol.md, "File transfer").
 * Built and parsed with cJSON; shared by the server and the client.
 *
 * Building: m = sk_file_msg_new("put"), then cJSON_AddStringToObject and
 * the sk_file_msg_add_* helpers (integers, digests, entries), then encode
 * (4-byte frame header + JSON) or send; cJSON_Delete(m).
 * Parsing: sk_file_msg_parse (or sk_file_msg_recv) gives the object and its
 * op; the sk_file_msg_get_* helpers check each member's type. */
#ifndef SK_FILE_MSG_H
#define SK_FILE_MSG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "file_digest.h"
#include "file_fs.h"
#include "sockkit/sock.h"

#define SK_FILE_VERSION 1               /* "version" of the hello messages */
#define SK_FILE_SERVER_ID "sk 0.1.0"    /* "server" of the server's hello */
#define SK_FILE_DEFAULT_PORT 7010
#define SK_FILE_CONTROL_MAX (1024u * 1024u) /* largest control frame payload */

/* A LIST answer is cut into several "list" messages when its entries would
 * not fit in one control frame: every message but the last has
 * "more": true. A builder starts a new message once the JSON of the current
 * one reaches this size. */
#define SK_FILE_LIST_SPLIT (512u * 1024u)

/* Largest integer a message carries exactly (sizes, offsets, mtime):
 * 2^53 - 1, the integers every JSON implementation keeps exact. */
#define SK_FILE_INT_MAX 9007199254740991LL

/* --- building ---------------------------------------------------------- */

/* A new message {"op": op}. Returns NULL when out of memory. */
cJSON *sk_file_msg_new(const char *op);

/* An error message {"op":"error","code":code,"message":<printf of fmt>};
 * the message is made valid UTF-8 (sk_file_text_sanitize).
 * code: "version", "protocol", "badname", "exists", "toolarge", "nospace",
 * "io", "notfound", "isdir", "notfile", "digest". Returns NULL on ENOMEM. */
cJSON *sk_file_msg_error(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Add an integer member (|v| <= SK_FILE_INT_MAX).
 * Returns 0, -ERANGE (too large for JSON), -ENOMEM. */
int sk_file_msg_add_u64(cJSON *m, const char *key, uint64_t v);
int sk_file_msg_add_i64(cJSON *m, const char *key, int64_t v);

/* Add an array of n hex digests (may be 0: []). Returns 0 or -ENOMEM. */
int sk_file_msg_add_digests(cJSON *m, const char *key, const sk_digest_hex *d, size_t n);

/* Append one listing entry object to the array entries:
 * {"name","type"} plus "size" (files), "mode" (files, dirs), "target"
 * (symlinks) and "mtime". Returns 0 or -ENOMEM. */
int sk_file_msg_add_entry(cJSON *entries, const sk_file_entry *e);

/* Encode m as one frame (4-byte big-endian length + compact JSON) into buf
 * (cap bytes); *len receives the frame's length.
 * Returns 0, -EMSGSIZE when it does not fit in cap or the payload would
 * exceed SK_FILE_CONTROL_MAX, -ENOMEM. */
int sk_file_msg_encode_into(const cJSON *m, uint8_t *buf, size_t cap, size_t *len);

/* Encode m as one frame into a malloc'd buffer (*frame; free it).
 * Returns 0, -EMSGSIZE (payload above SK_FILE_CONTROL_MAX), -ENOMEM. */
int sk_file_msg_encode(const cJSON *m, uint8_t **frame, size_t *len);

/* --- parsing ----------------------------------------------------------- */

/* Parse a control frame's payload. On success *out is the object (free with
 * cJSON_Delete) and *op its "op" string (inside *out).
 * Returns 0, or (why receives the reason, in words):
 *   -EPROTO:  not a JSON object, no string "op", raw control bytes,
 *             payload above SK_FILE_CONTROL_MAX;
 *   -EILSEQ:  a string holds "\u0000" (a NUL cannot be part of a name or a
 *             link target: answer `badname`);
 *   -ENOMEM. */
int sk_file_msg_parse(const uint8_t *payload, size_t len, cJSON **out, const char **op,
                      char *why, size_t whylen);

/* Typed members. Each returns 1 when the member is present and valid (the
 * value is stored), 0 when it is absent (nothing stored; the caller decides
 * whether that is an error), -EPROTO when present with a wrong type or
 * range (why receives "'size' must be a non-negative integer").
 * Strings point into m. */
int sk_file_msg_get_string(const cJSON *m, const char *key, const char **out, char *why,
                           size_t whylen);
int sk_file_msg_get_u64(const cJSON *m, const char *key, uint64_t *out, char *why, size_t whylen);
int sk_file_msg_get_i64(const cJSON *m, const char *key, int64_t *out, char *why, size_t whylen);
int sk_file_msg_get_bool(const cJSON *m, const char *key, bool *out, char *why, size_t whylen);

/* An array of at most SK_FILE_MAX_DIGESTS digests of the given kind (each
 * checked with sk_hash_hex_valid). *out receives a malloc'd array (NULL for
 * an empty array; free it) of *n entries. Returns 1, 0 (absent), -EPROTO,
 * -ENOMEM. */
int sk_file_msg_get_digests(const cJSON *m, const char *key, sk_hash_kind kind,
                            sk_digest_hex **out, size_t *n, char *why, size_t whylen);

/* One object of a "list" message's "entries" array into e (strings point
 * into item; target NULL unless a symlink). The name is NOT checked: run
 * sk_file_name_check on it. Returns 0 or -EPROTO. */
int sk_file_msg_parse_entry(const cJSON *item, sk_file_entry *e, char *why, size_t whylen);

/* --- errors ------------------------------------------------------------ */

/* The protocol error code for a negative errno: -ENOSPC/-EFBIG/-EDQUOT
 * "nospace", -EEXIST "exists", -ENOENT/-ENOTDIR "notfound", -EISDIR
 * "isdir", -EXDEV/-ELOOP/-ENAMETOOLONG/-EILSEQ "badname", -EPROTO/-EMSGSIZE
 * "protocol", anything else "io". */
const char *sk_file_errcode(int err);

/* --- blocking peers (the client) -------------------------------------- */

/* Send m as one frame on a blocking socket (sk_frame_send).
 * Returns 0 or -errno (-EMSGSIZE, -ETIMEDOUT, -EPIPE, -ECONNRESET). */
int sk_file_msg_send(sk_sock *s, const cJSON *m, int timeout_ms);

/* Receive and parse one control frame (at most SK_FILE_CONTROL_MAX).
 * Returns 1 with *out and *op set as sk_file_msg_parse, 0 at a clean end of
 * stream, or -errno (-EPROTO truncated or malformed: why says which,
 * -EMSGSIZE, -ETIMEDOUT, -ECONNRESET, -EILSEQ, -ENOMEM). */
int sk_file_msg_recv(sk_sock *s, cJSON **out, const char **op, char *why, size_t whylen,
                     int timeout_ms);

#endif
