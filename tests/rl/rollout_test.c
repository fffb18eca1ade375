/*
 * Rollouts and the builders policy: determinism in the seed, observation
 * statistics, the builders policy's layout, memory and multi-agent episodes;
 * the batched float32 rollouts: the same seed gives the same episode
 * whatever the batch size, and the float32 builders policy computes what
 * the double one computes.
 */
#include "builders_policy.h"
#include "rollout.h"
#include "test.h"

#include <math.h>
#include <string.h>

static lux_env_t *make(const char *name, const char *opts)
{
    lux_env_t *env = NULL;
    char err[256];
    int rc = lux_env_make(name, opts, &env, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "make %s: %s", name, err);
    return env;
}

LUX_TEST(episode_deterministic_in_seed)
{
    lux_env_t *env = make("CartPole-v1", NULL);
    lux_policy_spec_t s = {.obs_dim = 4, .num_hidden = 1, .hidden = {8}, .action_dim = 2};
    lux_policy_t *p = lux_policy_new(&s);
    lux_rng_t rng;
    lux_rng_seed(&rng, 1);
    lux_policy_init_params(p, &rng);
    lux_rollout_policy_t pol = {.mlp = p};
    lux_rollout_result_t a, b, c;
    LUX_CHECK_OK(lux_rollout_episode(env, &pol, 42, 0, NULL, &a));
    LUX_CHECK_OK(lux_rollout_episode(env, &pol, 42, 0, NULL, &b));
    LUX_CHECK_DBL(a.episode_return, ==, b.episode_return);
    LUX_CHECK_INT_EQ(a.length, b.length);
    LUX_CHECK_DBL(a.episode_return, ==, (double)a.length); /* +1 per step */
    int differs = 0;
    for (uint64_t seed = 1; seed < 20 && !differs; seed++) {
        LUX_CHECK_OK(lux_rollout_episode(env, &pol, seed, 0, NULL, &c));
        differs = c.length != a.length;
    }
    LUX_CHECK(differs);
    LUX_CHECK_OK(lux_rollout_episode(env, &pol, 42, 3, NULL, &c));
    LUX_CHECK_INT(c.length, <=, 3);
    lux_policy_destroy(&p);
    lux_env_destroy(&env);
}

LUX_TEST(obs_stat_and_normalisation)
{
    lux_obs_stat_t st;
    lux_obs_stat_init(&st, 2, 0.0);
    float o1[2] = {1, 10}, o2[2] = {3, 10};
    lux_obs_stat_push(&st, o1);
    lux_obs_stat_push(&st, o2);
    double mean[2], std[2];
    lux_obs_stat_mean_std(&st, mean, std);
    LUX_CHECK_NEAR(mean[0], 2.0, 1e-12);
    LUX_CHECK_NEAR(std[0], 1.0, 1e-12);
    LUX_CHECK_NEAR(std[1], 0.1, 1e-12); /* floor sqrt(1e-2) */
    lux_obs_stat_t all;
    lux_obs_stat_init(&all, 2, 0.0);
    lux_obs_stat_merge(&all, &st);
    lux_obs_stat_merge(&all, &st);
    LUX_CHECK_DBL(all.count, ==, 4.0);
    lux_rollout_policy_t pol = {.obs_mean = mean, .obs_std = std};
    double x[2];
    float far[2] = {100, 10};
    lux_rollout_prepare_obs(&pol, far, 2, x);
    LUX_CHECK_DBL(x[0], ==, 5.0); /* clipped */
    LUX_CHECK_NEAR(x[1], 0.0, 1e-12);
}

