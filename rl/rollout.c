/*
 * The episode loop. Environments never allocate while stepping, and the
 * policy's workspace is reserved by its first forward pass, so an episode
 * allocates nothing after its first step.
 */
#include "rollout.h"

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

int lux_rollout_episode(lux_env_t *env, const lux_rollout_policy_t *pol, uint64_t seed,
                        long max_steps, lux_obs_stat_t *stat, lux_rollout_result_t *res)
{
    const lux_env_info_t *info = lux_env_info(env);
    int nobs = info->observation.n;
    float obs[LUX_ENV_MAX_OBS];
    double x[LUX_ENV_MAX_OBS], action[LUX_ENV_MAX_ACTION];
    lux_rng_t rng;
    lux_rng_seed(&rng, lux_seed_mix(seed ^ 0x5851f42d4c957f2dULL));
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
