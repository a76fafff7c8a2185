/* Server lines with the time they were sent. */
#ifndef SK_CHAT_FORMAT_H
#define SK_CHAT_FORMAT_H

#include <stddef.h>

/* "[HH:MM:SS] " (the server's local time) and the printf-formatted rest
 * into out; returns the length (at most size - 1; a cut line still ends
 * in "\n"). */
size_t sk_chat_stamped(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
