/* file service, GET: a file's bytes from the client's verified resume
 * point, sent with sk_conn_sendfile (no copy through user space), between
 * a "file" message and an "end" with the whole-file digest; or a link as a
 * "symlink" message. The bytes go out in pieces, each hashed while the
 * client receives it (on_drain brings the next piece in event models), so
 * the first byte does not wait for a hash of the whole file; requests that
 * arrive meanwhile are held and served after the "end". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_fs.h"
#include "file_session.h"

/* {"op":"symlink","name":...,"target":...} */
static int send_symlink(sk_conn *c, file_session *s, const char *name)
{
    char target[SK_NAME_MAX + 1];
    ssize_t n = sk_fs_readlink(s->cfg->root_fd, name, target, sizeof target);
    if (n < 0)
        return file_send_errno(c, s, (int)n, name);
    if (!sk_file_text_valid(target))
        return file_send_error(c, s, "badname", "%s: the link's target is not UTF-8 text", name);
    cJSON *m = sk_file_msg_new("symlink");
    if (m && (!cJSON_AddStringToObject(m, "name", name) ||
              !cJSON_AddStringToObject(m, "target", target))) {
        cJSON_Delete(m);
        m = NULL;
    }
    return file_send(c, m);
}

/* The resume offset P: the client's chunks compared with the file's own,
 * read once; the whole-file hash is fed with them (it goes on from there
 * while the bytes are sent). Sets *prefix to the bytes hashed. */
static int compare_chunks(file_session *s, uint64_t size, const sk_digest_hex *theirs,
                          size_t n_theirs, uint64_t *prefix, uint64_t *offset)
{
    file_sending *g = &s->down;
    size_t n = n_theirs;
    if (n > size / SK_FILE_CHUNK)
        n = (size_t)(size / SK_FILE_CHUNK);
    sk_digest_hex *ours = n ? malloc(n * sizeof *ours) : NULL;
    if (n && !ours)
        return -ENOMEM;
    *prefix = (uint64_t)n * SK_FILE_CHUNK;
    int rc = sk_hash_init(&g->whole, s->hash);
    if (rc == 0)
        rc = sk_digest_chunks(g->fd, *prefix, s->hash, &g->whole, ours);
    *offset = (uint64_t)sk_digest_common_prefix(ours, n, theirs, n_theirs) * SK_FILE_CHUNK;
    free(ours);
    return rc;
}

static int send_file_msg(sk_conn *c, const char *name, const struct stat *st, uint64_t offset)
{
    cJSON *m = sk_file_msg_new("file");
    if (m && (!cJSON_AddStringToObject(m, "name", name) ||
              sk_file_msg_add_u64(m, "size", (uint64_t)st->st_size) < 0 ||
              sk_file_msg_add_u64(m, "mode", (uint64_t)(st->st_mode & 07777)) < 0 ||
              sk_file_msg_add_i64(m, "mtime", (int64_t)st->st_mtim.tv_sec) < 0 ||
              sk_file_msg_add_u64(m, "offset", offset) < 0)) {
        cJSON_Delete(m);
        m = NULL;
    }
    return file_send(c, m);
}

static int send_end(sk_conn *c, const sk_digest_hex *digest)
{
    cJSON *m = sk_file_msg_new("end");
    if (m && !cJSON_AddStringToObject(m, "digest", digest->hex)) {
        cJSON_Delete(m);
        m = NULL;
    }
    return file_send(c, m);
}

void file_get_abandon(file_session *s)
{
    if (s->down.active)
        close(s->down.fd);
    s->down.active = false;
}

/* Feed the whole-file hash up to end. */
static int hash_to(file_sending *g, uint64_t end)
{
    if (end <= g->hashed)
        return 0;
    int rc = sk_hash_update_fd(&g->whole, g->fd, (off_t)g->hashed, end - g->hashed);
    if (rc == 0)
        g->hashed = end;
    return rc;
}

