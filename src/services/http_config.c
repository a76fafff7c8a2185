/* http: the configuration its connections share: the root directory, the
 * MIME types, the access log and the timeouts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http_access_log.h"
#include "http_mime.h"
#include "http_service.h"

void sk_http_options_default(sk_http_options *o)
{
    *o = (sk_http_options){.header_timeout_ms = 10000, .keepalive_timeout_ms = 5000};
}

static int set_error(char *err, size_t errlen, int rc, const char *what, const char *name)
{
    snprintf(err, errlen, "%s '%s': %s", what, name, strerror(-rc));
    return rc;
}

int sk_http_config_init(sk_http_config *cfg, const sk_http_options *o, char *err, size_t errlen)
{
    const char *root = o->root ? o->root : ".";
    *cfg = (sk_http_config){.root_fd = -1, .access_log_fd = -1, .dotfiles = o->dotfiles,
                            .header_timeout_ms = o->header_timeout_ms,
                            .keepalive_timeout_ms = o->keepalive_timeout_ms};
    cfg->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cfg->root_fd < 0)
        return set_error(err, errlen, -errno, "cannot open the root", root);
    int rc = sk_http_mime_load(&cfg->mime, NULL);
    if (rc < 0) {
        sk_http_config_free(cfg);
        return set_error(err, errlen, rc, "cannot load the MIME types from", "/etc/mime.types");
    }
    if (o->access_log) {
        cfg->access_log_fd = sk_http_access_log_open(o->access_log);
        if (cfg->access_log_fd < 0) {
            rc = cfg->access_log_fd;
            sk_http_config_free(cfg);
            return set_error(err, errlen, rc, "cannot open the access log", o->access_log);
        }
    }
    return 0;
}

void sk_http_config_free(sk_http_config *cfg)
{
    if (cfg->root_fd >= 0)
        close(cfg->root_fd);
    if (cfg->access_log_fd >= 0)
        close(cfg->access_log_fd);
    sk_http_mime_free(cfg->mime);
    cfg->root_fd = cfg->access_log_fd = -1;
    cfg->mime = NULL;
}

