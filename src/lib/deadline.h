/* Monotonic deadlines for operations whose timeout bounds a whole call.
 *
 * A deadline is an absolute CLOCK_MONOTONIC time in milliseconds, computed
 * once at the start of a call; each wait then asks for the time remaining,
 * so EINTR retries and partial progress never stretch the total.
 * Timeout convention (as sk_sock): -1 infinite, 0 do not wait, >0 ms.
 */
#ifndef SOCKKIT_DEADLINE_H
#define SOCKKIT_DEADLINE_H

#include <stdint.h>

/* Current CLOCK_MONOTONIC time in milliseconds. */
int64_t sk_monotonic_ms(void);

/* Deadline for a timeout: -1 (infinite) for timeout_ms < 0, otherwise
 * now + timeout_ms (so timeout 0 gives a deadline already expired). */
int64_t sk_deadline_from_timeout(int timeout_ms);

/* Milliseconds left until deadline, ready for poll(): -1 when the deadline
 * is infinite, 0 when it has passed, otherwise > 0 (capped at INT_MAX). */
int sk_deadline_remaining(int64_t deadline);

#endif
