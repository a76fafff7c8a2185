/* The output queue of a non-blocking stream socket (send_queue.h). */
#include "send_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The first allocation, bytes; the queue doubles from there. */
#define SEND_QUEUE_MIN 256

int send_queue_append(char **data, size_t *len, size_t *cap, const char *bytes, size_t n)
{
    if (*len + n > *cap) {
        size_t room = *cap ? *cap * 2 : SEND_QUEUE_MIN;
        while (room < *len + n)
            room *= 2;
        char *p = realloc(*data, room);
        if (p == NULL)
            return -ENOMEM;
        *data = p;
        *cap = room;
    }
    memcpy(*data + *len, bytes, n);
    *len += n;
    return 0;
}

int send_queue_flush(int fd, char *data, size_t *len)
{
    size_t done = 0;
    int rc = 0;
    while (done < *len) {
        ssize_t n = send(fd, data + done, *len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            rc = -errno;
            break;
        }
        done += (size_t)n;
    }
    if (done > 0) {
        memmove(data, data + done, *len - done);
        *len -= done;
    }
    return rc;
}
