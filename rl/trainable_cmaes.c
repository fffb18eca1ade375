/*
 * The cmaes and sepcmaes trainables: CMA-ES (full or diagonal, rl/cmaes.h)
 * over a policy's flat parameter vector, as the builders study ran it.
 *
 * One step runs generations until episodes_per_iteration episodes or
 * timesteps_per_iteration steps were used (at least one generation), then
 * evaluates the distribution mean on eval_episodes fixed seeds (with
 * num_workers > 0 as runtime tasks of 16 episodes, like the candidates). Fitness is
 * the mean return over episodes_per_eval episodes; the episode seeds derive
 * from (trial seed, generation, candidate, episode), with the candidate left
 * out under `seeding: epoch` so the whole population meets the same
 * episodes. Every evaluation is a pure function of (parameters, seed), so the
 * result does not depend on where or in which order candidates run.
 */
#include "cmaes.h"
#include "trainable_int.h"
#include "trainables.h"

#include "lux.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define EVAL_ITERATION UINT64_C(0xe7a1e7a1e7a1e7a1)

typedef struct {
    int diagonal;
    lux_rl_spec_t spec;
    lux_rl_worker_t worker;
    lux_cmaes_t *es;
    size_t n;
    uint64_t seed;
    /* config */
    long popsize, episodes_per_eval, episodes_per_iteration, timesteps_per_iteration, eval_episodes;
    double sigma0, num_cpus_per_task;
    long num_workers, candidates_per_task;
    lux_seeding_t seeding;
    /* progress */
    lux_rl_progress_t pr; /* iteration and the totals */
    double *X, *f, *returns;
} cma_state_t;

static const char *const cma_keys[] = {
    "optimizer",
    "popsize",
    "sigma0",
    "episodes_per_eval",
    "episodes_per_iteration",
    "timesteps_per_iteration",
    "eval_episodes",
    "seeding",
    "num_workers",
    "candidates_per_task",
    "num_cpus_per_task",
};

static int read_config(const json_t *c, int default_diagonal, long default_workers, cma_state_t *s,
                       char *err, size_t errlen)
{
    static const char *const opts[] = {"cmaes", "sepcmaes", "sep-cmaes", NULL};
    const char *opt;
    LUX_RL_TRY(lux_cfg_string(c, "optimizer", default_diagonal ? "sepcmaes" : "cmaes", opts, &opt,
                              err, errlen));
    s->diagonal = strcmp(opt, "cmaes") != 0;
    lux_rl_spec_defaults_t d = {.discrete_argmax = 1, .num_hidden = 1, .hidden = {16}};
    LUX_RL_TRY(lux_rl_spec_from_config(c, &d, &s->spec, err, errlen));
    LUX_RL_TRY(lux_cfg_int(c, "popsize", 0, 0, 100000, &s->popsize, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "sigma0", s->spec.builders ? 1.0 : 0.5, 1e-12, 1e12, &s->sigma0,
                              err, errlen));
    LUX_RL_TRY(
        lux_cfg_int(c, "episodes_per_eval", 3, 1, 100000, &s->episodes_per_eval, err, errlen));
    LUX_RL_TRY(lux_cfg_int(c, "episodes_per_iteration", 0, 0, 1L << 40, &s->episodes_per_iteration,
                           err, errlen));
    LUX_RL_TRY(lux_cfg_int(c, "timesteps_per_iteration", 0, 0, 1L << 40,
                           &s->timesteps_per_iteration, err, errlen));
    LUX_RL_TRY(lux_cfg_int(c, "eval_episodes", 10, 0, 100000, &s->eval_episodes, err, errlen));
    static const char *const seedings[] = {"epoch", "random", NULL};
    const char *seeding;
    LUX_RL_TRY(lux_cfg_string(c, "seeding", "epoch", seedings, &seeding, err, errlen));
    lux_seeding_parse(seeding, &s->seeding);
    LUX_RL_TRY(
        lux_cfg_int(c, "num_workers", default_workers, 0, 4096, &s->num_workers, err, errlen));
    LUX_RL_TRY(
        lux_cfg_int(c, "candidates_per_task", 1, 1, 100000, &s->candidates_per_task, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "num_cpus_per_task", 1.0, 0.0001, 1024, &s->num_cpus_per_task, err,
                              errlen));
    return 0;
}

