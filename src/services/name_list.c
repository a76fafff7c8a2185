/* A growable array of owned file names (name_list.h). */
#include "name_list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sk_name_list_push(sk_name_list *l, const char *name)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(name)))
        return -ENOMEM;
    l->n++;
    return 0;
}

void sk_name_list_free(sk_name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    *l = (sk_name_list){0};
}
