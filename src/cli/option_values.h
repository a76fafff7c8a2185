/* Values of command-line options, checked with messages that name the
 * command and the option: seconds, counts and byte sizes. */
#ifndef SK_CLI_OPTION_VALUES_H
#define SK_CLI_OPTION_VALUES_H

#include <stdint.h>

/* Seconds (decimals allowed, 0 to a day) to milliseconds in *ms.
 *   cmd: "serve" for messages ("sk: serve: --grace wants seconds, ...");
 *   opt: the option's name. Returns 0, or -1 after printing why. */
int sk_opt_seconds(const char *cmd, const char *opt, const char *text, int *ms);

/* A whole number in [min, max] into *out. Returns 0, or -1 after printing why. */
int sk_opt_count(const char *cmd, const char *opt, const char *text, long min, long max,
                 long *out);

/* A positive byte count with an optional binary suffix (512, 10K, 5M, 2G,
 * 1T) into *out. Returns 0, or -1 after printing why. */
int sk_opt_size(const char *cmd, const char *opt, const char *text, uint64_t *out);

#endif
