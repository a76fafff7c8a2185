/* file: the file transfer service as a protocol state machine
 * (docs/protocol.md, "File transfer"). Control messages are frames; the
 * file bytes of an upload follow their "put"/"from" as one raw run of a
 * known length, so on_data switches between the frame decoder and raw mode
 * at exact byte counts, whatever the split of the bytes it is given. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_fs.h"
#include "file_session.h"

int sk_file_config_init(sk_file_config *cfg, const char *root, bool overwrite, uint64_t max_size,
                        char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->root_fd = -1;
    if (!root)
        root = SK_FILE_DEFAULT_ROOT;
    int fd = sk_fs_open_root(root);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the file root '%s': %s", root, strerror(-fd));
        return fd;
    }
    if (!(cfg->root_path = strdup(root))) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    cfg->root_fd = fd;
    cfg->overwrite = overwrite;
    cfg->max_size = max_size;
    return 0;
}

void sk_file_config_free(sk_file_config *cfg)
{
    if (cfg->root_fd >= 0)
        close(cfg->root_fd);
    cfg->root_fd = -1;
    free(cfg->root_path);
    cfg->root_path = NULL;
}

int file_send(sk_conn *c, cJSON *m)
{
    if (!m)
        return -ENOMEM;
    uint8_t *frame;
    size_t len;
    int rc = sk_file_msg_encode(m, &frame, &len);
    cJSON_Delete(m);
    if (rc < 0)
        return rc;
    rc = sk_conn_write(c, frame, len);
    free(frame);
    return rc;
}

static int send_error_v(sk_conn *c, file_session *s, const char *code, const char *fmt, va_list ap)
{
    char text[SK_NAME_MAX + 512];
    vsnprintf(text, sizeof text, fmt, ap);
    int rc = file_send(c, sk_file_msg_error(code, "%s", text));
    if (!strcmp(code, "version") || !strcmp(code, "protocol")) {
        s->phase = PHASE_CLOSED;
        sk_conn_close(c);
    }
    return rc;
}

int file_send_error(sk_conn *c, file_session *s, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = send_error_v(c, s, code, fmt, ap);
    va_end(ap);
    return rc;
}

int file_send_errno(sk_conn *c, file_session *s, int err, const char *name)
{
    const char *code = sk_file_errcode(err);
    if (err == -EXDEV || err == -ELOOP)
        return file_send_error(c, s, code, "'%s' resolves outside the root or through a link "
                               "where none may be", name);
    if (err == -ENAMETOOLONG)
        return file_send_error(c, s, code, "'%s': name too long", name);
    return file_send_error(c, s, code, "%s: %s", name, strerror(-err));
}

int file_protocol_error(sk_conn *c, file_session *s, const char *why)
{
    return file_send_error(c, s, "protocol", "%s", why);
}

/* {"op":"hello","version":1,"hash":...}: agree on the version and hash. */
static int on_hello(sk_conn *c, file_session *s, const cJSON *msg)
{
    char why[160] = "";
    uint64_t version = 0;
    const char *hash = "xxh3-128";
    int rc = sk_file_msg_get_u64(msg, "version", &version, why, sizeof why);
    if (rc < 0 || sk_file_msg_get_string(msg, "hash", &hash, why, sizeof why) < 0)
        return file_protocol_error(c, s, why);
    if (rc == 0 || version != SK_FILE_VERSION)
        return file_send_error(c, s, "version", "this server speaks version %d only",
                               SK_FILE_VERSION);
    if (sk_hash_parse(hash, &s->hash) < 0)
        return file_send_error(c, s, "version", "unknown hash '%.64s' (xxh3-128 or sha256)", hash);
    cJSON *m = sk_file_msg_new("hello");
    if (m && (sk_file_msg_add_u64(m, "version", SK_FILE_VERSION) < 0 ||
              !cJSON_AddStringToObject(m, "hash", sk_hash_name(s->hash)) ||
              sk_file_msg_add_u64(m, "chunk", SK_FILE_CHUNK) < 0 ||
              !cJSON_AddStringToObject(m, "server", SK_FILE_SERVER_ID))) {
        cJSON_Delete(m);
        m = NULL;
    }
    s->phase = PHASE_IDLE;
    return file_send(c, m);
}

static int on_request(sk_conn *c, file_session *s, const char *op, const cJSON *msg)
{
    if (!strcmp(op, "put"))
        return file_put_begin(c, s, msg);
    if (!strcmp(op, "get"))
        return file_get(c, s, msg);
    if (!strcmp(op, "list"))
        return file_list(c, s, msg);
    char why[96];
    snprintf(why, sizeof why, "unexpected message '%.40s' (put, get or list expected)", op);
    return file_protocol_error(c, s, why);
}

