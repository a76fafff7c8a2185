/* Monotonic deadlines (see deadline.h). */
#include "deadline.h"

#include <limits.h>
#include <time.h>

int64_t sk_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sk_deadline_from_timeout(int timeout_ms)
{
    if (timeout_ms < 0)
        return -1;
    return sk_monotonic_ms() + timeout_ms;
}

int sk_deadline_remaining(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - sk_monotonic_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}
