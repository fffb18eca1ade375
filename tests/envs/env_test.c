/*
 * The environment interface: the registry, keyword options, bad input
 * (unknown names, actions outside the space, wrong state lengths), the
 * reset/step contract, determinism of the classic environments, and the
 * `lux envs` / `lux env-trace` commands run against the real binary.
 */
#include "test.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "env.h"
#include "error.h"

static lux_env_t *make(const char *name, const char *options)
{
    lux_env_t *env = NULL;
    char err[256];
    int rc = lux_env_make(name, options, &env, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "lux_env_make(%s, %s): %s", name, options ? options : "NULL", err);
    return env;
}

LUX_TEST(registry_matches_gymnasium)
{
    static const struct {
        const char *name;
        int obs, act_kind, act_n;
        long steps;
        int has_thr;
        double thr;
    } want[] = {
        {"CartPole-v0", 4, LUX_ENV_SPACE_DISCRETE, 2, 200, 1, 195.0},
        {"CartPole-v1", 4, LUX_ENV_SPACE_DISCRETE, 2, 500, 1, 475.0},
        {"Acrobot-v1", 6, LUX_ENV_SPACE_DISCRETE, 3, 500, 1, -100.0},
        {"MountainCar-v0", 2, LUX_ENV_SPACE_DISCRETE, 3, 200, 1, -110.0},
        {"MountainCarContinuous-v0", 2, LUX_ENV_SPACE_BOX, 1, 999, 1, 90.0},
        {"Pendulum-v1", 3, LUX_ENV_SPACE_BOX, 1, 200, 0, 0},
        {"builders", 24, LUX_ENV_SPACE_DISCRETE, 10, 10000, 0, 0},
    };
    LUX_CHECK_INT_EQ(lux_env_registry_count(), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const lux_env_info_t *e = lux_env_registry_find(want[i].name);
        LUX_CHECK_MSG(e != NULL, "%s missing", want[i].name);
        LUX_CHECK(e == lux_env_registry_get(i));
        LUX_CHECK_INT_EQ(e->observation.kind, LUX_ENV_SPACE_BOX);
        LUX_CHECK_INT_EQ(e->observation.n, want[i].obs);
        LUX_CHECK_INT(e->observation.n, <=, LUX_ENV_MAX_OBS);
        LUX_CHECK_INT_EQ(e->observation.shape[0], want[i].obs);
        LUX_CHECK_INT_EQ(e->action.kind, want[i].act_kind);
        LUX_CHECK_INT_EQ(e->action.n, want[i].act_n);
        LUX_CHECK_INT_EQ(e->max_episode_steps, want[i].steps);
        LUX_CHECK_INT_EQ(e->has_reward_threshold, want[i].has_thr);
        if (want[i].has_thr)
            LUX_CHECK_DBL(e->reward_threshold, ==, want[i].thr);
        LUX_CHECK(lux_env_options(want[i].name) != NULL);
        LUX_CHECK_CONTAINS(lux_env_options(want[i].name), "max_episode_steps");
    }
    LUX_CHECK(lux_env_registry_get(99) == NULL);
    LUX_CHECK(lux_env_registry_find("cartpole") == NULL);
    /* Bounds. */
    const lux_env_info_t *cp = lux_env_registry_find("CartPole-v1");
    LUX_CHECK_DBL(cp->observation.high[0], ==, 4.8);
    LUX_CHECK(isinf(cp->observation.high[1]));
    LUX_CHECK_NEAR(cp->observation.high[2], 0.41887902047863906, 1e-15);
    const lux_env_info_t *ac = lux_env_registry_find("Acrobot-v1");
    LUX_CHECK_DBL(ac->observation.high[4], ==, 4 * M_PI);
    LUX_CHECK_DBL(ac->observation.low[5], ==, -9 * M_PI);
    const lux_env_info_t *pe = lux_env_registry_find("Pendulum-v1");
    LUX_CHECK_DBL(pe->action.low[0], ==, -2.0);
    LUX_CHECK_DBL(pe->observation.high[2], ==, 8.0);
    const lux_env_info_t *mc = lux_env_registry_find("MountainCar-v0");
    LUX_CHECK_DBL(mc->observation.low[0], ==, -1.2);
    LUX_CHECK_DBL(mc->observation.high[1], ==, 0.07);
    LUX_CHECK_STR_EQ(cp->state_layout, "x,x_dot,theta,theta_dot");
}

