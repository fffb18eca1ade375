/*
 * Tests of rl/testfns: values at known points and the conventions of
 * testfns.h.
 */
#include "test.h"

#include "testfns.h"

#include <math.h>

LUX_TEST(known_values)
{
    double x[10], e[10] = {0};
    for (int i = 0; i < 10; i++)
        x[i] = 3.0;
    LUX_CHECK_NEAR(lux_testfn_sphere(x, 10), 90.0, 1e-12);
    LUX_CHECK_NEAR(lux_testfn_rastrigin(e, 10), 0.0, 1e-12);
    LUX_CHECK_NEAR(lux_testfn_rastrigin(x, 10), 90.0, 1e-9);
    e[9] = 1.0;
    LUX_CHECK_NEAR(lux_testfn_ellipsoid(e, 10), 1e6, 1e-6);
    LUX_CHECK_NEAR(lux_testfn_cigar(e, 10), 1e6, 1e-6);
    LUX_CHECK_NEAR(lux_testfn_tablet(e, 10), 1.0, 1e-12);
    LUX_CHECK_NEAR(lux_testfn_diffpowers(e, 10), 1.0, 1e-12);
    e[9] = 0.0;
    e[0] = 1.0;
    LUX_CHECK_NEAR(lux_testfn_ellipsoid(e, 10), 1.0, 1e-12);
    LUX_CHECK_NEAR(lux_testfn_tablet(e, 10), 1e6, 1e-6);
    LUX_CHECK_NEAR(lux_testfn_discus(e, 10), 1e6, 1e-6);
    e[4] = 2.0; /* 10^(6*4/9) * 4 */
    LUX_CHECK_NEAR(lux_testfn_ellipsoid(e, 10), 1.0 + 4.0 * pow(10.0, 24.0 / 9.0), 1e-9);
    double ones[10], zeros[10] = {0};
    for (int i = 0; i < 10; i++)
        ones[i] = 1.0;
    LUX_CHECK_NEAR(lux_testfn_rosenbrock(ones, 10), 0.0, 0);
    LUX_CHECK_NEAR(lux_testfn_rosenbrock(zeros, 10), 9.0, 1e-12);
    /* x = (3, ..., 3): 9 terms of 100 (3 - 9)^2 + 4. */
    LUX_CHECK_NEAR(lux_testfn_rosenbrock(x, 10), 9 * (3600.0 + 4.0), 1e-9);
    LUX_CHECK_NEAR(lux_testfn_sphere(x, 1), 9.0, 0);
    LUX_CHECK_NEAR(lux_testfn_ellipsoid(x, 1), 9.0, 0);
}

/* The rotated ellipsoid is the ellipsoid of an orthogonal image of x: the
 * same optimum, and on the diagonal (1,...,1) it differs from the plain one. */
LUX_TEST(rotated_ellipsoid)
{
    double zeros[6] = {0}, u[6], v[6];
    LUX_CHECK_NEAR(lux_testfn_elli_rot(zeros, 6), 0.0, 0);
    for (int i = 0; i < 6; i++)
        u[i] = 1.0;
    /* H (1,...,1) = -(1,...,1). */
    LUX_CHECK_NEAR(lux_testfn_elli_rot(u, 6), lux_testfn_ellipsoid(u, 6), 1e-9);
    for (int i = 0; i < 6; i++)
        v[i] = i == 0 ? 1.0 : 0.0;
    LUX_CHECK(fabs(lux_testfn_elli_rot(v, 6) - lux_testfn_ellipsoid(v, 6)) > 1.0);
}

LUX_TEST(table_lookup)
{
    LUX_CHECK(lux_testfn_count() >= 9);
    const lux_testfn_t *t = lux_testfn_find("rosenbrock");
    LUX_CHECK(t != NULL && t->fn == lux_testfn_rosenbrock);
    LUX_CHECK(lux_testfn_find("rosenbrok") == NULL);
    LUX_CHECK(lux_testfn_find(NULL) == NULL);
    for (size_t i = 0; i < lux_testfn_count(); i++)
        LUX_CHECK(lux_testfn_find(lux_testfn_at(i)->name) == lux_testfn_at(i));
    LUX_CHECK(lux_testfn_at(lux_testfn_count()) == NULL);
}
