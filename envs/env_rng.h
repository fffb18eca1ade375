/*
 * The environments' random draws. Every environment owns one generator
 * (common/rng.h's xoshiro256**; no global state), so an episode depends only
 * on its seed; these helpers add the draws Gymnasium's environments make.
 * Internal to envs/ (and its tests).
 *
 * Uniform doubles use the top 53 bits, as NumPy's random() does, so that
 * uniform(low, high) = low + (high - low) * u has Gymnasium's distribution;
 * the bit stream is ours, not NumPy's.
 */
#ifndef LUX_ENVS_ENV_RNG_H
#define LUX_ENVS_ENV_RNG_H

#include "rng.h" /* common/rng.h */

#include <stdint.h>

typedef lux_rng_t lux_env_rng_t;

/* Uniform in [low, high), computed like NumPy's uniform. */
static inline double lux_env_rng_uniform(lux_env_rng_t *rng, double low, double high)
{
    return low + (high - low) * lux_rng_uniform(rng);
}

/* Uniform integer in [0, n), n >= 1 (multiply-shift of 32 random bits; the
 * bias, below n / 2^32, is negligible for the small n used here). */
static inline uint32_t lux_env_rng_below(lux_env_rng_t *rng, uint32_t n)
{
    return (uint32_t)(((lux_rng_next(rng) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability p (p <= 0 never, p >= 1 always). */
static inline int lux_env_rng_bernoulli(lux_env_rng_t *rng, double p)
{
    return lux_rng_uniform(rng) < p;
}

#endif
