/* sk send: upload files and directory trees to a file server
 * (docs/protocol.md, "File transfer"), resuming partial uploads. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "file_client.h"
#include "file_names.h"
#include "file_options.h"
#include "file_walk.h"
#include "sockkit/error.h"

static void usage(FILE *out)
{
    fputs("usage: sk send [options] PATH... ENDPOINT[:/REMOTE/DIR]\n"
          "\n"
          "Upload files and directories to an `sk serve file=...` server. A directory\n"
          "is sent with everything in it; symbolic links are sent as links (never\n"
          "followed). PATH lands in REMOTE/DIR under its own name, as with cp -r\n"
          "(\"photos\" -> REMOTE/DIR/photos/...; \".\" sends the directory's contents).\n"
          "An interrupted upload resumes where the server's partial file still matches\n"
          "(compared chunk by chunk with digests); every file is verified end to end.\n"
          "\n"
          "ENDPOINT: host:port, [v6]:port, tcp:host:port, unix:/path, unix:@name;\n"
          "          e.g. 127.0.0.1:7010, 127.0.0.1:7010:/backups, [::1]:7010:/x\n"
          "\n"
          "options:\n"
          "      --hash NAME     digest: xxh3-128 (default) or sha256\n"
          "      --no-resume     start every file from byte 0\n"
          "  -w, --wait SECONDS  connect timeout, and how long the server may stay silent\n"
          "  -v, --verbose       report the connection, resumed offsets and a summary per file\n"
          "  -q, --quiet         print no progress and no messages except usage errors\n"
          "  -h, --help          show this help\n"
          "\n"
          "A progress line is shown on stderr when it is a terminal.\n"
          "\n"
          "exit status: 0 every file was sent and verified, 1 any failure (each one is\n"
          "reported), 2 usage error.\n",
          out);
}

/* Send one walked entry. Returns 0 or -errno (c->err set). */
static int send_entry(sk_file_client *c, const sk_local_entry *e)
{
    switch (e->type) {
    case SK_LOCAL_FILE: return sk_file_client_put_file(c, e->path, e->name);
    case SK_LOCAL_DIR: return sk_file_client_put_dir(c, e->name, e->mode, e->mtime);
    case SK_LOCAL_SYMLINK: return sk_file_client_put_symlink(c, e->name, e->target, e->mtime);
    case SK_LOCAL_OTHER:
        return sk_file_client_fail(c, -EINVAL,
                                   "%s: not a regular file, directory or link (not sent)",
                                   e->path);
    default:
        return sk_file_client_fail(c, e->error, "%s: %s", e->path, sk_strerror(e->error));
    }
}

/* Send every entry; a connection that cannot be made again ends the run.
 * Returns the number of failures. */
static unsigned send_all(sk_file_client *c, const sk_local_list *list, const char *remote_dir)
{
    unsigned failures = 0;
    if (remote_dir[0] && sk_file_client_put_dir(c, remote_dir, 0755, (int64_t)time(NULL)) < 0) {
        sk_file_client_report(c);
        return 1;
    }
    for (size_t i = 0; i < list->n; i++) {
        if (send_entry(c, &list->v[i]) == 0)
            continue;
        failures++;
        sk_file_client_report(c);
        if (c->sock.fd < 0 && i + 1 < list->n && sk_file_client_connect(c) < 0) {
            size_t left = list->n - i - 1;
            snprintf(c->err + strlen(c->err), sizeof c->err - strlen(c->err),
                     "; %zu more not sent", left);
            sk_file_client_report(c);
            return failures + 1;
        }
    }
    return failures;
}

/* Walk every PATH into one list, named under remote_dir. Returns 0 or an
 * exit status. */
static int prepare(char **paths, int npaths, const char *remote_dir, sk_local_list *list)
{
    for (int i = 0; i < npaths; i++) {
        if (sk_local_walk(paths[i], remote_dir, list) < 0) {
            fprintf(stderr, "sk: send: %s\n", sk_strerror(-ENOMEM));
            return 1;
        }
    }
    return 0;
}

static int parse_target(const char *text, sk_endpoint *ep, char *dir, size_t dirlen)
{
    char err[SK_ERRBUF_SIZE];
    if (sk_file_parse_target(text, ep, dir, dirlen, err, sizeof err) < 0) {
        fprintf(stderr, "sk: send: %s\n", err);
        return 2;
    }
    char why[512];
    if (sk_file_name_check(dir, true, why, sizeof why) < 0) {
        fprintf(stderr, "sk: send: bad remote directory %s\n", why);
        return 2;
    }
    return 0;
}

int sk_cmd_send(int argc, char **argv)
{
    static const sk_file_command cmd = {.name = "send", .options = SK_FILE_OPT_RESUME,
                                        .usage = usage};
    sk_file_opts o;
    int rc = sk_file_parse(argc, argv, &cmd, &o);
    if (rc != SK_FILE_PARSE_OK)
        return rc;
    if (argc - o.first < 2) {
        fputs(argc == o.first ? "sk: send: missing PATH and ENDPOINT\n"
                              : "sk: send: missing PATH or ENDPOINT\n",
              stderr);
        usage(stderr);
        return 2;
    }
    sk_endpoint ep;
    char remote_dir[SK_NAME_MAX + 1];
    if ((rc = parse_target(argv[argc - 1], &ep, remote_dir, sizeof remote_dir)) != 0)
        return rc;
    sk_hash_kind hash;
    sk_hash_parse(o.hash, &hash);
    sk_local_list list = {0};
    if ((rc = prepare(argv + o.first, argc - 1 - o.first, remote_dir, &list)) != 0) {
        sk_local_list_free(&list);
        return rc;
    }
    sk_file_client c;
    sk_file_client_init(&c, "send", &ep, hash, o.wait_ms, o.verbose, o.quiet, o.resume);
    unsigned failures;
    if (sk_file_client_connect(&c) < 0) {
        sk_file_client_report(&c);
        failures = 1;
    } else {
        failures = send_all(&c, &list, remote_dir);
    }
    sk_file_client_close(&c);
    sk_local_list_free(&list);
    return failures ? 1 : 0;
}
