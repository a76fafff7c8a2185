/* sk_conn: what a service sees of a connection, whatever the model. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"

void sk_conn_init(sk_conn *c, const sk_conn_ops *ops, void *model_data,
                  const sk_service *service, const char *peer)
{
    memset(c, 0, sizeof *c);
    c->ops = ops;
    c->service = service;
    c->model_data = model_data;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
}

int sk_conn_write(sk_conn *c, const void *data, size_t len)
{
    if (c->closing)
        return -EPIPE;
    if (len == 0)
        return 0;
    int rc = c->ops->write(c, data, len);
    if (rc == 0)
        c->bytes_out += len;
    return rc;
}

int sk_conn_sendfile(sk_conn *c, int fd, off_t offset, size_t len)
{
    if (c->closing)
        return -EPIPE;
    if (!c->ops->sendfile)
        return -EOPNOTSUPP;
    if (offset < 0)
        return -EINVAL;
    if (len == 0)
        return 0;
    int rc = c->ops->sendfile(c, fd, offset, len);
    if (rc == 0)
        c->bytes_out += len;
    return rc;
}

void *sk_conn_context(const sk_conn *c)
{
    return c->service->context;
}

void sk_conn_close(sk_conn *c)
{
    c->closing = true;
}

const char *sk_conn_peer(const sk_conn *c)
{
    return c->peer;
}

size_t sk_conn_pending(const sk_conn *c)
{
    return c->ops->pending ? c->ops->pending(c) : 0;
}

int sk_conn_wake(sk_conn *c)
{
    if (!c->ops->wake || !c->service->on_wake)
        return -EOPNOTSUPP;
    return c->ops->wake(c);
}

void sk_conn_pause(sk_conn *c)
{
    if (c->ops->set_reading)
        c->ops->set_reading(c, false);
}

void sk_conn_resume(sk_conn *c)
{
    if (c->ops->set_reading)
        c->ops->set_reading(c, true);
}

int sk_conn_set_timeout(sk_conn *c, int timeout_ms)
{
    if (timeout_ms < 0)
        return -EINVAL;
    if (!c->ops->set_timeout)
        return -EOPNOTSUPP;
    return c->ops->set_timeout(c, timeout_ms);
}

void sk_conn_abort(sk_conn *c)
{
    c->closing = true;
    if (c->ops->abort)
        c->ops->abort(c);
}
