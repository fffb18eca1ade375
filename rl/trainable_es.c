/*
 * The es trainable: OpenAI ES (Salimans et al. 2017) as in
 * evolution-strategies-starter and RLlib's port. Antithetic pairs theta +-
 * noise_stdev * eps_i with eps_i a slice of the shared noise table, centred
 * ranks over all 2N returns, g = sum_i (r_i+ - r_i-) eps_i / (2N), Adam on
 * -g + l2_coeff * theta, observation normalisation (MeanStdFilter).
 *
 * A step runs pairs until at least episodes_per_batch episodes AND
 * train_batch_size timesteps were collected. Pair i of iteration t draws its
 * noise index and its episode seed (shared by the + and - rollouts: common
 * random numbers) from (trial seed, t, i), and pairs are consumed in index
 * order, so the update does not depend on which worker ran which pair.
 *
 * The noise table is regenerated from (noise_seed, noise_size) at setup and
 * is not part of checkpoints.
 */
#include "adam.h"
#include "noise.h"
#include "ranks.h"
#include "trainable_int.h"
#include "trainables.h"

#include "lux.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define EVAL_ITERATION UINT64_C(0xe7a1e7a1e7a1e7a1)
#define TAG_NOISE      UINT64_C(0x401)
#define TAG_EVALPROB   UINT64_C(0x402)

typedef struct {
    lux_rl_spec_t spec;
    lux_rl_worker_t worker;
    lux_noise_table_t noise;
    lux_adam_t *adam;
    size_t n;
    uint64_t seed;
    /* config */
    double noise_stdev, stepsize, l2_coeff, eval_prob, action_noise_std;
    long episodes_per_batch, train_batch_size, noise_size, eval_episodes, noise_seed;
    int obs_filter;
    long num_workers, pairs_per_task;
    double num_cpus_per_task;
    /* runtime: the noise table lives in the object store; the driver views
     * the same object */
    int remote;
    lux_ref_t noise_ref;
    lux_value_t noise_value;
    /* learned state */
    double *theta;
    lux_obs_stat_t obs_stat;
    lux_rl_progress_t pr; /* iteration and the totals */
    /* scratch */
    double *pert, *grad;
} es_state_t;

static const char *const es_keys[] = {
    "noise_stdev",      "stepsize",         "l2_coeff",           "episodes_per_batch",
    "train_batch_size", "noise_size",       "noise_seed",         "eval_prob",
    "eval_episodes",    "action_noise_std", "observation_filter", "num_workers",
    "pairs_per_task",   "optimizer",        "num_cpus_per_task",
};

static int read_config(const json_t *c, long default_workers, es_state_t *s, char *err,
                       size_t errlen)
{
    lux_rl_spec_defaults_t d = {.discrete_argmax = 1, .num_hidden = 1, .hidden = {32}};
    LUX_RL_TRY(lux_rl_spec_from_config(c, &d, &s->spec, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "noise_stdev", 0.02, 1e-12, 1e6, &s->noise_stdev, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "stepsize", 0.01, 1e-12, 1e6, &s->stepsize, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "l2_coeff", 0.005, 0, 1e6, &s->l2_coeff, err, errlen));
    LUX_RL_TRY(
        lux_cfg_int(c, "episodes_per_batch", 50, 2, 1L << 30, &s->episodes_per_batch, err, errlen));
    LUX_RL_TRY(
        lux_cfg_int(c, "train_batch_size", 5000, 0, 1L << 40, &s->train_batch_size, err, errlen));
    LUX_RL_TRY(lux_cfg_int(c, "noise_size", 25000000, 1, 1L << 32, &s->noise_size, err, errlen));
    LUX_RL_TRY(lux_cfg_int(c, "noise_seed", 123, 0, 1L << 62, &s->noise_seed, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "eval_prob", 0.003, 0, 1, &s->eval_prob, err, errlen));
    LUX_RL_TRY(lux_cfg_int(c, "eval_episodes", 10, 0, 100000, &s->eval_episodes, err, errlen));
    LUX_RL_TRY(
        lux_cfg_double(c, "action_noise_std", 0.01, 0, 1e6, &s->action_noise_std, err, errlen));
    static const char *const filters[] = {"MeanStdFilter", "NoFilter", NULL};
    const char *f;
    LUX_RL_TRY(lux_cfg_string(c, "observation_filter", "MeanStdFilter", filters, &f, err, errlen));
    s->obs_filter = strcmp(f, "MeanStdFilter") == 0;
    static const char *const opts[] = {"adam", NULL};
    LUX_RL_TRY(lux_cfg_string(c, "optimizer", "adam", opts, &f, err, errlen));
    LUX_RL_TRY(
        lux_cfg_int(c, "num_workers", default_workers, 0, 4096, &s->num_workers, err, errlen));
    LUX_RL_TRY(lux_cfg_int(c, "pairs_per_task", 5, 1, 1L << 20, &s->pairs_per_task, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "num_cpus_per_task", 1.0, 0.0001, 1024, &s->num_cpus_per_task, err,
                              errlen));
    return 0;
}

