/*
 * Rollouts: run one episode of an environment with a policy and report its
 * return and length. The policy is either an MLP/linear policy (with
 * optional observation normalisation and action noise, as OpenAI ES uses) or
 * the builders policy with memory; for turn-based multi-agent environments
 * (builders) every agent acts through the same policy with its own memory,
 * and the episode return is the shared reward.
 *
 * Determinism: the environment is reset with `seed` and the policy's own
 * sampling (softmax, gaussian, action noise, builders' random inputs) draws
 * from a generator seeded from the same seed, so one seed gives one episode
 * in any process.
 *
 * Observation statistics follow the ES starter's RunningStat: sums, sums of
 * squares and a count; std = sqrt(max(E[x^2] - mean^2, 1e-2)).
 */
#ifndef LUX_RL_ROLLOUT_H
#define LUX_RL_ROLLOUT_H

#include "builders_policy.h"
#include "env.h"
#include "policy.h"

#include <stdint.h>

typedef struct {
    int dim;
    double count;
    double sum[LUX_ENV_MAX_OBS];
    double sumsq[LUX_ENV_MAX_OBS];
} lux_obs_stat_t;

/* Zeroed statistics for dim values, with `eps` as the initial count and
 * eps per component in sumsq (the ES starter uses 1e-2 for the master's
 * copy and 0 for a worker's increments). */
void lux_obs_stat_init(lux_obs_stat_t *s, int dim, double eps);
void lux_obs_stat_push(lux_obs_stat_t *s, const float *obs);
/* dst += src (sums and counts). */
void lux_obs_stat_merge(lux_obs_stat_t *dst, const lux_obs_stat_t *src);
/* mean and std (dim values each). */
void lux_obs_stat_mean_std(const lux_obs_stat_t *s, double *mean, double *std);

typedef struct {
    lux_policy_t *mlp;               /* one of mlp and builders is set */
    lux_builders_policy_t *builders; /* params set by the caller */
    const double *obs_mean;          /* NULL: observations as they come */
    const double *obs_std;           /* with obs_mean: (o - mean)/std clipped to +-5 */
    double action_noise_std;         /* continuous heads: N(0, s^2) added to actions */
} lux_rollout_policy_t;

typedef struct {
    double episode_return;
    long length; /* environment steps (all agents' turns for builders) */
} lux_rollout_result_t;

/* Runs one episode from `seed` until terminated or truncated, or for at
 * most max_steps steps when max_steps > 0. Pushes every observation into
 * stat when stat is not NULL. Returns 0, or the env's error (LUX_EINVAL,
 * LUX_ERANGE) or LUX_ENOMEM. */
int lux_rollout_episode(lux_env_t *env, const lux_rollout_policy_t *pol, uint64_t seed,
                        long max_steps, lux_obs_stat_t *stat, lux_rollout_result_t *res);

/* ---- batched rollouts ----
 *
 * A rollout batch owns num_envs copies of one environment and steps them in
 * lockstep: every round, each environment with a running episode
 * contributes one row (its current agent's observation) to one batched
 * float32 forward pass (lux_builders_batch_t or lux_policy_f32_t), then each
 * takes its step. An environment whose episode ends starts the next pending
 * one, so the batch stays full until the last episodes. Each episode keeps
 * its own generator seeded from its seed, exactly as lux_rollout_episode
 * seeds it, and rows do not influence each other, so an episode's return
 * and length depend on (parameters, seed) only: not on num_envs, nor on
 * which episodes share a batch. Observation statistics (stat) are pushed in
 * the order the rows are stepped, so their sums may differ in the last bits
 * between batch sizes (the trainables that collect them run one episode per
 * call). */

typedef struct lux_rollout_batch lux_rollout_batch_t;

/* A batch of num_envs (>= 1) environments made by lux_env_make(env_name,
 * env_options). Returns 0 and *out, or the lux_env_make error with its
 * message in err, or LUX_EINVAL / LUX_ENOMEM. */
int lux_rollout_batch_new(const char *env_name, const char *env_options, int num_envs,
                          lux_rollout_batch_t **out, char *err, size_t errlen);
void lux_rollout_batch_destroy(lux_rollout_batch_t **self_p);

int lux_rollout_batch_num_envs(const lux_rollout_batch_t *rb);

/* Runs the n episodes seeds[0..n) with the float32 copy of pol's policy
 * (pol->mlp's current parameters, or pol->builders's; read at this call)
 * and writes res[i] for seeds[i]. max_steps and stat as for
 * lux_rollout_episode; obs_mean/obs_std and action_noise_std as there.
 * Returns 0, the env's error, or LUX_ENOMEM. */
int lux_rollout_batch_run(lux_rollout_batch_t *rb, const lux_rollout_policy_t *pol,
                          const uint64_t *seeds, int n, long max_steps, lux_obs_stat_t *stat,
                          lux_rollout_result_t *res);

/* Applies the policy's observation normalisation: out = obs as doubles,
 * normalised when pol->obs_mean is set. */
void lux_rollout_prepare_obs(const lux_rollout_policy_t *pol, const float *obs, int n, double *out);

#endif
