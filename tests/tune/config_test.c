/*
 * Tests of experiment config loading: the example configs load with the
 * values they say, broken configs fail with the exact file:line:column and
 * key in their message, the canonical JSON form round-trips, and the
 * --resume comparison accepts only stop / num_samples growth.
 */
#include "test.h"

#include "alloc.h"
#include "config.h"
#include "error.h"
#include "trainable.h"

#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- toy trainables ------------------------------------------------------- */

static int toy_setup(const json_t *config, const lux_trial_context_t *ctx, void **state, char *err,
                     size_t errlen)
{
    *state = NULL;
    return 0;
}
static int toy_step(void *state, json_t **result, char *err, size_t errlen)
{
    *result = json_object();
    return 0;
}
static int toy_save(void *state, void **bytes, size_t *len, char *err, size_t errlen)
{
    *bytes = NULL;
    *len = 0;
    return 0;
}
static int toy_restore(void *state, const void *bytes, size_t len, char *err, size_t errlen)
{
    return 0;
}
static void toy_cleanup(void *state)
{
}

/* Rejects a popsize below 2, as a real trainable's validate() would. */
static int picky_validate(const json_t *config, char *err, size_t errlen)
{
    const json_t *p = json_object_get(config, "popsize");
    if (p != NULL && json_integer_value(p) < 2) {
        snprintf(err, errlen, "popsize must be >= 2");
        return LUX_ECONFIG;
    }
    return 0;
}

#define TOY(n, v)                                                                                  \
    {                                                                                              \
        n, "toy", v, toy_setup, toy_step, toy_save, toy_restore, toy_cleanup                       \
    }
static const lux_trainable_class_t toys[] = {
    TOY("cmaes", NULL), TOY("sepcmaes", NULL),        TOY("es", NULL),
    TOY("a3c", NULL),   TOY("picky", picky_validate),
};

static const char *const envs[] = {"CartPole-v1", "Pendulum-v1", "builders"};

static lux_config_options_t opts(void)
{
    lux_trainable_registry_clear();
    for (size_t i = 0; i < sizeof toys / sizeof toys[0]; i++)
        LUX_CHECK_OK(lux_trainable_register(&toys[i]));
    lux_config_options_t o = {.env_names = envs, .num_env_names = 3};
    return o;
}

static char *config_path(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/tests/tune/configs/%s", lux_test_source_dir(), name);
    return path;
}

static lux_config_t *load_file(const char *name)
{
    lux_config_options_t o = opts();
    lux_config_t *cfg = NULL;
    char err[1024] = "";
    int rc = lux_config_load(config_path(name), &o, &cfg, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "%s: %s", name, err);
    return cfg;
}

static lux_config_t *load_str(const char *yaml)
{
    lux_config_options_t o = opts();
    lux_config_t *cfg = NULL;
    char err[1024] = "";
    int rc = lux_config_load_string(yaml, strlen(yaml), "t.yaml", &o, &cfg, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "%s", err);
    return cfg;
}

/* ---- good configs ----------------------------------------------------------- */

LUX_TEST(builders_random_search_loads)
{
    lux_config_t *c = load_file("builders-random.yaml");
    LUX_CHECK_STR_EQ(c->name, "builders-random");
    LUX_CHECK_STR_EQ(c->trainable, "sepcmaes");
    LUX_CHECK_STR_EQ(c->env, "builders");
    LUX_CHECK_STR_EQ(c->metric, "score");
    LUX_CHECK_INT_EQ(c->mode, LUX_MODE_MAX);
    LUX_CHECK_INT_EQ(c->num_samples, 81);
    LUX_CHECK_INT_EQ(c->seed, 2024);
    LUX_CHECK_INT_EQ(c->max_concurrent_trials, 8);
    LUX_CHECK_DBL(json_number_value(json_object_get(c->stop, "total_episodes")), ==, 3e7);
    LUX_CHECK_INT_EQ(c->resources.num_bundles, 3);
    LUX_CHECK_DBL(c->resources.bundles[0].cpu, ==, 0.01);
    LUX_CHECK_DBL(c->resources.bundles[2].cpu, ==, 1);
    LUX_CHECK_INT_EQ(c->resources.strategy, LUX_TRIAL_PG_PACK);
    LUX_CHECK_INT_EQ(c->checkpoint.frequency, 10);
    LUX_CHECK(c->checkpoint.at_end);
    LUX_CHECK_INT_EQ(c->checkpoint.num_to_keep, 3);
    LUX_CHECK_STR_EQ(c->checkpoint.score_attribute, "score");
    LUX_CHECK_INT_EQ(c->scheduler.type, LUX_SCHEDULER_FIFO);
    LUX_CHECK_STR_EQ(c->storage, "runs");
    LUX_CHECK_INT_EQ(lux_config_num_trials(c), 81);
    LUX_CHECK_INT_EQ(lux_space_num_variables(c->space), 8);

    /* Trial configs: study bounds, env added, constants kept. */
    for (long k = 0; k < 81; k++) {
        json_t *t = NULL;
        LUX_CHECK_OK(lux_config_trial_config(c, k, &t));
        LUX_CHECK_STR_EQ(json_string_value(json_object_get(t, "env")), "builders");
        json_int_t pop = json_integer_value(json_object_get(t, "popsize"));
        LUX_CHECK(pop >= 30 && pop < 200);
        double a = json_number_value(json_object_get(t, "actions_scale"));
        LUX_CHECK(a >= 2 && a <= 40);
        LUX_CHECK_INT_EQ(json_integer_value(json_object_get(t, "n_hidden")), 20);
        LUX_CHECK_DBL(json_number_value(json_object_get(t, "bias_fac")), ==, 0.1);
        json_decref(t);
    }
    json_t *t = NULL;
    LUX_CHECK_ERR(lux_config_trial_config(c, 81, &t), LUX_ERANGE);
    lux_config_destroy(&c);
    LUX_CHECK(c == NULL);
}

LUX_TEST(builders_asha_loads)
{
    lux_config_t *c = load_file("builders-asha.yaml");
    const lux_scheduler_params_t *p = &c->scheduler;
    LUX_CHECK_INT_EQ(p->type, LUX_SCHEDULER_ASHA);
    LUX_CHECK_STR_EQ(p->time_attr, "total_episodes");
    LUX_CHECK_STR_EQ(p->metric, "score");
    LUX_CHECK_DBL(p->max_t, ==, 3e7);
    LUX_CHECK_DBL(p->grace_period, ==, 1.2e6);
    LUX_CHECK_DBL(p->reduction_factor, ==, 3);
    LUX_CHECK_INT_EQ(p->brackets, 1);
    LUX_CHECK(p->stop_last_trials);
    LUX_CHECK_INT_EQ(c->resources.num_bundles, 1);
    LUX_CHECK_DBL(c->resources.bundles[0].cpu, ==, 1);
    lux_scheduler_t *s = NULL;
    char err[256];
    LUX_CHECK_OK(lux_scheduler_new(p, &s, err, sizeof err));
    lux_scheduler_destroy(&s);
    lux_config_destroy(&c);
}

