/*
 * The rl trainables' internal header: the one place for what
 * trainable_cmaes.c, trainable_es.c and trainable_a3c.c share with each other
 * and with trainables.c. It was trainable_common.h; it is renamed because it
 * is more than shared helpers: it also declares the functions each trainable
 * module offers trainables.c (the *_evaluate entries), so the compiler checks
 * both the definitions and the calls against one prototype. The public face of
 * the trainables stays rl/trainables.h; no public header includes this one.
 *
 * It holds: LUX_RL_TRY; typed config access with messages that name the key,
 * and the unknown-key check over a trainable's own keys plus the spec's; the
 * policy/environment spec built from a config (and shipped to rollout
 * workers as bytes); a rollout "worker" (one environment plus one policy)
 * that evaluates parameter vectors; and the checkpoint framing (byte buffer,
 * magic, header, trailing length-prefixed blob).
 *
 * A spec travels to remote workers as a flat byte image: workers are the
 * same executable on the same machine type, so the struct layout matches;
 * the env options follow as text. Checkpoints are host-endian for the same
 * reason (docs/trainables.md, "Checkpoints").
 */
#ifndef LUX_RL_TRAINABLE_INT_H
#define LUX_RL_TRAINABLE_INT_H

#include "adam.h"
#include "builders_policy.h"
#include "env.h"
#include "lux.h"
#include "policy.h"
#include "rollout.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Returns from the enclosing int function with expr's value when it is not
 * 0 (an error code). */
#define LUX_RL_TRY(expr)                                                                           \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != 0)                                                                              \
            return rc_;                                                                            \
    } while (0)

/* ---- config ---- */

/* Checks that every key of `config` is one of the trainable's own keys
 * (own[0..n_own)) or one the spec reads (lux_rl_spec_from_config). Returns 0,
 * or LUX_ECONFIG with "trainable: unknown config key 'popsiz'; did you mean
 * 'popsize'?" (or "the config must be a JSON object") in err. */
int lux_rl_check_keys(const json_t *config, const char *trainable, const char *const *own,
                      size_t n_own, char *err, size_t errlen);
int lux_cfg_int(const json_t *c, const char *key, long def, long min, long max, long *out,
                char *err, size_t errlen);
int lux_cfg_double(const json_t *c, const char *key, double def, double min, double max,
                   double *out, char *err, size_t errlen);
/* *out points into the config (or is def). `choices` (NULL-terminated, may
 * be NULL) restricts the values. */
int lux_cfg_string(const json_t *c, const char *key, const char *def, const char *const *choices,
                   const char **out, char *err, size_t errlen);

/* ---- spec ---- */

typedef struct {
    int discrete_argmax;  /* default discrete_action: 1 argmax, 0 sample */
    int continuous_gauss; /* default continuous_action: 1 gaussian, 0 deterministic */
    int value_head;       /* A3C */
    int hidden[LUX_POLICY_MAX_LAYERS];
    int num_hidden; /* default fcnet_hiddens */
    lux_activation_t activation;
} lux_rl_spec_defaults_t;

typedef struct {
    char env_name[64];
    char env_options[1024]; /* JSON text of env_config ("" when none) */
    int builders;           /* 1: the builders policy with memory */
    int obs_bounds;         /* observation_scaling "bounds": scale finite boxes to [-1, 1] */
    double bounds_mean[LUX_ENV_MAX_OBS], bounds_half[LUX_ENV_MAX_OBS];
    lux_policy_spec_t policy;
    lux_builders_policy_opts_t bopts;
} lux_rl_spec_t;

/* Reads env, env_config, fcnet_hiddens, fcnet_activation, discrete_action,
 * continuous_action and, for builders, the builders policy keys; makes the
 * environment once to learn its spaces. Returns 0 or LUX_ECONFIG. */
int lux_rl_spec_from_config(const json_t *config, const lux_rl_spec_defaults_t *defaults,
                            lux_rl_spec_t *spec, char *err, size_t errlen);

/* ---- worker ---- */

/* Environments a worker steps in lockstep (lux_rollout_batch_t). */
#define LUX_RL_WORKER_BATCH 16

