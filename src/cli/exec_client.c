/* sk exec: the connection and handshake up to a running command. */
#include "exec_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_auth.h"
#include "exec_token.h"
#include "sockkit/error.h"
#include "sockkit/frame.h"

/* Seconds allowed for the connection and each step of the handshake. */
#define STEP_MS 10000

static int failure(const char *fmt, const char *arg)
{
    fprintf(stderr, "sk: exec: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return SK_EXEC_STATUS_FAILURE;
}

int sk_exec_client_error(const uint8_t *payload, size_t len)
{
    uint8_t code;
    char msg[1024];
    if (sk_exec_decode_error(payload, len, &code, msg, sizeof msg) < 0)
        return failure("%s", "malformed error message from the server");
    fprintf(stderr, "sk: exec: %s\n", msg);
    switch (code) {
    case SK_EXEC_ERR_NOTFOUND: return SK_EXEC_STATUS_NOTFOUND;
    case SK_EXEC_ERR_DENIED:
    case SK_EXEC_ERR_SPAWN: return SK_EXEC_STATUS_CANNOT;
    default: return SK_EXEC_STATUS_FAILURE;
    }
}

/* Receive the next message, expecting type; an ERROR is reported.
 * Returns 0 (*p, *len hold it; free *p), or an exit status. */
static int expect(sk_exec_client *c, uint8_t type, uint8_t **p, size_t *len)
{
    void *payload = NULL;
    int rc = sk_frame_recv(&c->sock, SK_EXEC_FRAME_MAX, &payload, len, STEP_MS);
    if (rc <= 0) {
        free(payload);
        return failure("%s", rc == 0 ? "the server closed the connection"
                                     : sk_strerror(rc));
    }
    *p = payload;
    if (*len > 0 && (*p)[0] == type)
        return 0;
    int status = *len > 0 && (*p)[0] == SK_EXEC_ERROR
                     ? sk_exec_client_error(*p, *len)
                     : failure("%s", "unexpected message from the server");
    free(*p);
    return status;
}

/* Answer the challenge with the token. */
static int authenticate(sk_exec_client *c, const sk_exec_token *token)
{
    uint8_t *p;
    size_t len;
    int status = expect(c, SK_EXEC_CHALLENGE, &p, &len);
    if (status)
        return status;
    uint8_t server_nonce[SK_EXEC_NONCE_SIZE], client_nonce[SK_EXEC_NONCE_SIZE];
    uint8_t mac[SK_EXEC_MAC_SIZE], frame[128];
    int rc = sk_exec_decode_challenge(p, len, server_nonce);
    free(p);
    if (rc < 0)
        return failure("%s", "the server speaks another exec protocol version");
    if (sk_exec_random(client_nonce, sizeof client_nonce) < 0 ||
        sk_exec_auth_answer(token->bytes, token->len, server_nonce, client_nonce, mac) < 0)
        return failure("%s", "cannot compute the answer");
    size_t n = sk_exec_encode_auth(frame, client_nonce, mac);
    rc = sk_sock_sendall(&c->sock, frame, n);
    if (rc < 0)
        return failure("%s", sk_strerror(rc));
    status = expect(c, SK_EXEC_READY, &p, &len);
    if (status == 0)
        free(p);
    return status;
}

static int send_request(sk_exec_client *c)
{
    uint8_t *frame;
    size_t n;
    int rc = sk_exec_encode_request(&c->req, &frame, &n);
    if (rc < 0)
        return failure("%s", rc == -EINVAL ? "the command line is too large for one request"
                                           : sk_strerror(rc));
    rc = sk_sock_sendall(&c->sock, frame, n);
    free(frame);
    if (rc < 0)
        return failure("%s", sk_strerror(rc));
    uint8_t *p;
    size_t len;
    int status = expect(c, SK_EXEC_STARTED, &p, &len);
    if (status)
        return status;
    rc = sk_exec_decode_started(p, len, &c->pid);
    free(p);
    if (rc < 0)
        return failure("%s", "malformed message from the server");
    if (c->verbose)
        fprintf(stderr, "sk: exec: running as pid %u\n", (unsigned)c->pid);
    return 0;
}

int sk_exec_client_start(sk_exec_client *c)
{
    sk_exec_token *token = malloc(sizeof *token);
    char err[SK_ERRBUF_SIZE];
    if (!token)
        return failure("%s", sk_strerror(-ENOMEM));
    if (sk_exec_token_read(c->token_file, token, err, sizeof err) < 0) {
        free(token);
        return failure("%s", err);
    }
    int status = 0;
    int rc = sk_sock_connect(&c->sock, &c->ep, SOCK_STREAM, STEP_MS, err, sizeof err);
    if (rc < 0) {
        c->sock.fd = -1;
        status = failure("%s", err[0] ? err : sk_strerror(rc));
    } else {
        if (c->verbose) {
            char peer[SK_ADDRSTRLEN] = "?";
            sk_sock_peer_name(&c->sock, peer, sizeof peer);
            fprintf(stderr, "sk: exec: connected to %s\n", peer);
        }
        status = authenticate(c, token);
    }
    sk_exec_token_clear(token);
    free(token);
    if (status == 0)
        status = send_request(c);
    if (status && c->sock.fd >= 0)
        sk_sock_close(&c->sock);
    return status;
}
