/*
 * Tests of rl/restarts: IPOP doubles the population per restart and solves
 * a multimodal function the single run cannot; BIPOP interleaves small and
 * large runs; budgets and targets end the driver.
 */
#include "test.h"

#include "error.h"
#include "restarts.h"
#include "testfns.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double rastrigin(const double *x, size_t n, void *ctx)
{
    (void)ctx;
    return lux_testfn_rastrigin(x, n);
}

static double flat(const double *x, size_t n, void *ctx)
{
    (void)x;
    (void)n;
    (void)ctx;
    return 0.5;
}

LUX_TEST(parse_kind)
{
    lux_restarts_kind_t k;
    LUX_CHECK_OK(lux_restarts_parse_kind("ipop", &k));
    LUX_CHECK_INT_EQ(k, LUX_RESTARTS_IPOP);
    LUX_CHECK_OK(lux_restarts_parse_kind("bipop", &k));
    LUX_CHECK_INT_EQ(k, LUX_RESTARTS_BIPOP);
    LUX_CHECK_OK(lux_restarts_parse_kind("none", &k));
    LUX_CHECK_INT_EQ(k, LUX_RESTARTS_NONE);
    LUX_CHECK_ERR(lux_restarts_parse_kind("IPOP2", &k), LUX_EINVAL);
}

/* On a flat function every run ends on tolfun: IPOP's populations are
 * lambda0 * 2^i and the driver ends after max_restarts. */
LUX_TEST(ipop_doubles_population)
{
    double x0[5] = {1, 1, 1, 1, 1};
    lux_restarts_opts_t ro;
    lux_restarts_opts_default(&ro);
    ro.kind = LUX_RESTARTS_IPOP;
    ro.max_restarts = 3;
    lux_restarts_t *r = NULL;
    LUX_CHECK_OK(lux_restarts_new(5, x0, 1.0, NULL, &ro, &r));
    int lambda0 = lux_restarts_popsize(r), seen = 0;
    double X[5 * 64], f[64];
    while (!lux_restarts_done(r, NULL, 0)) {
        int lam = lux_restarts_popsize(r);
        LUX_CHECK(lam <= 64);
        if (lux_restarts_runs(r) > seen) {
            seen = lux_restarts_runs(r);
            LUX_CHECK_INT_EQ(lam, lambda0 << (seen - 1));
        }
        LUX_CHECK_OK(lux_restarts_ask(r, X));
        for (int k = 0; k < lam; k++)
            f[k] = flat(X + 5 * k, 5, NULL);
        LUX_CHECK_OK(lux_restarts_tell(r, X, f));
    }
    char reason[32];
    lux_restarts_done(r, reason, sizeof reason);
    LUX_CHECK_STR_EQ(reason, "restarts");
    LUX_CHECK_INT_EQ(lux_restarts_runs(r), 4);
    LUX_CHECK_ERR(lux_restarts_ask(r, X), LUX_EINVAL);
    lux_restarts_destroy(&r);
    LUX_CHECK(r == NULL);
}

LUX_TEST(ipop_solves_rastrigin)
{
    double x0[5];
    for (int i = 0; i < 5; i++)
        x0[i] = 3.0;
    lux_cmaes_opts_t o;
    lux_cmaes_opts_default(&o);
    o.seed = 2;
    lux_restarts_opts_t ro;
    lux_restarts_opts_default(&ro);
    ro.kind = LUX_RESTARTS_IPOP;
    ro.ftarget = 1e-8;
    ro.max_evals = 300000;
    lux_restarts_t *r = NULL;
    LUX_CHECK_OK(lux_restarts_minimize(5, x0, 2.0, &o, &ro, rastrigin, NULL, &r));
    char reason[32];
    LUX_CHECK(lux_restarts_done(r, reason, sizeof reason));
    LUX_CHECK_STR_EQ(reason, "ftarget");
    LUX_CHECK_DBL(lux_restarts_best(r, NULL), <, 1e-8);
    LUX_CHECK_INT(lux_restarts_runs(r), >, 1);
    lux_restarts_destroy(&r);
}

LUX_TEST(bipop_solves_rastrigin)
{
    double x0[5];
    for (int i = 0; i < 5; i++)
        x0[i] = 3.0;
    lux_cmaes_opts_t o;
    lux_cmaes_opts_default(&o);
    o.seed = 3;
    lux_restarts_opts_t ro;
    lux_restarts_opts_default(&ro);
    ro.kind = LUX_RESTARTS_BIPOP;
    ro.ftarget = 1e-8;
    ro.max_evals = 300000;
    lux_restarts_t *r = NULL;
    LUX_CHECK_OK(lux_restarts_minimize(5, x0, 2.0, &o, &ro, rastrigin, NULL, &r));
    LUX_CHECK_DBL(lux_restarts_best(r, NULL), <, 1e-8);
    LUX_CHECK_INT(lux_restarts_evaluations(r), <=, 300000);
    lux_restarts_destroy(&r);
}

