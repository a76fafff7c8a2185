/* sk get: download files and directory trees from a file server
 * (docs/protocol.md, "File transfer") into an output directory, resuming
 * partial downloads. Nothing is ever written outside that directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "file_client.h"
#include "file_names.h"
#include "file_options.h"
#include "sockkit/error.h"

static void usage(FILE *out)
{
    fputs("usage: sk get [options] ENDPOINT NAME... [-o DIR]\n"
          "\n"
          "Download files from an `sk serve file=...` server into DIR (default: the\n"
          "current directory). NAME is relative to the server's root; it lands in DIR\n"
          "under its last component, as with cp -r (\"photos/a.jpg\" -> DIR/a.jpg; a\n"
          "directory \"photos\" -> DIR/photos/... with its subdirectories and links).\n"
          "A file arrives as NAME.part, is verified against the server's digest, then\n"
          "renamed; an interrupted download resumes where NAME.part still matches.\n"
          "Names the server sends are checked: an answer about another name, or a\n"
          "name that would lead outside DIR, is refused and nothing is written.\n"
          "\n"
          "ENDPOINT: host:port, [v6]:port, tcp:host:port, unix:/path, unix:@name\n"
          "\n"
          "options:\n"
          "  -o, --output DIR    where to write (created if missing; default .)\n"
          "      --hash NAME     digest: xxh3-128 (default) or sha256\n"
          "      --no-resume     start every file from byte 0\n"
          "  -w, --wait SECONDS  connect timeout, and how long the server may stay silent\n"
          "  -v, --verbose       report the connection, resumed offsets and a summary per file\n"
          "  -q, --quiet         print no progress and no messages except usage errors\n"
          "  -h, --help          show this help\n"
          "\n"
          "A progress line is shown on stderr when it is a terminal.\n"
          "\n"
          "exit status: 0 every file was received and verified, 1 any failure (each one\n"
          "is reported), 2 usage error.\n",
          out);
}

/* The local name of entry (under the asked name) for a tree asked as
 * `name` and written as `base`: base + the rest of entry after name. */
static int local_name(const char *name, const char *base, const char *entry, char *out,
                      size_t outlen)
{
    size_t n = strlen(name);
    if (strncmp(entry, name, n) || (entry[n] != '\0' && entry[n] != '/'))
        return -EXDEV;
    int len = snprintf(out, outlen, "%s%s", base, entry + n);
    return len < 0 || (size_t)len >= outlen ? -ENAMETOOLONG : 0;
}

/* Every entry of a directory's listing must be the directory or under it. */
static int check_listing(sk_file_client *c, const char *name, const sk_file_entry *v, size_t n)
{
    char local[SK_NAME_MAX + 1];
    for (size_t i = 0; i < n; i++)
        if (local_name(name, "x", v[i].name, local, sizeof local) < 0)
            return sk_file_client_fail(c, -EPROTO,
                                       "%s: the server listed '%.300s', which is not under "
                                       "it (refused, nothing written)",
                                       name, v[i].name);
    return 0;
}

/* Create one directory or link of a tree, or get one file. */
static int get_entry(sk_file_client *c, int dir, const sk_file_entry *e, const char *local)
{
    int rc;
    switch (e->type) {
    case SK_FTYPE_DIR:
        rc = sk_fs_mkdirs(dir, local, 0777);
        break;
    case SK_FTYPE_SYMLINK:
        rc = sk_fs_mkdirs_parent(dir, local, 0777);
        if (rc == 0)
            rc = sk_fs_symlink(dir, local, e->target, true);
        break;
    case SK_FTYPE_FILE:
        rc = sk_file_client_get(c, e->name, dir, local);
        if (rc == -EISDIR)
            return sk_file_client_fail(c, rc, "%s: listed as a file, now a directory", e->name);
        return rc;
    default:
        return 0;
    }
    if (rc < 0)
        return sk_file_client_fail(c, rc, "%s: cannot create %s: %s", e->name, local,
                                   sk_file_client_local_error(rc));
    return 0;
}

/* Directories get their mode and mtime last (creating files inside them
 * changes their mtime), deepest first. */
static void set_dir_meta(const sk_file_client *c, int dir, const char *name, const char *base,
                         const sk_file_entry *v, size_t n)
{
    char local[SK_NAME_MAX + 1];
    for (size_t i = n; i-- > 0;) {
        if (v[i].type != SK_FTYPE_DIR || !v[i].mode ||
            local_name(name, base, v[i].name, local, sizeof local) < 0)
            continue;
        int fd = sk_fs_open(dir, local, O_RDONLY | O_DIRECTORY, 0);
        if (fd >= 0) {
            sk_fs_set_meta(fd, (v[i].mode & ~c->umask) | 0700, v[i].mtime);
            close(fd);
        }
    }
}

