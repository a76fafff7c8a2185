/* GET: download one file (or create one symbolic link) beneath the output
 * directory: resume from NAME.part after comparing chunk digests, receive
 * the raw bytes into NAME.part hashing them, verify, fsync, rename. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_client.h"
#include "file_msg.h"
#include "file_names.h"
#include "sockkit/error.h"

/* Receive buffer: one recv takes all the socket has queued (up to this),
 * so that the kernel sends fewer window updates and wakes us less often:
 * on loopback, 4 MiB reads take about 40% less CPU per GiB than 64 KiB
 * reads (bench/results/transfer.md). */
#define RECV_BUF (4u * 1024u * 1024u)

/* One file being downloaded. */
typedef struct download {
    const char *name;          /* the remote name asked for */
    const char *local;         /* its name beneath the output directory */
    int dir;                   /* the output directory */
    char part[SK_NAME_MAX + sizeof SK_PART_SUFFIX];
    int fd;                    /* local.part, -1 until opened */
    uint64_t have;             /* whole chunks of local.part offered */
    uint64_t size;             /* announced by the server */
    uint64_t offset;           /* where the raw bytes start */
    uint64_t got;              /* file offset reached */
    uint32_t mode;
    int64_t mtime;
    sk_hash whole;             /* fed with [0, have) first, then [offset, got) */
} download;

static int nomem(sk_file_client *c, const char *name)
{
    return sk_file_client_fail(c, -ENOMEM, "%s: %s", name, sk_strerror(-ENOMEM));
}

/* Chunk digests of the whole chunks of an existing local.part (feeding the
 * whole-file hash with them). *digests is malloc'd (NULL when none). */
static int examine_part(sk_file_client *c, download *d, sk_digest_hex **digests, size_t *n)
{
    *digests = NULL;
    *n = 0;
    if (!c->resume)
        return 0;
    int fd = sk_fs_open(d->dir, d->part, O_RDONLY, 0);
    if (fd == -ENOENT || fd == -ENOTDIR)
        return 0;
    if (fd < 0)
        return sk_file_client_fail(c, fd, "%s: %s: %s", d->name, d->part,
                                   sk_file_client_local_error(fd));
    struct stat st;
    int rc = fstat(fd, &st) < 0 ? -errno : 0;
    if (rc == 0 && S_ISREG(st.st_mode)) {
        uint64_t have = sk_file_chunk_floor((uint64_t)st.st_size);
        uint64_t most = (uint64_t)SK_FILE_MAX_DIGESTS * SK_FILE_CHUNK;
        d->have = have < most ? have : most;
        *n = (size_t)(d->have / SK_FILE_CHUNK);
        if (*n && !(*digests = calloc(*n, sizeof **digests)))
            rc = -ENOMEM;
        else if (*n)
            rc = sk_digest_chunks(fd, d->have, c->hash, &d->whole, *digests);
    }
    close(fd);
    if (rc < 0) {
        free(*digests);
        *digests = NULL;
        d->have = 0;
        return sk_file_client_fail(c, rc, "%s: reading %s: %s", d->name, d->part,
                                   sk_strerror(rc));
    }
    return 0;
}

static int send_get(sk_file_client *c, download *d)
{
    sk_digest_hex *digests;
    size_t n;
    int rc = examine_part(c, d, &digests, &n);
    if (rc < 0)
        return rc;
    cJSON *m = sk_file_msg_new("get");
    if (!m || !cJSON_AddStringToObject(m, "name", d->name) ||
        sk_file_msg_add_u64(m, "have", d->have) < 0 ||
        sk_file_msg_add_digests(m, "digests", digests, n) < 0) {
        rc = nomem(c, d->name);
    } else {
        rc = sk_file_client_send(c, m, d->name);
    }
    cJSON_Delete(m);
    free(digests);
    return rc;
}

/* The answer must be about the name asked for, nothing else. */
static int check_name(sk_file_client *c, const download *d, const char *op, const cJSON *m)
{
    const char *name = NULL;
    char why[256] = "";
    if (sk_file_msg_get_string(m, "name", &name, why, sizeof why) != 1)
        return sk_file_client_unexpected(c, d->name, op, why[0] ? why : "no 'name'");
    if (strcmp(name, d->name))
        return sk_file_client_break(c, -EPROTO,
                                    "%s: the server answered with the name '%.300s' (refused, "
                                    "nothing written)",
                                    d->name, name);
    return 0;
}

