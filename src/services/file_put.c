/* file service, PUT: directories, links, and files with verified resume.
 *
 * A file goes to NAME.part (locked with flock while this connection owns
 * it), hashed as it is written; only a matching whole-file digest renames
 * it to NAME. The .part survives errors and lost connections for resume. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file_fs.h"
#include "file_session.h"

/* pwrite all of data at offset; -errno on the first failure. */
static int write_all(int fd, const uint8_t *data, size_t len, uint64_t offset)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, data, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        data += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

/* Write the buffered raw bytes to the .part. Returns 0 or -errno. */
static int flush_part(file_upload *up)
{
    if (!up->buffered)
        return 0;
    uint64_t at = up->offset - up->buffered;
    int rc = write_all(up->fd, up->buf, up->buffered, at);
    up->buffered = 0;
    if (rc == 0)
        sk_fs_write_behind(up->fd, at, up->offset);
    return rc;
}

void file_put_abandon(file_session *s)
{
    if (s->up.active) {
        (void)flush_part(&s->up); /* what arrived stays for resume */
        close(s->up.fd);
    }
    s->up.active = false;
    s->up.buffered = 0;
    free(s->up.buf);
    s->up.buf = NULL;
}

static int send_ok(sk_conn *c)
{
    return file_send(c, sk_file_msg_new("ok"));
}

/* type "dir": mkdir -p; an existing directory is fine. */
static int put_dir(sk_conn *c, file_session *s, const char *name, uint32_t mode)
{
    struct stat st;
    int rc = sk_fs_stat(s->cfg->root_fd, name, &st);
    if (rc == 0 && !S_ISDIR(st.st_mode))
        return file_send_error(c, s, "exists", "%s exists and is not a directory", name);
    if (rc == 0)
        return send_ok(c);
    rc = sk_fs_mkdirs(s->cfg->root_fd, name, (mode_t)(mode & 0777));
    return rc < 0 ? file_send_errno(c, s, rc, name) : send_ok(c);
}

/* type "symlink": stored verbatim, never followed. */
static int put_symlink(sk_conn *c, file_session *s, const char *name, const cJSON *msg)
{
    const char *target = NULL;
    if (sk_file_msg_get_string(msg, "target", &target, NULL, 0) != 1)
        return file_protocol_error(c, s, "a symlink needs a string 'target'");
    if (!target[0] || strlen(target) > SK_NAME_MAX || !sk_file_text_valid(target))
        return file_send_error(c, s, "badname", "%s: a link target must be 1 to 4096 bytes of "
                               "UTF-8 without control characters", name);
    int rc = sk_fs_mkdirs_parent(s->cfg->root_fd, name, 0755);
    if (rc == 0)
        rc = sk_fs_symlink(s->cfg->root_fd, name, target, s->cfg->overwrite);
    if (rc == -EEXIST)
        return file_send_error(c, s, "exists", "%s exists (the server was started without "
                               "--overwrite)", name);
    return rc < 0 ? file_send_errno(c, s, rc, name) : send_ok(c);
}

/* May a file be stored under name? Answers the error when not (returns 1). */
static int refuse_existing(sk_conn *c, file_session *s, const char *name, int *rc)
{
    struct stat st;
    int e = sk_fs_stat(s->cfg->root_fd, name, &st);
    if (e == -ENOENT)
        return 0;
    if (e == -ENOTDIR)
        *rc = file_send_error(c, s, "exists", "%s: a parent of it is not a directory", name);
    else if (e < 0)
        *rc = file_send_errno(c, s, e, name);
    else if (S_ISDIR(st.st_mode))
        *rc = file_send_error(c, s, "isdir", "%s is a directory", name);
    else if (!s->cfg->overwrite)
        *rc = file_send_error(c, s, "exists", "%s exists (the server was started without "
                              "--overwrite)", name);
    else
        return 0;
    return 1;
}

/* Open and lock NAME.part; its length in *len. */
static int open_part(sk_conn *c, file_session *s, uint64_t *len, int *rc)
{
    file_upload *up = &s->up;
    int e = sk_fs_mkdirs_parent(s->cfg->root_fd, up->name, 0755);
    int fd = e < 0 ? e : sk_fs_open(s->cfg->root_fd, up->part, O_RDWR | O_CREAT, 0600);
    if (fd < 0) {
        *rc = e == -ENOTDIR || fd == -ENOTDIR
                  ? file_send_error(c, s, "exists", "%s: a parent of it is not a directory", up->name)
                  : file_send_errno(c, s, fd, up->name);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        *rc = file_send_error(c, s, "io", "%s is not a regular file", up->part);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        *rc = file_send_error(c, s, "io", "%s is being uploaded by another connection", up->name);
        return -1;
    }
    up->fd = fd;
    up->active = true;
    *len = (uint64_t)st.st_size;
    return 0;
}

