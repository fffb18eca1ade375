/*
 * The a3c trainable: Ray's original A3C driver loop with an actor-critic MLP
 * (shared trunk, value output). Each worker owns an environment, a policy
 * holding the weights it was last sent, and its own random stream; asked for
 * a gradient, it collects a fragment of rollout_fragment_length steps (or up
 * to the end of the episode), computes GAE(gamma, lambda) advantages and the
 * gradient of the A3C loss. The driver clips the gradient by global norm
 * (grad_clip), applies it with Adam and sends that worker the new weights
 * with its next request.
 *
 * num_workers > 0: the workers are runtime actors; the driver keeps one
 * request in flight per actor and applies gradients as they arrive
 * (lux_wait), so the result depends on arrival order only. An iteration
 * applies exactly gradients_per_iteration gradients and ends with nothing in
 * flight, so checkpoints see quiet workers. num_workers = 0: one local
 * worker in this process (RLlib's local worker); it runs exactly the
 * sequence a single actor runs, so the two give identical results.
 *
 * Checkpoints: an episode in progress cannot be copied out of an
 * environment in general (builders keeps its generator inside), so each
 * worker records the actions of its current episode; restoring resets the
 * environment with the episode's seed and replays them, which reproduces the
 * environment bit-for-bit.
 */
#include "adam.h"
#include "policy_loss.h"
#include "trainable_int.h"
#include "trainables.h"

#include "lux.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define A3C_ITERATION UINT64_C(0xa3c0a3c0)
#define REWARD_WINDOW 100
#define MAX_WORKERS   64

/* Everything a worker needs to know, shipped to actors as bytes. */
typedef struct {
    lux_rl_spec_t spec;
    uint64_t trial_seed;
    int64_t index; /* worker index: part of every episode seed */
    int64_t fragment;
    double gamma, lambda, vf_loss_coeff, entropy_coeff;
} worker_conf_t;

typedef struct {
    worker_conf_t conf;
    int action_n;
    size_t n;
    lux_env_t *env;
    lux_policy_t *policy;
    lux_rng_t rng;
    uint64_t episode_index;
    double *actions; /* this episode's actions, for replay */
    size_t nactions, cap_actions;
    float obs[LUX_ENV_MAX_OBS];
    double episode_return;
    long episode_length;
    /* scratch for one fragment */
    double *obs_buf, *acts, *rewards, *values, *adv, *targets;
} worker_t;

/* What a gradient request returns besides the gradient. */
typedef struct {
    int64_t steps;
    int64_t finished; /* an episode ended in this fragment */
    double finished_return;
    lux_a3c_loss_t loss;
} grad_info_t;

static void worker_fini(worker_t *k)
{
    lux_env_destroy(&k->env);
    lux_policy_destroy(&k->policy);
    lux_free(k->actions);
    lux_free(k->obs_buf);
    lux_free(k->acts);
    lux_free(k->rewards);
    lux_free(k->values);
    lux_free(k->adv);
    lux_free(k->targets);
    memset(k, 0, sizeof *k);
}

static int begin_episode(worker_t *k)
{
    k->nactions = 0;
    k->episode_return = 0;
    k->episode_length = 0;
    uint64_t seed = lux_seed_derive(k->conf.trial_seed, A3C_ITERATION, (uint64_t)k->conf.index,
                                    k->episode_index);
    return lux_env_reset(k->env, seed, k->obs);
}

static int worker_init(worker_t *k, const worker_conf_t *conf, const double *params, char *err,
                       size_t errlen)
{
    memset(k, 0, sizeof *k);
    k->conf = *conf;
    const lux_policy_spec_t *ps = &conf->spec.policy;
    k->action_n = ps->head == LUX_HEAD_DISCRETE ? 1 : ps->action_dim;
    int rc = lux_env_make(conf->spec.env_name, conf->spec.env_options, &k->env, err, errlen);
    if (rc != 0)
        return rc;
    size_t F = (size_t)conf->fragment, od = (size_t)ps->obs_dim;
    k->policy = lux_policy_new(ps);
    k->obs_buf = lux_malloc(F * od * sizeof(double));
    k->acts = lux_malloc(F * (size_t)k->action_n * sizeof(double));
    k->rewards = lux_malloc(F * sizeof(double));
    k->values = lux_malloc(F * sizeof(double));
    k->adv = lux_malloc(F * sizeof(double));
    k->targets = lux_malloc(F * sizeof(double));
    if (k->policy == NULL || k->obs_buf == NULL || k->acts == NULL || k->rewards == NULL ||
        k->values == NULL || k->adv == NULL || k->targets == NULL) {
        worker_fini(k);
        snprintf(err, errlen, "out of memory making an a3c worker");
        return LUX_ENOMEM;
    }
    k->n = lux_policy_num_params(k->policy);
    if (params != NULL)
        lux_policy_set_params(k->policy, params);
    lux_rng_seed(&k->rng, lux_seed_derive(conf->trial_seed, A3C_ITERATION, (uint64_t)conf->index,
                                          UINT64_MAX));
    return begin_episode(k);
}

