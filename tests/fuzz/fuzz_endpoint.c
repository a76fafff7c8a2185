/* libFuzzer target: endpoint text. Parse it; when it parses, format it and
 * parse the result again, which must give the same endpoint. Also feeds the
 * raw bytes to sk_sockaddr_format as a socket address. Never resolves: no
 * DNS from the fuzzer. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sockkit/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): release builds define NDEBUG. */
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                       \
        }                                                                  \
    } while (0)

static void check_same(const sk_endpoint *a, const sk_endpoint *b)
{
    CHECK(a->scheme == b->scheme);
    CHECK(strcmp(a->host, b->host) == 0);
    CHECK(a->port == b->port);
    CHECK(strcmp(a->path, b->path) == 0);
    CHECK(a->abstract == b->abstract);
}

static void fuzz_parse(const char *text)
{
    sk_endpoint ep, again;
    char err[SK_ERRBUF_SIZE];
    char buf[SK_ADDRSTRLEN];

    int rc = sk_endpoint_parse(text, &ep, err, sizeof err);
    if (rc != 0) {
        CHECK(rc == -EINVAL);
        CHECK(err[0] != '\0');
        CHECK(strlen(err) < sizeof err);
        return;
    }
    int n = sk_endpoint_format(&ep, buf, sizeof buf);
    CHECK(n > 0 && (size_t)n == strlen(buf));
    /* Exactly enough room works; one byte less does not. */
    char *exact = malloc((size_t)n + 1);
    CHECK(exact != NULL);
    CHECK(sk_endpoint_format(&ep, exact, (size_t)n + 1) == n);
    CHECK(strcmp(exact, buf) == 0);
    CHECK(sk_endpoint_format(&ep, exact, (size_t)n) == -ENOSPC);
    free(exact);

    rc = sk_endpoint_parse(buf, &again, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "re-parse of \"%s\" failed: %s\n", buf, err);
    CHECK(rc == 0);
    check_same(&ep, &again);
}

static void fuzz_sockaddr(const uint8_t *data, size_t size)
{
    struct sockaddr_storage ss;
    char buf[SK_ADDRSTRLEN];
    if (size > sizeof ss)
        size = sizeof ss;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, data, size);
    int n = sk_sockaddr_format((const struct sockaddr *)&ss, (socklen_t)size, buf, sizeof buf);
    CHECK(n == -EAFNOSUPPORT || n == -EINVAL || (n >= 0 && (size_t)n == strlen(buf)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    fuzz_parse(text);
    free(text);
    fuzz_sockaddr(data, size);
    return 0;
}
