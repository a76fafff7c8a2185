/* File transfer names: the rules of docs/protocol.md ("File transfer",
 * Errors/badname) that every name a peer sends must pass, on the server and
 * on the client alike.
 *
 * A name is relative to the server's root (or the client's output
 * directory), uses '/' between components, and has no empty, "." or ".."
 * component, no NUL or control character (bytes 0x01-0x1f and 0x7f), is
 * valid UTF-8, at most SK_NAME_MAX bytes in all and SK_NAME_COMPONENT_MAX
 * bytes per component, and its last component does not end in ".part"
 * (reserved for partial transfers: NAME.part). "" names the root itself;
 * only LIST accepts it. */
#ifndef SK_FILE_NAMES_H
#define SK_FILE_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define SK_NAME_MAX 4096u          /* bytes in a whole name, NUL excluded */
#define SK_NAME_COMPONENT_MAX 255u /* bytes in one component */

/* Check a name against the rules.
 *   name:       NUL-terminated (a name with an embedded NUL never gets here:
 *               file_msg.c refuses "\u0000" in any string);
 *   allow_root: accept "" (the root itself; for LIST);
 *   why/whylen: receives what is wrong, in words, naming the name
 *               ("'../x': '..' component"); may be NULL.
 * Returns 0 when the name is valid, else -EINVAL. */
int sk_file_name_check(const char *name, bool allow_root, char *why, size_t whylen);

/* Join a remote directory and a relative name with '/': ("photos", "a.jpg")
 * -> "photos/a.jpg"; ("", "a.jpg") -> "a.jpg"; ("photos", "") -> "photos".
 * A trailing '/' of dir is not doubled. The result is not checked: pass it
 * to sk_file_name_check.
 * Returns 0, or -ENAMETOOLONG when out (outlen bytes) is too small. */
int sk_file_name_join(const char *dir, const char *name, char *out, size_t outlen);

/* 1 when text is valid UTF-8 without control characters (0x01-0x1f,
 * 0x7f): what names and link targets may hold, and what a JSON string
 * from sockkit always holds. Else 0. */
int sk_file_text_valid(const char *text);

/* Make text printable in place for a message: every byte that is not part
 * of valid UTF-8, and every control character, becomes '?'. */
void sk_file_text_sanitize(char *text);

/* The last component of a name ("photos/a.jpg" -> "a.jpg"; "a" -> "a"). */
const char *sk_file_name_last(const char *name);

#endif
