/*
 * `lux bench rl --part builders_policy_rollout` and `--part mlp_policy_rollout`:
 * what the batched float32 policies (rl/vecmath.h, lux_rollout_batch_t) buy
 * over the double reference path, measured in the same process so the
 * ratios hold however loaded the machine is.
 *
 *   builders_policy_rollout  the study's policy (h1 20, h2 10, memory; 1,128
 *       parameters) on the default builders world (radius 33, 10,000 ticks):
 *       the bare world's agent-steps per CPU second (uniform random actions),
 *       the policy's cost per agent-step (the double reference, the float32
 *       batch at 1-256 rows, and the forward pass alone through OpenBLAS
 *       sgemm for comparison), and whole rollouts in episodes and
 *       agent-steps per CPU second, old path versus lockstep batches, for an
 *       untrained candidate (N(0, 1) parameters: a first-generation sample of
 *       CMA-ES at mean 0, sigma 1) and a fixed random vector of scale 3
 *       (saturated logits, nearly deterministic actions, other episode
 *       lengths: a stand-in for a trained policy, which we cannot afford to
 *       train inside a benchmark). Bounds: the bare world's cost per step,
 *       and the policy's 1,080 multiply-adds at 16 per cycle.
 *   mlp_policy_rollout  CartPole-v1, Acrobot-v1 and Pendulum-v1 with the
 *       cmaes trainable's default policy (one hidden layer of 16, tanh,
 *       argmax / deterministic heads): env steps per CPU second of whole
 *       rollouts, old path versus lockstep batches of 16.
 *
 * Every time is this thread's CPU time (lux_clock_thread_cpu_s); OpenBLAS
 * runs single-threaded. Medians of repeats (3, --full 7).
 */
#include "bench.h"
#include "clock.h"

#include "builders_policy.h"
#include "env.h"
#include "policy.h"
#include "rollout.h"
#include "seeding.h"

#include "alloc.h"
#include "error.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lux_bench_rl_part_builders_policy_rollout(json_t *report, int full);
int lux_bench_rl_part_mlp_policy_rollout(json_t *report, int full);
/* OpenBLAS's thread control (declared here to keep cblas.h's variants out
 * of the other bench files): the sgemm comparison runs single-threaded. */
void openblas_set_num_threads(int n);

#define MAX_REPEATS              8
#define REC_ROWS                 4096
#define ISSUE_EPISODES_PER_CPU_S 32.0 /* the issue's figure for the old path */
#define ISSUE_POLICY_NS          900.0

/* The nominal clock of the first CPU in GHz (0 when unknown). */
static double cpu_ghz(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    double mhz = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "cpu MHz", 7) == 0) {
            const char *c = strchr(line, ':');
            mhz = c != NULL ? atof(c + 1) : 0;
            break;
        }
    if (f != NULL)
        fclose(f);
    return mhz / 1000.0;
}

static void random_vector(double *x, size_t n, uint64_t seed, double scale)
{
    lux_rng_t rng;
    lux_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = scale * lux_rng_normal(&rng);
}

/* ---- builders ---------------------------------------------------------------------------- */

/* Agent-steps per CPU second of the bare world with uniform random actions
 * (one episode). */
static double bare_world(lux_env_t *env, uint64_t seed, long *steps_out)
{
    lux_rng_t rng;
    lux_rng_seed(&rng, seed);
    float obs[LUX_ENV_MAX_OBS];
    long steps = 0;
    double c0 = lux_clock_thread_cpu_s();
    lux_env_reset(env, seed, obs);
    for (;;) {
        double a = (double)lux_rng_below(&rng, 10), r;
        int term, trunc;
        if (lux_env_step(env, &a, obs, &r, &term, &trunc) != 0)
            return NAN;
        steps++;
        if (term || trunc)
            break;
    }
    *steps_out = steps;
    return (double)steps / (lux_clock_thread_cpu_s() - c0);
}

/* Observations of a real episode, to feed the policy microbenchmarks. */
typedef struct {
    float cells[REC_ROWS * LUX_BPOLICY_CELL_INPUTS];
    int agent[REC_ROWS];
    int n;
} recording_t;

