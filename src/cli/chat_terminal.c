/* `sk chat` on a terminal (chat_terminal.h), with libedit's readline
 * interface in callback mode: poll() waits on stdin and the socket; a key
 * goes to rl_callback_read_char, a server line is printed above the input.
 *
 * Printing above the input: move the cursor to the start of the prompt
 * (up as many rows as the input has wrapped before the cursor), clear to
 * the end of the screen, print the lines, then have libedit redraw the
 * prompt, the line being typed and the cursor (rl_forced_update_display
 * redraws from the cursor's row). The edit buffer is untouched.
 */
#include "chat_terminal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>

#include "chat_lines.h"
#include "sockkit/error.h"

#define PROMPT "> "

typedef struct terminal {
    chat_client *s;
    bool closing;            /* Ctrl-D or /quit: waiting for the server to close */
    int64_t closing_end_ms;
    bool cleared;            /* the input line is cleared for printing above it */
    int error;               /* -errno that ends the session */
} terminal;

/* The readline callback takes no argument: the session it works for. */
static terminal *active;
/* Set by SIGINT / SIGTERM (poll then returns EINTR). */
static volatile sig_atomic_t interrupted;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int signum)
{
    (void)signum;
    interrupted = 1;
}

/* ---- printing above the input line ------------------------------------ */

static int terminal_columns(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* Columns taken by UTF-8 text: one per character (not per byte). */
static size_t text_columns(const char *text, size_t len)
{
    size_t cols = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            cols++;
    return cols;
}

/* Move to the start of the prompt and clear from there down. */
static void clear_input(terminal *t)
{
    if (t->cleared)
        return;
    size_t before = strlen(PROMPT);
    if (rl_line_buffer != NULL && rl_point > 0)
        before += text_columns(rl_line_buffer, (size_t)rl_point);
    size_t up = before / (size_t)terminal_columns();
    fputc('\r', stdout);
    if (up > 0)
        printf("\033[%zuA", up);
    fputs("\033[J", stdout);
    t->cleared = true;
}

/* Redraw the prompt and the input below what was printed. */
static void restore_input(terminal *t)
{
    if (!t->cleared)
        return;
    t->cleared = false;
    fflush(stdout);
    if (!t->closing)
        rl_forced_update_display();
}

/* Write a server line, with control characters (C0, DEL and C1; a server
 * could otherwise move the cursor or retitle the window) shown as '?'. */
static void print_sanitized(const char *line, size_t len)
{
    const unsigned char *p = (const unsigned char *)line;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c == 0xC2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F) {
            fputc('?', stdout); /* U+0080..U+009F */
            i++;
        } else if ((c < 0x20 && c != '\t') || c == 0x7F) {
            fputc('?', stdout);
        } else {
            fputc(c, stdout);
        }
    }
    fputs("\r\n", stdout);
}

static void print_server_line(const char *line, size_t len, void *arg)
{
    terminal *t = arg;
    clear_input(t);
    print_sanitized(line, len);
}

/* ---- the input line ------------------------------------------------------- */

static void begin_closing(terminal *t)
{
    t->closing = true;
    t->closing_end_ms = now_ms() + CHAT_LINGER_MS;
}

static void on_input_line(char *line)
{
    terminal *t = active;
    if (line == NULL) { /* Ctrl-D on an empty line */
        fputs("\r\n", stdout);
        begin_closing(t);
        return;
    }
    if (line[0] != '\0')
        add_history(line);
    int rc = chat_client_queue_line(t->s, line);
    if (rc < 0)
        t->error = rc;
    if (!strcmp(line, "/quit"))
        begin_closing(t);
    free(line);
    /* libedit leaves callback (character at a time) mode after a line */
    if (!t->closing)
        rl_callback_handler_install(PROMPT, on_input_line);
}

/* ---- the loop ----------------------------------------------------------- */

static int wait_timeout(const terminal *t)
{
    if (!t->closing)
        return -1;
    int64_t left = t->closing_end_ms - now_ms();
    return left > 0 ? (int)left : 0;
}

/* Read from the server and print its lines. Returns 1 when it closed. */
static int receive(terminal *t)
{
    int rc = chat_client_receive(t->s, print_server_line, t);
    if (rc == 1 && !t->closing) {
        clear_input(t);
        fputs("* the server closed the connection\r\n", stdout);
    }
    restore_input(t);
    return rc;
}

/* One wait and what follows. Returns 0 to go on, 1 when done, -errno. */
static int step(terminal *t)
{
    chat_client *s = t->s;
    struct pollfd fds[2] = {
        {.fd = t->closing ? -1 : STDIN_FILENO, .events = POLLIN},
        {.fd = s->fd, .events = (short)(POLLIN | (s->out_len > 0 ? POLLOUT : 0))},
    };
    int n = poll(fds, 2, wait_timeout(t));
    if (n < 0 && errno == EINTR)
        return interrupted ? 1 : 0;
    if (n < 0)
        return -errno;
    if (n == 0 && t->closing)
        return 1;
    if (fds[0].revents & POLLIN)
        rl_callback_read_char();
    else if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))
        return 1; /* the terminal went away */
    if (t->error < 0)
        return t->error;
    int rc = chat_client_flush(s);
    if (rc == 0 && t->closing)
        rc = chat_client_shutdown_write(s);
    if (rc == 0 && fds[1].revents & (POLLIN | POLLHUP | POLLERR))
        rc = receive(t);
    fflush(stdout);
    return rc;
}

static void catch_signals(struct sigaction *old_int, struct sigaction *old_term)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, old_int);
    sigaction(SIGTERM, &sa, old_term);
}

int chat_run_terminal(chat_client *s)
{
    terminal t = {.s = s};
    struct sigaction old_int, old_term;
    active = &t;
    interrupted = 0;
    catch_signals(&old_int, &old_term);
    rl_readline_name = "sk-chat";
    rl_callback_handler_install(PROMPT, on_input_line);
    fflush(stdout);
    int rc;
    do
        rc = step(&t);
    while (rc == 0);
    rl_callback_handler_remove();
    clear_input(&t);
    fflush(stdout);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    active = NULL;
    if (rc < 0) {
        fprintf(stderr, "sk: chat: connection lost: %s\n", sk_strerror(rc));
        return 1;
    }
    return 0;
}