static int record_action(worker_t *k, const double *a)
{
    if (k->nactions + (size_t)k->action_n > k->cap_actions) {
        size_t cap = k->cap_actions ? 2 * k->cap_actions : 1024;
        double *na = lux_realloc(k->actions, cap * sizeof *na);
        if (na == NULL)
            return LUX_ENOMEM;
        k->actions = na;
        k->cap_actions = cap;
    }
    memcpy(k->actions + k->nactions, a, (size_t)k->action_n * sizeof *a);
    k->nactions += (size_t)k->action_n;
    return 0;
}

/* Collects one fragment with the worker's weights and writes the gradient of
 * the loss into grad (n values). */
static int worker_gradient(worker_t *k, double *grad, grad_info_t *info)
{
    const worker_conf_t *c = &k->conf;
    int od = c->spec.policy.obs_dim, T = 0, terminated = 0, truncated = 0;
    memset(info, 0, sizeof *info);
    while (T < c->fragment) {
        double *x = k->obs_buf + (size_t)T * (size_t)od;
        for (int i = 0; i < od; i++)
            x[i] = (double)k->obs[i];
        double action[LUX_ENV_MAX_ACTION], raw[LUX_ENV_MAX_ACTION];
        LUX_RL_TRY(lux_policy_act(k->policy, x, &k->rng, action, raw));
        memcpy(k->acts + (size_t)T * (size_t)k->action_n, raw,
               (size_t)k->action_n * sizeof(double));
        LUX_RL_TRY(record_action(k, action));
        double r;
        LUX_RL_TRY(lux_env_step(k->env, action, k->obs, &r, &terminated, &truncated));
        k->rewards[T++] = r;
        k->episode_return += r;
        k->episode_length++;
        if (terminated || truncated)
            break;
    }
    info->steps = T;
    const double *y;
    int no = lux_policy_num_outputs(k->policy), vi = c->spec.policy.action_dim;
    LUX_RL_TRY(lux_policy_forward(k->policy, k->obs_buf, T, &y));
    for (int t = 0; t < T; t++)
        k->values[t] = y[(size_t)t * (size_t)no + (size_t)vi];
    double bootstrap = 0.0;
    if (!terminated) {
        double x[LUX_ENV_MAX_OBS];
        for (int i = 0; i < od; i++)
            x[i] = (double)k->obs[i];
        LUX_RL_TRY(lux_policy_forward(k->policy, x, 1, &y));
        bootstrap = y[vi];
    }
    lux_gae(k->rewards, k->values, T, bootstrap, c->gamma, c->lambda, k->adv, k->targets);
    memset(grad, 0, k->n * sizeof *grad);
    LUX_RL_TRY(lux_a3c_loss(k->policy, k->obs_buf, k->acts, k->adv, k->targets, T, c->vf_loss_coeff,
                            c->entropy_coeff, grad, &info->loss));
    if (terminated || truncated) {
        info->finished = 1;
        info->finished_return = k->episode_return;
        k->episode_index++;
        LUX_RL_TRY(begin_episode(k));
    }
    return 0;
}

/* The worker's resumable state: weights, generator, episode and the
 * episode's actions. */
static void worker_save(const worker_t *k, lux_rl_buf_t *b)
{
    uint64_t na = k->nactions;
    lux_rl_buf_put(b, lux_policy_params(k->policy), k->n * sizeof(double));
    lux_rl_buf_put(b, &k->rng, sizeof k->rng);
    lux_rl_buf_put(b, &k->episode_index, sizeof k->episode_index);
    lux_rl_buf_put(b, &na, sizeof na);
    lux_rl_buf_put(b, k->actions, k->nactions * sizeof(double));
}

