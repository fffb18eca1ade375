/*
 * Tests of rl/sepcmaes (diagonal CMA-ES): parameters recomputed here from
 * CyberAgentAILab cmaes.SepCMA's formulas (Ros & Hansen 2008), convergence on
 * the sphere and a separable ellipsoid for fixed seeds, O(n) state at large
 * n, and save/restore exactness.
 */
#include "test.h"

#include "alloc.h"
#include "error.h"
#include "sepcmaes.h"
#include "testfns.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static lux_cmaes_t *make(size_t n, double x0v, double sigma0, uint64_t seed)
{
    double *x0 = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        x0[i] = x0v;
    lux_cmaes_opts_t o;
    lux_cmaes_opts_default(&o);
    o.seed = seed;
    lux_cmaes_t *es = NULL;
    LUX_CHECK_OK(lux_sepcmaes_new(n, x0, sigma0, &o, &es));
    free(x0);
    LUX_CHECK(lux_cmaes_is_diagonal(es));
    return es;
}

static long run_to(lux_cmaes_t *es, lux_testfn_fn fn, double target, long max_evals)
{
    size_t n = lux_cmaes_dim(es);
    int lam = lux_cmaes_popsize(es);
    double *X = malloc((size_t)lam * n * sizeof(double)), *f = malloc((size_t)lam * sizeof(double));
    long result = -1;
    while (lux_cmaes_evaluations(es) < max_evals) {
        LUX_CHECK_OK(lux_sepcmaes_ask(es, X));
        for (int k = 0; k < lam; k++)
            f[k] = fn(X + (size_t)k * n, n);
        LUX_CHECK_OK(lux_sepcmaes_tell(es, X, f));
        if (lux_cmaes_best(es, NULL) < target) {
            result = lux_cmaes_evaluations(es);
            break;
        }
        if (lux_cmaes_stop(es, NULL, 0))
            break;
    }
    free(X);
    free(f);
    return result;
}

LUX_TEST(params_match_sepcma_formulas)
{
    const size_t dims[] = {2, 10, 1000, 10000};
    for (size_t d = 0; d < 4; d++) {
        double n = (double)dims[d];
        lux_cmaes_t *es = make(dims[d], 0.0, 1.0, 1);
        lux_cmaes_params_t p;
        lux_cmaes_params(es, &p);
        int lam = 4 + (int)floor(3 * log(n)), mu = lam / 2;
        LUX_CHECK_INT_EQ(p.lambda, lam);
        LUX_CHECK_INT_EQ(p.mu, mu);
        double raw[64], sum = 0, sum2 = 0;
        for (int i = 0; i < mu; i++) {
            raw[i] = log(mu + 1.0) - log(i + 1.0);
            sum += raw[i];
        }
        const double *w = lux_cmaes_weights(es);
        for (int i = 0; i < lam; i++) {
            double want = i < mu ? raw[i] / sum : 0.0;
            LUX_CHECK_NEAR(w[i], want, 1e-15);
            sum2 += want * want;
        }
        double mueff = 1 / sum2;
        LUX_CHECK_NEAR(p.mueff, mueff, 1e-12);
        LUX_CHECK_NEAR(p.cs, (mueff + 2) / (n + mueff + 3), 1e-15);
        LUX_CHECK_NEAR(p.ds, 1 + 2 * fmax(0, sqrt((mueff - 1) / (n + 1)) - 1) + p.cs, 1e-15);
        LUX_CHECK_NEAR(p.cc, 4 / (n + 4), 1e-15);
        LUX_CHECK_NEAR(p.c1, 2 / ((n + 1.3) * (n + 1.3) + mueff), 1e-18);
        double r2 = sqrt(2.0);
        double cmu = (n + 2) / 3 *
                     (2 / (mueff * (n + r2) * (n + r2)) +
                      (1 - 1 / mueff) * fmin(1, (2 * mueff - 1) / ((n + 2) * (n + 2) + mueff)));
        LUX_CHECK_NEAR(p.cmu, cmu, 1e-15);
        LUX_CHECK_INT_EQ(p.eigen_interval, 1);
        lux_cmaes_destroy(&es);
    }
    /* Diagonal mode needs n >= 2. */
    double x0[1] = {0};
    lux_cmaes_t *es = NULL;
    LUX_CHECK_ERR(lux_sepcmaes_new(1, x0, 1.0, NULL, &es), LUX_EINVAL);
}

