/* Encoding and decoding of the exec protocol's messages (docs/exec.md). */
#include "exec_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sockkit/frame.h"

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t sk_exec_encode_simple(uint8_t *out, uint8_t type, const void *body, size_t len)
{
    sk_frame_header_encode(out, (uint32_t)(len + 1));
    out[SK_FRAME_HEADER_SIZE] = type;
    if (len)
        memcpy(out + SK_FRAME_HEADER_SIZE + 1, body, len);
    return SK_FRAME_HEADER_SIZE + 1 + len;
}

void sk_exec_encode_data_header(uint8_t out[SK_EXEC_DATA_HEADER], uint8_t type, size_t len)
{
    sk_frame_header_encode(out, (uint32_t)(len + 1));
    out[SK_FRAME_HEADER_SIZE] = type;
}

size_t sk_exec_encode_challenge(uint8_t *out, const uint8_t nonce[SK_EXEC_NONCE_SIZE])
{
    uint8_t body[1 + SK_EXEC_NONCE_SIZE];
    body[0] = SK_EXEC_VERSION;
    memcpy(body + 1, nonce, SK_EXEC_NONCE_SIZE);
    return sk_exec_encode_simple(out, SK_EXEC_CHALLENGE, body, sizeof body);
}

size_t sk_exec_encode_auth(uint8_t *out, const uint8_t client_nonce[SK_EXEC_NONCE_SIZE],
                           const uint8_t mac[SK_EXEC_MAC_SIZE])
{
    uint8_t body[SK_EXEC_NONCE_SIZE + SK_EXEC_MAC_SIZE];
    memcpy(body, client_nonce, SK_EXEC_NONCE_SIZE);
    memcpy(body + SK_EXEC_NONCE_SIZE, mac, SK_EXEC_MAC_SIZE);
    return sk_exec_encode_simple(out, SK_EXEC_AUTH, body, sizeof body);
}

int sk_exec_decode_challenge(const uint8_t *p, size_t len, uint8_t nonce[SK_EXEC_NONCE_SIZE])
{
    if (len != 2 + SK_EXEC_NONCE_SIZE || p[0] != SK_EXEC_CHALLENGE || p[1] != SK_EXEC_VERSION)
        return -EPROTO;
    memcpy(nonce, p + 2, SK_EXEC_NONCE_SIZE);
    return 0;
}

int sk_exec_decode_auth(const uint8_t *p, size_t len, uint8_t client_nonce[SK_EXEC_NONCE_SIZE],
                        uint8_t mac[SK_EXEC_MAC_SIZE])
{
    if (len != 1 + SK_EXEC_NONCE_SIZE + SK_EXEC_MAC_SIZE || p[0] != SK_EXEC_AUTH)
        return -EPROTO;
    memcpy(client_nonce, p + 1, SK_EXEC_NONCE_SIZE);
    memcpy(mac, p + 1 + SK_EXEC_NONCE_SIZE, SK_EXEC_MAC_SIZE);
    return 0;
}

size_t sk_exec_encode_started(uint8_t *out, uint32_t pid)
{
    uint8_t body[4];
    put_u32(body, pid);
    return sk_exec_encode_simple(out, SK_EXEC_STARTED, body, sizeof body);
}

int sk_exec_decode_started(const uint8_t *p, size_t len, uint32_t *pid)
{
    if (len != 5 || p[0] != SK_EXEC_STARTED)
        return -EPROTO;
    *pid = get_u32(p + 1);
    return 0;
}

size_t sk_exec_encode_exit(uint8_t *out, const sk_exec_exit *e)
{
    uint8_t body[3] = {e->how, e->value, e->flags};
    return sk_exec_encode_simple(out, SK_EXEC_EXIT, body, sizeof body);
}

int sk_exec_decode_exit(const uint8_t *p, size_t len, sk_exec_exit *e)
{
    if (len != 4 || p[0] != SK_EXEC_EXIT || p[1] > SK_EXEC_SIGNALED)
        return -EPROTO;
    *e = (sk_exec_exit){.how = p[1], .value = p[2], .flags = p[3]};
    return 0;
}

size_t sk_exec_encode_error(uint8_t *out, uint8_t code, const char *message)
{
    uint8_t body[1 + 1000];
    size_t n = strnlen(message, 1000);
    body[0] = code;
    memcpy(body + 1, message, n);
    return sk_exec_encode_simple(out, SK_EXEC_ERROR, body, 1 + n);
}

int sk_exec_decode_error(const uint8_t *p, size_t len, uint8_t *code, char *msg, size_t msglen)
{
    if (len < 2 || p[0] != SK_EXEC_ERROR || msglen == 0)
        return -EPROTO;
    *code = p[1];
    size_t n = len - 2 < msglen - 1 ? len - 2 : msglen - 1;
    memcpy(msg, p + 2, n);
    msg[n] = '\0';
    for (size_t i = 0; i < n; i++) /* words only: no control bytes reach a terminal */
        if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
            msg[i] = '?';
    return 0;
}

