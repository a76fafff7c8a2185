/* The file transfer client session: connecting, the hello handshake, and
 * sending and receiving control messages with errors in words. The
 * requests are in file_upload.c, file_download.c and file_listing.c. */
#include "file_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "file_msg.h"
#include "sockkit/error.h"

void sk_file_client_init(sk_file_client *c, const char *cmd, const sk_endpoint *ep,
                         sk_hash_kind hash, int timeout_ms, bool verbose, bool quiet, bool resume)
{
    *c = (sk_file_client){.cmd = cmd, .ep = *ep, .hash = hash, .timeout_ms = timeout_ms,
                          .verbose = verbose, .quiet = quiet, .resume = resume,
                          .sock = {.fd = -1}};
    mode_t mask = umask(0);
    umask(mask);
    c->umask = (unsigned)mask;
    sk_progress_init(&c->progress, cmd, verbose, quiet);
}

static int vfail(sk_file_client *c, int err, const char *fmt, va_list ap)
{
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    return err < 0 ? err : -EIO;
}

int sk_file_client_fail(sk_file_client *c, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, err, fmt, ap);
    va_end(ap);
    return rc;
}

int sk_file_client_break(sk_file_client *c, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, err, fmt, ap);
    va_end(ap);
    sk_file_client_close(c);
    return rc;
}

void sk_file_client_report(const sk_file_client *c)
{
    if (!c->quiet)
        fprintf(stderr, "sk: %s: %s\n", c->cmd, c->err);
}

void sk_file_client_close(sk_file_client *c)
{
    sk_sock_close(&c->sock);
    c->sock.fd = -1;
}

/* "NAME: " or "" for messages about the session itself. */
static const char *sep(const char *name)
{
    return name[0] ? ": " : "";
}

/* A transport failure while talking about name. */
static int transport_failure(sk_file_client *c, const char *name, int rc, const char *why)
{
    if (rc == 0)
        return sk_file_client_break(c, -ECONNRESET, "%s%sthe server closed the connection",
                                    name, sep(name));
    if (rc == -ETIMEDOUT)
        return sk_file_client_break(c, rc, "%s%sno answer from the server in %.3g s", name,
                                    sep(name), c->timeout_ms / 1000.0);
    if (rc == -EPROTO && why && why[0])
        return sk_file_client_break(c, rc, "%s%sprotocol error: %s", name, sep(name), why);
    return sk_file_client_break(c, rc, "%s%s%s", name, sep(name), sk_strerror(rc));
}

int sk_file_client_send(sk_file_client *c, const cJSON *m, const char *name)
{
    if (c->sock.fd < 0)
        return sk_file_client_fail(c, -ENOTCONN, "%s%snot connected", name, sep(name));
    int rc = sk_file_msg_send(&c->sock, m, c->timeout_ms);
    return rc < 0 ? transport_failure(c, name, rc, NULL) : 0;
}

/* Protocol error codes and the errno a failure returns for each. */
static const struct {
    const char *code;
    int err;
    const char *words;
} error_codes[] = {
    {"version", -EPROTONOSUPPORT, "the server does not speak this protocol version or hash"},
    {"protocol", -EPROTO, "the server refused a malformed or unexpected message"},
    {"badname", -EINVAL, "name refused by the server"},
    {"exists", -EEXIST, "exists on the server"},
    {"toolarge", -EFBIG, "larger than the server accepts"},
    {"nospace", -ENOSPC, "no space left on device"},
    {"io", -EIO, "I/O error on the server"},
    {"notfound", -ENOENT, "not found on the server"},
    {"isdir", -EISDIR, "is a directory"},
    {"notfile", -EINVAL, "neither a file, a directory nor a link"},
    {"digest", -EBADMSG, "digest mismatch: the server received other bytes (partial removed)"},
};

/* Turn an "error" message into c->err. The connection stays open unless
 * the server closes it (version, protocol). */
static int server_error(sk_file_client *c, const char *name, const cJSON *m)
{
    const char *code = "io", *message = NULL;
    char why[256];
    sk_file_msg_get_string(m, "code", &code, why, sizeof why);
    sk_file_msg_get_string(m, "message", &message, why, sizeof why);
    int err = -EIO;
    const char *words = code;
    for (size_t i = 0; i < sizeof error_codes / sizeof error_codes[0]; i++)
        if (!strcmp(code, error_codes[i].code)) {
            err = error_codes[i].err;
            words = error_codes[i].words;
        }
    if (err == -EPROTONOSUPPORT || err == -EPROTO)
        sk_file_client_close(c);
    if (!message || !message[0])
        return sk_file_client_fail(c, err, "%s%s%s", name, sep(name), words);
    size_t n = strlen(name);
    /* The server's message usually starts with the name already. */
    if (n && !strncmp(message, name, n) && (message[n] == ' ' || message[n] == ':'))
        return sk_file_client_fail(c, err, "%s", message);
    return sk_file_client_fail(c, err, "%s%s%s", name, sep(name), message);
}