LUX_TEST(builders_pbt_loads)
{
    lux_config_t *c = load_file("builders-pbt.yaml");
    const lux_scheduler_params_t *p = &c->scheduler;
    LUX_CHECK_INT_EQ(p->type, LUX_SCHEDULER_PBT);
    LUX_CHECK_STR_EQ(p->time_attr, "total_episodes");
    LUX_CHECK_DBL(p->perturbation_interval, ==, 5e6);
    LUX_CHECK_DBL(p->quantile_fraction, ==, 0.25);
    LUX_CHECK_INT_EQ(p->num_perturbation_factors, 2);
    LUX_CHECK(!p->synch);
    LUX_CHECK(p->hyperparam_mutations == c->mutations);
    const lux_domain_t *d = lux_space_find(c->mutations, "episodes_per_eval");
    LUX_CHECK(d != NULL);
    LUX_CHECK_INT_EQ(d->kind, LUX_DOMAIN_LOGRANDINT);
    LUX_CHECK_DBL(d->lower, ==, 50);
    LUX_CHECK_DBL(d->upper, ==, 500);
    LUX_CHECK_INT_EQ(lux_config_num_trials(c), 16);
    lux_config_destroy(&c);
}

LUX_TEST(rllib_shape_with_run_and_grid)
{
    lux_config_t *c = load_file("cartpole-grid-rllib.yaml");
    LUX_CHECK_STR_EQ(c->name, "cartpole-a3c");
    LUX_CHECK_STR_EQ(c->trainable, "a3c");
    LUX_CHECK_INT_EQ(c->search, LUX_SEARCH_GRID);
    LUX_CHECK_DBL(c->time_budget_s, ==, 3600);
    /* 2 lr x 2 entropy (choice enumerated by search: grid) x 2 samples */
    LUX_CHECK_INT_EQ(lux_config_num_trials(c), 8);
    json_t *t = NULL;
    LUX_CHECK_OK(lux_config_trial_config(c, 3, &t));
    LUX_CHECK_DBL(json_number_value(json_object_get(t, "entropy_coeff")), ==, 0.01);
    LUX_CHECK_DBL(json_number_value(json_object_get(t, "lr")), ==, 0.001);
    LUX_CHECK(json_is_array(json_object_get(json_object_get(t, "model"), "fcnet_hiddens")));
    json_decref(t);
    lux_config_destroy(&c);
}

LUX_TEST(defaults_are_rays)
{
    lux_config_t *c = load_str("trainable: es\n");
    LUX_CHECK_STR_EQ(c->name, "t");
    LUX_CHECK(c->env == NULL && c->metric == NULL);
    LUX_CHECK_INT_EQ(c->num_samples, 1);
    LUX_CHECK_INT_EQ(c->max_failures, 0);
    LUX_CHECK_INT_EQ(c->resources.num_bundles, 1);
    LUX_CHECK_DBL(c->resources.bundles[0].cpu, ==, 1);
    LUX_CHECK_INT_EQ(c->scheduler.type, LUX_SCHEDULER_FIFO);
    LUX_CHECK_INT_EQ(c->checkpoint.frequency, 0);
    LUX_CHECK(!c->checkpoint.at_end);
    LUX_CHECK_INT_EQ(lux_config_num_trials(c), 1);
    lux_config_destroy(&c);

    c = load_str("trainable: es\nmetric: r\nmode: min\nscheduler: asha\n");
    LUX_CHECK_INT_EQ(c->scheduler.type, LUX_SCHEDULER_ASHA);
    LUX_CHECK_INT_EQ(c->scheduler.mode, LUX_MODE_MIN);
    LUX_CHECK_STR_EQ(c->scheduler.time_attr, "training_iteration");
    LUX_CHECK_DBL(c->scheduler.max_t, ==, 100);
    LUX_CHECK_DBL(c->scheduler.grace_period, ==, 1);
    LUX_CHECK_DBL(c->scheduler.reduction_factor, ==, 4);
    lux_config_destroy(&c);

    c = load_str("trainable: es\nmetric: r\nmode: max\n"
                 "scheduler: {type: pbt, hyperparam_mutations: {lr: [1, 2]}}\n");
    LUX_CHECK_STR_EQ(c->scheduler.time_attr, "time_total_s");
    LUX_CHECK_DBL(c->scheduler.perturbation_interval, ==, 60);
    LUX_CHECK_DBL(c->scheduler.quantile_fraction, ==, 0.25);
    LUX_CHECK_DBL(c->scheduler.resample_probability, ==, 0.25);
    LUX_CHECK_DBL(c->scheduler.perturbation_factors[0], ==, 1.2);
    LUX_CHECK_DBL(c->scheduler.perturbation_factors[1], ==, 0.8);
    lux_config_destroy(&c);
}

/* ---- broken configs ------------------------------------------------------------ */

typedef struct {
    const char *yaml;
    const char *message; /* the exact start of the message */
} broken_t;

