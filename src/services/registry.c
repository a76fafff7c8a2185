/* The table of services `sk serve` knows, with default endpoints. */
#include <string.h>

#include "file_service.h"
#include "services.h"

static const sk_service_entry service_table[] = {
    {&sk_service_echo, "127.0.0.1:7007"},
    {&sk_service_upper, "127.0.0.1:7008"},
    {&sk_service_file, "127.0.0.1:7010"},
};

const sk_service_entry *sk_services_find(const char *name)
{
    for (size_t i = 0; i < sizeof service_table / sizeof service_table[0]; i++)
        if (!strcmp(service_table[i].service->name, name))
            return &service_table[i];
    return NULL;
}

const sk_service_entry *sk_services_all(size_t *count)
{
    *count = sizeof service_table / sizeof service_table[0];
    return service_table;
}