LUX_TEST(sphere_converges_for_fixed_seeds)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        lux_cmaes_t *es = make(10, 3.0, 2.0, seed);
        long evals = run_to(es, lux_testfn_sphere, 1e-8, 100000);
        /* The median is about 1,300 evaluations (docs/optimizers.md). */
        LUX_CHECK_MSG(evals > 0 && evals <= 1900, "seed %d: %ld evaluations", (int)seed, evals);
        lux_cmaes_destroy(&es);
    }
}

LUX_TEST(separable_ellipsoid_converges)
{
    lux_cmaes_t *es = make(20, 3.0, 2.0, 5);
    long evals = run_to(es, lux_testfn_ellipsoid, 1e-8, 200000);
    LUX_CHECK_MSG(evals > 0 && evals <= 12000, "%ld evaluations", evals);
    /* diag(C) learned the 1e6 scaling. */
    LUX_CHECK_DBL(lux_cmaes_condition(es), >, 1e5);
    lux_cmaes_destroy(&es);
}

/* At n = 100,000 state and one generation are O(lambda n): this would need
 * 80 GB with a full matrix. */
LUX_TEST(large_dimension_is_linear)
{
    lux_cmaes_t *es = make(100000, 1.0, 0.01, 3);
    long evals = run_to(es, lux_testfn_sphere, -1.0, 40L * lux_cmaes_popsize(es));
    LUX_CHECK_INT_EQ(evals, -1);
    /* The mean moved towards the optimum (f(x0) = 1e5). */
    LUX_CHECK_DBL(lux_testfn_sphere(lux_cmaes_mean(es), 100000), <, 0.999 * 1e5);
    void *bytes = NULL;
    size_t len = 0;
    LUX_CHECK_OK(lux_cmaes_save(es, &bytes, &len));
    LUX_CHECK_INT(len, <, 100000 * 8 * 10);
    lux_free(bytes);
    lux_cmaes_destroy(&es);
}

LUX_TEST(save_restore_is_exact)
{
    size_t n = 50;
    lux_cmaes_t *a = make(n, 1.0, 0.5, 9);
    int lam = lux_cmaes_popsize(a);
    double *X = malloc((size_t)lam * n * sizeof(double)), *f = malloc((size_t)lam * sizeof(double));
    for (int g = 0; g < 23; g++) {
        lux_cmaes_ask(a, X);
        for (int k = 0; k < lam; k++)
            f[k] = lux_testfn_ellipsoid(X + (size_t)k * n, n);
        lux_cmaes_tell(a, X, f);
    }
    void *bytes = NULL;
    size_t len = 0;
    LUX_CHECK_OK(lux_cmaes_save(a, &bytes, &len));
    lux_cmaes_t *b = NULL;
    LUX_CHECK_OK(lux_cmaes_restore(bytes, len, &b));
    LUX_CHECK(lux_cmaes_is_diagonal(b));
    double *Y = malloc((size_t)lam * n * sizeof(double));
    for (int g = 0; g < 31; g++) {
        lux_cmaes_ask(a, X);
        lux_cmaes_ask(b, Y);
        LUX_CHECK(memcmp(X, Y, (size_t)lam * n * sizeof(double)) == 0);
        for (int k = 0; k < lam; k++)
            f[k] = lux_testfn_ellipsoid(X + (size_t)k * n, n);
        lux_cmaes_tell(a, X, f);
        lux_cmaes_tell(b, Y, f);
    }
    LUX_CHECK(memcmp(lux_cmaes_mean(a), lux_cmaes_mean(b), n * sizeof(double)) == 0);
    LUX_CHECK(lux_cmaes_sigma(a) == lux_cmaes_sigma(b));
    lux_free(bytes);
    free(X);
    free(Y);
    free(f);
    lux_cmaes_destroy(&a);
    lux_cmaes_destroy(&b);
}