static int es_validate(const json_t *config, char *err, size_t errlen)
{
    LUX_RL_TRY(
        lux_rl_check_keys(config, "es", es_keys, sizeof es_keys / sizeof es_keys[0], err, errlen));
    es_state_t s;
    memset(&s, 0, sizeof s);
    return read_config(config, 0, &s, err, errlen);
}

static void es_cleanup(void *state)
{
    es_state_t *s = state;
    if (s == NULL)
        return;
    lux_adam_destroy(&s->adam);
    lux_noise_table_fini(&s->noise);
    if (s->remote) {
        lux_value_release(&s->noise_value);
        lux_ref_release(s->noise_ref);
    }
    lux_rl_worker_fini(&s->worker);
    lux_free(s->theta);
    lux_free(s->pert);
    lux_free(s->grad);
    lux_free(s);
}

static int es_setup(const json_t *config, const lux_trial_context_t *ctx, void **state, char *err,
                    size_t errlen)
{
    es_state_t *s = lux_calloc(1, sizeof *s);
    if (s == NULL)
        return LUX_ENOMEM;
    s->seed = ctx->seed;
    int rc = read_config(config, ctx->num_rollout_workers, s, err, errlen);
    if (rc == 0)
        rc = lux_rl_check_workers(s->num_workers, err, errlen);
    if (rc == 0)
        rc = lux_rl_worker_init(&s->worker, &s->spec, err, errlen);
    if (rc != 0) {
        lux_free(s);
        return rc;
    }
    s->n = s->worker.num_params;
    if ((size_t)s->noise_size < s->n) {
        snprintf(err, errlen,
                 "config key 'noise_size' (%ld) is smaller than the policy (%zu "
                 "parameters)",
                 s->noise_size, s->n);
        es_cleanup(s);
        return LUX_ECONFIG;
    }
    s->theta = lux_calloc(s->n, sizeof *s->theta);
    s->pert = lux_malloc(s->n * sizeof *s->pert);
    s->grad = lux_malloc(s->n * sizeof *s->grad);
    lux_adam_opts_t ao;
    lux_adam_opts_default(&ao);
    ao.lr = s->stepsize;
    if (s->theta == NULL || s->pert == NULL || s->grad == NULL ||
        lux_adam_new(s->n, &ao, &s->adam) != 0 ||
        lux_noise_table_init(&s->noise, (size_t)s->noise_size, (uint64_t)s->noise_seed) != 0) {
        es_cleanup(s);
        return LUX_ENOMEM;
    }
    if (s->num_workers > 0) {
        /* Put the table once; tasks receive its ref and read it zero-copy,
         * and the driver switches to a view of the same object. */
        size_t bytes = s->noise.size * sizeof(float);
        rc = lux_put(s->noise.values, bytes, 60, &s->noise_ref);
        if (rc == 0) {
            s->remote = 1;
            rc = lux_get(&s->noise_ref, 1, 60, &s->noise_value);
        }
        if (rc != 0 || s->noise_value.len != bytes) {
            snprintf(err, errlen,
                     "putting the noise table (%zu MB) into the object store "
                     "failed: %s (lower noise_size?)",
                     bytes >> 20, lux_strerror(rc));
            es_cleanup(s);
            return rc != 0 ? rc : LUX_EPROTO;
        }
        lux_noise_table_fini(&s->noise);
        lux_noise_table_view(&s->noise, s->noise_value.data, bytes / sizeof(float));
    }
    lux_rng_t rng;
    lux_rng_seed(&rng, lux_seed_derive(s->seed, 0, 0, UINT64_C(0x1417)));
    if (s->worker.mlp != NULL) {
        lux_policy_init_params(s->worker.mlp, &rng);
        lux_policy_get_params(s->worker.mlp, s->theta);
    }
    lux_obs_stat_init(&s->obs_stat, s->spec.policy.obs_dim, 1e-2);
    *state = s;
    return 0;
}

