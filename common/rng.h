/*
 * The random number generator every layer uses: xoshiro256** (Blackman and
 * Vigna) seeded through splitmix64. Four words of state, so schedulers and
 * trainables can save it; the same bits on every machine; header-only, so the
 * environments' and rollouts' innermost loops inline it. A generator belongs
 * to one thread at a time; nothing here has global state.
 *
 * Of the xoshiro256 family this is the ** scrambler, rotl(s[1] * 5, 7) * 9
 * (not ++, rotl(s[0] + s[3], 23) + s[0], nor +, s[0] + s[3]): every 64-bit
 * output is full quality, so uniform doubles may take the high 53 bits and
 * lux_rng_below may take all 64.
 */
#ifndef LUX_RNG_H
#define LUX_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} lux_rng_t;

/* One splitmix64 step: advances *x and returns a well-mixed value. */
static inline uint64_t lux_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Seeds from one 64-bit value (zero included). Cannot fail. */
static inline void lux_rng_seed(lux_rng_t *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = lux_splitmix64(&x);
}

/* Seeds the independent stream `stream` of `seed` (e.g. trial k of an
 * experiment): the stream is mixed first, so neighbouring (seed, stream)
 * pairs give unrelated streams. */
static inline void lux_rng_seed_stream(lux_rng_t *rng, uint64_t seed, uint64_t stream)
{
    uint64_t x = stream ^ 0x6a09e667f3bcc909ULL;
    lux_rng_seed(rng, seed ^ lux_splitmix64(&x));
}

static inline uint64_t lux_rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* Next 64 random bits. */
static inline uint64_t lux_rng_next(lux_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = lux_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = lux_rng_rotl(s[3], 45);
    return result;
}

/* Uniform double in [0, 1) with 53 random bits (NumPy's random() does the
 * same with its own bit stream). */
static inline double lux_rng_uniform(lux_rng_t *rng)
{
    return (double)(lux_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n) without modulo bias (rejection); 0 when n == 0. */
static inline uint64_t lux_rng_below(lux_rng_t *rng, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = lux_rng_next(rng);
    } while (x >= limit);
    return x % n;
}

/* Uniform integer in [lo, hi) without modulo bias; lo when hi <= lo. */
static inline int64_t lux_rng_int(lux_rng_t *rng, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return (int64_t)((uint64_t)lo + lux_rng_below(rng, (uint64_t)hi - (uint64_t)lo));
}

/* Standard normal: Box-Muller from two uniforms with no cached spare, so
 * every draw uses exactly two words and the state stays four words. */
static inline double lux_rng_normal(lux_rng_t *rng)
{
    double u1 = 1.0 - lux_rng_uniform(rng); /* (0, 1], so the log is finite */
    double u2 = lux_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

#endif
