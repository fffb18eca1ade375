/*
 * Seeds and random numbers for rollouts.
 *
 * Every rollout's seed is a pure function of (trial seed, iteration,
 * candidate, episode), mixed with a strong 64-bit finaliser, so a result never
 * depends on how many workers ran the rollouts or in which order they
 * finished. `seeding: epoch` (docs/trainables.md) shares the episode seeds of one
 * iteration across the whole population: the caller passes candidate
 * LUX_SEED_SHARED. `seeding: random` gives every candidate its own.
 *
 * lux_rng_t is a small, fast generator (xoshiro256**, seeded through
 * splitmix64) that lives inside the policy and rollout code; its whole state
 * is four words, so checkpoints store it exactly. Not thread-safe: one
 * generator per thread.
 */
#ifndef LUX_RL_SEEDING_H
#define LUX_RL_SEEDING_H

#include <stdint.h>

/* The candidate index meaning "shared by every candidate" (seeding: epoch). */
#define LUX_SEED_SHARED UINT64_MAX

typedef enum { LUX_SEEDING_EPOCH = 0, LUX_SEEDING_RANDOM = 1 } lux_seeding_t;

/* splitmix64's finaliser: a bijection on 64 bits with full avalanche.
 * Cannot fail. */
uint64_t lux_seed_mix(uint64_t x);

/* The seed of one rollout. Distinct tuples give independent-looking seeds;
 * the same tuple always gives the same seed. Cannot fail. */
uint64_t lux_seed_derive(uint64_t trial_seed, uint64_t iteration, uint64_t candidate,
                         uint64_t episode);

/* The seed for a rollout under a seeding mode: with LUX_SEEDING_EPOCH the
 * candidate does not enter the seed. Cannot fail. */
uint64_t lux_seed_rollout(lux_seeding_t mode, uint64_t trial_seed, uint64_t iteration,
                          uint64_t candidate, uint64_t episode);

/* Parses "epoch" / "random"; returns 0 or LUX_EINVAL. */
int lux_seeding_parse(const char *text, lux_seeding_t *mode);

/* The generator is common/rng.h's lux_rng_t (xoshiro256**). */
#include "rng.h"

#endif
