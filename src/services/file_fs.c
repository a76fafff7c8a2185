/* File transfer: file system access confined to a root directory with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) and the *at() calls. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "file_fs.h"
#include "file_names.h"

enum { PATH_BUF = SK_NAME_MAX + 16, OPENAT2_RETRIES = 16, LINK_MAX_TEXT = 4096 };

const char *sk_file_type_name(sk_file_type type)
{
    switch (type) {
    case SK_FTYPE_FILE: return "file";
    case SK_FTYPE_DIR: return "dir";
    case SK_FTYPE_SYMLINK: return "symlink";
    case SK_FTYPE_OTHER: break;
    }
    return "other";
}

int sk_file_type_parse(const char *text, sk_file_type *type)
{
    if (!strcmp(text, "file"))
        *type = SK_FTYPE_FILE;
    else if (!strcmp(text, "dir"))
        *type = SK_FTYPE_DIR;
    else if (!strcmp(text, "symlink"))
        *type = SK_FTYPE_SYMLINK;
    else
        return -EINVAL;
    return 0;
}

sk_file_type sk_file_type_of_mode(mode_t mode)
{
    if (S_ISREG(mode))
        return SK_FTYPE_FILE;
    if (S_ISDIR(mode))
        return SK_FTYPE_DIR;
    if (S_ISLNK(mode))
        return SK_FTYPE_SYMLINK;
    return SK_FTYPE_OTHER;
}

/* openat2 beneath root; path "" is the root itself. EINTR and the EAGAIN of
 * a concurrent rename during resolution are retried (bounded). */
static int open_beneath(int root, const char *path, int flags, mode_t mode)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    for (int i = 0; i < OPENAT2_RETRIES; i++) {
        long fd = syscall(SYS_openat2, root, path[0] ? path : ".", &how, sizeof how);
        if (fd >= 0)
            return (int)fd;
        if (errno != EINTR && errno != EAGAIN)
            return -errno;
    }
    return -EAGAIN;
}

int sk_fs_open(int root, const char *name, int flags, mode_t mode)
{
    return open_beneath(root, name, flags | O_NOFOLLOW, mode);
}

/* mkdir -p of a local path (the root: not confined). */
static int mkdirs_local(const char *path)
{
    char buf[PATH_BUF];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -ENAMETOOLONG;
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = saved;
        if (!saved)
            return 0;
    }
}

