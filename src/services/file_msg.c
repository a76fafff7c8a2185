/* File transfer control messages: JSON objects in frames, via cJSON. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_msg.h"
#include "file_names.h"
#include "sockkit/frame.h"

static int why_set(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int why_set(char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return -EPROTO;
}

cJSON *sk_file_msg_new(const char *op)
{
    cJSON *m = cJSON_CreateObject();
    if (m && !cJSON_AddStringToObject(m, "op", op)) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

cJSON *sk_file_msg_error(const char *code, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    sk_file_text_sanitize(text); /* names from peers may not be UTF-8 */
    cJSON *m = sk_file_msg_new("error");
    if (m && (!cJSON_AddStringToObject(m, "code", code) ||
              !cJSON_AddStringToObject(m, "message", text))) {
        cJSON_Delete(m);
        m = NULL;
    }
    free(text);
    return m;
}

/* Integers go out as raw JSON text: exact, never in exponent form. */
static int add_integer_text(cJSON *m, const char *key, const char *text)
{
    return cJSON_AddRawToObject(m, key, text) ? 0 : -ENOMEM;
}

int sk_file_msg_add_u64(cJSON *m, const char *key, uint64_t v)
{
    if (v > (uint64_t)SK_FILE_INT_MAX)
        return -ERANGE;
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, v);
    return add_integer_text(m, key, text);
}

int sk_file_msg_add_i64(cJSON *m, const char *key, int64_t v)
{
    if (v > SK_FILE_INT_MAX || v < -SK_FILE_INT_MAX)
        return -ERANGE;
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, v);
    return add_integer_text(m, key, text);
}

int sk_file_msg_add_digests(cJSON *m, const char *key, const sk_digest_hex *d, size_t n)
{
    cJSON *arr = cJSON_AddArrayToObject(m, key);
    if (!arr)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        cJSON *s = cJSON_CreateString(d[i].hex);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            return -ENOMEM;
        }
    }
    return 0;
}

int sk_file_msg_add_entry(cJSON *entries, const sk_file_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return -ENOMEM;
    int rc = cJSON_AddStringToObject(o, "name", e->name) &&
                     cJSON_AddStringToObject(o, "type", sk_file_type_name(e->type))
                 ? 0
                 : -ENOMEM;
    if (rc == 0 && e->type == SK_FTYPE_FILE)
        rc = sk_file_msg_add_u64(o, "size", e->size);
    if (rc == 0 && e->type != SK_FTYPE_SYMLINK)
        rc = sk_file_msg_add_u64(o, "mode", e->mode);
    if (rc == 0 && e->type == SK_FTYPE_SYMLINK)
        rc = cJSON_AddStringToObject(o, "target", e->target ? e->target : "") ? 0 : -ENOMEM;
    if (rc == 0)
        rc = sk_file_msg_add_i64(o, "mtime", e->mtime);
    if (rc == 0 && !cJSON_AddItemToArray(entries, o))
        rc = -ENOMEM;
    if (rc < 0)
        cJSON_Delete(o);
    return rc;
}

/* The compact JSON of m, malloc'd; its length in *len. */
static int print_json(const cJSON *m, char **json, size_t *len)
{
    *json = cJSON_PrintUnformatted((cJSON *)m);
    if (!*json)
        return -ENOMEM;
    *len = strlen(*json);
    if (*len > SK_FILE_CONTROL_MAX) {
        cJSON_free(*json);
        return -EMSGSIZE;
    }
    return 0;
}

int sk_file_msg_encode_into(const cJSON *m, uint8_t *buf, size_t cap, size_t *len)
{
    char *json;
    size_t n;
    int rc = print_json(m, &json, &n);
    if (rc < 0)
        return rc;
    if (n + SK_FRAME_HEADER_SIZE > cap) {
        cJSON_free(json);
        return -EMSGSIZE;
    }
    sk_frame_header_encode(buf, (uint32_t)n);
    memcpy(buf + SK_FRAME_HEADER_SIZE, json, n);
    *len = n + SK_FRAME_HEADER_SIZE;
    cJSON_free(json);
    return 0;
}

