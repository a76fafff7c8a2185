/* sk_strerror: text for a (negative) errno value returned by sockkit. */
#include "sockkit/error.h"

#include <limits.h>
#include <string.h>

const char *sk_strerror(int err)
{
    if (err == 0)
        return "Success";
    if (err == INT_MIN)
        return "Unknown error";
    if (err < 0)
        err = -err;
    /* strerrordesc_np (glibc >= 2.32) returns a static string: no buffer,
     * no locale, safe from any thread. */
    const char *s = strerrordesc_np(err);
    return s != NULL ? s : "Unknown error";
}