/* What a batch of pairs needs besides the spec, theta, the observation
 * filter and the noise table. */
typedef struct {
    uint64_t trial_seed, iteration;
    int64_t p0, count, n, obs_filter, obs_dim;
    double noise_stdev, action_noise_std, eval_prob;
} es_job_t;

/* The outcome of one antithetic pair. */
typedef struct {
    uint64_t index;
    double ret[2];
    int64_t len[2];
    int64_t has_eval;
    double eval_ret;
    int64_t eval_len;
    lux_obs_stat_t stat; /* observations of this pair's two rollouts */
} es_pair_t;

/* Runs pairs p0 .. p0+count-1 of an iteration. Pair i draws its noise index
 * and its eval_prob coin from (trial seed, iteration, i) and runs both signs
 * on the same episode seed. The same function serves the in-process path and
 * the remote task. pert is scratch of n values. */
static int run_pairs(lux_rl_worker_t *w, const lux_noise_table_t *noise, const es_job_t *job,
                     const double *theta, const double *mean, const double *std, double *pert,
                     es_pair_t *out)
{
    for (int64_t i = 0; i < job->count; i++) {
        uint64_t pi = (uint64_t)(job->p0 + i);
        es_pair_t *p = &out[i];
        memset(p, 0, sizeof *p);
        lux_obs_stat_init(&p->stat, (int)job->obs_dim, 0.0);
        lux_rng_t rng;
        lux_rng_seed(&rng, lux_seed_derive(job->trial_seed, job->iteration, pi, TAG_NOISE));
        p->index = lux_noise_sample_index(noise, &rng, (size_t)job->n);
        uint64_t seed = lux_seed_derive(job->trial_seed, job->iteration, pi, 0);
        for (int sign = 0; sign < 2; sign++) {
            lux_noise_perturb(noise, (size_t)p->index, (size_t)job->n, theta,
                              sign == 0 ? job->noise_stdev : -job->noise_stdev, pert);
            lux_rollout_result_t r;
            int rc = lux_rl_worker_episode(w, pert, seed, mean, std, job->action_noise_std,
                                           job->obs_filter ? &p->stat : NULL, &r);
            if (rc != 0)
                return rc;
            p->ret[sign] = r.episode_return;
            p->len[sign] = r.length;
        }
        if (job->eval_prob > 0 && lux_rng_uniform(&rng) < job->eval_prob) {
            lux_rollout_result_t r;
            int rc = lux_rl_worker_episode(
                w, theta, lux_seed_derive(job->trial_seed, job->iteration, pi, TAG_EVALPROB), mean,
                std, 0.0, NULL, &r);
            if (rc != 0)
                return rc;
            p->has_eval = 1;
            p->eval_ret = r.episode_return;
            p->eval_len = r.length;
        }
    }
    return 0;
}

/* The remote task: args (spec, job, theta, obs mean and std or empty, noise
 * table ref); returns count es_pair_t. */
