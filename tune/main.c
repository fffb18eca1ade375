/*
 * The lux executable's entry point. Everything it does is behind the command
 * table (commands.h); main() only hands over the arguments.
 */
#include "cli.h"
#include "lux.h"

int main(int argc, char **argv)
{
    /* A worker of the runtime is this executable re-executed by its node. */
    int rc = lux_worker_main(argc, argv);
    if (rc >= 0)
        return rc;
    return lux_cli_main(argc, argv);
}
