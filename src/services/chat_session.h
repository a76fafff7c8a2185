/* One chat connection: its member of the hub, its input lines and flood
 * control; what the service callbacks (chat_service.c) and the commands
 * (chat_commands.c) share. Everything here runs on the connection's own
 * thread. */
#ifndef SK_CHAT_SESSION_H
#define SK_CHAT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat_format.h"
#include "chat_line.h"
#include "chat_rate.h"
#include "chat_room.h"
#include "chat_text.h"

/* Longest line the server sends but for lists: a cleaned line of input
 * with a time stamp, a nick and a few words. */
#define SK_CHAT_OUT_MAX (SK_CHAT_TEXT_OUT_MAX(SK_CHAT_LINE_MAX) + 128)
/* Longest /who or /rooms line. */
#define SK_CHAT_LIST_MAX 4096

/* Returned by a line handler to stop reading input (after /quit). */
#define SK_CHAT_STOP 1

typedef struct sk_chat_session {
    sk_chat_member member;
    sk_chat_hub *hub;
    sk_conn *conn;
    sk_chat_lines lines;
    sk_chat_bucket bucket;
    bool ready;   /* member initialised */
    bool warned;  /* told to slow down since its last accepted line */
    bool done;    /* exited the hub: quit, end of input, or too slow */
} sk_chat_session;

/* Start a session on c: enter the hub as guestN, greet, join the lobby.
 * Returns 0 or -errno (the connection should close). */
int sk_chat_session_open(sk_chat_session *s, sk_conn *c, sk_chat_hub *hub);

/* Input bytes: lines run as commands or are said to the room. Returns 0,
 * SK_CHAT_STOP (the session ended: /quit), or -errno. */
int sk_chat_session_input(sk_chat_session *s, const uint8_t *data, size_t len);

/* End of input: a last unterminated line runs, then the session ends. */
void sk_chat_session_eof(sk_chat_session *s);

/* Write what the mailbox holds (the connection's own thread). Returns 0,
 * or -ENOBUFS after the mailbox overflowed (the session has ended and the
 * client was told), or sk_conn_write's error. */
int sk_chat_session_flush(sk_chat_session *s);

/* Leave the hub; others in the room see "* nick left ROOM", or "* nick
 * was disconnected (too slow)" when too_slow. Idempotent. */
void sk_chat_session_end(sk_chat_session *s, bool too_slow);

/* Release the session (on_close): ends it first if need be. */
void sk_chat_session_close(sk_chat_session *s);

/* Queue a printf-formatted line for this client alone (fmt ends in "\n"). */
void sk_chat_reply(sk_chat_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Run one cleaned input line that starts with '/' (text is NUL-terminated
 * at len). Returns 0 or SK_CHAT_STOP. */
int sk_chat_command(sk_chat_session *s, char *text, size_t len);

/* Whether the line is a /quit command (exempt from flood control). */
bool sk_chat_is_quit(const char *text, size_t len);

#endif