static void record(lux_env_t *env, lux_builders_policy_t *bp, recording_t *rec)
{
    lux_rng_t rng;
    lux_rng_seed(&rng, 99);
    float obs[LUX_ENV_MAX_OBS];
    lux_env_reset(env, 99, obs);
    lux_builders_policy_begin(bp, lux_env_num_agents(env), &rng);
    rec->n = 0;
    while (rec->n < REC_ROWS) {
        int agent = lux_env_current_agent(env);
        memcpy(rec->cells + (size_t)rec->n * LUX_BPOLICY_CELL_INPUTS, obs,
               LUX_BPOLICY_CELL_INPUTS * sizeof(float));
        rec->agent[rec->n++] = agent;
        double a = lux_builders_policy_act(bp, agent, obs, &rng), r;
        int term, trunc;
        if (lux_env_step(env, &a, obs, &r, &term, &trunc) != 0 || term || trunc)
            break;
    }
}

/* ns per decision of the double reference over the recording. */
static double policy_old_ns(lux_builders_policy_t *bp, const recording_t *rec, long calls)
{
    lux_rng_t rng;
    lux_rng_seed(&rng, 5);
    lux_builders_policy_begin(bp, 5, &rng);
    volatile int sink = 0;
    double c0 = lux_clock_thread_cpu_s();
    for (long k = 0; k < calls; k++) {
        int j = (int)(k % rec->n);
        sink += lux_builders_policy_act(bp, rec->agent[j],
                                        rec->cells + (size_t)j * LUX_BPOLICY_CELL_INPUTS, &rng);
    }
    (void)sink;
    return (lux_clock_thread_cpu_s() - c0) * 1e9 / (double)calls;
}

/* ns per row of the float32 batch with `batch` (<= REC_ROWS) rows per
 * call; call k reads the recorded rows from (k * batch) mod (n - batch), so
 * the observations change every call as in a rollout. */
static double policy_new_ns(const lux_builders_policy_t *bp, const double *params,
                            const recording_t *rec, int batch, long rows_total)
{
    lux_builders_batch_t *b = lux_builders_batch_new(bp, batch, 5);
    int *episode = malloc((size_t)batch * sizeof *episode);
    int *actions = malloc((size_t)batch * sizeof *actions);
    lux_rng_t *rng = malloc((size_t)batch * sizeof *rng);
    lux_rng_t **rp = malloc((size_t)batch * sizeof *rp);
    double ns = NAN;
    if (b != NULL && episode && actions && rng && rp && rec->n > batch) {
        lux_builders_batch_set_params(b, params);
        for (int j = 0; j < batch; j++) {
            lux_rng_seed(&rng[j], 100 + (uint64_t)j);
            rp[j] = &rng[j];
            episode[j] = j;
            lux_builders_batch_begin(b, j, 5, &rng[j]);
        }
        long calls = rows_total / batch + 1, span = rec->n - batch;
        double c0 = lux_clock_thread_cpu_s();
        for (long k = 0; k < calls; k++) {
            long r = (k * batch) % span;
            lux_builders_batch_act(b, batch, episode, rec->agent + r,
                                   rec->cells + (size_t)r * LUX_BPOLICY_CELL_INPUTS, rp, actions);
        }
        ns = (lux_clock_thread_cpu_s() - c0) * 1e9 / (double)(calls * batch);
    }
    lux_builders_batch_destroy(&b);
    free(episode), free(actions), free(rng), free(rp);
    return ns;
}

/* ns per row of the forward pass alone (inputs, 3 layers, no softmax,
 * sampling or memory) as three OpenBLAS sgemm calls on row-major
 * batch x features matrices: the alternative to the lane kernel. */