/* The last of it: the rest of the hash, "end", and input again. */
static int finish_get(sk_conn *c, file_session *s)
{
    file_sending *g = &s->down;
    sk_digest_hex digest;
    int rc = hash_to(g, g->size);
    if (rc == 0)
        rc = sk_hash_final(&g->whole, &digest);
    file_get_abandon(s);
    if (rc < 0)
        return rc; /* the file shrank under us: the client cannot be told in band */
    s->phase = PHASE_IDLE;
    rc = send_end(c, &digest);
    sk_conn_resume(c);
    if (rc < 0 || !s->held)
        return rc;
    uint8_t *held = s->held; /* requests that came meanwhile, in order */
    size_t len = s->held_len;
    s->held = NULL;
    s->held_len = 0;
    rc = file_session_input(c, s, held, len);
    free(held);
    return rc;
}

int file_get_pump(sk_conn *c, file_session *s)
{
    file_sending *g = &s->down;
    while (g->sent < g->size) {
        uint64_t end = g->size - g->sent > SK_FILE_SEND_PIECE ? g->sent + SK_FILE_SEND_PIECE
                                                             : g->size;
        int rc = sk_conn_sendfile(c, g->fd, (off_t)g->sent, (size_t)(end - g->sent));
        if (rc == 0) /* the piece is queued (or sent): hash it while it goes */
            rc = hash_to(g, end);
        if (rc < 0) {
            file_get_abandon(s);
            return rc;
        }
        g->sent = end;
        if (g->sent < g->size && sk_conn_pending(c) > SK_CONN_LOW_WATER) {
            sk_conn_pause(c); /* on_drain brings us back */
            return 0;
        }
    }
    return finish_get(c, s);
}

/* A regular file: "file", the raw bytes from P (file_get_pump), "end". */
static int send_regular(sk_conn *c, file_session *s, const char *name, const sk_digest_hex *theirs,
                        size_t n_theirs)
{
    file_sending *g = &s->down;
    int fd = sk_fs_open(s->cfg->root_fd, name, O_RDONLY, 0);
    if (fd < 0)
        return file_send_errno(c, s, fd, name);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return file_send_error(c, s, "notfile", "%s is not a regular file", name);
    }
    g->fd = fd;
    g->active = true;
    g->size = (uint64_t)st.st_size;
    uint64_t offset = 0, prefix = 0;
    int rc = compare_chunks(s, g->size, theirs, n_theirs, &prefix, &offset);
    if (rc < 0) {
        file_get_abandon(s);
        return rc == -ENOMEM ? rc : file_send_errno(c, s, rc, name);
    }
    g->hashed = prefix;
    g->sent = offset;
    rc = send_file_msg(c, name, &st, offset);
    if (rc < 0) {
        file_get_abandon(s);
        return rc;
    }
    s->phase = PHASE_GET_SEND;
    return file_get_pump(c, s);
}

int file_get(sk_conn *c, file_session *s, const cJSON *msg)
{
    char why[SK_NAME_MAX + 200] = "";
    const char *name = NULL;
    uint64_t have = 0;
    sk_digest_hex *theirs = NULL;
    size_t n = 0;
    if (sk_file_msg_get_string(msg, "name", &name, why, sizeof why) != 1)
        return file_protocol_error(c, s, "get needs a string 'name'");
    int rc = sk_file_msg_get_u64(msg, "have", &have, why, sizeof why);
    if (rc >= 0)
        rc = sk_file_msg_get_digests(msg, "digests", s->hash, &theirs, &n, why, sizeof why);
    if (rc == -ENOMEM)
        return rc;
    if (rc >= 0 && (have % SK_FILE_CHUNK || have / SK_FILE_CHUNK != n)) {
        snprintf(why, sizeof why, "'have' must be whole chunks with one digest each");
        rc = -EPROTO;
    }
    if (rc < 0) {
        free(theirs);
        return file_protocol_error(c, s, why);
    }
    struct stat st;
    if (sk_file_name_check(name, false, why, sizeof why) < 0)
        rc = file_send_error(c, s, "badname", "%s", why);
    else if ((rc = sk_fs_stat(s->cfg->root_fd, name, &st)) < 0)
        rc = file_send_errno(c, s, rc, name);
    else if (S_ISLNK(st.st_mode))
        rc = send_symlink(c, s, name);
    else if (S_ISDIR(st.st_mode))
        rc = file_send_error(c, s, "isdir", "%s is a directory (list it, then get its files)",
                             name);
    else if (!S_ISREG(st.st_mode))
        rc = file_send_error(c, s, "notfile", "%s is neither a file, a directory nor a link",
                             name);
    else
        rc = send_regular(c, s, name, theirs, n);
    free(theirs);
    return rc;
}
