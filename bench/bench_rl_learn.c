/*
 * `lux bench rl --part learn`: the rl trainables' figures.
 *
 *   learning   per (environment, trainable): train until the trainable's own
 *              episode_reward_mean reaches the environment's threshold or the
 *              step budget is spent, then evaluate the final policy on 100
 *              fresh episodes; report the evaluation mean, the training env
 *              steps and the wall seconds (rollouts on 2 runtime workers),
 *              medians over seeds (1 seed by default, 5 with --full; the
 *              default run covers CartPole only, --full every task).
 *   speed      policy forward passes per second for an MLP 4-64-64-2 at
 *              batch 1 and 256; env steps per second of a full rollout
 *              task on one core (in-process, and as a runtime task
 *              including its overhead); the parallel efficiency of a
 *              population's rollouts on 2 workers versus 1.
 *
 * LUX_BENCH_RL_LEARN_ONLY=SUBSTRING runs only the learning tasks whose
 * "env/trainable" contains SUBSTRING (and skips the speed figures).
 */
#include "bench.h"
#include "clock.h"

#include "lux.h"
#include "policy.h"
#include "seeding.h"
#include "trainables.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int lux_bench_rl_part_learn(json_t *report, int full);
/* OpenBLAS's thread control (declared here to keep cblas.h's variants out).
 * A rollout worker is one process per core, so BLAS threads would only
 * oversubscribe; the policy figures are measured single-threaded. */
void openblas_set_num_threads(int n);
int lux_bench_rl_learning(json_t *report, int argc, char **argv);

typedef struct {
    const char *env;
    const char *trainable;
    const char *config; /* JSON without "env" */
    double threshold;
    long budget; /* training env steps */
    int in_default_run;
} task_t;

/* Configs: each trainable's defaults plus what the task needs; documented in
 * docs/trainables.md. */
static const task_t tasks[] = {
    {"CartPole-v1", "cmaes", "{\"candidates_per_task\": 4}", 475, 1000000, 1},
    {"CartPole-v1", "sepcmaes", "{\"candidates_per_task\": 4}", 475, 1000000, 1},
    {"CartPole-v1", "es", "{}", 475, 5000000, 1},
    {"CartPole-v1", "a3c", "{}", 475, 1000000, 1},
    {"Acrobot-v1", "sepcmaes", "{\"candidates_per_task\": 4, \"episodes_per_eval\": 5}", -100,
     5000000, 0},
    {"Acrobot-v1", "es", "{}", -100, 5000000, 0},
    {"MountainCarContinuous-v0", "sepcmaes", "{\"candidates_per_task\": 4}", 90, 5000000, 0},
    {"MountainCarContinuous-v0", "es",
     "{\"noise_stdev\": 0.3, \"observation_filter\": \"NoFilter\"}", 90, 5000000, 0},
    {"Pendulum-v1", "cmaes",
     "{\"candidates_per_task\": 4, \"popsize\": 16, \"episodes_per_eval\": 16, \"sigma0\": 1.0, "
     "\"fcnet_hiddens\": [8]}",
     -250, 5000000, 0},
};
#define NTASKS (sizeof tasks / sizeof tasks[0])

typedef struct {
    double eval_mean, steps, seconds;
    int reached, confirmations;
} learn_result_t;

/* Mean return of the instance's policy over 100 episodes of a seed set. */
static int evaluate100(const lux_trainable_class_t *cls, void *st, uint64_t seed, uint64_t set,
                       double *mean)
{
    double sum = 0;
    for (int e = 0; e < 100; e++) {
        double r;
        long len;
        int rc =
            lux_rl_evaluate_episode(cls, st, lux_seed_derive(seed, set, 0, (uint64_t)e), &r, &len);
        if (rc != 0)
            return rc;
        sum += r;
    }
    *mean = sum / 100.0;
    return 0;
}

static int learn_once(const task_t *t, uint64_t seed, int workers, learn_result_t *out)
{
    const lux_trainable_class_t *cls = lux_trainable_find(t->trainable);
    json_error_t je;
    json_t *config = json_loads(t->config, 0, &je);
    if (cls == NULL || config == NULL)
        return LUX_EINVAL;
    json_object_set_new(config, "env", json_string(t->env));
    lux_trial_context_t ctx = {.trial_id = "bench", .seed = seed, .num_rollout_workers = workers};
    char err[512] = "";
    void *st = NULL;
    double t0 = lux_bench_now();
    int rc = cls->setup(config, &ctx, &st, err, sizeof err);
    memset(out, 0, sizeof *out);
    while (rc == 0) {
        json_t *res = NULL;
        rc = cls->step(st, &res, err, sizeof err);
        if (rc != 0)
            break;
        double m = json_number_value(json_object_get(res, "episode_reward_mean"));
        out->steps = (double)json_integer_value(json_object_get(res, "timesteps_total"));
        json_decref(res);
        /* The trainable's own figure is a quick signal (10 episodes, or a
         * window); confirm it on 100 episodes of a separate seed set before
         * stopping, so the final evaluation below stays unbiased. */
        if (m >= t->threshold) {
            double confirm;
            rc = evaluate100(cls, st, seed, 0xc0f, &confirm);
            out->confirmations++;
            if (rc == 0 && confirm >= t->threshold) {
                out->reached = 1;
                break;
            }
        }
        if (out->steps >= (double)t->budget)
            break;
    }
    out->seconds = lux_bench_now() - t0;
    if (rc == 0)
        rc = evaluate100(cls, st, seed, 0xbe9c, &out->eval_mean);
    if (rc != 0)
        fprintf(stderr, "lux bench rl: %s on %s: %s\n", t->trainable, t->env,
                err[0] ? err : lux_strerror(rc));
    if (st != NULL)
        cls->cleanup(st);
    json_decref(config);
    return rc;
}

