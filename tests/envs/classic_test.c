/*
 * Classic-control environments: reference transitions from the equations
 * (classic_reference.h, computed by reference.py, an independent
 * transcription of the equations), hand-computed steps, the boundaries
 * (thresholds, walls, wraps, clips), rewards at the limits, reset
 * distributions and the time limit.
 */
#include "test.h"

#include <math.h>
#include <string.h>

#include "classic.h"
#include "env.h"
#include "error.h"

typedef struct {
    const char *env;
    int n;
    double state[4];
    double action;
    double next[4];
    double reward;
    int terminated;
} reference_t;

#include "classic_reference.h"

#define NREFS (sizeof references / sizeof references[0])

static lux_env_t *make(const char *name, const char *options)
{
    lux_env_t *env = NULL;
    char err[256];
    int rc = lux_env_make(name, options, &env, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "lux_env_make(%s): %s", name, err);
    return env;
}

/* Runs every reference transition of environment `name`; returns how many. */
static int check_references(const char *name)
{
    lux_env_t *env = make(name, NULL);
    int count = 0;
    for (size_t i = 0; i < NREFS; i++) {
        const reference_t *ref = &references[i];
        if (strcmp(ref->env, name) != 0)
            continue;
        float obs[LUX_ENV_MAX_OBS];
        double reward = NAN, s[LUX_ENV_MAX_STATE];
        int term = -1, trunc = -1;
        LUX_CHECK_OK(lux_env_reset(env, 1, NULL));
        LUX_CHECK_OK(lux_env_set_state(env, ref->state, (size_t)ref->n, NULL));
        LUX_CHECK_OK(lux_env_step(env, &ref->action, obs, &reward, &term, &trunc));
        LUX_CHECK_INT_EQ(lux_env_get_state(env, s, LUX_ENV_MAX_STATE), ref->n);
        for (int k = 0; k < ref->n; k++)
            LUX_CHECK_MSG(fabs(s[k] - ref->next[k]) <= 1e-12 * (1 + fabs(ref->next[k])),
                          "%s case %zu (action %g): state[%d] = %.17g, expected %.17g", name, i,
                          ref->action, k, s[k], ref->next[k]);
        LUX_CHECK_MSG(fabs(reward - ref->reward) <= 1e-12 * (1 + fabs(ref->reward)),
                      "%s case %zu: reward %.17g, expected %.17g", name, i, reward, ref->reward);
        LUX_CHECK_MSG(term == ref->terminated, "%s case %zu: terminated %d, expected %d", name, i,
                      term, ref->terminated);
        LUX_CHECK_INT_EQ(trunc, 0);
        count++;
    }
    lux_env_destroy(&env);
    LUX_CHECK(env == NULL);
    return count;
}

LUX_TEST(cartpole_reference_transitions)
{
    LUX_CHECK_INT(check_references("CartPole-v1"), >=, 20);
}

LUX_TEST(acrobot_reference_transitions)
{
    LUX_CHECK_INT(check_references("Acrobot-v1"), >=, 27);
}

LUX_TEST(mountain_car_reference_transitions)
{
    LUX_CHECK_INT(check_references("MountainCar-v0"), >=, 24);
}

LUX_TEST(mountain_car_continuous_reference_transitions)
{
    LUX_CHECK_INT(check_references("MountainCarContinuous-v0"), >=, 35);
}

LUX_TEST(pendulum_reference_transitions)
{
    LUX_CHECK_INT(check_references("Pendulum-v1"), >=, 42);
}

/* Steps `env` from `state` with `action`; returns the reward. */
static double step_from(lux_env_t *env, const double *state, size_t n, double action, double *next,
                        float *obs, int *term)
{
    double reward = NAN;
    int trunc = -1;
    LUX_CHECK_OK(lux_env_reset(env, 7, NULL));
    LUX_CHECK_OK(lux_env_set_state(env, state, n, NULL));
    LUX_CHECK_OK(lux_env_step(env, &action, obs, &reward, term, &trunc));
    lux_env_get_state(env, next, n);
    return reward;
}

/* From rest, push left: temp = -F/M, the pole's angular acceleration is
 * -g*0 + F/M over l(4/3 - m/M), and positions do not move in the first
 * (explicit Euler) step. */
