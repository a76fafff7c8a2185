/* http: the static HTTP/1.1 server as a protocol state machine.
 *
 * Input is parsed where it lies (the model's buffer) and only an
 * incomplete request head is copied into the connection's own buffer, so
 * pipelined requests are answered straight from what one read delivered,
 * strictly in order. When queued output passes PENDING_CAP (a client that
 * pipelines requests but does not read) the connection is paused until
 * on_drain. Timeouts (sk_conn_set_timeout): the header timeout runs from
 * the first byte of a request head (and from the connection's start) and is
 * not extended by later bytes (slowloris); once a response is queued the
 * keep-alive timeout replaces it. Each connection keeps the file it served
 * last open for a moment (sk_http_cache, http_files.h), with a small file's
 * bytes, and that file's media type and validators (file_meta). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_access_log.h"
#include "http_date.h"
#include "http_files.h"
#include "http_listing.h"
#include "http_mime.h"
#include "http_parse.h"
#include "http_path.h"
#include "http_response.h"
#include "http_service.h"

enum {
    PENDING_CAP = 1024 * 1024,       /* stop reading requests above this much queued output */
    INPUT_CAP = 4 * 1024 * 1024,     /* unparsed input kept at most (paused pipelining) */
    PATH_BYTES = SK_HTTP_MAX_LINE + 1,
    URL_BYTES = 3 * SK_HTTP_MAX_LINE + 4,
};

typedef enum { TIMER_NONE, TIMER_HEADER, TIMER_KEEPALIVE } timer_kind;

/* What the response needs of the cached file besides its bytes, derived
 * once per cached file (type) and version (validators). */
typedef struct file_meta {
    unsigned long generation; /* of the cache entry; 0: none */
    const char *type;
    bool derived;             /* v is of st */
    struct stat st;
    sk_http_validators v;
} file_meta;

typedef struct http_conn {
    char *in;          /* unparsed input: an incomplete head, or requests held while paused */
    size_t in_len, in_cap;
    bool paused;       /* sk_conn_pause'd: too much output queued */
    bool done;         /* the last response asked for the connection's end */
    timer_kind timer;
    sk_http_cache cache; /* the file served last */
    file_meta meta;      /* of the cached file */
    time_t date_sec;   /* when date was formatted */
    char date[30];
} http_conn;

/* The Date value, formatted once a second per connection. */
static const char *date_now(http_conn *s)
{
    time_t now = time(NULL);
    if (now != s->date_sec || !s->date[0]) {
        sk_http_date_format(now, s->date);
        s->date_sec = now;
    }
    return s->date;
}

/* "/" + path (+ "/"), percent-encoded except '/' and unreserved characters. */
static void url_of_path(const char *path, bool slash, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    out[n++] = '/';
    for (const unsigned char *p = (const unsigned char *)path; *p && n + 5 < outlen; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p)) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    if (slash && path[0])
        out[n++] = '/';
    out[n] = '\0';
}

static int send_listing(sk_conn *c, sk_http_exchange *x, const sk_http_config *cfg, int dir_fd,
                        const char *path)
{
    char title[PATH_BYTES + 2];
    snprintf(title, sizeof title, "/%s%s", path, path[0] ? "/" : "");
    char *body;
    size_t len;
    int rc = sk_http_listing(dir_fd, title, cfg->dotfiles, &body, &len);
    if (rc < 0)
        return sk_http_send_error(c, x, rc == -EACCES ? 403 : 500, 0);
    rc = sk_http_send_body(c, x, "text/html; charset=utf-8", body, len);
    free(body);
    return rc;
}

/* A regular file: from the cache (its bytes, type and validators kept
 * while it is the same version) or just opened. */
static int send_file(sk_conn *c, http_conn *s, sk_http_exchange *x, const sk_http_config *cfg,
                     const sk_http_target *t, bool cached, const char *name)
{
    sk_http_file f = {.fd = t->fd, .st = &t->st};
    sk_http_validators v;
    if (!cached) {
        sk_http_validators_of(&t->st, &v);
        f.type = sk_http_mime_lookup(cfg->mime, name);
        f.v = &v;
        return sk_http_send_file(c, x, &f);
    }
    file_meta *m = &s->meta;
    if (m->generation != s->cache.generation) {
        m->generation = s->cache.generation;
        m->type = sk_http_mime_lookup(cfg->mime, name);
        m->derived = false;
    }
    if (!m->derived || !sk_http_same_version(&m->st, &t->st)) {
        sk_http_validators_of(&t->st, &m->v);
        m->st = t->st;
        m->derived = true;
    }
    f.type = m->type;
    f.v = &m->v;
    if (!x->head)
        f.bytes = sk_http_cache_bytes(&s->cache);
    return sk_http_send_file(c, x, &f);
}

