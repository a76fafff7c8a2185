/* Unit tests for the chat hub shared by every thread: mailboxes (cap,
 * overflow, stall, one wake until the owner looks), rooms and nicks
 * (join/part notices, renames unique regardless of case, private lines,
 * /who and /rooms lists), and fan-out from several threads at once while
 * members move and rename: every member gets every line of a room, each
 * sender's lines in order (run under TSan for the locking); large rooms:
 * no join/leave notices, wakes batched by the ticker. Connections are
 * fakes whose wake only counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat_room.h"
#include "conn.h"

typedef struct fake_conn {
    sk_conn conn;
    atomic_int wakes;
} fake_conn;

static int fake_write(sk_conn *c, const void *data, size_t len)
{
    (void)c, (void)data, (void)len;
    return 0;
}

static int fake_wake(sk_conn *c)
{
    fake_conn *f = c->model_data;
    atomic_fetch_add(&f->wakes, 1);
    return 0;
}

static int no_wake(sk_conn *c, void *state)
{
    (void)c, (void)state;
    return 0;
}

static const sk_conn_ops fake_ops = {.write = fake_write, .wake = fake_wake};
static const sk_service fake_service = {.name = "fake", .on_wake = no_wake};

typedef struct member {
    fake_conn fc;
    sk_chat_member m;
    char got[8192]; /* what its mailbox gave, for the single-thread tests */
    size_t got_len;
} member;

static const sk_chat_config config = {.rate = 0, .burst = 1, .queue_max = 1 << 20};

static void member_open(member *p, sk_chat_hub *hub)
{
    memset(p, 0, sizeof *p);
    sk_conn_init(&p->fc.conn, &fake_ops, &p->fc, &fake_service, "test");
    atomic_init(&p->fc.wakes, 0);
    assert_int_equal(sk_chat_member_init(&p->m, hub, &p->fc.conn), 0);
    assert_int_equal(sk_chat_hub_enter(hub, &p->m), 0);
}

static void member_close(member *p, sk_chat_hub *hub)
{
    sk_chat_hub_exit(hub, &p->m, "bye\n", 4);
    sk_chat_member_destroy(&p->m);
}

/* What p's owner would write now (appended to p->got, NUL-terminated). */
static const char *drain(member *p)
{
    char *data;
    size_t len;
    p->got_len = 0;
    if (sk_chat_mailbox_take(&p->m.mailbox, 0, SK_CONN_LOW_WATER, &data, &len) ==
        SK_CHAT_TAKE_DATA) {
        assert_true(len < sizeof p->got);
        memcpy(p->got, data, len);
        p->got_len = len;
        sk_chat_mailbox_written(&p->m.mailbox, data, 0);
    }
    p->got[p->got_len] = '\0';
    return p->got;
}

static void test_mailbox_wakes_once_until_taken(void **state)
{
    (void)state;
    sk_chat_mailbox mb;
    assert_int_equal(sk_chat_mailbox_init(&mb, 1000), 0);
    assert_int_equal(sk_chat_mailbox_post(&mb, "a\n", 2), SK_CHAT_POST_WAKE);
    assert_int_equal(sk_chat_mailbox_post(&mb, "b\n", 2), SK_CHAT_POST_QUEUED);
    char *data;
    size_t len;
    assert_int_equal(sk_chat_mailbox_take(&mb, 0, 100, &data, &len), SK_CHAT_TAKE_DATA);
    assert_int_equal(len, 4);
    assert_memory_equal(data, "a\nb\n", 4);
    /* the owner looked: wake again */
    assert_int_equal(sk_chat_mailbox_post(&mb, "c\n", 2), SK_CHAT_POST_WAKE);
    sk_chat_mailbox_written(&mb, data, 0);
    assert_int_equal(sk_chat_mailbox_take(&mb, 0, 100, &data, &len), SK_CHAT_TAKE_DATA);
    assert_memory_equal(data, "c\n", 2);
    sk_chat_mailbox_written(&mb, data, 0);
    assert_int_equal(sk_chat_mailbox_take(&mb, 0, 100, &data, &len), SK_CHAT_TAKE_NONE);
    sk_chat_mailbox_destroy(&mb);
}