static double policy_sgemm_ns(const lux_builders_policy_t *bp, const double *params,
                              const recording_t *rec, int batch, long rows_total)
{
    const int in = LUX_BPOLICY_INPUTS, h1 = bp->opts.n_hidden, h2 = bp->opts.n_hidden2,
              out = LUX_BPOLICY_OUTPUTS;
    float *w = malloc(bp->num_params * sizeof *w);
    float *x = malloc((size_t)batch * (size_t)in * sizeof *x);
    float *a1 = malloc((size_t)batch * (size_t)h1 * sizeof *a1);
    float *a2 = malloc((size_t)batch * (size_t)h2 * sizeof *a2);
    float *y = malloc((size_t)batch * (size_t)out * sizeof *y);
    double ns = NAN;
    if (w && x && a1 && a2 && y && h2 > 0) {
        for (int k = 0; k < 6; k++) {
            size_t end = k < 5 ? bp->off[k + 1] : bp->num_params;
            for (size_t i = bp->off[k]; i < end; i++)
                w[i] = (float)(bp->factor[k] * params[i]);
        }
        /* The inputs stay the same (the lane kernel's runs above read new
         * ones each call; sgemm is given the advantage of warm inputs). */
        for (int j = 0; j < batch; j++) {
            int r = j % rec->n;
            for (int i = 0; i < LUX_BPOLICY_CELL_INPUTS; i++)
                x[j * in + i] = (rec->cells[r * LUX_BPOLICY_CELL_INPUTS + i] - 0.2f) * 2.5f;
            for (int i = LUX_BPOLICY_CELL_INPUTS; i < in; i++)
                x[j * in + i] = 0.1f * (float)(i - 30);
        }
        long calls = rows_total / batch + 1;
        struct {
            const float *w, *b, *x;
            float *y;
            int in, out, relu;
        } layers[3] = {{w + bp->off[0], w + bp->off[1], x, a1, in, h1, 1},
                       {w + bp->off[2], w + bp->off[3], a1, a2, h1, h2, 1},
                       {w + bp->off[4], w + bp->off[5], a2, y, h2, out, 0}};
        double c0 = lux_clock_thread_cpu_s();
        for (long k = 0; k < calls; k++) {
            for (int l = 0; l < 3; l++) {
                for (int j = 0; j < batch; j++)
                    memcpy(layers[l].y + (size_t)j * (size_t)layers[l].out, layers[l].b,
                           (size_t)layers[l].out * sizeof(float));
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, layers[l].out,
                            layers[l].in, 1.0f, layers[l].x, layers[l].in, layers[l].w,
                            layers[l].in, 1.0f, layers[l].y, layers[l].out);
                if (layers[l].relu)
                    for (int i = 0; i < batch * layers[l].out; i++)
                        layers[l].y[i] = layers[l].y[i] > 0 ? layers[l].y[i] : 0;
            }
        }
        double used = lux_clock_thread_cpu_s() - c0;
        ns = used * 1e9 / (double)(calls * batch);
    }
    free(w), free(x), free(a1), free(a2), free(y);
    return ns;
}

/* Whole rollouts: episodes per CPU second (and agent-steps through *steps
 * per episode). num_envs 0: the old path, one episode at a time. */
static double rollouts(lux_env_t *env, lux_rollout_batch_t *rb, const lux_rollout_policy_t *pol,
                       int episodes, uint64_t seed0, double *steps_per_episode)
{
    lux_rollout_result_t *res = calloc((size_t)episodes, sizeof *res);
    uint64_t *seeds = calloc((size_t)episodes, sizeof *seeds);
    if (res == NULL || seeds == NULL) {
        free(res), free(seeds);
        return NAN;
    }
    for (int i = 0; i < episodes; i++)
        seeds[i] = lux_seed_derive(seed0, 0, 0, (uint64_t)i);
    int rc = 0;
    double c0 = lux_clock_thread_cpu_s();
    if (rb == NULL)
        for (int i = 0; i < episodes && rc == 0; i++)
            rc = lux_rollout_episode(env, pol, seeds[i], 0, NULL, &res[i]);
    else
        rc = lux_rollout_batch_run(rb, pol, seeds, episodes, 0, NULL, res);
    double cpu = lux_clock_thread_cpu_s() - c0;
    double steps = 0;
    for (int i = 0; i < episodes; i++)
        steps += (double)res[i].length;
    free(res), free(seeds);
    if (rc != 0)
        return NAN;
    *steps_per_episode = steps / episodes;
    return episodes / cpu;
}

