/* HTTP directory listing. The entries are read with readdir on a dup of
 * the directory's fd, stat'ed without following symlinks (a listing never
 * reveals what lies outside the root), sorted, and written as a table. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http_listing.h"

enum { MAX_ENTRIES = 100000 };

typedef struct entry {
    char *name;
    bool is_dir;
    off_t size;
    time_t mtime;
} entry;

typedef struct entries {
    entry *v;
    size_t n, cap;
} entries;

/* A growing text buffer; err sticks at the first failure. */
typedef struct text {
    char *p;
    size_t len, cap;
    int err;
} text;

static const char page_head[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width\">\n<style>"
    "body{font-family:sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse}"
    "th,td{padding:.25em 1.2em .25em 0;text-align:left}"
    "td.size{text-align:right;font-variant-numeric:tabular-nums}"
    "tr:nth-child(even) td{background:#f3f3f3}"
    "a{text-decoration:none}a:hover{text-decoration:underline}"
    "</style>\n";

static void text_reserve(text *t, size_t more)
{
    if (t->err || t->len + more <= t->cap)
        return;
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + more)
        cap *= 2;
    char *p = realloc(t->p, cap);
    if (!p) {
        t->err = -ENOMEM;
        return;
    }
    t->p = p;
    t->cap = cap;
}

static void text_add(text *t, const char *s, size_t len)
{
    text_reserve(t, len);
    if (t->err)
        return;
    memcpy(t->p + t->len, s, len);
    t->len += len;
}

static void text_str(text *t, const char *s)
{
    text_add(t, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void text_printf(text *t, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        text_add(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* s with & < > " ' as character references. */
static void text_html(text *t, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': text_str(t, "&amp;"); break;
        case '<': text_str(t, "&lt;"); break;
        case '>': text_str(t, "&gt;"); break;
        case '"': text_str(t, "&quot;"); break;
        case '\'': text_str(t, "&#39;"); break;
        default: text_add(t, s, 1);
        }
    }
}

/* s percent-encoded: everything but RFC 3986 unreserved characters. */
static void text_url(text *t, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            text_add(t, s, 1);
        } else {
            char esc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            text_add(t, esc, 3);
        }
    }
}

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->is_dir != y->is_dir)
        return x->is_dir ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void entries_free(entries *es)
{
    for (size_t i = 0; i < es->n; i++)
        free(es->v[i].name);
    free(es->v);
}

static int entries_add(entries *es, int dir_fd, const char *name)
{
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0; /* vanished meanwhile */
    if (es->n == es->cap) {
        size_t cap = es->cap ? es->cap * 2 : 64;
        entry *v = realloc(es->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        es->v = v;
        es->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    es->v[es->n++] = (entry){copy, S_ISDIR(st.st_mode), st.st_size, st.st_mtime};
    return 0;
}

static int read_entries(int dir_fd, bool dotfiles, entries *es)
{
    int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int err = -errno;
        close(fd);
        return err;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && es->n < MAX_ENTRIES && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (de->d_name[0] == '.' && !dotfiles)
            continue;
        rc = entries_add(es, dirfd(d), de->d_name);
    }
    closedir(d);
    return rc;
}

static void write_row(text *t, const entry *e)
{
    char when[32] = "";
    struct tm tm;
    if (gmtime_r(&e->mtime, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    text_str(t, "<tr><td><a href=\"");
    text_url(t, e->name);
    text_str(t, e->is_dir ? "/\">" : "\">");
    text_html(t, e->name);
    text_str(t, e->is_dir ? "/</a></td><td class=\"size\">-</td>" : "</a></td>");
    if (!e->is_dir)
        text_printf(t, "<td class=\"size\">%" PRIdMAX "</td>", (intmax_t)e->size);
    text_printf(t, "<td>%s</td></tr>\n", when);
}

static void write_page(text *t, const char *url_path, const entries *es)
{
    text_str(t, page_head);
    text_str(t, "<title>Index of ");
    text_html(t, url_path);
    text_str(t, "</title></head>\n<body>\n<h1>Index of ");
    text_html(t, url_path);
    text_str(t, "</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Last modified (UTC)</th></tr>\n");
    if (strcmp(url_path, "/") != 0)
        text_str(t, "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
    for (size_t i = 0; i < es->n; i++)
        write_row(t, &es->v[i]);
    text_printf(t, "</table>\n<p>%zu entr%s</p>\n</body></html>\n", es->n,
                es->n == 1 ? "y" : "ies");
}

int sk_http_listing(int dir_fd, const char *url_path, bool dotfiles, char **body, size_t *len)
{
    entries es = {0};
    int rc = read_entries(dir_fd, dotfiles, &es);
    if (rc < 0) {
        entries_free(&es);
        return rc;
    }
    if (es.n > 1)
        qsort(es.v, es.n, sizeof *es.v, entry_cmp);
    text t = {0};
    write_page(&t, url_path, &es);
    entries_free(&es);
    if (t.err) {
        free(t.p);
        return t.err;
    }
    *body = t.p;
    *len = t.len;
    return 0;
}
