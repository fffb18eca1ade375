/*
 * The one table of `lux` subcommands. Each entry names the command, the C
 * identifier of its handler (int lux_cmd_<id>(int argc, char **argv), with
 * argv[0] the command's name) and its help text (const char
 * lux_cmd_<id>_help[], printed by `lux help CMD` and `lux CMD --help`), and a
 * one-line summary for `lux --help`. Handlers return the process exit code:
 * 0 success, 1 failure, 2 bad usage or bad input.
 *
 * To add a command: write its handler and help text in its own file and add
 * one line here.
 */
#ifndef LUX_COMMANDS_H
#define LUX_COMMANDS_H

/* X(name, id, summary) */
#define LUX_COMMAND_MAP(X)                                                                         \
    X("help", help, "show help for lux or for one command")                                        \
    X("version", version, "print the version and the git commit")                                  \
    X("run", run, "run or resume an experiment from a YAML file")                                  \
    X("start", start, "start a runtime node as a daemon that drivers share")                       \
    X("stop", stop, "stop the runtime node started by lux start")                                  \
    X("cluster", cluster, "show the runtime node: resources, workers, tasks, objects")             \
    X("bench", bench, "run a benchmark and print its figures as JSON")                             \
    X("train", train, "train one trainable on one environment, like rllib train")                  \
    X("rollout", rollout, "evaluate the policy saved in a checkpoint")                             \
    X("envs", envs, "list the environments: spaces, agents, time limits, reward thresholds")       \
    X("env-trace", env_trace, "print an environment trajectory for a seed, state and actions")     \
    X("status", status, "show the trials of an experiment, while it runs or after")                \
    X("best", best, "print the best trial of an experiment by a metric")                           \
    X("export", export, "export an experiment's results as CSV")                                   \
    X("plot", plot, "draw an experiment's trials with gnuplot into DIR/plots/index.html")          \
    X("optimize", optimize, "run CMA-ES or sep-CMA-ES on a test function (checks vs references)")

#define LUX_COMMAND_DECL(name, id, summary)                                                        \
    int lux_cmd_##id(int argc, char **argv);                                                       \
    extern const char lux_cmd_##id##_help[];
LUX_COMMAND_MAP(LUX_COMMAND_DECL)
#undef LUX_COMMAND_DECL

#endif
