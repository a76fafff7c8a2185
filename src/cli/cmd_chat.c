/* sk chat: the chat client. Connects to a chat server (`sk serve chat`,
 * or anything that speaks lines, like `ncat --chat`), then runs the
 * terminal front end (chat_terminal.h) or, when stdin or stdout is not a
 * terminal, plain line mode (chat_lines.h). */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat_lines.h"
#include "chat_client.h"
#include "chat_terminal.h"
#include "commands.h"
#include "sockkit/addr.h"
#include "sockkit/error.h"
#include "sockkit/sock.h"

#define DEFAULT_ENDPOINT "127.0.0.1:7009"
/* Limit for the connection attempt to each address, milliseconds. */
#define CONNECT_TIMEOUT_MS 10000
/* parse_args result meaning "go on and run". */
#define PARSE_OK (-1)

typedef struct chat_opts {
    const char *endpoint_text;
    sk_endpoint endpoint;
    const char *nick;
} chat_opts;

static void usage(FILE *out)
{
    fputs("usage: sk chat [options] [ENDPOINT]\n"
          "\n"
          "Chat client: connect to a chat server (`sk serve chat`; default\n"
          "ENDPOINT " DEFAULT_ENDPOINT ") and talk in its rooms. Lines typed are sent;\n"
          "lines starting with / are commands to the server: /nick NAME, /join ROOM,\n"
          "/part, /msg NICK TEXT, /me TEXT, /who, /rooms, /help, /quit.\n"
          "\n"
          "On a terminal the input line has editing and history (libedit), and\n"
          "messages arriving while a line is typed print above it. Ctrl-D or /quit\n"
          "ends the session.\n"
          "When stdin or stdout is not a terminal (a script), stdin is sent as it\n"
          "is and the server's lines are written to stdout; the client exits when\n"
          "the server closes, or 0.5 s after stdin ends.\n"
          "\n"
          "ENDPOINT: host:port, tcp:host:port, [v6]:port, unix:/path, unix:@name\n"
          "\n"
          "options:\n"
          "  -n, --nick NAME   take this nickname once connected (sends /nick NAME)\n"
          "  -h, --help        show this help\n"
          "\n"
          "exit status: 0 the session ended normally, 1 connection failure or\n"
          "connection lost, 2 usage error.\n",
          out);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("sk: chat: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n'sk chat --help' lists the options.\n", stderr);
    return 2;
}

/* A nickname the server will see as one word on one line. */
static bool nick_ok(const char *nick)
{
    if (nick[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)nick; *p; p++)
        if (*p <= ' ' || *p == 0x7F)
            return false;
    return true;
}

static int parse_args(int argc, char **argv, chat_opts *o)
{
    static const struct option longopts[] = {
        {"nick", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            if (!nick_ok(optarg))
                return usage_error("--nick wants a name without spaces or control characters, "
                                   "got '%s'", optarg);
            o->nick = optarg;
            break;
        case 'h': usage(stdout); return 0;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("invalid option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return usage_error("one ENDPOINT expected, got '%s' too", argv[optind + 1]);
    o->endpoint_text = argc - optind == 1 ? argv[optind] : DEFAULT_ENDPOINT;
    char err[SK_ERRBUF_SIZE];
    if (sk_endpoint_parse(o->endpoint_text, &o->endpoint, err, sizeof err) < 0)
        return usage_error("%s", err);
    if (o->endpoint.scheme == SK_SCHEME_UDP)
        return usage_error("%s: chat needs a stream endpoint (tcp: or unix:)", o->endpoint_text);
    return PARSE_OK;
}

int sk_cmd_chat(int argc, char **argv)
{
    chat_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc != PARSE_OK)
        return rc;
    sk_sock sock;
    char err[SK_ERRBUF_SIZE] = "";
    rc = sk_sock_connect(&sock, &o.endpoint, SOCK_STREAM, CONNECT_TIMEOUT_MS, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "sk: chat: %s\n", err[0] ? err : sk_strerror(rc));
        return 1;
    }
    if (sock.family != AF_UNIX)
        (void)sk_sock_set_nodelay(&sock, true); /* a chat line is small and wanted now */
    chat_client s;
    chat_client_init(&s, sock.fd);
    if (o.nick != NULL && (chat_client_queue(&s, "/nick ", 6) < 0 ||
                           chat_client_queue_line(&s, o.nick) < 0)) {
        chat_client_free(&s);
        fputs("sk: chat: out of memory\n", stderr);
        return 1;
    }
    bool interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (interactive)
        setlocale(LC_CTYPE, ""); /* libedit edits UTF-8 text as characters */
    int status = interactive ? chat_run_terminal(&s) : chat_run_lines(&s);
    chat_client_free(&s);
    return status;
}