LUX_TEST(cartpole_hand_computed_step)
{
    lux_env_t *env = make("CartPole-v1", NULL);
    double s0[4] = {0, 0, 0, 0}, s[4];
    float obs[4];
    int term;
    double r = step_from(env, s0, 4, 0, s, obs, &term);
    double temp = -10.0 / 1.1;
    double thetaacc = -temp / (0.5 * (4.0 / 3.0 - 0.1 / 1.1));
    double xacc = temp - 0.05 * thetaacc / 1.1;
    LUX_CHECK_DBL(s[0], ==, 0.0);
    LUX_CHECK_NEAR(s[1], 0.02 * xacc, 1e-15);
    LUX_CHECK_NEAR(s[1], -0.19512195121951220, 1e-15);
    LUX_CHECK_DBL(s[2], ==, 0.0);
    LUX_CHECK_NEAR(s[3], 0.02 * thetaacc, 1e-15);
    LUX_CHECK_NEAR(s[3], 0.29268292682926829, 1e-15);
    LUX_CHECK_DBL(r, ==, 1.0);
    LUX_CHECK_INT_EQ(term, 0);
    /* Explicit Euler: the second step moves x by tau * the first step's
     * velocity, not the new one. */
    double a = 0, reward;
    int tr;
    LUX_CHECK_OK(lux_env_step(env, &a, obs, &reward, &term, &tr));
    lux_env_get_state(env, s, 4);
    LUX_CHECK_NEAR(s[0], 0.02 * 0.02 * xacc, 1e-16);
    LUX_CHECK_DBL(obs[0], ==, (float)s[0]);
    LUX_CHECK_DBL(obs[1], ==, (float)s[1]);
    LUX_CHECK_DBL(obs[3], ==, (float)s[3]);
    lux_env_destroy(&env);
}

/* Termination uses strict inequalities at x = +-2.4 and theta = +-12 deg,
 * and the terminating step still pays +1 (or -1 with sutton_barto_reward). */
LUX_TEST(cartpole_termination_threshold)
{
    lux_env_t *env = make("CartPole-v1", NULL);
    const double thr = 12 * 2 * M_PI / 360;
    double next[4];
    int term;
    double at_edge[][4] = {{2.4, 0, 0, 0}, {-2.4, 0, 0, 0}, {0, 0, thr, 0}, {0, 0, -thr, 0}};
    for (int i = 0; i < 4; i++) {
        double r = step_from(env, at_edge[i], 4, 1, next, NULL, &term);
        LUX_CHECK_MSG(term == 0, "edge case %d terminated", i);
        LUX_CHECK_DBL(r, ==, 1.0);
    }
    double beyond[][4] = {
        {2.4, 0.001, 0, 0}, {-2.4, -0.001, 0, 0}, {0, 0, thr, 0.001}, {0, 0, -thr, -0.001}};
    for (int i = 0; i < 4; i++) {
        double r = step_from(env, beyond[i], 4, 1, next, NULL, &term);
        LUX_CHECK_MSG(term == 1, "beyond case %d did not terminate", i);
        LUX_CHECK_DBL(r, ==, 1.0);
    }
    /* After termination the episode is over until reset. */
    double a = 0, r;
    int tr;
    LUX_CHECK_ERR(lux_env_step(env, &a, NULL, &r, &term, &tr), LUX_EINVAL);
    lux_env_destroy(&env);

    env = make("CartPole-v1", "sutton_barto_reward=true");
    double r1 = step_from(env, at_edge[0], 4, 1, next, NULL, &term);
    LUX_CHECK_DBL(r1, ==, 0.0);
    double r2 = step_from(env, beyond[0], 4, 1, next, NULL, &term);
    LUX_CHECK_DBL(r2, ==, -1.0);
    LUX_CHECK_INT_EQ(term, 1);
    lux_env_destroy(&env);
}

/* Runs `steps` steps of a constant action; checks truncation comes exactly
 * at the limit and the return. */
