/*
 * The episode loops. Environments never allocate while stepping, and the
 * policy's workspace is reserved by its first forward pass, so an episode
 * allocates nothing after its first step. The batched loop allocates its
 * float32 policy copies on first use and keeps them for later runs.
 */
#include "rollout.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <string.h>

void lux_obs_stat_init(lux_obs_stat_t *s, int dim, double eps)
{
    memset(s, 0, sizeof *s);
    s->dim = dim > LUX_ENV_MAX_OBS ? LUX_ENV_MAX_OBS : dim;
    s->count = eps;
    for (int i = 0; i < s->dim; i++)
        s->sumsq[i] = eps;
}

void lux_obs_stat_push(lux_obs_stat_t *s, const float *obs)
{
    for (int i = 0; i < s->dim; i++) {
        double x = (double)obs[i];
        s->sum[i] += x;
        s->sumsq[i] += x * x;
    }
    s->count += 1.0;
}

void lux_obs_stat_merge(lux_obs_stat_t *dst, const lux_obs_stat_t *src)
{
    for (int i = 0; i < dst->dim && i < src->dim; i++) {
        dst->sum[i] += src->sum[i];
        dst->sumsq[i] += src->sumsq[i];
    }
    dst->count += src->count;
}

void lux_obs_stat_mean_std(const lux_obs_stat_t *s, double *mean, double *std)
{
    for (int i = 0; i < s->dim; i++) {
        double m = s->count > 0 ? s->sum[i] / s->count : 0.0;
        double m2 = s->count > 0 ? s->sumsq[i] / s->count : 0.0;
        mean[i] = m;
        std[i] = sqrt(fmax(m2 - m * m, 1e-2));
    }
}

void lux_rollout_prepare_obs(const lux_rollout_policy_t *pol, const float *obs, int n, double *out)
{
    for (int i = 0; i < n; i++) {
        double x = (double)obs[i];
        if (pol->obs_mean != NULL) {
            x = (x - pol->obs_mean[i]) / pol->obs_std[i];
            x = x > 5.0 ? 5.0 : x < -5.0 ? -5.0 : x;
        }
        out[i] = x;
    }
}

/* The generator of an episode's policy draws (both loops). */
static void seed_policy_rng(lux_rng_t *rng, uint64_t seed)
{
    lux_rng_seed(rng, lux_seed_mix(seed ^ 0x5851f42d4c957f2dULL));
}

int lux_rollout_episode(lux_env_t *env, const lux_rollout_policy_t *pol, uint64_t seed,
                        long max_steps, lux_obs_stat_t *stat, lux_rollout_result_t *res)
{
    const lux_env_info_t *info = lux_env_info(env);
    int nobs = info->observation.n;
    float obs[LUX_ENV_MAX_OBS];
    double x[LUX_ENV_MAX_OBS], action[LUX_ENV_MAX_ACTION];
    lux_rng_t rng;
    seed_policy_rng(&rng, seed);
    res->episode_return = 0.0;
    res->length = 0;
    int rc = lux_env_reset(env, seed, obs);
    if (rc != 0)
        return rc;
    if (pol->builders != NULL)
        lux_builders_policy_begin(pol->builders, lux_env_num_agents(env), &rng);
    int continuous = info->action.kind == LUX_SPACE_BOX;
    for (;;) {
        if (stat != NULL)
            lux_obs_stat_push(stat, obs);
        if (pol->builders != NULL) {
            action[0] = (double)lux_builders_policy_act(pol->builders, lux_env_current_agent(env),
                                                        obs, &rng);
        } else {
            lux_rollout_prepare_obs(pol, obs, nobs, x);
            rc = lux_policy_act(pol->mlp, x, &rng, action, NULL);
            if (rc != 0)
                return rc;
            if (continuous && pol->action_noise_std > 0.0)
                for (int i = 0; i < info->action.n; i++)
                    action[i] += pol->action_noise_std * lux_rng_normal(&rng);
        }
        double reward;
        int terminated, truncated;
        rc = lux_env_step(env, action, obs, &reward, &terminated, &truncated);
        if (rc != 0)
            return rc;
        res->episode_return += reward;
        res->length++;
        if (terminated || truncated || (max_steps > 0 && res->length >= max_steps))
            break;
    }
    return 0;
}

/* ---- batched rollouts ---- */

