/*
 * The a3c trainable: Ray's original A3C driver loop with an actor-critic MLP
 * (shared trunk, value output). Each worker owns an environment, a copy of
 * the weights as they were when its last gradient request was sent, and its
 * own random stream; it collects a fragment of rollout_fragment_length
 * steps (or up to the end of the episode), computes GAE(gamma, lambda)
 * advantages and the gradient of the A3C loss, and the driver clips the
 * gradient by global norm (grad_clip), applies it with Adam, and hands the
 * worker the new weights.
 *
 * In-process the workers take turns in a fixed round-robin, which is one
 * possible arrival order of the asynchronous loop: with num_workers > 1 each
 * gradient is computed on weights that are num_workers - 1 updates stale,
 * exactly as when the workers run in parallel and their gradients arrive in
 * that order.
 *
 * Checkpoints: an episode in progress cannot be copied out of an
 * environment in general (builders keeps its generator inside), so each
 * worker records the actions of its current episode; restore resets the
 * environment with the episode's seed and replays them, which reproduces the
 * environment bit-for-bit.
 */
#include "adam.h"
#include "policy_loss.h"
#include "trainable_common.h"
#include "trainables.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define A3C_ITERATION UINT64_C(0xa3c0a3c0)
#define REWARD_WINDOW 100
#define MAX_WORKERS   64

typedef struct {
    lux_env_t *env;
    lux_policy_t *policy; /* the worker's (stale) copy of the weights */
    lux_rng_t rng;
    uint64_t episode_index;
    double *actions; /* this episode's actions, for replay */
    size_t nactions, cap_actions;
    float obs[LUX_ENV_MAX_OBS];
    double episode_return;
    long episode_length;
} worker_t;

typedef struct {
    lux_rl_spec_t spec;
    lux_policy_t *global;
    lux_adam_t *adam;
    size_t n;
    uint64_t seed;
    int action_n;
    /* config */
    double lr, gamma, lambda, grad_clip, vf_loss_coeff, entropy_coeff;
    long fragment, num_workers, grads_per_iter;
    /* state */
    worker_t workers[MAX_WORKERS];
    long next_worker;
    long iteration, timesteps_total, episodes_total, num_grad_updates;
    double window[REWARD_WINDOW];
    long window_count;
    /* scratch for one fragment */
    double *obs, *acts, *rewards, *values, *adv, *targets, *grad;
} a3c_state_t;

static const char *const a3c_keys[] = {
    "lr",
    "gamma",
    "lambda",
    "grad_clip",
    "vf_loss_coeff",
    "entropy_coeff",
    "rollout_fragment_length",
    "sample_batch_size",
    "num_workers",
    "gradients_per_iteration",
};

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != 0)                                                                              \
            return rc_;                                                                            \
    } while (0)

static int read_config(const json_t *c, a3c_state_t *s, char *err, size_t errlen)
{
    lux_rl_spec_defaults_t d = {.discrete_argmax = 0,
                                .continuous_gauss = 1,
                                .value_head = 1,
                                .num_hidden = 2,
                                .hidden = {64, 64}};
    TRY(lux_rl_spec_from_config(c, &d, &s->spec, err, errlen));
    if (s->spec.builders || s->spec.policy.argmax) {
        snprintf(err, errlen,
                 "a3c needs a sampling MLP policy (no builders policy, "
                 "discrete_action \"sample\")");
        return LUX_ECONFIG;
    }
    TRY(lux_cfg_double(c, "lr", 1e-3, 1e-12, 10, &s->lr, err, errlen));
    TRY(lux_cfg_double(c, "gamma", 0.99, 0, 1, &s->gamma, err, errlen));
    TRY(lux_cfg_double(c, "lambda", 1.0, 0, 1, &s->lambda, err, errlen));
    TRY(lux_cfg_double(c, "grad_clip", 40.0, 0, 1e12, &s->grad_clip, err, errlen));
    TRY(lux_cfg_double(c, "vf_loss_coeff", 0.5, 0, 1e6, &s->vf_loss_coeff, err, errlen));
    TRY(lux_cfg_double(c, "entropy_coeff", 0.01, -1e6, 1e6, &s->entropy_coeff, err, errlen));
    long sbs;
    TRY(lux_cfg_int(c, "sample_batch_size", 20, 1, 1L << 20, &sbs, err, errlen));
    TRY(lux_cfg_int(c, "rollout_fragment_length", sbs, 1, 1L << 20, &s->fragment, err, errlen));
    TRY(lux_cfg_int(c, "num_workers", 2, 0, MAX_WORKERS, &s->num_workers, err, errlen));
    if (s->num_workers == 0)
        s->num_workers = 1; /* the local worker */
    TRY(lux_cfg_int(c, "gradients_per_iteration", 100, 1, 1L << 30, &s->grads_per_iter, err,
                    errlen));
    return 0;
}

