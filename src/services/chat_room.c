/* Rooms and their members, shared by every thread that serves chat (see
 * chat_room.h for the locking rules). A line for a room is formatted once
 * by its sender and appended to each member's mailbox under the room's
 * lock, with one wake for a member that was not already woken, so every
 * member sees a room's lines in the same order. In a room of more than
 * batch_min members the wakes wait for the hub's ticker, which wakes every
 * member at most once per batch_ms, and each writes what came meanwhile in
 * one go (a member's own lines are written at once by its own thread). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat_format.h"
#include "chat_room.h"

struct sk_chat_room {
    pthread_mutex_t lock;
    char name[SK_CHAT_NAME_MAX + 1];
    sk_chat_member *first, *last;
    size_t count;                    /* changed under the hub's lock too */
    size_t muted;                    /* members that are slow: not counted */
    bool batched;                    /* lines wait for the ticker's wakes */
    sk_chat_hub *hub;
    sk_chat_room *prev, *next;       /* in the hub */
};

/* The ticker's run: wake every member of the rooms with batched lines. */
static void wake_batched(void *arg)
{
    sk_chat_hub *hub = arg;
    pthread_mutex_lock(&hub->lock);
    for (sk_chat_room *r = hub->rooms; r; r = r->next) {
        pthread_mutex_lock(&r->lock);
        if (r->batched) {
            r->batched = false;
            for (sk_chat_member *m = r->first; m; m = m->next)
                if (!m->slow)
                    sk_conn_wake(m->conn);
        }
        pthread_mutex_unlock(&r->lock);
    }
    pthread_mutex_unlock(&hub->lock);
}

sk_chat_hub *sk_chat_hub_new(const sk_chat_config *cfg)
{
    sk_chat_hub *hub = calloc(1, sizeof *hub);
    if (!hub)
        return NULL;
    if (pthread_mutex_init(&hub->lock, NULL) != 0) {
        free(hub);
        return NULL;
    }
    hub->cfg = *cfg;
    if (hub->cfg.announce_max == 0)
        hub->cfg.announce_max = SK_CHAT_ANNOUNCE_MAX;
    if (hub->cfg.batch_min == 0)
        hub->cfg.batch_min = SK_CHAT_BATCH_MIN;
    if (hub->cfg.batch_ms == 0)
        hub->cfg.batch_ms = SK_CHAT_BATCH_MS;
    hub->next_guest = 1;
    hub->pid = getpid();
    if (sk_chat_ticker_init(&hub->ticker, hub->cfg.batch_ms, wake_batched, hub) < 0) {
        pthread_mutex_destroy(&hub->lock);
        free(hub);
        return NULL;
    }
    return hub;
}

static void room_free(sk_chat_room *r)
{
    pthread_mutex_destroy(&r->lock);
    free(r);
}

void sk_chat_hub_free(sk_chat_hub *hub)
{
    if (!hub)
        return;
    sk_chat_ticker_destroy(&hub->ticker);
    while (hub->rooms) {
        sk_chat_room *r = hub->rooms;
        hub->rooms = r->next;
        room_free(r);
    }
    sk_chat_nicks_free(&hub->nicks);
    pthread_mutex_destroy(&hub->lock);
    free(hub);
}

int sk_chat_member_init(sk_chat_member *m, const sk_chat_hub *hub, sk_conn *c)
{
    memset(m, 0, sizeof *m);
    m->conn = c;
    return sk_chat_mailbox_init(&m->mailbox, hub->cfg.queue_max);
}

void sk_chat_member_destroy(sk_chat_member *m)
{
    sk_chat_mailbox_destroy(&m->mailbox);
}

const char *sk_chat_member_room(const sk_chat_member *m)
{
    return m->room ? m->room->name : NULL;
}

/* Queue line for to; wake it unless it is the sender (whose own thread
 * runs now and flushes its mailbox before returning to the model), or the
 * ticker will (batched; an overflow wakes it at once all the same).
 * Returns whether to's mailbox overflowed with this line. */
static bool post_to(sk_chat_member *to, const sk_chat_member *from, const char *line,
                    size_t len, bool batched)
{
    sk_chat_post post = sk_chat_mailbox_post(&to->mailbox, line, len);
    if (((post == SK_CHAT_POST_WAKE && !batched) || post == SK_CHAT_POST_OVERFLOW) && to != from)
        sk_conn_wake(to->conn);
    return post == SK_CHAT_POST_OVERFLOW;
}

/* Queue line for to, woken at once if need be. */
static bool deliver(sk_chat_member *to, const sk_chat_member *from, const char *line,
                    size_t len)
{
    return post_to(to, from, line, len, false);
}

/* Every member of r (its lock held) but skip gets line; those whose
 * mailbox overflows are muted. Returns how many overflowed. */
static size_t post_once(sk_chat_room *r, const sk_chat_member *from, const sk_chat_member *skip,
                        const char *line, size_t len, bool batched)
{
    size_t overflowed = 0;
    for (sk_chat_member *m = r->first; m; m = m->next) {
        if (m != skip && !m->slow && post_to(m, from, line, len, batched)) {
            m->slow = true;
            r->muted++;
            overflowed++;
        }
    }
    return overflowed;
}

