/*
 * xoshiro256** (Blackman and Vigna) seeded through splitmix64.
 */
#include "rng.h"

#include <math.h>

uint64_t lux_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void lux_rng_seed(lux_rng_t *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = lux_splitmix64(&x);
}

void lux_rng_seed_stream(lux_rng_t *rng, uint64_t seed, uint64_t stream)
{
    /* Mix the stream first so neighbouring (seed, stream) pairs land far
     * apart. */
    uint64_t x = stream ^ 0x6a09e667f3bcc909ULL;
    lux_rng_seed(rng, seed ^ lux_splitmix64(&x));
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t lux_rng_next(lux_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double lux_rng_uniform(lux_rng_t *rng)
{
    return (double)(lux_rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t lux_rng_below(lux_rng_t *rng, uint64_t n)
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

int64_t lux_rng_int(lux_rng_t *rng, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return (int64_t)((uint64_t)lo + lux_rng_below(rng, (uint64_t)hi - (uint64_t)lo));
}

double lux_rng_normal(lux_rng_t *rng)
{
    double u1 = 1.0 - lux_rng_uniform(rng); /* (0, 1], so the log is finite */
    double u2 = lux_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