typedef struct {
    lux_rl_spec_t spec;
    lux_env_t *env;
    lux_policy_t *mlp;
    lux_builders_policy_t bp;
    size_t num_params;
    lux_rollout_batch_t *batch; /* the float32 lockstep rollouts */
} lux_rl_worker_t;

int lux_rl_worker_init(lux_rl_worker_t *w, const lux_rl_spec_t *spec, char *err, size_t errlen);
void lux_rl_worker_fini(lux_rl_worker_t *w);

/* Runs one episode of the policy with parameters params (num_params values,
 * copied into the policy). obs_mean/obs_std may be NULL: then observations
 * are scaled by the observation space's bounds when the spec asks for it.
 * The float32 batched path (lux_rollout_batch_run) with a batch of one. */
int lux_rl_worker_episode(lux_rl_worker_t *w, const double *params, uint64_t seed,
                          const double *obs_mean, const double *obs_std, double action_noise_std,
                          lux_obs_stat_t *stat, lux_rollout_result_t *res);

/* The n episodes seeds[0..n) of one parameter vector, stepped in lockstep
 * on the worker's LUX_RL_WORKER_BATCH environments: res[i] is exactly what
 * lux_rl_worker_episode gives for seeds[i]. No observation statistics. */
int lux_rl_worker_episodes(lux_rl_worker_t *w, const double *params, const uint64_t *seeds, int n,
                           lux_rollout_result_t *res);

/* ---- runtime ---- */

/* 1 when the runtime (runtime/lux.h) is initialised in this process (a
 * driver after lux_init, or a worker), so rollouts can fan out to it. */
int lux_rl_runtime_ready(void);

/* Checks that num_workers > 0 can be honoured (the runtime runs in this
 * process). Returns 0, or LUX_ECONFIG with a message in err. */
int lux_rl_check_workers(long num_workers, char *err, size_t errlen);

/* Submits one rollout task fn(args) asking for num_cpus. Returns 0, or
 * lux_submit's error with "submitting a rollout task failed: ..." in err. */
int lux_rl_submit_rollout(const lux_remote_desc_t *fn, const lux_arg_t *args, size_t nargs,
                          double num_cpus, lux_ref_t *ref, char *err, size_t errlen);

/* Waits for a rollout task's value (*v; the caller releases it) and checks
 * that it holds expect_len bytes. Returns 0; lux_get's error with "rollout
 * task failed: <the task's message or the code's>" in err; or LUX_EPROTO
 * with "rollout task returned N bytes". Blocks. */
int lux_rl_get_rollout(lux_ref_t *ref, size_t expect_len, lux_value_t *v, char *err, size_t errlen);

/* In a worker process: a rollout worker for `spec`, made on first use and
 * kept while tasks keep asking for the same spec (making an environment per
 * task would dominate short rollouts). NULL with a message in err on
 * failure. Not thread-safe (a worker runs one task at a time). */
lux_rl_worker_t *lux_rl_worker_cached(const lux_rl_spec_t *spec, char *err, size_t errlen);

/* ---- results ---- */

/* Adds episode_reward_mean/min/max (NaN-free: 0 when n == 0) of returns. */
void lux_rl_add_reward_stats(json_t *result, const char *prefix, const double *returns, size_t n);

/* Adds <prefix>_mean, <prefix>_min and <prefix>_max, in that order (results
 * are compared and stored as written, so the order is kept). */
void lux_rl_add_mean_min_max(json_t *result, const char *prefix, double mean, double min,
                             double max);

/* Adds the progress every trainable reports, RLlib's names in this order:
 * timesteps_total, timesteps_this_iter, episodes_total, episodes_this_iter. */
void lux_rl_add_progress(json_t *result, long timesteps_total, long timesteps_this_iter,
                         long episodes_total, long episodes_this_iter);

/* The study's `score_std` (the builders study, docs/envs.md): the evaluation episodes are split
 * in LUX_RL_SCORE_CHUNKS consecutive chunks (512 episodes: 32 chunks of 16)
 * and score_std is the standard deviation of the chunk means. */
