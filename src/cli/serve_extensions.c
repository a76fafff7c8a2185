/* The services whose options `sk serve` takes, in --help order. Each is
 * defined in its own serve_<service>.c. */
#include <stddef.h>

#include "serve_extension.h"

extern const sk_serve_extension sk_serve_file;
extern const sk_serve_extension sk_serve_chat __attribute__((weak));
extern const sk_serve_extension sk_serve_exec __attribute__((weak));
extern const sk_serve_extension sk_serve_http __attribute__((weak));

/* A weak entry is NULL until its file is linked in; users skip NULLs. */
const sk_serve_extension *const sk_serve_extensions[] = {
    &sk_serve_file, &sk_serve_chat, &sk_serve_exec, &sk_serve_http,
};

const size_t sk_serve_extension_count =
    sizeof sk_serve_extensions / sizeof sk_serve_extensions[0];
