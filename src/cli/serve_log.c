/* Log lines of `sk serve` on stderr, one write(2) per line so lines from
 * different threads never interleave. */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "serve_log.h"

void sk_serve_log_stderr(void *user, int level, const char *line)
{
    if (level > *(const int *)user)
        return;
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    char buf[1200];
    int n = snprintf(buf, sizeof buf, "sk: %02d:%02d:%02d.%03d %s\n", tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000), line);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf) {
        n = (int)sizeof buf - 1;
        buf[n - 1] = '\n';
    }
    if (write(STDERR_FILENO, buf, (size_t)n) < 0) {
        /* stderr gone: nothing better to do */
    }
}
