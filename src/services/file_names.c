/* File transfer names: the rules every name from a peer must pass. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "file_names.h"

static int fail(char *why, size_t whylen, const char *name, const char *what)
{
    if (why && whylen)
        snprintf(why, whylen, "'%.200s%s': %s", name, strlen(name) > 200 ? "..." : "", what);
    return -EINVAL;
}

/* Length of the UTF-8 sequence at s (1-4), or 0 when it is not valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_sequence(const unsigned char *s)
{
    unsigned char b = s[0];
    if (b < 0x80)
        return 1;
    size_t n;
    uint32_t cp, min;
    if ((b & 0xe0) == 0xc0) {
        n = 2, cp = b & 0x1f, min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
        n = 3, cp = b & 0x0f, min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
        n = 4, cp = b & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* One component [s, s + len): not empty, not "." or "..", short enough. */
static const char *component_problem(const char *s, size_t len)
{
    if (len == 0)
        return "empty component (a leading, trailing or doubled '/')";
    if (len == 1 && s[0] == '.')
        return "'.' component";
    if (len == 2 && s[0] == '.' && s[1] == '.')
        return "'..' component";
    if (len > SK_NAME_COMPONENT_MAX)
        return "a component is longer than 255 bytes";
    return NULL;
}

int sk_file_name_check(const char *name, bool allow_root, char *why, size_t whylen)
{
    size_t total = strlen(name);
    if (total == 0)
        return allow_root ? 0 : fail(why, whylen, name, "empty name");
    if (name[0] == '/')
        return fail(why, whylen, name, "absolute name (names are relative to the root)");
    if (total > SK_NAME_MAX)
        return fail(why, whylen, name, "longer than 4096 bytes");
    const unsigned char *s = (const unsigned char *)name;
    size_t start = 0;
    for (size_t i = 0; i <= total;) {
        if (i == total || s[i] == '/') {
            const char *problem = component_problem(name + start, i - start);
            if (problem)
                return fail(why, whylen, name, problem);
            start = ++i;
            continue;
        }
        if (s[i] < 0x20 || s[i] == 0x7f)
            return fail(why, whylen, name, "control character");
        size_t n = utf8_sequence(s + i);
        if (n == 0)
            return fail(why, whylen, name, "not valid UTF-8");
        i += n;
    }
    size_t last = strlen(sk_file_name_last(name)), suffix = strlen(".part");
    if (last >= suffix && !strcmp(name + total - suffix, ".part"))
        return fail(why, whylen, name, "a name ending in '.part' (reserved for partial transfers)");
    return 0;
}

/* Bytes of the printable UTF-8 character at s, 0 when invalid or a control. */
static size_t text_char(const unsigned char *s)
{
    if (s[0] < 0x20 || s[0] == 0x7f)
        return 0;
    return utf8_sequence(s);
}

int sk_file_text_valid(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        size_t n = text_char(s);
        if (n == 0)
            return 0;
        s += n;
    }
    return 1;
}

void sk_file_text_sanitize(char *text)
{
    unsigned char *s = (unsigned char *)text;
    while (*s) {
        size_t n = text_char(s);
        if (n == 0) {
            *s = '?';
            n = 1;
        }
        s += n;
    }
}

int sk_file_name_join(const char *dir, const char *name, char *out, size_t outlen)
{
    size_t dlen = strlen(dir);
    while (dlen > 0 && dir[dlen - 1] == '/')
        dlen--;
    int n;
    if (dlen == 0)
        n = snprintf(out, outlen, "%s", name);
    else if (!name[0])
        n = snprintf(out, outlen, "%.*s", (int)dlen, dir);
    else
        n = snprintf(out, outlen, "%.*s/%s", (int)dlen, dir, name);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

const char *sk_file_name_last(const char *name)
{
    const char *slash = strrchr(name, '/');
    return slash ? slash + 1 : name;
}