static void test_mailbox_stall_and_overflow(void **state)
{
    (void)state;
    sk_chat_mailbox mb;
    char line[100];
    memset(line, 'x', sizeof line);
    assert_int_equal(sk_chat_mailbox_init(&mb, 1000), 0);
    assert_int_equal(sk_chat_mailbox_post(&mb, line, 100), SK_CHAT_POST_WAKE);
    char *data;
    size_t len;
    /* the connection's own queue is long: the bytes stay, no more wakes */
    assert_int_equal(sk_chat_mailbox_take(&mb, 600, 500, &data, &len), SK_CHAT_TAKE_STALLED);
    assert_int_equal(sk_chat_mailbox_post(&mb, line, 100), SK_CHAT_POST_QUEUED);
    assert_int_equal(sk_chat_mailbox_post(&mb, line, 100), SK_CHAT_POST_QUEUED); /* 300 + 600 */
    /* passing the cap (mailbox + pending): overflow once, then all dropped */
    assert_int_equal(sk_chat_mailbox_post(&mb, line, 100 + 1), SK_CHAT_POST_OVERFLOW);
    assert_int_equal(sk_chat_mailbox_post(&mb, line, 1), SK_CHAT_POST_DROPPED);
    assert_int_equal(sk_chat_mailbox_take(&mb, 0, 500, &data, &len), SK_CHAT_TAKE_OVERFLOW);
    sk_chat_mailbox_destroy(&mb);
}

static void test_mailbox_counts_bytes_being_written(void **state)
{
    (void)state;
    sk_chat_mailbox mb;
    char line[400];
    memset(line, 'y', sizeof line);
    assert_int_equal(sk_chat_mailbox_init(&mb, 1000), 0);
    sk_chat_mailbox_post(&mb, line, 400);
    sk_chat_mailbox_post(&mb, line, 400);
    char *data;
    size_t len;
    assert_int_equal(sk_chat_mailbox_take(&mb, 0, 500, &data, &len), SK_CHAT_TAKE_DATA);
    assert_int_equal(sk_chat_mailbox_post(&mb, line, 100), SK_CHAT_POST_WAKE); /* 800 + 100 */
    sk_chat_mailbox_post(&mb, line, 200);               /* passes 1000 */
    sk_chat_mailbox_written(&mb, data, 0);
    assert_int_equal(sk_chat_mailbox_take(&mb, 0, 500, &data, &len), SK_CHAT_TAKE_OVERFLOW);
    sk_chat_mailbox_destroy(&mb);
}

static void test_enter_guest_nicks(void **state)
{
    (void)state;
    sk_chat_hub *hub = sk_chat_hub_new(&config);
    member *a = malloc(sizeof *a), *b = malloc(sizeof *b), *c = malloc(sizeof *c);
    member_open(a, hub);
    assert_string_equal(a->m.nick.name, "guest1");
    assert_int_equal(sk_chat_hub_rename(hub, &a->m, "Guest2", "n\n", 2), 0);
    member_open(b, hub); /* guest2 is taken (regardless of case): guest3 */
    assert_string_equal(b->m.nick.name, "guest3");
    assert_int_equal(sk_chat_hub_rename(hub, &b->m, "guest2", "n\n", 2), -EEXIST);
    assert_int_equal(sk_chat_hub_rename(hub, &a->m, "guest2", "n\n", 2), 0); /* own case */
    assert_string_equal(a->m.nick.name, "guest2");
    member_close(a, hub);
    member_open(c, hub);
    assert_string_equal(c->m.nick.name, "guest4");
    assert_int_equal(sk_chat_hub_rename(hub, &b->m, "GUEST2", "n\n", 2), 0); /* freed */
    member_close(b, hub);
    member_close(c, hub);
    sk_chat_hub_free(hub);
    free(a), free(b), free(c);
}

