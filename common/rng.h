/*
 * The random number generator every layer uses: xoshiro256** seeded through
 * splitmix64. Small (four words of state, so schedulers and trainables can
 * save it), fast, and the same bits on every machine. A generator belongs to
 * one thread at a time; nothing here has global state.
 */
#ifndef LUX_RNG_H
#define LUX_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} lux_rng_t;

/* Seeds from one 64-bit value (zero included). Cannot fail. */
void lux_rng_seed(lux_rng_t *rng, uint64_t seed);

/* Seeds the independent stream `stream` of `seed` (e.g. trial k of an
 * experiment). Different (seed, stream) pairs give unrelated streams. */
void lux_rng_seed_stream(lux_rng_t *rng, uint64_t seed, uint64_t stream);

/* Next 64 random bits. */
uint64_t lux_rng_next(lux_rng_t *rng);

/* Uniform double in [0, 1) with 53 random bits. */
double lux_rng_uniform(lux_rng_t *rng);

/* Uniform integer in [0, n) without modulo bias; 0 when n == 0. */
uint64_t lux_rng_below(lux_rng_t *rng, uint64_t n);

/* Uniform integer in [lo, hi) without modulo bias; lo when hi <= lo. */
int64_t lux_rng_int(lux_rng_t *rng, int64_t lo, int64_t hi);

/* Standard normal (Box-Muller with two uniforms and no cached spare, so every
 * draw uses exactly two words and the state stays four words). */
double lux_rng_normal(lux_rng_t *rng);

/* One splitmix64 step: advances *x and returns a well-mixed value. */
uint64_t lux_splitmix64(uint64_t *x);

#endif