static int validate_common(const json_t *config, const char *name, int diagonal, char *err,
                           size_t errlen)
{
    LUX_RL_TRY(lux_rl_check_keys(config, name, cma_keys, sizeof cma_keys / sizeof cma_keys[0], err,
                                 errlen));
    cma_state_t s;
    memset(&s, 0, sizeof s);
    return read_config(config, diagonal, 0, &s, err, errlen);
}

static int cma_validate(const json_t *config, char *err, size_t errlen)
{
    return validate_common(config, "cmaes", 0, err, errlen);
}

static int sep_validate(const json_t *config, char *err, size_t errlen)
{
    return validate_common(config, "sepcmaes", 1, err, errlen);
}

static void cma_cleanup(void *state)
{
    cma_state_t *s = state;
    if (s == NULL)
        return;
    lux_cmaes_destroy(&s->es);
    lux_rl_worker_fini(&s->worker);
    lux_free(s->X);
    lux_free(s->f);
    lux_free(s->returns);
    lux_free(s);
}

static int make_es(cma_state_t *s, char *err, size_t errlen)
{
    lux_cmaes_opts_t o;
    lux_cmaes_opts_default(&o);
    o.popsize = (int)s->popsize;
    o.diagonal = s->diagonal;
    o.seed = lux_seed_derive(s->seed, 0, 0, UINT64_C(0xc3a));
    double *x0 = lux_calloc(s->n, sizeof *x0);
    if (x0 == NULL)
        return LUX_ENOMEM;
    int rc = lux_cmaes_new(s->n, x0, s->sigma0, &o, &s->es);
    lux_free(x0);
    if (rc != 0)
        snprintf(err, errlen, "CMA-ES: %s (dimension %zu)", lux_strerror(rc), s->n);
    return rc;
}

static int setup_common(const json_t *config, const lux_trial_context_t *ctx, int diagonal,
                        void **state, char *err, size_t errlen)
{
    cma_state_t *s = lux_calloc(1, sizeof *s);
    if (s == NULL)
        return LUX_ENOMEM;
    s->seed = ctx->seed;
    int rc = read_config(config, diagonal, ctx->num_rollout_workers, s, err, errlen);
    if (rc == 0)
        rc = lux_rl_check_workers(s->num_workers, err, errlen);
    if (rc == 0)
        rc = lux_rl_worker_init(&s->worker, &s->spec, err, errlen);
    if (rc != 0) {
        lux_free(s);
        return rc;
    }
    s->n = s->worker.num_params;
    rc = make_es(s, err, errlen);
    if (rc == 0) {
        int lambda = lux_cmaes_popsize(s->es);
        s->X = lux_malloc((size_t)lambda * s->n * sizeof *s->X);
        s->f = lux_malloc((size_t)lambda * sizeof *s->f);
        s->returns = lux_malloc((size_t)lambda * (size_t)s->episodes_per_eval * sizeof(double));
        if (s->X == NULL || s->f == NULL || s->returns == NULL)
            rc = LUX_ENOMEM;
    }
    if (rc != 0) {
        cma_cleanup(s);
        return rc;
    }
    *state = s;
    return 0;
}

static int cma_setup(const json_t *config, const lux_trial_context_t *ctx, void **state, char *err,
                     size_t errlen)
{
    return setup_common(config, ctx, 0, state, err, errlen);
}

static int sep_setup(const json_t *config, const lux_trial_context_t *ctx, void **state, char *err,
                     size_t errlen)
{
    return setup_common(config, ctx, 1, state, err, errlen);
}

/* Evaluation episodes of the distribution mean per runtime task: the
 * study's chunk of 16 (512 episodes = 32 chunks), one lockstep batch. */
#define EVAL_EPISODES_PER_TASK 16