LUX_TEST(builders_policy_layout)
{
    lux_builders_policy_opts_t o;
    lux_builders_policy_opts_default(&o);
    lux_builders_policy_t bp;
    LUX_CHECK_OK(lux_builders_policy_init(&bp, &o));
    LUX_CHECK_INT_EQ(lux_builders_policy_num_params(&bp), 1128);
    LUX_CHECK_NEAR(bp.factor[0], sqrt(2 * 0.2 / 35), 1e-15);
    LUX_CHECK_NEAR(bp.factor[2], sqrt(1.0 * 0.2 / 30), 1e-15);
    /* The builders study: sqrt(init_fac / (h1 + 18)), h1 even with two layers. */
    LUX_CHECK_NEAR(bp.factor[4], sqrt(0.2 / 38), 1e-15);
    LUX_CHECK_NEAR(bp.factor[5], 0.2 * 0.1, 1e-15);
    o.output_fac_h2 = 1; /* the corrected variant: the fan-in h2 */
    LUX_CHECK_OK(lux_builders_policy_init(&bp, &o));
    LUX_CHECK_NEAR(bp.factor[4], sqrt(0.2 / 28), 1e-15);
    o.output_fac_h2 = 0;
    o.n_hidden2 = 0;
    LUX_CHECK_OK(lux_builders_policy_init(&bp, &o));
    LUX_CHECK_INT_EQ(lux_builders_policy_num_params(&bp), 35 * 20 + 20 + 20 * 18 + 18);
    o.n_hidden = 0;
    LUX_CHECK(lux_builders_policy_init(&bp, &o) != 0);
}

LUX_TEST(builders_policy_memory_and_actions)
{
    lux_builders_policy_opts_t o;
    lux_builders_policy_opts_default(&o);
    o.memory_clamp = 0.5;
    lux_builders_policy_t bp;
    LUX_CHECK_OK(lux_builders_policy_init(&bp, &o));
    double params[1128];
    lux_rng_t rng;
    lux_rng_seed(&rng, 3);
    for (int i = 0; i < 1128; i++)
        params[i] = 3 * lux_rng_normal(&rng);
    lux_builders_policy_set_params(&bp, params);
    lux_builders_policy_begin(&bp, 5, &rng);
    for (int a = 0; a < 5; a++)
        for (int i = 0; i < 8; i++)
            LUX_CHECK(bp.memory[a][i] >= -1 && bp.memory[a][i] < 1);
    float cells[24] = {0};
    cells[0] = 1;
    int seen[10] = {0};
    for (int t = 0; t < 500; t++) {
        int act = lux_builders_policy_act(&bp, t % 5, cells, &rng);
        LUX_CHECK(act >= 0 && act < 10);
        seen[act] = 1;
    }
    int distinct = 0;
    for (int a = 0; a < 10; a++)
        distinct += seen[a];
    LUX_CHECK_INT(distinct, >=, 3); /* sampled, not argmax */
    for (int a = 0; a < 5; a++)
        for (int i = 0; i < 8; i++)
            LUX_CHECK(fabs(bp.memory[a][i]) <= 0.5);
    /* Zero weights: uniform softmax, memory decays towards 0 by r. */
    memset(params, 0, sizeof params);
    o.memory_clamp = 10;
    o.memory_halftime = log(2.0) / 0.5; /* r = 0.5 */
    LUX_CHECK_OK(lux_builders_policy_init(&bp, &o));
    lux_builders_policy_set_params(&bp, params);
    lux_builders_policy_begin(&bp, 1, &rng);
    double m0 = bp.memory[0][3];
    lux_builders_policy_act(&bp, 0, cells, &rng);
    LUX_CHECK_NEAR(bp.memory[0][3], 0.5 * m0, 1e-12);
}

