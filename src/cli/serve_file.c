/* `sk serve` options of the file service: --file-root, --overwrite,
 * --max-size; the root directory is created and opened when the service
 * is first configured. */
#include <stdio.h>

#include "file_service.h"
#include "option_values.h"
#include "serve_extension.h"

enum { OPT_ROOT = 0x100, OPT_OVERWRITE, OPT_MAX_SIZE };

typedef struct serve_file {
    const char *root;
    bool overwrite;
    uint64_t max_size; /* 0: no limit */
    sk_file_config cfg;
    sk_service service;
    bool ready;
} serve_file;

static const struct option file_options[] = {
    {"file-root", required_argument, NULL, OPT_ROOT},
    {"overwrite", no_argument, NULL, OPT_OVERWRITE},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {NULL, 0, NULL, 0},
};

static int file_option(void *state, int code, const char *arg)
{
    serve_file *f = state;
    switch (code) {
    case OPT_ROOT: f->root = arg; return 0;
    case OPT_OVERWRITE: f->overwrite = true; return 0;
    case OPT_MAX_SIZE: return sk_opt_size("serve", "--max-size", arg, &f->max_size);
    default: return -1;
    }
}

static const sk_service *file_configure(void *state, const sk_endpoint *ep)
{
    (void)ep;
    serve_file *f = state;
    if (f->ready)
        return &f->service;
    char err[512];
    if (sk_file_config_init(&f->cfg, f->root, f->overwrite, f->max_size, err, sizeof err) < 0) {
        fprintf(stderr, "sk: serve: file: %s\n", err);
        return NULL;
    }
    f->service = sk_service_file;
    f->service.context = &f->cfg;
    f->ready = true;
    return &f->service;
}

static void file_release(void *state)
{
    serve_file *f = state;
    if (f->ready)
        sk_file_config_free(&f->cfg);
}

const sk_serve_extension sk_serve_file = {
    .service = "file",
    .options = file_options,
    .code_base = 0x100,
    .help = "\nfile service:\n"
            "      --file-root DIR   serve files under DIR, created if missing (default "
            SK_FILE_DEFAULT_ROOT ")\n"
            "      --overwrite       let uploads replace existing names\n"
            "      --max-size BYTES  refuse uploads larger than BYTES (suffixes K, M, G, T)\n",
    .state_size = sizeof(serve_file),
    .option = file_option,
    .configure = file_configure,
    .release = file_release,
};
