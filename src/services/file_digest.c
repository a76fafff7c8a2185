/* Streaming digests for file transfer: XXH3-128 and SHA-256, chunk digests. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <xxhash.h>

#include "file_digest.h"

/* Bytes read per pread when hashing a file: small enough to stay in the
 * CPU's L2 cache between the read and the hash. */
enum { READ_BLOCK = 256 * 1024 };

const char *sk_hash_name(sk_hash_kind kind)
{
    return kind == SK_HASH_SHA256 ? "sha256" : "xxh3-128";
}

int sk_hash_parse(const char *name, sk_hash_kind *kind)
{
    if (!strcmp(name, "xxh3-128"))
        *kind = SK_HASH_XXH3_128;
    else if (!strcmp(name, "sha256"))
        *kind = SK_HASH_SHA256;
    else
        return -EINVAL;
    return 0;
}

size_t sk_hash_hex_len(sk_hash_kind kind)
{
    return kind == SK_HASH_SHA256 ? 64 : 32;
}

int sk_hash_hex_valid(sk_hash_kind kind, const char *text)
{
    size_t n = sk_hash_hex_len(kind);
    for (size_t i = 0; i < n; i++) {
        char ch = text[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return 0;
    }
    return text[n] == '\0';
}

static void hex_encode(const uint8_t *bytes, size_t n, sk_digest_hex *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out->hex[2 * i] = digits[bytes[i] >> 4];
        out->hex[2 * i + 1] = digits[bytes[i] & 15];
    }
    out->hex[2 * n] = '\0';
}

void sk_hash_free(sk_hash *h)
{
    if (h->impl) {
        if (h->kind == SK_HASH_SHA256)
            EVP_MD_CTX_free(h->impl);
        else
            XXH3_freeState(h->impl);
    }
    h->impl = NULL;
    h->failed = 0;
}

int sk_hash_init(sk_hash *h, sk_hash_kind kind)
{
    if (h->impl && h->kind != kind)
        sk_hash_free(h);
    h->kind = kind;
    h->failed = 0;
    if (kind == SK_HASH_SHA256) {
        if (!h->impl && !(h->impl = EVP_MD_CTX_new()))
            return -ENOMEM;
        return EVP_DigestInit_ex(h->impl, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
    }
    if (!h->impl && !(h->impl = XXH3_createState()))
        return -ENOMEM;
    return XXH3_128bits_reset(h->impl) == XXH_OK ? 0 : -EIO;
}

void sk_hash_update(sk_hash *h, const void *data, size_t len)
{
    if (len == 0 || !h->impl)
        return;
    int ok = h->kind == SK_HASH_SHA256 ? EVP_DigestUpdate(h->impl, data, len) == 1
                                       : XXH3_128bits_update(h->impl, data, len) == XXH_OK;
    if (!ok)
        h->failed = 1;
}

int sk_hash_final(sk_hash *h, sk_digest_hex *out)
{
    if (!h->impl || h->failed)
        return -EIO;
    if (h->kind == SK_HASH_SHA256) {
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        if (EVP_DigestFinal_ex(h->impl, md, &n) != 1 || n != 32)
            return -EIO;
        hex_encode(md, n, out);
        return 0;
    }
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(h->impl));
    hex_encode(canon.digest, sizeof canon.digest, out);
    return 0;
}

void sk_hash_thread_cleanup(void)
{
    OPENSSL_thread_stop();
}

/* pread exactly len bytes at offset. Returns 0, -EIO at an early EOF, -errno. */
static int pread_full(int fd, uint8_t *buf, size_t len, off_t offset)
{
    while (len > 0) {
        ssize_t n = pread(fd, buf, len, offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        buf += n;
        len -= (size_t)n;
        offset += n;
    }
    return 0;
}

/* Feed [offset, offset + len) of fd to up to two states. */
static int feed_fd(int fd, off_t offset, uint64_t len, sk_hash *a, sk_hash *b, uint8_t *buf)
{
    while (len > 0) {
        size_t n = len < READ_BLOCK ? (size_t)len : READ_BLOCK;
        int rc = pread_full(fd, buf, n, offset);
        if (rc < 0)
            return rc;
        sk_hash_update(a, buf, n);
        if (b)
            sk_hash_update(b, buf, n);
        offset += (off_t)n;
        len -= n;
    }
    return 0;
}

int sk_hash_update_fd(sk_hash *h, int fd, off_t offset, uint64_t len)
{
    if (len == 0)
        return 0;
    uint8_t *buf = malloc(READ_BLOCK);
    if (!buf)
        return -ENOMEM;
    int rc = feed_fd(fd, offset, len, h, NULL, buf);
    free(buf);
    return rc;
}

int sk_digest_range(int fd, off_t offset, uint64_t len, sk_hash_kind kind, sk_digest_hex *out)
{
    sk_hash h = {0};
    int rc = sk_hash_init(&h, kind);
    if (rc == 0)
        rc = sk_hash_update_fd(&h, fd, offset, len);
    if (rc == 0)
        rc = sk_hash_final(&h, out);
    sk_hash_free(&h);
    return rc;
}

uint64_t sk_file_chunk_count(uint64_t len)
{
    return len / SK_FILE_CHUNK + (len % SK_FILE_CHUNK != 0);
}

uint64_t sk_file_chunk_floor(uint64_t len)
{
    return len - len % SK_FILE_CHUNK;
}

int sk_digest_chunks(int fd, uint64_t len, sk_hash_kind kind, sk_hash *whole, sk_digest_hex *out)
{
    if (len == 0)
        return 0;
    uint8_t *buf = malloc(READ_BLOCK);
    if (!buf)
        return -ENOMEM;
    sk_hash chunk = {0};
    int rc = 0;
    for (uint64_t i = 0, off = 0; rc == 0 && off < len; i++, off += SK_FILE_CHUNK) {
        uint64_t n = len - off < SK_FILE_CHUNK ? len - off : SK_FILE_CHUNK;
        rc = sk_hash_init(&chunk, kind);
        if (rc == 0)
            rc = feed_fd(fd, (off_t)off, n, &chunk, whole, buf);
        if (rc == 0)
            rc = sk_hash_final(&chunk, &out[i]);
    }
    sk_hash_free(&chunk);
    free(buf);
    return rc;
}

size_t sk_digest_common_prefix(const sk_digest_hex *a, size_t na, const sk_digest_hex *b, size_t nb)
{
    size_t n = na < nb ? na : nb, i = 0;
    while (i < n && !strcmp(a[i].hex, b[i].hex))
        i++;
    return i;
}
