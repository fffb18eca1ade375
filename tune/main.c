/*
 * The lux executable's entry point. Everything it does is behind the command
 * table (commands.h); main() only hands over the arguments.
 */
#include "cli.h"

int main(int argc, char **argv)
{
    return lux_cli_main(argc, argv);
}