static int a3c_validate(const json_t *config, char *err, size_t errlen)
{
    const char *keys[64];
    size_t n = 0;
    for (size_t i = 0; i < sizeof a3c_keys / sizeof a3c_keys[0]; i++)
        keys[n++] = a3c_keys[i];
    for (size_t i = 0; i < lux_rl_spec_nkeys; i++)
        keys[n++] = lux_rl_spec_keys[i];
    TRY(lux_cfg_check_keys(config, "a3c", keys, n, err, errlen));
    a3c_state_t *s = lux_calloc(1, sizeof *s);
    if (s == NULL)
        return LUX_ENOMEM;
    int rc = read_config(config, s, err, errlen);
    lux_free(s);
    return rc;
}

static void a3c_cleanup(void *state)
{
    a3c_state_t *s = state;
    if (s == NULL)
        return;
    for (int w = 0; w < MAX_WORKERS; w++) {
        lux_env_destroy(&s->workers[w].env);
        lux_policy_destroy(&s->workers[w].policy);
        lux_free(s->workers[w].actions);
    }
    lux_policy_destroy(&s->global);
    lux_adam_destroy(&s->adam);
    lux_free(s->obs);
    lux_free(s->acts);
    lux_free(s->rewards);
    lux_free(s->values);
    lux_free(s->adv);
    lux_free(s->targets);
    lux_free(s->grad);
    lux_free(s);
}

static uint64_t episode_seed(const a3c_state_t *s, int w)
{
    return lux_seed_derive(s->seed, A3C_ITERATION, (uint64_t)w, s->workers[w].episode_index);
}

static int begin_episode(a3c_state_t *s, int w)
{
    worker_t *k = &s->workers[w];
    k->nactions = 0;
    k->episode_return = 0;
    k->episode_length = 0;
    return lux_env_reset(k->env, episode_seed(s, w), k->obs);
}

static int record_action(a3c_state_t *s, worker_t *k, const double *a)
{
    if (k->nactions + (size_t)s->action_n > k->cap_actions) {
        size_t cap = k->cap_actions ? 2 * k->cap_actions : 1024;
        double *na = lux_realloc(k->actions, cap * sizeof *na);
        if (na == NULL)
            return LUX_ENOMEM;
        k->actions = na;
        k->cap_actions = cap;
    }
    memcpy(k->actions + k->nactions, a, (size_t)s->action_n * sizeof *a);
    k->nactions += (size_t)s->action_n;
    return 0;
}