/* Whether a line for r (locked) waits for the ticker's wakes: r is large
 * and the ticker runs. */
static bool batching(sk_chat_hub *hub, sk_chat_room *r)
{
    if (r->count - r->muted <= hub->cfg.batch_min)
        return false;
    if (!r->batched && !sk_chat_ticker_request(&hub->ticker))
        return false;
    r->batched = true;
    return true;
}

/* Post line to r (locked), then tell it about each member that the posts
 * disconnected (which may disconnect more: each pass tells of one). */
static void room_post(sk_chat_room *r, const sk_chat_member *from, const sk_chat_member *skip,
                      const char *line, size_t len)
{
    bool batched = batching(r->hub, r);
    size_t untold = post_once(r, from, skip, line, len, batched);
    while (untold > 0) {
        sk_chat_member *m = r->first;
        while (m && !(m->slow && !m->slow_told))
            m = m->next;
        if (!m)
            break;
        m->slow_told = true;
        char notice[SK_CHAT_NAME_MAX + 64];
        size_t n = sk_chat_stamped(notice, sizeof notice, "* %s was disconnected (too slow)\n",
                                   m->nick.name);
        untold = untold - 1 + post_once(r, from, NULL, notice, n, batched);
    }
}

int sk_chat_hub_enter(sk_chat_hub *hub, sk_chat_member *m)
{
    int rc;
    pthread_mutex_lock(&hub->lock);
    do {
        snprintf(m->nick.name, sizeof m->nick.name, "guest%llu", hub->next_guest++);
        rc = sk_chat_nicks_add(&hub->nicks, &m->nick);
    } while (rc == -EEXIST);
    m->entered = rc == 0;
    pthread_mutex_unlock(&hub->lock);
    return rc;
}

/* The room called name (hub locked), or NULL. */
static sk_chat_room *room_find(const sk_chat_hub *hub, const char *name)
{
    for (sk_chat_room *r = hub->rooms; r; r = r->next)
        if (!strcmp(r->name, name))
            return r;
    return NULL;
}

/* A new empty room (hub locked), or NULL. */
static sk_chat_room *room_create(sk_chat_hub *hub, const char *name)
{
    sk_chat_room *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        return NULL;
    }
    snprintf(r->name, sizeof r->name, "%s", name);
    r->hub = hub;
    r->prev = hub->rooms_last;
    if (hub->rooms_last)
        hub->rooms_last->next = r;
    else
        hub->rooms = r;
    hub->rooms_last = r;
    return r;
}

/* Unlink an empty room from the hub (hub locked) and free it. */
static void room_delete(sk_chat_hub *hub, sk_chat_room *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        hub->rooms = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        hub->rooms_last = r->prev;
    room_free(r);
}

int sk_chat_hub_join(sk_chat_hub *hub, sk_chat_member *m, const char *room, const char *notice,
                     size_t len, bool to_self)
{
    pthread_mutex_lock(&hub->lock);
    sk_chat_room *r = room_find(hub, room);
    if (!r)
        r = room_create(hub, room);
    if (!r) {
        pthread_mutex_unlock(&hub->lock);
        return -ENOMEM;
    }
    pthread_mutex_lock(&r->lock);
    m->prev = r->last;
    m->next = NULL;
    if (r->last)
        r->last->next = m;
    else
        r->first = m;
    r->last = m;
    r->count++;
    m->room = r;
    if (r->count - r->muted <= hub->cfg.announce_max)
        room_post(r, m, to_self ? NULL : m, notice, len);
    else if (to_self)
        deliver(m, m, notice, len);
    pthread_mutex_unlock(&r->lock);
    pthread_mutex_unlock(&hub->lock);
    return 0;
}

/* The part of sk_chat_hub_part under the hub's lock; no notice for a
 * member the room was already told about. */
static int part_locked(sk_chat_hub *hub, sk_chat_member *m, const char *notice, size_t len,
                       bool to_self)
{
    sk_chat_room *r = m->room;
    if (!r)
        return -ENOENT;
    pthread_mutex_lock(&r->lock);
    if (m->prev)
        m->prev->next = m->next;
    else
        r->first = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        r->last = m->prev;
    m->prev = m->next = NULL;
    m->room = NULL;
    bool large = r->count - r->muted > hub->cfg.announce_max;
    r->count--;
    if (m->slow)
        r->muted--;
    bool told = m->slow_told || large;
    m->slow = m->slow_told = false;
    if (!told)
        room_post(r, m, NULL, notice, len);
    bool empty = r->count == 0;
    pthread_mutex_unlock(&r->lock);
    if (empty)
        room_delete(hub, r);
    if (to_self)
        deliver(m, m, notice, len);
    return 0;
}

int sk_chat_hub_part(sk_chat_hub *hub, sk_chat_member *m, const char *notice, size_t len,
                     bool to_self)
{
    pthread_mutex_lock(&hub->lock);
    int rc = part_locked(hub, m, notice, len, to_self);
    pthread_mutex_unlock(&hub->lock);
    return rc;
}

