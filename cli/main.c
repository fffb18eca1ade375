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

int main(int argc, char **argv)
{
    lux_rl_register_trainables();
    lux_bench_register_trainables();
    /* A worker loads the plugins its driver loaded. */
    lux_trainable_plugin_load_env();
    int rc = lux_worker_main(argc, argv);
    if (rc >= 0)
        return rc;
    return lux_cli_main(argc, argv);
}
