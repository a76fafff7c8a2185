/* HTTP request-target -> safe relative path: percent-decoding once, segment by
 * segment, refusing everything that could leave the root or hide a separator. */
#include <string.h>

#include "http_path.h"

typedef struct path_out {
    char *p;
    size_t cap, len; /* cap includes the NUL */
    bool dotfile;    /* a segment starting with '.' was seen */
} path_out;

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* s[0..len) starts with the lower-case literal lit, ASCII case-insensitively. */
static bool starts_with_icase(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + ('a' - 'A'));
        if (c != lit[i])
            return false;
    }
    return true;
}

/* Strip "http://authority" or "https://authority" from an absolute-form target.
 * Returns the offset of the path (== len or at '?' when the path is empty), or
 * -400 for another scheme, an empty authority or userinfo. */
static long skip_scheme_authority(const char *t, size_t len)
{
    size_t i;
    if (starts_with_icase(t, len, "http://"))
        i = 7;
    else if (starts_with_icase(t, len, "https://"))
        i = 8;
    else
        return -400;
    size_t start = i;
    while (i < len && t[i] != '/' && t[i] != '?') {
        unsigned char c = (unsigned char)t[i];
        if (c == '@' || c == '\\' || c == '#' || c <= 0x20 || c == 0x7f)
            return -400;
        i++;
    }
    if (i == start)
        return -400;
    return (long)i;
}

/* Decode one raw segment s[0..len) and append it (after a '/' unless first) to
 * out. "" and "." are skipped. Returns 0, 1 when the segment was ".", or -status. */
static int add_segment(const char *s, size_t len, path_out *out)
{
    size_t mark = out->len;
    if (mark > 0) {
        if (out->len + 1 >= out->cap)
            return -414;
        out->p[out->len++] = '/';
    }
    size_t start = out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -400;
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -400;
            c = (unsigned char)(hi << 4 | lo);
            if (c == 0 || c == '/' || c == '\\' || is_control(c))
                return -400;
            i += 2;
        } else if (c == '\\' || c == '#' || c == ' ' || is_control(c)) {
            return -400;
        }
        if (out->len + 1 >= out->cap)
            return -414;
        out->p[out->len++] = (char)c;
    }
    const char *seg = out->p + start;
    size_t n = out->len - start;
    if (n == 2 && seg[0] == '.' && seg[1] == '.')
        return -400;
    if (n == 0 || (n == 1 && seg[0] == '.')) {
        out->len = mark; /* removed: "//" or "." */
        return n == 1;
    }
    if (seg[0] == '.')
        out->dotfile = true;
    return 0;
}

int sk_http_target_to_path(const char *target, size_t len, bool allow_dotfiles, char *out, size_t outlen,
                           bool *is_dir_form)
{
    path_out o = { out, outlen, 0, false };
    if (outlen > 0)
        out[0] = '\0';
    if (outlen == 0)
        return -414;
    if (memchr(target, '#', len))
        return -400;
    size_t pos = 0;
    if (len == 0 || target[0] != '/') {
        long p = skip_scheme_authority(target, len);
        if (p < 0)
            return (int)p;
        pos = (size_t)p;
    }
    const char *q = memchr(target + pos, '?', len - pos);
    size_t end = q ? (size_t)(q - target) : len;
    bool dir = true; /* an empty path names the root */
    while (pos < end) {
        pos++; /* the '/' */
        const char *slash = memchr(target + pos, '/', end - pos);
        size_t seg_end = slash ? (size_t)(slash - target) : end;
        int r = add_segment(target + pos, seg_end - pos, &o);
        if (r < 0) {
            out[0] = '\0';
            return r;
        }
        dir = seg_end == end ? (r == 1 || seg_end == pos) : dir;
        pos = seg_end;
    }
    o.p[o.len] = '\0';
    if (o.dotfile && !allow_dotfiles) {
        out[0] = '\0';
        return -404;
    }
    if (is_dir_form)
        *is_dir_form = dir;
    return 0;
}
