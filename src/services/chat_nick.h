/* Chat names: the nick and room name rules, and the set of nicks in use,
 * unique without regard to ASCII case. */
#ifndef SK_CHAT_NICK_H
#define SK_CHAT_NICK_H

#include <stdbool.h>
#include <stddef.h>

/* Longest nick or room name, in characters (= bytes: names are ASCII). */
#define SK_CHAT_NAME_MAX 32

/* Whether name (len bytes) is a valid nick or room name: 1 to
 * SK_CHAT_NAME_MAX ASCII letters, digits, '_' and '-', not starting
 * with '-'. */
bool sk_chat_name_valid(const char *name, size_t len);

/* Lower-case name in place (room names are kept in lower case). */
void sk_chat_name_fold(char *name);

/* Whether two names are equal without regard to ASCII case. */
bool sk_chat_name_equal(const char *a, const char *b);

/* A nick in a sk_chat_nicks set; embedded in its owner. */
typedef struct sk_chat_nick {
    struct sk_chat_nick *next;          /* in its hash bucket */
    char name[SK_CHAT_NAME_MAX + 1];    /* as its owner spelt it */
} sk_chat_nick;

/* A hash set of nicks keyed by their lower-case form. Not locked: the
 * caller serialises access. Zeroed = empty. */
typedef struct sk_chat_nicks {
    sk_chat_nick **buckets;
    size_t nbuckets;
    size_t count;
} sk_chat_nicks;

/* The nick in the set equal to name regardless of case, or NULL. */
sk_chat_nick *sk_chat_nicks_find(const sk_chat_nicks *set, const char *name);

/* Add n (its name set). Returns 0, -EEXIST when a nick equal to it
 * regardless of case is in the set, -ENOMEM when not even a first table
 * could be allocated (later the table just stops growing). */
int sk_chat_nicks_add(sk_chat_nicks *set, sk_chat_nick *n);

/* Remove n, which is in the set. */
void sk_chat_nicks_remove(sk_chat_nicks *set, sk_chat_nick *n);

/* Release the table (not the nicks, which belong to their owners). */
void sk_chat_nicks_free(sk_chat_nicks *set);

#endif
