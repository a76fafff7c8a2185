/* The command line of `sk send`, `sk get` and `sk ls`: see file_options.h. */
#include "file_options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "nc_options.h"

static int bad_option(const sk_file_command *cmd, char **argv, int opt)
{
    if (opt == ':')
        fprintf(stderr, "sk: %s: option '%s' needs a value\n", cmd->name, argv[optind - 1]);
    else if (optopt)
        fprintf(stderr, "sk: %s: invalid option '-%c'\n", cmd->name, optopt);
    else
        fprintf(stderr, "sk: %s: invalid option '%s'\n", cmd->name, argv[optind - 1]);
    fprintf(stderr, "'sk %s --help' lists the options.\n", cmd->name);
    return 2;
}

/* An option the command does not take is reported like an unknown one. */
static bool accepts(const sk_file_command *cmd, int opt)
{
    switch (opt) {
    case 'o': return cmd->options & SK_FILE_OPT_OUTDIR;
    case 'r': return cmd->options & SK_FILE_OPT_RECURSIVE;
    case 'R': return cmd->options & SK_FILE_OPT_RESUME;
    default: return true;
    }
}

/* One option with a value. Returns 0 or 2 (message printed). */
static int parse_value(const sk_file_command *cmd, int opt, const char *arg, sk_file_opts *o)
{
    switch (opt) {
    case 'H':
        if (strcmp(arg, "xxh3-128") && strcmp(arg, "sha256")) {
            fprintf(stderr, "sk: %s: --hash wants xxh3-128 or sha256, got '%s'\n", cmd->name,
                    arg);
            return 2;
        }
        o->hash = arg;
        return 0;
    case 'w':
        if (sk_nc_parse_seconds(arg, &o->wait_ms) < 0) {
            fprintf(stderr, "sk: %s: bad -w value \"%s\" (seconds > 0)\n", cmd->name, arg);
            return 2;
        }
        return 0;
    default:
        if (!arg[0]) {
            fprintf(stderr, "sk: %s: -o wants a directory\n", cmd->name);
            return 2;
        }
        o->out_dir = arg;
        return 0;
    }
}

int sk_file_parse(int argc, char **argv, const sk_file_command *cmd, sk_file_opts *o)
{
    static const struct option longopts[] = {
        {"hash", required_argument, NULL, 'H'}, {"wait", required_argument, NULL, 'w'},
        {"output", required_argument, NULL, 'o'}, {"recursive", no_argument, NULL, 'r'},
        {"no-resume", no_argument, NULL, 'R'},  {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (sk_file_opts){.hash = "xxh3-128", .resume = true, .wait_ms = -1, .out_dir = "."};
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, ":w:o:rvqh", longopts, NULL)) != -1) {
        if (!accepts(cmd, opt)) {
            fprintf(stderr, "sk: %s: invalid option '%s'\n", cmd->name,
                    opt == 'R' ? "--no-resume" : opt == 'o' ? "-o" : "-r");
            fprintf(stderr, "'sk %s --help' lists the options.\n", cmd->name);
            return 2;
        }
        switch (opt) {
        case 'v': o->verbose = true; o->quiet = false; break;
        case 'q': o->quiet = true; o->verbose = false; break;
        case 'r': o->recursive = true; break;
        case 'R': o->resume = false; break;
        case 'h': cmd->usage(stdout); return 0;
        case 'H': case 'w': case 'o':
            if (parse_value(cmd, opt, optarg, o) != 0)
                return 2;
            break;
        default: return bad_option(cmd, argv, opt);
        }
    }
    o->first = optind;
    return SK_FILE_PARSE_OK;
}

/* The endpoint must name a stream peer with a port (or a Unix socket). */
static int check_endpoint(const sk_endpoint *ep, const char *text, char *err, size_t errlen)
{
    if (ep->scheme == SK_SCHEME_UDP) {
        snprintf(err, errlen, "\"%s\": the file service runs on TCP, not UDP", text);
        return -EINVAL;
    }
    return 0;
}

/* "/a/b/" -> "a/b"; "/" -> "". */
static int copy_dir(const char *path, char *dir, size_t dirlen, char *err, size_t errlen)
{
    while (*path == '/')
        path++;
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        n--;
    if (n >= dirlen) {
        snprintf(err, errlen, "remote directory too long (%zu bytes)", n);
        return -EINVAL;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    return 0;
}

int sk_file_parse_target(const char *text, sk_endpoint *ep, char *dir, size_t dirlen, char *err,
                         size_t errlen)
{
    char head[SK_ADDRSTRLEN];
    char ignored[SK_ERRBUF_SIZE];
    /* The first ":/" whose left part is an endpoint splits ENDPOINT from DIR
     * ("unix:/s:/d" splits after "unix:/s"). */
    for (const char *p = strstr(text, ":/"); p; p = strstr(p + 1, ":/")) {
        size_t n = (size_t)(p - text);
        if (n == 0 || n >= sizeof head)
            continue;
        memcpy(head, text, n);
        head[n] = '\0';
        if (sk_endpoint_parse(head, ep, ignored, sizeof ignored) < 0 ||
            (ep->scheme == SK_SCHEME_UNIX && !ep->path[0]))
            continue;
        if (check_endpoint(ep, text, err, errlen) < 0)
            return -EINVAL;
        return copy_dir(p + 1, dir, dirlen, err, errlen);
    }
    if (sk_endpoint_parse(text, ep, err, errlen) < 0)
        return -EINVAL;
    if (dirlen > 0)
        dir[0] = '\0';
    return check_endpoint(ep, text, err, errlen);
}
