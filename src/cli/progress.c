/* The per-file progress line (TTY) or summary line (-v): see progress.h. */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Redraw at most this often. */
#define DRAW_INTERVAL_NS 100000000LL
#define NS_PER_S 1000000000LL
/* Width used when the terminal does not say. */
#define DEFAULT_COLUMNS 80
/* Columns taken by everything but the name: "  1023.9 MiB  100%  1023.9 MiB/s  ETA 99:59:59". */
#define STATS_COLUMNS 48

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

void sk_progress_format_bytes(double bytes, char *buf, unsigned len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    while (bytes >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        bytes /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f B", bytes);
    else
        snprintf(buf, len, "%.1f %s", bytes, units[u]);
}

static void format_duration(double seconds, char *buf, size_t len)
{
    if (!(seconds >= 0) || seconds > 359999)
        seconds = 359999;
    unsigned s = (unsigned)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, len, "%u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%u:%02u", s / 60, s % 60);
}

static int columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return DEFAULT_COLUMNS;
}

void sk_progress_init(sk_progress *p, const char *cmd, bool verbose, bool quiet)
{
    *p = (sk_progress){.cmd = cmd};
    if (quiet)
        return;
    p->tty = isatty(STDERR_FILENO);
    p->summary = verbose && !p->tty;
}

void sk_progress_start(sk_progress *p, const char *name, uint64_t total, uint64_t offset)
{
    snprintf(p->name, sizeof p->name, "%s", name);
    p->total = total;
    p->offset = offset;
    p->done = offset;
    p->start_ns = now_ns();
    p->drawn_ns = 0;
    p->drawn = false;
}

/* Bytes per second moved by this run so far. */
static double rate(const sk_progress *p, int64_t now)
{
    double elapsed = (double)(now - p->start_ns) / NS_PER_S;
    double moved = (double)(p->done - p->offset);
    return elapsed > 0 ? moved / elapsed : 0;
}

static void draw(sk_progress *p, int64_t now, bool final)
{
    char done[32], speed[32], when[32];
    sk_progress_format_bytes((double)p->done, done, sizeof done);
    double r = rate(p, now);
    sk_progress_format_bytes(r, speed, sizeof speed);
    unsigned percent = p->total ? (unsigned)(p->done * 100 / p->total) : 100;
    if (final)
        format_duration((double)(now - p->start_ns) / NS_PER_S, when, sizeof when);
    else if (r > 0)
        format_duration((double)(p->total - p->done) / r, when, sizeof when);
    else
        snprintf(when, sizeof when, "--:--");
    int width = columns() - STATS_COLUMNS;
    if (width < 8)
        width = 8;
    int name_len = (int)strlen(p->name);
    const char *name = p->name;
    if (name_len > width)
        name += name_len - width; /* keep the end: the file's own name */
    fprintf(stderr, "\r%-*s  %10s  %3u%%  %10s/s  %s %s\033[K", width, name, done, percent,
            speed, final ? "in " : "ETA", when);
    fflush(stderr);
    p->drawn = true;
    p->drawn_ns = now;
}

void sk_progress_update(sk_progress *p, uint64_t done)
{
    p->done = done;
    if (!p->tty)
        return;
    int64_t now = now_ns();
    if (p->drawn && now - p->drawn_ns < DRAW_INTERVAL_NS)
        return;
    draw(p, now, false);
}

static void summary(const sk_progress *p, int64_t now)
{
    double seconds = (double)(now - p->start_ns) / NS_PER_S;
    char speed[32];
    sk_progress_format_bytes(rate(p, now), speed, sizeof speed);
    fprintf(stderr, "sk: %s: %s: %" PRIu64 " bytes in %.2f s, %s/s", p->cmd, p->name, p->total,
            seconds, speed);
    if (p->offset)
        fprintf(stderr, " (resumed at %" PRIu64 ")", p->offset);
    fputc('\n', stderr);
}

void sk_progress_end(sk_progress *p, bool ok)
{
    int64_t now = now_ns();
    if (p->tty) {
        if (ok)
            draw(p, now, true);
        if (p->drawn)
            fputc('\n', stderr);
    } else if (p->summary && ok) {
        summary(p, now);
    }
    p->drawn = false;
}
