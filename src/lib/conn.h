/* Internal: the connection object behind sk_conn_* and the operations a
 * concurrency model provides for it. */
#ifndef SK_LIB_CONN_H
#define SK_LIB_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "sockkit/addr.h"
#include "sockkit/service.h"

typedef struct sk_conn_ops {
    /* Hand len bytes to the peer (blocking sendall, buffer, or datagram). */
    int (*write)(sk_conn *c, const void *data, size_t len);
} sk_conn_ops;

struct sk_conn {
    const sk_conn_ops *ops;
    void *model_data;          /* the model's own per-connection object */
    bool closing;              /* sk_conn_close was called */
    uint64_t bytes_in;
    uint64_t bytes_out;
    char peer[SK_ADDRSTRLEN];
};

/* Prepare a connection for a model: ops, model data and peer text. */
void sk_conn_init(sk_conn *c, const sk_conn_ops *ops, void *model_data, const char *peer);

#endif
