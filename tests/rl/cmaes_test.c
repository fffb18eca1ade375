/*
 * Tests of rl/cmaes (full CMA-ES): strategy parameters against the table in
 * Hansen's tutorial (arXiv:1604.00772), weights, the normal sampler, convergence on the sphere
 * for fixed seeds, termination, save/restore exactness and argument checks.
 */
#include "test.h"

#include "alloc.h"
#include "cmaes.h"
#include "error.h"
#include "testfns.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static lux_cmaes_t *make(size_t n, double x0v, double sigma0, int diagonal, uint64_t seed)
{
    double *x0 = malloc(n * sizeof(double));
    LUX_CHECK(x0 != NULL);
    for (size_t i = 0; i < n; i++)
        x0[i] = x0v;
    lux_cmaes_opts_t o;
    lux_cmaes_opts_default(&o);
    o.diagonal = diagonal;
    o.seed = seed;
    lux_cmaes_t *es = NULL;
    LUX_CHECK_OK(lux_cmaes_new(n, x0, sigma0, &o, &es));
    free(x0);
    return es;
}

/* Runs until f < target or a stop criterion; returns evaluations or -1. */
static long run_to(lux_cmaes_t *es, lux_testfn_fn fn, double target, long max_evals)
{
    size_t n = lux_cmaes_dim(es);
    int lam = lux_cmaes_popsize(es);
    double *X = malloc((size_t)lam * n * sizeof(double)), *f = malloc((size_t)lam * sizeof(double));
    LUX_CHECK(X != NULL && f != NULL);
    long result = -1;
    while (lux_cmaes_evaluations(es) < max_evals) {
        LUX_CHECK_OK(lux_cmaes_ask(es, X));
        for (int k = 0; k < lam; k++)
            f[k] = fn(X + (size_t)k * n, n);
        LUX_CHECK_OK(lux_cmaes_tell(es, X, f));
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

/* Table 1 of arXiv:1604.00772 (c_mu with the 1/4 offset, as we implement it). */
LUX_TEST(params_match_table)
{
    static const struct {
        size_t n;
        int lambda, mu;
        double mueff, cs, ds, cc, c1, cmu, chin;
    } rows[] = {
        {2, 6, 3, 2.0286, 0.4462, 1.4462, 0.6246, 0.15482, 0.08559, 1.2543},
        {5, 8, 4, 2.6002, 0.3651, 1.3651, 0.4502, 0.04729, 0.04786, 2.1285},
        {10, 10, 5, 3.1673, 0.2844, 1.2844, 0.2950, 0.01528, 0.02355, 3.0847},
        {20, 12, 6, 3.7295, 0.1994, 1.1994, 0.1718, 0.00437, 0.00922, 4.4168},
        {100, 17, 8, 5.0962, 0.0645, 1.0645, 0.0389, 0.00019, 0.00068, 9.9750},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        lux_cmaes_t *es = make(rows[r].n, 0.0, 1.0, 0, 1);
        lux_cmaes_params_t p;
        lux_cmaes_params(es, &p);
        LUX_CHECK_INT_EQ(p.lambda, rows[r].lambda);
        LUX_CHECK_INT_EQ(p.mu, rows[r].mu);
        LUX_CHECK_NEAR(p.mueff, rows[r].mueff, 6e-5);
        LUX_CHECK_NEAR(p.cs, rows[r].cs, 6e-5);
        LUX_CHECK_NEAR(p.ds, rows[r].ds, 6e-5);
        LUX_CHECK_NEAR(p.cc, rows[r].cc, 6e-5);
        LUX_CHECK_NEAR(p.c1, rows[r].c1, 6e-6);
        LUX_CHECK_NEAR(p.cmu, rows[r].cmu, 6e-6);
        LUX_CHECK_NEAR(p.chin, rows[r].chin, 6e-5);
        LUX_CHECK_NEAR(p.cm, 1.0, 0);
        lux_cmaes_destroy(&es);
        LUX_CHECK(es == NULL);
    }
}

/* Weights recomputed here from the formulas: positive ones sum to 1, the
 * negative ones to -min(alpha_mu, alpha_mueff, alpha_posdef); an odd lambda
 * has an exact zero in the middle. */
LUX_TEST(active_weights)
{
    const size_t dims[] = {3, 10, 40};
    const int pops[] = {0, 9, 15};
    for (size_t d = 0; d < 3; d++) {
        lux_cmaes_opts_t o;
        lux_cmaes_opts_default(&o);
        o.popsize = pops[d];
        double x0[40] = {0};
        lux_cmaes_t *es = NULL;
        LUX_CHECK_OK(lux_cmaes_new(dims[d], x0, 1.0, &o, &es));
        lux_cmaes_params_t p;
        lux_cmaes_params(es, &p);
        const double *w = lux_cmaes_weights(es);
        int lam = p.lambda;
        double raw[64], pos = 0, neg = 0, neg2 = 0;
        for (int i = 0; i < lam; i++) {
            raw[i] = log((lam + 1) / 2.0) - log(i + 1.0);
            if (raw[i] > 0)
                pos += raw[i];
            else if (raw[i] < 0) {
                neg += raw[i];
                neg2 += raw[i] * raw[i];
            }
        }
        double mueffn = neg * neg / neg2, n = (double)dims[d];
        double amin = fmin(1 + p.c1 / p.cmu, 1 + 2 * mueffn / (p.mueff + 2));
        amin = fmin(amin, (1 - p.c1 - p.cmu) / (n * p.cmu));
        double spos = 0, sneg = 0;
        for (int i = 0; i < lam; i++) {
            double want = raw[i] >= 0 ? raw[i] / pos : amin * raw[i] / -neg;
            LUX_CHECK_NEAR(w[i], want, 1e-14);
            if (i > 0)
                LUX_CHECK(w[i] <= w[i - 1]);
            if (w[i] > 0)
                spos += w[i];
            else
                sneg += w[i];
        }
        LUX_CHECK_NEAR(spos, 1.0, 1e-12);
        LUX_CHECK_NEAR(sneg, -amin, 1e-12);
        LUX_CHECK_NEAR(p.mueff_neg, mueffn, 1e-12);
        if (lam % 2 == 1)
            LUX_CHECK_NEAR(w[lam / 2], 0.0, 1e-15);
        lux_cmaes_destroy(&es);
    }
}

LUX_TEST(eigen_interval_formula)
{
    const size_t dims[] = {10, 300, 1000};
    for (size_t d = 0; d < 3; d++) {
        lux_cmaes_t *es = make(dims[d], 0.0, 1.0, 0, 1);
        lux_cmaes_params_t p;
        lux_cmaes_params(es, &p);
        double want = floor(1.0 / (10.0 * (double)dims[d] * (p.c1 + p.cmu)));
        LUX_CHECK_INT_EQ(p.eigen_interval, want < 1 ? 1 : (long)want);
        lux_cmaes_destroy(&es);
    }
    lux_cmaes_t *es = make(1000, 0.0, 1.0, 0, 1);
    lux_cmaes_params_t p;
    lux_cmaes_params(es, &p);
    LUX_CHECK_INT(p.eigen_interval, >, 1);
    lux_cmaes_destroy(&es);
}

/* Candidates of the first generation (C = I, sigma 1, m = 0) are standard
 * normal: moments and the tail mass of the Ziggurat sampler. */
LUX_TEST(sampler_is_standard_normal)
{
    size_t n = 1000;
    lux_cmaes_t *es = make(n, 0.0, 1.0, 1, 7);
    int lam = lux_cmaes_popsize(es);
    double *X = malloc((size_t)lam * n * sizeof(double));
    double s1 = 0, s2 = 0, s4 = 0, tail = 0, count = 0;
    for (int rep = 0; rep < 60; rep++) {
        LUX_CHECK_OK(lux_cmaes_ask(es, X));
        for (size_t i = 0; i < (size_t)lam * n; i++) {
            double x = X[i];
            s1 += x;
            s2 += x * x;
            s4 += x * x * x * x;
            tail += fabs(x) > 3.0;
            count++;
        }
    }
    double mean = s1 / count, var = s2 / count - mean * mean;
    LUX_CHECK_NEAR(mean, 0.0, 0.005);
    LUX_CHECK_NEAR(var, 1.0, 0.005);
    LUX_CHECK_NEAR(s4 / count, 3.0, 0.03);
    LUX_CHECK_NEAR(tail / count, 0.0026998, 0.0003);
    free(X);
    lux_cmaes_destroy(&es);
}

LUX_TEST(sphere_converges_for_fixed_seeds)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        lux_cmaes_t *es = make(10, 3.0, 2.0, 0, seed);
        long evals = run_to(es, lux_testfn_sphere, 1e-8, 100000);
        /* The median is about 1,500 evaluations (docs/optimizers.md). */
        LUX_CHECK_MSG(evals > 0 && evals <= 2200, "seed %d: %ld evaluations", (int)seed, evals);
        lux_cmaes_destroy(&es);
    }
}

