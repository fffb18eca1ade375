/*
 * Noise table generation: lux_rng_t normals, rounded to float32 as in the
 * original (which samples float64 and casts).
 */
#include "noise.h"

#include "alloc.h"
#include "error.h"

#include <string.h>

void lux_noise_fill(float *buf, size_t size, uint64_t seed)
{
    lux_rng_t rng;
    lux_rng_seed(&rng, seed);
    for (size_t i = 0; i < size; i++)
        buf[i] = (float)lux_rng_normal(&rng);
}

int lux_noise_table_init(lux_noise_table_t *t, size_t size, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    if (size == 0)
        return LUX_EINVAL;
    float *buf = lux_malloc(size * sizeof *buf);
    if (buf == NULL)
        return LUX_ENOMEM;
    lux_noise_fill(buf, size, seed);
    t->values = buf;
    t->owned = buf;
    t->size = size;
    return 0;
}

void lux_noise_table_view(lux_noise_table_t *t, const float *values, size_t size)
{
    t->values = values;
    t->size = size;
    t->owned = NULL;
}

void lux_noise_table_fini(lux_noise_table_t *t)
{
    lux_free(t->owned);
    memset(t, 0, sizeof *t);
}

size_t lux_noise_sample_index(const lux_noise_table_t *t, lux_rng_t *rng, size_t dim)
{
    return (size_t)lux_rng_below(rng, (uint64_t)(t->size - dim + 1));
}

void lux_noise_perturb(const lux_noise_table_t *t, size_t index, size_t dim, const double *base,
                       double scale, double *out)
{
    const float *eps = t->values + index;
    for (size_t j = 0; j < dim; j++)
        out[j] = base[j] + scale * (double)eps[j];
}