static int make_symlink(sk_file_client *c, download *d, const cJSON *m)
{
    const char *target = NULL;
    char why[256] = "";
    if (sk_file_msg_get_string(m, "target", &target, why, sizeof why) != 1 || !target[0])
        return sk_file_client_unexpected(c, d->name, "symlink", why[0] ? why : "no 'target'");
    int rc = sk_fs_mkdirs_parent(d->dir, d->local, 0777);
    if (rc == 0)
        rc = sk_fs_symlink(d->dir, d->local, target, true);
    if (rc < 0)
        return sk_file_client_fail(c, rc, "%s: cannot create the link %s: %s", d->name, d->local,
                                   sk_file_client_local_error(rc));
    if (c->verbose)
        fprintf(stderr, "sk: %s: %s -> %s\n", c->cmd, d->local, target);
    return 0;
}

/* The "file" answer: size, mode, mtime and an offset we can resume at. */
static int parse_file(sk_file_client *c, download *d, const cJSON *m)
{
    char why[256] = "";
    uint64_t mode = 0644;
    if (sk_file_msg_get_u64(m, "size", &d->size, why, sizeof why) != 1 ||
        sk_file_msg_get_u64(m, "offset", &d->offset, why, sizeof why) != 1 ||
        sk_file_msg_get_u64(m, "mode", &mode, why, sizeof why) < 0 ||
        sk_file_msg_get_i64(m, "mtime", &d->mtime, why, sizeof why) < 0)
        return sk_file_client_unexpected(c, d->name, "file", why[0] ? why : "no size or offset");
    if (mode > 07777 || d->offset > d->have || d->offset > d->size ||
        d->offset % SK_FILE_CHUNK)
        return sk_file_client_unexpected(c, d->name, "file", "bad 'mode' or 'offset'");
    d->mode = (uint32_t)mode;
    return 0;
}

/* Create or reopen local.part, cut it to the offset, and bring the
 * whole-file hash to [0, offset). */
static int open_part(sk_file_client *c, download *d)
{
    int rc = sk_fs_mkdirs_parent(d->dir, d->local, 0777);
    if (rc == 0)
        rc = d->fd = sk_fs_open(d->dir, d->part, O_RDWR | O_CREAT, 0600);
    if (rc >= 0)
        rc = ftruncate(d->fd, (off_t)d->offset) < 0 ? -errno : 0;
    if (rc == 0 && d->offset != d->have) {
        rc = sk_hash_init(&d->whole, c->hash);
        if (rc == 0)
            rc = sk_hash_update_fd(&d->whole, d->fd, 0, d->offset);
    }
    if (rc < 0)
        return sk_file_client_break(c, rc, "%s: cannot write %s: %s", d->name, d->part,
                                    sk_file_client_local_error(rc));
    if (c->verbose && d->have)
        fprintf(stderr, "sk: %s: resuming %s at %" PRIu64 " bytes (%s had %" PRIu64 ")\n",
                c->cmd, d->name, d->offset, d->part, d->have);
    return 0;
}

static int fail_after(sk_file_client *c, const download *d, int err, const char *what)
{
    return sk_file_client_break(c, err,
                                "%s: %s after %" PRIu64 " of %" PRIu64
                                " bytes (partial kept for resume)",
                                d->name, what, d->got, d->size);
}

static int write_all(int fd, const uint8_t *p, size_t len, uint64_t offset)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

static const char *recv_words(ssize_t n)
{
    if (n == 0)
        return "the server closed the connection";
    if (n == -ECONNRESET)
        return "connection reset by the server";
    if (n == -ETIMEDOUT)
        return "nothing arrived for too long";
    return sk_strerror((int)n);
}

/* The raw bytes [offset, size) into local.part, hashed as they come. */
static int receive_bytes(sk_file_client *c, download *d)
{
    uint8_t *buf = malloc(RECV_BUF);
    if (!buf)
        return sk_file_client_break(c, -ENOMEM, "%s: %s", d->name, sk_strerror(-ENOMEM));
    int rc = 0;
    for (d->got = d->offset; rc == 0 && d->got < d->size;) {
        uint64_t left = d->size - d->got;
        ssize_t n = sk_sock_recv(&c->sock, buf, left < RECV_BUF ? left : RECV_BUF);
        if (n <= 0) {
            rc = fail_after(c, d, n == 0 ? -ECONNRESET : (int)n, recv_words(n));
            break;
        }
        if ((rc = write_all(d->fd, buf, (size_t)n, d->got)) < 0) {
            rc = fail_after(c, d, rc, rc == -ENOSPC ? "no space left on device" : sk_strerror(rc));
            break;
        }
        sk_hash_update(&d->whole, buf, (size_t)n);
        sk_fs_write_behind(d->fd, d->got, d->got + (uint64_t)n);
        d->got += (uint64_t)n;
        sk_progress_update(&c->progress, d->got);
    }
    free(buf);
    return rc;
}

