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

enum { OPENAT2_RETRIES = 8, PATH_BYTES = 8192 };

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
    sk_http_cache_clear(cache);
    *cache = (sk_http_cache){.path = copy, .dir_form = dir_form, .t = *t, .opened_ms = now_ms()};
    *cached = true;
    return 0;
}