static int learning(json_t *report, int full)
{
    int seeds = full ? 5 : 1;
    json_t *learn = json_object();
    json_object_set_new(json_object_get(report, "results"), "learning", learn);
    for (size_t i = 0; i < NTASKS; i++) {
        const task_t *t = &tasks[i];
        char key[128];
        snprintf(key, sizeof key, "%s/%s", t->env, t->trainable);
        const char *only = getenv("LUX_BENCH_RL_LEARN_ONLY");
        if (only != NULL ? strstr(key, only) == NULL : !full && !t->in_default_run)
            continue;
        double ev[5], steps[5], secs[5];
        int conf[5], hit[5];
        int reached = 0;
        for (int s = 0; s < seeds; s++) {
            learn_result_t r;
            int rc = learn_once(t, (uint64_t)s + 1, 2, &r);
            if (rc != 0)
                return rc;
            ev[s] = r.eval_mean;
            steps[s] = r.steps;
            secs[s] = r.seconds;
            reached += r.reached;
            conf[s] = r.confirmations;
            hit[s] = r.reached;
            fprintf(stderr, "lux bench rl: %s %s seed %d: eval %.1f, %.0f steps, %.1f s\n", t->env,
                    t->trainable, s + 1, r.eval_mean, r.steps, r.seconds);
        }
        json_t *o = json_object();
        json_t *runs = json_array();
        for (int s = 0; s < seeds; s++)
            json_array_append_new(runs, json_pack("{s:f, s:f, s:f, s:b, s:i}", "eval_reward_mean",
                                                  ev[s], "timesteps", steps[s], "seconds", secs[s],
                                                  "reached", hit[s], "confirmations", conf[s]));
        json_object_set_new(o, "eval_reward_mean_median", json_real(lux_bench_median(ev, seeds)));
        json_object_set_new(o, "timesteps_median", json_real(lux_bench_median(steps, seeds)));
        json_object_set_new(o, "seconds_median", json_real(lux_bench_median(secs, seeds)));
        json_object_set_new(o, "threshold", json_real(t->threshold));
        json_object_set_new(o, "budget_timesteps", json_integer(t->budget));
        json_object_set_new(o, "seeds_reaching_threshold", json_integer(reached));
        json_object_set_new(o, "stop_rule",
                            json_string("trainable's episode_reward_mean >= threshold, confirmed "
                                        "on 100 episodes of another seed set"));
        json_object_set_new(o, "config", json_string(t->config));
        json_object_set_new(o, "runs", runs);
        json_object_set_new(learn, key, o);
    }
    return 0;
}

static void policy_speed(json_t *report, int full)
{
    /* tanh is the figure asked for; relu shows what the activation costs
     * (libm's tanh dominates a 64-unit layer). */
    for (int act = 0; act < 2; act++) {
        lux_policy_spec_t s = {.obs_dim = 4,
                               .num_hidden = 2,
                               .hidden = {64, 64},
                               .action_dim = 2,
                               .activation = act ? LUX_ACTIVATION_RELU : LUX_ACTIVATION_TANH};
        lux_policy_t *p = lux_policy_new(&s);
        lux_rng_t rng;
        lux_rng_seed(&rng, 1);
        lux_policy_init_params(p, &rng);
        double obs[256 * 4];
        for (int i = 0; i < 256 * 4; i++)
            obs[i] = lux_rng_normal(&rng);
        int reps = full ? 7 : 3;
        const int batches[2] = {1, 256};
        for (int b = 0; b < 2; b++) {
            double runs[7];
            for (int r = 0; r < reps; r++) {
                long calls = 0;
                double t0 = lux_clock_process_cpu_s(), t;
                do {
                    for (int k = 0; k < 200; k++) {
                        const double *y;
                        lux_policy_forward(p, obs, batches[b], &y);
                    }
                    calls += 200;
                    t = lux_clock_process_cpu_s() - t0;
                } while (t < 0.3);
                runs[r] = (double)calls * batches[b] / t;
            }
            char key[96];
            snprintf(key, sizeof key, "policy_forward_per_s_mlp_4_64_64_2%s_batch_%d",
                     act ? "_relu" : "", batches[b]);
            lux_bench_add_runs(report, key, runs, (size_t)reps, "observations per CPU second");
        }
        lux_policy_destroy(&p);
    }
}

