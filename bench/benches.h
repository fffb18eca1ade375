/*
 * The one table of `lux bench` targets. Each entry names the target, the C
 * identifier of its function (int lux_bench_<id>(int argc, char **argv),
 * argv[0] the target's name; it prints one JSON document on stdout and
 * returns the exit code) and a one-line summary.
 *
 * To add a benchmark: write bench/bench_<id>.c and add one line here.
 */
#ifndef LUX_BENCHES_H
#define LUX_BENCHES_H

/* X(name, id, summary) */
#define LUX_BENCH_MAP(X)                                                                           \
    X("memcpy", memcpy, "memcpy bandwidth of this machine (the physical limit for put)")           \
    X("runtime", runtime, "task/actor runtime: figures of Ray's microbenchmark")                   \
    X("envs", envs, "environment steps/s with random actions, builders reset time")                \
    X("store", store, "experiment store: results/s in batches, trials/s, RSS")                     \
    X("rl", rl, "optimizer speed and correctness (CMA-ES, sep-CMA-ES); --part, --full")            \
    X("tune", tune, "tune bookkeeping: trials/s, results/s, driver RSS, Optuna beside us")

#define LUX_BENCH_DECL(name, id, summary) int lux_bench_##id(int argc, char **argv);
LUX_BENCH_MAP(LUX_BENCH_DECL)
#undef LUX_BENCH_DECL

#endif