/* What one evaluation task needs besides the spec and the parameters.
 * eval_first < 0: training candidates, seeds from (trial seed, generation,
 * candidate, episode). eval_first >= 0: one parameter vector (the mean) on
 * the fixed evaluation episodes eval_first .. eval_first+episodes_per_eval-1. */
typedef struct {
    uint64_t trial_seed, generation;
    int64_t seeding, episodes_per_eval, k0, count, n, eval_first;
} cma_job_t;

static uint64_t eval_seed(uint64_t trial_seed, uint64_t episode)
{
    return lux_seed_derive(trial_seed, EVAL_ITERATION, 0, episode);
}

/* Evaluates candidates k0 .. k0+count-1 (params: count rows of n) for
 * episodes_per_eval episodes each: returns[i * E + e], lengths likewise. The
 * same function serves the in-process path and the remote task, so both
 * give identical results. */
static int eval_candidates(lux_rl_worker_t *w, const cma_job_t *job, const double *params,
                           double *returns, double *lengths)
{
    int64_t E = job->episodes_per_eval;
    uint64_t *seeds = lux_malloc((size_t)E * sizeof *seeds);
    lux_rollout_result_t *r = lux_malloc((size_t)E * sizeof *r);
    int rc = seeds != NULL && r != NULL ? 0 : LUX_ENOMEM;
    for (int64_t i = 0; rc == 0 && i < job->count; i++) {
        for (int64_t e = 0; e < E; e++)
            seeds[e] =
                job->eval_first >= 0
                    ? eval_seed(job->trial_seed, (uint64_t)(job->eval_first + e))
                    : lux_seed_rollout((lux_seeding_t)job->seeding, job->trial_seed,
                                       job->generation, (uint64_t)(job->k0 + i), (uint64_t)e);
        /* A candidate's episodes run in lockstep (one batched forward pass). */
        rc = lux_rl_worker_episodes(w, params + (size_t)i * (size_t)job->n, seeds, (int)E, r);
        for (int64_t e = 0; rc == 0 && e < E; e++) {
            returns[i * E + e] = r[e].episode_return;
            lengths[i * E + e] = (double)r[e].length;
        }
    }
    lux_free(seeds);
    lux_free(r);
    return rc;
}

/* The remote task: args (spec, job, params); one return holding count*E
 * returns then count*E lengths. */
LUX_REMOTE(lux_rl_cmaes_eval)
{
    size_t ls, lj, lp;
    const void *spec_p = lux_call_arg(call, 0, &ls);
    const void *job_p = lux_call_arg(call, 1, &lj);
    const void *params_p = lux_call_arg(call, 2, &lp);
    lux_rl_spec_t spec;
    cma_job_t job;
    if (ls != sizeof spec || lj != sizeof job)
        return lux_call_fail(call, "lux_rl_cmaes_eval: malformed arguments");
    memcpy(&spec, spec_p, sizeof spec);
    memcpy(&job, job_p, sizeof job);
    size_t rows = (size_t)job.count * (size_t)job.episodes_per_eval;
    if (lp != (size_t)job.count * (size_t)job.n * sizeof(double))
        return lux_call_fail(call, "lux_rl_cmaes_eval: %zu parameter bytes for %lld x %lld", lp,
                             (long long)job.count, (long long)job.n);
    char err[256] = "";
    lux_rl_worker_t *w = lux_rl_worker_cached(&spec, err, sizeof err);
    if (w == NULL)
        return lux_call_fail(call, "lux_rl_cmaes_eval: %s", err);
    double *params = lux_malloc(lp > 0 ? lp : 1);
    double *out = lux_malloc(2 * rows * sizeof *out);
    int rc = params && out ? 0 : LUX_ENOMEM;
    if (rc == 0) {
        memcpy(params, params_p, lp); /* aligned copy of the argument */
        rc = eval_candidates(w, &job, params, out, out + rows);
    }
    if (rc == 0)
        rc = lux_call_return(call, 0, out, 2 * rows * sizeof *out);
    lux_free(params);
    lux_free(out);
    if (rc != 0)
        return lux_call_fail(call, "lux_rl_cmaes_eval: rollout failed: %s", lux_strerror(rc));
    return 0;
}

