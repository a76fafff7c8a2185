/* HTTP directory listing: an HTML page naming a directory's entries. */
#ifndef SK_HTTP_LISTING_H
#define SK_HTTP_LISTING_H

#include <stdbool.h>
#include <stddef.h>

/* The HTML listing of the directory open at dir_fd: entries sorted
 * (directories first, then by name), names HTML-escaped and
 * percent-encoded in their links, sizes in bytes and modification dates
 * (UTC); small inline CSS, no JavaScript. Dotfiles are left out unless
 * dotfiles. url_path is the directory's decoded URL path ("/", "/a b/"),
 * shown as the title; a link to the parent comes first below the root.
 * Returns 0 with *body (malloc'd: free it) of *len bytes, or -errno. */
int sk_http_listing(int dir_fd, const char *url_path, bool dotfiles, char **body, size_t *len);

#endif
