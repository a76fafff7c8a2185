/* Media types for file names, from /etc/mime.types (Debian's media-types) with a
 * built-in fallback table.
 *
 * The type of a file is found by its extension, ASCII case-insensitive; the
 * longest dotted suffix listed wins ("x.spdx.json" -> "spdx.json" before "json"),
 * a name's leading '.' does not start an extension (".bashrc" has none).
 * Lookup order: the loaded file, then the built-in table (html htm css js mjs json
 * xml txt md csv png jpg jpeg gif webp avif svg ico bmp pdf wasm woff woff2 ttf
 * otf mp4 webm mp3 ogg wav zip gz tar ...), then "application/octet-stream".
 * Every text/... type and application/javascript is returned with
 * "; charset=utf-8" appended ("text/html; charset=utf-8").
 * A loaded table is read-only after sk_http_mime_load: lookups are thread-safe. */
#ifndef SK_HTTP_MIME_H
#define SK_HTTP_MIME_H

typedef struct sk_http_mime sk_http_mime;

/* Load a mime.types file ("type ext ext ..." lines, '#' comments; an extension
 * listed twice keeps its first type). path NULL means /etc/mime.types, and then a
 * missing or unreadable file is not an error: *out gets a table with the built-in
 * types alone. Returns 0, -errno when an explicit path cannot be read, -ENOMEM. */
int sk_http_mime_load(sk_http_mime **out, const char *path);

/* The media type for filename (a name or a path: only its last component counts).
 * m may be NULL: built-in table only. Never returns NULL; the string lives as
 * long as m (built-in ones forever). */
const char *sk_http_mime_lookup(const sk_http_mime *m, const char *filename);

/* Free a table from sk_http_mime_load (NULL is fine). */
void sk_http_mime_free(sk_http_mime *m);

#endif