/* Evaluates the population of one generation: returns[k * E + e]. With
 * num_workers > 0, one task per chunk of candidates_per_task candidates,
 * collected in candidate order. */
static int evaluate_population(cma_state_t *s, long generation, int lambda, long *steps, char *err,
                               size_t errlen)
{
    long E = s->episodes_per_eval;
    size_t rows = (size_t)lambda * (size_t)E;
    double *lengths = lux_malloc(rows * sizeof *lengths);
    if (lengths == NULL)
        return LUX_ENOMEM;
    cma_job_t job = {.trial_seed = s->seed,
                     .generation = (uint64_t)generation,
                     .seeding = s->seeding,
                     .episodes_per_eval = E,
                     .k0 = 0,
                     .count = lambda,
                     .n = (int64_t)s->n,
                     .eval_first = -1};
    int rc = 0;
    if (s->num_workers == 0) {
        rc = eval_candidates(&s->worker, &job, s->X, s->returns, lengths);
    } else {
        long chunk = s->candidates_per_task;
        size_t ntasks = (size_t)((lambda + chunk - 1) / chunk);
        lux_ref_t *refs = lux_calloc(ntasks, sizeof *refs);
        size_t submitted = 0;
        if (refs == NULL)
            rc = LUX_ENOMEM;
        for (size_t t = 0; rc == 0 && t < ntasks; t++) {
            cma_job_t j = job;
            j.k0 = (int64_t)t * chunk;
            j.count = lambda - j.k0 < chunk ? lambda - j.k0 : chunk;
            lux_arg_t args[3] = {
                lux_arg_value(&s->spec, sizeof s->spec),
                lux_arg_value(&j, sizeof j),
                lux_arg_value(s->X + (size_t)j.k0 * s->n, (size_t)j.count * s->n * sizeof(double)),
            };
            rc = lux_rl_submit_rollout(&lux_rl_cmaes_eval_remote, args, 3, s->num_cpus_per_task,
                                       &refs[t], err, errlen);
            if (rc == 0)
                submitted++;
        }
        for (size_t t = 0; t < submitted; t++) {
            size_t k0 = t * (size_t)chunk;
            size_t cnt = (size_t)lambda - k0 < (size_t)chunk ? (size_t)lambda - k0 : (size_t)chunk;
            size_t r = cnt * (size_t)E;
            lux_value_t v = {0};
            if (rc == 0)
                rc = lux_rl_get_rollout(&refs[t], 2 * r * sizeof(double), &v, err, errlen);
            if (rc == 0) {
                memcpy(s->returns + k0 * (size_t)E, v.data, r * sizeof(double));
                memcpy(lengths + k0 * (size_t)E, (const double *)v.data + r, r * sizeof(double));
            }
            lux_value_release(&v);
            lux_ref_release(refs[t]);
        }
        lux_free(refs);
    }
    for (size_t i = 0; rc == 0 && i < rows; i++)
        *steps += (long)lengths[i];
    lux_free(lengths);
    return rc;
}

/* Evaluates the distribution mean on the eval_episodes fixed seeds:
 * returns[e] and *steps += their lengths. With num_workers > 0, one task per
 * EVAL_EPISODES_PER_TASK consecutive episodes, collected in episode order.
 * Each episode's return is the same in a task as in-process (a pure function
 * of parameters and seed), and the caller sums them in the same order, so
 * score and score_std do not depend on where the episodes ran. */
