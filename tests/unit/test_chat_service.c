/* Unit tests for the chat service's callbacks, driven on fake connections
 * (one thread): the greeting and lobby, room lines echoed to the sender,
 * /nick /join /part /msg /me /who /rooms /help /quit, errors, the line
 * limit, UTF-8 repair, flood control, and a reader that stopped reading
 * being disconnected while the others go on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_service.h"
#include "conn.h"

typedef struct client {
    sk_conn conn;
    void *state;
    char out[65536]; /* everything written, NUL-terminated */
    size_t out_len;
    atomic_int wakes;
    size_t pending;  /* what sk_conn_pending reports */
    bool open;
} client;

static int fake_write(sk_conn *c, const void *data, size_t len)
{
    client *cl = c->model_data;
    size_t room = sizeof cl->out - 1 - cl->out_len;
    size_t n = len < room ? len : room;
    memcpy(cl->out + cl->out_len, data, n);
    cl->out_len += n;
    cl->out[cl->out_len] = '\0';
    return 0;
}

static size_t fake_pending(const sk_conn *c)
{
    return ((const client *)c->model_data)->pending;
}

static int fake_wake(sk_conn *c)
{
    atomic_fetch_add(&((client *)c->model_data)->wakes, 1);
    return 0;
}

static const sk_conn_ops fake_ops = {.write = fake_write, .pending = fake_pending,
                                     .wake = fake_wake};

typedef struct fixture {
    sk_chat_hub *hub;
    sk_service service;
    client clients[4];
} fixture;

static fixture *setup(const sk_chat_config *cfg)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->hub = sk_chat_hub_new(cfg);
    f->service = sk_service_chat;
    f->service.context = f->hub;
    return f;
}

static client *connect_client(fixture *f, int i)
{
    client *cl = &f->clients[i];
    sk_conn_init(&cl->conn, &fake_ops, cl, &f->service, "test");
    cl->state = calloc(1, f->service.state_size);
    assert_int_equal(f->service.on_open(&cl->conn, cl->state), 0);
    cl->open = true;
    return cl;
}

static void close_client(fixture *f, client *cl)
{
    if (!cl->open)
        return;
    f->service.on_close(&cl->conn, cl->state);
    free(cl->state);
    cl->open = false;
}

static void teardown(fixture *f)
{
    for (int i = 0; i < 4; i++)
        close_client(f, &f->clients[i]);
    sk_chat_hub_free(f->hub);
    free(f);
}

/* Run every woken client's on_wake, as its model would; returns the
 * first error. */
static int deliver(fixture *f)
{
    int rc = 0;
    for (int i = 0; i < 4; i++) {
        client *cl = &f->clients[i];
        if (cl->open && atomic_exchange(&cl->wakes, 0) > 0) {
            int r = f->service.on_wake(&cl->conn, cl->state);
            if (r < 0 && rc == 0)
                rc = r;
        }
    }
    return rc;
}

static int send_text(fixture *f, client *cl, const char *text)
{
    int rc = f->service.on_data(&cl->conn, cl->state, (const uint8_t *)text, strlen(text));
    deliver(f);
    return rc;
}

/* The output so far, forgotten. Time stamps "[HH:MM:SS] " become "[t] ". */
static const char *take(client *cl)
{
    static char text[sizeof cl->out];
    size_t o = 0;
    for (size_t i = 0; i < cl->out_len; i++) {
        if (cl->out[i] == '[' && i + 10 < cl->out_len && cl->out[i + 3] == ':' &&
            cl->out[i + 6] == ':' && cl->out[i + 9] == ']') {
            memcpy(text + o, "[t]", 3);
            o += 3;
            i += 9;
            continue;
        }
        text[o++] = cl->out[i];
    }
    text[o] = '\0';
    cl->out_len = 0;
    return text;
}

static const sk_chat_config open_config = {.rate = 0, .burst = 1, .queue_max = 1 << 20};

