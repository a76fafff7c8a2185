/* libFuzzer target for the exec protocol's message decoders (docs/exec.md).
 *
 * The input is one frame payload, decoded from an exactly-sized heap copy
 * (ASan catches a read past len) as every message type. A request that
 * decodes must encode again to the same payload bytes and decode to the
 * same strings; no string may hold a NUL; an error's text has no control
 * bytes.
 *
 * The services are not part of the fuzz build (library sources only), so
 * the decoder's source is included here. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/services/exec_proto.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const uint8_t *p, size_t n)
{
    sk_exec_request r;
    if (sk_exec_decode_request(p, n, &r) != 0)
        return;
    if (r.argc < 1 || !r.argv[0][0] || r.argv[r.argc] || r.env[r.envc])
        abort();
    uint8_t *frame;
    size_t len;
    if (sk_exec_encode_request(&r, &frame, &len) == 0) {
        /* the same bytes back: the encoding is canonical */
        if (len != n + SK_FRAME_HEADER_SIZE || memcmp(frame + SK_FRAME_HEADER_SIZE, p, n))
            abort();
        free(frame);
    } else if (n + SK_FRAME_HEADER_SIZE <= SK_EXEC_FRAME_MAX) {
        abort(); /* decodable and within the limits: must encode */
    }
    sk_exec_request_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    check_request(p, size);
    uint8_t a[SK_EXEC_NONCE_SIZE], b[SK_EXEC_MAC_SIZE], code;
    uint32_t pid;
    sk_exec_exit e;
    char msg[64];
    sk_exec_decode_challenge(p, size, a);
    sk_exec_decode_auth(p, size, a, b);
    sk_exec_decode_started(p, size, &pid);
    if (sk_exec_decode_exit(p, size, &e) == 0 && e.how > SK_EXEC_SIGNALED)
        abort();
    if (sk_exec_decode_error(p, size, &code, msg, sizeof msg) == 0)
        for (size_t i = 0; msg[i]; i++)
            if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
                abort();
    free(p);
    return 0;
}