int sk_file_msg_encode(const cJSON *m, uint8_t **frame, size_t *len)
{
    char *json;
    size_t n;
    int rc = print_json(m, &json, &n);
    if (rc < 0)
        return rc;
    *frame = malloc(n + SK_FRAME_HEADER_SIZE);
    if (!*frame) {
        cJSON_free(json);
        return -ENOMEM;
    }
    sk_frame_header_encode(*frame, (uint32_t)n);
    memcpy(*frame + SK_FRAME_HEADER_SIZE, json, n);
    *len = n + SK_FRAME_HEADER_SIZE;
    cJSON_free(json);
    return 0;
}

/* Strings must not hold NUL ("\u0000": cJSON would cut them short, so
 * "a\u0000b" would pass as "a") nor raw control bytes. */
static int scan_strings(const uint8_t *p, size_t len, char *why, size_t whylen)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == 0)
            return why_set(why, whylen, "a NUL byte in the message");
        if (!in_string) {
            in_string = p[i] == '"';
            continue;
        }
        if (p[i] < 0x20)
            return why_set(why, whylen, "a raw control character in a string");
        if (p[i] == '"') {
            in_string = false;
        } else if (p[i] == '\\' && i + 1 < len) {
            if (p[i + 1] == 'u' && i + 5 < len && !memcmp(p + i + 2, "0000", 4)) {
                if (why && whylen)
                    snprintf(why, whylen, "a string contains a NUL character (\\u0000)");
                return -EILSEQ;
            }
            i++;
        }
    }
    return 0;
}

int sk_file_msg_parse(const uint8_t *payload, size_t len, cJSON **out, const char **op,
                      char *why, size_t whylen)
{
    *out = NULL;
    *op = NULL;
    if (len > SK_FILE_CONTROL_MAX)
        return why_set(why, whylen, "control message larger than 1 MiB");
    int rc = scan_strings(payload, len, why, whylen);
    if (rc < 0)
        return rc;
    const char *end = NULL;
    cJSON *m = cJSON_ParseWithLengthOpts((const char *)payload, len, &end, 0);
    if (!m)
        return why_set(why, whylen, "not JSON");
    while (end && end < (const char *)payload + len &&
           (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (!cJSON_IsObject(m) || end != (const char *)payload + len) {
        cJSON_Delete(m);
        return why_set(why, whylen, "not one JSON object");
    }
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(m, "op");
    if (!cJSON_IsString(o)) {
        cJSON_Delete(m);
        return why_set(why, whylen, "no string \"op\" member");
    }
    *out = m;
    *op = o->valuestring;
    return 0;
}

int sk_file_msg_get_string(const cJSON *m, const char *key, const char **out, char *why,
                           size_t whylen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    if (!v)
        return 0;
    if (!cJSON_IsString(v))
        return why_set(why, whylen, "'%s' must be a string", key);
    *out = v->valuestring;
    return 1;
}

/* A JSON number that is a whole number within +-SK_FILE_INT_MAX. */
static int get_integer(const cJSON *m, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    if (!v)
        return 0;
    double d = v->valuedouble;
    if (!cJSON_IsNumber(v) || d != floor(d) || fabs(d) > (double)SK_FILE_INT_MAX)
        return -EPROTO;
    *out = d;
    return 1;
}

int sk_file_msg_get_u64(const cJSON *m, const char *key, uint64_t *out, char *why, size_t whylen)
{
    double d = 0;
    int rc = get_integer(m, key, &d);
    if (rc < 0 || (rc > 0 && d < 0))
        return why_set(why, whylen, "'%s' must be a non-negative integer", key);
    if (rc > 0)
        *out = (uint64_t)d;
    return rc;
}

int sk_file_msg_get_i64(const cJSON *m, const char *key, int64_t *out, char *why, size_t whylen)
{
    double d = 0;
    int rc = get_integer(m, key, &d);
    if (rc < 0)
        return why_set(why, whylen, "'%s' must be an integer", key);
    if (rc > 0)
        *out = (int64_t)d;
    return rc;
}

int sk_file_msg_get_bool(const cJSON *m, const char *key, bool *out, char *why, size_t whylen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    if (!v)
        return 0;
    if (!cJSON_IsBool(v))
        return why_set(why, whylen, "'%s' must be true or false", key);
    *out = cJSON_IsTrue(v);
    return 1;
}

int sk_file_msg_get_digests(const cJSON *m, const char *key, sk_hash_kind kind,
                            sk_digest_hex **out, size_t *n, char *why, size_t whylen)
{
    *out = NULL;
    *n = 0;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(m, key);
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr))
        return why_set(why, whylen, "'%s' must be an array of digests", key);
    int count = cJSON_GetArraySize(arr);
    if (count > (int)SK_FILE_MAX_DIGESTS)
        return why_set(why, whylen, "'%s' has more than %u digests", key, SK_FILE_MAX_DIGESTS);
    if (count == 0)
        return 1;
    sk_digest_hex *d = malloc((size_t)count * sizeof *d);
    if (!d)
        return -ENOMEM;
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr) {
        if (!cJSON_IsString(item) || !sk_hash_hex_valid(kind, item->valuestring)) {
            free(d);
            return why_set(why, whylen, "'%s' must hold %s digests (%zu lowercase hex digits)",
                           key, sk_hash_name(kind), sk_hash_hex_len(kind));
        }
        memcpy(d[i++].hex, item->valuestring, sk_hash_hex_len(kind) + 1);
    }
    *out = d;
    *n = i;
    return 1;
}