int lux_bench_rl_part_builders_policy_rollout(json_t *report, int full)
{
    int repeats = full ? 7 : 3;
    json_t *results = json_object_get(report, "results");
    openblas_set_num_threads(1);
    lux_env_t *env = NULL;
    char err[256] = "";
    int rc = lux_env_make("builders", NULL, &env, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "builders: %s\n", err);
        return rc;
    }
    lux_builders_policy_opts_t o;
    lux_builders_policy_opts_default(&o);
    lux_builders_policy_t bp;
    lux_builders_policy_init(&bp, &o);
    double params[2][1128];
    random_vector(params[0], bp.num_params, 1, 1.0);
    random_vector(params[1], bp.num_params, 2, 3.0);
    const char *names[2] = {"untrained", "scale3"};

    /* Bare world. */
    double runs[MAX_REPEATS], runs2[MAX_REPEATS];
    long steps = 0;
    for (int r = 0; r < repeats; r++)
        runs[r] = bare_world(env, 1000 + (uint64_t)r, &steps);
    lux_bench_add_runs(report, "builders_bare_world_agent_steps_per_cpu_s", runs, (size_t)repeats,
                       "agent-steps/CPU-s");
    double bare = lux_bench_median(runs, (size_t)repeats);
    lux_bench_add_value(report, "builders_bare_world_ns_per_agent_step", 1e9 / bare);

    /* Policy cost per agent-step. */
    static recording_t rec;
    lux_builders_policy_set_params(&bp, params[0]);
    record(env, &bp, &rec);
    long calls = full ? 400000 : 150000;
    for (int r = 0; r < repeats; r++)
        runs[r] = policy_old_ns(&bp, &rec, calls / 4);
    lux_bench_add_runs(report, "builders_policy_ns_per_step_double_reference", runs,
                       (size_t)repeats, "ns");
    double old_ns = lux_bench_median(runs, (size_t)repeats);
    const int batches[] = {1, 8, 16, 32, 64, 256};
    double best_ns = INFINITY;
    for (size_t k = 0; k < sizeof batches / sizeof batches[0]; k++) {
        for (int r = 0; r < repeats; r++)
            runs[r] = policy_new_ns(&bp, params[0], &rec, batches[k], calls);
        char key[96];
        snprintf(key, sizeof key, "builders_policy_ns_per_step_float32_batch%d", batches[k]);
        lux_bench_add_runs(report, key, runs, (size_t)repeats, "ns");
        double med = lux_bench_median(runs, (size_t)repeats);
        best_ns = fmin(best_ns, med);
        json_t *e = json_object_get(results, key);
        json_object_set_new(e, "speedup_vs_double_same_run", json_real(old_ns / med));
        if (batches[k] >= 8) {
            for (int r = 0; r < repeats; r++)
                runs2[r] = policy_sgemm_ns(&bp, params[0], &rec, batches[k], calls);
            snprintf(key, sizeof key, "builders_forward_only_ns_per_step_sgemm_batch%d",
                     batches[k]);
            lux_bench_add_runs(report, key, runs2, (size_t)repeats, "ns");
        }
    }
    double ghz = cpu_ghz();
    json_t *bounds = json_object();
    json_object_set_new(bounds, "bare_world_ns_per_agent_step", json_real(1e9 / bare));
    json_object_set_new(bounds, "policy_multiply_adds", json_integer(35 * 20 + 20 * 10 + 10 * 18));
    json_object_set_new(bounds, "cpu_ghz_nominal", json_real(ghz));
    /* Two 8-wide float pipes (mul+add or FMA) per cycle: 16 multiply-adds. */
    json_object_set_new(bounds, "policy_ns_at_16_madds_per_cycle",
                        json_real(ghz > 0 ? 1080.0 / (16.0 * ghz) : NAN));
    json_object_set_new(bounds, "issue_policy_ns_per_step", json_real(ISSUE_POLICY_NS));
    json_object_set_new(bounds, "issue_episodes_per_cpu_s", json_real(ISSUE_EPISODES_PER_CPU_S));
    json_object_set_new(results, "builders_bounds", bounds);
    lux_bench_add_value(report, "builders_policy_speedup_best_batch_vs_double", old_ns / best_ns);

    /* Whole rollouts. */
    const int envs_list[] = {8, 16, 64};
    for (int p = 0; p < 2; p++) {
        lux_builders_policy_set_params(&bp, params[p]);
        lux_rollout_policy_t pol = {.builders = &bp};
        double spe = 0, old_eps, old_steps[MAX_REPEATS];
        int old_episodes = full ? 6 : 3;
        for (int r = 0; r < repeats; r++) {
            runs[r] = rollouts(env, NULL, &pol, old_episodes, 77 + (uint64_t)r, &spe);
            old_steps[r] = runs[r] * spe;
        }
        char key[128];
        snprintf(key, sizeof key, "builders_rollout_%s_episodes_per_cpu_s_double_reference",
                 names[p]);
        lux_bench_add_runs(report, key, runs, (size_t)repeats, "episodes/CPU-s");
        old_eps = lux_bench_median(runs, (size_t)repeats);
        json_object_set_new(json_object_get(results, key), "agent_steps_per_cpu_s",
                            json_real(lux_bench_median(old_steps, (size_t)repeats)));
        json_object_set_new(json_object_get(results, key), "agent_steps_per_episode",
                            json_real(spe));
        for (size_t k = 0; k < sizeof envs_list / sizeof envs_list[0]; k++) {
            int ne = envs_list[k];
            lux_rollout_batch_t *rb = NULL;
            rc = lux_rollout_batch_new("builders", NULL, ne, &rb, err, sizeof err);
            if (rc != 0)
                break;
            int episodes = full ? 128 : 64;
            double st[MAX_REPEATS];
            for (int r = 0; r < repeats; r++) {
                runs[r] = rollouts(NULL, rb, &pol, episodes, 77 + (uint64_t)r, &spe);
                st[r] = runs[r] * spe;
            }
            lux_rollout_batch_destroy(&rb);
            snprintf(key, sizeof key, "builders_rollout_%s_episodes_per_cpu_s_float32_envs%d",
                     names[p], ne);
            lux_bench_add_runs(report, key, runs, (size_t)repeats, "episodes/CPU-s");
            double med = lux_bench_median(runs, (size_t)repeats);
            json_t *e = json_object_get(results, key);
            json_object_set_new(e, "agent_steps_per_cpu_s",
                                json_real(lux_bench_median(st, (size_t)repeats)));
            json_object_set_new(e, "agent_steps_per_episode", json_real(spe));
            json_object_set_new(e, "speedup_vs_double_same_run", json_real(med / old_eps));
            json_object_set_new(e, "speedup_vs_issue_32",
                                json_real(med / ISSUE_EPISODES_PER_CPU_S));
            json_object_set_new(e, "bare_world_share",
                                json_real(med * spe / bare)); /* time share of the world */
        }
        if (rc != 0)
            break;
    }
    lux_env_destroy(&env);
    return rc;
}

