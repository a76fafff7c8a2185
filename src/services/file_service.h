/* file: the file transfer service (docs/protocol.md, "File transfer"):
 * PUT with verified resume, GET with sendfile, LIST, confined to a root
 * directory. Stream transports only.
 *
 * The service needs its configuration as its context: a server copies
 * sk_service_file, points the copy's .context at an sk_file_config (both
 * outliving the server) and serves the copy. */
#ifndef SK_FILE_SERVICE_H
#define SK_FILE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockkit/service.h"

#define SK_FILE_DEFAULT_ROOT "./sk-files"

typedef struct sk_file_config {
    int root_fd;          /* O_PATH | O_DIRECTORY | O_CLOEXEC; -1 when not open */
    char *root_path;      /* as given, for messages (malloc'd) */
    bool overwrite;       /* replace existing names (--overwrite) */
    uint64_t max_size;    /* largest upload in bytes, 0 = no limit (--max-size) */
} sk_file_config;

/* Create the root directory (mkdir -p) and open it.
 *   root: a local path (NULL for SK_FILE_DEFAULT_ROOT);
 *   err/errlen: receives why it failed, naming the path.
 * Returns 0 or -errno; on failure cfg holds nothing to free. */
int sk_file_config_init(sk_file_config *cfg, const char *root, bool overwrite, uint64_t max_size,
                        char *err, size_t errlen);

/* Close the root and free the path. Safe on a failed or freed config. */
void sk_file_config_free(sk_file_config *cfg);

/* The service. Its context must be an sk_file_config (see above): a
 * connection to a service without one is closed at once. */
extern const sk_service sk_service_file;

#endif
