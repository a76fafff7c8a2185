/* HTTP dates: civil-calendar arithmetic on UTC, no libc time zone or locale. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "http_date.h"

static const char day_names[7][4] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" }; /* from 1970-01-01 */
static const char *const day_names_long[7] = { "Thursday", "Friday",  "Saturday", "Sunday",
                                               "Monday",   "Tuesday", "Wednesday" };
static const char month_names[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

size_t sk_http_date_format(time_t t, char out[30])
{
    int64_t secs = (int64_t)t;
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        out[0] = '\0';
        return 0;
    }
    int64_t wd = days % 7;
    if (wd < 0)
        wd += 7;
    memcpy(out, day_names[wd], 3);
    memcpy(out + 3, ", ", 2);
    put2(out + 5, d);
    out[7] = ' ';
    memcpy(out + 8, month_names[m - 1], 3);
    out[11] = ' ';
    put2(out + 12, (unsigned)(y / 100));
    put2(out + 14, (unsigned)(y % 100));
    out[16] = ' ';
    put2(out + 17, (unsigned)(rem / 3600));
    out[19] = ':';
    put2(out + 20, (unsigned)(rem / 60 % 60));
    out[22] = ':';
    put2(out + 23, (unsigned)(rem % 60));
    memcpy(out + 25, " GMT", 5); /* with the NUL */
    return SK_HTTP_DATE_LEN;
}

/* A cursor over the input: each matcher advances it or fails. */
typedef struct cursor {
    const char *s;
    size_t len, i;
} cursor;

static bool lit(cursor *c, const char *text)
{
    size_t n = strlen(text);
    if (c->len - c->i < n || memcmp(c->s + c->i, text, n) != 0)
        return false;
    c->i += n;
    return true;
}

/* Exactly n digits (a leading SP counts as 0 when pad). */
static bool digits(cursor *c, size_t n, bool pad, unsigned *out)
{
    if (c->len - c->i < n)
        return false;
    unsigned v = 0;
    for (size_t k = 0; k < n; k++) {
        char ch = c->s[c->i + k];
        if (pad && k == 0 && ch == ' ')
            ch = '0';
        if (ch < '0' || ch > '9')
            return false;
        v = v * 10 + (unsigned)(ch - '0');
    }
    c->i += n;
    *out = v;
    return true;
}

static bool month(cursor *c, unsigned *m)
{
    for (unsigned k = 0; k < 12; k++)
        if (lit(c, month_names[k])) {
            *m = k + 1;
            return true;
        }
    return false;
}

static bool weekday(cursor *c, bool long_name)
{
    for (unsigned k = 0; k < 7; k++)
        if (lit(c, long_name ? day_names_long[k] : day_names[k]))
            return true;
    return false;
}

/* "HH:MM:SS" */
static bool time_of_day(cursor *c, unsigned *h, unsigned *mi, unsigned *s)
{
    return digits(c, 2, false, h) && lit(c, ":") && digits(c, 2, false, mi) && lit(c, ":") &&
           digits(c, 2, false, s) && *h < 24 && *mi < 60 && *s <= 60;
}

typedef struct civil {
    unsigned year, month, day, hour, min, sec;
} civil;

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static bool imf_fixdate(cursor *c, civil *t)
{
    return weekday(c, false) && lit(c, ", ") && digits(c, 2, false, &t->day) && lit(c, " ") &&
           month(c, &t->month) && lit(c, " ") && digits(c, 4, false, &t->year) && lit(c, " ") &&
           time_of_day(c, &t->hour, &t->min, &t->sec) && lit(c, " GMT");
}

/* "Sunday, 06-Nov-94 08:49:37 GMT" */
static bool rfc850_date(cursor *c, civil *t)
{
    if (!(weekday(c, true) && lit(c, ", ") && digits(c, 2, false, &t->day) && lit(c, "-") &&
          month(c, &t->month) && lit(c, "-") && digits(c, 2, false, &t->year) && lit(c, " ") &&
          time_of_day(c, &t->hour, &t->min, &t->sec) && lit(c, " GMT")))
        return false;
    t->year += t->year < 70 ? 2000 : 1900;
    return true;
}

/* "Sun Nov  6 08:49:37 1994" */
static bool asctime_date(cursor *c, civil *t)
{
    return weekday(c, false) && lit(c, " ") && month(c, &t->month) && lit(c, " ") &&
           digits(c, 2, true, &t->day) && lit(c, " ") && time_of_day(c, &t->hour, &t->min, &t->sec) &&
           lit(c, " ") && digits(c, 4, false, &t->year);
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : n[m - 1];
}

int sk_http_date_parse(const char *s, size_t len, time_t *out)
{
    civil t;
    bool ok = false;
    cursor c = { s, len, 0 };
    if (imf_fixdate(&c, &t) && c.i == len) {
        ok = true;
    } else {
        c.i = 0;
        if (rfc850_date(&c, &t) && c.i == len) {
            ok = true;
        } else {
            c.i = 0;
            ok = asctime_date(&c, &t) && c.i == len;
        }
    }
    if (!ok || t.day < 1 || t.day > days_in_month(t.year, t.month))
        return -EINVAL;
    int64_t days = days_from_civil(t.year, t.month, t.day);
    int64_t secs = days * 86400 + t.hour * 3600 + t.min * 60 + t.sec;
    if ((int64_t)(time_t)secs != secs)
        return -EINVAL;
    *out = (time_t)secs;
    return 0;
}
