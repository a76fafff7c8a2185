/* The shared secret of exec: a token file read by `sk serve exec` and by
 * `sk exec`. The file must be a regular file without any permission for
 * group or others, and hold 16 to 4096 bytes of secret (one trailing
 * newline, "\n" or "\r\n", is not part of it). */
#ifndef SK_EXEC_TOKEN_H
#define SK_EXEC_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define SK_EXEC_TOKEN_MIN 16
#define SK_EXEC_TOKEN_MAX 4096

typedef struct sk_exec_token {
    uint8_t bytes[SK_EXEC_TOKEN_MAX];
    size_t len;
} sk_exec_token;

/* Read and check the token file at path.
 *   err/errlen: receives why it was refused, naming the file.
 * Returns 0, -EPERM (group/other permissions), -EINVAL (too short, too
 * long, not a regular file) or the -errno of open/read. */
int sk_exec_token_read(const char *path, sk_exec_token *t, char *err, size_t errlen);

/* Overwrite the secret (OPENSSL_cleanse) and zero the length. */
void sk_exec_token_clear(sk_exec_token *t);

#endif
