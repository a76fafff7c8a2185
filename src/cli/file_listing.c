/* LIST: ask for a listing and collect its entries (one or more "list"
 * messages, all but the last with "more": true), every name checked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "file_client.h"
#include "file_msg.h"
#include "file_names.h"
#include "sockkit/error.h"

/* Most entries one listing may hold (bounds the client's memory). */
#define MAX_ENTRIES 4000000u

typedef struct listing {
    sk_file_entry *v;
    size_t n, cap;
} listing;

static int push_copy(listing *l, const sk_file_entry *e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        sk_file_entry *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    sk_file_entry copy = *e;
    copy.name = strdup(e->name);
    copy.target = e->target ? strdup(e->target) : NULL;
    if (!copy.name || (e->target && !copy.target)) {
        sk_fs_entry_free(&copy);
        return -ENOMEM;
    }
    l->v[l->n++] = copy;
    return 0;
}

/* Add the entries of one "list" message; *more says whether others follow. */
static int take_message(sk_file_client *c, const char *name, const cJSON *m, listing *l,
                        bool *more)
{
    char why[512] = "";
    *more = false;
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(m, "entries");
    if (!cJSON_IsArray(entries) || sk_file_msg_get_bool(m, "more", more, why, sizeof why) < 0)
        return sk_file_client_unexpected(c, name, "list", why[0] ? why : "no 'entries' array");
    const cJSON *item;
    cJSON_ArrayForEach(item, entries) {
        sk_file_entry e;
        if (sk_file_msg_parse_entry(item, &e, why, sizeof why) < 0)
            return sk_file_client_unexpected(c, name, "list", why);
        if (sk_file_name_check(e.name, false, why, sizeof why) < 0)
            return sk_file_client_break(c, -EPROTO,
                                        "%s: the server listed a bad name: %s (refused, nothing "
                                        "written)",
                                        name[0] ? name : "/", why);
        if (l->n >= MAX_ENTRIES)
            return sk_file_client_break(c, -E2BIG, "%s: more than %u entries", name,
                                        MAX_ENTRIES);
        if (push_copy(l, &e) < 0)
            return sk_file_client_break(c, -ENOMEM, "%s: %s", name, sk_strerror(-ENOMEM));
    }
    return 0;
}

static int send_list(sk_file_client *c, const char *name, bool recursive)
{
    cJSON *m = sk_file_msg_new("list");
    int rc;
    if (!m || !cJSON_AddStringToObject(m, "name", name) ||
        !cJSON_AddBoolToObject(m, "recursive", recursive))
        rc = sk_file_client_fail(c, -ENOMEM, "%s: %s", name, sk_strerror(-ENOMEM));
    else
        rc = sk_file_client_send(c, m, name);
    cJSON_Delete(m);
    return rc;
}

int sk_file_client_list(sk_file_client *c, const char *name, bool recursive,
                        sk_file_entry **entries, size_t *count)
{
    listing l = {0};
    int rc = sk_file_client_connect(c);
    if (rc == 0)
        rc = send_list(c, name, recursive);
    for (bool more = rc == 0; more;) {
        cJSON *m;
        const char *op;
        if ((rc = sk_file_client_recv(c, name, &m, &op)) < 0)
            break;
        rc = strcmp(op, "list") ? sk_file_client_unexpected(c, name, op, NULL)
                                : take_message(c, name, m, &l, &more);
        cJSON_Delete(m);
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        sk_fs_list_free(l.v, l.n);
        return rc;
    }
    *entries = l.v;
    *count = l.n;
    return 0;
}