LUX_REMOTE(lux_rl_es_pairs)
{
    size_t ls, lj, lt, lm, ln;
    const void *spec_p = lux_call_arg(call, 0, &ls);
    const void *job_p = lux_call_arg(call, 1, &lj);
    const void *theta_p = lux_call_arg(call, 2, &lt);
    const void *ms_p = lux_call_arg(call, 3, &lm);
    const void *noise_p = lux_call_arg(call, 4, &ln);
    lux_rl_spec_t spec;
    es_job_t job;
    if (ls != sizeof spec || lj != sizeof job || noise_p == NULL)
        return lux_call_fail(call, "lux_rl_es_pairs: malformed arguments");
    memcpy(&spec, spec_p, sizeof spec);
    memcpy(&job, job_p, sizeof job);
    if (lt != (size_t)job.n * sizeof(double) ||
        (lm != 0 && lm != 2 * (size_t)job.obs_dim * sizeof(double)) ||
        ln < (size_t)job.n * sizeof(float))
        return lux_call_fail(call, "lux_rl_es_pairs: argument sizes do not match the job");
    char err[256] = "";
    lux_rl_worker_t *w = lux_rl_worker_cached(&spec, err, sizeof err);
    if (w == NULL)
        return lux_call_fail(call, "lux_rl_es_pairs: %s", err);
    lux_noise_table_t noise;
    lux_noise_table_view(&noise, noise_p, ln / sizeof(float));
    double *theta = lux_malloc(lt);
    double *pert = lux_malloc(lt);
    double *ms = lm ? lux_malloc(lm) : NULL;
    es_pair_t *out = lux_malloc((size_t)job.count * sizeof *out);
    int rc = theta && pert && out && (lm == 0 || ms) ? 0 : LUX_ENOMEM;
    if (rc == 0) {
        memcpy(theta, theta_p, lt);
        if (lm)
            memcpy(ms, ms_p, lm);
        rc = run_pairs(w, &noise, &job, theta, ms, ms ? ms + job.obs_dim : NULL, pert, out);
    }
    if (rc == 0)
        rc = lux_call_return(call, 0, out, (size_t)job.count * sizeof *out);
    lux_free(theta);
    lux_free(pert);
    lux_free(ms);
    lux_free(out);
    if (rc != 0)
        return lux_call_fail(call, "lux_rl_es_pairs: rollout failed: %s", lux_strerror(rc));
    return 0;
}

/* Collects pairs in index order into *pairs until the batch is complete.
 * Remote: waves of up to 2 * num_workers tasks of pairs_per_task pairs (no
 * more than the episode count still needs); results past the point where
 * the batch completed are dropped, so the batch is the same as the
 * in-process one. */
