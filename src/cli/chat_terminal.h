/* `sk chat` on a terminal: a prompt with line editing and history
 * (libedit), and the server's lines printed above the line being typed
 * without garbling it. */
#ifndef SK_CLI_CHAT_TERMINAL_H
#define SK_CLI_CHAT_TERMINAL_H

#include "chat_client.h"

/* Run until Ctrl-D, /quit, SIGINT/SIGTERM or the server closing.
 * stdin and stdout must be terminals. Returns the exit status: 0, or 1 on
 * a connection error (message printed). */
int chat_run_terminal(chat_client *s);

#endif
