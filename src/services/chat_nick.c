/* Nick and room name rules; the case-insensitive set of nicks in use, a
 * chained hash table of nicks embedded in their owners (no allocation per
 * nick), doubled when it holds more nicks than buckets. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "chat_nick.h"

enum { FIRST_BUCKETS = 64 };

static bool name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
}

static char lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

bool sk_chat_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > SK_CHAT_NAME_MAX || name[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name_char(name[i]))
            return false;
    return true;
}

void sk_chat_name_fold(char *name)
{
    for (; *name; name++)
        *name = lower(*name);
}

bool sk_chat_name_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (lower(*a) != lower(*b))
            return false;
    return *a == *b;
}

/* FNV-1a of the lower-case name. */
static size_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (; *name; name++)
        h = (h ^ (uint8_t)lower(*name)) * 0x100000001b3u;
    return (size_t)h;
}

sk_chat_nick *sk_chat_nicks_find(const sk_chat_nicks *set, const char *name)
{
    if (set->nbuckets == 0)
        return NULL;
    for (sk_chat_nick *n = set->buckets[name_hash(name) % set->nbuckets]; n; n = n->next)
        if (sk_chat_name_equal(n->name, name))
            return n;
    return NULL;
}

/* Move every nick into a table of nbuckets (a failed allocation keeps the
 * old one). */
static void rehash(sk_chat_nicks *set, size_t nbuckets)
{
    sk_chat_nick **buckets = calloc(nbuckets, sizeof *buckets);
    if (!buckets)
        return;
    for (size_t i = 0; i < set->nbuckets; i++) {
        sk_chat_nick *n = set->buckets[i];
        while (n) {
            sk_chat_nick *next = n->next;
            size_t b = name_hash(n->name) % nbuckets;
            n->next = buckets[b];
            buckets[b] = n;
            n = next;
        }
    }
    free(set->buckets);
    set->buckets = buckets;
    set->nbuckets = nbuckets;
}

int sk_chat_nicks_add(sk_chat_nicks *set, sk_chat_nick *n)
{
    if (sk_chat_nicks_find(set, n->name))
        return -EEXIST;
    if (set->count >= set->nbuckets)
        rehash(set, set->nbuckets ? 2 * set->nbuckets : FIRST_BUCKETS);
    if (set->nbuckets == 0)
        return -ENOMEM; /* not even the first table */
    size_t b = name_hash(n->name) % set->nbuckets;
    n->next = set->buckets[b];
    set->buckets[b] = n;
    set->count++;
    return 0;
}

void sk_chat_nicks_remove(sk_chat_nicks *set, sk_chat_nick *n)
{
    sk_chat_nick **p = &set->buckets[name_hash(n->name) % set->nbuckets];
    while (*p && *p != n)
        p = &(*p)->next;
    if (*p) {
        *p = n->next;
        set->count--;
    }
    n->next = NULL;
}

void sk_chat_nicks_free(sk_chat_nicks *set)
{
    free(set->buckets);
    *set = (sk_chat_nicks){0};
}
