/*
 * Environment throughput: raw steps per second on one core for every
 * registered environment with uniformly random actions (episodes reset as
 * they end, resets included in the time), and the time to reset builders
 * (world generation and agent placement). Each figure is the median of
 * --repeats runs of about --seconds each.
 *
 * Rates are per second of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID):
 * on a shared machine the wall clock also counts the time other processes
 * hold the core, so it measures the load, not the environment. The wall-
 * clock rates are reported too (*_wall), for comparison.
 */
#include "bench.h"
#include "clock.h"
#include "cli.h"
#include "env.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* xorshift64*: cheap action draws, so the benchmark measures the
 * environment, not the action generator. */
static inline uint64_t next_random(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545f4914f6cdd1dULL;
}

/* Runs `env` for at least `seconds` of CPU time in chunks of steps; returns
 * steps per CPU second and sets *wall_rate to steps per wall second. */
static double run_steps(lux_env_t *env, double seconds, uint64_t seed, double *wall_rate)
{
    const lux_env_info_t *info = lux_env_info(env);
    const lux_env_space_t *as = &info->action;
    float obs[LUX_ENV_MAX_OBS];
    double reward, checksum = 0;
    int term, trunc;
    uint64_t x = seed * 2 + 1, episodes = 1;
    lux_env_reset(env, seed, obs);
    long steps = 0;
    const long chunk = 1 << 16;
    double t0 = lux_bench_now(), c0 = lux_clock_thread_cpu_s(), elapsed = 0;
    do {
        if (as->kind == LUX_ENV_SPACE_DISCRETE) {
            uint64_t n = (uint64_t)as->n;
            for (long i = 0; i < chunk; i++) {
                int a = (int)(((next_random(&x) >> 32) * n) >> 32);
                lux_env_step_discrete(env, a, obs, &reward, &term, &trunc);
                checksum += reward;
                if (term | trunc)
                    lux_env_reset(env, seed + episodes++, obs);
            }
        } else {
            double lo = as->low[0], w = as->high[0] - as->low[0];
            for (long i = 0; i < chunk; i++) {
                double a = lo + w * (double)(next_random(&x) >> 11) * 0x1.0p-53;
                lux_env_step_box(env, &a, obs, &reward, &term, &trunc);
                checksum += reward;
                if (term | trunc)
                    lux_env_reset(env, seed + episodes++, obs);
            }
        }
        steps += chunk;
        elapsed = lux_clock_thread_cpu_s() - c0;
    } while (elapsed < seconds);
    *wall_rate = (double)steps / (lux_bench_now() - t0);
    /* Keep the results observable so nothing is optimised away. */
    if (checksum == 12345.678)
        fprintf(stderr, "%g %g\n", checksum, (double)obs[0]);
    return (double)steps / elapsed;
}

int lux_bench_envs(int argc, char **argv)
{
    long repeats = 5;
    double seconds = 0.3;
    const char *only = NULL;
    const lux_opt_t opts[] = {
        {"--repeats", NULL, LUX_OPT_INT, &repeats},
        {"--seconds", NULL, LUX_OPT_DOUBLE, &seconds},
        {"--env", NULL, LUX_OPT_STRING, &only},
    };
    if (lux_cli_parse("bench envs", argc, argv, opts, 3, NULL, 0, NULL) != 0)
        return LUX_EXIT_USAGE;
    if (repeats < 1 || repeats > 100 || seconds <= 0 || seconds > 60)
        return lux_cli_usage_error("bench envs",
                                   "--repeats must be 1..100 and --seconds in (0, 60]");
    if (only != NULL && lux_env_registry_find(only) == NULL) {
        const char *s = lux_env_suggest(only);
        return lux_cli_usage_error("bench envs", "unknown environment '%s'%s%s%s", only,
                                   s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
    }
    json_t *report = lux_bench_report_new("envs");
    if (report == NULL)
        return LUX_EXIT_FAILURE;
    double runs[100], wall[100];
    char key[128];
    for (size_t i = 0; i < lux_env_registry_count(); i++) {
        const lux_env_info_t *info = lux_env_registry_get(i);
        if (only != NULL && strcmp(only, info->name) != 0)
            continue;
        lux_env_t *env = NULL;
        char err[256];
        if (lux_env_make(info->name, NULL, &env, err, sizeof err) != 0) {
            fprintf(stderr, "lux bench envs: %s\n", err);
            json_decref(report);
            return LUX_EXIT_FAILURE;
        }
        for (long r = 0; r < repeats; r++)
            runs[r] = run_steps(env, seconds, (uint64_t)r + 1, &wall[r]);
        const char *what = info->num_agents > 1 ? "agent_steps" : "steps";
        const char *unit = info->num_agents > 1 ? "agent-steps/s" : "steps/s";
        snprintf(key, sizeof key, "%s_%s_per_s", info->name, what);
        lux_bench_add_runs(report, key, runs, (size_t)repeats, unit);
        snprintf(key, sizeof key, "%s_%s_per_s_wall", info->name, what);
        lux_bench_add_runs(report, key, wall, (size_t)repeats, unit);
        if (strcmp(info->name, "builders") == 0) {
            /* Reset time: world generation and placement, fresh seeds. */
            for (long r = 0; r < repeats; r++) {
                const int n = 200;
                double c0 = lux_clock_thread_cpu_s();
                for (int k = 0; k < n; k++)
                    lux_env_reset(env, (uint64_t)(r * n + k), NULL);
                runs[r] = (lux_clock_thread_cpu_s() - c0) / n * 1e6;
            }
            lux_bench_add_runs(report, "builders_reset_us", runs, (size_t)repeats, "us");
        }
        lux_env_destroy(&env);
    }
    int rc = lux_bench_print(report);
    json_decref(report);
    return rc == 0 ? LUX_EXIT_OK : LUX_EXIT_FAILURE;
}