/* Reads a worker state at *p and replays its episode. LUX_EINVAL when the
 * bytes do not fit. */
static int worker_restore(worker_t *k, const unsigned char **p, const unsigned char *end)
{
    uint64_t na;
    if (lux_rl_buf_get(p, end, lux_policy_params(k->policy), k->n * sizeof(double)) ||
        lux_rl_buf_get(p, end, &k->rng, sizeof k->rng) ||
        lux_rl_buf_get(p, end, &k->episode_index, sizeof k->episode_index) ||
        lux_rl_buf_get(p, end, &na, sizeof na) || (uint64_t)(end - *p) / sizeof(double) < na ||
        na % (uint64_t)k->action_n != 0)
        return LUX_EINVAL;
    LUX_RL_TRY(begin_episode(k));
    for (uint64_t i = 0; i < na; i += (uint64_t)k->action_n) {
        double a[LUX_ENV_MAX_ACTION], r;
        int term, trunc;
        memcpy(a, *p, (size_t)k->action_n * sizeof(double));
        *p += (size_t)k->action_n * sizeof(double);
        LUX_RL_TRY(record_action(k, a));
        if (lux_env_step(k->env, a, k->obs, &r, &term, &trunc) != 0)
            return LUX_EINVAL;
        k->episode_return += r;
        k->episode_length++;
    }
    return 0;
}

/* ---- the actor ---- */

static int actor_init(lux_call_t *call)
{
    size_t lc, lp;
    const void *conf_p = lux_call_arg(call, 0, &lc);
    const void *params_p = lux_call_arg(call, 1, &lp);
    worker_conf_t conf;
    if (lc != sizeof conf)
        return lux_call_fail(call, "a3c worker: malformed arguments");
    memcpy(&conf, conf_p, sizeof conf);
    worker_t *k = lux_calloc(1, sizeof *k);
    if (k == NULL)
        return lux_call_fail(call, "a3c worker: out of memory");
    char err[256] = "";
    int rc = worker_init(k, &conf, NULL, err, sizeof err);
    if (rc == 0 && lp != k->n * sizeof(double))
        rc = LUX_EINVAL;
    if (rc != 0) {
        worker_fini(k);
        lux_free(k);
        return lux_call_fail(call, "a3c worker: %s", err[0] ? err : lux_strerror(rc));
    }
    memcpy(lux_policy_params(k->policy), params_p, lp);
    lux_call_set_self(call, k);
    return 0;
}

static void actor_fini(void *self)
{
    worker_t *k = self;
    if (k != NULL) {
        worker_fini(k);
        lux_free(k);
    }
}

/* grad(params) -> grad_info_t followed by n doubles. */
static int a3c_grad(lux_call_t *call)
{
    worker_t *k = lux_call_self(call);
    size_t lp;
    const void *params_p = lux_call_arg(call, 0, &lp);
    if (lp != k->n * sizeof(double))
        return lux_call_fail(call, "a3c worker: %zu bytes of weights for %zu", lp, k->n);
    memcpy(lux_policy_params(k->policy), params_p, lp);
    size_t len = sizeof(grad_info_t) + k->n * sizeof(double);
    unsigned char *out = lux_malloc(len);
    if (out == NULL)
        return lux_call_fail(call, "a3c worker: out of memory");
    grad_info_t info;
    double *grad = lux_malloc(k->n * sizeof *grad);
    int rc = grad ? worker_gradient(k, grad, &info) : LUX_ENOMEM;
    if (rc == 0) {
        memcpy(out, &info, sizeof info);
        memcpy(out + sizeof info, grad, k->n * sizeof(double));
        rc = lux_call_return(call, 0, out, len);
    }
    lux_free(grad);
    lux_free(out);
    return rc == 0 ? 0 : lux_call_fail(call, "a3c worker: %s", lux_strerror(rc));
}

