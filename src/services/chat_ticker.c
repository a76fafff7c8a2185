/* The chat ticker: a thread asleep on a condition variable until a
 * request, then one run of fn -- at once if the last run started at least
 * delay_ms ago, else delay_ms after it (monotonic clock). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "chat_ticker.h"

int sk_chat_ticker_init(sk_chat_ticker *t, unsigned delay_ms, sk_chat_tick_fn *fn, void *arg)
{
    memset(t, 0, sizeof *t);
    t->fn = fn;
    t->arg = arg;
    t->delay_ms = delay_ms;
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc != 0)
        return -rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&t->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return -rc;
    rc = pthread_mutex_init(&t->lock, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&t->cond);
        return -rc;
    }
    t->ready = true;
    return 0;
}

/* t plus ms. */
static struct timespec later(struct timespec t, unsigned ms)
{
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    return t;
}

static void *ticker_main(void *arg)
{
    sk_chat_ticker *t = arg;
    struct timespec last = {0, 0}; /* the start of the last run */
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        if (!t->due) {
            pthread_cond_wait(&t->cond, &t->lock);
            continue;
        }
        /* at most one run per delay_ms: at once when the last one is that
         * old, else delay_ms after it */
        struct timespec until = later(last, t->delay_ms);
        while (!t->stop && pthread_cond_timedwait(&t->cond, &t->lock, &until) != ETIMEDOUT)
            ;
        if (t->stop)
            break;
        t->due = false; /* requests from now on are for the next run */
        clock_gettime(CLOCK_MONOTONIC, &last);
        pthread_mutex_unlock(&t->lock);
        t->fn(t->arg);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

bool sk_chat_ticker_request(sk_chat_ticker *t)
{
    if (!t->ready)
        return false;
    pthread_mutex_lock(&t->lock);
    if (!t->started && !t->failed) {
        sigset_t all, old; /* no signal for this thread: the server's threads take them */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        t->started = pthread_create(&t->thread, NULL, ticker_main, t) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        t->failed = !t->started;
    }
    bool running = t->started && !t->stop;
    if (running && !t->due) {
        t->due = true;
        pthread_cond_signal(&t->cond);
    }
    pthread_mutex_unlock(&t->lock);
    return running;
}

void sk_chat_ticker_destroy(sk_chat_ticker *t)
{
    if (!t->ready)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    bool started = t->started;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    if (started)
        pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    t->ready = false;
}