LUX_TEST(ellipsoid_learns_the_scaling)
{
    lux_cmaes_t *es = make(10, 3.0, 2.0, 0, 3);
    long evals = run_to(es, lux_testfn_ellipsoid, 1e-8, 100000);
    LUX_CHECK_MSG(evals > 0 && evals <= 6000, "%ld evaluations", evals);
    /* C has learned the 1e6 condition of the Hessian. */
    LUX_CHECK_DBL(lux_cmaes_condition(es), >, 1e5);
    LUX_CHECK_DBL(lux_cmaes_condition(es), <, 1e7);
    lux_cmaes_destroy(&es);
}

LUX_TEST(rotated_ellipsoid_converges)
{
    lux_cmaes_t *es = make(10, 3.0, 2.0, 0, 4);
    long evals = run_to(es, lux_testfn_elli_rot, 1e-8, 100000);
    LUX_CHECK_MSG(evals > 0 && evals <= 6000, "%ld evaluations", evals);
    lux_cmaes_destroy(&es);
}

static double flat(const double *x, size_t n)
{
    (void)x;
    (void)n;
    return 1.0;
}

LUX_TEST(stop_criteria)
{
    char reason[32];
    lux_cmaes_t *es = make(5, 1.0, 1.0, 0, 1);
    LUX_CHECK_INT_EQ(lux_cmaes_stop(es, reason, sizeof reason), 0);
    LUX_CHECK_STR_EQ(reason, "");
    run_to(es, flat, -1.0, 100000);
    LUX_CHECK_INT_EQ(lux_cmaes_stop(es, reason, sizeof reason), 1);
    LUX_CHECK_STR_EQ(reason, "tolfun");
    /* The flat history must be longer than 10 + ceil(30 n / lambda). */
    LUX_CHECK_INT(lux_cmaes_generation(es), >, 10 + (30 * 5 + 7) / 8);
    lux_cmaes_destroy(&es);

    lux_cmaes_opts_t o;
    lux_cmaes_opts_default(&o);
    o.ftarget = 1e-3;
    double x0[4] = {1, 1, 1, 1};
    LUX_CHECK_OK(lux_cmaes_new(4, x0, 0.5, &o, &es));
    run_to(es, lux_testfn_sphere, -1.0, 100000);
    LUX_CHECK_INT_EQ(lux_cmaes_stop(es, reason, sizeof reason), 1);
    LUX_CHECK_STR_EQ(reason, "ftarget");
    lux_cmaes_destroy(&es);

    o.ftarget = -INFINITY;
    o.max_generations = 7;
    LUX_CHECK_OK(lux_cmaes_new(4, x0, 0.5, &o, &es));
    run_to(es, lux_testfn_sphere, -1.0, 100000);
    LUX_CHECK_INT_EQ(lux_cmaes_generation(es), 7);
    lux_cmaes_stop(es, reason, sizeof reason);
    LUX_CHECK_STR_EQ(reason, "maxiter");
    lux_cmaes_destroy(&es);

    /* Without ftarget the sphere ends on a numerical criterion. */
    LUX_CHECK_OK(lux_cmaes_new(4, x0, 0.5, NULL, &es));
    run_to(es, lux_testfn_sphere, -1.0, 1000000);
    LUX_CHECK_INT_EQ(lux_cmaes_stop(es, reason, sizeof reason), 1);
    LUX_CHECK_MSG(strcmp(reason, "tolfun") == 0 || strcmp(reason, "tolx") == 0 ||
                      strcmp(reason, "noeffectcoord") == 0 || strcmp(reason, "noeffectaxis") == 0,
                  "stopped on %s", reason);
    LUX_CHECK_DBL(lux_cmaes_best(es, NULL), <, 1e-12);
    lux_cmaes_destroy(&es);
}

