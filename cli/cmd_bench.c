/*
 * `lux bench TARGET`: runs one benchmark program from the table in
 * bench/benches.h and prints its JSON report.
 */
#include "benches.h"
#include "cli.h"
#include "suggest.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} bench_t;

static const bench_t benches[] = {
#define LUX_BENCH_ENTRY(name, id, summary) {name, lux_bench_##id, summary},
    LUX_BENCH_MAP(LUX_BENCH_ENTRY)
#undef LUX_BENCH_ENTRY
};
#define NBENCHES (sizeof benches / sizeof benches[0])

const char lux_cmd_bench_help[] =
    "usage: lux bench TARGET [options]\n\n"
    "Runs a benchmark program and prints its figures as JSON on stdout (medians\n"
    "of repeated runs, with the individual runs, the machine and the date).\n"
    "Run 'lux bench' without a target to list the targets.\n";

int lux_cmd_bench(int argc, char **argv)
{
    if (argc < 2) {
        printf("benchmark targets:\n");
        for (size_t i = 0; i < NBENCHES; i++)
            printf("  %-10s %s\n", benches[i].name, benches[i].summary);
        return LUX_EXIT_OK;
    }
    for (size_t i = 0; i < NBENCHES; i++)
        if (strcmp(benches[i].name, argv[1]) == 0)
            return benches[i].fn(argc - 1, argv + 1);
    const char *names[NBENCHES];
    for (size_t i = 0; i < NBENCHES; i++)
        names[i] = benches[i].name;
    const char *s = lux_suggest(argv[1], names, NBENCHES);
    if (s != NULL)
        return lux_cli_usage_error("bench", "unknown target '%s'; did you mean '%s'?", argv[1], s);
    return lux_cli_usage_error("bench", "unknown target '%s'", argv[1]);
}