static const broken_t broken[] = {
    /* 0 YAML syntax */
    {"trainable: es\nconfig: {lr: [1, 2}\n", "t.yaml:2:"},
    /* 1 unknown key with suggestion */
    {"trainable: es\nnum_sample: 4\n",
     "t.yaml:2:1: unknown key 'num_sample' in the experiment; did you mean 'num_samples'?"},
    /* 2 wrong type */
    {"trainable: es\nnum_samples: many\n",
     "t.yaml:2:14: num_samples must be an integer, not a string"},
    /* 3 out of range */
    {"trainable: es\nnum_samples: 0\n", "t.yaml:2:14: num_samples must be >= 1, not 0"},
    /* 4 unknown trainable */
    {"trainable: sepcmaez\n",
     "t.yaml:1:12: unknown trainable 'sepcmaez'; did you mean 'sepcmaes'?"},
    /* 5 unknown env */
    {"trainable: es\nenv: CartPole-v0\n",
     "t.yaml:2:6: unknown env 'CartPole-v0'; did you mean 'CartPole-v1'?"},
    /* 6 empty range */
    {"trainable: es\nconfig:\n  lr: {uniform: [1, 1]}\n",
     "t.yaml:3:17: uniform range [1, 1] is empty"},
    /* 7 inverted range */
    {"trainable: es\nconfig:\n  lr: {loguniform: [0.01, 0.0001]}\n",
     "t.yaml:3:20: loguniform range [0.01, 0.0001] is inverted; write [0.0001, 0.01]"},
    /* 8 loguniform with a non-positive bound */
    {"trainable: es\nconfig:\n  lr: {loguniform: [0, 1]}\n",
     "t.yaml:3:21: loguniform needs a lower bound > 0, not 0"},
    /* 9 misspelt distribution */
    {"trainable: es\nconfig:\n  lr: {loguniforn: [1, 2]}\n",
     "t.yaml:3:8: unknown distribution 'loguniforn'; did you mean 'loguniform'?"},
    /* 10 argument count */
    {"trainable: es\nconfig:\n  lr: {uniform: [1]}\n",
     "t.yaml:3:17: uniform takes [lower, upper], not 1 argument"},
    /* 11 integer bounds */
    {"trainable: es\nconfig:\n  pop: {randint: [1.5, 10]}\n",
     "t.yaml:3:19: randint's lower bound must be an integer"},
    /* 12 ASHA grace_period */
    {"trainable: es\nmetric: r\nmode: max\nscheduler:\n  type: asha\n  grace_period: 0\n",
     "t.yaml:6:17: scheduler grace_period: must be > 0, not 0"},
    /* 13 ASHA max_t < grace_period */
    {"trainable: es\nmetric: r\nmode: max\nscheduler:\n  type: asha\n  max_t: 5\n"
     "  grace_period: 10\n",
     "t.yaml:6:10: scheduler max_t: must be >= grace_period (10), not 5"},
    /* 14 ASHA reduction_factor */
    {"trainable: es\nmetric: r\nmode: max\nscheduler: {type: asha, reduction_factor: 1}\n",
     "t.yaml:4:43: scheduler reduction_factor: must be > 1, not 1"},
    /* 15 PBT quantile_fraction */
    {"trainable: es\nmetric: r\nmode: max\nscheduler:\n  type: pbt\n  quantile_fraction: 0.7\n"
     "  hyperparam_mutations: {lr: [1, 2]}\n",
     "t.yaml:6:22: scheduler quantile_fraction: must be within [0, 0.5], not 0.7"},
    /* 16 PBT without mutations */
    {"trainable: es\nmetric: r\nmode: max\nscheduler:\n  type: pbt\n",
     "t.yaml:5:9: scheduler hyperparam_mutations: pbt needs hyperparameters to mutate"},
    /* 17 parameter of another scheduler */
    {"trainable: es\nmetric: r\nmode: max\nscheduler:\n  type: pbt\n  grace_period: 3\n",
     "t.yaml:6:3: 'grace_period' is a parameter of the asha scheduler, not of pbt"},
    /* 18 ASHA without metric */
    {"trainable: es\nscheduler:\n  type: asha\n",
     "t.yaml:3:9: scheduler metric: asha needs the experiment's metric and mode"},
    /* 19 lower-case resource in a bundle */
    {"trainable: es\nresources_per_trial:\n  bundles: [{cpu: 1}]\n",
     "t.yaml:3:14: resource names in bundles are upper case; did you mean 'CPU'?"},
    /* 20 strategy typo */
    {"trainable: es\nresources_per_trial:\n  bundles: [{CPU: 1}]\n  strategy: SPREADS\n",
     "t.yaml:4:13: unknown strategy 'SPREADS'; did you mean 'SPREAD'?"},
    /* 21 stop threshold type */
    {"trainable: es\nstop:\n  training_iteration: lots\n",
     "t.yaml:3:23: stop threshold for 'training_iteration' must be a number"},
    /* 22 duplicate key */
    {"trainable: es\nseed: 1\nseed: 2\n", "t.yaml:3:1: duplicate key 'seed' (first at line 2)"},
    /* 23 checkpoint key typo */
    {"trainable: es\ncheckpoint:\n  frequncy: 5\n",
     "t.yaml:3:3: unknown key 'frequncy' in checkpoint; did you mean 'frequency'?"},
    /* 24 empty file */
    {"", "t.yaml:1:1: the experiment file is empty"},
    /* 25 grid search over a continuous distribution */
    {"trainable: es\nsearch: grid\nconfig:\n  lr: {uniform: [0, 1]}\n",
     "t.yaml:4:8: 'lr' is a uniform distribution, which grid search cannot enumerate"},
    /* 26 the trainable's own validate() */
    {"trainable: picky\nconfig:\n  popsize: 1\n",
     "t.yaml:2:1: trainable 'picky' rejects the config: popsize must be >= 2"},
    /* 27 YAML alias */
    {"trainable: es\nstop: &s {training_iteration: 3}\nconfig: *s\n",
     "t.yaml:3:9: YAML aliases (*name) are not supported"},
    /* 28 empty choice */
    {"trainable: es\nconfig:\n  opt: {choice: []}\n",
     "t.yaml:3:17: choice needs at least one value"},
    /* 29 unknown search */
    {"trainable: es\nsearch: bayes\n", "t.yaml:2:9: search must be one of random or grid"},
    /* 30 missing trainable */
    {"env: builders\n", "t.yaml:1:1: the experiment needs a trainable"},
    /* 31 mode typo */
    {"trainable: es\nmetric: r\nmode: mx\n", "t.yaml:3:7: unknown mode 'mx'; did you mean 'max'?"},
    /* 32 metric without mode */
    {"trainable: es\nmetric: r\n", "t.yaml:2:1: metric is given without mode"},
    /* 33 scheduler type typo */
    {"trainable: es\nscheduler: {type: ashaa}\n",
     "t.yaml:2:19: unknown type 'ashaa'; did you mean 'asha'?"},
    /* 34 cpu and bundles together */
    {"trainable: es\nresources_per_trial:\n  cpu: 2\n  bundles: [{CPU: 1}]\n",
     "t.yaml:3:3: resources_per_trial takes either cpu/gpu or bundles, not both"},
    /* 35 quniform with no multiple of q in range */
    {"trainable: es\nconfig:\n  x: {quniform: [0.1, 0.2, 0.5]}\n",
     "t.yaml:3:17: quniform range [0.1, 0.2] holds no multiple of q=0.5"},
    /* 36 grid_search inside PBT mutations */
    {"trainable: es\nmetric: r\nmode: max\nscheduler:\n  type: pbt\n"
     "  hyperparam_mutations:\n    lr: {grid_search: [1, 2]}\n",
     "t.yaml:7:10: grid_search cannot be a PBT mutation"},
    /* 37 negative time budget */
    {"trainable: es\ntime_budget_s: -5\n", "t.yaml:2:16: time_budget_s must be >= 0, not -5"},
    /* 38 the top level is a list */
    {"- trainable: es\n",
     "t.yaml:1:1: the experiment must be a mapping of keys to values, not a list"},
    /* 40 RLlib's env inside config is checked too */
    {"trainable: es\nconfig:\n  env: Pendulum-v0\n",
     "t.yaml:3:8: unknown env 'Pendulum-v0'; did you mean 'Pendulum-v1'?"},
    /* 41 quniform with q = 1 and no integer in range */
    {"trainable: es\nconfig:\n  x: {quniform: [0.3, 0.7, 1]}\n",
     "t.yaml:3:17: quniform range [0.3, 0.7] holds no multiple of q=1"},
    /* 42 a misspelt scheduler type key */
    {"trainable: es\nscheduler:\n  tpye: asha\n",
     "t.yaml:3:3: unknown key 'tpye' in scheduler; did you mean 'type'?"},
    /* 43 a scheduler without a type */
    {"trainable: es\nscheduler:\n  max_t: 10\n",
     "t.yaml:3:3: scheduler needs a type; add type: fifo, asha or pbt"},
    /* 39 a second document */
    {"trainable: es\n---\ntrainable: a3c\n", "t.yaml:2:1: a second YAML document"},
    /* 44 names are one path component (they become directories) */
    {"name: ../../../tmp/x\ntrainable: es\n",
     "t.yaml:1:7: name may only contain letters, digits, '.', '_' and '-' (it is one directory "
     "under storage), not '/' at byte 3; write e.g. name: .._.._.._tmp_x"},
    /* 45 */
    {"name: a/b\ntrainable: es\n", "t.yaml:1:7: name may only contain letters, digits"},
    /* 46 */
    {"name: ..\ntrainable: es\n",
     "t.yaml:1:7: name may not be '..' (that names the storage directory or its parent)"},
    /* 47 */
    {"name: .\ntrainable: es\n", "t.yaml:1:7: name may not be '.'"},
    /* 48 longer than trial ids can hold */
    {"name: "
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\ntrainable: es\n",
     "t.yaml:1:7: name is 138 bytes long, more than 100; write e.g. name: xxxx"},
    /* 49 RLlib's shape names the experiment by its key */
    {"a b:\n  run: es\n", "t.yaml:1:1: name may only contain letters, digits, '.', '_' and '-' "
                          "(it is one directory under storage), not byte 0x20 at byte 2"},
    /* 50 a reduction factor barely above 1 (was a segfault) */
    {"trainable: es\nmetric: r\nmode: max\n"
     "scheduler: {type: asha, reduction_factor: 1.0000000000001}\n",
     "t.yaml:4:43: scheduler reduction_factor: 1.0000000000000999 would give ASHA more than 64 "
     "rungs between grace_period 1 and max_t 100; use at least 1.07461"},
    /* 51 max_t / grace_period overflows (was a huge calloc) */
    {"trainable: es\nmetric: r\nmode: max\n"
     "scheduler: {type: asha, max_t: 1e308, grace_period: 1e-308}\n",
     "t.yaml:4:32: scheduler max_t: max_t / grace_period must be below 2^63"},
    /* 52 brackets were capped silently */
    {"trainable: es\nmetric: r\nmode: max\nscheduler: {type: asha, brackets: 100}\n",
     "t.yaml:4:35: brackets must be within [1, 64], not 100; lower it"},
    /* 53 quniform's steps (was an empty message) */
    {"trainable: es\nconfig: {x: {quniform: [0, 1e300, 1e-300]}}\n",
     "t.yaml:2:35: quniform's q=1e-300 is too small for values up to 1e+300 (more than 2^53 "
     "steps of q); use q >= 1.11022e+284"},
    /* 54 uniform's width overflowed to inf (was an empty message) */
    {"trainable: es\nconfig: {x: {uniform: [-1e308, 1e308]}}\n",
     "t.yaml:2:24: uniform's lower bound must be within [-1e+300, 1e+300], not -1e308"},
    /* 55 qrandn's subnormal q (was an empty message) */
    {"trainable: es\nconfig: {x: {qrandn: [0, 1, 1e-320]}}\n",
     "t.yaml:2:29: qrandn's q=1e-320 is too small for values up to 10"},
    /* 56 a number a double cannot hold is not quietly a string */
    {"trainable: es\nmetric: -1e400\nmode: max\n",
     "t.yaml:2:9: the number -1e400 is out of range (beyond +-1.8e308, the largest a double "
     "holds)"},
    /* 57 integers beyond the range */
    {"trainable: es\nnum_samples: 1e30\n",
     "t.yaml:2:14: num_samples must be within [1, 1000000], not 1e30; lower it"},
    /* 58 */
    {"trainable: es\nnum_samples: 9223372036854775808\n",
     "t.yaml:2:14: num_samples must be within [1, 1000000], not 9223372036854775808"},
    /* 59 */
    {"trainable: es\nmax_failures: -2\n", "t.yaml:2:15: max_failures must be >= -1, not -2"},
    /* 60 YAML's infinity and NaN spellings */
    {"trainable: es\ntime_budget_s: .inf\n",
     "t.yaml:2:16: time_budget_s must be a finite number, not .inf"},
    /* 61 */
    {"trainable: es\nnum_samples: .nan\n",
     "t.yaml:2:14: num_samples must be an integer within [1, 1000000], not .nan"},
    /* 62 */
    {"trainable: es\ntime_budget_s: 1e10\n",
     "t.yaml:2:16: time_budget_s must be within [0, 1e+09] seconds, not 1e10"},
    /* 63 */
    {"trainable: es\nresources_per_trial: {cpu: 1e-300}\n",
     "t.yaml:2:28: cpu must be 0 or within [0.0001, 1e+15], not 1e-300; raise it"},
    /* 64 */
    {"trainable: es\nresources_per_trial: {bundles: [{CPU: 1e20}]}\n",
     "t.yaml:2:39: resource 'CPU' must be 0 or within [0.0001, 1e+15], not 1e20"},
    /* 65 */
    {"trainable: es\nmetric: r\nmode: max\nscheduler: {type: pbt, perturbation_factors: [1e6],"
     " hyperparam_mutations: {lr: [1, 2]}}\n",
     "t.yaml:4:47: a perturbation factor must be within [0.001, 1000], not 1e6"},
    /* 66 */
    {"trainable: es\ncheckpoint: {frequency: 1e12}\n",
     "t.yaml:2:25: frequency must be within [0, 1000000000], not 1e12"},
    /* 67 integer domains stay exact in a double */
    {"trainable: es\nconfig: {x: {randint: [0, 9223372036854775807]}}\n",
     "t.yaml:2:27: randint's upper bound must be within [-9007199254740992, 9007199254740992]"},
    /* 68 the grid times num_samples */
    {"trainable: es\nnum_samples: 1000000\nconfig: {x: {grid_search: [1, 2]}}\n",
     "t.yaml:2:14: the experiment would have 2000000 trials"},
    /* 69 plugin paths are loaded when the config is */
    {"trainable: /nonexistent/x.so\n",
     "t.yaml:1:12: plugin /nonexistent/x.so: no such file; give the path of a shared library"},
    /* 70 */
    {"trainable: /etc/passwd\n", "t.yaml:1:12: plugin /etc/passwd: cannot load: "},
};

