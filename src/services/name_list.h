/* A growable array of file names, each a copy the list owns: the names
 * of a directory being read, or directories still to visit in a walk.
 * Shared by the file service's listings and sk send's local walk. */
#ifndef SK_SERVICES_NAME_LIST_H
#define SK_SERVICES_NAME_LIST_H

#include <stddef.h>

typedef struct sk_name_list {
    char **v;       /* v[0..n): the names */
    size_t n, cap;
} sk_name_list;

/* Append a copy of name. Returns 0 or -ENOMEM (the list unchanged). */
int sk_name_list_push(sk_name_list *l, const char *name);

/* Free every name and the array; the list is empty again. */
void sk_name_list_free(sk_name_list *l);

#endif