LUX_TEST(unknown_environment_suggests)
{
    lux_env_t *env = (lux_env_t *)1;
    char err[256];
    LUX_CHECK_ERR(lux_env_make("CartPole-v2", NULL, &env, err, sizeof err), LUX_ENOENT);
    LUX_CHECK(env == NULL);
    LUX_CHECK_CONTAINS(err, "unknown environment 'CartPole-v2'; did you mean 'CartPole-v");
    LUX_CHECK_ERR(lux_env_make("cartpole", NULL, &env, err, sizeof err), LUX_ENOENT);
    LUX_CHECK_CONTAINS(err, "did you mean 'CartPole-v1'?");
    LUX_CHECK_ERR(lux_env_make("cartpole-v0", NULL, &env, err, sizeof err), LUX_ENOENT);
    LUX_CHECK_CONTAINS(err, "did you mean 'CartPole-v0'?");
    LUX_CHECK_ERR(lux_env_make("pendulum", NULL, &env, err, sizeof err), LUX_ENOENT);
    LUX_CHECK_CONTAINS(err, "did you mean 'Pendulum-v1'?");
    LUX_CHECK_ERR(lux_env_make("MountainCarContinous-v0", NULL, &env, err, sizeof err), LUX_ENOENT);
    LUX_CHECK_CONTAINS(err, "did you mean 'MountainCarContinuous-v0'?");
    LUX_CHECK_ERR(lux_env_make("zzzzzzzz", NULL, &env, err, sizeof err), LUX_ENOENT);
    LUX_CHECK_CONTAINS(err, "lux envs");
    LUX_CHECK_ERR(lux_env_make(NULL, NULL, &env, err, sizeof err), LUX_ENOENT);
    LUX_CHECK_ERR(lux_env_make("nope", NULL, &env, NULL, 0), LUX_ENOENT); /* no buffer */
    char tiny[8];
    LUX_CHECK_ERR(lux_env_make("nope", NULL, &env, tiny, sizeof tiny), LUX_ENOENT);
    LUX_CHECK_INT_EQ(strlen(tiny), 7);
}

LUX_TEST(options_json_and_key_value)
{
    lux_env_t *env = make("CartPole-v1", "{\"max_episode_steps\": 1000}");
    LUX_CHECK_INT_EQ(lux_env_info(env)->max_episode_steps, 1000);
    lux_env_destroy(&env);
    env = make("CartPole-v1", "  max_episode_steps = 7 , sutton_barto_reward=true ");
    LUX_CHECK_INT_EQ(lux_env_info(env)->max_episode_steps, 7);
    lux_env_destroy(&env);
    env = make("CartPole-v1", "{}");
    LUX_CHECK_INT_EQ(lux_env_info(env)->max_episode_steps, 500);
    lux_env_destroy(&env);
    env = make("CartPole-v1", "");
    lux_env_destroy(&env);
    env = make("builders", "{\"radius\": 10, \"num_agents\": 2, \"food_prob\": 0.2, "
                           "\"max_episode_steps\": 50}");
    LUX_CHECK_INT_EQ(lux_env_num_agents(env), 2);
    LUX_CHECK_INT_EQ(lux_env_info(env)->num_agents, 2);
    /* The registry entry is unchanged by an instance's options. */
    LUX_CHECK_INT_EQ(lux_env_registry_find("builders")->num_agents, 5);
    lux_env_destroy(&env);
    /* max_episode_steps = 0: no time limit. */
    env = make("Pendulum-v1", "max_episode_steps=0");
    LUX_CHECK_OK(lux_env_reset(env, 1, NULL));
    double a = 0, r;
    int term, trunc;
    for (int i = 0; i < 1000; i++) {
        LUX_CHECK_OK(lux_env_step(env, &a, NULL, &r, &term, &trunc));
        LUX_CHECK_INT_EQ(trunc, 0);
    }
    lux_env_destroy(&env);
}

