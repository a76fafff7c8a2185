/* The services whose options `sk serve` takes, in --help order. Each is
 * defined in its own serve_<service>.c. */
#include <stddef.h>

#include "serve_extension.h"

extern const sk_serve_extension sk_serve_file;
extern const sk_serve_extension sk_serve_chat;
extern const sk_serve_extension sk_serve_exec;
extern const sk_serve_extension sk_serve_http;

const sk_serve_extension *const sk_serve_extensions[] = {
    &sk_serve_file, &sk_serve_chat, &sk_serve_exec, &sk_serve_http,
};

const size_t sk_serve_extension_count =
    sizeof sk_serve_extensions / sizeof sk_serve_extensions[0];
