/* The progress report of `sk send` and `sk get`, one file at a time.
 *
 * On a terminal (stderr is a TTY) a line like pv / curl shows the file's
 * name, bytes done, percent, rate and the time left; it is redrawn in place
 * at most 10 times a second and ends with a newline when the file is done.
 * When stderr is not a terminal nothing is drawn; with -v one summary line
 * per file is printed instead ("sk: send: a.jpg: 3145728 bytes in 0.52 s,
 * 5.8 MiB/s"). -q prints nothing at all.
 */
#ifndef SK_CLI_PROGRESS_H
#define SK_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

/* Longest file name kept for the report, in bytes (longer ones are cut). */
#define SK_PROGRESS_NAME_MAX 256

typedef struct sk_progress {
    const char *cmd;               /* "send" / "get", for summary lines */
    bool tty;                      /* draw the live line */
    bool summary;                  /* print a summary line per file (-v, no TTY) */
    bool drawn;                    /* the live line is on the screen */
    char name[SK_PROGRESS_NAME_MAX];
    uint64_t total;                /* the file's size in bytes */
    uint64_t offset;               /* where this run started (resume) */
    uint64_t done;                 /* bytes of the file present so far */
    int64_t start_ns;              /* CLOCK_MONOTONIC at start */
    int64_t drawn_ns;              /* when the line was last drawn */
} sk_progress;

/* Set up the report for command cmd ("send", "get") from the -v / -q
 * options; looks whether stderr is a terminal. */
void sk_progress_init(sk_progress *p, const char *cmd, bool verbose, bool quiet);

/* A file starts: name, its size and the offset this run starts from. */
void sk_progress_start(sk_progress *p, const char *name, uint64_t total, uint64_t offset);

/* done bytes of the file are now present; redraws when 100 ms have passed. */
void sk_progress_update(sk_progress *p, uint64_t done);

/* The file is finished: ok draws the final state (or prints the summary
 * line); a failure only ends the live line so that an error message can
 * follow on a line of its own. */
void sk_progress_end(sk_progress *p, bool ok);

/* Format a byte count for people: "512 B", "1.5 KiB", "3.0 MiB", "1.2 GiB". */
void sk_progress_format_bytes(double bytes, char *buf, unsigned len);

#endif