LUX_TEST(broken_configs_name_file_line_column)
{
    lux_config_options_t o = opts();
    size_t n = sizeof broken / sizeof broken[0];
    LUX_CHECK(n >= 20);
    for (size_t i = 0; i < n; i++) {
        lux_config_t *cfg = NULL;
        char err[1024] = "";
        int rc = lux_config_load_string(broken[i].yaml, strlen(broken[i].yaml), "t.yaml", &o, &cfg,
                                        err, sizeof err);
        LUX_CHECK_MSG(rc == LUX_ECONFIG, "case %zu: rc %d, err '%s'", i, rc, err);
        LUX_CHECK(cfg == NULL);
        if (getenv("LUX_CONFIG_TEST_SHOW") != NULL) /* to read them all */
            fprintf(stderr, "%2zu %s\n", i, err);
        LUX_CHECK_MSG(strncmp(err, broken[i].message, strlen(broken[i].message)) == 0,
                      "case %zu:\n  got:      %s\n  expected: %s", i, err, broken[i].message);
        /* Every message says what to do after a ';' or asks a question. */
        LUX_CHECK_MSG(strchr(err, ';') != NULL || strchr(err, '?') != NULL,
                      "case %zu lacks advice: %s", i, err);
    }
}

LUX_TEST(syntax_error_points_at_the_problem)
{
    lux_config_options_t o = opts();
    const char *y = "trainable: es\nconfig:\n  lr: 1\n    bad: 2\n";
    lux_config_t *cfg = NULL;
    char err[512] = "";
    LUX_CHECK_ERR(lux_config_load_string(y, strlen(y), "t.yaml", &o, &cfg, err, sizeof err),
                  LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "t.yaml:4:8: YAML syntax error: mapping values are not allowed");
}

