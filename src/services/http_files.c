/* HTTP static files: a request path opened beneath the root. Every open
 * goes through openat2 with RESOLVE_BENEATH (no "..", no absolute symlink,
 * no symlink leading out of the root) and RESOLVE_NO_MAGICLINKS; files are
 * opened O_NONBLOCK so that a FIFO under the root cannot stall the server,
 * and anything but a regular file or a directory is refused. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "http_files.h"

enum { OPENAT2_RETRIES = 8, PATH_BYTES = 8192, SETTLED_SEC = 2 };

static int open_beneath(int root_fd, const char *path)
{
    struct open_how how = {
        .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    for (int i = 0; i < OPENAT2_RETRIES; i++) {
        long fd = syscall(SYS_openat2, root_fd, path[0] ? path : ".", &how, sizeof how);
        if (fd >= 0)
            return (int)fd;
        if (errno != EINTR && errno != EAGAIN)
            return -errno;
    }
    return -EAGAIN;
}

/* The HTTP status for an open or stat error. */
static int status_of_errno(int err)
{
    switch (err) {
    case -EACCES:
    case -EPERM: return 403;
    case -ENOENT:
    case -ENOTDIR:
    case -EXDEV:  /* resolution would leave the root */
    case -ELOOP:
    case -ENAMETOOLONG: return 404;
    default: return 500;
    }
}

/* dir/index.html, when it is a regular file: fills *t and returns 0. */
static int open_index(int root_fd, const char *path, sk_http_target *t)
{
    char index[PATH_BYTES];
    size_t len = strlen(path);
    int n = snprintf(index, sizeof index, "%s%sindex.html", path,
                     len && path[len - 1] != '/' ? "/" : "");
    if (n < 0 || (size_t)n >= sizeof index)
        return -ENAMETOOLONG;
    int fd = open_beneath(root_fd, index);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -ENOENT;
    }
    t->st = st;
    t->kind = SK_HTTP_FILE;
    t->fd = fd;
    return 0;
}

int sk_http_open_target(int root_fd, const char *path, bool dir_form, sk_http_target *t)
{
    while (path[0] == '/')
        path++;
    t->fd = -1;
    int fd = open_beneath(root_fd, path);
    if (fd < 0)
        return status_of_errno(fd);
    if (fstat(fd, &t->st) < 0) {
        int err = -errno;
        close(fd);
        return status_of_errno(err);
    }
    if (S_ISREG(t->st.st_mode)) {
        if (dir_form) { /* "/file.txt/" */
            close(fd);
            return 404;
        }
        t->kind = SK_HTTP_FILE;
        t->fd = fd;
        return 0;
    }
    if (!S_ISDIR(t->st.st_mode)) {
        close(fd);
        return 403;
    }
    if (!dir_form && path[0]) {
        close(fd);
        t->kind = SK_HTTP_REDIRECT;
        return 0;
    }
    if (open_index(root_fd, path, t) == 0) {
        close(fd);
        return 0;
    }
    t->kind = SK_HTTP_LISTING;
    t->fd = fd;
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sk_http_cache_clear(sk_http_cache *cache)
{
    if (cache->path)
        close(cache->t.fd);
    free(cache->path);
    cache->path = NULL;
    free(cache->bytes);
    cache->bytes = NULL;
}

static bool same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

bool sk_http_same_version(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           same_time(a->st_mtim, b->st_mtim) && same_time(a->st_ctim, b->st_ctim);
}

/* Whether st's ctime lies at least SETTLED_SEC before now. A file system
 * may stamp times coarsely (1 s on ext4 with small inodes, 2 s on FAT):
 * a change within the same step would keep every time of the status. Once
 * the clock has passed that step, any later change gets a later ctime. */
static bool settled(const struct stat *st)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    now.tv_sec -= SETTLED_SEC;
    return st->st_ctim.tv_sec < now.tv_sec ||
           (st->st_ctim.tv_sec == now.tv_sec && st->st_ctim.tv_nsec < now.tv_nsec);
}

const char *sk_http_cache_bytes(sk_http_cache *cache)
{
    const struct stat *st = &cache->t.st;
    if (!cache->path || st->st_size > SK_HTTP_CACHE_BYTES_MAX)
        return NULL;
    if (cache->bytes && sk_http_same_version(&cache->bytes_st, st))
        return cache->bytes;
    free(cache->bytes);
    cache->bytes = NULL;
    if (!settled(st))
        return NULL;
    size_t len = (size_t)st->st_size;
    char *bytes = malloc(len ? len : 1);
    if (!bytes)
        return NULL;
    ssize_t n;
    do
        n = pread(cache->t.fd, bytes, len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 || (size_t)n != len) { /* shorter now: it is changing */
        free(bytes);
        return NULL;
    }
    cache->bytes = bytes;
    cache->bytes_st = *st;
    return bytes;
}

/* The cached file for path, still valid and still linked: 0 with *t. */
static int cache_lookup(sk_http_cache *cache, const char *path, bool dir_form, sk_http_target *t)
{
    if (!cache->path || cache->dir_form != dir_form || strcmp(cache->path, path) != 0)
        return -ENOENT;
    struct stat st;
    if (now_ms() - cache->opened_ms >= SK_HTTP_CACHE_VALID_MS || fstat(cache->t.fd, &st) < 0 ||
        st.st_nlink == 0 || !S_ISREG(st.st_mode)) {
        sk_http_cache_clear(cache);
        return -ENOENT;
    }
    cache->t.st = st;
    *t = cache->t;
    return 0;
}

int sk_http_open_cached(sk_http_cache *cache, int root_fd, const char *path, bool dir_form,
                        sk_http_target *t, bool *cached)
{
    *cached = cache_lookup(cache, path, dir_form, t) == 0;
    if (*cached)
        return 0;
    int status = sk_http_open_target(root_fd, path, dir_form, t);
    if (status != 0 || t->kind != SK_HTTP_FILE)
        return status;
    char *copy = strdup(path);
    if (!copy)
        return 0; /* served uncached */
    unsigned long generation = cache->generation + 1;
    sk_http_cache_clear(cache);
    *cache = (sk_http_cache){.path = copy, .dir_form = dir_form, .t = *t, .opened_ms = now_ms(),
                             .generation = generation};
    *cached = true;
    return 0;
}
