/* HTTP request-target -> safe path relative to the served root.
 *
 * Accepted forms:
 *   origin-form    "/a/b%20c.txt?x=1"  -> "a/b c.txt" (the query is dropped);
 *   absolute-form  "http://host:port/a/b?x" (scheme http or https, ASCII
 *                  case-insensitive) -> "a/b": scheme and authority are stripped
 *                  (RFC 9112 §3.2.2: a server MUST accept absolute-form); the path
 *                  then follows the origin-form rules; "http://host" and
 *                  "http://host?q" name the root. An empty authority or one with
 *                  userinfo ('@') is refused with -400.
 * Anything else ("*", authority-form "host:port", "file:///x", "a/b") -> -400.
 *
 * The path is percent-decoded exactly once ("%252e%252e" -> the literal name
 * "%2e%2e", never ".."). Refused with -400: a raw '#', '\\', control character
 * (0x00-0x1f, 0x7f) or SP; an invalid %-escape ("%", "%4", "%zz"); a decoded NUL
 * ("%00"), '/' ("%2f", "%2F"), '\\' ("%5c", "%5C") or control character; any ".."
 * segment, whether written ".." or encoded ("%2e%2e", ".%2E"). "." segments and
 * empty segments ("//") are removed. When nothing else is wrong, a segment that
 * starts with '.' (a dotfile or dot-directory, e.g. ".git", ".env") -> -404 unless
 * allow_dotfiles. Bytes >= 0x80 pass through unchanged (raw or decoded).
 *
 * out receives the NUL-terminated relative path: no leading or trailing '/', no
 * empty, "." or ".." segment; "" for the root ("/"). When out (outlen bytes) is too
 * small: -414. is_dir_form (may be NULL) is set to true when the path ends with
 * '/' or with a "." segment ("/", "/a/", "/a/."): the client named a directory.
 * Returns 0 or -status (-400, -404, -414); on error out is "" (when outlen > 0). */
#ifndef SK_HTTP_PATH_H
#define SK_HTTP_PATH_H

#include <stdbool.h>
#include <stddef.h>

int sk_http_target_to_path(const char *target, size_t len, bool allow_dotfiles, char *out, size_t outlen,
                           bool *is_dir_form);

#endif