static void test_greeting_and_room_lines(void **state)
{
    (void)state;
    fixture *f = setup(&open_config);
    client *a = connect_client(f, 0);
    assert_string_equal(take(a),
                        "* welcome to sk chat, you are guest1 in lobby (/help for commands)\n");
    client *b = connect_client(f, 1);
    deliver(f);
    assert_string_equal(take(a), "[t] * guest2 joined lobby\n");
    assert_string_equal(take(b),
                        "* welcome to sk chat, you are guest2 in lobby (/help for commands)\n");
    assert_int_equal(send_text(f, a, "hello\r\n"), 0);
    assert_string_equal(take(a), "[t] <guest1> hello\n");
    assert_string_equal(take(b), "[t] <guest1> hello\n");
    send_text(f, b, "/me waves\n//slash\n\n");
    assert_string_equal(take(a), "[t] * guest2 waves\n[t] <guest2> /slash\n");
    teardown(f);
}

static void test_nick_join_part_msg(void **state)
{
    (void)state;
    fixture *f = setup(&open_config);
    client *a = connect_client(f, 0), *b = connect_client(f, 1), *c = connect_client(f, 2);
    deliver(f);
    take(a), take(b), take(c);

    send_text(f, a, "/nick Bob\n");
    assert_string_equal(take(b), "[t] * guest1 is now known as Bob\n");
    assert_string_equal(take(a), "[t] * guest1 is now known as Bob\n");
    assert_string_equal(take(c), "[t] * guest1 is now known as Bob\n");
    send_text(f, b, "/NICK bob\n");
    assert_string_equal(take(b), "! nick \"bob\" is taken\n");
    send_text(f, b, "/nick -no\n/nick\n/nick Bob\n");
    assert_string_equal(take(b), "! invalid nick \"-no\": 1-32 letters, digits, _ or -, not "
                                 "starting with -\n! usage: /nick NAME\n! nick \"Bob\" is taken\n");
    send_text(f, a, "/nick Bob\n");
    assert_string_equal(take(a), "! you are already Bob\n");

    send_text(f, c, "/join Side\n");
    assert_string_equal(take(c), "[t] * guest3 left lobby\n[t] * guest3 joined side\n");
    assert_string_equal(take(a), "[t] * guest3 left lobby\n");
    send_text(f, a, "in lobby\n");
    assert_string_equal(take(c), "");
    send_text(f, a, "/msg GUEST3 just you\n");
    assert_string_equal(take(c), "[t] <Bob> (private) just you\n");
    assert_string_equal(take(a), "[t] <Bob> in lobby\n[t] -> guest3: just you\n");
    assert_string_equal(take(b), "[t] * guest3 left lobby\n[t] <Bob> in lobby\n");
    send_text(f, a, "/msg nobody hi\n/msg guest3\n");
    assert_string_equal(take(a), "! no such nick: nobody\n! usage: /msg NICK TEXT\n");

    send_text(f, a, "/who\n/rooms\n");
    assert_string_equal(take(a), "* in lobby: Bob, guest2\n* rooms: lobby (2), side (1)\n");
    send_text(f, c, "/part\n");
    assert_string_equal(take(c), "[t] * guest3 left side\n");
    send_text(f, c, "talking\n/who\n/part\n/me x\n");
    assert_string_equal(take(c), "! you are not in a room (/join ROOM)\n"
                                 "! you are not in a room (/join ROOM)\n"
                                 "! you are not in a room\n"
                                 "! you are not in a room (/join ROOM)\n");
    send_text(f, c, "/join LOBBY\n/join lobby\n");
    assert_string_equal(take(c), "[t] * guest3 joined lobby\n! you are already in lobby\n");
    assert_string_equal(take(a), "[t] * guest3 joined lobby\n");
    teardown(f);
}

