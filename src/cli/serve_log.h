/* Log lines of `sk serve` on stderr: "sk: HH:MM:SS.mmm LINE". */
#ifndef SK_CLI_SERVE_LOG_H
#define SK_CLI_SERVE_LOG_H

/* An sk_log_fn; user points to an int holding the highest level printed
 * (SK_LOG_ERROR, SK_LOG_INFO or SK_LOG_DEBUG). Thread-safe. */
void sk_serve_log_stderr(void *user, int level, const char *line);

#endif
