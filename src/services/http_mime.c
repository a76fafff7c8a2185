/* Media types by file extension: a sorted array from mime.types (binary search),
 * then a sorted built-in table. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_mime.h"

#define CHARSET "; charset=utf-8"
#define DEFAULT_TYPE "application/octet-stream"
#define EXT_MAX 64 /* longer extensions are never found */

typedef struct mime_entry {
    const char *ext; /* lower case */
    const char *type;
    size_t order;    /* position in the file: the first listing wins */
} mime_entry;

struct sk_http_mime {
    mime_entry *entries;
    size_t count;
    char *pool; /* extensions and types, NUL-terminated */
};

/* Sorted by extension (strcmp): bsearch. */
static const mime_entry builtin[] = {
    { "7z", "application/x-7z-compressed", 0 },
    { "avif", "image/avif", 0 },
    { "bmp", "image/bmp", 0 },
    { "css", "text/css" CHARSET, 0 },
    { "csv", "text/csv" CHARSET, 0 },
    { "gif", "image/gif", 0 },
    { "gz", "application/gzip", 0 },
    { "htm", "text/html" CHARSET, 0 },
    { "html", "text/html" CHARSET, 0 },
    { "ico", "image/vnd.microsoft.icon", 0 },
    { "jpeg", "image/jpeg", 0 },
    { "jpg", "image/jpeg", 0 },
    { "js", "text/javascript" CHARSET, 0 },
    { "json", "application/json", 0 },
    { "map", "application/json", 0 },
    { "md", "text/markdown" CHARSET, 0 },
    { "mjs", "text/javascript" CHARSET, 0 },
    { "mp3", "audio/mpeg", 0 },
    { "mp4", "video/mp4", 0 },
    { "oga", "audio/ogg", 0 },
    { "ogg", "audio/ogg", 0 },
    { "ogv", "video/ogg", 0 },
    { "otf", "font/otf", 0 },
    { "pdf", "application/pdf", 0 },
    { "png", "image/png", 0 },
    { "svg", "image/svg+xml", 0 },
    { "tar", "application/x-tar", 0 },
    { "text", "text/plain" CHARSET, 0 },
    { "ttf", "font/ttf", 0 },
    { "txt", "text/plain" CHARSET, 0 },
    { "wasm", "application/wasm", 0 },
    { "wav", "audio/wav", 0 },
    { "webm", "video/webm", 0 },
    { "webmanifest", "application/manifest+json", 0 },
    { "webp", "image/webp", 0 },
    { "woff", "font/woff", 0 },
    { "woff2", "font/woff2", 0 },
    { "xhtml", "application/xhtml+xml", 0 },
    { "xml", "application/xml", 0 },
    { "xz", "application/x-xz", 0 },
    { "zip", "application/zip", 0 },
};

static int by_ext(const void *a, const void *b)
{
    return strcmp(((const mime_entry *)a)->ext, ((const mime_entry *)b)->ext);
}

static int by_ext_then_order(const void *a, const void *b)
{
    const mime_entry *x = a, *y = b;
    int r = strcmp(x->ext, y->ext);
    if (r)
        return r;
    return (x->order > y->order) - (x->order < y->order);
}