static void check_truncation(const char *name, const char *options, double action, long limit,
                             double per_step)
{
    lux_env_t *env = make(name, options);
    LUX_CHECK_INT_EQ(lux_env_info(env)->max_episode_steps, limit);
    LUX_CHECK_OK(lux_env_reset(env, 3, NULL));
    for (long t = 1; t <= limit; t++) {
        double r;
        int term, trunc;
        LUX_CHECK_OK(lux_env_step(env, &action, NULL, &r, &term, &trunc));
        LUX_CHECK_INT_EQ(term, 0);
        LUX_CHECK_MSG(trunc == (t == limit), "%s: step %ld truncated=%d", name, t, trunc);
        if (per_step != 0)
            LUX_CHECK_DBL(r, ==, per_step);
    }
    LUX_CHECK_INT_EQ(lux_env_episode_steps(env), limit);
    if (per_step != 0)
        LUX_CHECK_DBL(lux_env_episode_return(env), ==, per_step * (double)limit);
    double r;
    int term, trunc;
    LUX_CHECK_ERR(lux_env_step(env, &action, NULL, &r, &term, &trunc), LUX_EINVAL);
    /* Reset starts a new episode with fresh counters. */
    LUX_CHECK_OK(lux_env_reset(env, 4, NULL));
    LUX_CHECK_INT_EQ(lux_env_episode_steps(env), 0);
    LUX_CHECK_DBL(lux_env_episode_return(env), ==, 0.0);
    LUX_CHECK_OK(lux_env_step(env, &action, NULL, &r, &term, &trunc));
    lux_env_destroy(&env);
}

LUX_TEST(time_limits_truncate)
{
    /* Doing nothing never reaches the mountain car's goal. */
    check_truncation("MountainCar-v0", NULL, 1, 200, -1.0);
    check_truncation("MountainCarContinuous-v0", NULL, 0, 999, 0.0);
    /* Without torque from near rest the acrobot never swings up. */
    check_truncation("Acrobot-v1", NULL, 1, 500, -1.0);
    check_truncation("Pendulum-v1", NULL, 0, 200, 0.0);
    check_truncation("Pendulum-v1", "max_episode_steps=17", 0, 17, 0.0);
    check_truncation("CartPole-v1", "{\"max_episode_steps\": 5}", 0, 5, 1.0);
    check_truncation("CartPole-v0", "max_episode_steps=3", 1, 3, 1.0);
}

/* A balancing controller keeps CartPole up until the time limit: v0 stops
 * at 200 steps and v1 at 500, truncated and not terminated. */
LUX_TEST(cartpole_versions_time_limits)
{
    const char *names[2] = {"CartPole-v0", "CartPole-v1"};
    const long limits[2] = {200, 500};
    for (int v = 0; v < 2; v++) {
        lux_env_t *env = make(names[v], NULL);
        float obs[4];
        LUX_CHECK_OK(lux_env_reset(env, 11, obs));
        long t = 0;
        int term = 0, trunc = 0;
        while (!term && !trunc) {
            int a = obs[2] + 0.5f * obs[3] + 0.01f * obs[0] + 0.1f * obs[1] > 0;
            double r;
            LUX_CHECK_OK(lux_env_step_discrete(env, a, obs, &r, &term, &trunc));
            t++;
        }
        LUX_CHECK_INT_EQ(term, 0);
        LUX_CHECK_INT_EQ(trunc, 1);
        LUX_CHECK_INT_EQ(t, limits[v]);
        LUX_CHECK_DBL(lux_env_episode_return(env), ==, (double)limits[v]);
        lux_env_destroy(&env);
    }
}