LUX_TEST(missing_file_is_noent)
{
    lux_config_t *cfg = NULL;
    char err[512] = "";
    LUX_CHECK_ERR(lux_config_load("/nonexistent/x.yaml", NULL, &cfg, err, sizeof err), LUX_ENOENT);
    LUX_CHECK_CONTAINS(err, "/nonexistent/x.yaml: cannot open");
}

LUX_TEST(env_predicate_and_unchecked_env)
{
    lux_config_options_t o = opts();
    o.env_names = NULL;
    o.num_env_names = 0;
    lux_config_t *cfg = NULL;
    char err[512] = "";
    const char *y = "trainable: es\nenv: Anything-v9\n";
    LUX_CHECK_OK(lux_config_load_string(y, strlen(y), "t.yaml", &o, &cfg, err, sizeof err));
    lux_config_destroy(&cfg);
}

/* ---- canonical form and resume ----------------------------------------------------- */

LUX_TEST(canonical_json_round_trips)
{
    const char *files[] = {"builders-random.yaml", "builders-asha.yaml", "builders-pbt.yaml",
                           "cartpole-grid-rllib.yaml"};
    for (size_t i = 0; i < 4; i++) {
        lux_config_t *a = load_file(files[i]);
        json_t *ja = lux_config_to_json(a);
        LUX_CHECK(ja != NULL);
        /* Through text, as the store keeps it. */
        char *text = json_dumps(ja, JSON_COMPACT);
        json_t *back = json_loads(text, 0, NULL);
        free(text);
        lux_config_options_t o = opts();
        lux_config_t *b = NULL;
        char err[1024] = "";
        int rc = lux_config_from_json(back, &o, &b, err, sizeof err);
        LUX_CHECK_MSG(rc == 0, "%s: %s", files[i], err);
        json_t *jb = lux_config_to_json(b);
        LUX_CHECK_MSG(json_equal(ja, jb), "%s: canonical forms differ", files[i]);
        const char *fields[20];
        LUX_CHECK_INT_EQ(lux_config_diff(a, b, fields, 20), 0);
        /* The same trials come back. */
        for (long k = 0; k < lux_config_num_trials(a); k += 7) {
            json_t *ta = NULL, *tb = NULL;
            LUX_CHECK_OK(lux_config_trial_config(a, k, &ta));
            LUX_CHECK_OK(lux_config_trial_config(b, k, &tb));
            LUX_CHECK(json_equal(ta, tb));
            json_decref(ta);
            json_decref(tb);
        }
        json_decref(ja);
        json_decref(jb);
        json_decref(back);
        lux_config_destroy(&a);
        lux_config_destroy(&b);
    }
}

LUX_TEST(canonical_json_fills_defaults_in_fixed_order)
{
    lux_config_t *c = load_str("trainable: es\n");
    json_t *j = lux_config_to_json(c);
    const char *want[] = {"name",
                          "trainable",
                          "env",
                          "metric",
                          "mode",
                          "num_samples",
                          "seed",
                          "stop",
                          "time_budget_s",
                          "resources_per_trial",
                          "max_concurrent_trials",
                          "max_failures",
                          "checkpoint",
                          "search",
                          "scheduler",
                          "config",
                          "storage"};
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        LUX_CHECK(i < sizeof want / sizeof want[0]);
        LUX_CHECK_STR_EQ(key, want[i]);
        i++;
    }
    LUX_CHECK_INT_EQ(i, sizeof want / sizeof want[0]);
    char *text = json_dumps(json_object_get(j, "resources_per_trial"), JSON_COMPACT);
    LUX_CHECK_STR_EQ(text, "{\"bundles\":[{\"CPU\":1.0}],\"strategy\":\"PACK\"}");
    free(text);
    json_decref(j);
    lux_config_destroy(&c);
}

