/*
 * Float32 arithmetic on 8 lanes for the batched policies (rl/builders_policy.c,
 * rl/policy.c): one lane is one episode's row, so every lane runs the same
 * sequence of IEEE single-precision operations and a row's result does not
 * depend on which lane it sits in, on its neighbours, or on the batch size.
 *
 * The lanes are GCC/Clang vector extensions: on the generic x86-64 target
 * they become pairs of SSE2 instructions; the callers compile their hot
 * loops twice with target_clones("avx2", "default") and the loader picks
 * the AVX2 copy on CPUs that have it. Neither copy uses FMA (the "avx2"
 * target does not enable it), so both round every multiply and add alike and
 * give bit-identical results: a seed gives the same episode on any x86-64.
 *
 * Helpers take pointers rather than vectors by value: a 32-byte vector
 * passed by value changes the calling convention between the two copies
 * (GCC's -Wpsabi), and always_inline keeps them in registers anyway.
 *
 * Accuracy (measured by tests/rl/policy_test.c over dense grids):
 *   lux_v8f_exp   inputs clamped to [-87, 88]; relative error below 3e-7
 *                 (measured maximum 2.5e-7, about 2 ulp): Cody-Waite
 *                 reduction by ln 2 with a two-part constant, degree-6
 *                 Taylor polynomial on |r| <= ln2/2, whose truncation error
 *                 is below 1.3e-7;
 *   lux_v8f_tanh  absolute error below 2e-7 and relative error below 5e-7
 *                 (measured 1.0e-7 and 2.5e-7): odd Taylor polynomial to
 *                 degree 9 below |x| = 0.25, 1 - 2/(exp(2|x|) + 1) above.
 */
#ifndef LUX_RL_VECMATH_H
#define LUX_RL_VECMATH_H

#include <stddef.h>

#define LUX_VEC_LANES 8

typedef float lux_v8f __attribute__((vector_size(32)));
typedef int lux_v8i __attribute__((vector_size(32)));

#define LUX_VEC_INLINE static inline __attribute__((always_inline))

/* Both branchless selects through the comparison masks (all ones / zero). */
LUX_VEC_INLINE void lux_v8f_max(lux_v8f *r, const lux_v8f *a, const lux_v8f *b)
{
    lux_v8i m = *a > *b;
    *r = (lux_v8f)(((lux_v8i)*a & m) | ((lux_v8i)*b & ~m));
}

LUX_VEC_INLINE void lux_v8f_min(lux_v8f *r, const lux_v8f *a, const lux_v8f *b)
{
    lux_v8i m = *a < *b;
    *r = (lux_v8f)(((lux_v8i)*a & m) | ((lux_v8i)*b & ~m));
}

/* e^x lane by lane. x = n ln2 + r with n = round(x / ln2) (the 1.5 * 2^23
 * trick rounds to nearest and leaves n in the low mantissa bits), r reduced
 * with ln2 split in a part exact in float (0.693359375) and the rest, then
 * e^r by its Taylor polynomial to degree 6 and 2^n built in the exponent
 * field. */
LUX_VEC_INLINE void lux_v8f_exp(lux_v8f *out, const lux_v8f *x)
{
    const lux_v8f lo = {-87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f};
    const lux_v8f hi = {88.0f, 88.0f, 88.0f, 88.0f, 88.0f, 88.0f, 88.0f, 88.0f};
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    lux_v8f v;
    lux_v8f_max(&v, x, &lo);
    lux_v8f_min(&v, &v, &hi);
    lux_v8f t = v * 1.44269504088896341f + magic;
    lux_v8f n = t - magic;
    lux_v8f r = v - n * 0.693359375f;
    r = r + n * 2.12194440054690583e-4f;
    lux_v8f p = r * (1.0f / 720.0f) + (1.0f / 120.0f);
    p = p * r + (1.0f / 24.0f);
    p = p * r + (1.0f / 6.0f);
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    lux_v8i ni = (lux_v8i)t - 0x4B400000; /* the bits of magic */
    lux_v8i scale = (ni + 127) << 23;
    *out = p * (lux_v8f)scale;
}

/* tanh lane by lane (see the accuracy note above). */
LUX_VEC_INLINE void lux_v8f_tanh(lux_v8f *out, const lux_v8f *x)
{
    const lux_v8i sign_bit = {(int)0x80000000u, (int)0x80000000u, (int)0x80000000u,
                              (int)0x80000000u, (int)0x80000000u, (int)0x80000000u,
                              (int)0x80000000u, (int)0x80000000u};
    lux_v8i sign = (lux_v8i)*x & sign_bit;
    lux_v8f a = (lux_v8f)((lux_v8i)*x & ~sign_bit);
    lux_v8f a2 = a + a, e;
    lux_v8f_exp(&e, &a2);
    lux_v8f big = 1.0f - 2.0f / (e + 1.0f);
    lux_v8f s = a * a;
    lux_v8f p = s * (62.0f / 2835.0f) - (17.0f / 315.0f);
    p = p * s + (2.0f / 15.0f);
    p = p * s - (1.0f / 3.0f);
    lux_v8f small = a + a * s * p;
    lux_v8i m = a < 0.25f;
    lux_v8i y = ((lux_v8i)small & m) | ((lux_v8i)big & ~m);
    *out = (lux_v8f)(y | sign);
}

/* Array forms (tests, and callers outside a vector loop): y[i] = e^x[i] or
 * tanh(x[i]) for i < n, exactly as the lane helpers compute them. Cannot
 * fail; x and y may be the same array. */
void lux_vecmath_exp(const float *x, float *y, size_t n);
void lux_vecmath_tanh(const float *x, float *y, size_t n);

#endif
