/* http: a static HTTP/1.1 file server as an sk_service (GET and HEAD,
 * persistent connections, pipelining, conditional and range requests,
 * directory listings). See docs/http.md. */
#ifndef SK_HTTP_SERVICE_H
#define SK_HTTP_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "sockkit/service.h"

/* The service; its context must be an sk_http_config (sk_serve_http sets
 * it on a copy). */
extern const sk_service sk_service_http;

/* How `sk serve` configures it. */
typedef struct sk_http_options {
    const char *root;          /* directory served; NULL: "." */
    bool dotfiles;             /* serve and list names starting with '.' */
    const char *access_log;    /* Combined Log Format file; NULL: none */
    int header_timeout_ms;     /* request line + headers must arrive within; 0: none */
    int keepalive_timeout_ms;  /* idle time allowed between requests; 0: none */
} sk_http_options;

struct sk_http_mime;

/* The configuration shared by every connection (read-only while serving). */
typedef struct sk_http_config {
    int root_fd;               /* the root directory (O_PATH) */
    bool dotfiles;
    int access_log_fd;         /* -1: no access log */
    int header_timeout_ms;
    int keepalive_timeout_ms;
    struct sk_http_mime *mime; /* extension -> media type */
} sk_http_config;

/* Defaults: root ".", no dotfiles, no log, header 10 s, keep-alive 5 s. */
void sk_http_options_default(sk_http_options *o);

/* Open the root and the access log, load the MIME types.
 * Returns 0, or -errno with a message in err. */
int sk_http_config_init(sk_http_config *cfg, const sk_http_options *o, char *err, size_t errlen);

/* Close and free what sk_http_config_init opened. */
void sk_http_config_free(sk_http_config *cfg);

#endif