LUX_TEST(options_errors)
{
    static const struct {
        const char *name, *options, *message;
    } bad[] = {
        {"CartPole-v1", "max_episode_step=3", "did you mean 'max_episode_steps'?"},
        {"CartPole-v1", "radius=3", "unknown option 'radius'"},
        {"CartPole-v1", "max_episode_steps=-1", "out of range"},
        {"CartPole-v1", "max_episode_steps=2.5", "whole number"},
        {"CartPole-v1", "max_episode_steps=abc", "needs a number"},
        {"CartPole-v1", "max_episode_steps", "expected ':' or '='"},
        {"CartPole-v1", "{\"max_episode_steps\": 3", "missing '}'"},
        {"CartPole-v1", "{\"max_episode_steps\": 3} x", "after '}'"},
        {"CartPole-v1", "max_episode_steps=3 4", "expected ','"},
        {"CartPole-v1", "=3", "expected a name"},
        {"CartPole-v1", "sutton_barto_reward=2", "out of range"},
        {"builders", "radius=0", "out of range"},
        {"builders", "wall_prob=1.5", "out of range"},
        {"builders", "radius=1,num_agents=8", "do not fit"},
        {"builders", "num_agent=3", "did you mean 'num_agents'?"},
        {"Pendulum-v1", "g=nan", "needs a number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lux_env_t *env = (lux_env_t *)1;
        char err[256] = "";
        LUX_CHECK_ERR(lux_env_make(bad[i].name, bad[i].options, &env, err, sizeof err), LUX_EINVAL);
        LUX_CHECK(env == NULL);
        LUX_CHECK_CONTAINS(err, bad[i].message);
        LUX_CHECK_CONTAINS(err, bad[i].name);
    }
}

LUX_TEST(step_contract)
{
    lux_env_t *env = make("CartPole-v1", NULL);
    float obs[4];
    double r = 123, s[4] = {0, 0, 0, 0};
    int term = 5, trunc = 5;
    /* Not reset yet. */
    LUX_CHECK_ERR(lux_env_step_discrete(env, 0, obs, &r, &term, &trunc), LUX_EINVAL);
    LUX_CHECK_ERR(lux_env_set_state(env, s, 4, obs), LUX_EINVAL);
    LUX_CHECK_OK(lux_env_reset(env, 0, obs));
    /* Actions outside the space; nothing changes. */
    double before[4], after[4];
    lux_env_get_state(env, before, 4);
    LUX_CHECK_ERR(lux_env_step_discrete(env, 2, obs, &r, &term, &trunc), LUX_ERANGE);
    LUX_CHECK_ERR(lux_env_step_discrete(env, -1, obs, &r, &term, &trunc), LUX_ERANGE);
    double bad[] = {0.5, 2.0, -1.0, NAN, INFINITY};
    for (int i = 0; i < 5; i++)
        LUX_CHECK_ERR(lux_env_step(env, &bad[i], obs, &r, &term, &trunc), LUX_ERANGE);
    LUX_CHECK_ERR(lux_env_step_box(env, bad, obs, &r, &term, &trunc), LUX_EINVAL);
    LUX_CHECK_ERR(lux_env_step(env, NULL, obs, &r, &term, &trunc), LUX_EINVAL);
    lux_env_get_state(env, after, 4);
    LUX_CHECK(memcmp(before, after, sizeof before) == 0);
    LUX_CHECK_INT_EQ(lux_env_episode_steps(env), 0);
    LUX_CHECK_DBL(r, ==, 123);
    /* Wrong state length, non-finite state. */
    LUX_CHECK_ERR(lux_env_set_state(env, s, 3, obs), LUX_EINVAL);
    LUX_CHECK_ERR(lux_env_set_state(env, s, 5, obs), LUX_EINVAL);
    LUX_CHECK_ERR(lux_env_set_state(env, NULL, 4, obs), LUX_EINVAL);
    double nan_state[4] = {0, NAN, 0, 0};
    LUX_CHECK_ERR(lux_env_set_state(env, nan_state, 4, obs), LUX_EINVAL);
    /* Valid steps; NULL outputs are allowed. */
    LUX_CHECK_OK(lux_env_step_discrete(env, 1, NULL, NULL, NULL, NULL));
    LUX_CHECK_OK(lux_env_step_discrete(env, 0, obs, &r, &term, &trunc));
    LUX_CHECK_INT_EQ(lux_env_episode_steps(env), 2);
    LUX_CHECK_DBL(lux_env_episode_return(env), ==, 2.0);
    LUX_CHECK_INT_EQ(lux_env_current_agent(env), 0);
    LUX_CHECK_INT_EQ(lux_env_num_agents(env), 1);
    /* get_state reports the dimension even with a short buffer. */
    LUX_CHECK_INT_EQ(lux_env_get_state(env, s, 2), 4);
    LUX_CHECK_INT_EQ(lux_env_get_state(env, NULL, 0), 4);
    /* set_state writes the observation, float32 of the state. */
    double st[4] = {0.1, -0.2, 0.03, 1e-9};
    LUX_CHECK_OK(lux_env_set_state(env, st, 4, obs));
    for (int i = 0; i < 4; i++)
        LUX_CHECK_DBL(obs[i], ==, (float)st[i]);
    lux_env_destroy(&env);
    lux_env_destroy(&env); /* NULL is fine */
    lux_env_destroy(NULL);
}

/* Same seed, same episode; different environments do not share a
 * generator. */
LUX_TEST(classic_seed_determinism)
{
    for (size_t e = 0; e < lux_env_registry_count(); e++) {
        const lux_env_info_t *info = lux_env_registry_get(e);
        if (info->num_agents > 1)
            continue;
        lux_env_t *a = make(info->name, NULL), *b = make(info->name, NULL);
        float oa[LUX_ENV_MAX_OBS], ob[LUX_ENV_MAX_OBS];
        LUX_CHECK_OK(lux_env_reset(a, 77, oa));
        LUX_CHECK_OK(lux_env_reset(b, 12, ob));
        LUX_CHECK(memcmp(oa, ob, sizeof(float) * (size_t)info->observation.n) != 0);
        LUX_CHECK_OK(lux_env_reset(b, 77, ob));
        LUX_CHECK(memcmp(oa, ob, sizeof(float) * (size_t)info->observation.n) == 0);
        for (int t = 0; t < 50; t++) {
            double act =
                info->action.kind == LUX_ENV_SPACE_DISCRETE ? (double)(t % info->action.n) : sin(t);
            double ra, rb;
            int ta, tb, ua, ub;
            LUX_CHECK_OK(lux_env_step(a, &act, oa, &ra, &ta, &ua));
            LUX_CHECK_OK(lux_env_step(b, &act, ob, &rb, &tb, &ub));
            LUX_CHECK(memcmp(oa, ob, sizeof(float) * (size_t)info->observation.n) == 0);
            LUX_CHECK_DBL(ra, ==, rb);
            if (ta || ua)
                break;
        }
        lux_env_destroy(&a);
        lux_env_destroy(&b);
    }
}

LUX_TEST(render_classic)
{
    lux_env_t *env = make("MountainCar-v0", NULL);
    LUX_CHECK_OK(lux_env_reset(env, 0, NULL));
    double s[2] = {-0.5, 0.01};
    LUX_CHECK_OK(lux_env_set_state(env, s, 2, NULL));
    char buf[256];
    size_t n = lux_env_render_text(env, buf, sizeof buf);
    LUX_CHECK_INT_EQ(n, strlen(buf));
    LUX_CHECK_CONTAINS(buf, "MountainCar-v0 step 0: position=-0.5 velocity=0.01");
    char small[5];
    LUX_CHECK_INT_EQ(lux_env_render_text(env, small, sizeof small), n);
    LUX_CHECK_STR_EQ(small, "Moun");
    lux_env_destroy(&env);
}

LUX_TEST(cli_envs_lists_registry)
{
    char *out, *err;
    const char *a1[] = {"envs", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a1, NULL, 20, &out, &err), 0);
    LUX_CHECK_CONTAINS(out, "CartPole-v1");
    LUX_CHECK_CONTAINS(out, "Discrete(2)");
    LUX_CHECK_CONTAINS(out, "builders");
    LUX_CHECK_CONTAINS(out, "475");
    LUX_CHECK_CONTAINS(out, "10000");
    free(out);
    free(err);
    const char *a2[] = {"envs", "--json", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a2, NULL, 20, &out, &err), 0);
    LUX_CHECK_CONTAINS(out, "\"name\": \"MountainCarContinuous-v0\"");
    LUX_CHECK_CONTAINS(out, "\"reward_threshold\": null");
    free(out);
    free(err);
    const char *a3[] = {"envs", "--options", "builders", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a3, NULL, 20, &out, &err), 0);
    LUX_CHECK_CONTAINS(out, "radius (int, default 33)");
    free(out);
    free(err);
    const char *a4[] = {"envs", "--options", "pendulum", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a4, NULL, 20, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "did you mean 'Pendulum-v1'?");
    free(out);
    free(err);
    const char *a5[] = {"envs", "--bounds", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a5, NULL, 20, &out, &err), 0);
    LUX_CHECK_CONTAINS(out, "x,x_dot,theta,theta_dot");
    free(out);
    free(err);
}

