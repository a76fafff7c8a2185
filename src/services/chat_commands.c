/* The chat commands: /nick /join /part /msg /me /who /rooms /help /quit
 * (docs/protocol.md, "Chat"). Each runs on its connection's thread with a
 * cleaned, NUL-terminated line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "chat_session.h"

typedef int (*command_fn)(sk_chat_session *s, char *args);

#define NAME_RULE "1-32 letters, digits, _ or -, not starting with -"

static const char *const help_lines[] = {
    "* commands:\n",
    "*   /nick NAME       change your nick (" NAME_RULE "; unique regardless of case)\n",
    "*   /join ROOM       leave your room and join ROOM (created if new; same rule, lower case)\n",
    "*   /part            leave your room\n",
    "*   /msg NICK TEXT   say TEXT to NICK alone\n",
    "*   /me TEXT         say TEXT as an action: * nick TEXT\n",
    "*   /who             list the people in your room\n",
    "*   /rooms           list the rooms and how many are in each\n",
    "*   /help            this list\n",
    "*   /quit            leave\n",
    "* any other line is said to your room; start it with // to say a line that begins with /\n",
};

/* Cut the first word off *args (NUL-terminated in place); returns it ("" if none). */
static char *next_word(char **args)
{
    char *p = *args;
    while (*p == ' ' || *p == '\t')
        p++;
    char *word = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (*p)
        *p++ = '\0';
    while (*p == ' ' || *p == '\t')
        p++;
    *args = p;
    return word;
}

/* At most max bytes of text, not cutting a UTF-8 sequence (for "%.*s"). */
static int cut(const char *text, size_t max)
{
    size_t n = strlen(text);
    if (n <= max)
        return (int)n;
    while (max > 0 && ((unsigned char)text[max] & 0xc0) == 0x80)
        max--;
    return (int)max;
}

static const char *my_nick(const sk_chat_session *s)
{
    return s->member.nick.name;
}

static int cmd_nick(sk_chat_session *s, char *args)
{
    const char *nick = next_word(&args);
    if (!*nick) {
        sk_chat_reply(s, "! usage: /nick NAME\n");
    } else if (!sk_chat_name_valid(nick, strlen(nick))) {
        sk_chat_reply(s, "! invalid nick \"%.*s\": " NAME_RULE "\n", cut(nick, 40), nick);
    } else if (!strcmp(nick, my_nick(s))) {
        sk_chat_reply(s, "! you are already %s\n", nick);
    } else {
        char notice[SK_CHAT_OUT_MAX];
        size_t n = sk_chat_stamped(notice, sizeof notice, "* %s is now known as %s\n",
                                   my_nick(s), nick);
        if (sk_chat_hub_rename(s->hub, &s->member, nick, notice, n) == -EEXIST)
            sk_chat_reply(s, "! nick \"%s\" is taken\n", nick);
    }
    return 0;
}

/* Leave the current room, if any, telling it and this client. */
static void part(sk_chat_session *s)
{
    const char *room = sk_chat_member_room(&s->member);
    if (!room)
        return;
    char notice[SK_CHAT_OUT_MAX];
    size_t n = sk_chat_stamped(notice, sizeof notice, "* %s left %s\n", my_nick(s), room);
    sk_chat_hub_part(s->hub, &s->member, notice, n, true);
}

static int cmd_join(sk_chat_session *s, char *args)
{
    char *room = next_word(&args);
    const char *current = sk_chat_member_room(&s->member);
    if (!*room) {
        sk_chat_reply(s, "! usage: /join ROOM\n");
        return 0;
    }
    if (!sk_chat_name_valid(room, strlen(room))) {
        sk_chat_reply(s, "! invalid room name \"%.*s\": " NAME_RULE "\n", cut(room, 40),
                      room);
        return 0;
    }
    sk_chat_name_fold(room);
    if (current && !strcmp(current, room)) {
        sk_chat_reply(s, "! you are already in %s\n", room);
        return 0;
    }
    part(s);
    char notice[SK_CHAT_OUT_MAX];
    size_t n = sk_chat_stamped(notice, sizeof notice, "* %s joined %s\n", my_nick(s), room);
    if (sk_chat_hub_join(s->hub, &s->member, room, notice, n, true) < 0)
        sk_chat_reply(s, "! cannot join %s: out of memory\n", room);
    return 0;
}

static int cmd_part(sk_chat_session *s, char *args)
{
    (void)args;
    if (!sk_chat_member_room(&s->member))
        sk_chat_reply(s, "! you are not in a room\n");
    part(s);
    return 0;
}