static int evaluate_mean(cma_state_t *s, double *returns, long *steps, char *err, size_t errlen)
{
    size_t ne = (size_t)s->eval_episodes;
    if (ne == 0)
        return 0;
    double *lengths = lux_malloc(ne * sizeof *lengths);
    if (lengths == NULL)
        return LUX_ENOMEM;
    const double *mean = lux_cmaes_mean(s->es);
    cma_job_t job = {.trial_seed = s->seed,
                     .seeding = s->seeding,
                     .episodes_per_eval = (int64_t)ne,
                     .k0 = 0,
                     .count = 1,
                     .n = (int64_t)s->n,
                     .eval_first = 0};
    int rc = 0;
    if (s->num_workers == 0) {
        rc = eval_candidates(&s->worker, &job, mean, returns, lengths);
    } else {
        size_t chunk = EVAL_EPISODES_PER_TASK;
        size_t ntasks = (ne + chunk - 1) / chunk;
        lux_ref_t *refs = lux_calloc(ntasks, sizeof *refs);
        size_t submitted = 0;
        if (refs == NULL)
            rc = LUX_ENOMEM;
        for (size_t t = 0; rc == 0 && t < ntasks; t++) {
            cma_job_t j = job;
            j.eval_first = (int64_t)(t * chunk);
            j.episodes_per_eval = (int64_t)(ne - t * chunk < chunk ? ne - t * chunk : chunk);
            lux_arg_t args[3] = {
                lux_arg_value(&s->spec, sizeof s->spec),
                lux_arg_value(&j, sizeof j),
                lux_arg_value(mean, s->n * sizeof(double)),
            };
            rc = lux_rl_submit_rollout(&lux_rl_cmaes_eval_remote, args, 3, s->num_cpus_per_task,
                                       &refs[t], err, errlen);
            if (rc == 0)
                submitted++;
        }
        for (size_t t = 0; t < submitted; t++) {
            size_t e0 = t * chunk;
            size_t cnt = ne - e0 < chunk ? ne - e0 : chunk;
            lux_value_t v = {0};
            if (rc == 0)
                rc = lux_rl_get_rollout(&refs[t], 2 * cnt * sizeof(double), &v, err, errlen);
            if (rc == 0) {
                memcpy(returns + e0, v.data, cnt * sizeof(double));
                memcpy(lengths + e0, (const double *)v.data + cnt, cnt * sizeof(double));
            }
            lux_value_release(&v);
            lux_ref_release(refs[t]);
        }
        lux_free(refs);
    }
    for (size_t e = 0; rc == 0 && e < ne; e++)
        *steps += (long)lengths[e];
    lux_free(lengths);
    return rc;
}

