/* sockkit error reporting.
 *
 * Every sockkit function that can fail returns a negative errno value
 * (-ECONNREFUSED, -ETIMEDOUT, ...), the convention of libuv and the Linux
 * kernel. Zero or a positive count means success.
 */
#ifndef SOCKKIT_ERROR_H
#define SOCKKIT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Describe a sockkit error code.
 *   err: a negative errno value as returned by sockkit (a positive errno is
 *        accepted too and treated the same).
 * Returns a static, thread-safe string ("Connection refused", "Message too
 * long", ...). Never NULL; 0 gives "Success". */
const char *sk_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