int sk_fs_open_root(const char *path)
{
    if (!path[0])
        return -ENOENT;
    int rc = mkdirs_local(path);
    if (rc < 0)
        return rc;
    int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int sk_fs_open_parent(int root, const char *name, const char **last)
{
    const char *slash = strrchr(name, '/');
    *last = slash ? slash + 1 : name;
    if (!slash)
        return open_beneath(root, "", O_RDONLY | O_DIRECTORY, 0);
    char parent[PATH_BUF];
    size_t n = (size_t)(slash - name);
    if (n >= sizeof parent)
        return -ENAMETOOLONG;
    memcpy(parent, name, n);
    parent[n] = '\0';
    return open_beneath(root, parent, O_RDONLY | O_DIRECTORY, 0);
}

/* Create the directory whose name is prefix (its parent exists). */
static int mkdir_one(int root, const char *prefix, mode_t mode)
{
    const char *last;
    int pfd = sk_fs_open_parent(root, prefix, &last);
    if (pfd < 0)
        return pfd;
    int rc = mkdirat(pfd, last, mode) < 0 && errno != EEXIST ? -errno : 0;
    close(pfd);
    if (rc < 0)
        return rc;
    /* It exists now: it must be a directory (a link to one beneath root is fine). */
    int fd = open_beneath(root, prefix, O_PATH | O_DIRECTORY, 0);
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

int sk_fs_mkdirs(int root, const char *name, mode_t mode)
{
    char prefix[PATH_BUF];
    size_t len = strlen(name);
    if (len >= sizeof prefix)
        return -ENAMETOOLONG;
    memcpy(prefix, name, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (prefix[i] != '/' && prefix[i] != '\0')
            continue;
        prefix[i] = '\0';
        int rc = mkdir_one(root, prefix, i == len ? mode : 0755);
        prefix[i] = name[i];
        if (rc < 0)
            return rc;
    }
    return 0;
}

int sk_fs_mkdirs_parent(int root, const char *name, mode_t mode)
{
    const char *slash = strrchr(name, '/');
    if (!slash)
        return 0;
    char parent[PATH_BUF];
    size_t n = (size_t)(slash - name);
    if (n >= sizeof parent)
        return -ENAMETOOLONG;
    memcpy(parent, name, n);
    parent[n] = '\0';
    return sk_fs_mkdirs(root, parent, mode);
}

int sk_fs_part_name(const char *name, char *out, size_t outlen)
{
    size_t suffix = strlen(SK_PART_SUFFIX);
    if (strlen(sk_file_name_last(name)) + suffix > SK_NAME_COMPONENT_MAX)
        return -ENAMETOOLONG;
    int n = snprintf(out, outlen, "%s%s", name, SK_PART_SUFFIX);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int sk_fs_is_part(const char *name)
{
    size_t n = strlen(name), s = strlen(SK_PART_SUFFIX);
    return n >= s && !strcmp(name + n - s, SK_PART_SUFFIX);
}

int sk_fs_fsync(int fd)
{
    while (fsync(fd) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

void sk_fs_write_behind(int fd, uint64_t before, uint64_t after)
{
    uint64_t from = before - before % SK_FS_WRITE_BEHIND, to = after - after % SK_FS_WRITE_BEHIND;
    if (to > from) /* errors are fsync's to report */
        (void)sync_file_range(fd, (off_t)from, (off_t)(to - from), SYNC_FILE_RANGE_WRITE);
}

int sk_fs_fsync_parent(int root, const char *name)
{
    const char *last;
    int pfd = sk_fs_open_parent(root, name, &last);
    if (pfd < 0)
        return pfd;
    int rc = sk_fs_fsync(pfd);
    close(pfd);
    return rc;
}

int sk_fs_rename(int root, const char *from, const char *to, bool overwrite)
{
    const char *lf, *lt;
    int pf = sk_fs_open_parent(root, from, &lf);
    if (pf < 0)
        return pf;
    int pt = sk_fs_open_parent(root, to, &lt);
    if (pt < 0) {
        close(pf);
        return pt;
    }
    int rc = renameat2(pf, lf, pt, lt, overwrite ? 0 : RENAME_NOREPLACE) < 0 ? -errno : 0;
    close(pf);
    close(pt);
    return rc;
}

int sk_fs_unlink(int root, const char *name)
{
    const char *last;
    int pfd = sk_fs_open_parent(root, name, &last);
    if (pfd < 0)
        return pfd;
    int rc = unlinkat(pfd, last, 0) < 0 ? -errno : 0;
    close(pfd);
    return rc;
}

int sk_fs_set_meta(int fd, uint32_t mode, int64_t mtime)
{
    if (fchmod(fd, (mode_t)(mode & 0777)) < 0)
        return -errno;
    struct timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_NOW},
                                {.tv_sec = (time_t)mtime, .tv_nsec = 0}};
    return futimens(fd, times) < 0 ? -errno : 0;
}

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

/* name exists in pfd: decide whether the new link may take its place. */
static int symlink_existing(int pfd, const char *last, const char *target, bool overwrite)
{
    struct stat st;
    if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (S_ISLNK(st.st_mode)) {
        char old[LINK_MAX_TEXT + 1];
        ssize_t n = read_link(pfd, last, old, sizeof old);
        if (n >= 0 && !strcmp(old, target))
            return 0; /* already that link */
    }
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (!overwrite)
        return -EEXIST;
    uint8_t rnd[8];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return -EIO;
    char tmp[40];
    snprintf(tmp, sizeof tmp, ".sk-link-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    if (symlinkat(target, pfd, tmp) < 0)
        return -errno;
    if (renameat(pfd, tmp, pfd, last) < 0) {
        int rc = -errno;
        unlinkat(pfd, tmp, 0);
        return rc;
    }
    return 0;
}

int sk_fs_symlink(int root, const char *name, const char *target, bool overwrite)
{
    const char *last;
    int pfd = sk_fs_open_parent(root, name, &last);
    if (pfd < 0)
        return pfd;
    int rc = 0;
    if (symlinkat(target, pfd, last) < 0)
        rc = errno == EEXIST ? symlink_existing(pfd, last, target, overwrite) : -errno;
    close(pfd);
    return rc;
}

int sk_fs_stat(int root, const char *name, struct stat *st)
{
    if (!name[0])
        return fstat(root, st) < 0 ? -errno : 0;
    const char *last;
    int pfd = sk_fs_open_parent(root, name, &last);
    if (pfd < 0)
        return pfd;
    int rc = fstatat(pfd, last, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
    close(pfd);
    return rc;
}

ssize_t sk_fs_readlink(int root, const char *name, char *buf, size_t buflen)
{
    const char *last;
    int pfd = sk_fs_open_parent(root, name, &last);
    if (pfd < 0)
        return pfd;
    ssize_t n = read_link(pfd, last, buf, buflen);
    close(pfd);
    return n;
}
