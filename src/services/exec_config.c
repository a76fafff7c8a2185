/* The exec service's configuration: token, allow list, environment, log. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec_env.h"
#include "exec_session.h"
#include "exec_service.h"

int sk_exec_config_init(sk_exec_config *cfg, const char *token_file, char *const *envp,
                        char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->grace_ms = SK_EXEC_GRACE_MS;
    int rc = sk_exec_token_read(token_file, &cfg->token, err, errlen);
    if (rc < 0)
        return rc;
    cfg->ending = calloc(1, sizeof *cfg->ending);
    rc = cfg->ending ? sk_exec_limiter_init(&cfg->limiter) : -ENOMEM;
    if (rc == 0) {
        rc = sk_exec_env_base(envp, &cfg->base_env);
        if (rc < 0)
            sk_exec_limiter_destroy(&cfg->limiter);
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s", strerror(-rc));
        sk_exec_token_clear(&cfg->token);
        free(cfg->ending);
        cfg->ending = NULL;
    }
    return rc;
}

bool sk_exec_config_wait_endings(const sk_exec_config *cfg)
{
    if (!cfg->ending)
        return true;
    int64_t until = exec_now_ms() + cfg->grace_ms + 2000;
    while (atomic_load(cfg->ending) > 0) {
        if (exec_now_ms() >= until)
            return false;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
    }
    return true;
}

int sk_exec_config_allow(sk_exec_config *cfg, const char *command)
{
    char **v = realloc(cfg->allow, (cfg->allow_count + 2) * sizeof *v);
    if (!v)
        return -ENOMEM;
    cfg->allow = v;
    if (!(v[cfg->allow_count] = strdup(command)))
        return -ENOMEM;
    v[++cfg->allow_count] = NULL;
    return 0;
}

bool sk_exec_config_allowed(const sk_exec_config *cfg, const char *argv0)
{
    if (!cfg->allow)
        return true;
    for (size_t i = 0; i < cfg->allow_count; i++)
        if (!strcmp(cfg->allow[i], argv0))
            return true;
    return false;
}

void sk_exec_config_free(sk_exec_config *cfg)
{
    if (cfg->ending) {
        if (!sk_exec_config_wait_endings(cfg))
            return; /* a pump thread still uses it: left to the process's exit */
        free(cfg->ending);
        cfg->ending = NULL;
    }
    if (cfg->base_env) {
        sk_exec_env_free(cfg->base_env);
        sk_exec_limiter_destroy(&cfg->limiter);
    }
    cfg->base_env = NULL;
    for (size_t i = 0; i < cfg->allow_count; i++)
        free(cfg->allow[i]);
    free(cfg->allow);
    cfg->allow = NULL;
    cfg->allow_count = 0;
    sk_exec_token_clear(&cfg->token);
}

void sk_exec_logf(const sk_exec_config *cfg, int level, const char *fmt, ...)
{
    if (!cfg->log)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cfg->log(cfg->log_user, level, line);
}