static void test_rooms_and_notices(void **state)
{
    (void)state;
    sk_chat_hub *hub = sk_chat_hub_new(&config);
    member *a = malloc(sizeof *a), *b = malloc(sizeof *b), *c = malloc(sizeof *c);
    member_open(a, hub);
    member_open(b, hub);
    member_open(c, hub);
    assert_int_equal(sk_chat_hub_join(hub, &a->m, "lobby", "a joined\n", 9, false), 0);
    assert_string_equal(drain(a), "");
    assert_int_equal(sk_chat_hub_join(hub, &b->m, "lobby", "b joined\n", 9, true), 0);
    assert_string_equal(drain(a), "b joined\n");
    assert_string_equal(drain(b), "b joined\n");
    assert_int_equal(atomic_load(&a->fc.wakes), 1); /* b posting to itself wakes nobody */
    assert_int_equal(atomic_load(&b->fc.wakes), 0);
    assert_int_equal(sk_chat_hub_join(hub, &c->m, "other", "c joined\n", 9, true), 0);
    assert_string_equal(sk_chat_member_room(&c->m), "other");

    assert_int_equal(sk_chat_hub_say(&a->m, "hi\n", 3), 0);
    assert_string_equal(drain(a), "hi\n");
    assert_string_equal(drain(b), "hi\n");
    assert_string_equal(drain(c), "c joined\n"); /* another room: not "hi" */

    char list[SK_CHAT_NAME_MAX * 8];
    sk_chat_hub_who(&a->m, list, sizeof list);
    assert_string_equal(list, "* in lobby: guest1, guest2\n");
    sk_chat_hub_rooms(hub, list, sizeof list);
    assert_string_equal(list, "* rooms: lobby (2), other (1)\n");

    char canon[SK_CHAT_NAME_MAX + 1];
    assert_int_equal(sk_chat_hub_tell(hub, &a->m, "GUEST3", "psst\n", 5, canon), 0);
    assert_string_equal(canon, "guest3");
    assert_string_equal(drain(c), "psst\n");
    assert_string_equal(drain(b), "");
    assert_int_equal(sk_chat_hub_tell(hub, &a->m, "nobody", "x\n", 2, canon), -ENOENT);

    assert_int_equal(sk_chat_hub_rename(hub, &b->m, "Bob", "b is Bob\n", 9), 0);
    assert_string_equal(drain(a), "b is Bob\n");
    assert_string_equal(drain(b), "b is Bob\n");
    assert_string_equal(drain(c), "");

    assert_int_equal(sk_chat_hub_part(hub, &c->m, "c left\n", 7, true), 0);
    assert_string_equal(drain(c), "c left\n");
    assert_int_equal(sk_chat_hub_part(hub, &c->m, "c left\n", 7, true), -ENOENT);
    assert_int_equal(sk_chat_hub_say(&c->m, "x\n", 2), -ENOENT);
    assert_int_equal(sk_chat_hub_who(&c->m, list, sizeof list), 0);
    sk_chat_hub_rooms(hub, list, sizeof list);
    assert_string_equal(list, "* rooms: lobby (2)\n"); /* the empty room is gone */

    member_close(a, hub); /* b sees a leave; a is out of the nick set */
    assert_string_equal(drain(b), "bye\n");
    assert_int_equal(sk_chat_hub_tell(hub, &b->m, "guest1", "x\n", 2, canon), -ENOENT);
    member_close(b, hub);
    member_close(c, hub);
    sk_chat_hub_rooms(hub, list, sizeof list);
    assert_string_equal(list, "* rooms: none\n");
    sk_chat_hub_free(hub);
    free(a), free(b), free(c);
}

/* Rooms of more than announce_max members do not hear joins and leaves
 * (the member itself does); rooms of more than batch_min members are
 * woken by the ticker, once per batch window, not by each line. */