LUX_TEST(diff_names_changed_fields_and_resume_rule)
{
    const char *base = "trainable: es\nmetric: r\nmode: max\nnum_samples: 4\n"
                       "stop: {training_iteration: 10}\nconfig: {lr: {uniform: [0, 1]}}\n";
    lux_config_t *a = load_str(base);
    lux_config_t *b = load_str("trainable: es\nmetric: r\nmode: max\nnum_samples: 8\n"
                               "stop: {training_iteration: 20}\n"
                               "config: {lr: {uniform: [0, 1]}}\n");
    const char *f[20];
    size_t n = lux_config_diff(a, b, f, 20);
    LUX_CHECK_INT_EQ(n, 2);
    LUX_CHECK_STR_EQ(f[0], "num_samples");
    LUX_CHECK_STR_EQ(f[1], "stop");
    char err[512] = "";
    LUX_CHECK_OK(lux_config_resume_check(a, b, err, sizeof err));
    /* Fewer samples is refused. */
    LUX_CHECK_ERR(lux_config_resume_check(b, a, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "num_samples shrank from 8 to 4");
    lux_config_destroy(&b);
    /* Another search space is refused. */
    b = load_str("trainable: es\nmetric: r\nmode: max\nnum_samples: 4\n"
                 "stop: {training_iteration: 10}\nconfig: {lr: {uniform: [0, 2]}}\n");
    n = lux_config_diff(a, b, f, 20);
    LUX_CHECK_INT_EQ(n, 1);
    LUX_CHECK_STR_EQ(f[0], "config");
    LUX_CHECK_ERR(lux_config_resume_check(a, b, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "'config' changed since the experiment started");
    lux_config_destroy(&b);
    /* So is another scheduler parameter. */
    b = load_str("trainable: es\nmetric: r\nmode: max\nnum_samples: 4\n"
                 "stop: {training_iteration: 10}\nconfig: {lr: {uniform: [0, 1]}}\n"
                 "scheduler: {type: asha, max_t: 50}\n");
    n = lux_config_diff(a, b, f, 20);
    LUX_CHECK_INT_EQ(n, 1);
    LUX_CHECK_STR_EQ(f[0], "scheduler");
    lux_config_destroy(&b);
    lux_config_destroy(&a);
}

LUX_TEST(yaml_scalars_follow_the_core_schema)
{
    lux_config_t *c = load_str("trainable: es\nconfig:\n  a: 1e-4\n  b: '12'\n  c: 12\n"
                               "  d: true\n  e: ~\n  f: 1.5\n  g: -3\n  h: text\n  i: \"1.0\"\n");
    json_t *t = NULL;
    LUX_CHECK_OK(lux_config_trial_config(c, 0, &t));
    LUX_CHECK(json_is_real(json_object_get(t, "a")));
    LUX_CHECK_DBL(json_real_value(json_object_get(t, "a")), ==, 1e-4);
    LUX_CHECK(json_is_string(json_object_get(t, "b")));
    LUX_CHECK(json_is_integer(json_object_get(t, "c")));
    LUX_CHECK(json_is_true(json_object_get(t, "d")));
    LUX_CHECK(json_is_null(json_object_get(t, "e")));
    LUX_CHECK(json_is_real(json_object_get(t, "f")));
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(t, "g")), -3);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(t, "h")), "text");
    LUX_CHECK(json_is_string(json_object_get(t, "i")));
    json_decref(t);
    lux_config_destroy(&c);
}

LUX_TEST(allocation_failures_unwind_cleanly)
{
    /* Every allocation of a full load may fail: the loader reports
     * LUX_ENOMEM (never a bogus config error) and frees what it built. */
    lux_config_options_t o = opts();
    const char *files[] = {"builders-pbt.yaml", "builders-random.yaml"};
    for (size_t f = 0; f < 2; f++) {
        int failures_seen = 0;
        for (long n = 0; n < 5000; n++) {
            lux_config_t *cfg = NULL;
            char err[512] = "";
            lux_alloc_fail_after(n);
            int rc = lux_config_load(config_path(files[f]), &o, &cfg, err, sizeof err);
            long injected = lux_alloc_failures();
            lux_alloc_fail_reset();
            if (injected == 0) {
                LUX_CHECK_OK(rc);
                lux_config_destroy(&cfg);
                break;
            }
            failures_seen++;
            LUX_CHECK_MSG(rc == LUX_ENOMEM, "%s, allocation %ld: rc %d (%s)", files[f], n, rc, err);
            LUX_CHECK(cfg == NULL);
        }
        LUX_CHECK(failures_seen > 10);
    }
}

LUX_TEST_T(every_prefix_and_byte_flip_of_the_examples_is_handled, 30)
{
    /* Truncated or corrupted files must give a clean error (or a config),
     * never a crash or a leak; the sanitizer build checks the latter. */
    lux_config_options_t o = opts();
    const char *files[] = {"builders-pbt.yaml", "cartpole-grid-rllib.yaml"};
    for (size_t f = 0; f < 2; f++) {
        FILE *fp = fopen(config_path(files[f]), "rb");
        LUX_CHECK(fp != NULL);
        char text[8192];
        size_t len = fread(text, 1, sizeof text, fp);
        fclose(fp);
        static const char flips[] = ":{}[]-,'\"\n #&*!|>0";
        for (size_t cut = 0; cut <= len; cut += 3) {
            char buf[8192];
            memcpy(buf, text, len);
            for (int variant = 0; variant < 2; variant++) {
                size_t n = cut;
                if (variant == 1) {
                    if (cut == len)
                        break;
                    n = len;
                    buf[cut] = flips[cut % (sizeof flips - 1)];
                }
                lux_config_t *cfg = NULL;
                char err[1024] = "";
                int rc = lux_config_load_string(buf, n, "f.yaml", &o, &cfg, err, sizeof err);
                LUX_CHECK_MSG(rc == 0 || rc == LUX_ECONFIG, "%s cut %zu: rc %d", files[f], cut, rc);
                if (rc == 0) {
                    json_t *j = lux_config_to_json(cfg);
                    LUX_CHECK(j != NULL);
                    json_decref(j);
                    lux_config_destroy(&cfg);
                } else {
                    LUX_CHECK_MSG(strncmp(err, "f.yaml:", 7) == 0, "%s", err);
                }
            }
        }
    }
}