LUX_TEST(cli_env_trace)
{
    char *out, *err;
    /* From an explicit state at rest, push left: the CSV row is the
     * hand-computed first step. */
    const char *a1[] = {"env-trace", "CartPole-v1", "--seed", "3",     "--state",
                        "0,0,0,0",   "--actions",   "0,1",    "--csv", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a1, NULL, 20, &out, &err), 0);
    LUX_CHECK_CONTAINS(out, "step,action,obs0,obs1,obs2,obs3,reward,terminated,truncated,x,x_dot,"
                            "theta,theta_dot\n");
    LUX_CHECK_CONTAINS(out, "\n0,,0,0,0,0,0,0,0,0,0,0,0\n");
    LUX_CHECK_CONTAINS(out, "\n1,0,0,-0.195121944,0,0.292682916,1,0,0,0,-0.1951219512195122,0,"
                            "0.29268292682926828\n");
    /* Three lines plus the header. */
    int lines = 0;
    for (const char *p = out; *p; p++)
        lines += *p == '\n';
    LUX_CHECK_INT_EQ(lines, 4);
    free(out);
    free(err);
    /* Termination stops the trace and says so. */
    const char *a2[] = {"env-trace", "CartPole-v1", "--state", "2.4,1,0,0",
                        "--actions", "1,1,1",       NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a2, NULL, 20, &out, &err), 0);
    LUX_CHECK_CONTAINS(out, "\n1 1 [");
    LUX_CHECK(strstr(out, "\n2 1 [") == NULL);
    LUX_CHECK_CONTAINS(err, "ended (terminated) at step 1");
    free(out);
    free(err);
    /* Same seed, same trace. */
    const char *a3[] = {"env-trace", "Acrobot-v1", "--seed", "9", "--actions", "0,1,2,2,2", NULL};
    char *out2, *err2;
    LUX_CHECK_INT_EQ(lux_test_lux(a3, NULL, 20, &out, &err), 0);
    LUX_CHECK_INT_EQ(lux_test_lux(a3, NULL, 20, &out2, &err2), 0);
    LUX_CHECK_STR_EQ(out, out2);
    free(out);
    free(err);
    free(out2);
    free(err2);
    /* builders with rendering. */
    const char *a4[] = {"env-trace", "builders", "--options", "radius=4,max_episode_steps=2",
                        "--actions", "0,9",      "--render",  NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a4, NULL, 20, &out, &err), 0);
    LUX_CHECK_CONTAINS(out, "agent 0: q=");
    LUX_CHECK_CONTAINS(out, "agent=2");
    free(out);
    free(err);
}

