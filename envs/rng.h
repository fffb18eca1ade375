/*
 * The per-environment random number generator: xoshiro256** seeded through
 * splitmix64. Every environment owns one (no global state), so an episode
 * depends only on its seed. Internal to envs/ (and its tests).
 *
 * Uniform doubles use the top 53 bits, as NumPy's random() does, so that
 * uniform(low, high) = low + (high - low) * u has Gymnasium's distribution;
 * the bit stream is ours, not NumPy's.
 */
#ifndef LUX_ENVS_RNG_H
#define LUX_ENVS_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} lux_env_rng_t;

static inline uint64_t lux_env_rng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Seeds the generator; any seed (0 included) gives a valid, distinct state. */
static inline void lux_env_rng_seed(lux_env_rng_t *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = lux_env_rng_splitmix64(&x);
}

static inline uint64_t lux_env_rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t lux_env_rng_next(lux_env_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = lux_env_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = lux_env_rng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double lux_env_rng_double(lux_env_rng_t *rng)
{
    return (double)(lux_env_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Uniform in [low, high), computed like NumPy's uniform. */
static inline double lux_env_rng_uniform(lux_env_rng_t *rng, double low, double high)
{
    return low + (high - low) * lux_env_rng_double(rng);
}

/* Uniform integer in [0, n), n >= 1 (multiply-shift of 32 random bits; the
 * bias, below n / 2^32, is negligible for the small n used here). */
static inline uint32_t lux_env_rng_below(lux_env_rng_t *rng, uint32_t n)
{
    return (uint32_t)(((lux_env_rng_next(rng) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability p (p <= 0 never, p >= 1 always). */
static inline int lux_env_rng_bernoulli(lux_env_rng_t *rng, double p)
{
    return lux_env_rng_double(rng) < p;
}

#endif
