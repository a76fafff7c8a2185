/* HTTP dates (RFC 9110 §5.6.7): IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT".
 * Thread-safe, no locale, no time zone (UTC only). */
#ifndef SK_HTTP_DATE_H
#define SK_HTTP_DATE_H

#include <stddef.h>
#include <time.h>

enum { SK_HTTP_DATE_LEN = 29 }; /* characters of an IMF-fixdate, NUL excluded */

/* Write t as an IMF-fixdate plus a NUL into out. Returns SK_HTTP_DATE_LEN (29),
 * or 0 (out = "") when the year is outside 0000-9999. */
size_t sk_http_date_format(time_t t, char out[30]);

/* Parse s[0..len) (no surrounding whitespace) in one of the three forms a
 * recipient must accept: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", the obsolete
 * RFC 850 form "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit years 70-99 are 19xx,
 * 00-69 are 20xx) and asctime "Sun Nov  6 08:49:37 1994". Names are
 * case-sensitive; the weekday must be a valid name but is not checked against the
 * date; second 60 (leap second) is accepted. Returns 0 with *out set, or -EINVAL. */
int sk_http_date_parse(const char *s, size_t len, time_t *out);

#endif
