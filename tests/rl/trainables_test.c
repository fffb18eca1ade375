/*
 * The rl trainables through the tune interface: config validation,
 * save/restore exactness (10 iterations straight == 5 + save + restore into a
 * fresh instance + 5, compared byte for byte), determinism, and short
 * learning runs on CartPole asserting clear progress.
 */
#include "cmaes.h"
#include "trainable_int.h"
#include "trainables.h"

#include "lux.h"

#include "alloc.h"
#include "error.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rollout tasks and actors run in worker processes: this executable,
 * re-executed in worker mode. */
int lux_test_premain(int argc, char **argv)
{
    return lux_worker_main(argc, argv);
}

static void start_runtime(void)
{
    lux_init_opts_t o = {0};
    o.num_cpus = 2;
    o.log_dir = lux_test_tmpdir();
    o.num_prestart = -1;
    o.object_store_bytes = 64u << 20;
    LUX_CHECK_OK(lux_init(&o));
}

static json_t *cfg(const char *text)
{
    json_error_t e;
    json_t *c = json_loads(text, 0, &e);
    LUX_CHECK_MSG(c != NULL, "bad test config: %s", e.text);
    return c;
}

static void *setup(const lux_trainable_class_t *cls, json_t *c, uint64_t seed)
{
    lux_trial_context_t ctx = {.trial_id = "t_00000", .seed = seed};
    char err[256] = "";
    void *st = NULL;
    int rc = cls->setup(c, &ctx, &st, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "setup: %s (%s)", lux_strerror(rc), err);
    return st;
}

static json_t *step(const lux_trainable_class_t *cls, void *st)
{
    json_t *r = NULL;
    char err[256] = "";
    int rc = cls->step(st, &r, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "step: %s (%s)", lux_strerror(rc), err);
    return r;
}

static double num(json_t *r, const char *key)
{
    json_t *v = json_object_get(r, key);
    LUX_CHECK_MSG(json_is_number(v), "result has no number '%s'", key);
    return json_number_value(v);
}

