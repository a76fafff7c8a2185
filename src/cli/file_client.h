/* The client side of the file transfer protocol (docs/protocol.md, "File
 * transfer"), for `sk send`, `sk get` and `sk ls`: one session on one
 * connection, requests one at a time.
 *
 * Every request function returns 0 or a negative errno and, on failure,
 * leaves a message in c->err naming the file ("photos/a.jpg: no space left
 * on device after 1048576 of 3145728 bytes (partial kept for resume)"); the
 * command prints it as "sk: CMD: MESSAGE". When a failure leaves the
 * connection out of step (a reset, a timeout, a refused answer, an error in
 * the middle of raw bytes), the connection is closed and the next request
 * connects again (and fails with the connect error if it cannot).
 *
 * Files are read and written only through the descriptors given; downloads
 * go to NAME.part beneath the output directory's descriptor (openat2,
 * RESOLVE_BENEATH, file_fs.h), are hashed as they arrive, verified, fsync'd
 * and renamed.
 */
#ifndef SK_CLI_FILE_CLIENT_H
#define SK_CLI_FILE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "file_digest.h"
#include "file_fs.h"
#include "progress.h"
#include "sockkit/addr.h"
#include "sockkit/sock.h"

/* Size of the message buffer (a name may be 4096 bytes). */
#define SK_FILE_CLIENT_ERR_MAX 8192

typedef struct sk_file_client {
    const char *cmd;          /* "send", "get", "ls": for messages */
    sk_endpoint ep;           /* the server */
    sk_hash_kind hash;        /* digest of the session */
    int timeout_ms;           /* connect and idle timeout, -1 none */
    bool verbose;             /* -v: connection and resume reports */
    bool quiet;               /* -q */
    bool resume;              /* false: --no-resume, always start at 0 */
    unsigned umask;           /* applied to downloaded modes */
    sk_sock sock;             /* fd -1 while not connected */
    sk_progress progress;
    char err[SK_FILE_CLIENT_ERR_MAX];
} sk_file_client;

/* Set up a client (not connected yet). */
void sk_file_client_init(sk_file_client *c, const char *cmd, const sk_endpoint *ep,
                         sk_hash_kind hash, int timeout_ms, bool verbose, bool quiet, bool resume);

/* Connect and exchange hellos, unless connected already.
 * Returns 0 or -errno (c->err says why: "127.0.0.1:7010: Connection refused"). */
int sk_file_client_connect(sk_file_client *c);

/* Close the connection (if any). Safe to call twice. */
void sk_file_client_close(sk_file_client *c);

/* PUT of a directory (created with its parents) or a symbolic link
 * (target stored verbatim). Returns 0 or -errno. */
int sk_file_client_put_dir(sk_file_client *c, const char *name, uint32_t mode, int64_t mtime);
int sk_file_client_put_symlink(sk_file_client *c, const char *name, const char *target,
                               int64_t mtime);

/* PUT of the regular file at local path as name, resuming from the
 * server's partial file after comparing chunk digests, with sendfile.
 * Returns 0 once the server confirmed the whole-file digest, or -errno. */
int sk_file_client_put_file(sk_file_client *c, const char *path, const char *name);

/* GET of name into local (a name beneath the directory out_dir) resuming
 * from local.part. A symbolic link is created as a link. The answer must
 * name exactly name, else nothing is written.
 * Returns 0, -EISDIR when name is a directory (c->err empty: list it), or
 * -errno. */
int sk_file_client_get(sk_file_client *c, const char *name, int out_dir, const char *local);

/* LIST of name ("" for the root), recursive or not. Every entry name is
 * checked with the name rules (a listing with a bad name is refused whole).
 * *entries receives a malloc'd array of *count entries with malloc'd
 * strings (free with sk_fs_list_free). Returns 0 or -errno. */
int sk_file_client_list(sk_file_client *c, const char *name, bool recursive,
                        sk_file_entry **entries, size_t *count);

/* Print c->err on stderr as "sk: CMD: MESSAGE" (nothing with -q). */
void sk_file_client_report(const sk_file_client *c);

/* --- shared by the client's request files ---------------------------- */

/* Format c->err (printf style). Returns err for chaining (negative). */
int sk_file_client_fail(sk_file_client *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like sk_file_client_fail, and close the connection (it is out of step). */
int sk_file_client_break(sk_file_client *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Send a message; on failure close the connection and describe the failure
 * for name. Returns 0 or -errno. */
int sk_file_client_send(sk_file_client *c, const cJSON *m, const char *name);

/* Receive the answer to a request about name. An "error" message becomes
 * a failure (c->err from its code and message; -EEXIST, -ENOENT, -EISDIR,
 * -ENOSPC, -EINVAL for badname, -EFBIG, -EBADMSG for digest, -EIO ...);
 * otherwise *m and *op are set (cJSON_Delete(*m)). The end of the
 * connection, a timeout or a malformed message closes the connection.
 * Returns 0 or -errno. */
int sk_file_client_recv(sk_file_client *c, const char *name, cJSON **m, const char **op);

/* Words for a local file system error beneath the output directory:
 * -EXDEV / -ELOOP (a path leading outside it through a link, refused by
 * openat2) get their own; others are sk_strerror's. */
const char *sk_file_client_local_error(int err);

/* A message that is not what the protocol allows here: close the
 * connection and describe it. Returns -EPROTO. */
int sk_file_client_unexpected(sk_file_client *c, const char *name, const char *op,
                              const char *why);

#endif
