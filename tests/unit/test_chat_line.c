/* Unit tests for chat input lines: LF and CRLF, lines split across reads,
 * the 4096-byte limit (reported once, rest discarded, next line fine), and
 * the last line at end of input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "chat_line.h"

typedef struct seen {
    char lines[16][SK_CHAT_LINE_MAX + 1];
    size_t lens[16];
    int count;
    int too_long;
    int stop_after; /* return 7 from the line sink after this many (0: never) */
} seen;

static int got_line(void *arg, const uint8_t *line, size_t len)
{
    seen *s = arg;
    assert_true(len <= SK_CHAT_LINE_MAX);
    assert_true(s->count < 16);
    memcpy(s->lines[s->count], line, len);
    s->lines[s->count][len] = '\0';
    s->lens[s->count++] = len;
    return s->stop_after && s->count == s->stop_after ? 7 : 0;
}

static int got_too_long(void *arg)
{
    ((seen *)arg)->too_long++;
    return 0;
}

static const sk_chat_line_sink sink = {.line = got_line, .too_long = got_too_long};

static int feed(sk_chat_lines *l, seen *s, const char *text)
{
    return sk_chat_lines_feed(l, (const uint8_t *)text, strlen(text), &sink, s);
}

static void test_lf_and_crlf(void **state)
{
    (void)state;
    sk_chat_lines l = {0};
    seen s = {0};
    assert_int_equal(feed(&l, &s, "one\ntwo\r\n\nthree\r\r\n"), 0);
    assert_int_equal(s.count, 4);
    assert_string_equal(s.lines[0], "one");
    assert_string_equal(s.lines[1], "two");
    assert_int_equal(s.lens[2], 0);
    assert_string_equal(s.lines[3], "three\r"); /* only one CR belongs to the CRLF */
    assert_null(l.partial);
    sk_chat_lines_free(&l);
}

static void test_split_across_reads(void **state)
{
    (void)state;
    sk_chat_lines l = {0};
    seen s = {0};
    assert_int_equal(feed(&l, &s, "hel"), 0);
    assert_int_equal(s.count, 0);
    assert_int_equal(feed(&l, &s, "lo\r"), 0);
    assert_int_equal(feed(&l, &s, "\nwor"), 0);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.lines[0], "hello");
    assert_int_equal(feed(&l, &s, "ld\n"), 0);
    assert_string_equal(s.lines[1], "world");
    assert_null(l.partial); /* no buffer while no line waits */
    sk_chat_lines_free(&l);
}

/* A line of n 'x' then the given end, fed in pieces of step bytes. */
static void feed_long(sk_chat_lines *l, seen *s, size_t n, const char *end, size_t step)
{
    size_t total = n + strlen(end);
    char *buf = malloc(total);
    assert_non_null(buf);
    memset(buf, 'x', n);
    memcpy(buf + n, end, strlen(end));
    for (size_t off = 0; off < total; off += step) {
        size_t k = total - off < step ? total - off : step;
        assert_int_equal(sk_chat_lines_feed(l, (uint8_t *)buf + off, k, &sink, s), 0);
    }
    free(buf);
}

static void test_limit_exact(void **state)
{
    (void)state;
    size_t steps[] = {1, 1000, 4096, 5000};
    for (size_t i = 0; i < 4; i++) {
        sk_chat_lines l = {0};
        seen s = {0};
        feed_long(&l, &s, SK_CHAT_LINE_MAX, "\n", steps[i]);
        feed_long(&l, &s, SK_CHAT_LINE_MAX, "\r\n", steps[i]);
        assert_int_equal(s.count, 2);
        assert_int_equal(s.lens[0], SK_CHAT_LINE_MAX);
        assert_int_equal(s.lens[1], SK_CHAT_LINE_MAX);
        assert_int_equal(s.too_long, 0);
        sk_chat_lines_free(&l);
    }
}

static void test_too_long_reported_once(void **state)
{
    (void)state;
    size_t steps[] = {1, 100, 4097, 20000};
    for (size_t i = 0; i < 4; i++) {
        sk_chat_lines l = {0};
        seen s = {0};
        feed_long(&l, &s, SK_CHAT_LINE_MAX + 1, "\n", steps[i]);
        assert_int_equal(s.too_long, 1);
        feed_long(&l, &s, 10 * 1024, "\r\n", steps[i]);
        assert_int_equal(s.too_long, 2);
        assert_int_equal(s.count, 0);
        assert_int_equal(feed(&l, &s, "after\n"), 0);
        assert_int_equal(s.count, 1);
        assert_string_equal(s.lines[0], "after");
        sk_chat_lines_free(&l);
    }
}

static void test_too_long_reported_before_its_end(void **state)
{
    (void)state;
    sk_chat_lines l = {0};
    seen s = {0};
    feed_long(&l, &s, 100 * 1024, "", 4096); /* no LF yet */
    assert_int_equal(s.too_long, 1);
    assert_null(l.partial); /* nothing kept while discarding */
    assert_int_equal(feed(&l, &s, "rest of it\nnext\n"), 0);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.lines[0], "next");
    sk_chat_lines_free(&l);
}

static void test_finish(void **state)
{
    (void)state;
    sk_chat_lines l = {0};
    seen s = {0};
    assert_int_equal(feed(&l, &s, "a\nlast"), 0);
    assert_int_equal(sk_chat_lines_finish(&l, &sink, &s), 0);
    assert_int_equal(s.count, 2);
    assert_string_equal(s.lines[1], "last");
    assert_null(l.partial);
    /* nothing waiting: nothing delivered */
    assert_int_equal(sk_chat_lines_finish(&l, &sink, &s), 0);
    assert_int_equal(s.count, 2);
}

static void test_stop(void **state)
{
    (void)state;
    sk_chat_lines l = {0};
    seen s = {.stop_after = 2};
    assert_int_equal(feed(&l, &s, "a\nb\nc\nd"), 7);
    assert_int_equal(s.count, 2);
    sk_chat_lines_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lf_and_crlf),
        cmocka_unit_test(test_split_across_reads),
        cmocka_unit_test(test_limit_exact),
        cmocka_unit_test(test_too_long_reported_once),
        cmocka_unit_test(test_too_long_reported_before_its_end),
        cmocka_unit_test(test_finish),
        cmocka_unit_test(test_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