static int a3c_setup(const json_t *config, const lux_trial_context_t *ctx, void **state, char *err,
                     size_t errlen)
{
    a3c_state_t *s = lux_calloc(1, sizeof *s);
    if (s == NULL)
        return LUX_ENOMEM;
    s->seed = ctx->seed;
    int rc = read_config(config, s, err, errlen);
    if (rc != 0) {
        lux_free(s);
        return rc;
    }
    s->global = lux_policy_new(&s->spec.policy);
    if (s->global == NULL) {
        a3c_cleanup(s);
        return LUX_ENOMEM;
    }
    s->n = lux_policy_num_params(s->global);
    s->action_n = s->spec.policy.head == LUX_HEAD_DISCRETE ? 1 : s->spec.policy.action_dim;
    lux_rng_t rng;
    lux_rng_seed(&rng, lux_seed_derive(s->seed, 0, 0, UINT64_C(0xa3c1)));
    lux_policy_init_params(s->global, &rng);
    lux_adam_opts_t ao;
    lux_adam_opts_default(&ao);
    ao.lr = s->lr;
    size_t F = (size_t)s->fragment, od = (size_t)s->spec.policy.obs_dim;
    s->obs = lux_malloc(F * od * sizeof(double));
    s->acts = lux_malloc(F * (size_t)s->action_n * sizeof(double));
    s->rewards = lux_malloc(F * sizeof(double));
    s->values = lux_malloc(F * sizeof(double));
    s->adv = lux_malloc(F * sizeof(double));
    s->targets = lux_malloc(F * sizeof(double));
    s->grad = lux_malloc(s->n * sizeof(double));
    if (s->obs == NULL || s->acts == NULL || s->rewards == NULL || s->values == NULL ||
        s->adv == NULL || s->targets == NULL || s->grad == NULL ||
        lux_adam_new(s->n, &ao, &s->adam) != 0) {
        a3c_cleanup(s);
        return LUX_ENOMEM;
    }
    for (int w = 0; w < s->num_workers && rc == 0; w++) {
        worker_t *k = &s->workers[w];
        rc = lux_env_make(s->spec.env_name, s->spec.env_options, &k->env, err, errlen);
        if (rc != 0)
            break;
        k->policy = lux_policy_new(&s->spec.policy);
        if (k->policy == NULL) {
            rc = LUX_ENOMEM;
            break;
        }
        lux_policy_set_params(k->policy, lux_policy_params(s->global));
        lux_rng_seed(&k->rng, lux_seed_derive(s->seed, A3C_ITERATION, (uint64_t)w, UINT64_MAX));
        rc = begin_episode(s, w);
    }
    if (rc != 0) {
        a3c_cleanup(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* Worker w collects one fragment with its own weights and computes the
 * gradient of the loss into s->grad. */
static int compute_gradient(a3c_state_t *s, int w, lux_a3c_loss_t *loss, long *steps)
{
    worker_t *k = &s->workers[w];
    const lux_env_info_t *info = lux_env_info(k->env);
    int od = s->spec.policy.obs_dim, T = 0, terminated = 0, truncated = 0;
    while (T < s->fragment) {
        double *x = s->obs + (size_t)T * (size_t)od;
        for (int i = 0; i < od; i++)
            x[i] = (double)k->obs[i];
        double action[LUX_ENV_MAX_ACTION], raw[LUX_ENV_MAX_ACTION];
        TRY(lux_policy_act(k->policy, x, &k->rng, action, raw));
        memcpy(s->acts + (size_t)T * (size_t)s->action_n, raw,
               (size_t)s->action_n * sizeof(double));
        TRY(record_action(s, k, action));
        double r;
        TRY(lux_env_step(k->env, action, k->obs, &r, &terminated, &truncated));
        s->rewards[T++] = r;
        k->episode_return += r;
        k->episode_length++;
        if (terminated || truncated)
            break;
    }
    (void)info;
    *steps += T;
    /* Values of the fragment's states, and the bootstrap. */
    const double *y;
    int no = lux_policy_num_outputs(k->policy), vi = s->spec.policy.action_dim;
    TRY(lux_policy_forward(k->policy, s->obs, T, &y));
    for (int t = 0; t < T; t++)
        s->values[t] = y[(size_t)t * (size_t)no + (size_t)vi];
    double bootstrap = 0.0;
    if (!terminated) {
        double x[LUX_ENV_MAX_OBS];
        for (int i = 0; i < od; i++)
            x[i] = (double)k->obs[i];
        TRY(lux_policy_forward(k->policy, x, 1, &y));
        bootstrap = y[vi];
    }
    lux_gae(s->rewards, s->values, T, bootstrap, s->gamma, s->lambda, s->adv, s->targets);
    memset(s->grad, 0, s->n * sizeof *s->grad);
    TRY(lux_a3c_loss(k->policy, s->obs, s->acts, s->adv, s->targets, T, s->vf_loss_coeff,
                     s->entropy_coeff, s->grad, loss));
    if (terminated || truncated) {
        s->window[s->window_count % REWARD_WINDOW] = k->episode_return;
        s->window_count++;
        s->episodes_total++;
        k->episode_index++;
        TRY(begin_episode(s, w));
    }
    return T;
}

static int a3c_step(void *state, json_t **result, char *err, size_t errlen)
{
    a3c_state_t *s = state;
    long steps = 0, episodes_before = s->episodes_total;
    double ent = 0, vf = 0, pl = 0, gn = 0;
    long samples = 0;
    for (long g = 0; g < s->grads_per_iter; g++) {
        int w = (int)(s->next_worker % s->num_workers);
        s->next_worker++;
        lux_a3c_loss_t loss;
        int T = compute_gradient(s, w, &loss, &steps);
        if (T < 0) {
            snprintf(err, errlen, "a3c worker %d failed: %s", w, lux_strerror(T));
            return T;
        }
        double norm2 = 0;
        for (size_t j = 0; j < s->n; j++)
            norm2 += s->grad[j] * s->grad[j];
        double norm = sqrt(norm2);
        if (s->grad_clip > 0 && norm > s->grad_clip) {
            double scale = s->grad_clip / norm;
            for (size_t j = 0; j < s->n; j++)
                s->grad[j] *= scale;
        }
        lux_adam_step(s->adam, lux_policy_params(s->global), s->grad);
        lux_policy_set_params(s->workers[w].policy, lux_policy_params(s->global));
        s->num_grad_updates++;
        ent += loss.entropy;
        vf += loss.vf_loss;
        pl += loss.policy_loss;
        gn += norm;
        samples += T;
    }
    s->iteration++;
    s->timesteps_total += steps;
    json_t *res = json_object();
    if (res == NULL)
        return LUX_ENOMEM;
    size_t nw = s->window_count < REWARD_WINDOW ? (size_t)s->window_count : REWARD_WINDOW;
    lux_rl_add_reward_stats(res, "episode_reward", s->window, nw);
    double G = (double)s->grads_per_iter;
    json_object_set_new(res, "timesteps_total", json_integer(s->timesteps_total));
    json_object_set_new(res, "timesteps_this_iter", json_integer(steps));
    json_object_set_new(res, "episodes_total", json_integer(s->episodes_total));
    json_object_set_new(res, "episodes_this_iter",
                        json_integer(s->episodes_total - episodes_before));
    json_object_set_new(res, "policy_entropy", json_real(ent / (double)samples));
    json_object_set_new(res, "vf_loss", json_real(vf / (double)samples));
    json_object_set_new(res, "policy_loss", json_real(pl / (double)samples));
    json_object_set_new(res, "grad_gnorm", json_real(gn / G));
    json_object_set_new(res, "cur_lr", json_real(s->lr));
    json_object_set_new(res, "num_grad_updates", json_integer(s->num_grad_updates));
    json_object_set_new(res, "num_workers", json_integer(s->num_workers));
    *result = res;
    return 0;
}

#define MAGIC "LUXA3C01"

static int a3c_save(void *state, void **bytes, size_t *len, char *err, size_t errlen)
{
    a3c_state_t *s = state;
    void *ab;
    size_t al;
    TRY(lux_adam_save(s->adam, &ab, &al));
    lux_rl_buf_t b = {0};
    uint64_t n = s->n, al64 = al, nw = (uint64_t)s->num_workers;
    lux_rl_buf_put(&b, MAGIC, 8);
    lux_rl_buf_put(&b, &n, sizeof n);
    lux_rl_buf_put(&b, &nw, sizeof nw);
    lux_rl_buf_put(&b, &s->next_worker, sizeof s->next_worker);
    lux_rl_buf_put(&b, &s->iteration, sizeof s->iteration);
    lux_rl_buf_put(&b, &s->timesteps_total, sizeof s->timesteps_total);
    lux_rl_buf_put(&b, &s->episodes_total, sizeof s->episodes_total);
    lux_rl_buf_put(&b, &s->num_grad_updates, sizeof s->num_grad_updates);
    lux_rl_buf_put(&b, s->window, sizeof s->window);
    lux_rl_buf_put(&b, &s->window_count, sizeof s->window_count);
    lux_rl_buf_put(&b, lux_policy_params(s->global), s->n * sizeof(double));
    for (long w = 0; w < s->num_workers; w++) {
        worker_t *k = &s->workers[w];
        uint64_t na = k->nactions;
        lux_rl_buf_put(&b, lux_policy_params(k->policy), s->n * sizeof(double));
        lux_rl_buf_put(&b, &k->rng, sizeof k->rng);
        lux_rl_buf_put(&b, &k->episode_index, sizeof k->episode_index);
        lux_rl_buf_put(&b, &na, sizeof na);
        lux_rl_buf_put(&b, k->actions, k->nactions * sizeof(double));
    }
    lux_rl_buf_put(&b, &al64, sizeof al64);
    lux_rl_buf_put(&b, ab, al);
    lux_free(ab);
    if (b.failed) {
        lux_free(b.data);
        return LUX_ENOMEM;
    }
    *bytes = b.data;
    *len = b.len;
    return 0;
}

static int bad(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "a3c checkpoint: %s", what);
    return LUX_EINVAL;
}

static int a3c_restore(void *state, const void *bytes, size_t len, char *err, size_t errlen)
{
    a3c_state_t *s = state;
    const unsigned char *p = bytes, *end = p + len;
    char magic[8];
    uint64_t n, nw, al;
    if (lux_rl_buf_get(&p, end, magic, 8) || memcmp(magic, MAGIC, 8) != 0)
        return bad(err, errlen, "not an a3c checkpoint");
    if (lux_rl_buf_get(&p, end, &n, sizeof n) || n != s->n)
        return bad(err, errlen, "the policy's parameter count differs from this config's");
    if (lux_rl_buf_get(&p, end, &nw, sizeof nw) || nw != (uint64_t)s->num_workers)
        return bad(err, errlen, "num_workers differs from this config's");
    long next, it, ts, ep, ngu, wc;
    double window[REWARD_WINDOW];
    if (lux_rl_buf_get(&p, end, &next, sizeof next) || lux_rl_buf_get(&p, end, &it, sizeof it) ||
        lux_rl_buf_get(&p, end, &ts, sizeof ts) || lux_rl_buf_get(&p, end, &ep, sizeof ep) ||
        lux_rl_buf_get(&p, end, &ngu, sizeof ngu) ||
        lux_rl_buf_get(&p, end, window, sizeof window) || lux_rl_buf_get(&p, end, &wc, sizeof wc) ||
        lux_rl_buf_get(&p, end, lux_policy_params(s->global), s->n * sizeof(double)))
        return bad(err, errlen, "truncated");
    for (long w = 0; w < s->num_workers; w++) {
        worker_t *k = &s->workers[w];
        uint64_t na;
        if (lux_rl_buf_get(&p, end, lux_policy_params(k->policy), s->n * sizeof(double)) ||
            lux_rl_buf_get(&p, end, &k->rng, sizeof k->rng) ||
            lux_rl_buf_get(&p, end, &k->episode_index, sizeof k->episode_index) ||
            lux_rl_buf_get(&p, end, &na, sizeof na) || (uint64_t)(end - p) / sizeof(double) < na ||
            na % (uint64_t)s->action_n != 0)
            return bad(err, errlen, "truncated worker state");
        TRY(begin_episode(s, (int)w));
        for (uint64_t i = 0; i < na; i += (uint64_t)s->action_n) {
            double a[LUX_ENV_MAX_ACTION], r;
            int term, trunc;
            memcpy(a, p, (size_t)s->action_n * sizeof(double));
            p += (size_t)s->action_n * sizeof(double);
            TRY(record_action(s, k, a));
            int rc = lux_env_step(k->env, a, k->obs, &r, &term, &trunc);
            if (rc != 0)
                return bad(err, errlen, "replaying the episode failed");
            k->episode_return += r;
            k->episode_length++;
        }
    }
    if (lux_rl_buf_get(&p, end, &al, sizeof al) || (uint64_t)(end - p) != al)
        return bad(err, errlen, "bad optimizer state length");
    int rc = lux_adam_restore(s->adam, p, (size_t)al);
    if (rc != 0)
        return bad(err, errlen, "bad optimizer state");
    s->next_worker = next;
    s->iteration = it;
    s->timesteps_total = ts;
    s->episodes_total = ep;
    s->num_grad_updates = ngu;
    memcpy(s->window, window, sizeof window);
    s->window_count = wc;
    return 0;
}

const lux_trainable_class_t lux_rl_a3c_trainable = {
    .name = "a3c",
    .description = "A3C: asynchronous advantage actor-critic (GAE, Adam, global-norm clipping)",
    .validate = a3c_validate,
    .setup = a3c_setup,
    .step = a3c_step,
    .save = a3c_save,
    .restore = a3c_restore,
    .cleanup = a3c_cleanup,
};

int lux_rl_a3c_evaluate(void *state, uint64_t seed, lux_rollout_result_t *res);
int lux_rl_a3c_evaluate(void *state, uint64_t seed, lux_rollout_result_t *res)
{
    a3c_state_t *s = state;
    lux_env_t *env = s->workers[0].env;
    lux_rollout_policy_t pol = {.mlp = s->global};
    int rc = lux_rollout_episode(env, &pol, seed, 0, NULL, res);
    /* The worker's episode was interrupted: restart it where it was by
     * replaying its actions, so training can continue unchanged. */
    worker_t *k = &s->workers[0];
    size_t na = k->nactions;
    double *acts = k->actions;
    k->actions = NULL;
    k->cap_actions = 0;
    int rc2 = begin_episode(s, 0);
    for (size_t i = 0; rc2 == 0 && i < na; i += (size_t)s->action_n) {
        double r;
        int term, trunc;
        rc2 = record_action(s, k, acts + i);
        if (rc2 == 0)
            rc2 = lux_env_step(k->env, acts + i, k->obs, &r, &term, &trunc);
        if (rc2 == 0) {
            k->episode_return += r;
            k->episode_length++;
        }
    }
    lux_free(acts);
    return rc != 0 ? rc : rc2;
}
