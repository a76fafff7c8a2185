/* PUT: upload a directory, a symbolic link or a regular file (with resume
 * verified by chunk digests, raw bytes by sendfile, whole-file digest). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_client.h"
#include "file_msg.h"
#include "sockkit/error.h"

/* Bytes sent (then hashed) per step of the raw byte loop. */
#define PIECE (1024u * 1024u)
/* How long to wait for the server's error message after a failed send. */
#define LAST_WORDS_MS 1000

/* One file being uploaded. */
typedef struct upload {
    const char *name;    /* remote name */
    int fd;              /* the local file */
    uint64_t size;
    uint32_t mode;
    int64_t mtime;
    uint64_t offset;     /* where the raw bytes start (P) */
    uint64_t sent;       /* file offset reached by sendfile */
    uint64_t hashed;     /* the whole-file hash has been fed [0, hashed) */
    sk_hash whole;
} upload;

static int nomem(sk_file_client *c, const char *name)
{
    return sk_file_client_fail(c, -ENOMEM, "%s: %s", name, sk_strerror(-ENOMEM));
}

/* Send m (consumed) and expect "ok". */
static int request_ok(sk_file_client *c, cJSON *m, const char *name)
{
    int rc = sk_file_client_connect(c);
    if (rc == 0)
        rc = sk_file_client_send(c, m, name);
    cJSON_Delete(m);
    if (rc < 0)
        return rc;
    const char *op;
    if ((rc = sk_file_client_recv(c, name, &m, &op)) < 0)
        return rc;
    if (strcmp(op, "ok"))
        rc = sk_file_client_unexpected(c, name, op, NULL);
    cJSON_Delete(m);
    return rc;
}