/* Offer the whole chunks of the .part: {"op":"resume","have":H,"digests":[...]}. */
static int send_resume(sk_conn *c, file_session *s, uint64_t part_len)
{
    file_upload *up = &s->up;
    uint64_t have = part_len > up->size ? 0 : sk_file_chunk_floor(part_len);
    if (have / SK_FILE_CHUNK > SK_FILE_MAX_DIGESTS)
        have = (uint64_t)SK_FILE_MAX_DIGESTS * SK_FILE_CHUNK;
    size_t n = (size_t)(have / SK_FILE_CHUNK);
    sk_digest_hex *d = n ? malloc(n * sizeof *d) : NULL;
    if (n && !d)
        return -ENOMEM;
    int rc = sk_hash_init(&s->whole, s->hash);
    if (rc == 0)
        rc = sk_digest_chunks(up->fd, have, s->hash, &s->whole, d);
    if (rc < 0) {
        free(d);
        file_put_abandon(s);
        return rc == -ENOMEM ? rc : file_send_errno(c, s, rc, up->part);
    }
    cJSON *m = sk_file_msg_new("resume");
    if (m && (sk_file_msg_add_u64(m, "have", have) < 0 ||
              sk_file_msg_add_digests(m, "digests", d, n) < 0)) {
        cJSON_Delete(m);
        m = NULL;
    }
    free(d);
    up->have = have;
    s->phase = PHASE_PUT_FROM;
    return file_send(c, m);
}

/* type "file": checks, then the resume offer. */
static int put_file(sk_conn *c, file_session *s, const char *name, const cJSON *msg)
{
    char why[160] = "";
    file_upload *up = &s->up;
    uint64_t size = 0;
    int rc = sk_file_msg_get_u64(msg, "size", &size, why, sizeof why);
    if (rc <= 0)
        return file_protocol_error(c, s, rc == 0 ? "a file needs a 'size'" : why);
    up->has_mtime = false;
    if (sk_file_msg_get_i64(msg, "mtime", &up->mtime, why, sizeof why) < 0)
        return file_protocol_error(c, s, why);
    up->has_mtime = cJSON_GetObjectItemCaseSensitive(msg, "mtime") != NULL;
    if (s->cfg->max_size && size > s->cfg->max_size)
        return file_send_error(c, s, "toolarge", "%s: %llu bytes is larger than the server's "
                               "--max-size of %llu bytes", name, (unsigned long long)size,
                               (unsigned long long)s->cfg->max_size);
    if (sk_fs_part_name(name, up->part, sizeof up->part) < 0)
        return file_send_error(c, s, "badname", "'%s': the last component is too long for "
                               "its .part name (250 bytes at most)", name);
    if (refuse_existing(c, s, name, &rc))
        return rc;
    snprintf(up->name, sizeof up->name, "%s", name);
    up->size = size;
    uint64_t part_len = 0;
    if (open_part(c, s, &part_len, &rc) < 0)
        return rc;
    return send_resume(c, s, part_len);
}

int file_put_begin(sk_conn *c, file_session *s, const cJSON *msg)
{
    char why[SK_NAME_MAX + 200] = "";
    const char *name = NULL, *type = "file";
    uint64_t mode = 0;
    if (sk_file_msg_get_string(msg, "name", &name, why, sizeof why) != 1)
        return file_protocol_error(c, s, "put needs a string 'name'");
    int has_mode = sk_file_msg_get_u64(msg, "mode", &mode, why, sizeof why);
    if (sk_file_msg_get_string(msg, "type", &type, why, sizeof why) < 0 || has_mode < 0)
        return file_protocol_error(c, s, why);
    if (sk_file_name_check(name, false, why, sizeof why) < 0)
        return file_send_error(c, s, "badname", "%s", why);
    s->up.mode = has_mode ? (uint32_t)(mode & 0777) : 0644;
    if (!strcmp(type, "dir"))
        return put_dir(c, s, name, has_mode ? s->up.mode : 0755);
    if (!strcmp(type, "symlink"))
        return put_symlink(c, s, name, msg);
    if (!strcmp(type, "file"))
        return put_file(c, s, name, msg);
    snprintf(why, sizeof why, "unknown type '%.40s' (file, dir or symlink)", type);
    return file_protocol_error(c, s, why);
}