static int collect_pairs(es_state_t *s, const es_job_t *base, const double *om, const double *os,
                         es_pair_t **pairs_p, size_t *npairs_p, char *err, size_t errlen)
{
    size_t cap = 64, npairs = 0;
    es_pair_t *pairs = lux_malloc(cap * sizeof *pairs);
    if (pairs == NULL)
        return LUX_ENOMEM;
    long episodes = 0, steps = 0;
    int rc = 0;
    size_t chunk = s->num_workers > 0 ? (size_t)s->pairs_per_task : 1;
    size_t wave = s->num_workers > 0 ? 2 * (size_t)s->num_workers : 1;
    double ms[2 * LUX_ENV_MAX_OBS];
    if (om != NULL) {
        memcpy(ms, om, (size_t)base->obs_dim * sizeof(double));
        memcpy(ms + base->obs_dim, os, (size_t)base->obs_dim * sizeof(double));
    }
    lux_ref_t *refs = NULL;
    if (s->num_workers > 0 && (refs = lux_malloc(wave * sizeof *refs)) == NULL)
        rc = LUX_ENOMEM;
    while (rc == 0 && (episodes < s->episodes_per_batch || steps < s->train_batch_size)) {
        /* As many tasks as the episode count still needs (the step count
         * is unknown in advance), at most a wave: fewer dropped pairs. */
        size_t ntasks = wave;
        if (episodes < s->episodes_per_batch) {
            size_t need = (size_t)(s->episodes_per_batch - episodes + 1) / 2;
            size_t t = (need + chunk - 1) / chunk;
            ntasks = t < wave ? (t > 0 ? t : 1) : wave;
        }
        size_t want = chunk * ntasks;
        if (npairs + want > cap) {
            while (npairs + want > cap)
                cap *= 2;
            es_pair_t *np = lux_realloc(pairs, cap * sizeof *pairs);
            if (np == NULL) {
                rc = LUX_ENOMEM;
                break;
            }
            pairs = np;
        }
        es_pair_t *dst = pairs + npairs;
        if (s->num_workers == 0) {
            es_job_t job = *base;
            job.p0 = (int64_t)npairs;
            job.count = 1;
            rc = run_pairs(&s->worker, &s->noise, &job, s->theta, om, os, s->pert, dst);
        } else {
            size_t submitted = 0;
            for (size_t t = 0; t < ntasks && rc == 0; t++) {
                es_job_t job = *base;
                job.p0 = (int64_t)(npairs + t * chunk);
                job.count = (int64_t)chunk;
                lux_arg_t args[5] = {
                    lux_arg_value(&s->spec, sizeof s->spec),
                    lux_arg_value(&job, sizeof job),
                    lux_arg_value(s->theta, s->n * sizeof(double)),
                    lux_arg_value(ms, om ? 2 * (size_t)base->obs_dim * sizeof(double) : 0),
                    lux_arg_ref(s->noise_ref),
                };
                rc = lux_rl_submit_rollout(&lux_rl_es_pairs_remote, args, 5, s->num_cpus_per_task,
                                           &refs[t], err, errlen);
                if (rc == 0)
                    submitted++;
            }
            for (size_t t = 0; t < submitted; t++) {
                lux_value_t v = {0};
                if (rc == 0)
                    rc = lux_rl_get_rollout(&refs[t], chunk * sizeof(es_pair_t), &v, err, errlen);
                if (rc == 0)
                    memcpy(dst + t * chunk, v.data, v.len);
                lux_value_release(&v);
                lux_ref_release(refs[t]);
            }
        }
        /* Take pairs in order until the batch is complete. */
        size_t got = s->num_workers == 0 ? 1 : want;
        for (size_t i = 0; rc == 0 && i < got; i++) {
            if (episodes >= s->episodes_per_batch && steps >= s->train_batch_size)
                break;
            episodes += 2;
            steps += dst[i].len[0] + dst[i].len[1];
            npairs++;
        }
    }
    lux_free(refs);
    if (rc != 0) {
        lux_free(pairs);
        return rc;
    }
    *pairs_p = pairs;
    *npairs_p = npairs;
    return 0;
}