/* Which op the phase expects, and who serves it. */
static int dispatch(sk_conn *c, file_session *s, const char *op, const cJSON *msg)
{
    const char *want = NULL;
    switch (s->phase) {
    case PHASE_HELLO:
        if (!strcmp(op, "hello"))
            return on_hello(c, s, msg);
        want = "hello";
        break;
    case PHASE_IDLE: return on_request(c, s, op, msg);
    case PHASE_PUT_FROM:
        if (!strcmp(op, "from"))
            return file_put_from(c, s, msg);
        want = "from";
        break;
    case PHASE_PUT_END:
        if (!strcmp(op, "end"))
            return file_put_end(c, s, msg);
        want = "end";
        break;
    case PHASE_DISCARD_END:
        if (!strcmp(op, "end")) { /* the failed upload's end: no answer */
            s->phase = PHASE_IDLE;
            return 0;
        }
        want = "end";
        break;
    case PHASE_PUT_RAW:
    case PHASE_DISCARD_RAW:
    case PHASE_GET_SEND:
    case PHASE_CLOSED: return 0;
    }
    char why[96];
    snprintf(why, sizeof why, "unexpected message '%.40s' ('%s' expected)", op, want);
    return file_protocol_error(c, s, why);
}

/* One whole control frame. */
static int on_frame(sk_conn *c, file_session *s, const sk_frame *f)
{
    char why[160] = "";
    cJSON *msg;
    const char *op;
    int rc = sk_file_msg_parse(f->data, f->len, &msg, &op, why, sizeof why);
    if (rc == -ENOMEM)
        return rc;
    if (rc == -EILSEQ && s->phase == PHASE_IDLE)
        return file_send_error(c, s, "badname", "%s", why);
    if (rc < 0)
        return file_protocol_error(c, s, why);
    rc = dispatch(c, s, op, msg);
    cJSON_Delete(msg);
    return rc;
}

/* Feed control bytes; *used receives how many the decoder took. */
static int feed_frames(sk_conn *c, file_session *s, const uint8_t *data, size_t len, size_t *used)
{
    sk_frame f;
    int complete = 0;
    ssize_t n = sk_frame_decoder_feed(&s->dec, data, len, &f, &complete);
    if (n == -EMSGSIZE) {
        *used = len;
        return file_protocol_error(c, s, "control message larger than 1 MiB");
    }
    if (n < 0)
        return (int)n;
    *used = (size_t)n;
    return complete ? on_frame(c, s, &f) : 0;
}

/* Keep input for after the GET being sent (its answer must come first). */
static int hold(sk_conn *c, file_session *s, const uint8_t *data, size_t len)
{
    if (len > SK_FILE_HELD_MAX - s->held_len) {
        file_get_abandon(s);
        s->phase = PHASE_CLOSED;
        sk_conn_close(c);
        return -EPROTO; /* the client is in the middle of raw bytes: no message */
    }
    uint8_t *p = realloc(s->held, s->held_len + len);
    if (!p)
        return -ENOMEM;
    memcpy(p + s->held_len, data, len);
    s->held = p;
    s->held_len += len;
    return 0;
}

int file_session_input(sk_conn *c, file_session *s, const uint8_t *data, size_t len)
{
    while (len > 0 && s->phase != PHASE_CLOSED) {
        size_t used = 0;
        int rc;
        if (s->phase == PHASE_GET_SEND)
            return hold(c, s, data, len);
        if (s->raw_left > 0) {
            used = len < s->raw_left ? len : (size_t)s->raw_left;
            rc = file_put_raw(c, s, data, used);
        } else {
            rc = feed_frames(c, s, data, len, &used);
        }
        if (rc < 0)
            return rc;
        data += used;
        len -= used;
    }
    return 0;
}

static int file_on_data(sk_conn *c, void *state, const uint8_t *data, size_t len)
{
    return file_session_input(c, state, data, len);
}

/* The queue of a GET being sent ran low: the next pieces. */
static int file_on_drain(sk_conn *c, void *state)
{
    file_session *s = state;
    return s->phase == PHASE_GET_SEND ? file_get_pump(c, s) : 0;
}

static int file_on_open(sk_conn *c, void *state)
{
    file_session *s = state;
    s->cfg = sk_conn_context(c);
    sk_frame_decoder_init(&s->dec, SK_FILE_CONTROL_MAX);
    if (!s->cfg || s->cfg->root_fd < 0)
        return -EINVAL; /* served without its configuration */
    s->phase = PHASE_HELLO;
    return 0;
}

static void file_on_close(sk_conn *c, void *state)
{
    file_session *s = state;
    (void)c;
    file_put_abandon(s);
    file_get_abandon(s);
    sk_hash_free(&s->whole);
    sk_hash_free(&s->down.whole);
    free(s->held);
    s->held = NULL;
    sk_frame_decoder_free(&s->dec);
    if (s->phase != PHASE_HELLO && s->hash == SK_HASH_SHA256)
        sk_hash_thread_cleanup(); /* the thread may end with this connection */
}

const sk_service sk_service_file = {
    .name = "file",
    .transports = SK_SERVICE_STREAM,
    .state_size = sizeof(file_session),
    .on_open = file_on_open,
    .on_data = file_on_data,
    .on_close = file_on_close,
    .on_drain = file_on_drain,
};
