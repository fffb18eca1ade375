/*
 * Fuzz target: `lux env-trace`'s argument parsing and validation.
 *
 * The parser (options, --seed, --state, --actions, --options) is not a
 * function of its own: it is the first half of lux_cmd_env_trace() in
 * cli/cmd_env_trace.c. So the target calls the command itself, in process,
 * exactly as `lux env-trace ARGS...` would, with its standard output sent to
 * /dev/null; every input that passes validation also plays its trace (the
 * environment code behind it is fuzzed too). The command must return one of
 * its exit codes (0 ok, 1 failure, 2 usage) and never crash.
 *
 * The input is the argument list, one argument per line (newline-separated;
 * a final newline is optional), at most 64 arguments. Example:
 *
 *     CartPole-v1
 *     --seed
 *     3
 *     --actions=1,0,1
 *
 * Seeds: tests/fuzz/corpus/fuzz_env_trace (every environment, every
 * option, and invalid forms).
 */
#include "cli.h"
#include "commands.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The trace goes nowhere; libFuzzer reports on stderr. */
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
        abort();
    close(fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Arguments are NUL-terminated strings: copy, then split at newlines. */
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "env-trace";
    char *p = buf;
    while (argc <= MAX_ARGS && p < buf + size) {
        char *nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        argv[argc++] = p;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    argv[argc] = NULL;
    int status = lux_cmd_env_trace(argc, argv);
    fflush(stdout);
    free(buf);
    if (status != LUX_EXIT_OK && status != LUX_EXIT_FAILURE && status != LUX_EXIT_USAGE) {
        fprintf(stderr, "fuzz_env_trace: exit status %d\n", status);
        abort();
    }
    return 0;
}
