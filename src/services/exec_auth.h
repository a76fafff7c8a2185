/* The exec handshake's cryptography (docs/exec.md, "Authentication"):
 * random nonces, and the answer HMAC-SHA256(token, server nonce || client
 * nonce) computed and checked in constant time. A fresh server nonce per
 * connection makes an answer useless on any other connection. */
#ifndef SK_EXEC_AUTH_H
#define SK_EXEC_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec_proto.h"

/* Fill buf with len random bytes from the kernel (getrandom, retried on
 * EINTR and short reads). Returns 0 or -errno. */
int sk_exec_random(void *buf, size_t len);

/* HMAC-SHA256 of data under key (OpenSSL), RFC 2104 / FIPS 198-1.
 * Returns 0, or -EIO when OpenSSL fails. */
int sk_exec_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                        uint8_t out[SK_EXEC_MAC_SIZE]);

/* The answer to a challenge: HMAC-SHA256(token, server_nonce || client_nonce).
 * Returns 0 or -EIO. */
int sk_exec_auth_answer(const uint8_t *token, size_t token_len,
                        const uint8_t server_nonce[SK_EXEC_NONCE_SIZE],
                        const uint8_t client_nonce[SK_EXEC_NONCE_SIZE],
                        uint8_t mac[SK_EXEC_MAC_SIZE]);

/* Whether mac answers the challenge for token; the comparison takes the
 * same time wherever the bytes differ (CRYPTO_memcmp). */
bool sk_exec_auth_check(const uint8_t *token, size_t token_len,
                        const uint8_t server_nonce[SK_EXEC_NONCE_SIZE],
                        const uint8_t client_nonce[SK_EXEC_NONCE_SIZE],
                        const uint8_t mac[SK_EXEC_MAC_SIZE]);

#endif