/* 10 straight vs 5 + save + restore (fresh instance) + 5. */
static void check_save_restore(const lux_trainable_class_t *cls, const char *config)
{
    json_t *c = cfg(config);
    void *a = setup(cls, c, 77);
    json_t *last_a = NULL;
    for (int i = 0; i < 10; i++) {
        json_decref(last_a);
        last_a = step(cls, a);
    }
    void *b = setup(cls, c, 77);
    for (int i = 0; i < 5; i++)
        json_decref(step(cls, b));
    void *bytes;
    size_t len;
    char err[256] = "";
    LUX_CHECK_OK(cls->save(b, &bytes, &len, err, sizeof err));
    cls->cleanup(b);
    void *r = setup(cls, c, 77);
    LUX_CHECK_OK(cls->restore(r, bytes, len, err, sizeof err));
    lux_free(bytes);
    json_t *last_r = NULL;
    for (int i = 0; i < 5; i++) {
        json_decref(last_r);
        last_r = step(cls, r);
    }
    const char *keys[] = {"episode_reward_mean", "episode_reward_min", "timesteps_total",
                          "episodes_total"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        LUX_CHECK_DBL(num(last_a, keys[i]), ==, num(last_r, keys[i]));
    void *ba, *br;
    size_t la, lr;
    LUX_CHECK_OK(cls->save(a, &ba, &la, err, sizeof err));
    LUX_CHECK_OK(cls->save(r, &br, &lr, err, sizeof err));
    LUX_CHECK_INT_EQ(la, lr);
    LUX_CHECK(memcmp(ba, br, la) == 0);
    /* Garbage is refused with a message. */
    LUX_CHECK_ERR(cls->restore(r, ba, la / 2, err, sizeof err), LUX_EINVAL);
    LUX_CHECK(err[0] != '\0');
    lux_free(ba);
    lux_free(br);
    json_decref(last_a);
    json_decref(last_r);
    cls->cleanup(a);
    cls->cleanup(r);
    json_decref(c);
}

LUX_TEST(validate_rejects_unknown_keys_with_suggestion)
{
    char err[256] = "";
    json_t *c = cfg("{\"env\": \"CartPole-v1\", \"popsiz\": 10}");
    LUX_CHECK_ERR(lux_rl_cmaes_trainable.validate(c, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "did you mean 'popsize'");
    json_decref(c);
    c = cfg("{\"env\": \"CartPole-v1\", \"noise_stdv\": 0.1}");
    LUX_CHECK_ERR(lux_rl_es_trainable.validate(c, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "noise_stdev");
    json_decref(c);
    c = cfg("{\"env\": \"CartPole-v1\", \"seeding\": \"epoc\"}");
    LUX_CHECK_ERR(lux_rl_sepcmaes_trainable.validate(c, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "epoch");
    json_decref(c);
    c = cfg("{\"env\": \"CartPol-v1\"}");
    LUX_CHECK_ERR(lux_rl_a3c_trainable.validate(c, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "CartPole-v1");
    json_decref(c);
    c = cfg("{\"env\": \"CartPole-v1\", \"gamma\": 1.5}");
    LUX_CHECK_ERR(lux_rl_a3c_trainable.validate(c, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "gamma");
    json_decref(c);
    c = cfg("{\"env\": \"Pendulum-v1\", \"fcnet_hiddens\": [8], \"sigma0\": 0.3}");
    LUX_CHECK_OK(lux_rl_cmaes_trainable.validate(c, err, sizeof err));
    json_decref(c);
}

/* Every key docs/trainables.md lists is accepted where it says. */
LUX_TEST(validate_accepts_documented_keys)
{
    char err[256] = "";
    const lux_trainable_class_t *const classes[] = {
        &lux_rl_cmaes_trainable, &lux_rl_sepcmaes_trainable, &lux_rl_es_trainable};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        json_t *c = cfg("{\"env\": \"CartPole-v1\", \"observation_scaling\": \"none\", "
                        "\"num_cpus_per_task\": 0.5}");
        LUX_CHECK_MSG(classes[i]->validate(c, err, sizeof err) == 0, "%s: %s", classes[i]->name,
                      err);
        json_decref(c);
    }
    json_t *c = cfg("{\"env\": \"CartPole-v1\", \"observation_scaling\": \"none\"}");
    LUX_CHECK_MSG(lux_rl_a3c_trainable.validate(c, err, sizeof err) == 0, "a3c: %s", err);
    json_decref(c);
}

LUX_TEST_T(cmaes_save_restore_exact, 60)
{
    check_save_restore(&lux_rl_cmaes_trainable,
                       "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [4], \"popsize\": 6, "
                       "\"episodes_per_eval\": 1, \"eval_episodes\": 2, "
                       "\"env_config\": {\"max_episode_steps\": 100}}");
}

LUX_TEST_T(sepcmaes_save_restore_exact, 60)
{
    check_save_restore(&lux_rl_sepcmaes_trainable,
                       "{\"env\": \"Pendulum-v1\", \"fcnet_hiddens\": [4], \"popsize\": 6, "
                       "\"episodes_per_eval\": 1, \"eval_episodes\": 1, \"seeding\": \"random\", "
                       "\"env_config\": {\"max_episode_steps\": 50}}");
}

LUX_TEST_T(es_save_restore_exact, 60)
{
    check_save_restore(&lux_rl_es_trainable,
                       "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [8], "
                       "\"episodes_per_batch\": 10, \"train_batch_size\": 0, "
                       "\"noise_size\": 100000, \"eval_episodes\": 2, \"eval_prob\": 0.2, "
                       "\"env_config\": {\"max_episode_steps\": 100}}");
}

LUX_TEST_T(es_save_restore_exact_continuous, 60)
{
    check_save_restore(&lux_rl_es_trainable,
                       "{\"env\": \"MountainCarContinuous-v0\", \"fcnet_hiddens\": [8], "
                       "\"episodes_per_batch\": 6, \"train_batch_size\": 0, "
                       "\"noise_size\": 100000, \"eval_episodes\": 1, "
                       "\"env_config\": {\"max_episode_steps\": 60}}");
}

LUX_TEST_T(a3c_save_restore_exact_local_worker, 60)
{
    check_save_restore(&lux_rl_a3c_trainable,
                       "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [16], \"num_workers\": 0, "
                       "\"gradients_per_iteration\": 7, \"rollout_fragment_length\": 9}");
}

LUX_TEST_T(a3c_save_restore_exact_local_worker_gaussian, 60)
{
    check_save_restore(&lux_rl_a3c_trainable,
                       "{\"env\": \"Pendulum-v1\", \"fcnet_hiddens\": [8], \"num_workers\": 0, "
                       "\"gradients_per_iteration\": 5, \"rollout_fragment_length\": 13}");
}

/* Same seed, same results; another seed, other results. */
LUX_TEST_T(cmaes_deterministic_in_seed, 60)
{
    json_t *c = cfg("{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [], \"popsize\": 8, "
                    "\"seeding\": \"random\", \"eval_episodes\": 3}");
    double r[3];
    uint64_t seeds[3] = {5, 5, 6};
    for (int k = 0; k < 3; k++) {
        void *st = setup(&lux_rl_cmaes_trainable, c, seeds[k]);
        json_t *res = NULL;
        for (int i = 0; i < 3; i++) {
            json_decref(res);
            res = step(&lux_rl_cmaes_trainable, st);
        }
        r[k] = num(res, "population_reward_mean") + 1e-3 * num(res, "sigma");
        json_decref(res);
        lux_rl_cmaes_trainable.cleanup(st);
    }
    LUX_CHECK_DBL(r[0], ==, r[1]);
    LUX_CHECK_DBL(r[0], !=, r[2]);
    json_decref(c);
}

/* Runs until the reward reaches `target` or `max_iters` pass. */
static double learn(const lux_trainable_class_t *cls, const char *config, int max_iters,
                    double target, double *first)
{
    json_t *c = cfg(config);
    void *st = setup(cls, c, 1);
    double best = -1e300;
    for (int i = 0; i < max_iters && best < target; i++) {
        json_t *r = step(cls, st);
        double m = num(r, "episode_reward_mean");
        LUX_CHECK(json_is_integer(json_object_get(r, "timesteps_total")));
        if (i == 0)
            *first = m;
        if (m > best)
            best = m;
        json_decref(r);
    }
    cls->cleanup(st);
    json_decref(c);
    return best;
}

LUX_TEST_T(cmaes_learns_cartpole, 60)
{
    double first;
    double best = learn(&lux_rl_cmaes_trainable,
                        "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [], \"popsize\": 10, "
                        "\"episodes_per_eval\": 2, \"eval_episodes\": 5}",
                        15, 300, &first);
    LUX_CHECK_DBL(best, >=, 300);
    LUX_CHECK_DBL(best, >, first);
}

LUX_TEST_T(sepcmaes_learns_cartpole, 60)
{
    double first;
    double best = learn(&lux_rl_sepcmaes_trainable,
                        "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [8], \"popsize\": 12, "
                        "\"episodes_per_eval\": 2, \"eval_episodes\": 5}",
                        60, 300, &first);
    LUX_CHECK_DBL(best, >=, 300);
}

LUX_TEST_T(es_learns_cartpole, 60)
{
    double first;
    double best = learn(&lux_rl_es_trainable,
                        "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [16], "
                        "\"episodes_per_batch\": 40, \"train_batch_size\": 0, "
                        "\"stepsize\": 0.03, \"noise_stdev\": 0.05, "
                        "\"noise_size\": 1000000, \"eval_episodes\": 5}",
                        40, 300, &first);
    LUX_CHECK_DBL(best, >=, 300);
}

LUX_TEST_T(a3c_learns_cartpole, 60)
{
    double first;
    double best = learn(&lux_rl_a3c_trainable,
                        "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [32], \"num_workers\": 0, "
                        "\"lr\": 0.003, \"gradients_per_iteration\": 200}",
                        40, 150, &first);
    LUX_CHECK_DBL(best, >=, 150);
}

LUX_TEST(register_twice_is_harmless)
{
    lux_trainable_registry_clear();
    LUX_CHECK_OK(lux_rl_register_trainables());
    LUX_CHECK_OK(lux_rl_register_trainables());
    LUX_CHECK(lux_trainable_find("sepcmaes") == &lux_rl_sepcmaes_trainable);
    LUX_CHECK(lux_trainable_find("es") == &lux_rl_es_trainable);
    LUX_CHECK(lux_trainable_find("a3c") == &lux_rl_a3c_trainable);
    LUX_CHECK(lux_trainable_find("cmaes") == &lux_rl_cmaes_trainable);
}

/* The results of `iters` steps: each step's result (minus timing) and the
 * final save() bytes, as one comparable string. */
static char *trace(const lux_trainable_class_t *cls, const char *config, int iters)
{
    json_t *c = cfg(config);
    void *st = setup(cls, c, 99);
    json_t *all = json_array();
    for (int i = 0; i < iters; i++) {
        json_t *r = step(cls, st);
        json_object_del(r, "num_workers");
        json_array_append_new(all, r);
    }
    void *bytes;
    size_t len;
    char err[256];
    LUX_CHECK_OK(cls->save(st, &bytes, &len, err, sizeof err));
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ ((unsigned char *)bytes)[i]) * 1099511628211ULL;
    json_array_append_new(all, json_integer((json_int_t)(h >> 1)));
    lux_free(bytes);
    cls->cleanup(st);
    json_decref(c);
    char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(all);
    return text;
}

/* The same trial with rollouts in-process and as runtime tasks. */
static void check_same_in_process_and_runtime(const lux_trainable_class_t *cls, const char *local,
                                              const char *remote, int iters)
{
    char *a = trace(cls, local, iters);
    start_runtime();
    char *b = trace(cls, remote, iters);
    lux_shutdown();
    LUX_CHECK_STR_EQ(a, b);
    free(a);
    free(b);
}

LUX_TEST_T(cmaes_runtime_tasks_match_in_process, 60)
{
    check_same_in_process_and_runtime(
        &lux_rl_sepcmaes_trainable,
        "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [4], \"popsize\": 7, "
        "\"seeding\": \"random\", \"episodes_per_eval\": 2, \"num_workers\": 0}",
        "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [4], \"popsize\": 7, "
        "\"seeding\": \"random\", \"episodes_per_eval\": 2, \"num_workers\": 2, "
        "\"candidates_per_task\": 3}",
        3);
}

LUX_TEST_T(es_runtime_tasks_match_in_process, 60)
{
    check_same_in_process_and_runtime(
        &lux_rl_es_trainable,
        "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [8], \"episodes_per_batch\": 12, "
        "\"train_batch_size\": 300, \"noise_size\": 200000, \"eval_prob\": 0.3, "
        "\"num_workers\": 0}",
        "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [8], \"episodes_per_batch\": 12, "
        "\"train_batch_size\": 300, \"noise_size\": 200000, \"eval_prob\": 0.3, "
        "\"num_workers\": 2, \"pairs_per_task\": 2}",
        3);
}

LUX_TEST_T(a3c_one_actor_matches_local_worker, 60)
{
    check_same_in_process_and_runtime(
        &lux_rl_a3c_trainable,
        "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [8], \"num_workers\": 0, "
        "\"gradients_per_iteration\": 15}",
        "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [8], \"num_workers\": 1, "
        "\"gradients_per_iteration\": 15}",
        3);
}

LUX_TEST_T(a3c_actors_save_restore_exact_one_worker, 60)
{
    start_runtime();
    check_save_restore(&lux_rl_a3c_trainable,
                       "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [8], "
                       "\"num_workers\": 1, \"gradients_per_iteration\": 6}");
    lux_shutdown();
}

LUX_TEST_T(a3c_two_actors_async, 60)
{
    start_runtime();
    json_t *c = cfg("{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [16], \"num_workers\": 2, "
                    "\"gradients_per_iteration\": 50}");
    void *st = setup(&lux_rl_a3c_trainable, c, 3);
    for (int i = 0; i < 3; i++) {
        json_t *r = step(&lux_rl_a3c_trainable, st);
        LUX_CHECK_DBL(num(r, "num_grad_updates"), ==, 50.0 * (i + 1));
        LUX_CHECK_DBL(num(r, "policy_entropy"), >, 0);
        json_decref(r);
    }
    lux_rl_a3c_trainable.cleanup(st);
    json_decref(c);
    lux_shutdown();
}

LUX_TEST(num_workers_without_runtime_is_refused)
{
    json_t *c = cfg("{\"env\": \"CartPole-v1\", \"num_workers\": 2}");
    lux_trial_context_t ctx = {.trial_id = "t", .seed = 1};
    char err[256] = "";
    void *st = NULL;
    LUX_CHECK_ERR(lux_rl_es_trainable.setup(c, &ctx, &st, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "num_workers");
    json_decref(c);
}

LUX_TEST_T(es_and_cmaes_runtime_save_restore_exact, 60)
{
    start_runtime();
    check_save_restore(&lux_rl_es_trainable,
                       "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [8], "
                       "\"episodes_per_batch\": 10, \"train_batch_size\": 0, "
                       "\"noise_size\": 100000, \"eval_episodes\": 2, \"num_workers\": 2, "
                       "\"pairs_per_task\": 2, \"env_config\": {\"max_episode_steps\": 100}}");
    check_save_restore(&lux_rl_cmaes_trainable,
                       "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [4], \"popsize\": 6, "
                       "\"episodes_per_eval\": 1, \"eval_episodes\": 2, \"num_workers\": 2, "
                       "\"candidates_per_task\": 4, \"env_config\": {\"max_episode_steps\": 100}}");
    lux_shutdown();
}

/* score_std is the standard deviation of the 32 chunk means (the builders study, docs/envs.md:
 * 512 evaluation episodes in 32 chunks of 16), not of the episodes: here
 * every chunk mixes returns mean-1 +- 5 and mean-3 +- 5 alternate between
 * chunks, so the chunk means are 1, 3, 1, 3, ... (std 1) while the
 * episodes' std is about 5.1. Uneven splits put the longer chunks first
 * (numpy.array_split). */
LUX_TEST(score_std_is_std_of_chunk_means)
{
    static double x[512];
    for (int i = 0; i < 512; i++)
        x[i] = ((i / 16) % 2 ? 3.0 : 1.0) + (i % 2 ? 5.0 : -5.0);
    LUX_CHECK_NEAR(lux_rl_chunk_means_std(x, 512, LUX_RL_SCORE_CHUNKS), 1.0, 1e-12);
    /* 10 values in 4 chunks: sizes 3, 3, 2, 2; means 1, 2, 3, 4. */
    double y[10] = {1, 1, 1, 2, 2, 2, 3, 3, 4, 4};
    LUX_CHECK_NEAR(lux_rl_chunk_means_std(y, 10, 4), sqrt(1.25), 1e-12);
    /* Fewer values than chunks: one per chunk, numpy.std of the values. */
    double z[2] = {1, 3};
    LUX_CHECK_NEAR(lux_rl_chunk_means_std(z, 2, 32), 1.0, 1e-12);
    LUX_CHECK_DBL(lux_rl_chunk_means_std(z, 0, 32), ==, 0.0);
}

/* The trainable reports it: with two evaluation episodes (two chunks of
 * one) score_std is |a - b| / 2 (the per-episode sample std would be
 * |a - b| / sqrt 2). */
LUX_TEST_T(sepcmaes_builders_reports_chunk_score_std, 120)
{
    json_t *c = cfg("{\"env\": \"builders\", \"env_config\": {\"radius\": 12, "
                    "\"max_episode_steps\": 3000}, \"popsize\": 6, \"episodes_per_eval\": 2, "
                    "\"eval_episodes\": 2, \"num_workers\": 0}");
    void *st = setup(&lux_rl_sepcmaes_trainable, c, 5);
    json_t *r = step(&lux_rl_sepcmaes_trainable, st);
    double lo = num(r, "episode_reward_min"), hi = num(r, "episode_reward_max");
    LUX_CHECK_MSG(hi > lo, "min %g max %g", lo, hi);
    LUX_CHECK_NEAR(num(r, "score_std"), (hi - lo) / 2, 1e-9);
    LUX_CHECK_NEAR(num(r, "score"), (hi + lo) / 2, 1e-9);
    json_decref(r);
    lux_rl_sepcmaes_trainable.cleanup(st);
    json_decref(c);
}

/* The mean's evaluation fans out as tasks of 16 episodes (here 40 episodes:
 * tasks of 16, 16 and 8) and reports the identical score and score_std,
 * and everything else, as the in-process evaluation. */
LUX_TEST_T(cmaes_eval_tasks_match_in_process, 120)
{
    const char *local = "{\"env\": \"builders\", \"env_config\": {\"radius\": 8, "
                        "\"max_episode_steps\": 300}, \"popsize\": 6, \"episodes_per_eval\": 2, "
                        "\"eval_episodes\": 40, \"num_workers\": 0}";
    const char *remote = "{\"env\": \"builders\", \"env_config\": {\"radius\": 8, "
                         "\"max_episode_steps\": 300}, \"popsize\": 6, \"episodes_per_eval\": 2, "
                         "\"eval_episodes\": 40, \"num_workers\": 2, \"candidates_per_task\": 4}";
    char *a = trace(&lux_rl_sepcmaes_trainable, local, 2);
    LUX_CHECK_CONTAINS(a, "\"score\":");
    LUX_CHECK_CONTAINS(a, "\"score_std\":");
    LUX_CHECK_CONTAINS(a, "\"eval_timesteps_total\":");
    free(a);
    check_same_in_process_and_runtime(&lux_rl_sepcmaes_trainable, local, remote, 2);
}

/* lux_rl_cmaes_evaluate_params (what `lux rollout --params` runs) on the
 * mean a checkpoint holds and the trial's evaluation seeds gives exactly the
 * trainable's score; a vector of the wrong length is refused with both
 * counts. */
LUX_TEST_T(cmaes_evaluate_params_reproduces_score, 120)
{
    json_t *c = cfg("{\"env\": \"builders\", \"env_config\": {\"radius\": 8, "
                    "\"max_episode_steps\": 300}, \"popsize\": 6, \"episodes_per_eval\": 2, "
                    "\"eval_episodes\": 24, \"num_workers\": 0}");
    void *st = setup(&lux_rl_sepcmaes_trainable, c, 41);
    json_t *r = step(&lux_rl_sepcmaes_trainable, st);
    void *bytes;
    size_t len;
    char err[256] = "";
    LUX_CHECK_OK(lux_rl_sepcmaes_trainable.save(st, &bytes, &len, err, sizeof err));
    const unsigned char *p = bytes, *end = p + len;
    uint64_t n;
    lux_rl_progress_t pr;
    const void *blob;
    size_t blen;
    LUX_CHECK(lux_rl_header_get(&p, end, "LUXCMAT1", &n, &pr) == 0);
    LUX_CHECK(lux_rl_tail_get(&p, end, &blob, &blen) == 0);
    lux_cmaes_t *es = NULL;
    LUX_CHECK_OK(lux_cmaes_restore(blob, blen, &es));
    uint64_t seeds[24];
    double returns[24];
    long lengths[24];
    for (int e = 0; e < 24; e++)
        seeds[e] = lux_rl_cmaes_eval_seed(41, (uint64_t)e);
    size_t expected = 0;
    LUX_CHECK_OK(lux_rl_cmaes_evaluate_params(c, lux_cmaes_mean(es), (size_t)n, seeds, 24, returns,
                                              lengths, &expected, err, sizeof err));
    LUX_CHECK_INT_EQ(expected, n);
    double sum = 0;
    for (int e = 0; e < 24; e++)
        sum += returns[e];
    LUX_CHECK_DBL(sum / 24, ==, num(r, "score"));
    LUX_CHECK_DBL(lux_rl_chunk_means_std(returns, 24, LUX_RL_SCORE_CHUNKS), ==,
                  num(r, "score_std"));
    LUX_CHECK_ERR(lux_rl_cmaes_evaluate_params(c, lux_cmaes_mean(es), (size_t)n - 1, seeds, 24,
                                               returns, lengths, &expected, err, sizeof err),
                  LUX_EINVAL);
    LUX_CHECK_CONTAINS(err, "expected 1128 parameters");
    LUX_CHECK_CONTAINS(err, "got 1127");
    lux_cmaes_destroy(&es);
    lux_free(bytes);
    json_decref(r);
    lux_rl_sepcmaes_trainable.cleanup(st);
    json_decref(c);
}
