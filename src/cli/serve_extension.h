/* A service's own `sk serve` options (--file-root, --chat-rate, ...) and
 * how they turn into a configured copy of the service. cmd_serve.c merges
 * every extension's long options into one getopt_long table, hands each
 * option to its extension, and asks the extension for the service to serve
 * at each endpoint. One file per service: serve_file.c, serve_chat.c, ... */
#ifndef SK_CLI_SERVE_EXTENSION_H
#define SK_CLI_SERVE_EXTENSION_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "sockkit/addr.h"
#include "sockkit/service.h"

typedef struct sk_serve_extension {
    const char *service;            /* the service it configures: "file" */
    /* Its long options, ending with a zeroed entry. Every .val lies in
     * [code_base, code_base + 255] so that options never collide. */
    const struct option *options;
    int code_base;
    const char *help;               /* its block of `sk serve --help`, ending in "\n" */
    size_t state_size;              /* bytes of option state, zeroed at start */

    /* One of its options was given: code is the option's .val, arg its
     * argument (NULL for flags). Returns 0, or -1 after printing
     * "sk: serve: ..." to stderr (usage error, exit status 2). */
    int (*option)(void *state, int code, const char *arg);

    /* Whether a bare `sk serve` (no SERVICE argument) starts the service.
     * NULL: always. */
    bool (*by_default)(const void *state);

    /* The service to serve at endpoint ep (called once per listener
     * argument, after every option): typically a copy of the service whose
     * .context points at a configuration kept in state; both must outlive
     * the server. Returns NULL after printing "sk: serve: SERVICE: why". */
    const sk_service *(*configure)(void *state, const sk_endpoint *ep);

    /* Release what state holds, after the server is destroyed. Optional. */
    void (*release)(void *state);
} sk_serve_extension;

/* The extensions (serve_extensions.c): sk_serve_extension_count entries. */
extern const sk_serve_extension *const sk_serve_extensions[];
extern const size_t sk_serve_extension_count;

#endif