static double nan_half(const double *x, size_t n)
{
    return x[0] > 0.5 ? NAN : lux_testfn_sphere(x, n);
}

LUX_TEST(nan_values_rank_last)
{
    lux_cmaes_t *es = make(6, 2.0, 1.0, 0, 2);
    run_to(es, nan_half, 1e-6, 20000);
    LUX_CHECK_DBL(lux_cmaes_best(es, NULL), <, 1e-6);
    for (size_t i = 0; i < 6; i++)
        LUX_CHECK(isfinite(lux_cmaes_mean(es)[i]));
    lux_cmaes_destroy(&es);
}

/* Runs g generations on the ellipsoid and records every candidate. */
static void record(lux_cmaes_t *es, int gens, double *out)
{
    size_t n = lux_cmaes_dim(es);
    int lam = lux_cmaes_popsize(es);
    double *f = malloc((size_t)lam * sizeof(double));
    for (int g = 0; g < gens; g++) {
        double *X = out + (size_t)g * lam * n;
        LUX_CHECK_OK(lux_cmaes_ask(es, X));
        for (int k = 0; k < lam; k++)
            f[k] = lux_testfn_ellipsoid(X + (size_t)k * n, n);
        LUX_CHECK_OK(lux_cmaes_tell(es, X, f));
    }
    free(f);
}