static int a3c_get_state(lux_call_t *call)
{
    worker_t *k = lux_call_self(call);
    lux_rl_buf_t b = {0};
    worker_save(k, &b);
    int rc = b.failed ? LUX_ENOMEM : lux_call_return(call, 0, b.data, b.len);
    lux_free(b.data);
    return rc == 0 ? 0 : lux_call_fail(call, "a3c worker: %s", lux_strerror(rc));
}

static int a3c_set_state(lux_call_t *call)
{
    worker_t *k = lux_call_self(call);
    size_t len;
    const unsigned char *p = lux_call_arg(call, 0, &len);
    int rc = worker_restore(k, &p, p + len);
    return rc == 0 ? 0 : lux_call_fail(call, "a3c worker: bad state: %s", lux_strerror(rc));
}

LUX_ACTOR_CLASS(lux_rl_a3c_worker, actor_init, actor_fini, LUX_METHOD(a3c_grad),
                LUX_METHOD(a3c_get_state), LUX_METHOD(a3c_set_state));

/* ---- the trainable ---- */

typedef struct {
    lux_rl_spec_t spec;
    lux_policy_t *global;
    lux_adam_t *adam;
    size_t n;
    uint64_t seed;
    /* config */
    double lr, gamma, lambda, grad_clip, vf_loss_coeff, entropy_coeff, num_cpus_per_worker;
    long fragment, num_workers, grads_per_iter;
    int nw; /* workers in use: num_workers, or 1 local worker */
    /* workers: local, or actors */
    worker_t local;
    lux_actor_t actors[MAX_WORKERS];
    /* progress */
    long iteration, timesteps_total, episodes_total, num_grad_updates;
    double window[REWARD_WINDOW];
    long window_count;
    double *grad;
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
    "num_cpus_per_worker",
};

static int read_config(const json_t *c, long default_workers, a3c_state_t *s, char *err,
                       size_t errlen)
{
    lux_rl_spec_defaults_t d = {.discrete_argmax = 0,
                                .continuous_gauss = 1,
                                .value_head = 1,
                                .num_hidden = 2,
                                .hidden = {64, 64}};
    LUX_RL_TRY(lux_rl_spec_from_config(c, &d, &s->spec, err, errlen));
    if (s->spec.builders || s->spec.policy.argmax) {
        snprintf(err, errlen,
                 "a3c needs a sampling MLP policy (no builders policy, "
                 "discrete_action \"sample\")");
        return LUX_ECONFIG;
    }
    LUX_RL_TRY(lux_cfg_double(c, "lr", 5e-4, 1e-12, 10, &s->lr, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "gamma", 0.99, 0, 1, &s->gamma, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "lambda", 1.0, 0, 1, &s->lambda, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "grad_clip", 40.0, 0, 1e12, &s->grad_clip, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "vf_loss_coeff", 0.5, 0, 1e6, &s->vf_loss_coeff, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "entropy_coeff", 0.01, -1e6, 1e6, &s->entropy_coeff, err, errlen));
    long sbs;
    LUX_RL_TRY(lux_cfg_int(c, "sample_batch_size", 20, 1, 1L << 20, &sbs, err, errlen));
    LUX_RL_TRY(
        lux_cfg_int(c, "rollout_fragment_length", sbs, 1, 1L << 20, &s->fragment, err, errlen));
    LUX_RL_TRY(lux_cfg_int(c, "num_workers", default_workers, 0, MAX_WORKERS, &s->num_workers, err,
                           errlen));
    LUX_RL_TRY(lux_cfg_int(c, "gradients_per_iteration", 100, 1, 1L << 30, &s->grads_per_iter, err,
                           errlen));
    LUX_RL_TRY(lux_cfg_double(c, "num_cpus_per_worker", 1.0, 0.0001, 1024, &s->num_cpus_per_worker,
                              err, errlen));
    s->nw = s->num_workers > 0 ? (int)s->num_workers : 1;
    return 0;
}

static int a3c_validate(const json_t *config, char *err, size_t errlen)
{
    LUX_RL_TRY(lux_rl_check_keys(config, "a3c", a3c_keys, sizeof a3c_keys / sizeof a3c_keys[0], err,
                                 errlen));
    a3c_state_t *s = lux_calloc(1, sizeof *s);
    if (s == NULL)
        return LUX_ENOMEM;
    int rc = read_config(config, 0, s, err, errlen);
    lux_free(s);
    return rc;
}

