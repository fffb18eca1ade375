/*
 * The shared noise table of OpenAI ES: one long block of standard normal
 * float32 values generated deterministically from a seed. A perturbation is
 * the contiguous slice noise[i : i + dim], so workers exchange indices, never
 * vectors, and every process that holds the table (or the same object-store
 * object) reconstructs every perturbation exactly.
 *
 * A table either owns its values (lux_noise_table_init) or views values that
 * live elsewhere, e.g. a runtime object mapped read-only
 * (lux_noise_table_view); both are read-only after creation and safe to share
 * between threads.
 */
#ifndef LUX_RL_NOISE_H
#define LUX_RL_NOISE_H

#include "seeding.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const float *values;
    size_t size;
    float *owned; /* non-NULL when the table owns its values */
} lux_noise_table_t;

/* Fills buf[0..size-1] with the table of `seed` (the same values as
 * lux_noise_table_init). Cannot fail. */
void lux_noise_fill(float *buf, size_t size, uint64_t seed);

/* Allocates and generates a table of `size` values. Returns 0, LUX_EINVAL
 * for size 0, or LUX_ENOMEM. Generating 25M values takes about 0.3 s. */
int lux_noise_table_init(lux_noise_table_t *t, size_t size, uint64_t seed);

/* Makes t a view of values[0..size-1]; the caller keeps them alive. */
void lux_noise_table_view(lux_noise_table_t *t, const float *values, size_t size);

/* Frees owned values; accepts a zeroed or already finalised table. */
void lux_noise_table_fini(lux_noise_table_t *t);

/* A random slice start for a perturbation of `dim` values: uniform in
 * [0, size - dim]. dim must be <= size. */
size_t lux_noise_sample_index(const lux_noise_table_t *t, lux_rng_t *rng, size_t dim);

/* out[j] = base[j] + scale * noise[index + j] for j < dim (out may equal
 * base). */
void lux_noise_perturb(const lux_noise_table_t *t, size_t index, size_t dim, const double *base,
                       double scale, double *out);

#endif
