/* sk: the sockkit command-line tool. Dispatches to a subcommand. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"serve", sk_cmd_serve, "run services (echo, upper, chat, file, exec, http) on TCP, UDP, Unix"},
    {"connect", sk_cmd_connect, "netcat client: stdin to a peer, the peer to stdout"},
    {"listen", sk_cmd_listen, "netcat server: accept a client, relay stdin/stdout"},
    {"bench", sk_cmd_bench, "load generator: round trips/s and latency percentiles"},
    {"send", sk_cmd_send, "upload files and trees to a file server (resumable, verified)"},
    {"get", sk_cmd_get, "download files and trees from a file server (resumable, verified)"},
    {"ls", sk_cmd_ls, "list what a file server holds, like ls -l"},
    {"chat", sk_cmd_chat, "chat client: rooms, nicknames, line editing"},
    {"exec", sk_cmd_exec, "run a command on an exec server, like ssh: output, exit status"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sk COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(out, "  %-9s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out, "\n'sk COMMAND --help' describes one command.\n");
}

int main(int argc, char **argv)
{
    /* A peer that goes away must give EPIPE, never kill the process. */
    signal(SIGPIPE, SIG_IGN);
    /* A file size limit (RLIMIT_FSIZE) must give EFBIG, never kill the process. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (!strcmp(argv[1], subcommands[i].name))
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sk: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
