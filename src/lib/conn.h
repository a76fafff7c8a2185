/* Internal: the connection object behind sk_conn_* and the operations a
 * concurrency model provides for it. */
#ifndef SK_LIB_CONN_H
#define SK_LIB_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sockkit/addr.h"
#include "sockkit/service.h"

typedef struct sk_conn_ops {
    /* Hand len bytes to the peer (blocking sendall, buffer, or datagram). */
    int (*write)(sk_conn *c, const void *data, size_t len);
    /* Send len bytes of file fd from offset after what was written before;
     * NULL where the transport has no byte stream (datagrams). */
    int (*sendfile)(sk_conn *c, int fd, off_t offset, size_t len);
    /* Bytes queued, not yet handed to the kernel. NULL: never any. */
    size_t (*pending)(const sk_conn *c);
    /* Run on_wake on the connection's thread (thread-safe). NULL: -EOPNOTSUPP. */
    int (*wake)(sk_conn *c);
    /* Stop (false) or restart (true) delivering input. NULL: ignored. */
    void (*set_reading)(sk_conn *c, bool reading);
    /* End the connection unless called again within ms (0: cancel).
     * NULL: -EOPNOTSUPP. */
    int (*set_timeout)(sk_conn *c, int ms);
    /* Close now, dropping queued output. NULL: as sk_conn_close. */
    void (*abort)(sk_conn *c);
} sk_conn_ops;

struct sk_conn {
    const sk_conn_ops *ops;
    const sk_service *service; /* whose callbacks serve it; its context */
    void *model_data;          /* the model's own per-connection object */
    bool closing;              /* sk_conn_close was called */
    uint64_t bytes_in;
    uint64_t bytes_out;
    char peer[SK_ADDRSTRLEN];
};

/* Prepare a connection for a model: its ops, the model's data, the service
 * that serves it and the peer's address as text. */
void sk_conn_init(sk_conn *c, const sk_conn_ops *ops, void *model_data,
                  const sk_service *service, const char *peer);

#endif
