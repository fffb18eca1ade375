/*
 * Command-line helpers shared by every `lux` subcommand: the dispatcher that
 * main() calls, and an option parser that reports unknown options with the
 * closest valid name. Messages go to stderr as one line naming the command.
 */
#ifndef LUX_CLI_H
#define LUX_CLI_H

#include <stddef.h>

/* Exit codes of the lux command. */
enum { LUX_EXIT_OK = 0, LUX_EXIT_FAILURE = 1, LUX_EXIT_USAGE = 2 };

typedef enum {
    LUX_OPT_FLAG,   /* int *: set to 1 */
    LUX_OPT_STRING, /* const char **: points into argv */
    LUX_OPT_INT,    /* long *: decimal, whole string */
    LUX_OPT_DOUBLE, /* double *: whole string, finite */
} lux_opt_kind_t;

typedef struct {
    const char *name;  /* "--seed" */
    const char *alias; /* "-s", or NULL */
    lux_opt_kind_t kind;
    void *out;
} lux_opt_t;

/* Parses argv[1..argc-1] of command `cmd` against `opts` ("--name value" or
 * "--name=value"; "--" ends the options). Other words are stored in
 * positional[] (pointers into argv), at most max_positional of them.
 * Returns 0, or prints one line to stderr ("lux CMD: unknown option '--sede';
 * did you mean '--seed'?") and returns LUX_EUSAGE. */
int lux_cli_parse(const char *cmd, int argc, char **argv, const lux_opt_t *opts, size_t nopts,
                  char **positional, int max_positional, int *npositional);

/* Prints "lux CMD: <message>" to stderr and returns LUX_EXIT_USAGE. */
int lux_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Runs the lux command line; returns the process exit code. */
int lux_cli_main(int argc, char **argv);

/* The version string "0.1.0 (git abcdef123456)". Cannot fail. */
const char *lux_cli_version(void);

#endif
