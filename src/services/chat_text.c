/* UTF-8 repair for chat lines (Unicode 15, section 3.9, table 3-7: the
 * well-formed byte sequences), with control characters replaced too. */
#include <stdbool.h>
#include <string.h>

#include "chat_text.h"

static const char REPLACEMENT[3] = {'\xef', '\xbf', '\xbd'}; /* U+FFFD */

/* Bytes in the sequence led by b (0: b cannot lead one). */
static size_t sequence_length(uint8_t b)
{
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        return 2;
    if (b >= 0xe0 && b <= 0xef)
        return 3;
    if (b >= 0xf0 && b <= 0xf4)
        return 4;
    return 0;
}

/* Whether b may follow lead as the sequence's second byte (which excludes
 * overlong forms, surrogates and code points above U+10FFFF). */
static bool second_ok(uint8_t lead, uint8_t b)
{
    switch (lead) {
    case 0xe0: return b >= 0xa0 && b <= 0xbf;
    case 0xed: return b >= 0x80 && b <= 0x9f;
    case 0xf0: return b >= 0x90 && b <= 0xbf;
    case 0xf4: return b >= 0x80 && b <= 0x8f;
    default: return b >= 0x80 && b <= 0xbf;
    }
}

/* Length of the well-formed sequence at in (0 when ill-formed), or, in
 * *bad, the length of its maximal ill-formed subpart. */
static size_t well_formed(const uint8_t *in, size_t len, size_t *bad)
{
    size_t need = sequence_length(in[0]);
    *bad = 1;
    if (need == 0)
        return 0;
    for (size_t i = 1; i < need; i++) {
        bool ok = i < len && (i == 1 ? second_ok(in[0], in[i]) : (in[i] & 0xc0) == 0x80);
        if (!ok) {
            *bad = i;
            return 0;
        }
    }
    return need;
}

/* C0 controls but tab, DEL, and C1 controls (U+0080-U+009F: C2 80-C2 9F). */
static bool is_control(const uint8_t *seq, size_t n)
{
    if (n == 1)
        return (seq[0] < 0x20 && seq[0] != '\t') || seq[0] == 0x7f;
    return n == 2 && seq[0] == 0xc2 && seq[1] < 0xa0;
}

size_t sk_chat_text_clean(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0;
    while (len > 0) {
        size_t bad;
        size_t n = well_formed(in, len, &bad);
        if (n > 0 && !is_control(in, n)) {
            memcpy(out + o, in, n);
            o += n;
        } else {
            memcpy(out + o, REPLACEMENT, sizeof REPLACEMENT);
            o += sizeof REPLACEMENT;
            if (n == 0)
                n = bad;
        }
        in += n;
        len -= n;
    }
    return o;
}