static int cma_step(void *state, json_t **result, char *err, size_t errlen)
{
    cma_state_t *s = state;
    int lambda = lux_cmaes_popsize(s->es);
    long E = s->episodes_per_eval;
    long steps = 0, episodes = 0, generations = 0;
    double pop_sum = 0, pop_min = INFINITY, pop_max = -INFINITY, best_f = INFINITY;
    do {
        long gen = lux_cmaes_generation(s->es);
        LUX_RL_TRY(lux_cmaes_ask(s->es, s->X));
        char msg[256] = "";
        int rc = evaluate_population(s, gen, lambda, &steps, msg, sizeof msg);
        if (rc != 0) {
            if (msg[0] != '\0')
                snprintf(err, errlen, "%s", msg);
            else
                snprintf(err, errlen, "rollout failed: %s", lux_strerror(rc));
            return rc;
        }
        for (int k = 0; k < lambda; k++) {
            double sum = 0;
            for (long e = 0; e < E; e++) {
                double r = s->returns[(size_t)k * (size_t)E + (size_t)e];
                sum += r;
                pop_min = fmin(pop_min, r);
                pop_max = fmax(pop_max, r);
            }
            pop_sum += sum;
            s->f[k] = -sum / (double)E;
            best_f = fmin(best_f, s->f[k]);
        }
        rc = lux_cmaes_tell(s->es, s->X, s->f);
        if (rc != 0) {
            snprintf(err, errlen, "CMA-ES update failed: %s", lux_strerror(rc));
            return rc;
        }
        episodes += lambda * E;
        generations++;
    } while (episodes < s->episodes_per_iteration || steps < s->timesteps_per_iteration);
    s->pr.iteration++;
    s->pr.timesteps_total += steps;
    s->pr.episodes_total += episodes;

    /* The distribution mean on fixed seeds: the policy this trial offers. */
    json_t *res = json_object();
    if (res == NULL)
        return LUX_ENOMEM;
    double *eval = lux_malloc((size_t)(s->eval_episodes + 1) * sizeof *eval);
    if (eval == NULL) {
        json_decref(res);
        return LUX_ENOMEM;
    }
    long eval_steps = 0;
    char msg[256] = "";
    int erc = evaluate_mean(s, eval, &eval_steps, msg, sizeof msg);
    if (erc != 0) {
        lux_free(eval);
        json_decref(res);
        snprintf(err, errlen, "evaluation rollout failed: %s",
                 msg[0] != '\0' ? msg : lux_strerror(erc));
        return erc;
    }
    s->pr.eval_timesteps_total += eval_steps;
    double pop_mean = pop_sum / (double)episodes;
    if (s->eval_episodes > 0) {
        lux_rl_add_reward_stats(res, "episode_reward", eval, (size_t)s->eval_episodes);
        double m = 0;
        for (long e = 0; e < s->eval_episodes; e++)
            m += eval[e];
        m /= (double)s->eval_episodes;
        json_object_set_new(res, "score", json_real(m));
        json_object_set_new(
            res, "score_std",
            json_real(lux_rl_chunk_means_std(eval, (size_t)s->eval_episodes, LUX_RL_SCORE_CHUNKS)));
    } else {
        lux_rl_add_mean_min_max(res, "episode_reward", pop_mean, pop_min, pop_max);
    }
    lux_free(eval);
    lux_rl_add_mean_min_max(res, "population_reward", pop_mean, pop_min, pop_max);
    json_object_set_new(res, "score_population", json_real(pop_mean));
    json_object_set_new(res, "best_candidate_reward", json_real(-best_f));
    lux_rl_add_progress(res, s->pr.timesteps_total, steps, s->pr.episodes_total, episodes);
    json_object_set_new(res, "total_episodes", json_integer(s->pr.episodes_total));
    json_object_set_new(res, "eval_timesteps_total", json_integer(s->pr.eval_timesteps_total));
    json_object_set_new(res, "generation", json_integer(lux_cmaes_generation(s->es)));
    json_object_set_new(res, "generations_this_iter", json_integer(generations));
    json_object_set_new(res, "popsize", json_integer(lambda));
    json_object_set_new(res, "num_params", json_integer((json_int_t)s->n));
    json_object_set_new(res, "sigma", json_real(lux_cmaes_sigma(s->es)));
    json_object_set_new(res, "condition", json_real(lux_cmaes_condition(s->es)));
    char reason[64];
    if (lux_cmaes_stop(s->es, reason, sizeof reason))
        json_object_set_new(res, "cmaes_stop", json_string(reason));
    *result = res;
    return 0;
}

#define MAGIC "LUXCMAT1"

static int cma_save(void *state, void **bytes, size_t *len, char *err, size_t errlen)
{
    cma_state_t *s = state;
    void *blob;
    size_t blen;
    int rc = lux_cmaes_save(s->es, &blob, &blen);
    if (rc != 0) {
        snprintf(err, errlen, "CMA-ES save failed: %s", lux_strerror(rc));
        return rc;
    }
    lux_rl_buf_t b = {0};
    lux_rl_header_put(&b, MAGIC, s->n, &s->pr);
    return lux_rl_buf_finish_tail(&b, &blob, blen, bytes, len);
}

