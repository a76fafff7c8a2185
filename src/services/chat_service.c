/* The chat service's callbacks: each connection is a chat session; output
 * others queue for it arrives through on_wake, and waits in its mailbox
 * while its own queue is long (until on_drain). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "chat_service.h"
#include "chat_session.h"

/* Refuse a connection with one error line. */
static int refuse(sk_conn *c, const char *why, int err)
{
    sk_conn_write(c, why, strlen(why));
    return err;
}

static int chat_open(sk_conn *c, void *state)
{
    sk_chat_session *s = state;
    sk_chat_hub *hub = sk_conn_context(c);
    if (!hub)
        return refuse(c, "! chat is not configured on this server\n", -EINVAL);
    if (hub->pid != getpid())
        return refuse(c, "! chat needs a model that serves every connection in one process\n",
                      -EOPNOTSUPP);
    int rc = sk_chat_session_open(s, c, hub);
    if (rc == 0 && sk_conn_wake(c) == -EOPNOTSUPP) {
        sk_chat_session_end(s, false);
        return refuse(c, "! chat needs a model with sk_conn_wake\n", -EOPNOTSUPP);
    }
    return rc < 0 ? rc : sk_chat_session_flush(s);
}

static int chat_data(sk_conn *c, void *state, const uint8_t *data, size_t len)
{
    (void)c;
    sk_chat_session *s = state;
    int rc = sk_chat_session_input(s, data, len);
    if (rc == SK_CHAT_STOP) /* /quit wrote and closed */
        return 0;
    return rc < 0 ? rc : sk_chat_session_flush(s);
}

static int chat_eof(sk_conn *c, void *state)
{
    sk_chat_session *s = state;
    sk_chat_session_eof(s);
    int rc = sk_chat_session_flush(s);
    sk_conn_close(c);
    return rc;
}

static void chat_close(sk_conn *c, void *state)
{
    (void)c;
    sk_chat_session_close(state);
}

/* Others posted (on_wake), or the connection's queue drained (on_drain). */
static int chat_flush(sk_conn *c, void *state)
{
    (void)c;
    sk_chat_session *s = state;
    return s->ready ? sk_chat_session_flush(s) : 0;
}

const sk_service sk_service_chat = {
    .name = "chat",
    .transports = SK_SERVICE_STREAM,
    .state_size = sizeof(sk_chat_session),
    .on_open = chat_open,
    .on_data = chat_data,
    .on_eof = chat_eof,
    .on_close = chat_close,
    .on_drain = chat_flush,
    .on_wake = chat_flush,
};
