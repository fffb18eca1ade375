/*
 * Seed derivation (the generator, xoshiro256**, is common/rng.h's). The derivation
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