/* A population evaluation: sepcmaes steps on Pendulum (every episode is 200
 * steps, so the work is the same for every candidate), timed. */
static int population_steps_per_s(int workers, int iters, double *out)
{
    const lux_trainable_class_t *cls = &lux_rl_sepcmaes_trainable;
    json_t *c = json_pack("{s:s, s:[i,i], s:i, s:i, s:i, s:i, s:i}", "env", "Pendulum-v1",
                          "fcnet_hiddens", 64, 64, "popsize", 16, "episodes_per_eval", 5,
                          "eval_episodes", 0, "num_workers", workers, "candidates_per_task", 2);
    lux_trial_context_t ctx = {.trial_id = "bench", .seed = 1};
    char err[256] = "";
    void *st = NULL;
    int rc = cls->setup(c, &ctx, &st, err, sizeof err);
    /* In-process runs are timed in CPU time (one core's figure), runtime
     * runs in wall time (what parallelism buys). */
    double (*clock_fn)(void) = workers == 0 ? lux_clock_process_cpu_s : lux_bench_now;
    double t0 = clock_fn(), steps = 0;
    for (int i = 0; rc == 0 && i < iters; i++) {
        json_t *res = NULL;
        rc = cls->step(st, &res, err, sizeof err);
        if (rc == 0)
            steps = (double)json_integer_value(json_object_get(res, "timesteps_total"));
        json_decref(res);
    }
    *out = steps / (clock_fn() - t0);
    if (rc != 0)
        fprintf(stderr, "lux bench rl: population: %s\n", err);
    if (st != NULL)
        cls->cleanup(st);
    json_decref(c);
    return rc;
}

static int start_runtime(double cpus)
{
    lux_init_opts_t o = {0};
    o.num_cpus = cpus;
    o.num_prestart = 0;
    return lux_init(&o);
}

static int rollout_speed(json_t *report, int full)
{
    int reps = full ? 5 : 3;
    double inproc[5], task1[5], task2[5];
    /* In-process: the one-core figure of a rollout loop. */
    for (int r = 0; r < reps; r++)
        if (population_steps_per_s(0, 3, &inproc[r]) != 0)
            return LUX_EINVAL;
    lux_bench_add_runs(report, "rollout_env_steps_per_s_one_core_in_process", inproc, (size_t)reps,
                       "steps/s (Pendulum, MLP 3-64-64-1)");
    int rc = start_runtime(1);
    if (rc != 0)
        return rc;
    population_steps_per_s(1, 1, &task1[0]); /* warm the worker */
    for (int r = 0; r < reps && rc == 0; r++)
        rc = population_steps_per_s(1, 3, &task1[r]);
    lux_shutdown();
    if (rc != 0)
        return rc;
    rc = start_runtime(2);
    if (rc != 0)
        return rc;
    population_steps_per_s(2, 1, &task2[0]);
    for (int r = 0; r < reps && rc == 0; r++)
        rc = population_steps_per_s(2, 3, &task2[r]);
    lux_shutdown();
    if (rc != 0)
        return rc;
    lux_bench_add_runs(report, "rollout_env_steps_per_s_one_worker_tasks", task1, (size_t)reps,
                       "steps/s (Pendulum, MLP 3-64-64-1, 2 candidates x 5 episodes per task)");
    lux_bench_add_runs(report, "rollout_env_steps_per_s_two_workers_tasks", task2, (size_t)reps,
                       "steps/s");
    double m1 = lux_bench_median(task1, (size_t)reps), m2 = lux_bench_median(task2, (size_t)reps);
    lux_bench_add_value(report, "parallel_efficiency_2_workers_vs_1", m2 / (2.0 * m1));
    return 0;
}

int lux_bench_rl_part_learn(json_t *report, int full)
{
    lux_rl_register_trainables();
    openblas_set_num_threads(1);
    lux_bench_add_value(report, "openblas_threads", 1);
    int rc = 0;
    if (getenv("LUX_BENCH_RL_LEARN_ONLY") == NULL) {
        policy_speed(report, full);
        rc = rollout_speed(report, full);
        if (rc != 0)
            return rc;
    }
    rc = start_runtime(0);
    if (rc != 0)
        return rc;
    rc = learning(report, full);
    lux_shutdown();
    return rc;
}

int lux_bench_rl_learning(json_t *report, int argc, char **argv)
{
    int full = 0;
    for (int i = 1; i < argc; i++)
        full |= strcmp(argv[i], "--full") == 0;
    return lux_bench_rl_part_learn(report, full);
}