static int es_step(void *state, json_t **result, char *err, size_t errlen)
{
    es_state_t *s = state;
    double mean[LUX_ENV_MAX_OBS], std[LUX_ENV_MAX_OBS];
    const double *om = NULL, *os = NULL;
    if (s->obs_filter && s->worker.mlp != NULL) {
        lux_obs_stat_mean_std(&s->obs_stat, mean, std);
        om = mean;
        os = std;
    }
    es_job_t base = {.trial_seed = s->seed,
                     .iteration = (uint64_t)s->pr.iteration,
                     .n = (int64_t)s->n,
                     .obs_filter = om != NULL,
                     .obs_dim = s->spec.policy.obs_dim,
                     .noise_stdev = s->noise_stdev,
                     .action_noise_std = s->action_noise_std,
                     .eval_prob = s->eval_prob};
    es_pair_t *pairs = NULL;
    size_t npairs = 0;
    char msg[256] = "";
    int rc = collect_pairs(s, &base, om, os, &pairs, &npairs, msg, sizeof msg);
    if (rc != 0) {
        snprintf(err, errlen, "%s", msg[0] ? msg : lux_strerror(rc));
        return rc;
    }
    size_t evals_cap = npairs + (size_t)s->eval_episodes + 1;
    double *ranks = lux_malloc(2 * npairs * sizeof *ranks);
    double *evals = lux_malloc(evals_cap * sizeof *evals);
    if (ranks == NULL || evals == NULL) {
        lux_free(ranks);
        lux_free(evals);
        lux_free(pairs);
        return LUX_ENOMEM;
    }
    long episodes = 0, steps = 0;
    size_t nevals = 0;
    double rsum = 0, rmin = INFINITY, rmax = -INFINITY;
    lux_obs_stat_t delta;
    lux_obs_stat_init(&delta, s->spec.policy.obs_dim, 0.0);
    for (size_t i = 0; i < npairs; i++) {
        for (int k = 0; k < 2; k++) {
            ranks[2 * i + (size_t)k] = pairs[i].ret[k];
            rsum += pairs[i].ret[k];
            rmin = fmin(rmin, pairs[i].ret[k]);
            rmax = fmax(rmax, pairs[i].ret[k]);
            steps += pairs[i].len[k];
        }
        episodes += 2;
        if (pairs[i].has_eval) {
            evals[nevals++] = pairs[i].eval_ret;
            s->pr.eval_timesteps_total += pairs[i].eval_len;
        }
        if (base.obs_filter)
            lux_obs_stat_merge(&delta, &pairs[i].stat);
    }
    lux_centered_ranks(ranks, 2 * npairs, ranks);
    memset(s->grad, 0, s->n * sizeof *s->grad);
    for (size_t i = 0; i < npairs; i++) {
        double w = ranks[2 * i] - ranks[2 * i + 1];
        const float *eps = s->noise.values + pairs[i].index;
        for (size_t j = 0; j < s->n; j++)
            s->grad[j] += w * (double)eps[j];
    }
    double gnorm = 0, tnorm = 0;
    for (size_t j = 0; j < s->n; j++) {
        s->grad[j] /= (double)(2 * npairs);
        gnorm += s->grad[j] * s->grad[j];
        /* Adam minimises: descend on -g + l2 theta. */
        s->grad[j] = -s->grad[j] + s->l2_coeff * s->theta[j];
    }
    lux_adam_step(s->adam, s->theta, s->grad);
    for (size_t j = 0; j < s->n; j++)
        tnorm += s->theta[j] * s->theta[j];
    lux_free(ranks);
    lux_free(pairs);
    if (base.obs_filter)
        lux_obs_stat_merge(&s->obs_stat, &delta);
    s->pr.iteration++;
    s->pr.timesteps_total += steps;
    s->pr.episodes_total += episodes;

    /* Evaluate the new theta on fixed seeds, without noise. */
    json_t *res = json_object();
    if (res == NULL) {
        lux_free(evals);
        return LUX_ENOMEM;
    }
    size_t fixed_from = nevals;
    if (om != NULL)
        lux_obs_stat_mean_std(&s->obs_stat, mean, std);
    for (long e = 0; e < s->eval_episodes; e++) {
        lux_rollout_result_t r;
        rc = lux_rl_worker_episode(&s->worker, s->theta,
                                   lux_seed_derive(s->seed, EVAL_ITERATION, 0, (uint64_t)e), om, os,
                                   0.0, NULL, &r);
        if (rc != 0) {
            json_decref(res);
            lux_free(evals);
            snprintf(err, errlen, "evaluation rollout failed: %s", lux_strerror(rc));
            return rc;
        }
        evals[nevals++] = r.episode_return;
        s->pr.eval_timesteps_total += r.length;
    }
    if (nevals > fixed_from)
        lux_rl_add_reward_stats(res, "episode_reward", evals + fixed_from, nevals - fixed_from);
    else
        lux_rl_add_reward_stats(res, "episode_reward", evals, nevals);
    if (fixed_from > 0)
        lux_rl_add_reward_stats(res, "eval_prob_reward", evals, fixed_from);
    lux_rl_add_mean_min_max(res, "population_reward", rsum / (double)(2 * npairs), rmin, rmax);
    lux_rl_add_progress(res, s->pr.timesteps_total, steps, s->pr.episodes_total, episodes);
    json_object_set_new(res, "eval_timesteps_total", json_integer(s->pr.eval_timesteps_total));
    json_object_set_new(res, "num_pairs", json_integer((json_int_t)npairs));
    json_object_set_new(res, "grad_norm", json_real(sqrt(gnorm)));
    json_object_set_new(res, "weights_norm", json_real(sqrt(tnorm)));
    json_object_set_new(res, "update_ratio",
                        json_real(s->stepsize / (sqrt(tnorm) > 0 ? sqrt(tnorm) : 1.0)));
    json_object_set_new(res, "num_params", json_integer((json_int_t)s->n));
    json_object_set_new(res, "num_workers", json_integer(s->num_workers));
    lux_free(evals);
    *result = res;
    return 0;
}

