/* Server lines with a time stamp: "[HH:MM:SS] " in the server's local time. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "chat_format.h"

size_t sk_chat_stamped(char *out, size_t size, const char *fmt, ...)
{
    time_t now = time(NULL);
    struct tm tm;
    size_t n = 0;
    if (localtime_r(&now, &tm))
        n = strftime(out, size, "[%H:%M:%S] ", &tm);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(out + n, size - n, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n >= size) { /* cut: keep the line a line */
        n = size - 1;
        out[n - 1] = '\n';
    }
    return n;
}
