/* Checked option values: seconds, counts, byte sizes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "option_values.h"

int sk_opt_seconds(const char *cmd, const char *opt, const char *text, int *ms)
{
    char *end;
    double s = strtod(text, &end);
    if (*end || end == text || !(s >= 0 && s <= 86400)) {
        fprintf(stderr, "sk: %s: %s wants seconds (0 to 86400), got '%s'\n", cmd, opt, text);
        return -1;
    }
    *ms = (int)(s * 1000);
    return 0;
}

int sk_opt_count(const char *cmd, const char *opt, const char *text, long min, long max,
                 long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < min || v > max) {
        fprintf(stderr, "sk: %s: %s wants a whole number from %ld to %ld, got '%s'\n", cmd, opt,
                min, max, text);
        return -1;
    }
    *out = v;
    return 0;
}

static unsigned suffix_shift(char c)
{
    switch (c) {
    case 'k': case 'K': return 10;
    case 'm': case 'M': return 20;
    case 'g': case 'G': return 30;
    case 't': case 'T': return 40;
    default: return 0;
    }
}

int sk_opt_size(const char *cmd, const char *opt, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    unsigned shift = suffix_shift(*end);
    if (shift)
        end++;
    if (errno || *end || end == text || text[0] == '-' || v == 0 || v > (UINT64_MAX >> shift)) {
        fprintf(stderr, "sk: %s: %s wants a positive size in bytes (suffixes K, M, G, T), "
                "got '%s'\n", cmd, opt, text);
        return -1;
    }
    *out = (uint64_t)v << shift;
    return 0;
}
