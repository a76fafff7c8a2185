/* `sk chat` in plain line mode, for when stdin is not a terminal: stdin
 * goes to the server as it is, every line the server sends is written to
 * stdout. Scripts drive the client this way. */
#ifndef SK_CLI_CHAT_LINES_H
#define SK_CLI_CHAT_LINES_H

#include "chat_client.h"

/* How long the client keeps reading after stdin ended and everything was
 * sent (the sending side is shut down at that point), milliseconds. */
#define CHAT_LINGER_MS 500

/* Run until the server closes the connection, or until CHAT_LINGER_MS
 * after stdin ended. Returns the exit status: 0, or 1 on a connection or
 * output error (message printed). */
int chat_run_lines(chat_client *s);

#endif