void sk_chat_hub_exit(sk_chat_hub *hub, sk_chat_member *m, const char *notice, size_t len)
{
    pthread_mutex_lock(&hub->lock);
    if (m->entered) {
        part_locked(hub, m, notice, len, false);
        sk_chat_nicks_remove(&hub->nicks, &m->nick);
        m->entered = false;
    }
    pthread_mutex_unlock(&hub->lock);
}

int sk_chat_hub_rename(sk_chat_hub *hub, sk_chat_member *m, const char *nick,
                       const char *notice, size_t len)
{
    pthread_mutex_lock(&hub->lock);
    sk_chat_nick *taken = sk_chat_nicks_find(&hub->nicks, nick);
    if (taken && taken != &m->nick) {
        pthread_mutex_unlock(&hub->lock);
        return -EEXIST;
    }
    sk_chat_room *r = m->room;
    if (r)
        pthread_mutex_lock(&r->lock);
    sk_chat_nicks_remove(&hub->nicks, &m->nick);
    snprintf(m->nick.name, sizeof m->nick.name, "%s", nick);
    sk_chat_nicks_add(&hub->nicks, &m->nick); /* cannot fail: its slot was just freed */
    if (r) {
        room_post(r, m, NULL, notice, len);
        pthread_mutex_unlock(&r->lock);
    } else {
        deliver(m, m, notice, len);
    }
    pthread_mutex_unlock(&hub->lock);
    return 0;
}

int sk_chat_hub_say(sk_chat_member *m, const char *line, size_t len)
{
    sk_chat_room *r = m->room; /* changes only on this thread */
    if (!r)
        return -ENOENT;
    pthread_mutex_lock(&r->lock);
    room_post(r, m, NULL, line, len);
    pthread_mutex_unlock(&r->lock);
    return 0;
}

int sk_chat_hub_tell(sk_chat_hub *hub, const sk_chat_member *from, const char *target,
                     const char *line, size_t len, char canon[SK_CHAT_NAME_MAX + 1])
{
    pthread_mutex_lock(&hub->lock);
    sk_chat_nick *n = sk_chat_nicks_find(&hub->nicks, target);
    if (n) {
        sk_chat_member *to = (sk_chat_member *)((char *)n - offsetof(sk_chat_member, nick));
        memcpy(canon, n->name, sizeof n->name);
        deliver(to, from, line, len);
    }
    pthread_mutex_unlock(&hub->lock);
    return n ? 0 : -ENOENT;
}

/* Appends to a bounded line: items until the room runs out, then a count
 * of the rest. */
typedef struct list_text {
    char *out;
    size_t size, len;
    size_t items, dropped;
} list_text;

enum { LIST_TAIL = 40 }; /* room kept for ", ... and N more\n" */

/* Add item (n bytes, without its ", " separator). */
static void list_add(list_text *t, const char *item, size_t n)
{
    size_t sep = t->items ? 2 : 0;
    if (t->dropped || t->len + sep + n + LIST_TAIL > t->size) {
        t->dropped++;
        return;
    }
    memcpy(t->out + t->len, ", ", sep);
    memcpy(t->out + t->len + sep, item, n);
    t->len += sep + n;
    t->items++;
}

static size_t list_end(list_text *t)
{
    int n = t->dropped ? snprintf(t->out + t->len, t->size - t->len, ", ... and %zu more\n",
                                  t->dropped)
                       : snprintf(t->out + t->len, t->size - t->len, "\n");
    return t->len + (size_t)n;
}

size_t sk_chat_hub_who(const sk_chat_member *m, char *out, size_t size)
{
    sk_chat_room *r = m->room;
    if (!r)
        return 0;
    list_text t = {.out = out, .size = size};
    pthread_mutex_lock(&r->lock);
    t.len = (size_t)snprintf(out, size, "* in %s: ", r->name);
    for (const sk_chat_member *p = r->first; p; p = p->next)
        if (!p->slow)
            list_add(&t, p->nick.name, strlen(p->nick.name));
    pthread_mutex_unlock(&r->lock);
    return list_end(&t);
}

size_t sk_chat_hub_rooms(sk_chat_hub *hub, char *out, size_t size)
{
    list_text t = {.out = out, .size = size};
    t.len = (size_t)snprintf(out, size, "* rooms: ");
    pthread_mutex_lock(&hub->lock);
    for (sk_chat_room *r = hub->rooms; r; r = r->next) {
        char item[SK_CHAT_NAME_MAX + 32];
        pthread_mutex_lock(&r->lock);
        int n = snprintf(item, sizeof item, "%s (%zu)", r->name, r->count - r->muted);
        pthread_mutex_unlock(&r->lock);
        list_add(&t, item, (size_t)n);
    }
    pthread_mutex_unlock(&hub->lock);
    if (t.items == 0 && t.dropped == 0)
        return (size_t)snprintf(out, size, "* rooms: none\n");
    return list_end(&t);
}
