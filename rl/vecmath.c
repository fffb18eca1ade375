/*
 * Array forms of the lane helpers: whole blocks of 8 through the vector
 * code, the tail padded in a block of its own, so every element goes
 * through the same instructions as in the policies.
 */
#include "vecmath.h"

#include <string.h>

LUX_VEC_INLINE void apply(const float *x, float *y, size_t n, int which)
{
    for (size_t i = 0; i < n; i += LUX_VEC_LANES) {
        size_t m = n - i < LUX_VEC_LANES ? n - i : LUX_VEC_LANES;
        lux_v8f v = {0}, r;
        memcpy(&v, x + i, m * sizeof(float));
        if (which == 0)
            lux_v8f_exp(&r, &v);
        else
            lux_v8f_tanh(&r, &v);
        memcpy(y + i, &r, m * sizeof(float));
    }
}

__attribute__((target_clones("avx2", "default"))) void lux_vecmath_exp(const float *x, float *y,
                                                                       size_t n)
{
    apply(x, y, n, 0);
}

__attribute__((target_clones("avx2", "default"))) void lux_vecmath_tanh(const float *x, float *y,
                                                                        size_t n)
{
    apply(x, y, n, 1);
}