LUX_TEST(budget_and_single_run)
{
    double x0[3] = {2, 2, 2};
    lux_restarts_opts_t ro;
    lux_restarts_opts_default(&ro);
    ro.kind = LUX_RESTARTS_BIPOP;
    ro.max_evals = 5000;
    lux_restarts_t *r = NULL;
    LUX_CHECK_OK(lux_restarts_minimize(3, x0, 1.0, NULL, &ro, flat, NULL, &r));
    char reason[32];
    lux_restarts_done(r, reason, sizeof reason);
    LUX_CHECK_STR_EQ(reason, "maxfevals");
    LUX_CHECK_INT(lux_restarts_evaluations(r), >=, 5000);
    LUX_CHECK_INT(lux_restarts_evaluations(r), <, 5000 + 4 * 7 * 64);
    lux_restarts_destroy(&r);

    /* kind none: the driver ends with the run's own criterion. */
    ro.kind = LUX_RESTARTS_NONE;
    ro.max_evals = 0;
    LUX_CHECK_OK(lux_restarts_minimize(3, x0, 1.0, NULL, &ro, flat, NULL, &r));
    lux_restarts_done(r, reason, sizeof reason);
    LUX_CHECK_STR_EQ(reason, "tolfun");
    LUX_CHECK_INT_EQ(lux_restarts_runs(r), 1);
    lux_restarts_destroy(&r);
}

/* `lux optimize` end to end: the output names evaluations and the value,
 * the exit code says whether the target was reached, bad input is usage. */
LUX_TEST(optimize_command)
{
    char *out = NULL;
    const char *ok[] = {"optimize", "--algo", "cmaes",  "--fn", "sphere",
                        "--dim",    "10",     "--seed", "1",    NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(ok, NULL, 30, &out, NULL), 0);
    LUX_CHECK_CONTAINS(out, "evaluations=");
    LUX_CHECK_CONTAINS(out, "reached=yes");
    free(out);
    const char *js[] = {"optimize", "--algo",     "sepcmaes", "--fn",   "rastrigin", "--dim",
                        "4",        "--restarts", "ipop",     "--json", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(js, NULL, 60, &out, NULL), 0);
    LUX_CHECK_CONTAINS(out, "\"reached\": true");
    free(out);
    const char *bad[] = {"optimize", "--algo", "cmaess", "--fn", "sphere", "--dim", "3", NULL};
    char *err = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(bad, NULL, 30, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "did you mean 'cmaes'");
    free(out);
    free(err);
    const char *badfn[] = {"optimize", "--algo", "cmaes", "--fn", "rosenbrok", "--dim", "3", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(badfn, NULL, 30, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "did you mean 'rosenbrock'");
    free(out);
    free(err);
}

/* BIPOP on a flat function: the first run is lambda0 with sigma0, the
 * second a large one (2 lambda0, sigma0), and small runs follow with sigma
 * below sigma0 and lambda between lambda0 and the last large lambda. */
LUX_TEST(bipop_alternates_regimes)
{
    double x0[4] = {1, 1, 1, 1};
    lux_restarts_opts_t ro;
    lux_restarts_opts_default(&ro);
    ro.kind = LUX_RESTARTS_BIPOP;
    ro.max_restarts = 3;
    lux_cmaes_opts_t o;
    lux_cmaes_opts_default(&o);
    o.seed = 4;
    lux_restarts_t *r = NULL;
    LUX_CHECK_OK(lux_restarts_new(4, x0, 1.0, &o, &ro, &r));
    int lambda0 = lux_restarts_popsize(r), seen = 0, small = 0, large = 0, largest = lambda0;
    static double X[4 * 4096], f[4096];
    while (!lux_restarts_done(r, NULL, 0)) {
        int lam = lux_restarts_popsize(r);
        LUX_CHECK(lam <= 4096);
        if (lux_restarts_runs(r) > seen) {
            seen = lux_restarts_runs(r);
            double sigma = lux_cmaes_sigma(lux_restarts_current(r));
            if (seen == 1) {
                LUX_CHECK_INT_EQ(lam, lambda0);
                LUX_CHECK_NEAR(sigma, 1.0, 0);
            } else if (seen == 2 || sigma == 1.0) {
                large++;
                LUX_CHECK_NEAR(sigma, 1.0, 0);
                LUX_CHECK_INT_EQ(lam, lambda0 << large);
                largest = lam;
            } else {
                small++;
                LUX_CHECK_DBL(sigma, <, 1.0);
                LUX_CHECK_DBL(sigma, >=, 0.01);
                LUX_CHECK_INT(lam, >=, lambda0);
                LUX_CHECK_INT(lam, <=, largest);
            }
        }
        LUX_CHECK_OK(lux_restarts_ask(r, X));
        for (int k = 0; k < lam; k++)
            f[k] = 0.25;
        LUX_CHECK_OK(lux_restarts_tell(r, X, f));
    }
    char reason[32];
    lux_restarts_done(r, reason, sizeof reason);
    LUX_CHECK_STR_EQ(reason, "restarts");
    LUX_CHECK_INT_EQ(large, 3);
    LUX_CHECK_INT(small, >=, 1);
    lux_restarts_destroy(&r);
}
