/* Scrubbed environments: a short list kept from the server, the request's
 * extras checked against the rules in exec_env.h. */
#include "exec_env.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Variables kept from the server's environment (LC_* too). */
static const char *const kept[] = {"HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ"};
/* The only variables a request may set when commands are restricted. */
static const char *const restricted_ok[] = {"LANG", "TERM", "TZ"};

/* Length of the name of "NAME=VALUE" (the whole string without '='). */
static size_t name_len(const char *entry)
{
    const char *eq = strchr(entry, '=');
    return eq ? (size_t)(eq - entry) : strlen(entry);
}

static bool name_is(const char *entry, const char *name)
{
    size_t n = strlen(name);
    return name_len(entry) == n && !strncmp(entry, name, n);
}

static bool in_list(const char *entry, const char *const *list, size_t n)
{
    if (!strncmp(entry, "LC_", 3))
        return true;
    for (size_t i = 0; i < n; i++)
        if (name_is(entry, list[i]))
            return true;
    return false;
}

int sk_exec_env_base(char *const *envp, char ***out)
{
    size_t n = 0;
    while (envp && envp[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env)
        return -ENOMEM;
    size_t k = 0;
    env[k++] = strdup("PATH=" SK_EXEC_DEFAULT_PATH);
    for (size_t i = 0; i < n && env[0]; i++)
        if (strchr(envp[i], '=') && in_list(envp[i], kept, sizeof kept / sizeof kept[0]) &&
            !(env[k++] = strdup(envp[i])))
            break;
    if (!env[0] || (k > 0 && !env[k - 1])) {
        sk_exec_env_free(env);
        return -ENOMEM;
    }
    *out = env;
    return 0;
}

void sk_exec_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

static bool portable_name(const char *entry, size_t len)
{
    if (len == 0 || (entry[0] >= '0' && entry[0] <= '9'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = entry[i];
        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

bool sk_exec_env_allowed(const char *entry, bool restricted)
{
    size_t len = name_len(entry);
    if (!entry[len] || !portable_name(entry, len) || !strncmp(entry, "LD_", 3))
        return false;
    return !restricted ||
           in_list(entry, restricted_ok, sizeof restricted_ok / sizeof restricted_ok[0]);
}

/* Whether a later extra entry sets the same name as entry. */
static bool replaced(const char *entry, char *const *extra, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (name_len(extra[i]) == name_len(entry) &&
            !strncmp(extra[i], entry, name_len(entry)))
            return true;
    return false;
}

int sk_exec_env_build(char *const *base, char *const *extra, size_t n, char ***out)
{
    size_t nb = 0;
    while (base && base[nb])
        nb++;
    char **env = calloc(nb + n + 1, sizeof *env);
    if (!env)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < nb; i++)
        if (!replaced(base[i], extra, n))
            env[k++] = base[i];
    for (size_t i = 0; i < n; i++)
        if (!replaced(extra[i], extra + i + 1, n - i - 1)) /* the last one wins */
            env[k++] = extra[i];
    *out = env;
    return 0;
}

const char *sk_exec_env_get(char *const *env, const char *name)
{
    for (size_t i = 0; env && env[i]; i++)
        if (name_is(env[i], name))
            return env[i] + strlen(name) + 1;
    return NULL;
}