LUX_TEST_T(builders_multi_agent_episode, 60)
{
    lux_env_t *env = make("builders", "{\"radius\": 8, \"max_episode_steps\": 200}");
    lux_builders_policy_opts_t o;
    lux_builders_policy_opts_default(&o);
    lux_builders_policy_t bp;
    LUX_CHECK_OK(lux_builders_policy_init(&bp, &o));
    double params[1128];
    lux_rng_t rng;
    lux_rng_seed(&rng, 9);
    for (int i = 0; i < 1128; i++)
        params[i] = lux_rng_normal(&rng);
    lux_builders_policy_set_params(&bp, params);
    lux_rollout_policy_t pol = {.builders = &bp};
    lux_rollout_result_t a, b;
    LUX_CHECK_OK(lux_rollout_episode(env, &pol, 5, 0, NULL, &a));
    LUX_CHECK_OK(lux_rollout_episode(env, &pol, 5, 0, NULL, &b));
    LUX_CHECK_DBL(a.episode_return, ==, b.episode_return);
    LUX_CHECK_INT_EQ(a.length, b.length);
    LUX_CHECK_INT(a.length, >=, 200);
    lux_env_destroy(&env);
}

static void random_builders_params(double *params, size_t n, uint64_t seed, double scale)
{
    lux_rng_t rng;
    lux_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        params[i] = scale * lux_rng_normal(&rng);
}

/* One decision from the same inputs and generator state: the float32 batch
 * and the double reference draw the same numbers, pick the same action
 * (no near-tie at these weights) and leave memories equal to float
 * precision. Rows of a batch are agents of different episodes. */
LUX_TEST(builders_batch_matches_double)
{
    lux_builders_policy_opts_t o;
    lux_builders_policy_opts_default(&o);
    o.memory_clamp = 0.7;
    lux_builders_policy_t bp;
    LUX_CHECK_OK(lux_builders_policy_init(&bp, &o));
    double params[1128];
    random_builders_params(params, 1128, 4, 2.0);
    lux_builders_policy_set_params(&bp, params);
    enum { ROWS = 13 };
    lux_builders_batch_t *b = lux_builders_batch_new(&bp, ROWS, 5);
    LUX_CHECK(b != NULL);
    lux_builders_batch_set_params(b, params);
    lux_rng_t rd[ROWS], rf[ROWS], cells_rng;
    lux_rng_t *rp[ROWS];
    float cells[ROWS * 24];
    int episode[ROWS], agent[ROWS], actions[ROWS], same = 0;
    lux_rng_seed(&cells_rng, 77);
    for (int j = 0; j < ROWS * 24; j++)
        cells[j] = lux_rng_uniform(&cells_rng) < 0.25 ? 1.0f : 0.0f;
    for (int j = 0; j < ROWS; j++) {
        lux_rng_seed(&rf[j], 500 + (uint64_t)j);
        lux_builders_batch_begin(b, j, 5, &rf[j]);
        episode[j] = j;
        agent[j] = j % 5;
        rp[j] = &rf[j];
    }
    lux_builders_batch_act(b, ROWS, episode, agent, cells, rp, actions);
    for (int j = 0; j < ROWS; j++) {
        lux_rng_seed(&rd[j], 500 + (uint64_t)j);
        lux_builders_policy_begin(&bp, 5, &rd[j]);
        int a = lux_builders_policy_act(&bp, agent[j], cells + j * 24, &rd[j]);
        same += a == actions[j];
        const float *m = lux_builders_batch_memory(b, j, agent[j]);
        for (int i = 0; i < 8; i++)
            LUX_CHECK_NEAR(m[i], bp.memory[agent[j]][i], 1e-5);
        /* Both drew 40 + 3 + 1 numbers: the generators are in step. */
        LUX_CHECK(lux_rng_next(&rd[j]) == lux_rng_next(&rf[j]));
    }
    LUX_CHECK_INT(same, >=, ROWS - 1);
    lux_builders_batch_destroy(&b);
    LUX_CHECK(b == NULL);
}

/* Runs seeds 0..n-1 on a batch of num_envs environments. */
static void run_batch(const char *env_name, const char *opts, int num_envs,
                      const lux_rollout_policy_t *pol, int n, lux_rollout_result_t *res)
{
    lux_rollout_batch_t *rb = NULL;
    char err[256] = "";
    LUX_CHECK_MSG(lux_rollout_batch_new(env_name, opts, num_envs, &rb, err, sizeof err) == 0, "%s",
                  err);
    uint64_t seeds[64];
    for (int i = 0; i < n; i++)
        seeds[i] = 1000 + (uint64_t)i * 7;
    LUX_CHECK_OK(lux_rollout_batch_run(rb, pol, seeds, n, 0, NULL, res));
    lux_rollout_batch_destroy(&rb);
    LUX_CHECK(rb == NULL);
}