int sk_file_msg_parse_entry(const cJSON *item, sk_file_entry *e, char *why, size_t whylen)
{
    memset(e, 0, sizeof *e);
    const char *name = NULL, *type = NULL, *target = NULL;
    if (!cJSON_IsObject(item))
        return why_set(why, whylen, "a listing entry must be an object");
    if (sk_file_msg_get_string(item, "name", &name, why, whylen) != 1 ||
        sk_file_msg_get_string(item, "type", &type, why, whylen) != 1)
        return why_set(why, whylen, "a listing entry needs string 'name' and 'type'");
    if (sk_file_type_parse(type, &e->type) < 0)
        return why_set(why, whylen, "unknown entry type '%.40s'", type);
    uint64_t mode = 0;
    int rc;
    if ((rc = sk_file_msg_get_u64(item, "size", &e->size, why, whylen)) < 0 ||
        (rc == 0 && e->type == SK_FTYPE_FILE))
        return why_set(why, whylen, "file entry '%.200s' needs a 'size'", name);
    if (sk_file_msg_get_u64(item, "mode", &mode, why, whylen) < 0 || mode > 07777)
        return why_set(why, whylen, "entry '%.200s': bad 'mode'", name);
    if (sk_file_msg_get_i64(item, "mtime", &e->mtime, why, whylen) < 0)
        return -EPROTO;
    if ((rc = sk_file_msg_get_string(item, "target", &target, why, whylen)) < 0 ||
        (rc == 0 && e->type == SK_FTYPE_SYMLINK))
        return why_set(why, whylen, "symlink entry '%.200s' needs a 'target'", name);
    e->mode = (uint32_t)mode;
    e->name = (char *)name;
    e->target = e->type == SK_FTYPE_SYMLINK ? (char *)target : NULL;
    return 0;
}

const char *sk_file_errcode(int err)
{
    switch (-err) {
    case ENOSPC: case EFBIG: case EDQUOT: return "nospace";
    case EEXIST: case ENOTEMPTY: return "exists";
    case ENOENT: case ENOTDIR: return "notfound";
    case EISDIR: return "isdir";
    case EXDEV: case ELOOP: case ENAMETOOLONG: case EILSEQ: return "badname";
    case EPROTO: case EMSGSIZE: return "protocol";
    default: return "io";
    }
}

int sk_file_msg_send(sk_sock *s, const cJSON *m, int timeout_ms)
{
    char *json;
    size_t n;
    int rc = print_json(m, &json, &n);
    if (rc < 0)
        return rc;
    rc = sk_frame_send(s, json, n, timeout_ms);
    cJSON_free(json);
    return rc;
}

int sk_file_msg_recv(sk_sock *s, cJSON **out, const char **op, char *why, size_t whylen,
                     int timeout_ms)
{
    void *payload = NULL;
    size_t len = 0;
    *out = NULL;
    *op = NULL;
    int rc = sk_frame_recv(s, SK_FILE_CONTROL_MAX, &payload, &len, timeout_ms);
    if (rc <= 0) {
        if (rc == -EPROTO)
            why_set(why, whylen, "the stream ended inside a message");
        else if (rc == -EMSGSIZE)
            why_set(why, whylen, "control message larger than 1 MiB");
        return rc;
    }
    rc = sk_file_msg_parse(payload, len, out, op, why, whylen);
    free(payload);
    return rc < 0 ? rc : 1;
}