LUX_TEST(cli_env_trace_bad_input)
{
    static const struct {
        const char *args[8];
        const char *message;
    } bad[] = {
        {{"env-trace", "cartpole-v1", NULL}, "did you mean 'CartPole-v1'?"},
        {{"env-trace", "CartPole-v1", "--actions", "0,2", NULL}, "outside Discrete(2)"},
        {{"env-trace", "CartPole-v1", "--actions", "0,0.5", NULL}, "outside Discrete(2)"},
        {{"env-trace", "CartPole-v1", "--actions", "0,,1", NULL}, "not a number"},
        {{"env-trace", "CartPole-v1", "--state", "1,2,3", NULL}, "has 4 state values"},
        {{"env-trace", "CartPole-v1", "--state", "1,2,3,nan", NULL}, "not a finite number"},
        {{"env-trace", "CartPole-v1", "--seed", "-1", NULL}, "unsigned integer"},
        {{"env-trace", "CartPole-v1", "--sed", "1", NULL}, "did you mean '--seed'?"},
        {{"env-trace", "Pendulum-v1", "--actions", "1:2", NULL}, "has 2 values"},
        {{"env-trace", "builders", "--state", "1", NULL}, "no settable state"},
        {{"env-trace", "builders", "--options", "radius=x", NULL}, "needs a number"},
        {{"env-trace", NULL}, "expected one environment name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out, *err;
        LUX_CHECK_INT_EQ(lux_test_lux(bad[i].args, NULL, 20, &out, &err), 2);
        LUX_CHECK_CONTAINS(err, bad[i].message);
        LUX_CHECK_STR_EQ(out, ""); /* no partial trace */
        free(out);
        free(err);
    }
    /* Out-of-bounds box actions are clipped with a note, not refused. */
    char *out, *err;
    const char *a[] = {"env-trace", "Pendulum-v1", "--actions", "5", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a, NULL, 20, &out, &err), 0);
    LUX_CHECK_CONTAINS(err, "clips it as Gymnasium does");
    free(out);
    free(err);
}

/* The same seeds give the same returns whether the episodes run in one
 * thread or spread over several running at once: no shared state. */
typedef struct {
    const char *name;
    int first, count;
    double returns[64];
} worker_t;

