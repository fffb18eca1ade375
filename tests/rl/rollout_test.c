/*
 * Rollouts and the builders policy: determinism in the seed, observation
 * statistics, the builders policy's layout, memory and multi-agent episodes.
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
    LUX_CHECK_NEAR(bp.factor[4], sqrt(0.2 / 28), 1e-15);
    LUX_CHECK_NEAR(bp.factor[5], 0.2 * 0.1, 1e-15);
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