static int cmd_msg(sk_chat_session *s, char *args)
{
    const char *target = next_word(&args);
    if (!*target || !*args) {
        sk_chat_reply(s, "! usage: /msg NICK TEXT\n");
        return 0;
    }
    char line[SK_CHAT_OUT_MAX];
    size_t n = sk_chat_stamped(line, sizeof line, "<%s> (private) %s\n", my_nick(s), args);
    char canon[SK_CHAT_NAME_MAX + 1];
    if (!sk_chat_name_valid(target, strlen(target)) ||
        sk_chat_hub_tell(s->hub, &s->member, target, line, n, canon) < 0) {
        sk_chat_reply(s, "! no such nick: %.*s\n", cut(target, 40), target);
        return 0;
    }
    n = sk_chat_stamped(line, sizeof line, "-> %s: %s\n", canon, args);
    sk_chat_mailbox_post(&s->member.mailbox, line, n);
    return 0;
}

static int cmd_me(sk_chat_session *s, char *args)
{
    if (!*args) {
        sk_chat_reply(s, "! usage: /me TEXT\n");
    } else if (!sk_chat_member_room(&s->member)) {
        sk_chat_reply(s, "! you are not in a room (/join ROOM)\n");
    } else {
        char line[SK_CHAT_OUT_MAX];
        size_t n = sk_chat_stamped(line, sizeof line, "* %s %s\n", my_nick(s), args);
        sk_chat_hub_say(&s->member, line, n);
    }
    return 0;
}

static int cmd_who(sk_chat_session *s, char *args)
{
    (void)args;
    char list[SK_CHAT_LIST_MAX];
    size_t n = sk_chat_hub_who(&s->member, list, sizeof list);
    if (n == 0)
        sk_chat_reply(s, "! you are not in a room (/join ROOM)\n");
    else
        sk_chat_mailbox_post(&s->member.mailbox, list, n);
    return 0;
}

static int cmd_rooms(sk_chat_session *s, char *args)
{
    (void)args;
    char list[SK_CHAT_LIST_MAX];
    size_t n = sk_chat_hub_rooms(s->hub, list, sizeof list);
    sk_chat_mailbox_post(&s->member.mailbox, list, n);
    return 0;
}

static int cmd_help(sk_chat_session *s, char *args)
{
    (void)args;
    for (size_t i = 0; i < sizeof help_lines / sizeof help_lines[0]; i++)
        sk_chat_mailbox_post(&s->member.mailbox, help_lines[i], strlen(help_lines[i]));
    return 0;
}

/* "* bye", leave (others see "left"), write it all, close. */
static int cmd_quit(sk_chat_session *s, char *args)
{
    (void)args;
    sk_chat_reply(s, "* bye\n");
    sk_chat_session_end(s, false);
    sk_chat_session_flush(s);
    sk_conn_close(s->conn);
    return SK_CHAT_STOP;
}

static const struct {
    const char *name;
    command_fn run;
} commands[] = {
    {"nick", cmd_nick}, {"join", cmd_join}, {"part", cmd_part},   {"msg", cmd_msg},
    {"me", cmd_me},     {"who", cmd_who},   {"rooms", cmd_rooms}, {"help", cmd_help},
    {"quit", cmd_quit},
};

/* The length of the command word after the '/'. */
static size_t word_length(const char *text)
{
    size_t n = 0;
    while (text[1 + n] && text[1 + n] != ' ' && text[1 + n] != '\t')
        n++;
    return n;
}

bool sk_chat_is_quit(const char *text, size_t len)
{
    (void)len;
    return text[0] == '/' && word_length(text) == 4 && !strncasecmp(text + 1, "quit", 4);
}

int sk_chat_command(sk_chat_session *s, char *text, size_t len)
{
    (void)len;
    size_t n = word_length(text);
    char *args = text + 1 + n;
    while (*args == ' ' || *args == '\t')
        args++;
    /* trailing blanks are not part of any argument */
    char *end = args + strlen(args);
    while (end > args && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strlen(commands[i].name) == n && !strncasecmp(text + 1, commands[i].name, n))
            return commands[i].run(s, args);
    char name[40];
    snprintf(name, sizeof name, "%.*s", (int)n, text + 1);
    sk_chat_reply(s, "! unknown command /%.*s (try /help)\n", cut(name, 32), name);
    return 0;
}