/* Acrobot: -1 per step, 0 on the terminal step (tip above the bar). */
LUX_TEST(acrobot_terminal_reward)
{
    lux_env_t *env = make("Acrobot-v1", NULL);
    double next[4];
    int term;
    double up[4] = {M_PI, 0, 0, 0}; /* straight up: -cos(pi) - cos(pi) = 2 > 1 */
    LUX_CHECK_DBL(step_from(env, up, 4, 1, next, NULL, &term), ==, 0.0);
    LUX_CHECK_INT_EQ(term, 1);
    double down[4] = {0, 0, 0, 0};
    LUX_CHECK_DBL(step_from(env, down, 4, 1, next, NULL, &term), ==, -1.0);
    LUX_CHECK_INT_EQ(term, 0);
    /* Angle wrap: theta1 crossing pi comes back near -pi, inside [-pi, pi]. */
    double over[4] = {3.1, 0, 5, 0};
    step_from(env, over, 4, 1, next, NULL, &term);
    LUX_CHECK_DBL(next[0], <, -2.0);
    LUX_CHECK_DBL(next[0], >=, -M_PI);
    /* Velocity clip at exactly 4 pi and 9 pi. */
    double fast[4] = {0, 0, 12.5, 28};
    step_from(env, fast, 4, 1, next, NULL, &term);
    LUX_CHECK_DBL(next[2], ==, 4 * M_PI);
    double fast2[4] = {0, -1, 0, 28.2};
    float obs[6];
    step_from(env, fast2, 4, 0, next, obs, &term);
    LUX_CHECK_DBL(next[3], ==, 9 * M_PI);
    LUX_CHECK_DBL(obs[5], ==, (float)(9 * M_PI));
    LUX_CHECK_DBL(obs[0], ==, (float)cos(next[0]));
    LUX_CHECK_DBL(obs[3], ==, (float)sin(next[1]));
    lux_env_destroy(&env);
}

/* MountainCar's inelastic left wall, the speed clip and the goal. */
LUX_TEST(mountain_car_boundaries)
{
    lux_env_t *env = make("MountainCar-v0", NULL);
    double next[2];
    int term;
    double at_wall[2] = {-1.19, -0.05};
    LUX_CHECK_DBL(step_from(env, at_wall, 2, 0, next, NULL, &term), ==, -1.0);
    LUX_CHECK_DBL(next[0], ==, -1.2);
    LUX_CHECK_DBL(next[1], ==, 0.0);
    /* Hand-computed: v = 0.0699 + 0.001 - 0.0025 cos(0) = 0.0684, no clip. */
    double s[2] = {0.0, 0.0699};
    step_from(env, s, 2, 2, next, NULL, &term);
    LUX_CHECK_NEAR(next[1], 0.0699 + 0.001 - 0.0025, 1e-17);
    LUX_CHECK_NEAR(next[0], 0.0699 + 0.001 - 0.0025, 1e-17);
    /* Speed clip: near the bottom of the valley pushing right at 0.0699 +
     * 0.001 + 0.0025 > 0.07. */
    double s2[2] = {M_PI / 3, 0.0699};
    step_from(env, s2, 2, 2, next, NULL, &term);
    LUX_CHECK_DBL(next[1], ==, 0.07);
    /* Goal: position >= 0.5 with velocity >= 0 terminates, reward still -1. */
    double s3[2] = {0.49, 0.02};
    LUX_CHECK_DBL(step_from(env, s3, 2, 2, next, NULL, &term), ==, -1.0);
    LUX_CHECK_INT_EQ(term, 1);
    /* Exactly at the goal with velocity exactly 0 (>= on both). */
    double s5[2] = {0.5, -(cos(3 * 0.5) * (-0.0025))};
    step_from(env, s5, 2, 1, next, NULL, &term);
    LUX_CHECK_DBL(next[0], ==, 0.5);
    LUX_CHECK_DBL(next[1], ==, 0.0);
    LUX_CHECK_INT_EQ(term, 1);
    double s4[2] = {0.55, -0.01}; /* beyond the goal but rolling back */
    step_from(env, s4, 2, 0, next, NULL, &term);
    LUX_CHECK_INT_EQ(term, 0);
    lux_env_destroy(&env);
    /* goal_velocity option. */
    env = make("MountainCar-v0", "goal_velocity=0.05");
    step_from(env, s3, 2, 2, next, NULL, &term);
    LUX_CHECK_INT_EQ(term, 0);
    lux_env_destroy(&env);
}

