/* Chat text as other people's terminals receive it: valid UTF-8 without
 * control characters. */
#ifndef SK_CHAT_TEXT_H
#define SK_CHAT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Worst-case output size for len input bytes (every byte replaced). */
#define SK_CHAT_TEXT_OUT_MAX(len) (3 * (size_t)(len))

/* Copy len bytes to out (SK_CHAT_TEXT_OUT_MAX(len) bytes of room) with
 * every ill-formed UTF-8 sequence replaced by U+FFFD, one per maximal
 * ill-formed subpart (as Unicode recommends, and as Python's
 * bytes.decode("utf-8", "replace") does), and every control character
 * other than tab (U+0000-U+001F, U+007F-U+009F) replaced by U+FFFD too.
 * Returns the output length; out is not NUL-terminated. */
size_t sk_chat_text_clean(const uint8_t *in, size_t len, char *out);

#endif