/* The same seed gives the same episode return and length whatever the
 * batch size (1, 3, 8, 16 environments in lockstep) for the builders policy
 * with memory; the returns differ between seeds. */
LUX_TEST_T(builders_batch_same_episode_any_batch_size, 120)
{
    const char *opts = "{\"radius\": 10, \"max_episode_steps\": 300}";
    lux_builders_policy_opts_t o;
    lux_builders_policy_opts_default(&o);
    lux_builders_policy_t bp;
    LUX_CHECK_OK(lux_builders_policy_init(&bp, &o));
    double params[1128];
    random_builders_params(params, 1128, 12, 3.0);
    lux_builders_policy_set_params(&bp, params);
    lux_rollout_policy_t pol = {.builders = &bp};
    enum { N = 19 };
    lux_rollout_result_t ref[N], got[N];
    int sizes[4] = {1, 3, 8, 16};
    for (int k = 0; k < 4; k++) {
        run_batch("builders", opts, sizes[k], &pol, N, k == 0 ? ref : got);
        for (int i = 0; k > 0 && i < N; i++) {
            LUX_CHECK_DBL(got[i].episode_return, ==, ref[i].episode_return);
            LUX_CHECK_INT_EQ(got[i].length, ref[i].length);
        }
    }
    int distinct = 0;
    for (int i = 1; i < N; i++)
        distinct += ref[i].episode_return != ref[0].episode_return;
    LUX_CHECK_INT(distinct, >=, 5);
}

/* The same for MLP policies: CartPole with a sampling head (episodes of
 * different lengths end at different rounds) and Pendulum with a gaussian
 * head and action noise. */
LUX_TEST(mlp_batch_same_episode_any_batch_size)
{
    const char *envs[2] = {"CartPole-v1", "Pendulum-v1"};
    for (int e = 0; e < 2; e++) {
        lux_policy_spec_t s = {.obs_dim = e == 0 ? 4 : 3,
                               .num_hidden = 1,
                               .hidden = {16},
                               .head = e == 0 ? LUX_HEAD_DISCRETE : LUX_HEAD_GAUSSIAN,
                               .action_dim = e == 0 ? 2 : 1,
                               .action_low = {-2.0},
                               .action_high = {2.0},
                               .log_std_init = -0.5};
        lux_policy_t *p = lux_policy_new(&s);
        lux_rng_t rng;
        lux_rng_seed(&rng, 3);
        lux_policy_init_params(p, &rng);
        double *w = lux_policy_params(p);
        for (size_t i = 0; i < lux_policy_num_params(p); i++)
            w[i] += 0.3 * lux_rng_normal(&rng);
        lux_rollout_policy_t pol = {.mlp = p, .action_noise_std = e == 1 ? 0.1 : 0.0};
        enum { N = 21 };
        lux_rollout_result_t ref[N], got[N];
        int sizes[3] = {1, 4, 16};
        for (int k = 0; k < 3; k++) {
            run_batch(envs[e], NULL, sizes[k], &pol, N, k == 0 ? ref : got);
            for (int i = 0; k > 0 && i < N; i++) {
                LUX_CHECK_DBL(got[i].episode_return, ==, ref[i].episode_return);
                LUX_CHECK_INT_EQ(got[i].length, ref[i].length);
            }
        }
        int distinct = 0;
        for (int i = 1; i < N; i++)
            distinct += ref[i].episode_return != ref[0].episode_return;
        LUX_CHECK_INT(distinct, >=, 5);
        lux_policy_destroy(&p);
    }
}
