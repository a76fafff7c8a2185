/* The chat hub: what all chat connections share, whatever thread serves
 * them -- configuration, the nicks in use, the rooms and their members.
 *
 * Locks, always taken in this order: the hub's (room registry, the nick
 * set, which room each member is in), a room's (its member list and their
 * nicks), a member's mailbox; the ticker's (chat_ticker.h) after any. A member's nick and room change only on its
 * own thread with the hub's lock and its room's lock held, so its own
 * thread reads them without a lock. Other threads reach a member only
 * under the hub's or its room's lock, and only post to its mailbox and
 * wake it; sk_chat_hub_exit takes it out of both before its connection
 * closes, so no wake comes after on_close.
 *
 * A member whose mailbox overflows during a room post is muted at once
 * (its mailbox drops everything) and the room is told it was disconnected
 * by the thread that posted; its own thread then exits it (a blocking
 * model's thread may be stuck writing to it until the client reads or the
 * connection times out, but nobody else waits for it). */
#ifndef SK_CHAT_ROOM_H
#define SK_CHAT_ROOM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "chat_mailbox.h"
#include "chat_nick.h"
#include "chat_ticker.h"
#include "sockkit/service.h"

#define SK_CHAT_DEFAULT_RATE 20               /* lines per second per client */
#define SK_CHAT_DEFAULT_BURST 40              /* lines at once after a pause */
#define SK_CHAT_DEFAULT_QUEUE (1024 * 1024)   /* output bytes queued per client */
#define SK_CHAT_LOBBY "lobby"
/* In a room of more members than this, joins and leaves are not announced
 * to the room (each would cost a line to every member: filling a room of
 * N costs N^2/2 lines); the member who joins or parts still sees its own. */
#define SK_CHAT_ANNOUNCE_MAX 1000
/* In a room of more members than this, a room line does not wake each
 * member at once: the hub's ticker wakes the room's members, at most once
 * per SK_CHAT_BATCH_MS (at once when its last run is older), so that each
 * member's connection writes all the lines of that window at once (one
 * send per member per window instead of one per line). */
#define SK_CHAT_BATCH_MIN 4096
#define SK_CHAT_BATCH_MS 40

typedef struct sk_chat_config {
    unsigned rate;      /* lines per second per client; 0: no limit */
    unsigned burst;     /* tokens of the bucket (>= 1) */
    size_t queue_max;   /* a client with more output queued is disconnected */
    size_t announce_max; /* 0: SK_CHAT_ANNOUNCE_MAX */
    size_t batch_min;   /* 0: SK_CHAT_BATCH_MIN */
    unsigned batch_ms;  /* 0: SK_CHAT_BATCH_MS */
} sk_chat_config;

typedef struct sk_chat_room sk_chat_room;

typedef struct sk_chat_member {
    sk_chat_nick nick;          /* in the hub's set while entered */
    sk_chat_mailbox mailbox;
    sk_conn *conn;              /* woken when others post to it */
    sk_chat_room *room;         /* NULL: in no room */
    struct sk_chat_member *prev, *next; /* in its room, in order of joining */
    bool entered;
    bool slow;                  /* its mailbox overflowed during a room post
                                   (room lock): it gets nothing more and is
                                   not listed; its own thread will exit */
    bool slow_told;             /* the room was told it was disconnected */
} sk_chat_member;

typedef struct sk_chat_hub {
    pthread_mutex_t lock;
    sk_chat_nicks nicks;
    sk_chat_room *rooms, *rooms_last; /* in order of creation */
    unsigned long long next_guest;
    sk_chat_config cfg;         /* defaults filled in */
    pid_t pid;                  /* the process whose threads share it */
    sk_chat_ticker ticker;      /* wakes the members of batched rooms */
} sk_chat_hub;

/* A hub with cfg (zero announce_max, batch_min, batch_ms: the defaults).
 * Returns NULL when out of memory. */
sk_chat_hub *sk_chat_hub_new(const sk_chat_config *cfg);

/* Release a hub nobody is in any more (stops its ticker). */
void sk_chat_hub_free(sk_chat_hub *hub);

/* Prepare m for connection c, with a mailbox of the hub's queue_max.
 * Returns 0 or -errno. */
int sk_chat_member_init(sk_chat_member *m, const sk_chat_hub *hub, sk_conn *c);

/* Release an initialised member that has exited the hub. */
void sk_chat_member_destroy(sk_chat_member *m);

/* The name of m's room, or NULL; only on m's own thread. */
const char *sk_chat_member_room(const sk_chat_member *m);

/* Enter m under the first free nick guestN (into m->nick.name), in no
 * room. Returns 0 or -ENOMEM. */
int sk_chat_hub_enter(sk_chat_hub *hub, sk_chat_member *m);

/* Take m out of its room (the others get notice/len, m does not; nor do
 * they when they were already told that m was disconnected) and out of
 * the nick set. Does nothing if m is not entered. */
void sk_chat_hub_exit(sk_chat_hub *hub, sk_chat_member *m, const char *notice, size_t len);

/* Join m (in no room) to room (a valid name in lower case), created if
 * need be; notice goes to the room's members, m included if to_self (to m
 * alone once the room has more than announce_max members).
 * Returns 0 or -ENOMEM. */
int sk_chat_hub_join(sk_chat_hub *hub, sk_chat_member *m, const char *room, const char *notice,
                     size_t len, bool to_self);

/* Take m out of its room (deleted when it empties); notice goes to those
 * left (unless they were told that m was disconnected, or the room had
 * more than announce_max members), and to m if to_self.
 * Returns 0 or -ENOENT (in no room). */
int sk_chat_hub_part(sk_chat_hub *hub, sk_chat_member *m, const char *notice, size_t len,
                     bool to_self);

/* Rename m to nick (valid), unique regardless of case (m may change the
 * case of its own); notice goes to m's room, or m alone if in none.
 * Returns 0 or -EEXIST. */
int sk_chat_hub_rename(sk_chat_hub *hub, sk_chat_member *m, const char *nick,
                       const char *notice, size_t len);

/* Post line to everyone in m's room, m included (batched in a room of more
 * than batch_min members). Returns 0 or -ENOENT. */
int sk_chat_hub_say(sk_chat_member *m, const char *line, size_t len);

/* Post line to the member whose nick equals target regardless of case,
 * whose nick is copied to canon. Returns 0 or -ENOENT. */
int sk_chat_hub_tell(sk_chat_hub *hub, const sk_chat_member *from, const char *target,
                     const char *line, size_t len, char canon[SK_CHAT_NAME_MAX + 1]);

/* "* in ROOM: a, b, c\n" for m's room, into out (size at least 256; a
 * longer list ends in "... and N more"). Returns its length, or 0 when m
 * is in no room. */
size_t sk_chat_hub_who(const sk_chat_member *m, char *out, size_t size);

/* "* rooms: lobby (3), x (1)\n" (or "* rooms: none\n"), as sk_chat_hub_who. */
size_t sk_chat_hub_rooms(sk_chat_hub *hub, char *out, size_t size);

#endif
