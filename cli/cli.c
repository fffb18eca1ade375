/*
 * The lux command's dispatcher and option parser. Global options (-v, -q,
 * --verbose, --quiet) are taken out of argv wherever they stand before "--",
 * so every subcommand honours them without parsing them itself; --help and
 * -h anywhere print the subcommand's help.
 */
#include "cli.h"
#include "commands.h"

#include "error.h"
#include "log.h"
#include "suggest.h"

#include "lux_version.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
    const char *summary;
} command_t;

static const command_t commands[] = {
#define LUX_COMMAND_ENTRY(name, id, summary) {name, lux_cmd_##id, lux_cmd_##id##_help, summary},
    LUX_COMMAND_MAP(LUX_COMMAND_ENTRY)
#undef LUX_COMMAND_ENTRY
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

const char *lux_cli_version(void)
{
    static char text[96];
    if (text[0] == '\0') {
        if (LUX_GIT_COMMIT[0] != '\0')
            snprintf(text, sizeof text, "%s (git %s)", LUX_VERSION, LUX_GIT_COMMIT);
        else
            snprintf(text, sizeof text, "%s", LUX_VERSION);
    }
    return text;
}

int lux_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "lux %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'lux help %s')\n", cmd);
    return LUX_EXIT_USAGE;
}

static const command_t *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static const char *closest_command(const char *name)
{
    const char *names[NCOMMANDS];
    for (size_t i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i].name;
    return lux_suggest(name, names, NCOMMANDS);
}

static void print_overview(FILE *out)
{
    fprintf(out, "usage: lux [-v | -q] <command> [options]\n\n"
                 "Hyperparameter experiments over evolution-strategy and reinforcement-learning\n"
                 "trainables, with rollouts fanned out to a bundled task/actor runtime.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nglobal options:\n"
                 "  -v, --verbose  more output (repeat for more); LUX_LOG_LEVEL sets the start\n"
                 "  -q, --quiet    less output\n"
                 "  --version      print the version\n"
                 "  -h, --help     this help; 'lux help <command>' for one command\n");
}

static int unknown_command(const char *name)
{
    const char *s = closest_command(name);
    if (s != NULL)
        fprintf(stderr, "lux: unknown command '%s'; did you mean '%s'? (see 'lux --help')\n", name,
                s);
    else
        fprintf(stderr, "lux: unknown command '%s' (see 'lux --help')\n", name);
    return LUX_EXIT_USAGE;
}

const char lux_cmd_help_help[] = "usage: lux help [COMMAND]\n\n"
                                 "Without COMMAND, lists the commands; with it, prints that\n"
                                 "command's help (the same as 'lux COMMAND --help').\n";

int lux_cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stdout);
        return LUX_EXIT_OK;
    }
    if (argc > 2)
        return lux_cli_usage_error("help", "takes at most one command name");
    const command_t *c = find_command(argv[1]);
    if (c == NULL)
        return unknown_command(argv[1]);
    fputs(c->help, stdout);
    return LUX_EXIT_OK;
}

const char lux_cmd_version_help[] = "usage: lux version\n\n"
                                    "Prints lux's version and, when built from a git checkout,\n"
                                    "the commit it was built from (the same as 'lux --version').\n";

int lux_cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return lux_cli_usage_error("version", "takes no arguments");
    printf("lux %s\n", lux_cli_version());
    return LUX_EXIT_OK;
}

static const lux_opt_t *find_opt(const lux_opt_t *opts, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if ((strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) ||
            (opts[i].alias != NULL && strlen(opts[i].alias) == len &&
             strncmp(opts[i].alias, name, len) == 0))
            return &opts[i];
    }
    return NULL;
}

static int store_value(const char *cmd, const lux_opt_t *o, const char *value)
{
    char *end = NULL;
    switch (o->kind) {
    case LUX_OPT_STRING:
        *(const char **)o->out = value;
        return 0;
    case LUX_OPT_INT: {
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0') {
            lux_cli_usage_error(cmd, "%s expects an integer, got '%s'", o->name, value);
            return LUX_EUSAGE;
        }
        *(long *)o->out = v;
        return 0;
    }
    case LUX_OPT_DOUBLE: {
        errno = 0;
        double v = strtod(value, &end);
        if (errno != 0 || end == value || *end != '\0' || !isfinite(v)) {
            lux_cli_usage_error(cmd, "%s expects a number, got '%s'", o->name, value);
            return LUX_EUSAGE;
        }
        *(double *)o->out = v;
        return 0;
    }
    case LUX_OPT_FLAG:
        break;
    }
    return LUX_EINVAL;
}