static int cma_restore(void *state, const void *bytes, size_t len, char *err, size_t errlen)
{
    cma_state_t *s = state;
    const unsigned char *p = bytes, *end = p + len;
    uint64_t n;
    lux_rl_progress_t pr;
    const void *blob;
    size_t blen;
    if (lux_rl_header_get(&p, end, MAGIC, &n, &pr) || lux_rl_tail_get(&p, end, &blob, &blen)) {
        snprintf(err, errlen, "not a cmaes/sepcmaes checkpoint (bad header or length)");
        return LUX_EINVAL;
    }
    if (n != s->n) {
        snprintf(err, errlen, "checkpoint has %llu policy parameters; this config's policy has %zu",
                 (unsigned long long)n, s->n);
        return LUX_EINVAL;
    }
    lux_cmaes_t *es;
    int rc = lux_cmaes_restore(blob, blen, &es);
    if (rc != 0) {
        snprintf(err, errlen, "CMA-ES restore failed: %s", lux_strerror(rc));
        return rc;
    }
    if (lux_cmaes_popsize(es) != lux_cmaes_popsize(s->es)) {
        /* PBT may restore into a config with another popsize: keep the
         * checkpoint's, which is the state that continues. */
        int lambda = lux_cmaes_popsize(es);
        double *X = lux_realloc(s->X, (size_t)lambda * s->n * sizeof *X);
        if (X != NULL)
            s->X = X;
        double *f = lux_realloc(s->f, (size_t)lambda * sizeof *f);
        if (f != NULL)
            s->f = f;
        double *r =
            lux_realloc(s->returns, (size_t)lambda * (size_t)s->episodes_per_eval * sizeof *r);
        if (r != NULL)
            s->returns = r;
        if (X == NULL || f == NULL || r == NULL) {
            lux_cmaes_destroy(&es);
            return LUX_ENOMEM;
        }
    }
    lux_cmaes_destroy(&s->es);
    s->es = es;
    s->pr = pr;
    return 0;
}

const lux_trainable_class_t lux_rl_cmaes_trainable = {
    .name = "cmaes",
    .description = "CMA-ES over a policy's parameters (full covariance)",
    .validate = cma_validate,
    .setup = cma_setup,
    .step = cma_step,
    .save = cma_save,
    .restore = cma_restore,
    .cleanup = cma_cleanup,
};

const lux_trainable_class_t lux_rl_sepcmaes_trainable = {
    .name = "sepcmaes",
    .description = "sep-CMA-ES (diagonal covariance) over a policy's parameters",
    .validate = sep_validate,
    .setup = sep_setup,
    .step = cma_step,
    .save = cma_save,
    .restore = cma_restore,
    .cleanup = cma_cleanup,
};

int lux_rl_cmaes_evaluate(void *state, uint64_t seed, lux_rollout_result_t *res)
{
    cma_state_t *s = state;
    return lux_rl_worker_episode(&s->worker, lux_cmaes_mean(s->es), seed, NULL, NULL, 0.0, NULL,
                                 res);
}

uint64_t lux_rl_cmaes_eval_seed(uint64_t trial_seed, uint64_t episode)
{
    return eval_seed(trial_seed, episode);
}

int lux_rl_cmaes_evaluate_params(const json_t *config, const double *params, size_t n,
                                 const uint64_t *seeds, size_t nseeds, double *returns,
                                 long *lengths, size_t *expected, char *err, size_t errlen)
{
    LUX_RL_TRY(lux_rl_check_keys(config, "cmaes", cma_keys, sizeof cma_keys / sizeof cma_keys[0],
                                 err, errlen));
    cma_state_t s;
    memset(&s, 0, sizeof s);
    LUX_RL_TRY(read_config(config, 1, 0, &s, err, errlen));
    lux_rl_worker_t w;
    LUX_RL_TRY(lux_rl_worker_init(&w, &s.spec, err, errlen));
    if (expected != NULL)
        *expected = w.num_params;
    int rc = 0;
    if (n != w.num_params) {
        snprintf(err, errlen, "expected %zu parameters for the config's policy, got %zu",
                 w.num_params, n);
        rc = LUX_EINVAL;
    }
    lux_rollout_result_t *r = NULL;
    if (rc == 0 && nseeds > 0) {
        r = lux_malloc(nseeds * sizeof *r);
        rc = r != NULL ? 0 : LUX_ENOMEM;
    }
    if (rc == 0 && nseeds > 0)
        rc = lux_rl_worker_episodes(&w, params, seeds, (int)nseeds, r);
    for (size_t i = 0; rc == 0 && i < nseeds; i++) {
        returns[i] = r[i].episode_return;
        lengths[i] = r[i].length;
    }
    if (rc != 0 && rc != LUX_EINVAL && err[0] == '\0')
        snprintf(err, errlen, "evaluation rollout failed: %s", lux_strerror(rc));
    lux_free(r);
    lux_rl_worker_fini(&w);
    return rc;
}