static bool wants_charset(const char *type, size_t len)
{
    return (len > 5 && memcmp(type, "text/", 5) == 0) ||
           (len == 22 && memcmp(type, "application/javascript", 22) == 0);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* One pass over the text; with m->entries NULL it only counts entries and pool
 * bytes, else it fills them. */
static void scan(const char *text, size_t len, struct sk_http_mime *m, size_t *entries, size_t *bytes)
{
    size_t i = 0, ne = 0, nb = 0;
    while (i < len) {
        size_t eol = i;
        while (eol < len && text[eol] != '\n' && text[eol] != '#')
            eol++;
        const char *type = NULL;
        for (;;) {
            while (i < eol && is_space(text[i]))
                i++;
            if (i == eol)
                break;
            size_t w = i;
            while (i < eol && !is_space(text[i]))
                i++;
            size_t wl = i - w;
            char *dst = m->entries ? m->pool + nb : NULL;
            if (!type) {
                bool cs = wants_charset(text + w, wl);
                if (dst) {
                    memcpy(dst, text + w, wl);
                    strcpy(dst + wl, cs ? CHARSET : "");
                }
                type = dst ? dst : "";
                nb += wl + 1 + (cs ? strlen(CHARSET) : 0);
            } else {
                if (dst) {
                    for (size_t k = 0; k < wl; k++)
                        dst[k] = (char)((text[w + k] >= 'A' && text[w + k] <= 'Z') ? text[w + k] + 32 : text[w + k]);
                    dst[wl] = '\0';
                    m->entries[ne] = (mime_entry){ dst, type, ne };
                }
                ne++;
                nb += wl + 1;
            }
        }
        while (eol < len && text[eol] != '\n')
            eol++; /* the comment */
        i = eol + 1;
    }
    *entries = ne;
    *bytes = nb;
}

static int read_all(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rbe");
    if (!f)
        return -errno;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int err = ferror(f) ? -EIO : 0;
    fclose(f);
    if (!buf)
        return -ENOMEM;
    if (err) {
        free(buf);
        return err;
    }
    *text = buf;
    *len = n;
    return 0;
}

/* Build the sorted table from the text of a mime.types file. */
static int build(struct sk_http_mime *m, const char *text, size_t len)
{
    size_t ne, nb;
    scan(text, len, m, &ne, &nb);
    if (ne == 0)
        return 0;
    m->entries = malloc(ne * sizeof(*m->entries));
    m->pool = malloc(nb);
    if (!m->entries || !m->pool)
        return -ENOMEM;
    scan(text, len, m, &ne, &nb);
    qsort(m->entries, ne, sizeof(*m->entries), by_ext_then_order);
    size_t out = 0;
    for (size_t k = 0; k < ne; k++)
        if (out == 0 || strcmp(m->entries[out - 1].ext, m->entries[k].ext) != 0)
            m->entries[out++] = m->entries[k];
    m->count = out;
    return 0;
}

int sk_http_mime_load(sk_http_mime **out, const char *path)
{
    *out = NULL;
    struct sk_http_mime *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    char *text = NULL;
    size_t len = 0;
    int r = read_all(path ? path : "/etc/mime.types", &text, &len);
    if (r < 0 && (path || r == -ENOMEM)) {
        free(m);
        return r;
    }
    if (r == 0) {
        r = build(m, text, len);
        free(text);
        if (r < 0) {
            sk_http_mime_free(m);
            return r;
        }
    }
    *out = m;
    return 0;
}

static const char *find(const mime_entry *table, size_t count, const char *ext)
{
    mime_entry key = { ext, NULL, 0 };
    const mime_entry *e = count ? bsearch(&key, table, count, sizeof(*table), by_ext) : NULL;
    return e ? e->type : NULL;
}

/* The longest listed dotted suffix of the last component, in table. */
static const char *find_suffix(const mime_entry *table, size_t count, const char *base)
{
    for (const char *dot = strchr(base + 1, '.'); dot; dot = strchr(dot + 1, '.')) {
        char ext[EXT_MAX + 1];
        size_t n = strlen(dot + 1);
        if (n == 0 || n > EXT_MAX)
            continue;
        for (size_t k = 0; k <= n; k++) {
            char c = dot[1 + k];
            ext[k] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        }
        const char *type = find(table, count, ext);
        if (type)
            return type;
    }
    return NULL;
}

const char *sk_http_mime_lookup(const sk_http_mime *m, const char *filename)
{
    const char *slash = strrchr(filename, '/');
    const char *base = slash ? slash + 1 : filename;
    if (base[0] == '\0')
        return DEFAULT_TYPE;
    const char *type = m ? find_suffix(m->entries, m->count, base) : NULL;
    if (!type)
        type = find_suffix(builtin, sizeof(builtin) / sizeof(builtin[0]), base);
    return type ? type : DEFAULT_TYPE;
}

void sk_http_mime_free(sk_http_mime *m)
{
    if (!m)
        return;
    free(m->entries);
    free(m->pool);
    free(m);
}
