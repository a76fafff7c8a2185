/* The environment of a command run by exec (docs/exec.md, "Environment"):
 * scrubbed, never the server's own. It holds PATH (SK_EXEC_DEFAULT_PATH)
 * and, when the server has them, HOME, USER, LOGNAME, SHELL, LANG, LC_*
 * and TZ; then the request's extra variables, which replace same-named
 * ones. An extra variable must have a portable name ([A-Za-z_][A-Za-z0-9_]*)
 * and never LD_* (the dynamic loader); when the server restricts commands
 * (--exec-allow) only LANG, LC_*, TERM and TZ may be set, so that a
 * client cannot change what an allowed command does (PATH, PYTHONPATH...). */
#ifndef SK_EXEC_ENV_H
#define SK_EXEC_ENV_H

#include <stdbool.h>
#include <stddef.h>

#define SK_EXEC_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* The base environment from the server's (envp, e.g. environ): a new
 * NULL-ended array of malloc'd "NAME=VALUE" strings in *out. Read once, at
 * configuration. Returns 0 or -ENOMEM. */
int sk_exec_env_base(char *const *envp, char ***out);

/* Free a base environment. */
void sk_exec_env_free(char **env);

/* Whether a request may set the variable entry ("NAME=VALUE");
 * restricted: the server has an --exec-allow list. */
bool sk_exec_env_allowed(const char *entry, bool restricted);

/* The command's environment: base, then extra (count n) replacing
 * same-named entries. *out receives a malloc'd NULL-ended array of
 * pointers into base and extra (free only the array).
 * Returns 0 or -ENOMEM. */
int sk_exec_env_build(char *const *base, char *const *extra, size_t n, char ***out);

/* The value of name in env, or NULL. */
const char *sk_exec_env_get(char *const *env, const char *name);

#endif
