/*
 * Standard noiseless test functions for checking optimisers against
 * reference implementations (the usual CMA-ES / BBOB-style conventions, no
 * shifts or rotations, optimum f = 0 at x = 0 except rosenbrock at x = 1):
 *
 *   sphere       sum x_i^2
 *   ellipsoid    sum 10^(6(i-1)/(n-1)) x_i^2      (separable, cond 1e6)
 *   rosenbrock   sum_{i<n} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2
 *   rastrigin    10 n + sum x_i^2 - 10 cos(2 pi x_i)
 *   cigar        x_1^2 + 1e6 sum_{i>1} x_i^2
 *   tablet       1e6 x_1^2 + sum_{i>1} x_i^2
 *   discus       same as tablet (BBOB's name)
 *   diffpowers   sum |x_i|^(2 + 4(i-1)/(n-1))
 *   elli_rot     ellipsoid in a fixed rotated basis (Householder reflection
 *                with v = (1, ..., 1)/sqrt(n)); non-separable
 *
 * For n == 1 the exponents (i-1)/(n-1) are taken as 0. Pure functions,
 * thread-safe. The list is declared once (LUX_TESTFN_MAP).
 */
#ifndef LUX_TESTFNS_H
#define LUX_TESTFNS_H

#include <stddef.h>

typedef double (*lux_testfn_fn)(const double *x, size_t n);

/* X(name, id, summary) */
#define LUX_TESTFN_MAP(X)                                                                          \
    X("sphere", sphere, "sum x_i^2")                                                               \
    X("ellipsoid", ellipsoid, "sum 10^(6(i-1)/(n-1)) x_i^2")                                       \
    X("rosenbrock", rosenbrock, "sum 100(x_{i+1} - x_i^2)^2 + (1 - x_i)^2")                        \
    X("rastrigin", rastrigin, "10n + sum x_i^2 - 10 cos(2 pi x_i)")                                \
    X("cigar", cigar, "x_1^2 + 1e6 sum_{i>1} x_i^2")                                               \
    X("tablet", tablet, "1e6 x_1^2 + sum_{i>1} x_i^2")                                             \
    X("discus", discus, "1e6 x_1^2 + sum_{i>1} x_i^2 (BBOB name of tablet)")                       \
    X("diffpowers", diffpowers, "sum |x_i|^(2 + 4(i-1)/(n-1))")                                    \
    X("elli_rot", elli_rot, "ellipsoid in a Householder-rotated basis")

#define LUX_TESTFN_DECL(name, id, summary) double lux_testfn_##id(const double *x, size_t n);
LUX_TESTFN_MAP(LUX_TESTFN_DECL)
#undef LUX_TESTFN_DECL

typedef struct {
    const char *name;
    lux_testfn_fn fn;
    const char *summary;
} lux_testfn_t;

/* The entry called name, or NULL. Cannot fail. */
const lux_testfn_t *lux_testfn_find(const char *name);

/* Number of functions and the i-th one (NULL past the end). */
size_t lux_testfn_count(void);
const lux_testfn_t *lux_testfn_at(size_t i);

#endif