#define LUX_RL_SCORE_CHUNKS 32

/* The population standard deviation (divisor k, as numpy.std) of the means
 * of x[0..n) split into k = min(chunks, n) consecutive chunks whose sizes
 * differ by at most one, the longer ones first (numpy.array_split). 0 when
 * n == 0. Cannot fail. */
double lux_rl_chunk_means_std(const double *x, size_t n, size_t chunks);

/* ---- checkpoint framing ---- */

/* A growable byte buffer for save(). */
typedef struct {
    unsigned char *data;
    size_t len, cap;
    int failed;
} lux_rl_buf_t;

/* Appends len bytes. Cannot fail: a failed allocation sets b->failed, and
 * later puts do nothing. */
void lux_rl_buf_put(lux_rl_buf_t *b, const void *data, size_t len);
/* Hands the buffer to save()'s caller: *bytes and *len own it from now on.
 * Returns 0, or LUX_ENOMEM (the buffer is freed) when a put failed. */
int lux_rl_buf_finish(lux_rl_buf_t *b, void **bytes, size_t *len);
/* Reader: copies len bytes from *p, failing (returns -1) past end. */
int lux_rl_buf_get(const unsigned char **p, const unsigned char *end, void *out, size_t len);

/* A checkpoint's first 8 bytes name its trainable and format version
 * ("LUXCMAT1"). get returns -1 when the bytes end early or hold another
 * magic. */
void lux_rl_magic_put(lux_rl_buf_t *b, const char magic[8]);
int lux_rl_magic_get(const unsigned char **p, const unsigned char *end, const char magic[8]);

/* The progress counters the evolution trainables keep and report. */
typedef struct {
    long iteration, timesteps_total, episodes_total, eval_timesteps_total;
} lux_rl_progress_t;

/* The evolution trainables' checkpoint header: the magic, the policy's
 * parameter count n and the progress counters. put cannot fail (b->failed
 * records a full buffer); get returns 0, or -1 when the bytes do not start
 * with `magic` or end early. */
void lux_rl_header_put(lux_rl_buf_t *b, const char magic[8], uint64_t n,
                       const lux_rl_progress_t *progress);
int lux_rl_header_get(const unsigned char **p, const unsigned char *end, const char magic[8],
                      uint64_t *n, lux_rl_progress_t *progress);

/* A checkpoint's last field: a uint64_t length, then that many bytes (an
 * optimizer's or CMA-ES's own saved state). put cannot fail (as above); get
 * points *data into the bytes and returns 0, or -1 unless the blob ends
 * exactly at `end`. */
void lux_rl_tail_put(lux_rl_buf_t *b, const void *data, size_t len);
/* Ends a save(): appends *blob_p (blob_len bytes, lux_malloc'd) as the tail,
 * frees it and clears *blob_p, then hands the buffer over as
 * lux_rl_buf_finish does. Returns 0 or LUX_ENOMEM. */
int lux_rl_buf_finish_tail(lux_rl_buf_t *b, void **blob_p, size_t blob_len, void **bytes,
                           size_t *len);
/* Ends the save() of a trainable whose last field is its Adam state
 * (lux_adam_save, then as lux_rl_buf_finish_tail). Returns 0, or
 * LUX_ENOMEM / Adam's error with the buffer freed. */
int lux_rl_buf_finish_adam(lux_rl_buf_t *b, const lux_adam_t *adam, void **bytes, size_t *len);
int lux_rl_tail_get(const unsigned char **p, const unsigned char *end, const void **data,
                    size_t *len);

/* ---- what each trainable module offers trainables.c ---- */

/* One evaluation episode from `seed` of the policy an instance offers (see
 * lux_rl_evaluate_episode in trainables.h). state is an instance of the
 * module's class(es); returns 0 or a rollout error. */
int lux_rl_cmaes_evaluate(void *state, uint64_t seed, lux_rollout_result_t *res);
int lux_rl_es_evaluate(void *state, uint64_t seed, lux_rollout_result_t *res);
int lux_rl_a3c_evaluate(void *state, uint64_t seed, lux_rollout_result_t *res);

#endif