int file_put_from(sk_conn *c, file_session *s, const cJSON *msg)
{
    char why[160] = "";
    file_upload *up = &s->up;
    uint64_t p = 0;
    int rc = sk_file_msg_get_u64(msg, "offset", &p, why, sizeof why);
    if (rc <= 0 || p % SK_FILE_CHUNK || p > up->have)
        return file_protocol_error(c, s, rc < 0 ? why
                                   : "'offset' must be whole chunks, at most the offered 'have'");
    if (p != up->have) { /* fewer chunks kept than hashed: hash the prefix again */
        rc = sk_hash_init(&s->whole, s->hash);
        if (rc == 0)
            rc = sk_hash_update_fd(&s->whole, up->fd, 0, p);
    }
    if (rc >= 0 && ftruncate(up->fd, (off_t)p) < 0)
        rc = -errno;
    if (rc < 0) {
        file_put_abandon(s);
        s->phase = PHASE_IDLE;
        return rc == -ENOMEM ? rc : file_send_errno(c, s, rc, up->part);
    }
    up->offset = p;
    s->raw_left = up->size - p;
    s->phase = s->raw_left ? PHASE_PUT_RAW : PHASE_PUT_END;
    return 0;
}

/* Buffer len raw bytes, writing the buffer out when it is full or the
 * raw bytes are complete. Returns 0 or -errno of the write. */
static int store_raw(file_session *s, const uint8_t *data, size_t len)
{
    file_upload *up = &s->up;
    if (!up->buf && !(up->buf = malloc(SK_FILE_WRITE_BUF)))
        return -ENOMEM;
    while (len > 0) {
        size_t n = SK_FILE_WRITE_BUF - up->buffered;
        if (n > len)
            n = len;
        memcpy(up->buf + up->buffered, data, n);
        up->buffered += n;
        up->offset += n;
        data += n;
        len -= n;
        if (up->buffered == SK_FILE_WRITE_BUF) {
            int rc = flush_part(up);
            if (rc < 0)
                return rc;
        }
    }
    return s->raw_left == 0 ? flush_part(up) : 0;
}

int file_put_raw(sk_conn *c, file_session *s, const uint8_t *data, size_t len)
{
    s->raw_left -= len;
    if (s->phase == PHASE_DISCARD_RAW) {
        if (s->raw_left == 0)
            s->phase = PHASE_DISCARD_END;
        return 0;
    }
    file_upload *up = &s->up;
    sk_hash_update(&s->whole, data, len); /* while the bytes are in the cache */
    int rc = store_raw(s, data, len);
    if (rc < 0) {
        /* Say so at once; drop the rest of the bytes and the end. */
        file_put_abandon(s);
        s->phase = s->raw_left ? PHASE_DISCARD_RAW : PHASE_DISCARD_END;
        return rc == -ENOMEM ? rc
                             : file_send_error(c, s, sk_file_errcode(rc),
                                               "%s: %s (the .part is kept for resume)", up->name,
                                               strerror(-rc));
    }
    if (s->raw_left == 0)
        s->phase = PHASE_PUT_END;
    return 0;
}

/* Digest matched: make the file durable and give it its name. */
static int put_commit(file_upload *up, const sk_file_config *cfg)
{
    int rc = sk_fs_fsync(up->fd);
    if (rc == 0)
        rc = sk_fs_set_meta(up->fd, up->mode, up->has_mtime ? up->mtime : (int64_t)time(NULL));
    if (rc == 0)
        rc = sk_fs_rename(cfg->root_fd, up->part, up->name, cfg->overwrite);
    if (rc == 0)
        rc = sk_fs_fsync_parent(cfg->root_fd, up->name);
    return rc;
}

int file_put_end(sk_conn *c, file_session *s, const cJSON *msg)
{
    const char *digest = NULL;
    file_upload *up = &s->up;
    s->phase = PHASE_IDLE;
    if (sk_file_msg_get_string(msg, "digest", &digest, NULL, 0) != 1) {
        file_put_abandon(s);
        return file_protocol_error(c, s, "end needs a string 'digest'");
    }
    sk_digest_hex got;
    int rc = sk_hash_final(&s->whole, &got);
    if (rc == 0 && strcmp(got.hex, digest)) {
        file_put_abandon(s);
        sk_fs_unlink(s->cfg->root_fd, up->part);
        return file_send_error(c, s, "digest", "%s: the digest of the bytes received is %s, not "
                               "%.64s; the partial file was removed", up->name, got.hex, digest);
    }
    if (rc == 0)
        rc = put_commit(up, s->cfg);
    file_put_abandon(s);
    if (rc == -EEXIST)
        return file_send_error(c, s, "exists", "%s appeared during the upload (the server was "
                               "started without --overwrite); the .part is kept", up->name);
    if (rc < 0)
        return file_send_errno(c, s, rc, up->name);
    cJSON *m = sk_file_msg_new("ok");
    if (m && (sk_file_msg_add_u64(m, "size", up->size) < 0 ||
              !cJSON_AddStringToObject(m, "digest", got.hex))) {
        cJSON_Delete(m);
        m = NULL;
    }
    return file_send(c, m);
}