static void test_help_unknown_quit(void **state)
{
    (void)state;
    fixture *f = setup(&open_config);
    client *a = connect_client(f, 0), *b = connect_client(f, 1);
    deliver(f);
    take(a), take(b);
    send_text(f, a, "/help\n");
    const char *help = take(a);
    assert_true(strncmp(help, "* ", 2) == 0);
    for (const char *p = help; *p; p = strchr(p, '\n') + 1)
        assert_true(strncmp(p, "* ", 2) == 0);
    assert_non_null(strstr(help, "/msg NICK TEXT"));
    send_text(f, a, "/foo bar\n");
    assert_string_equal(take(a), "! unknown command /foo (try /help)\n");
    assert_int_equal(send_text(f, a, "/quit\nnot said\n"), 0);
    assert_true(a->conn.closing);
    assert_string_equal(take(a), "* bye\n");
    assert_string_equal(take(b), "[t] * guest1 left lobby\n");
    close_client(f, a);
    send_text(f, b, "/who\n");
    assert_string_equal(take(b), "* in lobby: guest2\n"); /* "not said" was not said */
    teardown(f);
}

static void test_long_line_and_utf8(void **state)
{
    (void)state;
    fixture *f = setup(&open_config);
    client *a = connect_client(f, 0);
    take(a);
    char *big = malloc(10 * 1024 + 2);
    memset(big, 'x', 10 * 1024);
    strcpy(big + 10 * 1024, "\n");
    send_text(f, a, big);
    free(big);
    assert_string_equal(take(a), "! line too long (max 4096 bytes); rest discarded\n");
    send_text(f, a, "still here\n");
    assert_string_equal(take(a), "[t] <guest1> still here\n");
    send_text(f, a, "bad \xff\xe0\x80 end\n");
    assert_string_equal(take(a), "[t] <guest1> bad \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end\n");
    teardown(f);
}

static void test_flood_control(void **state)
{
    (void)state;
    sk_chat_config cfg = {.rate = 1, .burst = 3, .queue_max = 1 << 20};
    fixture *f = setup(&cfg);
    client *a = connect_client(f, 0);
    take(a);
    send_text(f, a, "1\n2\n3\n4\n5\n");
    assert_string_equal(take(a), "[t] <guest1> 1\n[t] <guest1> 2\n[t] <guest1> 3\n"
                                 "! slow down: at most 1 lines per second\n");
    send_text(f, a, "/quit\n"); /* never refused */
    assert_string_equal(take(a), "* bye\n");
    teardown(f);
}

static void test_stopped_reader_disconnected(void **state)
{
    (void)state;
    sk_chat_config cfg = {.rate = 0, .burst = 1, .queue_max = 16384};
    fixture *f = setup(&cfg);
    client *a = connect_client(f, 0), *b = connect_client(f, 1);
    deliver(f);
    take(a), take(b);
    b->pending = 300 * 1024; /* above SK_CONN_LOW_WATER: b's queue waits for on_drain */
    char line[1001];
    memset(line, 'm', 999);
    strcpy(line + 999, "\n");
    int i;
    bool told = false;
    for (i = 0; i < 100 && !told; i++) {
        send_text(f, a, line);
        const char *got = take(a);
        assert_true(strncmp(got, "[t] <guest1> mmm", 16) == 0);
        told = strstr(got, "\n[t] * guest2 was disconnected (too slow)\n") != NULL;
        if (!told) /* b's thread looks, and leaves the bytes queued */
            assert_int_equal(f->service.on_wake(&b->conn, b->state), 0);
    }
    assert_true(told);
    /* b was woken by the overflow (send_text ran its on_wake): told once */
    assert_string_equal(take(b), "! disconnected: output queue full (you stopped reading)\n");
    assert_int_equal(f->service.on_wake(&b->conn, b->state), -ENOBUFS);
    assert_string_equal(take(b), "");
    deliver(f);
    assert_string_equal(take(a), ""); /* told once */
    close_client(f, b);
    send_text(f, a, "/who\n");
    assert_string_equal(take(a), "* in lobby: guest1\n");
    teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greeting_and_room_lines),
        cmocka_unit_test(test_nick_join_part_msg),
        cmocka_unit_test(test_help_unknown_quit),
        cmocka_unit_test(test_long_line_and_utf8),
        cmocka_unit_test(test_flood_control),
        cmocka_unit_test(test_stopped_reader_disconnected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
