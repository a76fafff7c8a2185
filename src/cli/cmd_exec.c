/* sk exec: run a command on an `sk serve exec` server, like ssh:
 *
 *   sk exec [ENDPOINT] [options] -- CMD [ARGS...]
 *
 * The remote stdout and stderr go to ours, our stdin to the command, and
 * sk exec exits with the command's status (128 + signal when a signal
 * killed it; 255 when sk exec itself failed). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "exec_client.h"
#include "exec_proto.h"
#include "option_values.h"

#define DEFAULT_ENDPOINT "127.0.0.1:7011"

static void usage(FILE *out)
{
    fputs("usage: sk exec [ENDPOINT] [options] -- CMD [ARGS...]\n"
          "\n"
          "Run CMD with ARGS on an `sk serve exec` server (default " DEFAULT_ENDPOINT ").\n"
          "The arguments are sent as they are (no shell) unless the server runs\n"
          "--exec-shell, which joins them with spaces for /bin/sh -c, as ssh does.\n"
          "The command's stdout and stderr come to ours as it writes them; our stdin\n"
          "goes to it until EOF.\n"
          "\n"
          "ENDPOINT: host:port, [v6]:port, tcp:host:port, unix:/path, unix:@name\n"
          "\n"
          "options:\n"
          "      --token-file FILE  the shared secret (default $SK_EXEC_TOKEN_FILE,\n"
          "                         else ~/.config/sk/exec-token); mode 600\n"
          "      --timeout S        the server kills the command after S seconds\n"
          "      --env NAME=VALUE   set a variable for the command (repeatable; the\n"
          "                         server may refuse some, see docs/exec.md)\n"
          "      --cwd DIR          run the command in DIR on the server\n"
          "  -n                     send no stdin (the command reads EOF at once)\n"
          "  -v, --verbose          report the connection and the remote pid\n"
          "  -h, --help             show this help\n"
          "\n"
          "exit status: the command's own; 128 + N when signal N killed it; 124 when\n"
          "--timeout ended it; 126 refused or cannot be started; 127 not found;\n"
          "255 connection, authentication or protocol failure; 2 usage error.\n",
          out);
}

static const struct option longopts[] = {
    {"token-file", required_argument, NULL, 'T'}, {"timeout", required_argument, NULL, 't'},
    {"env", required_argument, NULL, 'e'},        {"cwd", required_argument, NULL, 'C'},
    {"verbose", no_argument, NULL, 'v'},          {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct exec_cli {
    sk_exec_client c;
    char *env[SK_EXEC_ENV_MAX + 1];
    char token_path[4096];
    const char *endpoint;
} exec_cli;

/* Returns -1 to go on, else an exit status. */
static int parse_option(exec_cli *x, int opt, const char *arg)
{
    int ms;
    switch (opt) {
    case 'T': x->c.token_file = arg; return -1;
    case 't':
        if (sk_opt_seconds("exec", "--timeout", arg, &ms) < 0)
            return 2;
        x->c.req.timeout_ms = (uint32_t)ms;
        return -1;
    case 'e':
        if (!strchr(arg, '=') || arg[0] == '=' || x->c.req.envc == SK_EXEC_ENV_MAX) {
            fprintf(stderr, "sk: exec: --env wants NAME=VALUE (at most %u), got '%s'\n",
                    SK_EXEC_ENV_MAX, arg);
            return 2;
        }
        x->env[x->c.req.envc++] = (char *)arg;
        return -1;
    case 'C': x->c.req.cwd = (char *)arg; return -1;
    case 'n': x->c.no_stdin = true; return -1;
    case 'v': x->c.verbose = true; return -1;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
}

/* Options and the endpoint before "--" (at index dd). Returns -1 or a status. */
static int parse_head(exec_cli *x, int dd, char **argv)
{
    int opt;
    optind = 1;
    while ((opt = getopt_long(dd, argv, "nvh", longopts, NULL)) != -1) {
        int rc = parse_option(x, opt, optarg);
        if (rc >= 0)
            return rc;
    }
    if (dd - optind > 1) {
        fprintf(stderr, "sk: exec: one ENDPOINT at most before '--' (see 'sk exec --help')\n");
        return 2;
    }
    x->endpoint = optind < dd ? argv[optind] : DEFAULT_ENDPOINT;
    return -1;
}

static const char *default_token_file(exec_cli *x)
{
    const char *env = getenv("SK_EXEC_TOKEN_FILE");
    if (env && env[0])
        return env;
    const char *home = getenv("HOME");
    snprintf(x->token_path, sizeof x->token_path, "%s/.config/sk/exec-token",
             home && home[0] ? home : ".");
    return x->token_path;
}

static int find_dashdash(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--"))
            return i;
    return -1;
}

static int parse(exec_cli *x, int argc, char **argv)
{
    int dd = find_dashdash(argc, argv);
    for (int i = 1; i < (dd < 0 ? argc : dd); i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
    if (dd < 0 || dd + 1 >= argc) {
        fprintf(stderr, "sk: exec: give the command after '--': sk exec [ENDPOINT] -- CMD "
                        "[ARGS...]\n");
        return 2;
    }
    int rc = parse_head(x, dd, argv);
    if (rc >= 0)
        return rc;
    char err[SK_ERRBUF_SIZE];
    if (sk_endpoint_parse(x->endpoint, &x->c.ep, err, sizeof err) < 0) {
        fprintf(stderr, "sk: exec: %s\n", err);
        return 2;
    }
    if (!x->c.token_file)
        x->c.token_file = default_token_file(x);
    x->c.req.argv = argv + dd + 1;
    x->c.req.argc = (size_t)(argc - dd - 1);
    x->c.req.env = x->env;
    if (!x->c.req.cwd)
        x->c.req.cwd = "";
    return -1;
}

int sk_cmd_exec(int argc, char **argv)
{
    exec_cli *x = calloc(1, sizeof *x);
    if (!x) {
        fprintf(stderr, "sk: exec: out of memory\n");
        return 255;
    }
    x->c.sock.fd = -1;
    int status = parse(x, argc, argv);
    if (status < 0)
        status = sk_exec_client_start(&x->c);
    if (status == 0 && x->c.sock.fd >= 0)
        status = sk_exec_client_relay(&x->c);
    free(x);
    return status;
}