static void a3c_cleanup(void *state)
{
    a3c_state_t *s = state;
    if (s == NULL)
        return;
    if (s->num_workers > 0)
        for (int w = 0; w < s->nw; w++)
            lux_actor_kill(s->actors[w], 1);
    worker_fini(&s->local);
    lux_policy_destroy(&s->global);
    lux_adam_destroy(&s->adam);
    lux_free(s->grad);
    lux_free(s);
}

static worker_conf_t make_conf(const a3c_state_t *s, int index)
{
    worker_conf_t c;
    memset(&c, 0, sizeof c);
    memcpy(&c.spec, &s->spec, sizeof c.spec);
    c.trial_seed = s->seed;
    c.index = index;
    c.fragment = s->fragment;
    c.gamma = s->gamma;
    c.lambda = s->lambda;
    c.vf_loss_coeff = s->vf_loss_coeff;
    c.entropy_coeff = s->entropy_coeff;
    return c;
}

static int a3c_setup(const json_t *config, const lux_trial_context_t *ctx, void **state, char *err,
                     size_t errlen)
{
    a3c_state_t *s = lux_calloc(1, sizeof *s);
    if (s == NULL)
        return LUX_ENOMEM;
    s->seed = ctx->seed;
    int rc = read_config(config, ctx->num_rollout_workers, s, err, errlen);
    if (rc == 0)
        rc = lux_rl_check_workers(s->num_workers, err, errlen);
    if (rc != 0) {
        lux_free(s);
        return rc;
    }
    s->global = lux_policy_new(&s->spec.policy);
    if (s->global == NULL) {
        lux_free(s);
        return LUX_ENOMEM;
    }
    /* num_workers stays 0 until the actors exist, so cleanup kills only
     * actors that were created. */
    long want_workers = s->num_workers;
    s->num_workers = 0;
    s->n = lux_policy_num_params(s->global);
    lux_rng_t rng;
    lux_rng_seed(&rng, lux_seed_derive(s->seed, 0, 0, UINT64_C(0xa3c1)));
    lux_policy_init_params(s->global, &rng);
    lux_adam_opts_t ao;
    lux_adam_opts_default(&ao);
    ao.lr = s->lr;
    s->grad = lux_malloc(s->n * sizeof(double));
    if (s->grad == NULL || lux_adam_new(s->n, &ao, &s->adam) != 0) {
        a3c_cleanup(s);
        return LUX_ENOMEM;
    }
    if (want_workers == 0) {
        worker_conf_t c = make_conf(s, 0);
        rc = worker_init(&s->local, &c, lux_policy_params(s->global), err, errlen);
    } else {
        lux_actor_opts_t ao2 = LUX_ACTOR_OPTS_INIT;
        ao2.num_cpus = s->num_cpus_per_worker;
        for (int w = 0; w < s->nw && rc == 0; w++) {
            worker_conf_t c = make_conf(s, w);
            lux_arg_t args[2] = {
                lux_arg_value(&c, sizeof c),
                lux_arg_value(lux_policy_params(s->global), s->n * sizeof(double))};
            rc = lux_actor_create(&lux_rl_a3c_worker_class, args, 2, &ao2, &s->actors[w]);
            if (rc != 0)
                snprintf(err, errlen, "starting a3c worker %d failed: %s", w, lux_strerror(rc));
            else
                s->num_workers = w + 1;
        }
        if (rc == 0)
            s->num_workers = want_workers;
    }
    if (rc != 0) {
        a3c_cleanup(s);
        return rc;
    }
    *state = s;
    return 0;
}

typedef struct {
    long steps, samples;
    double ent, vf, pl, gn;
} iter_stats_t;

/* Clips and applies one gradient, and books its statistics. */
static void apply_gradient(a3c_state_t *s, double *grad, const grad_info_t *info, iter_stats_t *st)
{
    double norm2 = 0;
    for (size_t j = 0; j < s->n; j++)
        norm2 += grad[j] * grad[j];
    double norm = sqrt(norm2);
    if (s->grad_clip > 0 && norm > s->grad_clip) {
        double scale = s->grad_clip / norm;
        for (size_t j = 0; j < s->n; j++)
            grad[j] *= scale;
    }
    lux_adam_step(s->adam, lux_policy_params(s->global), grad);
    s->num_grad_updates++;
    st->steps += info->steps;
    st->samples += info->steps;
    st->ent += info->loss.entropy;
    st->vf += info->loss.vf_loss;
    st->pl += info->loss.policy_loss;
    st->gn += norm;
    if (info->finished) {
        s->window[s->window_count % REWARD_WINDOW] = info->finished_return;
        s->window_count++;
        s->episodes_total++;
    }
}