LUX_TEST(mountain_car_continuous_reward_and_precision)
{
    lux_env_t *env = make("MountainCarContinuous-v0", NULL);
    double next[2];
    int term;
    /* The penalty uses the unclipped action; the force is clipped. */
    double s[2] = {-0.5, 0};
    double r_big = step_from(env, s, 2, 3.0, next, NULL, &term);
    double v_big = next[1];
    double r_one = step_from(env, s, 2, 1.0, next, NULL, &term);
    LUX_CHECK_NEAR(r_big, -0.9, 1e-15);
    LUX_CHECK_NEAR(r_one, -0.1, 1e-15);
    LUX_CHECK_DBL(next[1], ==, v_big);
    /* The state is float32. */
    LUX_CHECK_DBL(next[0], ==, (double)(float)next[0]);
    LUX_CHECK_DBL(next[1], ==, (double)(float)next[1]);
    /* Goal at 0.45 pays 100 minus the penalty. */
    double g[2] = {0.44, 0.02};
    double r = step_from(env, g, 2, 0.5, next, NULL, &term);
    LUX_CHECK_INT_EQ(term, 1);
    LUX_CHECK_NEAR(r, 100 - 0.025, 1e-12);
    /* Non-finite actions are rejected, out-of-range finite ones accepted. */
    double nan_action = NAN, rr;
    int tt, tr;
    LUX_CHECK_OK(lux_env_reset(env, 1, NULL));
    LUX_CHECK_ERR(lux_env_step(env, &nan_action, NULL, &rr, &tt, &tr), LUX_ERANGE);
    double inf_action = INFINITY;
    LUX_CHECK_ERR(lux_env_step_box(env, &inf_action, NULL, &rr, &tt, &tr), LUX_ERANGE);
    LUX_CHECK_ERR(lux_env_step_discrete(env, 1, NULL, &rr, &tt, &tr), LUX_EINVAL);
    LUX_CHECK_INT_EQ(lux_env_episode_steps(env), 0);
    lux_env_destroy(&env);
}

/* Pendulum: cost on the pre-step state with the clipped torque, speed clip
 * at 8, reward in [-16.2736044, 0], never terminates. */
LUX_TEST(pendulum_cost_and_clips)
{
    lux_env_t *env = make("Pendulum-v1", NULL);
    double next[2];
    int term;
    double worst[2] = {M_PI, 8.0};
    double r = step_from(env, worst, 2, 2.0, next, NULL, &term);
    LUX_CHECK_NEAR(r, -(M_PI * M_PI + 0.1 * 64 + 0.001 * 4), 1e-12);
    LUX_CHECK_DBL(r, >=, -16.2736045); /* Gymnasium quotes -16.2736044, rounded */
    LUX_CHECK_INT_EQ(term, 0);
    /* Hand-computed: from theta = 0.5, rest, torque 5 (clipped to 2):
     * thdot' = (15 sin 0.5 + 3 * 2) * 0.05, theta' = 0.5 + thdot' * 0.05. */
    double s[2] = {0.5, 0.0};
    r = step_from(env, s, 2, 5.0, next, NULL, &term);
    double thdot = (15 * sin(0.5) + 6.0) * 0.05;
    LUX_CHECK_NEAR(next[1], thdot, 1e-15);
    LUX_CHECK_NEAR(next[0], 0.5 + thdot * 0.05, 1e-15);
    LUX_CHECK_NEAR(r, -(0.25 + 0.001 * 4), 1e-15);
    /* Speed clip. */
    double fast[2] = {1.0, 7.9};
    step_from(env, fast, 2, 2.0, next, NULL, &term);
    LUX_CHECK_DBL(next[1], ==, 8.0);
    double fast_neg[2] = {-1.0, -7.9};
    step_from(env, fast_neg, 2, -2.0, next, NULL, &term);
    LUX_CHECK_DBL(next[1], ==, -8.0);
    /* The angle is normalised in the cost only, not in the state. */
    double wound[2] = {-7.0, 0.0};
    r = step_from(env, wound, 2, 0.0, next, NULL, &term);
    double an = -7.0 + 2 * M_PI;
    LUX_CHECK_NEAR(r, -(an * an), 1e-12);
    LUX_CHECK_DBL(next[0], <, -6.9);
    /* g option. */
    lux_env_destroy(&env);
    env = make("Pendulum-v1", "g=9.81");
    step_from(env, s, 2, 0.0, next, NULL, &term);
    LUX_CHECK_NEAR(next[1], 1.5 * 9.81 * sin(0.5) * 0.05, 1e-15);
    lux_env_destroy(&env);
    LUX_CHECK_NEAR(lux_pendulum_angle_normalize(3 * M_PI), -M_PI, 1e-12);
    LUX_CHECK_NEAR(lux_pendulum_angle_normalize(-0.5), -0.5, 1e-15);
}