int lux_cli_parse(const char *cmd, int argc, char **argv, const lux_opt_t *opts, size_t nopts,
                  char **positional, int max_positional, int *npositional)
{
    int npos = 0, only_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_positional && strcmp(arg, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (npos >= max_positional) {
                lux_cli_usage_error(cmd, "unexpected argument '%s'", arg);
                return LUX_EUSAGE;
            }
            positional[npos++] = argv[i];
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const lux_opt_t *o = find_opt(opts, nopts, arg, len);
        if (o == NULL) {
            const char *names[64];
            size_t k = 0;
            for (size_t j = 0; j < nopts && k < 64; j++)
                names[k++] = opts[j].name;
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(len < 120 ? len : 120), arg);
            const char *s = lux_suggest(name, names, k);
            if (s != NULL)
                lux_cli_usage_error(cmd, "unknown option '%s'; did you mean '%s'?", name, s);
            else
                lux_cli_usage_error(cmd, "unknown option '%s'", name);
            return LUX_EUSAGE;
        }
        if (o->kind == LUX_OPT_FLAG) {
            if (eq != NULL) {
                lux_cli_usage_error(cmd, "%s takes no value", o->name);
                return LUX_EUSAGE;
            }
            *(int *)o->out = 1;
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (value == NULL) {
            if (i + 1 >= argc) {
                lux_cli_usage_error(cmd, "%s needs a value", o->name);
                return LUX_EUSAGE;
            }
            value = argv[++i];
        }
        if (store_value(cmd, o, value) != 0)
            return LUX_EUSAGE;
    }
    if (npositional != NULL)
        *npositional = npos;
    return 0;
}

/* Removes -v/-q style options from argv (before "--"), adjusting the log
 * level; returns the new argc. */
static int take_verbosity(int argc, char **argv)
{
    int level = (int)lux_log_level(), out = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            for (; i < argc; i++)
                argv[out++] = argv[i];
            break;
        }
        if (strcmp(a, "--verbose") == 0) {
            level++;
        } else if (strcmp(a, "--quiet") == 0) {
            level--;
        } else if (a[0] == '-' && (a[1] == 'v' || a[1] == 'q') &&
                   strspn(a + 1, a[1] == 'v' ? "v" : "q") == strlen(a + 1)) {
            level += (a[1] == 'v' ? 1 : -1) * (int)strlen(a + 1);
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    lux_log_set_level(level);
    return out;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

static int dispatch(int argc, char **argv)
{
    argc = take_verbosity(argc, argv);
    if (argc < 2) {
        print_overview(stderr);
        return LUX_EXIT_USAGE;
    }
    const char *first = argv[1];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0) {
        print_overview(stdout);
        return LUX_EXIT_OK;
    }
    if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
        printf("lux %s\n", lux_cli_version());
        return LUX_EXIT_OK;
    }
    if (first[0] == '-') {
        static const char *const global[] = {"--help", "--version", "--verbose", "--quiet"};
        const char *s = lux_suggest(first, global, 4);
        if (s != NULL)
            fprintf(stderr, "lux: unknown option '%s'; did you mean '%s'? (see 'lux --help')\n",
                    first, s);
        else
            fprintf(stderr, "lux: unknown option '%s' (see 'lux --help')\n", first);
        return LUX_EXIT_USAGE;
    }
    const command_t *c = find_command(first);
    if (c == NULL)
        return unknown_command(first);
    if (wants_help(argc - 1, argv + 1)) {
        fputs(c->help, stdout);
        return LUX_EXIT_OK;
    }
    lux_log_set_prefix("lux");
    return c->fn(argc - 1, argv + 1);
}

/* Output that did not reach its destination (a full disk, /dev/full, a
 * closed descriptor) is a failure: stdio only reports it through fflush and
 * ferror, so every command's standard output is checked here, once, before
 * the exit code is chosen. */
static int finish_stdout(const char *cmd, int code)
{
    errno = 0;
    int bad = fflush(stdout) != 0;
    int err = errno;
    if (ferror(stdout))
        bad = 1;
    if (!bad)
        return code;
    fprintf(stderr,
            "lux%s%s: cannot write to standard output: %s; nothing or only part of the output "
            "was written (is the disk full, or the output closed?)\n",
            cmd != NULL ? " " : "", cmd != NULL ? cmd : "",
            err != 0 ? strerror(err) : "a write failed");
    return code == LUX_EXIT_OK ? LUX_EXIT_FAILURE : code;
}

int lux_cli_main(int argc, char **argv)
{
    int code = dispatch(argc, argv);
    /* take_verbosity() left the command's name, if any, in argv[1]. */
    const char *cmd = argc >= 2 && argv[1] != NULL && argv[1][0] != '-' ? argv[1] : NULL;
    return finish_stdout(cmd, code);
}
