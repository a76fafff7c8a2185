/* `sk serve` options of the chat service: --chat-rate (flood control) and
 * --chat-queue (the output a client may leave unread); the rooms (the
 * hub) are created when the service is first configured and shared by
 * every chat endpoint of the server. */
#include <stdio.h>
#include <string.h>

#include "chat_service.h"
#include "option_values.h"
#include "serve_extension.h"

enum { OPT_RATE = 0x200, OPT_QUEUE };

enum {
    RATE_MAX = 1000000,
    QUEUE_MIN = 16 * 1024,
};

typedef struct serve_chat {
    bool rate_given, queue_given;
    sk_chat_config cfg;
    sk_chat_hub *hub;
    sk_service service;
} serve_chat;

static const struct option chat_options[] = {
    {"chat-rate", required_argument, NULL, OPT_RATE},
    {"chat-queue", required_argument, NULL, OPT_QUEUE},
    {NULL, 0, NULL, 0},
};

/* "N" (burst 2N) or "N/BURST"; 0 turns flood control off. */
static int parse_rate(serve_chat *c, const char *arg)
{
    char rate[32];
    const char *slash = strchr(arg, '/');
    size_t n = slash ? (size_t)(slash - arg) : strlen(arg);
    long r, b;
    snprintf(rate, sizeof rate, "%.*s", (int)(n < sizeof rate ? n : sizeof rate - 1), arg);
    if (sk_opt_count("serve", "--chat-rate", rate, 0, RATE_MAX, &r) < 0)
        return -1;
    b = r > 0 ? 2 * r : 1;
    if (slash && sk_opt_count("serve", "--chat-rate (burst)", slash + 1, 1, 2L * RATE_MAX, &b) < 0)
        return -1;
    c->cfg.rate = (unsigned)r;
    c->cfg.burst = (unsigned)b;
    c->rate_given = true;
    return 0;
}

static int chat_option(void *state, int code, const char *arg)
{
    serve_chat *c = state;
    uint64_t bytes;
    switch (code) {
    case OPT_RATE:
        return parse_rate(c, arg);
    case OPT_QUEUE:
        if (sk_opt_size("serve", "--chat-queue", arg, &bytes) < 0)
            return -1;
        if (bytes < QUEUE_MIN || bytes > SIZE_MAX / 4) {
            fprintf(stderr, "sk: serve: --chat-queue wants at least 16K, got '%s'\n", arg);
            return -1;
        }
        c->cfg.queue_max = (size_t)bytes;
        c->queue_given = true;
        return 0;
    default:
        return -1;
    }
}

static const sk_service *chat_configure(void *state, const sk_endpoint *ep)
{
    (void)ep;
    serve_chat *c = state;
    if (c->hub)
        return &c->service;
    if (!c->rate_given) {
        c->cfg.rate = SK_CHAT_DEFAULT_RATE;
        c->cfg.burst = SK_CHAT_DEFAULT_BURST;
    }
    if (!c->queue_given)
        c->cfg.queue_max = SK_CHAT_DEFAULT_QUEUE;
    c->hub = sk_chat_hub_new(&c->cfg);
    if (!c->hub) {
        fprintf(stderr, "sk: serve: chat: out of memory\n");
        return NULL;
    }
    c->service = sk_service_chat;
    c->service.context = c->hub;
    return &c->service;
}

static void chat_release(void *state)
{
    serve_chat *c = state;
    sk_chat_hub_free(c->hub);
    c->hub = NULL;
}

#define STR_(x) #x
#define STR(x) STR_(x)

const sk_serve_extension sk_serve_chat = {
    .service = "chat",
    .options = chat_options,
    .code_base = 0x200,
    .help = "\nchat service:\n"
            "      --chat-rate N[/B]   flood control: N lines per second per client, bursts\n"
            "                          of B (default " STR(SK_CHAT_DEFAULT_RATE) "/"
            STR(SK_CHAT_DEFAULT_BURST) "; B defaults to 2N; 0: no limit)\n"
            "      --chat-queue BYTES  output a client may leave unread before it is\n"
            "                          disconnected (default 1M, at least 16K)\n",
    .state_size = sizeof(serve_chat),
    .option = chat_option,
    .configure = chat_configure,
    .release = chat_release,
};
