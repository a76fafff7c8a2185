/* Token files: permission and size checks, then the secret's bytes. */
#include "exec_token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* Read up to len bytes (fewer at EOF). Returns the count or -errno. */
static ssize_t read_all(int fd, uint8_t *buf, size_t len)
{
    size_t have = 0;
    while (have < len) {
        ssize_t n = read(fd, buf + have, len - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        have += (size_t)n;
    }
    return (ssize_t)have;
}

static int check_file(int fd, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "token file %s: %s", path, strerror(e));
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "token file %s is not a regular file", path);
        return -EINVAL;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen,
                 "token file %s has permissions %04o: group and others must have none "
                 "(chmod 600 %s)", path, (unsigned)(st.st_mode & 07777), path);
        return -EPERM;
    }
    return 0;
}

/* Drop one trailing "\n" or "\r\n". */
static void strip_newline(sk_exec_token *t)
{
    if (t->len > 0 && t->bytes[t->len - 1] == '\n')
        t->len--;
    if (t->len > 0 && t->bytes[t->len - 1] == '\r')
        t->len--;
}

int sk_exec_token_read(const char *path, sk_exec_token *t, char *err, size_t errlen)
{
    t->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "token file %s: %s", path, strerror(e));
        return -e;
    }
    int rc = check_file(fd, path, err, errlen);
    uint8_t extra;
    ssize_t n = rc < 0 ? rc : read_all(fd, t->bytes, sizeof t->bytes);
    if (n >= 0 && (size_t)n == sizeof t->bytes && read_all(fd, &extra, 1) == 1) {
        snprintf(err, errlen, "token file %s is longer than %d bytes", path, SK_EXEC_TOKEN_MAX);
        n = -EINVAL;
    }
    close(fd);
    if (n < 0) {
        if (rc == 0 && n != -EINVAL)
            snprintf(err, errlen, "token file %s: %s", path, strerror((int)-n));
        sk_exec_token_clear(t);
        return (int)n;
    }
    t->len = (size_t)n;
    strip_newline(t);
    if (t->len < SK_EXEC_TOKEN_MIN) {
        snprintf(err, errlen, "token file %s holds %zu bytes of secret; at least %d are needed",
                 path, t->len, SK_EXEC_TOKEN_MIN);
        sk_exec_token_clear(t);
        return -EINVAL;
    }
    return 0;
}

void sk_exec_token_clear(sk_exec_token *t)
{
    OPENSSL_cleanse(t->bytes, sizeof t->bytes);
    t->len = 0;
}
