/* chat: a multi-room line chat that any netcat can join
 * (docs/protocol.md, "Chat"). */
#ifndef SK_CHAT_SERVICE_H
#define SK_CHAT_SERVICE_H

#include "chat_room.h"
#include "sockkit/service.h"

/* The chat service. Its context must be a sk_chat_hub (sk_chat_hub_new)
 * that outlives the server; without one every connection is refused with
 * an error line. Needs a model that runs all connections in one process
 * and has sk_conn_wake. */
extern const sk_service sk_service_chat;

#endif