int sk_file_client_recv(sk_file_client *c, const char *name, cJSON **m, const char **op)
{
    char why[512] = "";
    if (c->sock.fd < 0)
        return sk_file_client_fail(c, -ENOTCONN, "%s%snot connected", name, sep(name));
    int rc = sk_file_msg_recv(&c->sock, m, op, why, sizeof why, c->timeout_ms);
    if (rc <= 0)
        return transport_failure(c, name, rc, why);
    if (strcmp(*op, "error"))
        return 0;
    rc = server_error(c, name, *m);
    cJSON_Delete(*m);
    *m = NULL;
    return rc;
}

const char *sk_file_client_local_error(int err)
{
    if (err == -EXDEV || err == -ELOOP)
        return "a link on the way leads outside the output directory (refused)";
    return sk_strerror(err);
}

int sk_file_client_unexpected(sk_file_client *c, const char *name, const char *op,
                              const char *why)
{
    if (why && why[0])
        return sk_file_client_break(c, -EPROTO, "%s%sbad \"%s\" answer from the server: %s",
                                    name, sep(name), op, why);
    return sk_file_client_break(c, -EPROTO, "%s%sunexpected \"%s\" answer from the server", name,
                                sep(name), op);
}

static int send_hello(sk_file_client *c)
{
    cJSON *m = sk_file_msg_new("hello");
    if (!m || sk_file_msg_add_i64(m, "version", SK_FILE_VERSION) < 0 ||
        !cJSON_AddStringToObject(m, "hash", sk_hash_name(c->hash))) {
        cJSON_Delete(m);
        return sk_file_client_break(c, -ENOMEM, "%s", sk_strerror(-ENOMEM));
    }
    int rc = sk_file_client_send(c, m, "");
    cJSON_Delete(m);
    return rc;
}

/* The server's hello must agree on version, hash and chunk size. */
static int check_hello(sk_file_client *c, const cJSON *m)
{
    char why[256] = "";
    int64_t version = 0;
    uint64_t chunk = 0;
    const char *hash = "", *server = "?";
    if (sk_file_msg_get_i64(m, "version", &version, why, sizeof why) != 1 ||
        sk_file_msg_get_string(m, "hash", &hash, why, sizeof why) != 1 ||
        sk_file_msg_get_u64(m, "chunk", &chunk, why, sizeof why) != 1 ||
        sk_file_msg_get_string(m, "server", &server, why, sizeof why) < 0)
        return sk_file_client_unexpected(c, "", "hello", why[0] ? why : "a member is missing");
    if (version != SK_FILE_VERSION || strcmp(hash, sk_hash_name(c->hash)))
        return sk_file_client_break(c, -EPROTONOSUPPORT,
                                    "the server answered version %lld with hash %s; this client "
                                    "speaks version %d with %s",
                                    (long long)version, hash, SK_FILE_VERSION,
                                    sk_hash_name(c->hash));
    if (chunk != SK_FILE_CHUNK)
        return sk_file_client_break(c, -EPROTONOSUPPORT,
                                    "the server uses chunks of %llu bytes; this client uses %u",
                                    (unsigned long long)chunk, SK_FILE_CHUNK);
    if (c->verbose) {
        char peer[SK_ADDRSTRLEN] = "?";
        sk_sock_peer_name(&c->sock, peer, sizeof peer);
        fprintf(stderr, "sk: %s: connected to %s (%.64s, %s)\n", c->cmd, peer, server, hash);
    }
    return 0;
}

static int handshake(sk_file_client *c)
{
    int rc = send_hello(c);
    if (rc < 0)
        return rc;
    cJSON *m;
    const char *op;
    if ((rc = sk_file_client_recv(c, "", &m, &op)) < 0) {
        sk_file_client_close(c); /* an error answer to hello ends the session */
        return rc;
    }
    rc = strcmp(op, "hello") ? sk_file_client_unexpected(c, "", op, NULL) : check_hello(c, m);
    cJSON_Delete(m);
    return rc;
}

int sk_file_client_connect(sk_file_client *c)
{
    if (c->sock.fd >= 0)
        return 0;
    char err[SK_ERRBUF_SIZE] = "";
    int rc = sk_sock_connect(&c->sock, &c->ep, SOCK_STREAM, c->timeout_ms, err, sizeof err);
    if (rc < 0) {
        c->sock.fd = -1;
        return sk_file_client_fail(c, rc, "%s", err[0] ? err : sk_strerror(rc));
    }
    sk_sock_set_nodelay(&c->sock, true);
    sk_sock_settimeout(&c->sock, c->timeout_ms);
    return handshake(c);
}