LUX_TEST(every_shipped_experiment_loads)
{
    /* The ready-to-run configs under experiments/ must stay valid. */
    lux_config_options_t o = opts();
    o.env_names = NULL; /* environments are not linked into this test */
    o.num_env_names = 0;
    char pattern[1024];
    snprintf(pattern, sizeof pattern, "%s/experiments/*.yaml", lux_test_source_dir());
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0)
        return; /* none yet */
    for (size_t i = 0; i < g.gl_pathc; i++) {
        lux_config_t *cfg = NULL;
        char err[1024] = "";
        int rc = lux_config_load(g.gl_pathv[i], &o, &cfg, err, sizeof err);
        LUX_CHECK_MSG(rc == 0, "%s", err);
        LUX_CHECK(lux_config_num_trials(cfg) >= 1);
        lux_config_destroy(&cfg);
    }
    globfree(&g);
}

/* `lux run --smoke`: the smoke: mapping is merged over the file (nested
 * mappings key by key, everything else replaced), and the name gets -smoke. */
LUX_TEST(smoke_section_merges_over_the_file)
{
    lux_config_options_t o = opts();
    const char *y = "name: study\ntrainable: sepcmaes\nenv: builders\nnum_samples: 81\n"
                    "stop: {total_episodes: 30000000}\n"
                    "config:\n  popsize: {lograndint: [30, 200]}\n  episodes_per_eval: 60\n"
                    "  n_hidden: 20\n"
                    "smoke:\n  num_samples: 2\n  stop: {training_iteration: 1}\n"
                    "  config: {popsize: 8, extra: 1}\n";
    lux_config_t *cfg = NULL;
    char err[1024] = "";
    /* Without --smoke the section is ignored. */
    LUX_CHECK_OK(lux_config_load_string(y, strlen(y), "t.yaml", &o, &cfg, err, sizeof err));
    LUX_CHECK_INT_EQ(cfg->num_samples, 81);
    LUX_CHECK_STR_EQ(cfg->name, "study");
    lux_config_destroy(&cfg);
    o.smoke = true;
    LUX_CHECK_OK(lux_config_load_string(y, strlen(y), "t.yaml", &o, &cfg, err, sizeof err));
    LUX_CHECK_INT_EQ(cfg->num_samples, 2);
    LUX_CHECK_STR_EQ(cfg->name, "study-smoke");
    /* stop is replaced as a whole mapping merge: both keys present. */
    LUX_CHECK(json_object_get(cfg->stop, "training_iteration") != NULL);
    json_t *trial = NULL;
    LUX_CHECK_OK(lux_config_trial_config(cfg, 0, &trial));
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(trial, "popsize")), 8);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(trial, "episodes_per_eval")), 60);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(trial, "extra")), 1);
    json_decref(trial);
    lux_config_destroy(&cfg);
    /* A smoke: that is not a mapping is reported where it stands. */
    const char *bad = "trainable: sepcmaes\nsmoke: 3\n";
    LUX_CHECK_ERR(lux_config_load_string(bad, strlen(bad), "t.yaml", &o, &cfg, err, sizeof err),
                  LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "t.yaml:2:8: smoke must be a mapping");
}

/* ---- limits: hostile configs are refused before anything is created ------------ */

/* `lux run` on a config whose name tries to leave (or nest under) the
 * storage directory exits 2 with the name's position and creates nothing:
 * not the storage directory, not the directory the name points at. */
LUX_TEST_T(names_never_create_anything_outside_storage, 60)
{
    char escape[256], storage[4200], parent_probe[4400];
    snprintf(escape, sizeof escape, "lux-config-escape-%ld", (long)getpid());
    snprintf(storage, sizeof storage, "%s/runs", lux_test_tmpdir());
    /* storage/../../NAME is the tmpdir's parent's NAME. */
    snprintf(parent_probe, sizeof parent_probe, "%s/../%s", lux_test_tmpdir(), escape);
    char long_name[160];
    memset(long_name, 'x', 140);
    long_name[140] = '\0';
    char names[4][300];
    snprintf(names[0], sizeof names[0], "../../%s", escape);
    snprintf(names[1], sizeof names[1], "a/b");
    snprintf(names[2], sizeof names[2], "..");
    snprintf(names[3], sizeof names[3], "%s", long_name);
    for (int i = 0; i < 4; i++) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml,
                 "name: %s\ntrainable: es\nenv: CartPole-v1\nnum_samples: 2\n"
                 "stop: {training_iteration: 1}\n",
                 names[i]);
        const char *path = lux_test_write_tmp("n.yaml", yaml);
        const char *args[] = {"run", path, "--storage", storage, "-q", NULL};
        char *out = NULL, *err = NULL;
        int rc = lux_test_lux(args, NULL, 30, &out, &err);
        LUX_CHECK_MSG(rc == 2, "name %s: exit %d\n%s%s", names[i], rc, out, err);
        char want[4300];
        snprintf(want, sizeof want, "%s:1:7: name ", path);
        LUX_CHECK_CONTAINS(err, want);
        free(out);
        free(err);
        LUX_CHECK_MSG(access(storage, F_OK) != 0, "name %s created %s", names[i], storage);
        LUX_CHECK_MSG(access(parent_probe, F_OK) != 0, "name %s created %s", names[i],
                      parent_probe);
    }
}

/* The crashes and empty messages of the issue, through the real binary:
 * exit 2 with a positioned message, and a tiny time budget runs clean. */
LUX_TEST_T(hostile_numbers_exit_2_with_a_position, 60)
{
    static const struct {
        const char *extra, *message;
    } cases[] = {
        {"metric: r\nmode: max\nscheduler: {type: asha, reduction_factor: 1.0000000000001}\n",
         ":6:43: scheduler reduction_factor:"},
        {"metric: r\nmode: max\nscheduler: {type: asha, max_t: 1e308, grace_period: 1e-308}\n",
         ":6:32: scheduler max_t:"},
        {"config: {x: {quniform: [0, 1e300, 1e-300]}}\n", ":4:35: quniform's q=1e-300"},
        {"config: {x: {uniform: [-1e308, 1e308]}}\n", ":4:24: uniform's lower bound"},
        {"config: {x: {qrandn: [0, 1, 1e-320]}}\n", ":4:29: qrandn's q=1e-320"},
        {"metric: -1e400\nmode: max\n", ":4:9: the number -1e400 is out of range"},
    };
    char storage[4200];
    snprintf(storage, sizeof storage, "%s/runs", lux_test_tmpdir());
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "trainable: es\nenv: CartPole-v1\nstop: {training_iteration: 1}\n%s",
                 cases[i].extra);
        const char *path = lux_test_write_tmp("h.yaml", yaml);
        const char *args[] = {"run", path, "--storage", storage, "-q", NULL};
        char *out = NULL, *err = NULL;
        int rc = lux_test_lux(args, NULL, 30, &out, &err);
        LUX_CHECK_MSG(rc == 2, "case %zu: exit %d\n%s%s", i, rc, out, err);
        char want[4300];
        snprintf(want, sizeof want, "%s%s", path, cases[i].message);
        LUX_CHECK_CONTAINS(err, want);
        free(out);
        free(err);
        LUX_CHECK(access(storage, F_OK) != 0);
    }
    /* time_budget_s: 1e-300 is a valid budget, spent at once: the run ends
     * with its trial left for a resume (exit 3), and UBSan stays quiet. */
    const char *path = lux_test_write_tmp("b.yaml", "trainable: es\nenv: CartPole-v1\n"
                                                    "stop: {training_iteration: 1}\n"
                                                    "time_budget_s: 1e-300\n");
    const char *args[] = {"run", path, "--storage", storage, "-q", NULL};
    char *out = NULL, *err = NULL;
    int rc = lux_test_lux(args, NULL, 30, &out, &err);
    LUX_CHECK_MSG(rc == 3, "exit %d\n%s%s", rc, out, err);
    LUX_CHECK_CONTAINS(err, "time budget");
    free(out);
    free(err);
}

