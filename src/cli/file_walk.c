/* Local tree walk for `sk send`: see file_walk.h. */
#include "file_walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "name_list.h"

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory path except . and .., sorted. Returns 0 or -errno. */
static int read_names(const char *path, sk_name_list *out)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    int rc = 0;
    struct dirent *e;
    errno = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            rc = sk_name_list_push(out, e->d_name);
        errno = 0;
    }
    if (rc == 0 && errno)
        rc = -errno;
    closedir(d);
    if (rc < 0)
        sk_name_list_free(out);
    else if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, compare_names);
    return rc;
}

static char *join(const char *a, const char *b)
{
    char *s;
    if (!a[0])
        return strdup(b);
    if (!b[0])
        return strdup(a);
    size_t la = strlen(a);
    bool slash = a[la - 1] == '/';
    if (asprintf(&s, slash ? "%s%s" : "%s/%s", a, b) < 0)
        return NULL;
    return s;
}

static void entry_free(sk_local_entry *e)
{
    free(e->path);
    free(e->name);
    free(e->target);
}

static int list_push(sk_local_list *l, sk_local_entry *e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        sk_local_entry *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            entry_free(e);
            return -ENOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *e;
    return 0;
}

static char *read_target(const char *path, int *err)
{
    struct stat st;
    size_t cap = 256;
    if (lstat(path, &st) == 0 && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    for (int tries = 0; tries < 8; tries++, cap *= 2) {
        char *buf = malloc(cap);
        if (!buf) {
            *err = -ENOMEM;
            return NULL;
        }
        ssize_t n = readlink(path, buf, cap);
        if (n >= 0 && (size_t)n < cap) {
            buf[n] = '\0';
            return buf;
        }
        free(buf);
        if (n < 0) {
            *err = -errno;
            return NULL;
        }
    }
    *err = -ENAMETOOLONG;
    return NULL;
}

/* Describe path from its lstat; fills e (path and name already set). */
static void describe(sk_local_entry *e)
{
    struct stat st;
    if (lstat(e->path, &st) < 0) {
        e->type = SK_LOCAL_ERROR;
        e->error = -errno;
        return;
    }
    e->mode = st.st_mode & 07777;
    e->mtime = st.st_mtim.tv_sec;
    if (S_ISREG(st.st_mode)) {
        e->type = SK_LOCAL_FILE;
        e->size = (uint64_t)st.st_size;
    } else if (S_ISDIR(st.st_mode)) {
        e->type = SK_LOCAL_DIR;
    } else if (S_ISLNK(st.st_mode)) {
        e->type = SK_LOCAL_SYMLINK;
        if (!(e->target = read_target(e->path, &e->error)))
            e->type = SK_LOCAL_ERROR;
    } else {
        e->type = SK_LOCAL_OTHER;
    }
}

static int walk(const char *path, const char *name, bool listed, sk_local_list *out);

/* Walk the contents of directory path (named name remotely). */
static int walk_children(const char *path, const char *name, sk_local_list *out)
{
    sk_name_list names = {0};
    int rc = read_names(path, &names);
    if (rc < 0) {
        if (rc == -ENOMEM)
            return rc;
        sk_local_entry e = {.type = SK_LOCAL_ERROR, .error = rc};
        e.path = strdup(path);
        e.name = strdup(name);
        if (!e.path || !e.name) {
            entry_free(&e);
            return -ENOMEM;
        }
        return list_push(out, &e);
    }
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        char *child_path = join(path, names.v[i]);
        char *child_name = join(name, names.v[i]);
        rc = child_path && child_name ? walk(child_path, child_name, true, out) : -ENOMEM;
        free(child_path);
        free(child_name);
    }
    sk_name_list_free(&names);
    return rc;
}

/* Append path (remote name) and, for a directory, its contents. listed is
 * false for a "." / "/" argument whose own entry is not sent. */
static int walk(const char *path, const char *name, bool listed, sk_local_list *out)
{
    sk_local_entry e = {0};
    e.path = strdup(path);
    e.name = strdup(name);
    if (!e.path || !e.name) {
        entry_free(&e);
        return -ENOMEM;
    }
    describe(&e);
    bool dir = e.type == SK_LOCAL_DIR;
    if (!listed)
        entry_free(&e);
    else if (list_push(out, &e) < 0)
        return -ENOMEM;
    return dir ? walk_children(path, name, out) : 0;
}

/* The last component of path without trailing slashes, in buf; "" for
 * ".", ".." and "/". */
static void base_name(const char *path, char *buf, size_t len)
{
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    size_t n = end - start;
    if (n >= len || (n == 1 && path[start] == '.') ||
        (n == 2 && path[start] == '.' && path[start + 1] == '.') ||
        (n == 1 && path[start] == '/'))
        n = 0;
    memcpy(buf, path + start, n);
    buf[n] = '\0';
}

int sk_local_walk(const char *path, const char *remote_dir, sk_local_list *out)
{
    char base[NAME_MAX + 1];
    base_name(path, base, sizeof base);
    char *name = join(remote_dir, base);
    if (!name)
        return -ENOMEM;
    /* "." into the root: the contents, no entry for the root itself. */
    int rc = walk(path, name, base[0] != '\0', out);
    free(name);
    return rc;
}

void sk_local_list_free(sk_local_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        entry_free(&l->v[i]);
    free(l->v);
    *l = (sk_local_list){0};
}
