/*
 * The lux executable's entry point. main() registers rl's trainables with
 * tune's registry (tune never names an algorithm), then either becomes a
 * runtime worker (this executable re-executed by its node: trial hosts need
 * the same registry) or runs the command line.
 */
#include "bench.h"
#include "cli.h"
#include "lux.h"
#include "plugin.h"
#include "trainables.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    lux_rl_register_trainables();
    lux_bench_register_trainables();
    /* A worker loads the plugins its driver loaded. */
    char err[4096];
    if (lux_trainable_plugin_load_env(err, sizeof err) != 0)
        for (char *line = err, *end; *line != '\0'; line = *end ? end + 1 : end) {
            end = line + strcspn(line, "\n");
            fprintf(stderr, "lux: %.*s\n", (int)(end - line), line);
        }
    int rc = lux_worker_main(argc, argv);
    if (rc >= 0)
        return rc;
    return lux_cli_main(argc, argv);
}
