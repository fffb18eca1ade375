/* Tests of the lux command's dispatch, run against the real binary. */
#include "test.h"

#include "cli.h"
#include "commands.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

LUX_TEST(version_names_version_and_commit)
{
    char *out, *err;
    LUX_CHECK_INT_EQ(lux_test_lux((const char *[]){"--version", NULL}, NULL, 20, &out, &err), 0);
    LUX_CHECK(strncmp(out, "lux 0.", 6) == 0);
    LUX_CHECK_CONTAINS(out, lux_cli_version());
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(lux_test_lux((const char *[]){"version", NULL}, NULL, 20, &out, &err), 0);
    LUX_CHECK(strncmp(out, "lux 0.", 6) == 0);
    free(out);
    free(err);
}

LUX_TEST(no_arguments_is_usage_error)
{
    char *out, *err;
    LUX_CHECK_INT_EQ(lux_test_lux((const char *[]){NULL}, NULL, 20, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "usage: lux");
    free(out);
    free(err);
}

LUX_TEST(unknown_command_suggests_closest)
{
    char *out, *err;
    LUX_CHECK_INT_EQ(lux_test_lux((const char *[]){"verison", NULL}, NULL, 20, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "unknown command 'verison'; did you mean 'version'?");
    LUX_CHECK(strchr(err, '\n') == err + strlen(err) - 1); /* one line */
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(lux_test_lux((const char *[]){"qqqqqqqqqq", NULL}, NULL, 20, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "unknown command 'qqqqqqqqqq'");
    free(out);
    free(err);
}

LUX_TEST(unknown_global_option_suggests_closest)
{
    char *out, *err;
    LUX_CHECK_INT_EQ(lux_test_lux((const char *[]){"--verion", NULL}, NULL, 20, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "unknown option '--verion'; did you mean '--version'?");
    free(out);
    free(err);
}

/* Every command in the table answers --help and `lux help CMD` with the same
 * text, on stdout, with exit code 0. */
LUX_TEST(help_for_every_command)
{
    static const char *const names[] = {
#define LUX_COMMAND_NAME(name, id, summary) name,
        LUX_COMMAND_MAP(LUX_COMMAND_NAME)
#undef LUX_COMMAND_NAME
    };
    char *out, *err;
    LUX_CHECK_INT_EQ(lux_test_lux((const char *[]){"--help", NULL}, NULL, 20, &out, &err), 0);
    char *overview = out;
    free(err);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        LUX_CHECK_CONTAINS(overview, names[i]);
        char *a, *b;
        LUX_CHECK_INT_EQ(
            lux_test_lux((const char *[]){names[i], "--help", NULL}, NULL, 20, &a, &err), 0);
        free(err);
        LUX_CHECK_INT_EQ(lux_test_lux((const char *[]){"help", names[i], NULL}, NULL, 20, &b, &err),
                         0);
        free(err);
        LUX_CHECK_CONTAINS(a, "usage: lux ");
        LUX_CHECK_STR_EQ(a, b);
        free(a);
        free(b);
    }
    free(overview);
    LUX_CHECK_INT_EQ(lux_test_lux((const char *[]){"help", "nosuch", NULL}, NULL, 20, &out, &err),
                     2);
    LUX_CHECK_CONTAINS(err, "unknown command 'nosuch'");
    free(out);
    free(err);
}

LUX_TEST(extra_arguments_are_usage_errors)
{
    char *out, *err;
    LUX_CHECK_INT_EQ(lux_test_lux((const char *[]){"version", "extra", NULL}, NULL, 20, &out, &err),
                     2);
    LUX_CHECK_CONTAINS(err, "lux version: takes no arguments");
    free(out);
    free(err);
}

LUX_TEST(log_level_environment_is_checked)
{
    const char *args[] = {"version", NULL};
    char *env[] = {"LUX_LOG_LEVEL=loud", NULL};
    char *out, *err;
    LUX_CHECK_INT_EQ(lux_test_lux(args, env, 20, &out, &err), 0);
    LUX_CHECK_CONTAINS(err, "LUX_LOG_LEVEL=loud is not a level");
    free(out);
    free(err);
    char *env2[] = {"LUX_LOG_LEVEL=debug", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(args, env2, 20, &out, &err), 0);
    LUX_CHECK_STR_EQ(err, "");
    free(out);
    free(err);
}

/* The in-process option parser: values, suggestions and errors. */
LUX_TEST(option_parser)
{
    long seed = 0;
    double lr = 0;
    const char *name = NULL;
    int resume = 0;
    const lux_opt_t opts[] = {
        {"--seed", "-s", LUX_OPT_INT, &seed},
        {"--lr", NULL, LUX_OPT_DOUBLE, &lr},
        {"--name", NULL, LUX_OPT_STRING, &name},
        {"--resume", NULL, LUX_OPT_FLAG, &resume},
    };
    char *pos[4];
    int npos = 0;
    char *argv1[] = {"run", "x.yaml",   "--seed=7", "--lr", "0.5", "--name",
                     "exp", "--resume", "--",       "-odd", NULL};
    LUX_CHECK_OK(lux_cli_parse("run", 10, argv1, opts, 4, pos, 4, &npos));
    LUX_CHECK_INT_EQ(seed, 7);
    LUX_CHECK_NEAR(lr, 0.5, 0);
    LUX_CHECK_STR_EQ(name, "exp");
    LUX_CHECK_INT_EQ(resume, 1);
    LUX_CHECK_INT_EQ(npos, 2);
    LUX_CHECK_STR_EQ(pos[0], "x.yaml");
    LUX_CHECK_STR_EQ(pos[1], "-odd");
    char *argv2[] = {"run", "--sede", "3", NULL};
    LUX_CHECK_ERR(lux_cli_parse("run", 3, argv2, opts, 4, pos, 4, &npos), LUX_EUSAGE);
    char *argv3[] = {"run", "--seed", "abc", NULL};
    LUX_CHECK_ERR(lux_cli_parse("run", 3, argv3, opts, 4, pos, 4, &npos), LUX_EUSAGE);
    char *argv4[] = {"run", "--seed", NULL};
    LUX_CHECK_ERR(lux_cli_parse("run", 2, argv4, opts, 4, pos, 4, &npos), LUX_EUSAGE);
    char *argv5[] = {"run", "a", "b", NULL};
    LUX_CHECK_ERR(lux_cli_parse("run", 3, argv5, opts, 4, pos, 1, &npos), LUX_EUSAGE);
    char *argv6[] = {"run", "--lr", "inf", NULL};
    LUX_CHECK_ERR(lux_cli_parse("run", 3, argv6, opts, 4, pos, 4, &npos), LUX_EUSAGE);
}
