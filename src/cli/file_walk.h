/* Walking the local trees `sk send` uploads: each PATH argument becomes a
 * list of entries (directories before their contents, names sorted), with
 * symbolic links kept as links, never followed.
 *
 * Remote names follow cp -r: PATH "photos" (or "a/photos") sent to remote
 * directory "backups" gives "backups/photos", "backups/photos/a.jpg", ...;
 * PATH "." or "/" sends the directory's contents straight into the remote
 * directory.
 */
#ifndef SK_CLI_FILE_WALK_H
#define SK_CLI_FILE_WALK_H

#include <stddef.h>
#include <stdint.h>

typedef enum sk_local_type {
    SK_LOCAL_FILE,
    SK_LOCAL_DIR,
    SK_LOCAL_SYMLINK,
    SK_LOCAL_OTHER, /* a device, FIFO or socket: not sent */
    SK_LOCAL_ERROR, /* could not be read: error holds why */
} sk_local_type;

typedef struct sk_local_entry {
    sk_local_type type;
    char *path;       /* local path, for opening and messages */
    char *name;       /* remote name */
    char *target;     /* symlink target (SK_LOCAL_SYMLINK), else NULL */
    uint64_t size;    /* bytes (SK_LOCAL_FILE) */
    unsigned mode;    /* permission bits */
    int64_t mtime;    /* seconds since the epoch */
    int error;        /* -errno (SK_LOCAL_ERROR) */
} sk_local_entry;

typedef struct sk_local_list {
    sk_local_entry *v;
    size_t n, cap;
} sk_local_list;

/* Append the entries of local path (a file, link or directory tree) to out,
 * named under remote_dir ("" for the root). Entries that cannot be read are
 * appended as SK_LOCAL_ERROR and the walk goes on.
 * Returns 0, or -ENOMEM (out keeps what it had). */
int sk_local_walk(const char *path, const char *remote_dir, sk_local_list *out);

/* Release the list's entries and storage; it may be reused empty. */
void sk_local_list_free(sk_local_list *l);

#endif
