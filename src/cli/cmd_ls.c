/* sk ls: list what a file server holds, like ls -l (mode, size, mtime,
 * name; links with their targets). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "file_client.h"
#include "file_names.h"
#include "file_options.h"

static void usage(FILE *out)
{
    fputs("usage: sk ls [options] ENDPOINT [NAME]\n"
          "\n"
          "List a directory (default: the root) or one entry of an `sk serve file=...`\n"
          "server, like ls -l: mode, size in bytes, modification time, name (relative\n"
          "to the server's root), and \"-> target\" for symbolic links.\n"
          "\n"
          "ENDPOINT: host:port, [v6]:port, tcp:host:port, unix:/path, unix:@name\n"
          "\n"
          "options:\n"
          "  -r, --recursive     list subdirectories too\n"
          "  -w, --wait SECONDS  connect timeout, and how long the server may stay silent\n"
          "  -v, --verbose       report the connection\n"
          "  -q, --quiet         print no messages except usage errors\n"
          "  -h, --help          show this help\n"
          "\n"
          "exit status: 0 listed, 1 connection failure or the name is not there,\n"
          "2 usage error.\n",
          out);
}

/* "drwxr-xr-x" from a type and permission bits. */
static void mode_string(sk_file_type type, uint32_t mode, char out[11])
{
    static const char rwx[] = "rwxrwxrwx";
    out[0] = type == SK_FTYPE_DIR ? 'd' : type == SK_FTYPE_SYMLINK ? 'l' : '-';
    if (type == SK_FTYPE_SYMLINK && !mode)
        mode = 0777;
    for (int i = 0; i < 9; i++)
        out[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
    if (mode & 04000)
        out[3] = (mode & 0100) ? 's' : 'S';
    if (mode & 02000)
        out[6] = (mode & 0010) ? 's' : 'S';
    if (mode & 01000)
        out[9] = (mode & 0001) ? 't' : 'T';
    out[10] = '\0';
}

static void print_entry(const sk_file_entry *e)
{
    char mode[11], when[32] = "-";
    mode_string(e->type, e->mode, mode);
    time_t t = (time_t)e->mtime;
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    char size[24] = "-";
    if (e->type == SK_FTYPE_FILE)
        snprintf(size, sizeof size, "%" PRIu64, e->size);
    printf("%s %12s %s %s", mode, size, when, e->name);
    if (e->type == SK_FTYPE_SYMLINK)
        printf(" -> %s", e->target);
    putchar('\n');
}

static int run(sk_file_client *c, const char *name, bool recursive)
{
    sk_file_entry *v = NULL;
    size_t n = 0;
    if (sk_file_client_list(c, name, recursive, &v, &n) < 0) {
        sk_file_client_report(c);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        /* ls shows a directory's contents, not the directory itself. */
        bool self = !strcmp(v[i].name, name) && v[i].type == SK_FTYPE_DIR;
        if (!self)
            print_entry(&v[i]);
    }
    sk_fs_list_free(v, n);
    return fflush(stdout) == 0 ? 0 : 1;
}

int sk_cmd_ls(int argc, char **argv)
{
    static const sk_file_command cmd = {.name = "ls", .options = SK_FILE_OPT_RECURSIVE,
                                        .usage = usage};
    sk_file_opts o;
    int rc = sk_file_parse(argc, argv, &cmd, &o);
    if (rc != SK_FILE_PARSE_OK)
        return rc;
    int nargs = argc - o.first;
    if (nargs < 1 || nargs > 2) {
        fputs(nargs < 1 ? "sk: ls: missing ENDPOINT\n" : "sk: ls: one NAME at most\n", stderr);
        usage(stderr);
        return 2;
    }
    sk_endpoint ep;
    char err[SK_ERRBUF_SIZE], dir[SK_NAME_MAX + 1], why[512];
    if (sk_file_parse_target(argv[o.first], &ep, dir, sizeof dir, err, sizeof err) < 0) {
        fprintf(stderr, "sk: ls: %s\n", err);
        return 2;
    }
    /* NAME, or ENDPOINT:/NAME, or the root. */
    char *name = nargs == 2 ? argv[o.first + 1] : dir;
    while (*name == '/')
        name++;
    size_t len = strlen(name);
    while (len > 0 && name[len - 1] == '/')
        name[--len] = '\0';
    if (sk_file_name_check(name, true, why, sizeof why) < 0) {
        fprintf(stderr, "sk: ls: bad NAME %s\n", why);
        return 2;
    }
    sk_hash_kind hash;
    sk_hash_parse(o.hash, &hash);
    sk_file_client c;
    sk_file_client_init(&c, "ls", &ep, hash, o.wait_ms, o.verbose, o.quiet, true);
    rc = run(&c, name, o.recursive);
    sk_file_client_close(&c);
    return rc;
}
