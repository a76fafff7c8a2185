/* libFuzzer target for request-target -> relative path.
 *
 * Input layout: byte 0 bit 0: allow dotfiles; bits 1-7: output size (0: 4096);
 * the rest is the target. Checks, on success: the path is short enough, has no
 * leading, trailing or doubled '/', no "." or ".." segment, no '\\' or control
 * character, no dotfile unless allowed; allowing dotfiles never changes a success;
 * percent-encoding the result and mapping it again gives the same path.
 *
 * The services are not part of the fuzz build, so the source is included here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) \
    do { \
        if (!(cond)) \
            abort(); \
    } while (0)

#define OUT_MAX 4096

static void check_path(const char *out, size_t outlen, bool dotfiles)
{
    size_t n = strlen(out);
    CHECK(n < outlen);
    if (n == 0)
        return;
    CHECK(out[0] != '/' && out[n - 1] != '/');
    for (const char *seg = out; *seg;) {
        size_t len = strcspn(seg, "/");
        CHECK(len > 0);
        CHECK(!(len == 1 && seg[0] == '.'));
        CHECK(!(len == 2 && seg[0] == '.' && seg[1] == '.'));
        CHECK(dotfiles || seg[0] != '.');
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)seg[i];
            CHECK(c != '\\' && c >= 0x20 && c != 0x7f);
        }
        seg += len + (seg[len] == '/');
    }
}

/* "/" + out with every byte percent-encoded except '/'. */
static size_t encode(const char *out, char *enc)
{
    size_t k = 0;
    enc[k++] = '/';
    for (const char *p = out; *p; p++) {
        if (*p == '/') {
            enc[k++] = '/';
        } else {
            sprintf(enc + k, "%%%02X", (unsigned char)*p);
            k += 3;
        }
    }
    return k;
}

static int map(const uint8_t *t, size_t n, bool dotfiles, char *out, size_t outlen, bool *dir)
{
    char *copy = malloc(n ? n : 1); /* exactly sized: ASan catches a read past n */
    CHECK(copy != NULL);
    memcpy(copy, t, n);
    int r = sk_http_target_to_path(copy, n, dotfiles, out, outlen, dir);
    free(copy);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 3 * OUT_MAX)
        return 0;
    bool dotfiles = data[0] & 1;
    size_t outlen = data[0] >> 1 ? (size_t)(data[0] >> 1) : OUT_MAX;
    const uint8_t *t = data + 1;
    size_t n = size - 1;
    static char out[OUT_MAX], out2[OUT_MAX], enc[3 * OUT_MAX + 1];
    bool dir = false, dir2 = false;
    int r = map(t, n, dotfiles, out, outlen, &dir);
    CHECK(r == 0 || r == -400 || r == -404 || r == -414);
    if (r != 0) {
        CHECK(out[0] == '\0');
        CHECK(r != -404 || !dotfiles);
        if (r == -404) /* only the dotfile rule failed */
            CHECK(map(t, n, true, out2, outlen, &dir2) == 0);
        return 0;
    }
    check_path(out, outlen, dotfiles);
    if (!dotfiles) {
        CHECK(map(t, n, true, out2, outlen, &dir2) == 0);
        CHECK(strcmp(out, out2) == 0 && dir == dir2);
    }
    size_t k = encode(out, enc);
    CHECK(map((const uint8_t *)enc, k, true, out2, OUT_MAX, &dir2) == 0);
    CHECK(strcmp(out, out2) == 0);
    CHECK(dir2 == (out[0] == '\0'));
    return 0;
}