static void *run_episodes(void *arg)
{
    worker_t *w = arg;
    lux_env_t *env = NULL;
    char err[128];
    if (lux_env_make(w->name, "max_episode_steps=200", &env, err, sizeof err) != 0)
        return NULL;
    float obs[LUX_ENV_MAX_OBS];
    for (int k = 0; k < w->count; k++) {
        int seed = w->first + k;
        lux_env_reset(env, (uint64_t)seed, obs);
        int term = 0, trunc = 0, t = 0;
        while (!term && !trunc) {
            int a = (seed * 31 + t++ * 7) % lux_env_info(env)->action.n;
            lux_env_step_discrete(env, a, obs, NULL, &term, &trunc);
        }
        w->returns[k] = lux_env_episode_return(env);
    }
    lux_env_destroy(&env);
    return NULL;
}

LUX_TEST(determinism_across_threads)
{
    const char *names[2] = {"CartPole-v1", "builders"};
    for (int e = 0; e < 2; e++) {
        worker_t serial = {names[e], 0, 32, {0}};
        run_episodes(&serial);
        worker_t par[4];
        pthread_t th[4];
        for (int i = 0; i < 4; i++) {
            par[i] = (worker_t){names[e], i * 8, 8, {0}};
            LUX_CHECK_INT_EQ(pthread_create(&th[i], NULL, run_episodes, &par[i]), 0);
        }
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        int differ = 0;
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < 8; k++) {
                LUX_CHECK_DBL(par[i].returns[k], ==, serial.returns[i * 8 + k]);
                differ += serial.returns[i * 8 + k] != serial.returns[0];
            }
        LUX_CHECK_INT(differ, >, 0); /* the seeds matter */
    }
}

/* Every allocation failure while making an environment is reported as
 * LUX_ENOMEM with nothing leaked (the sanitizer build checks leaks). */
LUX_TEST(make_survives_allocation_failures)
{
    const char *names[2] = {"builders", "CartPole-v1"};
    for (int e = 0; e < 2; e++) {
        int failures = 0;
        for (long n = 0; n < 10; n++) {
            lux_env_t *env = (lux_env_t *)1;
            char err[128] = "";
            lux_alloc_fail_after(n);
            int rc = lux_env_make(names[e], NULL, &env, err, sizeof err);
            lux_alloc_fail_reset();
            if (rc == 0) {
                LUX_CHECK_OK(lux_env_reset(env, 1, NULL));
                lux_env_destroy(&env);
                break;
            }
            failures++;
            LUX_CHECK_ERR(rc, LUX_ENOMEM);
            LUX_CHECK(env == NULL);
            LUX_CHECK_CONTAINS(err, "out of memory");
        }
        LUX_CHECK_INT(failures, >=, 1);
    }
}

LUX_TEST(cli_bench_envs_smoke)
{
    char *out, *err;
    const char *a[] = {"bench", "envs",      "--env", "builders", "--repeats",
                       "1",     "--seconds", "0.01",  NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a, NULL, 20, &out, &err), 0);
    LUX_CHECK_CONTAINS(out, "\"builders_agent_steps_per_s\"");
    LUX_CHECK_CONTAINS(out, "\"builders_reset_us\"");
    LUX_CHECK(strstr(out, "CartPole") == NULL);
    free(out);
    free(err);
    const char *b[] = {"bench", "envs", "--env", "cartpole", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(b, NULL, 20, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "did you mean 'CartPole-v1'?");
    free(out);
    free(err);
}

/* Random option strings never crash the parser (the sanitizer build checks
 * memory errors): each is accepted or rejected with a message. */
LUX_TEST(options_parser_random_input)
{
    static const char alphabet[] = "{}\":=, _.-+eE0123456789maxepisodrtuflsngyb\t";
    uint64_t x = 88172645463325252ULL;
    char text[48], err[128];
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t len = (size_t)(x % (sizeof text - 1));
        for (size_t k = 0; k < len; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            text[k] = alphabet[x % (sizeof alphabet - 1)];
        }
        text[len] = '\0';
        lux_env_t *env = NULL;
        err[0] = '\0';
        int rc = lux_env_make(i % 2 ? "CartPole-v1" : "builders", text, &env, err, sizeof err);
        if (rc == 0) {
            LUX_CHECK(env != NULL);
            lux_env_destroy(&env);
        } else {
            LUX_CHECK_ERR(rc, LUX_EINVAL);
            LUX_CHECK(env == NULL);
            LUX_CHECK(err[0] != '\0');
        }
    }
}