static void check_save_restore(size_t n, int diagonal, int before, int after)
{
    lux_cmaes_t *a = make(n, 1.0, 0.5, diagonal, 11);
    int lam = lux_cmaes_popsize(a);
    double *tmp = malloc((size_t)before * lam * n * sizeof(double));
    record(a, before, tmp);
    void *bytes = NULL;
    size_t len = 0;
    LUX_CHECK_OK(lux_cmaes_save(a, &bytes, &len));
    lux_cmaes_t *b = NULL;
    LUX_CHECK_OK(lux_cmaes_restore(bytes, len, &b));
    double *xa = malloc((size_t)after * lam * n * sizeof(double));
    double *xb = malloc((size_t)after * lam * n * sizeof(double));
    record(a, after, xa);
    record(b, after, xb);
    LUX_CHECK(memcmp(xa, xb, (size_t)after * lam * n * sizeof(double)) == 0);
    LUX_CHECK(memcmp(lux_cmaes_mean(a), lux_cmaes_mean(b), n * sizeof(double)) == 0);
    LUX_CHECK(lux_cmaes_sigma(a) == lux_cmaes_sigma(b));
    LUX_CHECK_INT_EQ(lux_cmaes_generation(b), before + after);
    LUX_CHECK(lux_cmaes_best(a, NULL) == lux_cmaes_best(b, NULL));
    /* Corrupt checkpoints are refused. */
    lux_cmaes_t *c = NULL;
    LUX_CHECK_ERR(lux_cmaes_restore(bytes, len - 1, &c), LUX_EINVAL);
    ((unsigned char *)bytes)[0] ^= 0xff;
    LUX_CHECK_ERR(lux_cmaes_restore(bytes, len, &c), LUX_EINVAL);
    LUX_CHECK(c == NULL);
    lux_free(bytes);
    free(tmp);
    free(xa);
    free(xb);
    lux_cmaes_destroy(&a);
    lux_cmaes_destroy(&b);
}

