/* The table of services `sk serve` knows, with default endpoints. */
#include <string.h>

#include "file_service.h"
#include "services.h"

/* Services in files of their own (chat_service.c, exec_service.c,
 * http_service.c). */
extern const sk_service sk_service_chat;
extern const sk_service sk_service_exec;
extern const sk_service sk_service_http;

static const sk_service_entry service_table[] = {
    {&sk_service_echo, "127.0.0.1:7007"},
    {&sk_service_upper, "127.0.0.1:7008"},
    {&sk_service_chat, "127.0.0.1:7009"},
    {&sk_service_file, "127.0.0.1:7010"},
    {&sk_service_exec, "127.0.0.1:7011"},
    {&sk_service_http, "127.0.0.1:8080"},
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
