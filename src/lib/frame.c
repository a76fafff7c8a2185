/* Length-prefixed framing (see include/sockkit/frame.h, docs/protocol.md). */
#include "sockkit/frame.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "deadline.h"

/* Smallest buffer the decoder allocates for a split frame. */
#define FRAME_MIN_CAP 256u

void sk_frame_header_encode(uint8_t out[SK_FRAME_HEADER_SIZE], uint32_t len)
{
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
}

uint32_t sk_frame_header_decode(const uint8_t in[SK_FRAME_HEADER_SIZE])
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | (uint32_t)in[3];
}

/* ---- incremental decoder ---------------------------------------------- */

void sk_frame_decoder_init(sk_frame_decoder *d, uint32_t max_len)
{
    memset(d, 0, sizeof(*d));
    d->max = max_len ? max_len : SK_FRAME_DEFAULT_MAX;
}

/* Start the next frame: forget the header, keep the buffer for reuse. */
static void decoder_next_frame(sk_frame_decoder *d)
{
    d->header_have = 0;
    d->length = 0;
    d->have = 0;
    d->in_payload = 0;
}

/* Collect header bytes; once complete, check the length against max.
 * Returns the bytes consumed or the (now sticky) -EMSGSIZE. */
static ssize_t decoder_take_header(sk_frame_decoder *d, const uint8_t *data, size_t len)
{
    size_t take = SK_FRAME_HEADER_SIZE - d->header_have;
    if (take > len)
        take = len;
    memcpy(d->header + d->header_have, data, take);
    d->header_have += take;
    if (d->header_have < SK_FRAME_HEADER_SIZE)
        return (ssize_t)take;
    d->length = sk_frame_header_decode(d->header);
    if (d->length > d->max) {
        d->error = -EMSGSIZE;
        return d->error;
    }
    d->in_payload = 1;
    d->have = 0;
    return (ssize_t)take;
}

/* Make room for `need` payload bytes (need <= d->length <= d->max), growing
 * geometrically so a peer announcing a large frame and sending little does
 * not get the whole length allocated up front. Returns 0 or -ENOMEM. */
static int decoder_reserve(sk_frame_decoder *d, size_t need)
{
    if (need <= d->buf_cap)
        return 0;
    size_t cap = d->buf_cap ? d->buf_cap : FRAME_MIN_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > d->length)
        cap = d->length;
    uint8_t *p = realloc(d->buf, cap);
    if (p == NULL)
        return -ENOMEM;
    d->buf = p;
    d->buf_cap = cap;
    return 0;
}

/* Copy payload bytes into the owned buffer. Returns bytes consumed or the
 * (now sticky) -ENOMEM. */
static ssize_t decoder_take_payload(sk_frame_decoder *d, const uint8_t *data, size_t len)
{
    size_t take = (size_t)d->length - d->have;
    if (take > len)
        take = len;
    if (decoder_reserve(d, d->have + take) < 0) {
        d->error = -ENOMEM;
        return d->error;
    }
    memcpy(d->buf + d->have, data, take);
    d->have += take;
    return (ssize_t)take;
}

ssize_t sk_frame_decoder_feed(sk_frame_decoder *d, const uint8_t *data, size_t len,
                              sk_frame *out, int *complete)
{
    static const uint8_t empty[1];
    size_t used = 0;
    ssize_t n;

    *complete = 0;
    out->data = NULL;
    out->len = 0;
    if (d->error)
        return d->error;
    if (len == 0)
        return 0;
    if (len > SSIZE_MAX)
        len = SSIZE_MAX;
    if (!d->in_payload) {
        n = decoder_take_header(d, data, len);
        if (n < 0)
            return n;
        used = (size_t)n;
        if (!d->in_payload)
            return (ssize_t)used;
    }
    size_t need = (size_t)d->length - d->have;
    if (need == 0) {
        out->data = empty;
    } else if (used == len) {
        return (ssize_t)used; /* header just completed, no payload byte yet */
    } else if (d->have == 0 && len - used >= need) {
        out->data = data + used; /* whole payload in the input: zero copy */
        used += need;
    } else {
        n = decoder_take_payload(d, data + used, len - used);
        if (n < 0)
            return n;
        used += (size_t)n;
        if (d->have < d->length)
            return (ssize_t)used;
        out->data = d->buf;
    }
    out->len = d->length;
    *complete = 1;
    decoder_next_frame(d);
    return (ssize_t)used;
}