/* Mean and variance of n draws of reset variable k against U(lo, hi). */
static void check_uniform_reset(const char *name, int k, double lo, double hi, int f32)
{
    lux_env_t *env = make(name, NULL);
    const int n = 20000;
    double sum = 0, sum2 = 0, mn = INFINITY, mx = -INFINITY;
    for (int i = 0; i < n; i++) {
        double s[LUX_ENV_MAX_STATE];
        LUX_CHECK_OK(lux_env_reset(env, (uint64_t)i, NULL));
        lux_env_get_state(env, s, LUX_ENV_MAX_STATE);
        if (f32)
            LUX_CHECK_DBL(s[k], ==, (double)(float)s[k]);
        sum += s[k];
        sum2 += s[k] * s[k];
        mn = s[k] < mn ? s[k] : mn;
        mx = s[k] > mx ? s[k] : mx;
    }
    double mean = sum / n, var = sum2 / n - mean * mean, w = hi - lo;
    LUX_CHECK_DBL(mn, >=, lo);
    LUX_CHECK_DBL(mx, <=, hi);
    LUX_CHECK_DBL(mn, <, lo + 0.01 * w);
    LUX_CHECK_DBL(mx, >, hi - 0.01 * w);
    /* Standard error of the mean is w / sqrt(12 n) ~ 0.002 w: allow 5 of them. */
    LUX_CHECK_NEAR(mean, (lo + hi) / 2, 0.01 * w);
    LUX_CHECK_NEAR(var, w * w / 12, 0.05 * w * w / 12);
    lux_env_destroy(&env);
}

LUX_TEST(reset_distributions)
{
    for (int k = 0; k < 4; k++)
        check_uniform_reset("CartPole-v1", k, -0.05, 0.05, 0);
    for (int k = 0; k < 4; k++)
        check_uniform_reset("Acrobot-v1", k, -0.1, 0.1, 1);
    check_uniform_reset("MountainCar-v0", 0, -0.6, -0.4, 0);
    check_uniform_reset("MountainCarContinuous-v0", 0, -0.6, -0.4, 1);
    check_uniform_reset("Pendulum-v1", 0, -M_PI, M_PI, 0);
    check_uniform_reset("Pendulum-v1", 1, -1, 1, 0);
    /* Velocities of the mountain cars start at exactly 0. */
    lux_env_t *env = make("MountainCar-v0", NULL);
    float obs[2];
    LUX_CHECK_OK(lux_env_reset(env, 5, obs));
    LUX_CHECK_DBL(obs[1], ==, 0.0f);
    lux_env_destroy(&env);
}

/* Pushing right all the time, the pole falls (to the left) well before the
 * time limit: terminated, not truncated, +1 for every step including the
 * last. (This case is also HACKING.md's example of running one case.) */
LUX_TEST(cartpole_terminates)
{
    lux_env_t *env = make("CartPole-v1", NULL);
    for (uint64_t seed = 0; seed < 20; seed++) {
        float obs[4];
        LUX_CHECK_OK(lux_env_reset(env, seed, obs));
        int term = 0, trunc = 0;
        long t = 0;
        double r = 0;
        while (!term && !trunc) {
            LUX_CHECK_OK(lux_env_step_discrete(env, 1, obs, &r, &term, &trunc));
            t++;
        }
        LUX_CHECK_INT_EQ(term, 1);
        LUX_CHECK_INT_EQ(trunc, 0);
        LUX_CHECK_INT(t, <, 100);
        LUX_CHECK_DBL(r, ==, 1.0);
        LUX_CHECK_DBL(lux_env_episode_return(env), ==, (double)t);
        LUX_CHECK(obs[2] < -0.2094f || obs[0] > 2.4f || obs[0] < -2.4f || obs[2] > 0.2094f);
    }
    lux_env_destroy(&env);
}