LUX_TEST(config_files_are_bounded_and_read_errors_name_the_file)
{
    lux_config_options_t o = opts();
    lux_config_t *cfg = NULL;
    char err[1024] = "";
    /* A device that never ends: refused by size, with a message. */
    LUX_CHECK_ERR(lux_config_load("/dev/zero", &o, &cfg, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "/dev/zero: the file is larger than 16 MiB, the limit for an "
                            "experiment file;");
    LUX_CHECK(cfg == NULL);
    /* A directory opens but cannot be read. */
    err[0] = '\0';
    LUX_CHECK_ERR(lux_config_load(lux_test_tmpdir(), &o, &cfg, err, sizeof err), LUX_EIO);
    char want[4300];
    snprintf(want, sizeof want, "%s: cannot read: ", lux_test_tmpdir());
    LUX_CHECK_CONTAINS(err, want);
    /* A regular file one byte over the limit. */
    char path[4300];
    snprintf(path, sizeof path, "%s/big.yaml", lux_test_tmpdir());
    FILE *f = fopen(path, "wb");
    LUX_CHECK(f != NULL);
    LUX_CHECK(fseek(f, LUX_CONFIG_MAX_FILE_BYTES, SEEK_SET) == 0 && fputc('\n', f) == '\n');
    fclose(f);
    err[0] = '\0';
    LUX_CHECK_ERR(lux_config_load(path, &o, &cfg, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "big.yaml: the file is larger than 16 MiB");
    remove(path);
}

LUX_TEST(bundle_count_is_bounded_at_its_position)
{
    lux_config_options_t o = opts();
    size_t cap = 20 * 5000 + 100, len = 0;
    char *y = malloc(cap);
    LUX_CHECK(y != NULL);
    len +=
        (size_t)snprintf(y + len, cap - len, "trainable: es\nresources_per_trial:\n  bundles: [");
    for (int i = 0; i < 5000; i++)
        len += (size_t)snprintf(y + len, cap - len, "%s{CPU: 0.001}", i ? ", " : "");
    len += (size_t)snprintf(y + len, cap - len, "]\n");
    lux_config_t *cfg = NULL;
    char err[1024] = "";
    LUX_CHECK_ERR(lux_config_load_string(y, len, "t.yaml", &o, &cfg, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "t.yaml:3:12: bundles lists 5000 bundles, more than 1024;");
    free(y);
}

/* Checks made after loading (the runner's resources against the machine)
 * can still point at the field. */
LUX_TEST(later_checks_get_the_fields_position)
{
    lux_config_t *c = load_str("trainable: es\nresources_per_trial: {cpu: 1000}\n");
    char err[256];
    LUX_CHECK_INT_EQ(lux_config_error(c, "resources_per_trial", err, sizeof err,
                                      "asks for %d CPU; lower it", 1000),
                     LUX_ECONFIG);
    LUX_CHECK_STR_EQ(err, "t.yaml:2:22: asks for 1000 CPU; lower it");
    /* A field the file left out: the file alone. */
    lux_config_error(c, "checkpoint", err, sizeof err, "x; y");
    LUX_CHECK_STR_EQ(err, "t.yaml: x; y");
    /* A config loaded back from JSON has no positions. */
    json_t *j = lux_config_to_json(c);
    lux_config_t *back = NULL;
    lux_config_options_t o = opts();
    LUX_CHECK_OK(lux_config_from_json(j, &o, &back, err, sizeof err));
    lux_config_error(back, "resources_per_trial", err, sizeof err, "x; y");
    LUX_CHECK_STR_EQ(err, "<json>: x; y");
    json_decref(j);
    lux_config_destroy(&back);
    lux_config_destroy(&c);
}

LUX_TEST(name_check_for_command_line_names)
{
    char err[512];
    LUX_CHECK_OK(lux_config_name_check("builders-asha_2.v1", err, sizeof err));
    LUX_CHECK_ERR(lux_config_name_check("../x", err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_STR_EQ(err, "the experiment name may only contain letters, digits, '.', '_' and '-' "
                          "(it is one directory under storage), not '/' at byte 3; use e.g. .._x");
    LUX_CHECK_ERR(lux_config_name_check("..", err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_ERR(lux_config_name_check("", err, sizeof err), LUX_ECONFIG);
    char n[102];
    memset(n, 'a', 101);
    n[101] = '\0';
    LUX_CHECK_ERR(lux_config_name_check(n, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "is 101 bytes long, more than 100");
    n[100] = '\0';
    LUX_CHECK_OK(lux_config_name_check(n, err, sizeof err));
    /* --smoke's suffix counts, and a name from the file name is checked. */
    lux_config_options_t o = opts();
    o.smoke = true;
    char y[256];
    snprintf(y, sizeof y, "name: %s\ntrainable: es\nsmoke: {num_samples: 1}\n", n);
    lux_config_t *cfg = NULL;
    LUX_CHECK_ERR(lux_config_load_string(y, strlen(y), "t.yaml", &o, &cfg, err, sizeof err),
                  LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "t.yaml:1:7: name is 106 bytes long, more than 100 with --smoke's");
    o.smoke = false;
    LUX_CHECK_ERR(
        lux_config_load_string("trainable: es\n", 14, "dir/my exp.yaml", &o, &cfg, err, sizeof err),
        LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "dir/my exp.yaml:1:1: the experiment's name comes from the file name "
                            "and may only contain");
    LUX_CHECK_CONTAINS(err, "add e.g. name: my_exp or rename the file");
}
