/* upper: sends back what it receives with ASCII letters upper-cased, as
 * Python's bytes.upper(); every other byte (UTF-8 included) is unchanged. */
#include "services.h"

enum { UPPER_CHUNK = 16 * 1024 };

static uint8_t ascii_upper(uint8_t b)
{
    return (b >= 'a' && b <= 'z') ? (uint8_t)(b - ('a' - 'A')) : b;
}

static int upper_data(sk_conn *c, void *state, const uint8_t *data, size_t len)
{
    uint8_t out[UPPER_CHUNK];
    (void)state;
    while (len > 0) {
        size_t n = len < sizeof out ? len : sizeof out;
        for (size_t i = 0; i < n; i++)
            out[i] = ascii_upper(data[i]);
        int rc = sk_conn_write(c, out, n);
        if (rc < 0)
            return rc;
        data += n;
        len -= n;
    }
    return 0;
}

const sk_service sk_service_upper = {
    .name = "upper",
    .transports = SK_SERVICE_STREAM | SK_SERVICE_DATAGRAM,
    .on_data = upper_data,
};