static int submit_grad(a3c_state_t *s, int w, lux_ref_t *ref)
{
    lux_arg_t arg = lux_arg_value(lux_policy_params(s->global), s->n * sizeof(double));
    return lux_actor_call(s->actors[w], "a3c_grad", &arg, 1, 1, ref);
}

static int run_actors(a3c_state_t *s, iter_stats_t *st, char *err, size_t errlen)
{
    lux_ref_t refs[MAX_WORKERS];
    int worker_of[MAX_WORKERS];
    size_t inflight = 0;
    long dispatched = 0, applied = 0;
    int rc = 0;
    for (int w = 0; w < s->nw && dispatched < s->grads_per_iter; w++) {
        rc = submit_grad(s, w, &refs[inflight]);
        if (rc != 0)
            break;
        worker_of[inflight++] = w;
        dispatched++;
    }
    while (rc == 0 && applied < s->grads_per_iter) {
        unsigned char ready[MAX_WORKERS];
        size_t nready = 0;
        rc = lux_wait(refs, inflight, 1, -1, ready, &nready);
        if (rc != 0)
            break;
        size_t i = 0;
        while (i < inflight && !ready[i])
            i++;
        lux_value_t v = {0};
        rc = lux_get(&refs[i], 1, -1, &v);
        if (rc != 0 || v.len != sizeof(grad_info_t) + s->n * sizeof(double)) {
            snprintf(err, errlen, "a3c worker %d failed: %s", worker_of[i],
                     v.error && v.data ? (const char *)v.data : lux_strerror(rc));
            lux_value_release(&v);
            rc = rc != 0 ? rc : LUX_EPROTO;
            break;
        }
        grad_info_t info;
        memcpy(&info, v.data, sizeof info);
        memcpy(s->grad, (const unsigned char *)v.data + sizeof info, s->n * sizeof(double));
        lux_value_release(&v);
        lux_ref_release(refs[i]);
        apply_gradient(s, s->grad, &info, st);
        applied++;
        int w = worker_of[i];
        refs[i] = refs[inflight - 1];
        worker_of[i] = worker_of[inflight - 1];
        inflight--;
        if (dispatched < s->grads_per_iter) {
            rc = submit_grad(s, w, &refs[inflight]);
            if (rc != 0)
                break;
            worker_of[inflight++] = w;
            dispatched++;
        }
    }
    if (rc != 0) {
        /* Drain what is left so no reply outlives the iteration. */
        for (size_t i = 0; i < inflight; i++) {
            lux_value_t v = {0};
            lux_get(&refs[i], 1, 30, &v);
            lux_value_release(&v);
            lux_ref_release(refs[i]);
        }
        if (err != NULL && errlen > 0 && err[0] == '\0')
            snprintf(err, errlen, "a3c: %s", lux_strerror(rc));
    }
    return rc;
}

