/* file service, LIST: the entries under a name, sorted, in one or more
 * "list" messages (every one but the last with "more": true). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "file_fs.h"
#include "file_session.h"

/* A new {"op":"list","entries":[]}; *entries receives the array. */
static cJSON *list_msg(cJSON **entries)
{
    cJSON *m = sk_file_msg_new("list");
    if (m && !(*entries = cJSON_AddArrayToObject(m, "entries"))) {
        cJSON_Delete(m);
        m = NULL;
    }
    return m;
}

/* An upper bound of the JSON size of one entry. */
static size_t entry_cost(const sk_file_entry *e)
{
    /* Escaping at most doubles a string ('"', '\\'); 160 for the rest. */
    return 2 * strlen(e->name) + (e->target ? 2 * strlen(e->target) : 0) + 160;
}

static int send_entries(sk_conn *c, const sk_file_entry *v, size_t count)
{
    cJSON *entries = NULL;
    cJSON *m = list_msg(&entries);
    size_t bytes = 0;
    int rc = m ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (bytes >= SK_FILE_LIST_SPLIT) { /* this message is full: more follow */
            rc = cJSON_AddTrueToObject(m, "more") ? file_send(c, m) : -ENOMEM;
            m = rc == 0 ? list_msg(&entries) : NULL;
            rc = rc == 0 && !m ? -ENOMEM : rc;
            bytes = 0;
        }
        if (rc == 0)
            rc = sk_file_msg_add_entry(entries, &v[i]);
        bytes += entry_cost(&v[i]);
    }
    if (rc < 0) {
        cJSON_Delete(m);
        return rc;
    }
    return file_send(c, m);
}

int file_list(sk_conn *c, file_session *s, const cJSON *msg)
{
    char why[SK_NAME_MAX + 200] = "";
    const char *name = "";
    bool recursive = false;
    if (sk_file_msg_get_string(msg, "name", &name, why, sizeof why) < 0 ||
        sk_file_msg_get_bool(msg, "recursive", &recursive, why, sizeof why) < 0)
        return file_protocol_error(c, s, why);
    if (sk_file_name_check(name, true, why, sizeof why) < 0)
        return file_send_error(c, s, "badname", "%s", why);
    struct stat st;
    int rc = sk_fs_stat(s->cfg->root_fd, name, &st);
    if (rc < 0)
        return file_send_errno(c, s, rc, name[0] ? name : "the root");
    if (sk_file_type_of_mode(st.st_mode) == SK_FTYPE_OTHER)
        return file_send_error(c, s, "notfile", "%s is neither a file, a directory nor a link",
                               name);
    sk_file_entry *v;
    size_t count;
    rc = sk_fs_list(s->cfg->root_fd, name, recursive, &v, &count);
    if (rc < 0)
        return rc == -ENOMEM ? rc : file_send_errno(c, s, rc, name[0] ? name : "the root");
    rc = send_entries(c, v, count);
    sk_fs_list_free(v, count);
    return rc;
}