/* --- requests --- */

static size_t string_size(const char *s)
{
    return 4 + strlen(s);
}

static uint8_t *put_string(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    put_u32(p, (uint32_t)n);
    memcpy(p + 4, s, n);
    return p + 4 + n;
}

/* The payload size of r, or 0 when r breaks the limits. */
static size_t request_size(const sk_exec_request *r)
{
    if (r->argc < 1 || r->argc > SK_EXEC_ARGS_MAX || r->envc > SK_EXEC_ENV_MAX)
        return 0;
    size_t n = 1 + 1 + 4 + string_size(r->cwd ? r->cwd : "") + 2 + 2;
    for (size_t i = 0; i < r->argc; i++)
        n += string_size(r->argv[i]);
    for (size_t i = 0; i < r->envc; i++) {
        if (!strchr(r->env[i], '=') || r->env[i][0] == '=')
            return 0;
        n += string_size(r->env[i]);
    }
    return n > SK_EXEC_FRAME_MAX ? 0 : n;
}

int sk_exec_encode_request(const sk_exec_request *r, uint8_t **out, size_t *len)
{
    size_t n = request_size(r);
    if (n == 0)
        return -EINVAL;
    uint8_t *buf = malloc(SK_FRAME_HEADER_SIZE + n);
    if (!buf)
        return -ENOMEM;
    uint8_t *p = buf;
    sk_frame_header_encode(p, (uint32_t)n);
    p += SK_FRAME_HEADER_SIZE;
    *p++ = SK_EXEC_REQUEST;
    *p++ = r->flags;
    put_u32(p, r->timeout_ms);
    p += 4;
    p = put_string(p, r->cwd ? r->cwd : "");
    *p++ = (uint8_t)(r->argc >> 8);
    *p++ = (uint8_t)r->argc;
    for (size_t i = 0; i < r->argc; i++)
        p = put_string(p, r->argv[i]);
    *p++ = (uint8_t)(r->envc >> 8);
    *p++ = (uint8_t)r->envc;
    for (size_t i = 0; i < r->envc; i++)
        p = put_string(p, r->env[i]);
    *out = buf;
    *len = SK_FRAME_HEADER_SIZE + n;
    return 0;
}

/* A cursor over a payload being decoded. */
typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

static int read_u16(reader *rd, size_t *v)
{
    if (rd->left < 2)
        return -EPROTO;
    *v = (size_t)rd->p[0] << 8 | rd->p[1];
    rd->p += 2;
    rd->left -= 2;
    return 0;
}

/* A string into a new malloc'd NUL-ended copy. */
static int read_string(reader *rd, char **out)
{
    if (rd->left < 4)
        return -EPROTO;
    uint32_t n = get_u32(rd->p);
    if (n > rd->left - 4 || memchr(rd->p + 4, 0, n))
        return -EPROTO;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return -ENOMEM;
    memcpy(s, rd->p + 4, n);
    s[n] = '\0';
    rd->p += 4 + (size_t)n;
    rd->left -= 4 + (size_t)n;
    *out = s;
    return 0;
}

/* A u16 count, at most max (and at least min), then that many strings into
 * a new NULL-ended array. */
static int read_strings(reader *rd, size_t min, size_t max, size_t *count, char ***out)
{
    size_t n;
    if (read_u16(rd, &n) < 0 || n < min || n > max || n > rd->left / 4)
        return -EPROTO;
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return -ENOMEM;
    *out = v;
    *count = n;
    for (size_t i = 0; i < n; i++) {
        int rc = read_string(rd, &v[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static bool env_entry_ok(const char *e)
{
    return e[0] != '=' && strchr(e, '=') != NULL;
}

int sk_exec_decode_request(const uint8_t *p, size_t len, sk_exec_request *r)
{
    memset(r, 0, sizeof *r);
    if (len < 6 || p[0] != SK_EXEC_REQUEST)
        return -EPROTO;
    reader rd = {p + 6, len - 6};
    r->flags = p[1];
    r->timeout_ms = get_u32(p + 2);
    int rc = read_string(&rd, &r->cwd);
    if (rc == 0)
        rc = read_strings(&rd, 1, SK_EXEC_ARGS_MAX, &r->argc, &r->argv);
    if (rc == 0)
        rc = read_strings(&rd, 0, SK_EXEC_ENV_MAX, &r->envc, &r->env);
    if (rc == 0 && (rd.left != 0 || r->flags != 0 || r->argv[0][0] == '\0'))
        rc = -EPROTO;
    for (size_t i = 0; rc == 0 && i < r->envc; i++)
        if (!env_entry_ok(r->env[i]))
            rc = -EPROTO;
    if (rc < 0)
        sk_exec_request_free(r);
    return rc;
}

static void free_strings(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void sk_exec_request_free(sk_exec_request *r)
{
    free(r->cwd);
    free_strings(r->argv, r->argc);
    free_strings(r->env, r->envc);
    memset(r, 0, sizeof *r);
}
