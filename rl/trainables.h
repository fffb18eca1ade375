/*
 * The rl trainables (tune/trainable.h): cmaes and sepcmaes (one module,
 * rl/trainable_cmaes.c), es (OpenAI ES, rl/trainable_es.c) and a3c
 * (rl/trainable_a3c.c). Config keys, defaults and metrics are listed in
 * docs/trainables.md.
 */
#ifndef LUX_RL_TRAINABLES_H
#define LUX_RL_TRAINABLES_H

#include "trainable.h"

#include <stdint.h>

extern const lux_trainable_class_t lux_rl_cmaes_trainable;
extern const lux_trainable_class_t lux_rl_sepcmaes_trainable;
extern const lux_trainable_class_t lux_rl_es_trainable;
extern const lux_trainable_class_t lux_rl_a3c_trainable;

/* Registers the four classes with tune's registry. A class already
 * registered under the same name is left alone, so calling this twice is
 * harmless. Returns 0 or the first other registry error. */
int lux_rl_register_trainables(void);

/* Runs one evaluation episode (from `seed`) of the policy a trainable
 * instance currently offers: the CMA-ES mean, ES's theta with its
 * observation filter and no noise, A3C's global policy. cls must be one of the
 * four classes above and state an instance of it. *episode_return and
 * *length receive the result. Returns 0, LUX_EINVAL (not an rl class) or a
 * rollout error. */
int lux_rl_evaluate_episode(const lux_trainable_class_t *cls, void *state, uint64_t seed,
                            double *episode_return, long *length);

/* The seed of evaluation episode `episode` of a cmaes/sepcmaes trial whose
 * seed is trial_seed: the episodes its `score` averages are 0 ..
 * eval_episodes-1. Cannot fail. */
uint64_t lux_rl_cmaes_eval_seed(uint64_t trial_seed, uint64_t episode);

/* Evaluates the flat parameter vector params[0..n) of the policy a
 * cmaes/sepcmaes config describes (the vector CMA-ES searches, the mean a
 * checkpoint holds; layout in docs/trainables.md) on the episodes
 * seeds[0..nseeds), in this process whatever num_workers says: returns[i]
 * and lengths[i] for seeds[i], the numbers the trainable's evaluation gives
 * for the same seeds. *expected (may be NULL) receives the policy's
 * parameter count once the config is valid. Returns 0; LUX_ECONFIG (the
 * config; message in err); LUX_EINVAL when n is not that count ("expected N
 * parameters for the config's policy, got M" in err); or a rollout error. Blocks. */
int lux_rl_cmaes_evaluate_params(const json_t *config, const double *params, size_t n,
                                 const uint64_t *seeds, size_t nseeds, double *returns,
                                 long *lengths, size_t *expected, char *err, size_t errlen);

#endif
