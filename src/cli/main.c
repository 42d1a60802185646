/* main.c - entry point of the `metrify` command: hands argv to the CLI dispatcher. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return mtr_cli_main(argc, argv);
}