struct lux_rollout_batch {
    int num_envs;
    lux_env_t **env;
    /* per environment (slot) */
    lux_rng_t *rng;
    float *obs; /* num_envs x LUX_ENV_MAX_OBS */
    int *episode;
    double *episode_return;
    long *length;
    /* per row of a round */
    int *row_slot, *row_agent, *row_action;
    lux_rng_t **row_rng;
    float *row_obs;     /* num_envs x LUX_ENV_MAX_OBS */
    double *row_double; /* num_envs x max(LUX_ENV_MAX_OBS, LUX_ENV_MAX_ACTION) */
    /* the float32 policies, made on first use */
    lux_builders_batch_t *builders;
    lux_builders_policy_opts_t builders_opts;
    lux_policy_f32_t *mlp;
    lux_policy_spec_t mlp_spec;
};

int lux_rollout_batch_new(const char *env_name, const char *env_options, int num_envs,
                          lux_rollout_batch_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (num_envs < 1 || num_envs > 1 << 16)
        return LUX_EINVAL;
    lux_rollout_batch_t *rb = lux_calloc(1, sizeof *rb);
    if (rb == NULL)
        return LUX_ENOMEM;
    size_t n = (size_t)num_envs;
    rb->num_envs = num_envs;
    rb->env = lux_calloc(n, sizeof *rb->env);
    rb->rng = lux_calloc(n, sizeof *rb->rng);
    rb->obs = lux_calloc(n * LUX_ENV_MAX_OBS, sizeof *rb->obs);
    rb->episode = lux_calloc(n, sizeof *rb->episode);
    rb->episode_return = lux_calloc(n, sizeof *rb->episode_return);
    rb->length = lux_calloc(n, sizeof *rb->length);
    rb->row_slot = lux_calloc(n, sizeof *rb->row_slot);
    rb->row_agent = lux_calloc(n, sizeof *rb->row_agent);
    rb->row_action = lux_calloc(n, sizeof *rb->row_action);
    rb->row_rng = lux_calloc(n, sizeof *rb->row_rng);
    rb->row_obs = lux_calloc(n * LUX_ENV_MAX_OBS, sizeof *rb->row_obs);
    rb->row_double = lux_calloc(n * LUX_ENV_MAX_OBS, sizeof *rb->row_double);
    if (rb->env == NULL || rb->rng == NULL || rb->obs == NULL || rb->episode == NULL ||
        rb->episode_return == NULL || rb->length == NULL || rb->row_slot == NULL ||
        rb->row_agent == NULL || rb->row_action == NULL || rb->row_rng == NULL ||
        rb->row_obs == NULL || rb->row_double == NULL) {
        lux_rollout_batch_destroy(&rb);
        return LUX_ENOMEM;
    }
    for (int i = 0; i < num_envs; i++) {
        int rc = lux_env_make(env_name, env_options, &rb->env[i], err, errlen);
        if (rc != 0) {
            lux_rollout_batch_destroy(&rb);
            return rc;
        }
    }
    *out = rb;
    return 0;
}

void lux_rollout_batch_destroy(lux_rollout_batch_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    lux_rollout_batch_t *rb = *self_p;
    for (int i = 0; rb->env != NULL && i < rb->num_envs; i++)
        lux_env_destroy(&rb->env[i]);
    lux_builders_batch_destroy(&rb->builders);
    lux_policy_f32_destroy(&rb->mlp);
    lux_free(rb->env);
    lux_free(rb->rng);
    lux_free(rb->obs);
    lux_free(rb->episode);
    lux_free(rb->episode_return);
    lux_free(rb->length);
    lux_free(rb->row_slot);
    lux_free(rb->row_agent);
    lux_free(rb->row_action);
    lux_free(rb->row_rng);
    lux_free(rb->row_obs);
    lux_free(rb->row_double);
    lux_free(rb);
    *self_p = NULL;
}

int lux_rollout_batch_num_envs(const lux_rollout_batch_t *rb)
{
    return rb->num_envs;
}

/* The float32 copy of pol's policy with its current parameters. */
static int prepare_policy(lux_rollout_batch_t *rb, const lux_rollout_policy_t *pol)
{
    if (pol->builders != NULL) {
        const lux_builders_policy_t *bp = pol->builders;
        if (rb->builders == NULL || memcmp(&rb->builders_opts, &bp->opts, sizeof bp->opts) != 0) {
            lux_builders_batch_destroy(&rb->builders);
            rb->builders = lux_builders_batch_new(bp, rb->num_envs, LUX_BPOLICY_MAX_AGENTS);
            if (rb->builders == NULL)
                return LUX_ENOMEM;
            rb->builders_opts = bp->opts;
        }
        lux_builders_batch_set_params(rb->builders, bp->params);
        return 0;
    }
    const lux_policy_spec_t *spec = lux_policy_spec(pol->mlp);
    if (rb->mlp == NULL || memcmp(&rb->mlp_spec, spec, sizeof *spec) != 0) {
        lux_policy_f32_destroy(&rb->mlp);
        rb->mlp = lux_policy_f32_new(pol->mlp);
        if (rb->mlp == NULL)
            return LUX_ENOMEM;
        rb->mlp_spec = *spec;
        return 0;
    }
    lux_policy_f32_sync(rb->mlp, pol->mlp);
    return 0;
}