static int a3c_step(void *state, json_t **result, char *err, size_t errlen)
{
    a3c_state_t *s = state;
    long episodes_before = s->episodes_total;
    iter_stats_t st = {0};
    if (s->num_workers == 0) {
        for (long g = 0; g < s->grads_per_iter; g++) {
            grad_info_t info;
            lux_policy_set_params(s->local.policy, lux_policy_params(s->global));
            int rc = worker_gradient(&s->local, s->grad, &info);
            if (rc != 0) {
                snprintf(err, errlen, "a3c local worker failed: %s", lux_strerror(rc));
                return rc;
            }
            apply_gradient(s, s->grad, &info, &st);
        }
    } else {
        if (err != NULL && errlen > 0)
            err[0] = '\0';
        LUX_RL_TRY(run_actors(s, &st, err, errlen));
    }
    s->iteration++;
    s->timesteps_total += st.steps;
    json_t *res = json_object();
    if (res == NULL)
        return LUX_ENOMEM;
    size_t nw = s->window_count < REWARD_WINDOW ? (size_t)s->window_count : REWARD_WINDOW;
    lux_rl_add_reward_stats(res, "episode_reward", s->window, nw);
    double G = (double)s->grads_per_iter, S = st.samples > 0 ? (double)st.samples : 1.0;
    lux_rl_add_progress(res, s->timesteps_total, st.steps, s->episodes_total,
                        s->episodes_total - episodes_before);
    json_object_set_new(res, "policy_entropy", json_real(st.ent / S));
    json_object_set_new(res, "vf_loss", json_real(st.vf / S));
    json_object_set_new(res, "policy_loss", json_real(st.pl / S));
    json_object_set_new(res, "grad_gnorm", json_real(st.gn / G));
    json_object_set_new(res, "cur_lr", json_real(s->lr));
    json_object_set_new(res, "num_grad_updates", json_integer(s->num_grad_updates));
    json_object_set_new(res, "num_workers", json_integer(s->num_workers));
    *result = res;
    return 0;
}

#define MAGIC "LUXA3C02"

static int a3c_save(void *state, void **bytes, size_t *len, char *err, size_t errlen)
{
    a3c_state_t *s = state;
    lux_rl_buf_t b = {0};
    uint64_t n = s->n, nw = (uint64_t)s->nw;
    lux_rl_magic_put(&b, MAGIC);
    lux_rl_buf_put(&b, &n, sizeof n);
    lux_rl_buf_put(&b, &nw, sizeof nw);
    lux_rl_buf_put(&b, &s->iteration, sizeof s->iteration);
    lux_rl_buf_put(&b, &s->timesteps_total, sizeof s->timesteps_total);
    lux_rl_buf_put(&b, &s->episodes_total, sizeof s->episodes_total);
    lux_rl_buf_put(&b, &s->num_grad_updates, sizeof s->num_grad_updates);
    lux_rl_buf_put(&b, s->window, sizeof s->window);
    lux_rl_buf_put(&b, &s->window_count, sizeof s->window_count);
    lux_rl_buf_put(&b, lux_policy_params(s->global), s->n * sizeof(double));
    int rc = 0;
    if (s->num_workers == 0) {
        worker_save(&s->local, &b);
    } else {
        for (int w = 0; w < s->nw && rc == 0; w++) {
            lux_ref_t ref;
            rc = lux_actor_call(s->actors[w], "a3c_get_state", NULL, 0, 1, &ref);
            if (rc != 0)
                break;
            lux_value_t v = {0};
            rc = lux_get(&ref, 1, -1, &v);
            if (rc == 0)
                lux_rl_buf_put(&b, v.data, v.len);
            else
                snprintf(err, errlen, "a3c worker %d: %s", w,
                         v.error && v.data ? (const char *)v.data : lux_strerror(rc));
            lux_value_release(&v);
            lux_ref_release(ref);
        }
    }
    if (rc != 0) {
        lux_free(b.data);
        return rc;
    }
    return lux_rl_buf_finish_adam(&b, s->adam, bytes, len);
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
    uint64_t n, nw;
    if (lux_rl_magic_get(&p, end, MAGIC))
        return bad(err, errlen, "not an a3c checkpoint");
    if (lux_rl_buf_get(&p, end, &n, sizeof n) || n != s->n)
        return bad(err, errlen, "the policy's parameter count differs from this config's");
    if (lux_rl_buf_get(&p, end, &nw, sizeof nw) || nw > MAX_WORKERS)
        return bad(err, errlen, "bad number of workers");
    long it, ts, ep, ngu, wc;
    double window[REWARD_WINDOW];
    double *global = lux_malloc(s->n * sizeof *global);
    if (global == NULL)
        return LUX_ENOMEM;
    if (lux_rl_buf_get(&p, end, &it, sizeof it) || lux_rl_buf_get(&p, end, &ts, sizeof ts) ||
        lux_rl_buf_get(&p, end, &ep, sizeof ep) || lux_rl_buf_get(&p, end, &ngu, sizeof ngu) ||
        lux_rl_buf_get(&p, end, window, sizeof window) || lux_rl_buf_get(&p, end, &wc, sizeof wc) ||
        lux_rl_buf_get(&p, end, global, s->n * sizeof(double))) {
        lux_free(global);
        return bad(err, errlen, "truncated");
    }
    /* window_count indexes the reward window (modulo its size). */
    if (it < 0 || ts < 0 || ep < 0 || ngu < 0 || wc < 0) {
        lux_free(global);
        return bad(err, errlen, "negative counters");
    }
    /* Each worker's state: weights, generator, episode, action count,
     * actions. */
    const unsigned char *wstart[MAX_WORKERS];
    size_t wlen[MAX_WORKERS];
    size_t fixed = s->n * sizeof(double) + sizeof(lux_rng_t) + 2 * sizeof(uint64_t);
    for (uint64_t w = 0; w < nw; w++) {
        uint64_t na;
        if ((size_t)(end - p) < fixed) {
            lux_free(global);
            return bad(err, errlen, "truncated worker state");
        }
        memcpy(&na, p + fixed - sizeof na, sizeof na);
        if ((uint64_t)(end - p - (ptrdiff_t)fixed) / sizeof(double) < na) {
            lux_free(global);
            return bad(err, errlen, "truncated worker state");
        }
        wstart[w] = p;
        wlen[w] = fixed + (size_t)na * sizeof(double);
        p += wlen[w];
    }
    /* Workers continue exactly when the checkpoint has as many as this
     * config; otherwise (a PBT exploit into another num_workers, or `lux
     * rollout`) they keep their own episodes and get the restored weights
     * with their next gradient request. */
    int rc = 0;
    if (nw == (uint64_t)s->nw) {
        for (int w = 0; w < s->nw && rc == 0; w++) {
            if (s->num_workers == 0) {
                const unsigned char *q = wstart[w];
                rc = worker_restore(&s->local, &q, wstart[w] + wlen[w]);
                continue;
            }
            lux_arg_t arg = lux_arg_value(wstart[w], wlen[w]);
            lux_ref_t ref;
            rc = lux_actor_call(s->actors[w], "a3c_set_state", &arg, 1, 1, &ref);
            if (rc == 0) {
                lux_value_t v = {0};
                rc = lux_get(&ref, 1, -1, &v);
                lux_value_release(&v);
                lux_ref_release(ref);
            }
        }
    }
    if (rc != 0) {
        lux_free(global);
        return bad(err, errlen, "bad worker state");
    }
    const void *adam;
    size_t al;
    if (lux_rl_tail_get(&p, end, &adam, &al) || lux_adam_restore(s->adam, adam, al) != 0) {
        lux_free(global);
        return bad(err, errlen, "bad optimizer state");
    }
    memcpy(lux_policy_params(s->global), global, s->n * sizeof(double));
    lux_free(global);
    s->iteration = it;
    s->timesteps_total = ts;
    s->episodes_total = ep;
    s->num_grad_updates = ngu;
    memcpy(s->window, window, sizeof window);
    s->window_count = wc;
    return 0;
}

