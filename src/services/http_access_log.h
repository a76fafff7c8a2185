/* HTTP access log: one Combined Log Format line per response, appended
 * to a file (--access-log FILE) with one write(2) each. */
#ifndef SK_HTTP_ACCESS_LOG_H
#define SK_HTTP_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* What one log line says about an exchange. Text fields are raw request
 * bytes (not NUL-terminated); the logger escapes them. */
typedef struct sk_http_log_entry {
    const char *peer;          /* sk_conn_peer: "127.0.0.1:50312", "[::1]:80" */
    const char *request_line;  /* "GET / HTTP/1.1", NULL: "-" */
    size_t request_line_len;
    int status;
    uint64_t body_bytes;       /* 0 is logged as "-" */
    const char *referer;       /* NULL: "-" */
    size_t referer_len;
    const char *user_agent;    /* NULL: "-" */
    size_t user_agent_len;
    time_t when;
} sk_http_log_entry;

/* Open (create, append) the log file. Returns an O_APPEND|O_CLOEXEC fd or -errno. */
int sk_http_access_log_open(const char *path);

/* Format e as one Combined Log Format line (with '\n') into out.
 * Returns its length (truncated fields keep the line well formed). */
size_t sk_http_access_log_format(const sk_http_log_entry *e, char *out, size_t outlen);

/* Append e's line to fd with one write. fd < 0: nothing. Returns 0 or -errno. */
int sk_http_access_log_write(int fd, const sk_http_log_entry *e);

#endif