static cJSON *put_message(const char *name, const char *type, int64_t mtime)
{
    cJSON *m = sk_file_msg_new("put");
    if (!m || !cJSON_AddStringToObject(m, "name", name) ||
        !cJSON_AddStringToObject(m, "type", type) || sk_file_msg_add_i64(m, "mtime", mtime) < 0) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

int sk_file_client_put_dir(sk_file_client *c, const char *name, uint32_t mode, int64_t mtime)
{
    cJSON *m = put_message(name, "dir", mtime);
    if (!m || sk_file_msg_add_u64(m, "mode", mode & 07777) < 0) {
        cJSON_Delete(m);
        return nomem(c, name);
    }
    return request_ok(c, m, name);
}

int sk_file_client_put_symlink(sk_file_client *c, const char *name, const char *target,
                               int64_t mtime)
{
    cJSON *m = put_message(name, "symlink", mtime);
    if (!m || !cJSON_AddStringToObject(m, "target", target)) {
        cJSON_Delete(m);
        return nomem(c, name);
    }
    return request_ok(c, m, name);
}

/* Open the local file (a regular file; a link is not followed). */
static int open_local(sk_file_client *c, upload *u, const char *path)
{
    u->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (u->fd < 0)
        return sk_file_client_fail(c, -errno, "%s: %s", path, sk_strerror(-errno));
    struct stat st;
    if (fstat(u->fd, &st) < 0)
        return sk_file_client_fail(c, -errno, "%s: %s", path, sk_strerror(-errno));
    if (!S_ISREG(st.st_mode))
        return sk_file_client_fail(c, -EINVAL, "%s: not a regular file", path);
    u->size = (uint64_t)st.st_size;
    u->mode = st.st_mode & 07777;
    u->mtime = st.st_mtim.tv_sec;
    int rc = sk_hash_init(&u->whole, c->hash);
    return rc < 0 ? sk_file_client_fail(c, rc, "%s: %s", path, sk_strerror(rc)) : 0;
}

static int send_put(sk_file_client *c, const upload *u)
{
    cJSON *m = put_message(u->name, "file", u->mtime);
    if (!m || sk_file_msg_add_u64(m, "size", u->size) < 0 ||
        sk_file_msg_add_u64(m, "mode", u->mode) < 0) {
        cJSON_Delete(m);
        return nomem(c, u->name);
    }
    int rc = sk_file_client_send(c, m, u->name);
    cJSON_Delete(m);
    return rc;
}

/* "... after X of N bytes (partial kept for resume)". */
static int fail_after(sk_file_client *c, const upload *u, int err, const char *what)
{
    return sk_file_client_break(c, err,
                                "%s: %s after %" PRIu64 " of %" PRIu64
                                " bytes (partial kept for resume)",
                                u->name, what, u->sent, u->size);
}

/* Compare our first chunks with the server's partial file: the offset
 * after the longest run of equal leading chunks. Feeds the whole-file hash
 * with the chunks read. */
static int choose_offset(sk_file_client *c, upload *u, uint64_t have, const sk_digest_hex *theirs,
                         size_t n)
{
    if (!c->resume || have == 0)
        return 0;
    sk_digest_hex *ours = calloc(n, sizeof *ours);
    if (!ours)
        return nomem(c, u->name);
    int rc = sk_digest_chunks(u->fd, have, c->hash, &u->whole, ours);
    if (rc == 0) {
        u->hashed = have;
        u->offset = sk_digest_common_prefix(ours, n, theirs, n) * (uint64_t)SK_FILE_CHUNK;
    } else {
        sk_file_client_break(c, rc, "%s: reading the local file: %s", u->name, sk_strerror(rc));
    }
    free(ours);
    if (rc == 0 && c->verbose)
        fprintf(stderr, "sk: %s: resuming %s at %" PRIu64 " bytes (the server kept %" PRIu64 ")\n",
                c->cmd, u->name, u->offset, have);
    return rc;
}

/* The "resume" answer: have must be whole chunks within the file, with one
 * digest per chunk. Then decide and announce the offset ("from"). */
static int handle_resume(sk_file_client *c, upload *u, const cJSON *m)
{
    char why[256] = "";
    uint64_t have = 0;
    sk_digest_hex *theirs = NULL;
    size_t n = 0;
    if (sk_file_msg_get_u64(m, "have", &have, why, sizeof why) != 1 ||
        sk_file_msg_get_digests(m, "digests", c->hash, &theirs, &n, why, sizeof why) < 0)
        return sk_file_client_unexpected(c, u->name, "resume", why[0] ? why : "no 'have'");
    int rc = 0;
    if (have > u->size || have % SK_FILE_CHUNK || n != have / SK_FILE_CHUNK)
        rc = sk_file_client_unexpected(c, u->name, "resume", "'have' and 'digests' disagree");
    if (rc == 0)
        rc = choose_offset(c, u, have, theirs, n);
    free(theirs);
    if (rc < 0)
        return rc;
    cJSON *from = sk_file_msg_new("from");
    if (!from || sk_file_msg_add_u64(from, "offset", u->offset) < 0) {
        cJSON_Delete(from);
        return nomem(c, u->name);
    }
    rc = sk_file_client_send(c, from, u->name);
    cJSON_Delete(from);
    return rc;
}

/* The server spoke in the middle of the raw bytes: an error (nospace, io)
 * or the end of the connection. We stop sending, so the session is over. */
static int early_answer(sk_file_client *c, const upload *u, int timeout_ms)
{
    sk_sock_settimeout(&c->sock, c->timeout_ms);
    char why[256] = "";
    cJSON *m = NULL;
    const char *op = NULL;
    int rc = sk_file_msg_recv(&c->sock, &m, &op, why, sizeof why, timeout_ms);
    if (rc <= 0) {
        cJSON_Delete(m);
        return fail_after(c, u, rc == 0 ? -ECONNRESET : rc,
                          rc == 0 || rc == -EPIPE ? "the server closed the connection"
                          : rc == -ECONNRESET     ? "connection reset by the server"
                          : rc == -ETIMEDOUT      ? "the connection broke"
                                                  : sk_strerror(rc));
    }
    const char *code = "", *message = "";
    sk_file_msg_get_string(m, "code", &code, why, sizeof why);
    sk_file_msg_get_string(m, "message", &message, why, sizeof why);
    if (!strcmp(op, "error") && !strcmp(code, "nospace"))
        rc = fail_after(c, u, -ENOSPC, "no space left on device");
    else if (!strcmp(op, "error"))
        rc = fail_after(c, u, -EIO, message[0] ? message : code);
    else
        rc = sk_file_client_unexpected(c, u->name, op, "in the middle of the file's bytes");
    cJSON_Delete(m);
    return rc;
}

/* A send failed: the server may have said why just before. */
static int send_failure(sk_file_client *c, const upload *u, int err)
{
    if (err == -ETIMEDOUT)
        return fail_after(c, u, err, "the server took nothing for too long");
    if (err == -EPIPE || err == -ECONNRESET)
        return early_answer(c, u, LAST_WORDS_MS);
    return fail_after(c, u, err, sk_strerror(err));
}

/* Feed the whole-file hash up to end (pread of what was just sent: the
 * server receives that piece while we hash it). */
static int hash_to(sk_file_client *c, upload *u, uint64_t end)
{
    if (end <= u->hashed)
        return 0;
    int rc = sk_hash_update_fd(&u->whole, u->fd, (off_t)u->hashed, end - u->hashed);
    if (rc < 0)
        return fail_after(c, u, rc, rc == -EIO ? "the local file shrank" : sk_strerror(rc));
    u->hashed = end;
    return 0;
}

/* sendfile [u->sent, end), watching the socket for an early answer. */
static int send_piece(sk_file_client *c, upload *u, uint64_t end)
{
    while (u->sent < end) {
        int ev = sk_sock_wait(&c->sock, POLLIN | POLLOUT, c->timeout_ms);
        if (ev < 0)
            return send_failure(c, u, ev);
        if (ev & POLLIN)
            return early_answer(c, u, c->timeout_ms > 0 ? c->timeout_ms : LAST_WORDS_MS);
        off_t off = (off_t)u->sent;
        ssize_t n = sk_sock_sendfile(&c->sock, u->fd, &off, end - u->sent);
        if (n == -EAGAIN)
            continue;
        if (n < 0)
            return send_failure(c, u, (int)n);
        if (n == 0)
            return fail_after(c, u, -EIO, "the local file shrank");
        u->sent = (uint64_t)off;
        sk_progress_update(&c->progress, u->sent);
    }
    return 0;
}

/* The raw bytes [offset, size), then hash what is left. */
static int send_bytes(sk_file_client *c, upload *u)
{
    u->sent = u->offset;
    sk_sock_settimeout(&c->sock, 0);
    int rc = 0;
    while (rc == 0 && u->sent < u->size) {
        uint64_t end = u->sent + PIECE < u->size ? u->sent + PIECE : u->size;
        rc = send_piece(c, u, end);
        if (rc == 0)
            rc = hash_to(c, u, end);
    }
    if (c->sock.fd >= 0)
        sk_sock_settimeout(&c->sock, c->timeout_ms);
    return rc == 0 ? hash_to(c, u, u->size) : rc;
}

/* "end" with our digest, then the server's "ok" must agree. */
static int finish(sk_file_client *c, upload *u)
{
    sk_digest_hex digest;
    int rc = sk_hash_final(&u->whole, &digest);
    if (rc < 0)
        return sk_file_client_break(c, rc, "%s: hashing: %s", u->name, sk_strerror(rc));
    cJSON *m = sk_file_msg_new("end");
    if (!m || !cJSON_AddStringToObject(m, "digest", digest.hex)) {
        cJSON_Delete(m);
        return nomem(c, u->name);
    }
    rc = sk_file_client_send(c, m, u->name);
    cJSON_Delete(m);
    const char *op;
    if (rc < 0 || (rc = sk_file_client_recv(c, u->name, &m, &op)) < 0)
        return rc;
    char why[256] = "";
    uint64_t size = 0;
    const char *theirs = "";
    if (strcmp(op, "ok") || sk_file_msg_get_u64(m, "size", &size, why, sizeof why) != 1 ||
        sk_file_msg_get_string(m, "digest", &theirs, why, sizeof why) != 1)
        rc = sk_file_client_unexpected(c, u->name, op, why[0] ? why : "no 'size' or 'digest'");
    else if (size != u->size || strcmp(theirs, digest.hex))
        rc = sk_file_client_break(c, -EBADMSG,
                                  "%s: the server stored %" PRIu64 " bytes with digest %.64s, "
                                  "expected %" PRIu64 " bytes with digest %s",
                                  u->name, size, theirs, u->size, digest.hex);
    cJSON_Delete(m);
    return rc;
}

static int run_put(sk_file_client *c, upload *u)
{
    int rc = sk_file_client_connect(c);
    if (rc == 0)
        rc = send_put(c, u);
    cJSON *m;
    const char *op;
    if (rc < 0 || (rc = sk_file_client_recv(c, u->name, &m, &op)) < 0)
        return rc;
    rc = strcmp(op, "resume") ? sk_file_client_unexpected(c, u->name, op, NULL)
                              : handle_resume(c, u, m);
    cJSON_Delete(m);
    if (rc < 0)
        return rc;
    sk_progress_start(&c->progress, u->name, u->size, u->offset);
    rc = send_bytes(c, u);
    if (rc == 0)
        rc = finish(c, u);
    sk_progress_end(&c->progress, rc == 0);
    return rc;
}

int sk_file_client_put_file(sk_file_client *c, const char *path, const char *name)
{
    upload u = {.name = name, .fd = -1};
    int rc = open_local(c, &u, path);
    if (rc == 0)
        rc = run_put(c, &u);
    if (u.fd >= 0)
        close(u.fd);
    sk_hash_free(&u.whole);
    return rc;
}