static void test_large_rooms_quiet_and_batched(void **state)
{
    (void)state;
    enum { N = 5 };
    sk_chat_config cfg = config;
    cfg.announce_max = 3;
    cfg.batch_min = 3;
    cfg.batch_ms = 20;
    sk_chat_hub *hub = sk_chat_hub_new(&cfg);
    member *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = malloc(sizeof *p[i]);
        member_open(p[i], hub);
        assert_int_equal(sk_chat_hub_join(hub, &p[i]->m, "lobby", "joined\n", 7, true), 0);
    }
    assert_string_equal(drain(p[0]), "joined\njoined\njoined\n"); /* up to 3 members */
    assert_string_equal(drain(p[1]), "joined\njoined\n");
    assert_string_equal(drain(p[2]), "joined\n");
    assert_string_equal(drain(p[3]), "joined\n");                 /* its own */
    assert_string_equal(drain(p[4]), "joined\n");
    for (int i = 0; i < N; i++)
        atomic_store(&p[i]->fc.wakes, 0);

    assert_int_equal(sk_chat_hub_say(&p[0]->m, "a\n", 2), 0);
    assert_int_equal(sk_chat_hub_say(&p[0]->m, "b\n", 2), 0);
    /* the ticker wakes every member (the sender too, which has flushed
     * its own already), within a bounded time: once, or twice when its
     * first run came between the two lines */
    for (int i = 0, tries = 0; i < N && tries < 500; tries++) {
        if (atomic_load(&p[i]->fc.wakes) > 0) {
            i++;
            continue;
        }
        struct timespec ms = {0, 10 * 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    for (int i = 0; i < N; i++) {
        assert_in_range(atomic_load(&p[i]->fc.wakes), 1, 2);
        assert_string_equal(drain(p[i]), "a\nb\n");
    }

    sk_chat_hub_part(hub, &p[N - 1]->m, "left\n", 5, true); /* 5 members: quiet */
    assert_string_equal(drain(p[N - 1]), "left\n");
    assert_string_equal(drain(p[0]), "");
    member_close(p[N - 1], hub);
    member_close(p[N - 2], hub);                           /* 4 members: quiet */
    assert_string_equal(drain(p[0]), "");
    member_close(p[N - 3], hub);                           /* 3: heard */
    assert_string_equal(drain(p[0]), "bye\n");
    for (int i = 0; i < N - 3; i++)
        member_close(p[i], hub);
    sk_chat_hub_free(hub);
    for (int i = 0; i < N; i++)
        free(p[i]);
}

static void test_long_lists_are_cut(void **state)
{
    (void)state;
    enum { N = 300 };
    sk_chat_hub *hub = sk_chat_hub_new(&config);
    member *ms = calloc(N, sizeof *ms);
    for (int i = 0; i < N; i++) {
        member_open(&ms[i], hub);
        char room[16];
        snprintf(room, sizeof room, "room%d", i);
        assert_int_equal(sk_chat_hub_join(hub, &ms[i].m, i % 2 ? "lobby" : room, "j\n", 2, false),
                         0);
    }
    char list[1024];
    size_t n = sk_chat_hub_who(&ms[1].m, list, sizeof list);
    assert_true(n < sizeof list);
    assert_non_null(strstr(list, " more\n"));
    n = sk_chat_hub_rooms(hub, list, sizeof list);
    assert_true(n < sizeof list);
    assert_true(strncmp(list, "* rooms: room0 (1), lobby (150), room2 (1)", 42) == 0);
    assert_non_null(strstr(list, " more\n"));
    for (int i = 0; i < N; i++)
        member_close(&ms[i], hub);
    sk_chat_hub_free(hub);
    free(ms);
}

/* Fan-out from several threads: each thread owns some members, says
 * numbered lines through them, drains their mailboxes and checks order;
 * one member per thread keeps leaving, renaming and coming back. */
enum { THREADS = 4, PER_THREAD = 6, LINES = 300 };

typedef struct worker {
    sk_chat_hub *hub;
    member *members;        /* PER_THREAD of them; the last one wanders */
    int id;
    pthread_barrier_t *start;
    /* next[member][sender]: the number expected next from that sender */
    int next[PER_THREAD][THREADS * PER_THREAD];
    int received[PER_THREAD];
} worker;

static void check_lines(worker *w, int k, const char *data, size_t len)
{
    const char *end = data + len;
    while (data < end) {
        const char *nl = memchr(data, '\n', (size_t)(end - data));
        assert_non_null(nl);
        int sender, seq;
        if (sscanf(data, "S%d %d", &sender, &seq) == 2) {
            assert_true(sender >= 0 && sender < THREADS * PER_THREAD);
            /* steady members (not the wanderer) must see every line in order */
            if (k != PER_THREAD - 1 && sender % PER_THREAD != PER_THREAD - 1)
                assert_int_equal(seq, w->next[k][sender]);
            assert_true(seq >= w->next[k][sender]);
            w->next[k][sender] = seq + 1;
            w->received[k]++;
        }
        data = nl + 1;
    }
}

static void drain_all(worker *w)
{
    for (int k = 0; k < PER_THREAD; k++) {
        char *data;
        size_t len;
        sk_chat_mailbox *mb = &w->members[k].m.mailbox;
        if (sk_chat_mailbox_take(mb, 0, SK_CONN_LOW_WATER, &data, &len) == SK_CHAT_TAKE_DATA) {
            check_lines(w, k, data, len);
            sk_chat_mailbox_written(mb, data, 0);
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    member *wanderer = &w->members[PER_THREAD - 1];
    pthread_barrier_wait(w->start);
    for (int seq = 0; seq < LINES; seq++) {
        for (int k = 0; k < PER_THREAD; k++) {
            char line[64];
            int n = snprintf(line, sizeof line, "S%d %d\n", w->id * PER_THREAD + k, seq);
            if (w->members[k].m.room)
                sk_chat_hub_say(&w->members[k].m, line, (size_t)n);
        }
        if (seq % 10 == 5) {
            char nick[SK_CHAT_NAME_MAX + 1];
            snprintf(nick, sizeof nick, "w%d-%d", w->id, seq);
            sk_chat_hub_part(w->hub, &wanderer->m, "left\n", 5, false);
            sk_chat_hub_rename(w->hub, &wanderer->m, nick, "renamed\n", 8);
            sk_chat_hub_join(w->hub, &wanderer->m, seq % 20 == 5 ? "side" : "lobby", "joined\n",
                             7, false);
            char list[4096];
            sk_chat_hub_who(&w->members[0].m, list, sizeof list);
            sk_chat_hub_rooms(w->hub, list, sizeof list);
        }
        drain_all(w);
    }
    return NULL;
}

static void test_fan_out_from_threads(void **state)
{
    (void)state;
    sk_chat_hub *hub = sk_chat_hub_new(&config);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    worker *ws = calloc(THREADS, sizeof *ws);
    member *all = calloc(THREADS * PER_THREAD, sizeof *all);
    assert_non_null(ws);
    assert_non_null(all);
    for (int t = 0; t < THREADS; t++) {
        ws[t] = (worker){.hub = hub, .members = all + t * PER_THREAD, .id = t, .start = &start};
        for (int k = 0; k < PER_THREAD; k++) {
            member_open(&ws[t].members[k], hub);
            sk_chat_hub_join(hub, &ws[t].members[k].m, "lobby", "joined\n", 7, false);
        }
    }
    pthread_t tids[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&tids[t], NULL, worker_main, &ws[t]), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(tids[t], NULL);
    int steady_senders = THREADS * (PER_THREAD - 1);
    for (int t = 0; t < THREADS; t++) {
        drain_all(&ws[t]);
        for (int k = 0; k < PER_THREAD - 1; k++) {
            for (int s = 0; s < THREADS * PER_THREAD; s++)
                if (s % PER_THREAD != PER_THREAD - 1)
                    assert_int_equal(ws[t].next[k][s], LINES);
            assert_true(ws[t].received[k] >= steady_senders * LINES);
        }
        /* a steady member was woken at most once per line it received */
        assert_true(atomic_load(&ws[t].members[0].fc.wakes) <= ws[t].received[0]);
    }
    for (int i = 0; i < THREADS * PER_THREAD; i++)
        member_close(&all[i], hub);
    char list[64];
    sk_chat_hub_rooms(hub, list, sizeof list);
    assert_string_equal(list, "* rooms: none\n");
    pthread_barrier_destroy(&start);
    sk_chat_hub_free(hub);
    free(ws);
    free(all);
}

/* A member whose owner never drains overflows alone: the others keep
 * getting every line. */
static void test_slow_member_overflows_alone(void **state)
{
    (void)state;
    sk_chat_config small = {.rate = 0, .burst = 1, .queue_max = 4096};
    sk_chat_hub *hub = sk_chat_hub_new(&small);
    member *fast = malloc(sizeof *fast), *slow = malloc(sizeof *slow);
    member_open(fast, hub);
    member_open(slow, hub);
    sk_chat_hub_join(hub, &fast->m, "lobby", "", 0, false);
    sk_chat_hub_join(hub, &slow->m, "lobby", "", 0, false);
    char line[101];
    memset(line, 'z', 100);
    line[100] = '\n';
    int told = 0;
    for (int i = 0; i < 100; i++) {
        sk_chat_hub_say(&fast->m, line, sizeof line);
        const char *got = drain(fast); /* its line, and once the news about slow */
        assert_memory_equal(got, line, sizeof line);
        if (strlen(got) > sizeof line) {
            assert_non_null(strstr(got, "] * guest2 was disconnected (too slow)\n"));
            told++;
        }
    }
    assert_int_equal(told, 1);
    int wakes = atomic_load(&slow->fc.wakes);
    assert_int_equal(wakes, 2); /* the first line, then the overflow */
    char list[256];
    sk_chat_hub_who(&fast->m, list, sizeof list);
    assert_string_equal(list, "* in lobby: guest1\n");
    sk_chat_hub_rooms(hub, list, sizeof list);
    assert_string_equal(list, "* rooms: lobby (1)\n");
    sk_chat_hub_exit(hub, &slow->m, "slow left\n", 10); /* its thread, later */
    assert_string_equal(drain(fast), ""); /* already told */
    char *data;
    size_t len;
    assert_int_equal(sk_chat_mailbox_take(&slow->m.mailbox, 0, SK_CONN_LOW_WATER, &data, &len),
                     SK_CHAT_TAKE_OVERFLOW);
    member_close(fast, hub);
    member_close(slow, hub);
    sk_chat_hub_free(hub);
    free(fast), free(slow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mailbox_wakes_once_until_taken),
        cmocka_unit_test(test_mailbox_stall_and_overflow),
        cmocka_unit_test(test_mailbox_counts_bytes_being_written),
        cmocka_unit_test(test_enter_guest_nicks),
        cmocka_unit_test(test_rooms_and_notices),
        cmocka_unit_test(test_large_rooms_quiet_and_batched),
        cmocka_unit_test(test_long_lists_are_cut),
        cmocka_unit_test(test_fan_out_from_threads),
        cmocka_unit_test(test_slow_member_overflows_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