int sk_frame_decoder_finish(const sk_frame_decoder *d)
{
    if (d->error)
        return d->error;
    if (d->header_have > 0 || d->in_payload)
        return -EPROTO;
    return 0;
}

void sk_frame_decoder_free(sk_frame_decoder *d)
{
    uint32_t max = d->max;
    free(d->buf);
    memset(d, 0, sizeof(*d));
    d->max = max;
}

/* ---- blocking send / receive on a sk_sock ------------------------------ */

/* Wait until fd has `events` ready or the deadline passes.
 * Returns 0 when ready (or in error/hang-up: the next call reports it),
 * -ETIMEDOUT, or -errno. */
static int wait_until(int fd, short events, int64_t deadline)
{
    for (;;) {
        int ms = sk_deadline_remaining(deadline);
        if (ms == 0)
            return -ETIMEDOUT;
        struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
        int r = poll(&p, 1, ms);
        if (r > 0)
            return (p.revents & POLLNVAL) ? -EBADF : 0;
        if (r < 0 && errno != EINTR)
            return -errno;
        /* r == 0: poll's clock may round differently; re-check the deadline. */
    }
}

/* Drop the first n sent bytes from the iovec array of msg. */
static void iov_advance(struct msghdr *msg, size_t n)
{
    while (msg->msg_iovlen > 0 && n >= msg->msg_iov[0].iov_len) {
        n -= msg->msg_iov[0].iov_len;
        msg->msg_iov++;
        msg->msg_iovlen--;
    }
    if (msg->msg_iovlen > 0) {
        msg->msg_iov[0].iov_base = (uint8_t *)msg->msg_iov[0].iov_base + n;
        msg->msg_iov[0].iov_len -= n;
    }
}

int sk_frame_send(sk_sock *s, const void *payload, size_t len, int timeout_ms)
{
    uint8_t header[SK_FRAME_HEADER_SIZE];
    struct iovec iov[2];
    struct msghdr msg;

    if (s == NULL || s->fd < 0)
        return -EBADF;
    if (len > UINT32_MAX)
        return -EMSGSIZE;
    if (len > 0 && payload == NULL)
        return -EINVAL;
    sk_frame_header_encode(header, (uint32_t)len);
    iov[0] = (struct iovec){ .iov_base = header, .iov_len = sizeof(header) };
    iov[1] = (struct iovec){ .iov_base = (void *)(uintptr_t)payload, .iov_len = len };
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = len > 0 ? 2 : 1;

    int64_t deadline = sk_deadline_from_timeout(timeout_ms);
    while (msg.msg_iovlen > 0) {
        ssize_t n = sendmsg(s->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            iov_advance(&msg, (size_t)n);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int rc = wait_until(s->fd, POLLOUT, deadline);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Read exactly len bytes unless EOF comes first. *got receives the count.
 * Returns 0 (check *got for EOF) or -errno (-ETIMEDOUT, -ECONNRESET). */
static int recv_full(int fd, uint8_t *buf, size_t len, int64_t deadline, size_t *got)
{
    *got = 0;
    while (*got < len) {
        ssize_t n = recv(fd, buf + *got, len - *got, MSG_DONTWAIT);
        if (n > 0) {
            *got += (size_t)n;
            continue;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int rc = wait_until(fd, POLLIN, deadline);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int sk_frame_recv(sk_sock *s, uint32_t max_len, void **payload, size_t *len, int timeout_ms)
{
    uint8_t header[SK_FRAME_HEADER_SIZE];
    size_t got;
    int rc;

    *payload = NULL;
    *len = 0;
    if (s == NULL || s->fd < 0)
        return -EBADF;
    uint32_t max = max_len ? max_len : SK_FRAME_DEFAULT_MAX;
    int64_t deadline = sk_deadline_from_timeout(timeout_ms);

    rc = recv_full(s->fd, header, sizeof(header), deadline, &got);
    if (rc < 0)
        return rc;
    if (got < sizeof(header))
        return got == 0 ? 0 : -EPROTO;
    uint32_t length = sk_frame_header_decode(header);
    if (length > max)
        return -EMSGSIZE;

    uint8_t *buf = malloc(length ? length : 1);
    if (buf == NULL)
        return -ENOMEM;
    rc = recv_full(s->fd, buf, length, deadline, &got);
    if (rc == 0 && got < length)
        rc = -EPROTO;
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *payload = buf;
    *len = length;
    return 1;
}