/* The server's "end": its digest must be ours. A mismatch removes the
 * partial file (its bytes are wrong somewhere). */
static int check_end(sk_file_client *c, download *d)
{
    cJSON *m;
    const char *op, *theirs = NULL;
    char why[256] = "";
    int rc = sk_file_client_recv(c, d->name, &m, &op);
    if (rc < 0)
        return rc;
    if (strcmp(op, "end") || sk_file_msg_get_string(m, "digest", &theirs, why, sizeof why) != 1)
        rc = sk_file_client_unexpected(c, d->name, op, why[0] ? why : NULL);
    sk_digest_hex ours;
    if (rc == 0 && (rc = sk_hash_final(&d->whole, &ours)) < 0)
        sk_file_client_fail(c, rc, "%s: hashing: %s", d->name, sk_strerror(rc));
    if (rc == 0 && strcmp(theirs, ours.hex)) {
        sk_fs_unlink(d->dir, d->part);
        rc = sk_file_client_fail(c, -EBADMSG,
                                 "%s: digest mismatch: received %s, the server announced %.64s "
                                 "(partial removed)",
                                 d->name, ours.hex, theirs);
    }
    cJSON_Delete(m);
    return rc;
}

/* Verified: make it durable and give it its final name. */
static int install(sk_file_client *c, download *d)
{
    int rc = sk_fs_fsync(d->fd);
    if (rc == 0)
        rc = sk_fs_set_meta(d->fd, d->mode & ~c->umask, d->mtime);
    if (rc == 0)
        rc = sk_fs_rename(d->dir, d->part, d->local, true);
    if (rc == 0)
        rc = sk_fs_fsync_parent(d->dir, d->local);
    if (rc < 0)
        return sk_file_client_fail(c, rc, "%s: cannot install %s: %s", d->name, d->local,
                                   sk_file_client_local_error(rc));
    return 0;
}

static int receive_file(sk_file_client *c, download *d, const cJSON *m)
{
    int rc = parse_file(c, d, m);
    if (rc == 0)
        rc = open_part(c, d);
    if (rc < 0)
        return rc;
    sk_progress_start(&c->progress, d->name, d->size, d->offset);
    rc = receive_bytes(c, d);
    if (rc == 0)
        rc = check_end(c, d);
    if (rc == 0)
        rc = install(c, d);
    sk_progress_end(&c->progress, rc == 0);
    return rc;
}

static int run_get(sk_file_client *c, download *d)
{
    int rc = sk_fs_part_name(d->local, d->part, sizeof d->part);
    if (rc < 0)
        return sk_file_client_fail(c, rc, "%s: name too long for a partial file", d->name);
    if ((rc = sk_hash_init(&d->whole, c->hash)) < 0)
        return nomem(c, d->name);
    if ((rc = sk_file_client_connect(c)) < 0 || (rc = send_get(c, d)) < 0)
        return rc;
    cJSON *m;
    const char *op;
    if ((rc = sk_file_client_recv(c, d->name, &m, &op)) < 0) {
        if (rc == -EISDIR)
            c->err[0] = '\0';
        return rc;
    }
    if (strcmp(op, "file") && strcmp(op, "symlink"))
        rc = sk_file_client_unexpected(c, d->name, op, NULL);
    else if ((rc = check_name(c, d, op, m)) == 0)
        rc = op[0] == 'f' ? receive_file(c, d, m) : make_symlink(c, d, m);
    cJSON_Delete(m);
    return rc;
}

int sk_file_client_get(sk_file_client *c, const char *name, int out_dir, const char *local)
{
    download d = {.name = name, .local = local, .dir = out_dir, .fd = -1};
    int rc = run_get(c, &d);
    if (d.fd >= 0)
        close(d.fd);
    sk_hash_free(&d.whole);
    return rc;
}