/* A directory: list it, then recreate it entry by entry. Returns the
 * number of failures. */
static unsigned get_tree(sk_file_client *c, int dir, const char *name, const char *base)
{
    sk_file_entry *v = NULL;
    size_t n = 0;
    if (sk_file_client_list(c, name, true, &v, &n) < 0 || check_listing(c, name, v, n) < 0) {
        sk_file_client_report(c);
        sk_fs_list_free(v, n);
        return 1;
    }
    unsigned failures = 0;
    char local[SK_NAME_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        int rc = local_name(name, base, v[i].name, local, sizeof local);
        if (rc < 0)
            rc = sk_file_client_fail(c, rc, "%s: local name too long", v[i].name);
        else
            rc = get_entry(c, dir, &v[i], local);
        if (rc == 0)
            continue;
        failures++;
        sk_file_client_report(c);
        if (c->sock.fd < 0 && i + 1 < n && sk_file_client_connect(c) < 0) {
            sk_file_client_report(c);
            break;
        }
    }
    set_dir_meta(c, dir, name, base, v, n);
    sk_fs_list_free(v, n);
    return failures;
}

/* One NAME argument. Returns the number of failures. */
static unsigned get_one(sk_file_client *c, int dir, const char *name)
{
    const char *base = sk_file_name_last(name);
    int rc = sk_file_client_get(c, name, dir, base);
    if (rc == -EISDIR)
        return get_tree(c, dir, name, base);
    if (rc < 0) {
        sk_file_client_report(c);
        return 1;
    }
    return 0;
}

/* Strip the slashes around each NAME ("/photos/" -> "photos") and check
 * the name rules. Returns 0 or 2. */
static int check_names(char **names, int n)
{
    for (int i = 0; i < n; i++) {
        char *s = names[i];
        while (*s == '/')
            s++;
        size_t len = strlen(s);
        while (len > 0 && s[len - 1] == '/')
            s[--len] = '\0';
        names[i] = s;
        char why[512];
        if (sk_file_name_check(s, false, why, sizeof why) < 0) {
            fprintf(stderr, "sk: get: bad NAME %s\n", why);
            return 2;
        }
    }
    return 0;
}

static int parse_endpoint(const char *text, sk_endpoint *ep)
{
    char err[SK_ERRBUF_SIZE];
    char dir[SK_NAME_MAX + 1];
    if (sk_file_parse_target(text, ep, dir, sizeof dir, err, sizeof err) < 0) {
        fprintf(stderr, "sk: get: %s\n", err);
        return 2;
    }
    if (dir[0]) {
        fprintf(stderr, "sk: get: give the remote names as NAME arguments, not in \"%s\"\n",
                text);
        return 2;
    }
    return 0;
}

static unsigned get_all(sk_file_client *c, const char *out_dir, char **names, int n)
{
    if (sk_file_client_connect(c) < 0) {
        sk_file_client_report(c);
        return 1;
    }
    int dir = sk_fs_open_root(out_dir);
    if (dir < 0) {
        sk_file_client_fail(c, dir, "%s: %s", out_dir, sk_strerror(dir));
        sk_file_client_report(c);
        return 1;
    }
    unsigned failures = 0;
    for (int i = 0; i < n; i++) {
        failures += get_one(c, dir, names[i]);
        if (c->sock.fd < 0 && i + 1 < n && sk_file_client_connect(c) < 0) {
            sk_file_client_report(c);
            failures++;
            break;
        }
    }
    close(dir);
    return failures;
}

int sk_cmd_get(int argc, char **argv)
{
    static const sk_file_command cmd = {
        .name = "get", .options = SK_FILE_OPT_OUTDIR | SK_FILE_OPT_RESUME, .usage = usage};
    sk_file_opts o;
    int rc = sk_file_parse(argc, argv, &cmd, &o);
    if (rc != SK_FILE_PARSE_OK)
        return rc;
    if (argc - o.first < 2) {
        fputs(argc == o.first ? "sk: get: missing ENDPOINT and NAME\n" : "sk: get: missing NAME\n",
              stderr);
        usage(stderr);
        return 2;
    }
    sk_endpoint ep;
    if ((rc = parse_endpoint(argv[o.first], &ep)) != 0 ||
        (rc = check_names(argv + o.first + 1, argc - o.first - 1)) != 0)
        return rc;
    sk_hash_kind hash;
    sk_hash_parse(o.hash, &hash);
    sk_file_client c;
    sk_file_client_init(&c, "get", &ep, hash, o.wait_ms, o.verbose, o.quiet, o.resume);
    unsigned failures = get_all(&c, o.out_dir, argv + o.first + 1, argc - o.first - 1);
    sk_file_client_close(&c);
    return failures ? 1 : 0;
}