/* A well-formed GET or HEAD for target: the file, index, listing or redirect. */
static int serve_target(sk_conn *c, http_conn *s, sk_http_exchange *x,
                        const sk_http_config *cfg, const sk_http_span *target)
{
    char path[PATH_BYTES];
    bool dir_form = false;
    int rc = sk_http_target_to_path(target->p, target->len, cfg->dotfiles, path, sizeof path,
                                    &dir_form);
    if (rc < 0)
        return sk_http_send_error(c, x, -rc, 0);
    sk_http_target t;
    bool cached;
    int status = sk_http_open_cached(&s->cache, cfg->root_fd, path, dir_form, &t, &cached);
    if (status != 0)
        return sk_http_send_error(c, x, status, 0);
    switch (t.kind) {
    case SK_HTTP_REDIRECT: {
        char url[URL_BYTES];
        url_of_path(path, true, url, sizeof url);
        return sk_http_send_redirect(c, x, url);
    }
    case SK_HTTP_LISTING: rc = send_listing(c, x, cfg, t.fd, path); break;
    case SK_HTTP_FILE:
        rc = send_file(c, s, x, cfg, &t, cached, dir_form ? "index.html" : path);
        break;
    }
    if (!cached)
        close(t.fd);
    return rc;
}

/* The request line of a parsed request, for the log. */
static sk_http_span request_line(const sk_http_request *req)
{
    const char *end = req->target.p + req->target.len + sizeof " HTTP/1.x" - 1;
    return (sk_http_span){req->method_text.p, (size_t)(end - req->method_text.p)};
}

/* The first line of unparsable input, for the log (bounded). */
static sk_http_span first_line(const char *p, size_t len)
{
    if (len > 1024)
        len = 1024;
    const char *nl = memchr(p, '\n', len);
    size_t n = nl ? (size_t)(nl - p) : len;
    if (n && p[n - 1] == '\r')
        n--;
    return (sk_http_span){p, n};
}

static void log_exchange(sk_conn *c, const sk_http_config *cfg, const sk_http_exchange *x,
                         sk_http_span line)
{
    if (cfg->access_log_fd < 0)
        return;
    const sk_http_span *referer = x->req ? sk_http_find(x->req, "Referer") : NULL;
    const sk_http_span *agent = x->req ? sk_http_find(x->req, "User-Agent") : NULL;
    sk_http_log_entry e = {
        .peer = sk_conn_peer(c),
        .request_line = line.len ? line.p : NULL,
        .request_line_len = line.len,
        .status = x->status,
        .body_bytes = x->body_bytes,
        .referer = referer ? referer->p : NULL,
        .referer_len = referer ? referer->len : 0,
        .user_agent = agent ? agent->p : NULL,
        .user_agent_len = agent ? agent->len : 0,
        .when = time(NULL),
    };
    sk_http_access_log_write(cfg->access_log_fd, &e);
}

/* Answer one parsed request. */
static int answer(sk_conn *c, http_conn *s, const sk_http_config *cfg, const sk_http_request *req)
{
    sk_http_exchange x = {.req = req, .head = req->method == SK_HTTP_HEAD,
                          .keep_alive = req->keep_alive, .version_minor = req->version_minor,
                          .date = date_now(s)};
    int rc;
    if (req->has_body) {
        x.keep_alive = false; /* the body is not read: the connection cannot go on */
        rc = sk_http_send_error(c, &x, 413, 0);
    } else if (req->method == SK_HTTP_OTHER) {
        rc = sk_http_send_error(c, &x, 405, 0);
    } else {
        rc = serve_target(c, s, &x, cfg, &req->target);
    }
    log_exchange(c, cfg, &x, request_line(req));
    if (!x.keep_alive) {
        s->done = true;
        sk_conn_close(c);
    }
    return rc;
}

/* A request head the parser refused: its status, then the end. */
static int refuse(sk_conn *c, http_conn *s, const sk_http_config *cfg, int status, const char *p,
                  size_t len)
{
    sk_http_exchange x = {.keep_alive = false, .version_minor = 1, .date = date_now(s)};
    int rc = sk_http_send_error(c, &x, status, 0);
    log_exchange(c, cfg, &x, first_line(p, len));
    s->done = true;
    sk_conn_close(c);
    return rc;
}

/* Answer every complete request in p[0..len) (until paused or done).
 * *used: bytes consumed. *answered: whether any response was queued. */
