/* Nonces from getrandom(2) and HMAC-SHA256 answers checked in constant time. */
#include "exec_auth.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int sk_exec_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int sk_exec_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                        uint8_t out[SK_EXEC_MAC_SIZE])
{
    unsigned int out_len = 0;
    if (key_len > INT32_MAX)
        return -EINVAL;
    if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len) ||
        out_len != SK_EXEC_MAC_SIZE)
        return -EIO;
    return 0;
}

int sk_exec_auth_answer(const uint8_t *token, size_t token_len,
                        const uint8_t server_nonce[SK_EXEC_NONCE_SIZE],
                        const uint8_t client_nonce[SK_EXEC_NONCE_SIZE],
                        uint8_t mac[SK_EXEC_MAC_SIZE])
{
    uint8_t both[2 * SK_EXEC_NONCE_SIZE];
    memcpy(both, server_nonce, SK_EXEC_NONCE_SIZE);
    memcpy(both + SK_EXEC_NONCE_SIZE, client_nonce, SK_EXEC_NONCE_SIZE);
    return sk_exec_hmac_sha256(token, token_len, both, sizeof both, mac);
}

bool sk_exec_auth_check(const uint8_t *token, size_t token_len,
                        const uint8_t server_nonce[SK_EXEC_NONCE_SIZE],
                        const uint8_t client_nonce[SK_EXEC_NONCE_SIZE],
                        const uint8_t mac[SK_EXEC_MAC_SIZE])
{
    uint8_t want[SK_EXEC_MAC_SIZE];
    if (sk_exec_auth_answer(token, token_len, server_nonce, client_nonce, want) < 0)
        return false;
    bool ok = CRYPTO_memcmp(want, mac, SK_EXEC_MAC_SIZE) == 0;
    OPENSSL_cleanse(want, sizeof want);
    return ok;
}
