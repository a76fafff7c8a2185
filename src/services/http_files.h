/* HTTP static files: what a decoded request path names beneath the root
 * directory, opened safely (openat2 RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). */
#ifndef SK_HTTP_FILES_H
#define SK_HTTP_FILES_H

#include <stdbool.h>
#include <sys/stat.h>

/* What a path resolved to. */
typedef enum sk_http_target_kind {
    SK_HTTP_FILE,      /* a regular file: fd open for reading, st its status */
    SK_HTTP_LISTING,   /* a directory without index.html: fd open on it */
    SK_HTTP_REDIRECT,  /* a directory named without its trailing slash: 301 */
} sk_http_target_kind;

typedef struct sk_http_target {
    sk_http_target_kind kind;
    int fd;            /* -1 for a redirect */
    struct stat st;
} sk_http_target;

/* Open path (decoded, relative to the root; a leading '/' is ignored, ""
 * is the root) beneath root_fd. dir_form: the request ended in '/'; a
 * directory gives its index.html when there is one (a regular file), else
 * its listing. Symlinks may not lead outside the root.
 * Returns 0 with *t filled (close t->fd when done), or an HTTP status:
 * 404 (missing, outside the root, a file named with a trailing slash),
 * 403 (not readable, not a regular file or directory), 500. */
int sk_http_open_target(int root_fd, const char *path, bool dir_form, sk_http_target *t);

/* A connection's cache of the file it served last (the open file cache of
 * a persistent connection that asks for the same file again): the fd is
 * reused for SK_HTTP_CACHE_VALID_MS after the open, its status refreshed
 * with fstat each time, and dropped when the file was deleted. A path
 * pointed elsewhere meanwhile (rename over a file that keeps another link,
 * a swapped symlink) may thus serve the former file for at most that long. */
enum { SK_HTTP_CACHE_VALID_MS = 1000, SK_HTTP_CACHE_BYTES_MAX = 16 * 1024 };

/* Whether two statuses name the same version of a file: same inode and
 * device, size, mtime and ctime (a rewrite in place changes the times,
 * a rename over it the inode). */
bool sk_http_same_version(const struct stat *a, const struct stat *b);

typedef struct sk_http_cache {
    char *path;          /* NULL: empty */
    bool dir_form;
    sk_http_target t;    /* kind SK_HTTP_FILE */
    long long opened_ms; /* CLOCK_MONOTONIC_COARSE */
    unsigned long generation; /* changes whenever another file is cached */
    char *bytes;         /* a small file's contents as of bytes_st; NULL: none */
    struct stat bytes_st;
} sk_http_cache;

/* sk_http_open_target through the cache: t->fd then belongs to the cache
 * (do not close it) when *cached is true. */
int sk_http_open_cached(sk_http_cache *cache, int root_fd, const char *path, bool dir_form,
                        sk_http_target *t, bool *cached);

/* The whole contents of the cached file (cache->t), when it is at most
 * SK_HTTP_CACHE_BYTES_MAX bytes: kept from an earlier call while the file
 * is the same version (sk_http_same_version with t.st, just refreshed by
 * fstat), else read again. NULL when too large, unreadable, or changed in
 * the last 2 s (a file system with coarse times could give a change made
 * right after the read the same status); the caller then reads the file
 * itself. */
const char *sk_http_cache_bytes(sk_http_cache *cache);

/* Close the cached file and forget it. */
void sk_http_cache_clear(sk_http_cache *cache);

#endif
