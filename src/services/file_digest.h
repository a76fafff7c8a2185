/* File transfer digests: streaming XXH3-128 (libxxhash) and SHA-256
 * (OpenSSL libcrypto), as lowercase hex, and the per-chunk digests that
 * make resume safe (docs/protocol.md, "File transfer").
 *
 * Shared by the server (file_service.c) and the client (sk send/get/ls). */
#ifndef SK_FILE_DIGEST_H
#define SK_FILE_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Resume granularity: a file is cut into chunks of 4 MiB (the last one may
 * be shorter); a chunk digest is the digest of that chunk's bytes alone. */
#define SK_FILE_CHUNK (4u * 1024u * 1024u)

/* At most this many chunk digests travel in one message ("resume", "get"),
 * so that the message stays far below the 1 MiB control frame limit
 * (8192 x 67 bytes of SHA-256 hex < 600 KiB): a longer partial file is
 * offered as its first SK_FILE_MAX_DIGESTS chunks (32 GiB). */
#define SK_FILE_MAX_DIGESTS 8192u

/* Largest digest in bytes (SHA-256), and its hex form with the NUL. */
#define SK_HASH_MAX_SIZE 32u
#define SK_HASH_HEX_MAX (2u * SK_HASH_MAX_SIZE + 1u)

typedef enum sk_hash_kind {
    SK_HASH_XXH3_128, /* "xxh3-128": 16 bytes, XXH128 canonical (big-endian) form */
    SK_HASH_SHA256,   /* "sha256": 32 bytes */
} sk_hash_kind;

/* One digest as lowercase hex, NUL-terminated (32 or 64 hex digits). */
typedef struct sk_digest_hex {
    char hex[SK_HASH_HEX_MAX];
} sk_digest_hex;

/* The protocol name of a hash kind: "xxh3-128" or "sha256". */
const char *sk_hash_name(sk_hash_kind kind);

/* Parse a protocol hash name. Returns 0 and sets *kind, or -EINVAL. */
int sk_hash_parse(const char *name, sk_hash_kind *kind);

/* Number of hex digits of a digest of this kind (32 or 64). */
size_t sk_hash_hex_len(sk_hash_kind kind);

/* 1 when text is a well-formed digest of this kind: exactly
 * sk_hash_hex_len(kind) lowercase hex digits; else 0. */
int sk_hash_hex_valid(sk_hash_kind kind, const char *text);

/* A streaming hash state. Zero-initialise, then sk_hash_init; release with
 * sk_hash_free (safe on a zeroed or already freed state). */
typedef struct sk_hash {
    sk_hash_kind kind;
    void *impl;   /* XXH3_state_t * or EVP_MD_CTX * */
    int failed;   /* an update failed (libcrypto); sk_hash_final reports it */
} sk_hash;

/* Start (or restart) a hash of the given kind, dropping any data fed so
 * far. Allocates the state on first use. Returns 0 or -ENOMEM / -EIO. */
int sk_hash_init(sk_hash *h, sk_hash_kind kind);

/* Feed len bytes. Never fails by itself: a libcrypto error is remembered
 * and reported by sk_hash_final. */
void sk_hash_update(sk_hash *h, const void *data, size_t len);

/* Feed len bytes of file fd starting at offset (pread in 256 KiB blocks,
 * EINTR retried; the file position is not used or moved).
 * Returns 0, -EIO when the file ends before offset + len, or -errno. */
int sk_hash_update_fd(sk_hash *h, int fd, off_t offset, uint64_t len);

/* Write the digest of everything fed since sk_hash_init as lowercase hex
 * into out. The state must be re-initialised (sk_hash_init) before it is
 * fed again. Returns 0 or -EIO. */
int sk_hash_final(sk_hash *h, sk_digest_hex *out);

/* Release the state. */
void sk_hash_free(sk_hash *h);

/* Free the calling thread's libcrypto state (OPENSSL_thread_stop). A
 * thread that used SHA-256 and is about to end calls it, so that nothing
 * is left for a process exit that races the thread's own exit (the file
 * service does on each connection close). Hashing again later in the same
 * thread, and states in progress, are unaffected. */
void sk_hash_thread_cleanup(void);

/* The digest of len bytes of fd from offset, in one call.
 * Returns 0, -EIO when the file is shorter, -ENOMEM, or -errno. */
int sk_digest_range(int fd, off_t offset, uint64_t len, sk_hash_kind kind, sk_digest_hex *out);

/* Number of chunks of a file of len bytes: whole ones plus a shorter last
 * one (0 for an empty file). */
uint64_t sk_file_chunk_count(uint64_t len);

/* len rounded down to whole chunks. */
uint64_t sk_file_chunk_floor(uint64_t len);

/* Chunk digests of the first len bytes of fd, in one read pass from
 * offset 0: out[i] receives the digest of bytes [i*CHUNK, min((i+1)*CHUNK,
 * len)), so out needs sk_file_chunk_count(len) entries (len is normally a
 * whole number of chunks). When whole is not NULL (an initialised state of
 * the same kind), the same bytes are also fed to it, so that the caller can
 * go on with sk_hash_update_fd from len and get the whole-file digest
 * without reading the prefix twice.
 * Returns 0, -EIO when the file is shorter than len, -ENOMEM, or -errno. */
int sk_digest_chunks(int fd, uint64_t len, sk_hash_kind kind, sk_hash *whole, sk_digest_hex *out);

/* Number of equal leading digests of a and b (compared up to the shorter
 * of the two lists): the resume point is this count x SK_FILE_CHUNK. */
size_t sk_digest_common_prefix(const sk_digest_hex *a, size_t na, const sk_digest_hex *b, size_t nb);

#endif
