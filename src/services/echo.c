/* echo: sends back every byte it receives, unchanged (RFC 862). */
#include "services.h"

static int echo_data(sk_conn *c, void *state, const uint8_t *data, size_t len)
{
    (void)state;
    return sk_conn_write(c, data, len);
}

const sk_service sk_service_echo = {
    .name = "echo",
    .transports = SK_SERVICE_STREAM | SK_SERVICE_DATAGRAM,
    .on_data = echo_data,
};
