/* `sk serve` options of the HTTP service: --http-root, --http-dotfiles,
 * --access-log, --header-timeout, --keepalive-timeout. The root is opened,
 * the MIME types loaded and the access log opened when the service is
 * first configured. */
#include <stdio.h>

#include "http_service.h"
#include "option_values.h"
#include "serve_extension.h"

enum {
    OPT_ROOT = 0x400,
    OPT_DOTFILES,
    OPT_ACCESS_LOG,
    OPT_HEADER_TIMEOUT,
    OPT_KEEPALIVE_TIMEOUT,
};

typedef struct serve_http {
    sk_http_options opts;
    bool timeouts_set;
    sk_http_config cfg;
    sk_service service;
    bool ready;
} serve_http;

static const struct option http_options[] = {
    {"http-root", required_argument, NULL, OPT_ROOT},
    {"http-dotfiles", no_argument, NULL, OPT_DOTFILES},
    {"access-log", required_argument, NULL, OPT_ACCESS_LOG},
    {"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
    {"keepalive-timeout", required_argument, NULL, OPT_KEEPALIVE_TIMEOUT},
    {NULL, 0, NULL, 0},
};

/* The defaults, once, before the first option lands in the zeroed state. */
static sk_http_options *options_of(serve_http *h)
{
    if (!h->timeouts_set) {
        sk_http_options_default(&h->opts);
        h->timeouts_set = true;
    }
    return &h->opts;
}

static int http_option(void *state, int code, const char *arg)
{
    sk_http_options *o = options_of(state);
    switch (code) {
    case OPT_ROOT: o->root = arg; return 0;
    case OPT_DOTFILES: o->dotfiles = true; return 0;
    case OPT_ACCESS_LOG: o->access_log = arg; return 0;
    case OPT_HEADER_TIMEOUT:
        return sk_opt_seconds("serve", "--header-timeout", arg, &o->header_timeout_ms);
    case OPT_KEEPALIVE_TIMEOUT:
        return sk_opt_seconds("serve", "--keepalive-timeout", arg, &o->keepalive_timeout_ms);
    default: return -1;
    }
}

static const sk_service *http_configure(void *state, const sk_endpoint *ep)
{
    (void)ep;
    serve_http *h = state;
    if (h->ready)
        return &h->service;
    char err[512];
    if (sk_http_config_init(&h->cfg, options_of(h), err, sizeof err) < 0) {
        fprintf(stderr, "sk: serve: http: %s\n", err);
        return NULL;
    }
    h->service = sk_service_http;
    h->service.context = &h->cfg;
    h->ready = true;
    return &h->service;
}

static void http_release(void *state)
{
    serve_http *h = state;
    if (h->ready)
        sk_http_config_free(&h->cfg);
}

const sk_serve_extension sk_serve_http = {
    .service = "http",
    .options = http_options,
    .code_base = 0x400,
    .help = "\nhttp service (static files, HTTP/1.1):\n"
            "      --http-root DIR          serve the files under DIR (default .)\n"
            "      --http-dotfiles          serve and list names starting with '.'\n"
            "      --access-log FILE        append a Combined Log Format line per request\n"
            "      --header-timeout S       close a connection whose request headers take\n"
            "                               longer than S seconds (default 10)\n"
            "      --keepalive-timeout S    close an idle persistent connection after S\n"
            "                               seconds (default 5)\n",
    .state_size = sizeof(serve_http),
    .option = http_option,
    .configure = http_configure,
    .release = http_release,
};
