/* File transfer: listing entries beneath the root (LIST), iteratively,
 * without following links, sorted by name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_fs.h"
#include "file_names.h"
#include "name_list.h"

enum { PATH_BUF = SK_NAME_MAX + 16, LINK_MAX_TEXT = 4096 };

/* readlinkat into buf, NUL-terminated. */
static ssize_t read_link(int dirfd, const char *last, char *buf, size_t buflen)
{
    ssize_t n = readlinkat(dirfd, last, buf, buflen);
    if (n < 0)
        return -errno;
    if ((size_t)n >= buflen)
        return -ENAMETOOLONG;
    buf[n] = '\0';
    return n;
}

/* Fill e for the entry last of directory dirfd, whose full name is name. */
static int entry_fill(int dirfd, const char *last, const char *name, const struct stat *st,
                      sk_file_entry *e)
{
    memset(e, 0, sizeof *e);
    e->type = sk_file_type_of_mode(st->st_mode);
    e->size = e->type == SK_FTYPE_FILE ? (uint64_t)st->st_size : 0;
    e->mode = (uint32_t)(st->st_mode & 07777);
    e->mtime = (int64_t)st->st_mtim.tv_sec;
    if (!(e->name = strdup(name)))
        return -ENOMEM;
    if (e->type == SK_FTYPE_SYMLINK) {
        char buf[LINK_MAX_TEXT + 1];
        ssize_t n = read_link(dirfd, last, buf, sizeof buf);
        if (n < 0 || !(e->target = strdup(buf))) {
            sk_fs_entry_free(e);
            return n < 0 ? (int)n : -ENOMEM;
        }
    }
    return 0;
}

int sk_fs_entry_from(int root, const char *name, const struct stat *st, sk_file_entry *e)
{
    const char *last;
    int pfd = sk_fs_open_parent(root, name, &last);
    if (pfd < 0)
        return pfd;
    int rc = entry_fill(pfd, last, name, st, e);
    close(pfd);
    return rc;
}

void sk_fs_entry_free(sk_file_entry *e)
{
    free(e->name);
    free(e->target);
    e->name = e->target = NULL;
}

/* A growable array of entries. */
typedef struct entry_list {
    sk_file_entry *v;
    size_t n, cap;
} entry_list;

static sk_file_entry *list_push(entry_list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        sk_file_entry *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    return &l->v[l->n];
}

/* Add one directory entry (d_name of dirfd, inside directory dir). */
static int list_one(int dirfd, const char *dir, const char *d_name, bool recursive,
                    entry_list *out, sk_name_list *todo)
{
    char name[PATH_BUF];
    if (sk_file_name_join(dir, d_name, name, sizeof name) < 0 ||
        sk_file_name_check(name, false, NULL, 0) < 0)
        return 0; /* not expressible in the protocol: not listed */
    struct stat st;
    if (fstatat(dirfd, d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno; /* gone meanwhile: fine */
    sk_file_type type = sk_file_type_of_mode(st.st_mode);
    if (type == SK_FTYPE_OTHER || (type == SK_FTYPE_FILE && sk_fs_is_part(d_name)))
        return 0;
    sk_file_entry *e = list_push(out);
    if (!e)
        return -ENOMEM;
    int rc = entry_fill(dirfd, d_name, name, &st, e);
    if (rc == -ENOENT || rc == -EINVAL || rc == -ENAMETOOLONG)
        return 0; /* replaced meanwhile, or a link target too long */
    if (rc < 0)
        return rc;
    if (e->target && !sk_file_text_valid(e->target)) {
        sk_fs_entry_free(e); /* not expressible in the protocol */
        return 0;
    }
    out->n++;
    return type == SK_FTYPE_DIR && recursive ? sk_name_list_push(todo, name) : 0;
}

/* Read directory dir (beneath root) into out. */
static int list_dir(int root, const char *dir, bool recursive, entry_list *out, sk_name_list *todo)
{
    int fd = sk_fs_open(root, dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return fd;
    DIR *d = fdopendir(fd);
    if (!d) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            rc = errno ? -errno : 0;
            break;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if ((rc = list_one(dirfd(d), dir, de->d_name, recursive, out, todo)) < 0)
            break;
    }
    closedir(d);
    return rc;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const sk_file_entry *)a)->name, ((const sk_file_entry *)b)->name);
}

/* Walk the directory name (already known to be one) into out. */
static int list_tree(int root, const char *name, bool recursive, entry_list *out)
{
    sk_name_list todo = {0};
    int rc = sk_name_list_push(&todo, name);
    for (bool top = true; rc == 0 && todo.n > 0; top = false) {
        char *dir = todo.v[--todo.n];
        rc = list_dir(root, dir, recursive, out, &todo);
        if (rc == -ENOENT && !top)
            rc = 0; /* a subdirectory removed meanwhile */
        free(dir);
    }
    sk_name_list_free(&todo);
    return rc;
}

int sk_fs_list(int root, const char *name, bool recursive, sk_file_entry **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    struct stat st;
    int rc = sk_fs_stat(root, name, &st);
    if (rc < 0)
        return rc;
    entry_list l = {0};
    sk_file_type type = sk_file_type_of_mode(st.st_mode);
    if (type != SK_FTYPE_OTHER && name[0]) {
        sk_file_entry *e = list_push(&l);
        rc = e ? sk_fs_entry_from(root, name, &st, e) : -ENOMEM;
        if (rc == 0)
            l.n++;
    }
    if (rc == 0 && type == SK_FTYPE_DIR)
        rc = list_tree(root, name, recursive, &l);
    if (rc < 0) {
        sk_fs_list_free(l.v, l.n);
        return rc;
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, entry_cmp);
    *out = l.v;
    *count = l.n;
    return 0;
}

void sk_fs_list_free(sk_file_entry *entries, size_t count)
{
    for (size_t i = 0; i < count; i++)
        sk_fs_entry_free(&entries[i]);
    free(entries);
}