LUX_TEST(save_restore_is_exact)
{
    check_save_restore(8, 0, 13, 17);
    /* n = 300 decomposes every 2 generations: save between two. */
    lux_cmaes_t *es = make(300, 0.0, 1.0, 0, 1);
    lux_cmaes_params_t p;
    lux_cmaes_params(es, &p);
    LUX_CHECK_INT_EQ(p.eigen_interval, 2);
    lux_cmaes_destroy(&es);
    check_save_restore(300, 0, 5, 6);
}

LUX_TEST(bad_arguments)
{
    double x0[3] = {0, 0, 0};
    lux_cmaes_t *es = (lux_cmaes_t *)x0; /* must be cleared on failure */
    LUX_CHECK_ERR(lux_cmaes_new(0, x0, 1.0, NULL, &es), LUX_EINVAL);
    LUX_CHECK(es == NULL);
    LUX_CHECK_ERR(lux_cmaes_new(3, NULL, 1.0, NULL, &es), LUX_EINVAL);
    LUX_CHECK_ERR(lux_cmaes_new(3, x0, 0.0, NULL, &es), LUX_EINVAL);
    LUX_CHECK_ERR(lux_cmaes_new(3, x0, NAN, NULL, &es), LUX_EINVAL);
    lux_cmaes_opts_t o;
    lux_cmaes_opts_default(&o);
    o.popsize = 1;
    LUX_CHECK_ERR(lux_cmaes_new(3, x0, 1.0, &o, &es), LUX_EINVAL);
    x0[1] = INFINITY;
    LUX_CHECK_ERR(lux_cmaes_new(3, x0, 1.0, NULL, &es), LUX_EINVAL);
    LUX_CHECK_ERR(lux_cmaes_ask(NULL, x0), LUX_EINVAL);
    LUX_CHECK_ERR(lux_cmaes_restore("LUXCMAES", 8, &es), LUX_EINVAL);
    lux_cmaes_destroy(NULL);
    lux_cmaes_t *none = NULL;
    lux_cmaes_destroy(&none);
}

LUX_TEST(out_of_memory_unwinds)
{
    double x0[20] = {0};
    int failed = 0;
    for (long k = 0; k < 40; k++) {
        lux_cmaes_t *es = NULL;
        lux_alloc_fail_after(k);
        int rc = lux_cmaes_new(20, x0, 1.0, NULL, &es);
        lux_alloc_fail_reset();
        if (rc == 0) {
            lux_cmaes_destroy(&es);
            break;
        }
        LUX_CHECK_ERR(rc, LUX_ENOMEM);
        LUX_CHECK(es == NULL);
        failed++;
    }
    LUX_CHECK_INT(failed, >, 5);
}

/* A checkpoint taken between ask() and tell() continues exactly too: the
 * asked candidates and their z vectors are part of the state. Candidates
 * that were not asked (here: perturbed) are whitened instead, and still
 * give a valid update. */