#define MAGIC "LUXEST01"

static int es_save(void *state, void **bytes, size_t *len, char *err, size_t errlen)
{
    es_state_t *s = state;
    lux_rl_buf_t b = {0};
    lux_rl_header_put(&b, MAGIC, s->n, &s->pr);
    lux_rl_buf_put(&b, &s->obs_stat, sizeof s->obs_stat);
    lux_rl_buf_put(&b, s->theta, s->n * sizeof *s->theta);
    return lux_rl_buf_finish_adam(&b, s->adam, bytes, len);
}

static int es_restore(void *state, const void *bytes, size_t len, char *err, size_t errlen)
{
    es_state_t *s = state;
    const unsigned char *p = bytes, *end = p + len;
    uint64_t n;
    lux_rl_progress_t pr;
    lux_obs_stat_t st;
    if (lux_rl_header_get(&p, end, MAGIC, &n, &pr) || n != s->n ||
        lux_rl_buf_get(&p, end, &st, sizeof st) || (size_t)(end - p) < s->n * sizeof(double)) {
        snprintf(err, errlen,
                 "not an es checkpoint for this policy (bad header, size or "
                 "parameter count)");
        return LUX_EINVAL;
    }
    /* The observation filter's dimension bounds its loops over fixed
     * arrays: it must be this policy's. */
    if (st.dim != s->obs_stat.dim || !(st.count >= 0)) {
        snprintf(err, errlen, "es checkpoint: bad observation filter (dimension %d, count %g)",
                 st.dim, st.count);
        return LUX_EINVAL;
    }
    const unsigned char *theta = p;
    p += s->n * sizeof(double);
    const void *adam;
    size_t al;
    if (lux_rl_tail_get(&p, end, &adam, &al)) {
        snprintf(err, errlen, "es checkpoint: bad optimizer state length");
        return LUX_EINVAL;
    }
    int rc = lux_adam_restore(s->adam, adam, al);
    if (rc != 0) {
        snprintf(err, errlen, "es checkpoint: Adam state: %s", lux_strerror(rc));
        return rc;
    }
    memcpy(s->theta, theta, s->n * sizeof(double));
    s->obs_stat = st;
    s->pr = pr;
    return 0;
}

const lux_trainable_class_t lux_rl_es_trainable = {
    .name = "es",
    .description = "OpenAI evolution strategies (antithetic, centred ranks, Adam)",
    .validate = es_validate,
    .setup = es_setup,
    .step = es_step,
    .save = es_save,
    .restore = es_restore,
    .cleanup = es_cleanup,
};

int lux_rl_es_evaluate(void *state, uint64_t seed, lux_rollout_result_t *res)
{
    es_state_t *s = state;
    double mean[LUX_ENV_MAX_OBS], std[LUX_ENV_MAX_OBS];
    int filt = s->obs_filter && s->worker.mlp != NULL;
    if (filt)
        lux_obs_stat_mean_std(&s->obs_stat, mean, std);
    return lux_rl_worker_episode(&s->worker, s->theta, seed, filt ? mean : NULL, filt ? std : NULL,
                                 0.0, NULL, res);
}