/* ---- MLP ---------------------------------------------------------------------------------- */

int lux_bench_rl_part_mlp_policy_rollout(json_t *report, int full)
{
    const struct {
        const char *env;
        int obs, act;
        lux_head_t head;
        double low, high;
    } cases[] = {
        {"CartPole-v1", 4, 2, LUX_HEAD_DISCRETE, 0, 0},
        {"Acrobot-v1", 6, 3, LUX_HEAD_DISCRETE, 0, 0},
        {"Pendulum-v1", 3, 1, LUX_HEAD_DETERMINISTIC, -2, 2},
    };
    int repeats = full ? 7 : 3, episodes = full ? 400 : 160;
    json_t *results = json_object_get(report, "results");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lux_policy_spec_t s = {.obs_dim = cases[c].obs,
                               .num_hidden = 1,
                               .hidden = {16},
                               .activation = LUX_ACTIVATION_TANH,
                               .head = cases[c].head,
                               .action_dim = cases[c].act,
                               .argmax = 1,
                               .action_low = {cases[c].low},
                               .action_high = {cases[c].high}};
        lux_policy_t *p = lux_policy_new(&s);
        lux_env_t *env = NULL;
        lux_rollout_batch_t *rb = NULL;
        char err[256] = "";
        int rc = p == NULL ? LUX_ENOMEM : lux_env_make(cases[c].env, NULL, &env, err, sizeof err);
        if (rc == 0)
            rc = lux_rollout_batch_new(cases[c].env, NULL, 16, &rb, err, sizeof err);
        if (rc != 0) {
            lux_policy_destroy(&p);
            lux_env_destroy(&env);
            return rc;
        }
        /* A policy that balances CartPole for a while: normc plus noise. */
        lux_rng_t rng;
        lux_rng_seed(&rng, 4);
        lux_policy_init_params(p, &rng);
        double *w = lux_policy_params(p);
        for (size_t i = 0; i < lux_policy_num_params(p); i++)
            w[i] += 0.5 * lux_rng_normal(&rng);
        lux_rollout_policy_t pol = {.mlp = p};
        double old_runs[MAX_REPEATS], new_runs[MAX_REPEATS], ratio[MAX_REPEATS], spe = 0;
        for (int r = 0; r < repeats; r++) {
            double eo = rollouts(env, NULL, &pol, episodes, 5 + (uint64_t)r, &spe);
            old_runs[r] = eo * spe;
            double en = rollouts(NULL, rb, &pol, episodes, 5 + (uint64_t)r, &spe);
            new_runs[r] = en * spe;
            ratio[r] = new_runs[r] / old_runs[r];
        }
        char key[128];
        snprintf(key, sizeof key, "%s_mlp16_rollout_env_steps_per_cpu_s_double_reference",
                 cases[c].env);
        lux_bench_add_runs(report, key, old_runs, (size_t)repeats, "env-steps/CPU-s");
        snprintf(key, sizeof key, "%s_mlp16_rollout_env_steps_per_cpu_s_float32_envs16",
                 cases[c].env);
        lux_bench_add_runs(report, key, new_runs, (size_t)repeats, "env-steps/CPU-s");
        json_t *e = json_object_get(results, key);
        json_object_set_new(e, "speedup_vs_double_same_run",
                            json_real(lux_bench_median(ratio, (size_t)repeats)));
        json_object_set_new(e, "env_steps_per_episode", json_real(spe));
        lux_rollout_batch_destroy(&rb);
        lux_env_destroy(&env);
        lux_policy_destroy(&p);
    }
    return 0;
}