LUX_TEST(save_between_ask_and_tell)
{
    size_t n = 12;
    lux_cmaes_t *a = make(n, 1.0, 0.5, 0, 5);
    int lam = lux_cmaes_popsize(a);
    double *tmp = malloc((size_t)9 * lam * n * sizeof(double));
    record(a, 9, tmp);
    double *X = malloc((size_t)lam * n * sizeof(double)), *f = malloc((size_t)lam * sizeof(double));
    LUX_CHECK_OK(lux_cmaes_ask(a, X));
    void *bytes = NULL;
    size_t len = 0;
    LUX_CHECK_OK(lux_cmaes_save(a, &bytes, &len));
    lux_cmaes_t *b = NULL, *c = NULL;
    LUX_CHECK_OK(lux_cmaes_restore(bytes, len, &b));
    LUX_CHECK_OK(lux_cmaes_restore(bytes, len, &c));
    for (int k = 0; k < lam; k++)
        f[k] = lux_testfn_ellipsoid(X + (size_t)k * n, n);
    LUX_CHECK_OK(lux_cmaes_tell(a, X, f));
    LUX_CHECK_OK(lux_cmaes_tell(b, X, f));
    LUX_CHECK(memcmp(lux_cmaes_mean(a), lux_cmaes_mean(b), n * sizeof(double)) == 0);
    LUX_CHECK(lux_cmaes_sigma(a) == lux_cmaes_sigma(b));
    /* The whitening path agrees with the stored z up to rounding. */
    X[0] = nextafter(X[0], INFINITY);
    LUX_CHECK_OK(lux_cmaes_tell(c, X, f));
    LUX_CHECK_NEAR(lux_cmaes_sigma(c), lux_cmaes_sigma(a), 1e-9 * lux_cmaes_sigma(a));
    for (size_t i = 0; i < n; i++)
        LUX_CHECK_NEAR(lux_cmaes_mean(c)[i], lux_cmaes_mean(a)[i], 1e-9);
    double *xa = malloc((size_t)5 * lam * n * sizeof(double));
    double *xb = malloc((size_t)5 * lam * n * sizeof(double));
    record(a, 5, xa);
    record(b, 5, xb);
    LUX_CHECK(memcmp(xa, xb, (size_t)5 * lam * n * sizeof(double)) == 0);
    lux_free(bytes);
    free(tmp);
    free(X);
    free(f);
    free(xa);
    free(xb);
    lux_cmaes_destroy(&a);
    lux_cmaes_destroy(&b);
    lux_cmaes_destroy(&c);
}

/* Ranking: the best point told is the one with the smallest f, NaN never
 * wins, and a large odd population (merge sort over uneven runs) converges. */
LUX_TEST(ranking_and_large_population)
{
    lux_cmaes_opts_t o;
    lux_cmaes_opts_default(&o);
    o.popsize = 37;
    double x0[5] = {1, 1, 1, 1, 1};
    lux_cmaes_t *es = NULL;
    LUX_CHECK_OK(lux_cmaes_new(5, x0, 0.5, &o, &es));
    double X[37 * 5], f[37];
    LUX_CHECK_OK(lux_cmaes_ask(es, X));
    for (int k = 0; k < 37; k++)
        f[k] = k % 3 == 0 ? NAN : (double)((k * 17) % 37);
    LUX_CHECK_OK(lux_cmaes_tell(es, X, f));
    const double *bx = NULL;
    /* (k * 17) % 37 == 1 for k = 24 (24 % 3 == 0: NaN), == 2 for k = 11. */
    LUX_CHECK_NEAR(lux_cmaes_best(es, &bx), 2.0, 0);
    LUX_CHECK(memcmp(bx, X + 11 * 5, sizeof(double) * 5) == 0);
    long evals = 0;
    while (!lux_cmaes_stop(es, NULL, 0) && lux_cmaes_best(es, NULL) >= 1e-10) {
        LUX_CHECK_OK(lux_cmaes_ask(es, X));
        for (int k = 0; k < 37; k++)
            f[k] = lux_testfn_sphere(X + k * 5, 5);
        LUX_CHECK_OK(lux_cmaes_tell(es, X, f));
        evals = lux_cmaes_evaluations(es);
    }
    LUX_CHECK_DBL(lux_cmaes_best(es, NULL), <, 1e-10);
    LUX_CHECK_INT(evals, <, 20000);
    lux_cmaes_destroy(&es);
}
