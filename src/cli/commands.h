/* The sk subcommands. Each takes the arguments after its name (argv[0] is
 * the subcommand name) and returns the process exit status:
 * 0 success, 1 runtime failure, 2 usage error. */
#ifndef SK_CLI_COMMANDS_H
#define SK_CLI_COMMANDS_H

int sk_cmd_serve(int argc, char **argv);
int sk_cmd_connect(int argc, char **argv);
int sk_cmd_listen(int argc, char **argv);
int sk_cmd_bench(int argc, char **argv);
int sk_cmd_send(int argc, char **argv);
int sk_cmd_get(int argc, char **argv);
int sk_cmd_ls(int argc, char **argv);
int sk_cmd_chat(int argc, char **argv);
int sk_cmd_exec(int argc, char **argv);

#endif
