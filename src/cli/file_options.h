/* The command line shared by the file transfer commands `sk send`, `sk get`
 * and `sk ls`: --hash, -v, -q, --no-resume, -w, -o, -r, -h, and the
 * ENDPOINT[:/remote/dir] argument of `sk send`. */
#ifndef SK_CLI_FILE_OPTIONS_H
#define SK_CLI_FILE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sockkit/addr.h"

/* sk_file_parse result meaning "go on": not an exit status. */
#define SK_FILE_PARSE_OK (-1)

/* Options a command accepts beyond the common ones. */
enum {
    SK_FILE_OPT_OUTDIR = 1 << 0,    /* -o, --output DIR (get) */
    SK_FILE_OPT_RECURSIVE = 1 << 1, /* -r, --recursive (ls) */
    SK_FILE_OPT_RESUME = 1 << 2,    /* --no-resume (send, get) */
};

/* What tells one file command from another on its command line. */
typedef struct sk_file_command {
    const char *name;         /* "send", "get", "ls": for messages */
    unsigned options;         /* SK_FILE_OPT_* bits */
    void (*usage)(FILE *out); /* prints the command's help */
} sk_file_command;

/* The parsed options; the positional arguments are argv[first .. argc-1]. */
typedef struct sk_file_opts {
    const char *hash;     /* "xxh3-128" (default) or "sha256" */
    bool verbose;         /* -v */
    bool quiet;           /* -q */
    bool resume;          /* false after --no-resume */
    bool recursive;       /* -r */
    int wait_ms;          /* -w in milliseconds, -1 when not given */
    const char *out_dir;  /* -o DIR, "." by default */
    int first;            /* index in argv of the first positional argument */
} sk_file_opts;

/* Parse the options of `sk NAME [options] ARGS...` (GNU getopt: options may
 * follow the arguments). Usage errors are reported on stderr as
 * "sk: NAME: ..."; -h prints the help on stdout.
 * Returns SK_FILE_PARSE_OK, or the exit status to end with (0 after -h,
 * 2 for a usage error). */
int sk_file_parse(int argc, char **argv, const sk_file_command *cmd, sk_file_opts *o);

/* Parse ENDPOINT or ENDPOINT:/remote/dir ("127.0.0.1:7010:/backups",
 * "[::1]:7010:/x"). A TCP endpoint without a port is not accepted.
 *   ep:        receives the endpoint.
 *   dir/dirlen: receives the remote directory without its leading and
 *              trailing slashes ("backups"; "" for none or "/").
 *   err/errlen: message on failure.
 * Returns 0 or -EINVAL. */
int sk_file_parse_target(const char *text, sk_endpoint *ep, char *dir, size_t dirlen, char *err,
                         size_t errlen);

#endif
