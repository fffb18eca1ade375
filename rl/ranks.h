/*
 * Fitness shaping by centred ranks (OpenAI ES, `compute_centered_ranks`):
 * each value is replaced by rank/(K-1) - 0.5, so the shaped fitnesses lie in
 * [-0.5, 0.5], sum to zero, and an outlier return cannot dominate the update.
 * Ties are ranked by position (a stable argsort), as NumPy's argsort does for
 * equal values in practice on small arrays.
 */
#ifndef LUX_RL_RANKS_H
#define LUX_RL_RANKS_H

#include <stddef.h>

/* Writes the centred ranks of x[0..n-1] into out[0..n-1] (out may equal x).
 * n == 1 gives 0. Returns 0 or LUX_ENOMEM. */
int lux_centered_ranks(const double *x, size_t n, double *out);

#endif
