/* The services sk can serve, with their default endpoints. */
#ifndef SK_SERVICES_H
#define SK_SERVICES_H

#include <stddef.h>

#include "sockkit/service.h"

/* echo: every byte back unchanged (RFC 862). */
extern const sk_service sk_service_echo;
/* upper: ASCII letters upper-cased, other bytes unchanged (Python bytes.upper()). */
extern const sk_service sk_service_upper;

typedef struct sk_service_entry {
    const sk_service *service;
    const char *default_endpoint; /* a plain host:port means TCP, and UDP too for a
                                     service with SK_SERVICE_DATAGRAM */
} sk_service_entry;

/* Look up a service by name ("echo"). Returns NULL when unknown. */
const sk_service_entry *sk_services_find(const char *name);

/* Every service, in the order `sk serve` starts them; *count receives the
 * number of entries. */
const sk_service_entry *sk_services_all(size_t *count);

#endif
