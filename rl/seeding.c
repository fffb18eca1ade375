/*
 * Seed derivation and xoshiro256** (Blackman & Vigna). The derivation
 * chains the mixer over the tuple's fields with distinct odd constants so
 * that swapping fields changes the seed.
 */
#include "seeding.h"

#include "error.h"

#include <math.h>
#include <string.h>

uint64_t lux_seed_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t lux_seed_derive(uint64_t trial_seed, uint64_t iteration, uint64_t candidate,
                         uint64_t episode)
{
    uint64_t h = lux_seed_mix(trial_seed ^ 0x6a09e667f3bcc909ULL);
    h = lux_seed_mix(h ^ (iteration * 0xd6e8feb86659fd93ULL));
    h = lux_seed_mix(h ^ (candidate * 0xa0761d6478bd642fULL));
    h = lux_seed_mix(h ^ (episode * 0xe7037ed1a0b428dbULL));
    return h;
}

uint64_t lux_seed_rollout(lux_seeding_t mode, uint64_t trial_seed, uint64_t iteration,
                          uint64_t candidate, uint64_t episode)
{
    return lux_seed_derive(trial_seed, iteration,
                           mode == LUX_SEEDING_EPOCH ? LUX_SEED_SHARED : candidate, episode);
}

int lux_seeding_parse(const char *text, lux_seeding_t *mode)
{
    if (text != NULL && strcmp(text, "epoch") == 0) {
        *mode = LUX_SEEDING_EPOCH;
        return 0;
    }
    if (text != NULL && strcmp(text, "random") == 0) {
        *mode = LUX_SEEDING_RANDOM;
        return 0;
    }
    return LUX_EINVAL;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void lux_rl_rng_seed(lux_rl_rng_t *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ULL;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        rng->s[i] = z ^ (z >> 31);
    }
}

uint64_t lux_rl_rng_next(lux_rl_rng_t *rng)
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

double lux_rl_rng_uniform(lux_rl_rng_t *rng)
{
    return (double)(lux_rl_rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t lux_rl_rng_below(lux_rl_rng_t *rng, uint64_t n)
{
    /* Rejection on the top of the range keeps the draw unbiased. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = lux_rl_rng_next(rng);
    } while (x >= limit);
    return x % n;
}

double lux_rl_rng_normal(lux_rl_rng_t *rng)
{
    double u1 = 1.0 - lux_rl_rng_uniform(rng); /* (0, 1], so log is finite */
    double u2 = lux_rl_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
