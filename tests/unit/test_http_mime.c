/* Unit tests for media types: the built-in table, a mime.types file (comments,
 * case, duplicates, dotted extensions, charset), /etc/mime.types or its absence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_mime.h"

typedef struct mime_case {
    const char *name, *type;
} mime_case;

static const mime_case builtin_cases[] = {
    { "index.html", "text/html; charset=utf-8" },
    { "INDEX.HTM", "text/html; charset=utf-8" },
    { "a/b/style.css", "text/css; charset=utf-8" },
    { "app.js", "text/javascript; charset=utf-8" },
    { "mod.mjs", "text/javascript; charset=utf-8" },
    { "data.json", "application/json" },
    { "readme.txt", "text/plain; charset=utf-8" },
    { "x.md", "text/markdown; charset=utf-8" },
    { "pic.PNG", "image/png" },
    { "pic.jpg", "image/jpeg" },
    { "pic.jpeg", "image/jpeg" },
    { "anim.gif", "image/gif" },
    { "logo.svg", "image/svg+xml" },
    { "p.webp", "image/webp" },
    { "p.avif", "image/avif" },
    { "favicon.ico", "image/vnd.microsoft.icon" },
    { "doc.pdf", "application/pdf" },
    { "m.wasm", "application/wasm" },
    { "f.woff2", "font/woff2" },
    { "f.woff", "font/woff" },
    { "v.mp4", "video/mp4" },
    { "v.webm", "video/webm" },
    { "a.tar.gz", "application/gzip" },
    { "a.zip", "application/zip" },
    { "x.xml", "application/xml" },
    { "x.7z", "application/x-7z-compressed" },
    { "x.bmp", "image/bmp" },
    { "x.csv", "text/csv; charset=utf-8" },
    { "x.map", "application/json" },
    { "x.mp3", "audio/mpeg" },
    { "x.oga", "audio/ogg" },
    { "x.ogg", "audio/ogg" },
    { "x.ogv", "video/ogg" },
    { "x.otf", "font/otf" },
    { "x.tar", "application/x-tar" },
    { "x.text", "text/plain; charset=utf-8" },
    { "x.ttf", "font/ttf" },
    { "x.wav", "audio/wav" },
    { "site.webmanifest", "application/manifest+json" },
    { "x.xhtml", "application/xhtml+xml" },
    { "x.xz", "application/x-xz" },
    /* no extension, unknown ones */
    { "Makefile", "application/octet-stream" },
    { ".bashrc", "application/octet-stream" },
    { ".html", "application/octet-stream" },
    { "dir.html/file", "application/octet-stream" },
    { "x.", "application/octet-stream" },
    { "x.unknownext", "application/octet-stream" },
    { "", "application/octet-stream" },
    { "a/", "application/octet-stream" },
    { "x.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "application/octet-stream" },
};

static void test_builtin(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(builtin_cases) / sizeof(builtin_cases[0]); i++) {
        const char *t = sk_http_mime_lookup(NULL, builtin_cases[i].name);
        if (strcmp(t, builtin_cases[i].type) != 0)
            fail_msg("'%s': got '%s', want '%s'", builtin_cases[i].name, t, builtin_cases[i].type);
    }
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/sk_test_mime_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_file(void **state)
{
    (void)state;
    char *path = write_temp("# comment html x\n"
                            "text/x-first\tFoo BAR # trailing comment baz\n"
                            "application/x-second  foo qux\r\n"
                            "\n   \t\n"
                            "application/x-typeonly\n"
                            "application/spdx+json\tspdx.json\n"
                            "text/html  html\n"
                            "application/json json\n"
                            "image/x-last last");
    sk_http_mime *m = NULL;
    assert_int_equal(sk_http_mime_load(&m, path), 0);
    assert_non_null(m);
    assert_string_equal(sk_http_mime_lookup(m, "a.foo"), "text/x-first; charset=utf-8");
    assert_string_equal(sk_http_mime_lookup(m, "a.FOO"), "text/x-first; charset=utf-8");
    assert_string_equal(sk_http_mime_lookup(m, "a.bar"), "text/x-first; charset=utf-8");
    assert_string_equal(sk_http_mime_lookup(m, "a.baz"), "application/octet-stream");
    assert_string_equal(sk_http_mime_lookup(m, "a.qux"), "application/x-second");
    assert_string_equal(sk_http_mime_lookup(m, "x.spdx.json"), "application/spdx+json");
    assert_string_equal(sk_http_mime_lookup(m, "x.json"), "application/json");
    assert_string_equal(sk_http_mime_lookup(m, "a.last"), "image/x-last");
    assert_string_equal(sk_http_mime_lookup(m, "d/index.html"), "text/html; charset=utf-8");
    /* Not in the file: the built-in table. */
    assert_string_equal(sk_http_mime_lookup(m, "a.png"), "image/png");
    assert_string_equal(sk_http_mime_lookup(m, "a.x"), "application/octet-stream");
    sk_http_mime_free(m);
    unlink(path);
    free(path);
}

static void test_empty_and_missing(void **state)
{
    (void)state;
    char *path = write_temp("");
    sk_http_mime *m = NULL;
    assert_int_equal(sk_http_mime_load(&m, path), 0);
    assert_string_equal(sk_http_mime_lookup(m, "a.css"), "text/css; charset=utf-8");
    sk_http_mime_free(m);
    unlink(path);
    free(path);

    m = (sk_http_mime *)1;
    assert_int_equal(sk_http_mime_load(&m, "/nonexistent/mime.types"), -ENOENT);
    assert_null(m);
    sk_http_mime_free(NULL);
}

static void test_system_file(void **state)
{
    (void)state;
    sk_http_mime *m = NULL;
    assert_int_equal(sk_http_mime_load(&m, NULL), 0); /* with or without /etc/mime.types */
    assert_non_null(m);
    assert_string_equal(sk_http_mime_lookup(m, "index.html"), "text/html; charset=utf-8");
    assert_string_equal(sk_http_mime_lookup(m, "a.png"), "image/png");
    assert_string_equal(sk_http_mime_lookup(m, "a.css"), "text/css; charset=utf-8");
    assert_string_equal(sk_http_mime_lookup(m, "noext"), "application/octet-stream");
    assert_true(strncmp(sk_http_mime_lookup(m, "a.js"), "text/javascript", 15) == 0 ||
                strncmp(sk_http_mime_lookup(m, "a.js"), "application/javascript", 22) == 0);
    assert_non_null(strstr(sk_http_mime_lookup(m, "a.js"), "charset=utf-8"));
    sk_http_mime_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_empty_and_missing),
        cmocka_unit_test(test_system_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