static int start_episode(lux_rollout_batch_t *rb, const lux_rollout_policy_t *pol, int slot,
                         int episode, uint64_t seed)
{
    rb->episode[slot] = episode;
    rb->episode_return[slot] = 0.0;
    rb->length[slot] = 0;
    seed_policy_rng(&rb->rng[slot], seed);
    int rc = lux_env_reset(rb->env[slot], seed, rb->obs + (size_t)slot * LUX_ENV_MAX_OBS);
    if (rc == 0 && pol->builders != NULL)
        lux_builders_batch_begin(rb->builders, slot, lux_env_num_agents(rb->env[slot]),
                                 &rb->rng[slot]);
    return rc;
}

int lux_rollout_batch_run(lux_rollout_batch_t *rb, const lux_rollout_policy_t *pol,
                          const uint64_t *seeds, int n, long max_steps, lux_obs_stat_t *stat,
                          lux_rollout_result_t *res)
{
    if (n <= 0)
        return 0;
    int rc = prepare_policy(rb, pol);
    if (rc != 0)
        return rc;
    const lux_env_info_t *info = lux_env_info(rb->env[0]);
    int nobs = info->observation.n, nact = info->action.n;
    int continuous = info->action.kind == LUX_SPACE_BOX;
    int width = pol->builders != NULL ? LUX_BPOLICY_CELL_INPUTS : nobs;
    int slots = rb->num_envs < n ? rb->num_envs : n, next = 0, active = 0;
    for (int s = 0; s < slots && rc == 0; s++, active++)
        rc = start_episode(rb, pol, s, next, seeds[next]), next++;
    while (rc == 0 && active > 0) {
        int rows = 0;
        for (int s = 0; s < slots; s++) {
            if (rb->episode[s] < 0)
                continue;
            const float *obs = rb->obs + (size_t)s * LUX_ENV_MAX_OBS;
            float *row = rb->row_obs + (size_t)rows * (size_t)width;
            if (stat != NULL)
                lux_obs_stat_push(stat, obs);
            if (pol->builders != NULL) {
                memcpy(row, obs, LUX_BPOLICY_CELL_INPUTS * sizeof *row);
                rb->row_agent[rows] = lux_env_current_agent(rb->env[s]);
            } else {
                double *x = rb->row_double;
                lux_rollout_prepare_obs(pol, obs, nobs, x);
                for (int i = 0; i < nobs; i++)
                    row[i] = (float)x[i];
            }
            rb->row_slot[rows] = s;
            rb->row_rng[rows] = &rb->rng[s];
            rows++;
        }
        double *action = rb->row_double;
        if (pol->builders != NULL) {
            lux_builders_batch_act(rb->builders, rows, rb->row_slot, rb->row_agent, rb->row_obs,
                                   rb->row_rng, rb->row_action);
        } else {
            lux_policy_f32_act(rb->mlp, rb->row_obs, rows, rb->row_rng, action);
            if (continuous && pol->action_noise_std > 0.0)
                for (int r = 0; r < rows; r++)
                    for (int i = 0; i < nact; i++)
                        action[(size_t)r * (size_t)nact + (size_t)i] +=
                            pol->action_noise_std * lux_rng_normal(rb->row_rng[r]);
        }
        for (int r = 0; r < rows && rc == 0; r++) {
            int s = rb->row_slot[r];
            double a = 0.0, reward;
            const double *act = &a;
            if (pol->builders != NULL)
                a = (double)rb->row_action[r];
            else
                act = action + (size_t)r * (size_t)(continuous ? nact : 1);
            int terminated, truncated;
            rc = lux_env_step(rb->env[s], act, rb->obs + (size_t)s * LUX_ENV_MAX_OBS, &reward,
                              &terminated, &truncated);
            if (rc != 0)
                break;
            rb->episode_return[s] += reward;
            rb->length[s]++;
            if (!(terminated || truncated || (max_steps > 0 && rb->length[s] >= max_steps)))
                continue;
            lux_rollout_result_t *out = &res[rb->episode[s]];
            out->episode_return = rb->episode_return[s];
            out->length = rb->length[s];
            rb->episode[s] = -1;
            active--;
            if (next < n) {
                rc = start_episode(rb, pol, s, next, seeds[next]);
                next++;
                active++;
            }
        }
    }
    for (int s = 0; s < rb->num_envs; s++)
        rb->episode[s] = -1;
    return rc;
}