int lux_rl_a3c_evaluate(void *state, uint64_t seed, lux_rollout_result_t *res)
{
    /* Evaluation acts greedily (RLlib's explore=False): argmax of the logits,
     * or the gaussian mean (log_std -inf makes the noise exactly 0). */
    a3c_state_t *s = state;
    lux_policy_spec_t spec = s->spec.policy;
    spec.argmax = 1;
    lux_policy_t *greedy = lux_policy_new(&spec);
    lux_env_t *env = NULL;
    char err[256];
    int rc = greedy != NULL ? 0 : LUX_ENOMEM;
    if (rc == 0)
        rc = lux_env_make(s->spec.env_name, s->spec.env_options, &env, err, sizeof err);
    if (rc == 0) {
        lux_policy_set_params(greedy, lux_policy_params(s->global));
        if (spec.head == LUX_HEAD_GAUSSIAN)
            for (int i = 0; i < spec.action_dim; i++)
                lux_policy_params(greedy)[lux_policy_log_std_offset(greedy) + (size_t)i] =
                    -INFINITY;
        lux_rollout_policy_t pol = {.mlp = greedy};
        rc = lux_rollout_episode(env, &pol, seed, 0, NULL, res);
    }
    lux_env_destroy(&env);
    lux_policy_destroy(&greedy);
    return rc;
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
