/* The client side of exec (docs/exec.md): connect, answer the challenge,
 * send the request (exec_client.c), then relay stdin, stdout and stderr
 * until the command's exit status arrives (exec_relay.c). */
#ifndef SK_CLI_EXEC_CLIENT_H
#define SK_CLI_EXEC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec_proto.h"
#include "sockkit/addr.h"
#include "sockkit/sock.h"

/* Exit statuses of sk exec besides the command's own (as ssh: 255 for
 * its own failures). */
enum {
    SK_EXEC_STATUS_TIMEOUT = 124,  /* the request's --timeout ended it (as timeout(1)) */
    SK_EXEC_STATUS_CANNOT = 126,   /* refused by the server, or could not start it */
    SK_EXEC_STATUS_NOTFOUND = 127, /* no such command */
    SK_EXEC_STATUS_FAILURE = 255,  /* connection, authentication, protocol */
};

typedef struct sk_exec_client {
    sk_endpoint ep;
    const char *token_file;
    sk_exec_request req;   /* argv, env, cwd, timeout (strings borrowed) */
    bool no_stdin;         /* -n: stdin from /dev/null */
    bool verbose;          /* -v: report the connection and the pid */
    sk_sock sock;
    uint32_t pid;          /* the remote pid, from STARTED */
} sk_exec_client;

/* Connect, authenticate and send the request; on success the command is
 * running. Returns 0, or an exit status (255, 126, 127) after printing
 * "sk: exec: why". */
int sk_exec_client_start(sk_exec_client *c);

/* Relay until the command ends. Returns sk exec's exit status: the
 * command's, 128 + signal, or one of SK_EXEC_STATUS_*. Closes the socket. */
int sk_exec_client_relay(sk_exec_client *c);

/* The exit status for an ERROR message, after printing its text. */
int sk_exec_client_error(const uint8_t *payload, size_t len);

#endif