static int answer_all(sk_conn *c, http_conn *s, const char *p, size_t len, size_t *used,
                      bool *answered)
{
    const sk_http_config *cfg = sk_conn_context(c);
    sk_http_request req;
    size_t off = 0;
    int rc = 0;
    while (rc == 0 && off < len && !s->done && !s->paused) {
        int n = sk_http_parse_request(p + off, len - off, &req);
        if (n == 0)
            break;
        *answered = true;
        if (n < 0) {
            rc = refuse(c, s, cfg, -n, p + off, len - off);
            off = len;
            break;
        }
        rc = answer(c, s, cfg, &req);
        off += (size_t)n;
        if (rc == 0 && sk_conn_pending(c) > PENDING_CAP) {
            s->paused = true;
            sk_conn_pause(c);
        }
    }
    *used = off;
    return rc;
}

static int keep_input(http_conn *s, const char *p, size_t len)
{
    if (len == 0)
        return 0;
    if (s->in_len + len > INPUT_CAP)
        return -ENOBUFS;
    if (s->in_len + len > s->in_cap) {
        size_t cap = s->in_cap ? s->in_cap : 4096;
        while (cap < s->in_len + len)
            cap *= 2;
        char *in = realloc(s->in, cap);
        if (!in)
            return -ENOMEM;
        s->in = in;
        s->in_cap = cap;
    }
    memcpy(s->in + s->in_len, p, len);
    s->in_len += len;
    return 0;
}

static void arm(sk_conn *c, http_conn *s, timer_kind kind)
{
    const sk_http_config *cfg = sk_conn_context(c);
    int ms = kind == TIMER_HEADER ? cfg->header_timeout_ms
             : kind == TIMER_KEEPALIVE ? cfg->keepalive_timeout_ms : 0;
    if (kind == TIMER_NONE && s->timer == TIMER_NONE)
        return;
    sk_conn_set_timeout(c, ms); /* -EOPNOTSUPP in a model without timeouts: none then */
    s->timer = kind;
}

/* After input was handled: which timeout now runs. A new request's first
 * bytes start the header timeout; it is not restarted by more bytes of the
 * same head. After responses: keep-alive, or none while a large response
 * is still queued (on_drain re-arms). */
static void update_timer(sk_conn *c, http_conn *s, bool answered)
{
    if (s->done)
        return;
    if (s->paused)
        arm(c, s, TIMER_NONE);
    else if (s->in_len > 0 && (answered || s->timer != TIMER_HEADER))
        arm(c, s, TIMER_HEADER);
    else if (s->in_len == 0 && answered)
        arm(c, s, sk_conn_pending(c) > SK_CONN_LOW_WATER ? TIMER_NONE : TIMER_KEEPALIVE);
}

/* Answer what the connection's own buffer holds; keep the rest. */
static int answer_kept(sk_conn *c, http_conn *s, bool *answered)
{
    if (s->in_len == 0)
        return 0;
    size_t used = 0;
    int rc = answer_all(c, s, s->in, s->in_len, &used, answered);
    memmove(s->in, s->in + used, s->in_len - used);
    s->in_len -= used;
    return rc;
}

static int http_open(sk_conn *c, void *state)
{
    http_conn *s = state;
    arm(c, s, TIMER_HEADER);
    return 0;
}

static int http_data(sk_conn *c, void *state, const uint8_t *data, size_t len)
{
    http_conn *s = state;
    if (s->done)
        return 0; /* input after the last response: ignored */
    bool answered = false;
    int rc;
    if (s->in_len == 0) {
        size_t used = 0;
        rc = answer_all(c, s, (const char *)data, len, &used, &answered);
        if (rc == 0 && !s->done)
            rc = keep_input(s, (const char *)data + used, len - used);
    } else {
        rc = keep_input(s, (const char *)data, len);
        if (rc == 0)
            rc = answer_kept(c, s, &answered);
    }
    if (rc == 0)
        update_timer(c, s, answered);
    return rc;
}

static int http_drain(sk_conn *c, void *state)
{
    http_conn *s = state;
    bool answered = false;
    int rc = 0;
    if (s->paused) {
        s->paused = false;
        sk_conn_resume(c);
        rc = answer_kept(c, s, &answered);
        if (rc == 0)
            update_timer(c, s, answered);
    } else if (s->timer == TIMER_NONE && s->in_len == 0 && !s->done) {
        arm(c, s, TIMER_KEEPALIVE);
    }
    return rc;
}

static int http_eof(sk_conn *c, void *state)
{
    (void)state;
    sk_conn_close(c); /* an incomplete head is dropped; queued responses still go out */
    return 0;
}

static void http_close(sk_conn *c, void *state)
{
    (void)c;
    http_conn *s = state;
    free(s->in);
    s->in = NULL;
    sk_http_cache_clear(&s->cache);
}

const sk_service sk_service_http = {
    .name = "http",
    .transports = SK_SERVICE_STREAM,
    .state_size = sizeof(http_conn),
    .on_open = http_open,
    .on_data = http_data,
    .on_eof = http_eof,
    .on_close = http_close,
    .on_drain = http_drain,
};
